"""examples/iris-v0 served as its README says, every ```bash block run as written.

The README is the test data: one serve command; `python iris_client.py ...` commands, each
followed by its stdout (```json, exit status 0) or its stderr (```text, exit status 1); curl
commands, each followed by the JSON body of a 200 answer. The server is started from the
example's folder with the serve command's arguments; the client gets the server's gRPC port and
localhost:9000 becomes its REST port.
"""

from __future__ import annotations

import ast
import json
import pathlib
import shlex
import subprocess
import sys

import pytest
import requests

from tests.conftest import start_server
from tests.e2e.grpc_helpers import grpc_channel
from tests.e2e.test_examples_kinds import CLI_NAME, FENCE, parse_curl, read_environment_file

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "iris-v0"
README = EXAMPLE_DIR / "README.md"
CLIENT = "iris_client.py"


def readme_steps() -> tuple[list[str], list[tuple[list[str], str, str, str]]]:
    """(serve command, [(command, answer language, answer, where)])."""
    text = README.read_text(encoding="utf-8")
    blocks = [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]
    serve, steps = [], []
    for index, (lang, body, line) in enumerate(blocks):
        if lang != "bash":
            continue
        tokens = shlex.split(body.replace("\\\n", " "))
        if CLI_NAME in tokens:
            serve.append(tokens)
            continue
        answer_lang, answer, _ = blocks[index + 1]
        steps.append((tokens, answer_lang, answer, f"README.md:{line}"))
    assert len(serve) == 1, serve
    return serve[0], steps


SERVE, STEPS = readme_steps()


def test_readme_is_made_of_tested_examples():
    assert SERVE[0] == CLI_NAME, "serve from the example's folder: no `cd`"
    kinds = [(tokens[0], tokens[1] if tokens[0] == "python" else "", lang) for tokens, lang, _, _ in STEPS]
    assert kinds == [
        ("python", CLIENT, "json"),
        ("python", CLIENT, "text"),
        ("curl", "", "json"),
        ("curl", "", "json"),
    ]


def test_s2i_environment_names_the_class():
    settings = read_environment_file(EXAMPLE_DIR / ".s2i" / "environment")
    assert settings == {
        "MODEL_NAME": "IrisClassifier",
        "SERVICE_TYPE": "MODEL",
        "PERSISTENCE": "0",
        "API_TYPE": "REST",
    }
    tree = ast.parse((EXAMPLE_DIR / "IrisClassifier.py").read_text())
    assert "IrisClassifier" in [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert SERVE[1:] == ["IrisClassifier", "--service-type", "MODEL"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_server(*SERVE[1:], cwd=EXAMPLE_DIR, tmp_path=tmp_path_factory.mktemp("iris-v0"))
    try:
        with grpc_channel(server):  # the gRPC process is SERVING
            yield server
    finally:
        server.stop()


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[where for *_, where in STEPS])
def test_readme_command_answers_as_documented(served, step):
    tokens, answer_lang, answer, where = STEPS[step]
    if tokens[0] == "python":
        command = [sys.executable, *tokens[1:], "--port", str(served.grpc_port)]
        done = subprocess.run(command, cwd=EXAMPLE_DIR, capture_output=True, text=True, timeout=30)
        if answer_lang == "json":
            assert (done.returncode, done.stderr) == (0, ""), where
            assert done.stdout.rstrip("\n") == answer.strip(), where
        else:
            assert (done.returncode, done.stdout) == (1, ""), where
            assert done.stderr.rstrip("\n") == answer.strip(), where
        return
    method, path, headers, data, _ = parse_curl(tokens)
    response = requests.request(method, served.url + path, headers=headers, data=data, timeout=10)
    assert response.status_code == 200, (where, response.text)
    assert response.json() == json.loads(answer), where
