# Set-up and everyday commands. `make serve` and `make test` are the README's two commands.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0

.PHONY: install serve test test-plain test-fuzz test-oldest lint proto proto-check docs docs-serve config-doc clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e ".[test,triton]"

serve: install
	cd examples/model && ../../$(BIN)/seldon-core-microservice MyModel --service-type MODEL --host $(HOST)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests

# The suite with the speed machinery off (seldon_wrapper/speedups/): the plain path must pass
# it too. Tests of the machinery itself switch it on for their own servers.
test-plain: install
	SELDON_SPEEDUPS=false $(BIN)/python -m pytest -q tests

# A longer run of the codec fuzz tests (tests/unit/test_codecs_fuzz.py, about 40 s).
test-fuzz: install
	SELDON_FUZZ_EXAMPLES=3000 $(BIN)/python -m pytest -q tests/unit/test_codecs_fuzz.py

lint: install
	$(BIN)/ruff check .

# Regenerate seldon_wrapper/proto from proto/ (and the examples' own *_pb2.py, see
# tools/gen_proto.py EXAMPLE_PROTOS) with a pinned grpcio-tools (protobuf 5.27 gencode, which
# runs on protobuf 5.x, 6.x and 7.x runtimes).
$(VENV)-proto/bin/python:
	$(PYTHON) -m venv $(VENV)-proto
	$(VENV)-proto/bin/pip install -q "grpcio-tools==1.66.2"

proto: $(VENV)-proto/bin/python
	$(VENV)-proto/bin/python tools/gen_proto.py

proto-check: $(VENV)-proto/bin/python
	$(VENV)-proto/bin/python tools/gen_proto.py --check

# The documentation site (mkdocs-material) into site/; --strict: a broken link fails the build.
docs: install
	$(BIN)/mkdocs build --strict

docs-serve: install
	$(BIN)/mkdocs serve

# Regenerate docs/configuration.md from the code (a test fails when it is out of date).
config-doc: install
	$(BIN)/python tools/gen_config_doc.py

clean:
	rm -rf $(VENV) $(VENV)-proto build site *.egg-info

# The suite under numpy 1.26, protobuf 5 and gunicorn 22 (the oldest supported versions; our
# REST worker class builds on gunicorn's WSGI glue, and httptools 0.6), in its own venv.
# tritonclient needs protobuf >= 6.30, so the tests that drive it are left out of this run.
test-oldest:
	$(PYTHON) -m venv $(VENV)-oldest
	$(VENV)-oldest/bin/pip install -q -e ".[test]" "numpy==1.26.4" "protobuf==5.29.5" "gunicorn==22.0.0" "httptools==0.6.4"
	$(VENV)-oldest/bin/python -m pytest -q tests --ignore=tests/e2e/test_v2_tritonclient.py \
		-k "not tritonclient and not python_example"
