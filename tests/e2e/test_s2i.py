"""The s2i builder scripts (s2i/bin, spec 9.2-9.5), run for real with their paths moved to temp dirs.

pip is either the test venv's own (offline with PIP_NO_INDEX, for requirements already
installed) or a stand-in that records its arguments; conda, pip-licenses and, for the exec line,
seldon-core-microservice get stand-ins too. One test assembles an example and serves it with
the real `seldon-core-microservice`.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
S2I_DIR = ROOT / "s2i"
S2I_BIN = S2I_DIR / "bin"
EXAMPLES = ROOT / "examples"
VENV_BIN = pathlib.Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SCRIPTS = ("assemble", "run", "save-artifacts", "usage")
BUILD_SETTINGS = {"MODEL_NAME": "MyModel", "SERVICE_TYPE": "MODEL", "PERSISTENCE": "0"}
# Variables of the outer environment the scripts, pip or the server would react to.
SCRUBBED_PREFIXES = ("PIP_", "S2I_", "PREDICTIVE_UNIT", "SELDON_", "GUNICORN_", "GRPC_", "CONDA")
SCRUBBED = {
    "MODEL_NAME",
    "SERVICE_TYPE",
    "PERSISTENCE",
    "API_TYPE",
    "EXTRA_INDEX_URL",
    "PYTHONPATH",
    "VIRTUAL_ENV",
}

RECORDER = """#!/bin/bash
# Stand-in for {name}: records its arguments (one JSON line) and what the scripts set up.
{python} - "$@" <<'PY'
import json, os, sys
with open({log!r}, "a") as out:
    out.write(json.dumps({{"name": {name!r}, "args": sys.argv[1:], "cwd": os.getcwd(),
                          "conda_env": os.environ.get("FAKE_CONDA_ENV")}}) + "\\n")
PY
{extra}
"""


def read_environment_file(path: pathlib.Path) -> dict[str, str]:
    """An `.s2i/environment` file: NAME=value lines, as s2i reads them."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


class Sandbox:
    """Temp folders in place of /tmp/src, /microservice, ..., and an environment pointing at them."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.src = root / "src"
        self.app = root / "microservice"
        self.artifacts = root / "artifacts"
        self.wheels = root / "whl"
        self.licenses = root / "licenses"
        self.home = root / "home"
        self.fake_bin = root / "fake-bin"
        self.calls = root / "calls.jsonl"
        for folder in (self.src, self.home, self.fake_bin):
            folder.mkdir()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(SCRUBBED_PREFIXES) and key not in SCRUBBED
        }
        self.env.update(
            {
                "PATH": f"{self.fake_bin}:{VENV_BIN}:{SYSTEM_PATH}",
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "S2I_SRC_DIR": str(self.src),
                "S2I_APP_DIR": str(self.app),
                "S2I_ARTIFACTS_DIR": str(self.artifacts),
                "S2I_WHEEL_DIR": str(self.wheels),
                "S2I_LICENSES_DIR": str(self.licenses),
                "S2I_CHOWN": "0",
                "S2I_SKIP_LICENSES": "1",
                "SELDON_ANNOTATIONS_FILE": str(root / "no-annotations"),
                "PYTHONUNBUFFERED": "1",
                **BUILD_SETTINGS,
            }
        )

    def write(self, relative: str, text: str, executable: bool = False, base: pathlib.Path | None = None):
        path = (base or self.src) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if executable:
            path.chmod(0o755)
        return path

    def fake(self, name: str, extra: str = "") -> None:
        """A stand-in command on PATH (before the venv) that records how it was called."""
        script = RECORDER.format(name=name, python=sys.executable, log=str(self.calls), extra=extra)
        self.write(name, script, executable=True, base=self.fake_bin)

    def recorded(self, name: str | None = None) -> list[dict]:
        if not self.calls.exists():
            return []
        calls = [json.loads(line) for line in self.calls.read_text().splitlines()]
        return [call for call in calls if name is None or call["name"] == name]

    def script(self, name: str, *args: str, unset: tuple[str, ...] = (), **env: str):
        full_env = {key: value for key, value in self.env.items() if key not in unset}
        full_env.update(env)
        return subprocess.run(
            [str(S2I_BIN / name), *args],
            env=full_env,
            cwd=str(self.root),
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def box(tmp_path):
    sandbox = Sandbox(tmp_path)
    sandbox.write("MyModel.py", (EXAMPLES / "model" / "MyModel.py").read_text())
    return sandbox


# -- the files ---------------------------------------------------------------------------------


def test_scripts_are_executable_strict_bash():
    for name in SCRIPTS:
        path = S2I_BIN / name
        assert os.access(path, os.X_OK), name
        lines = path.read_text().splitlines()
        assert lines[0] == "#!/bin/bash", name
        assert "set -euo pipefail" in lines, name


def test_dockerfile_contract():
    text = (S2I_DIR / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert 'LABEL io.openshift.s2i.scripts-url="image:///s2i/bin" \\' in lines
    assert 'io.openshift.s2i.assemble-user="0" \\' in lines
    assert "WORKDIR /microservice" in lines
    assert "USER 8888" in lines
    assert "EXPOSE 9000 5000 6000" in lines
    assert "COPY s2i/bin/ /s2i/bin/" in lines
    # Everything the image copies from the build context (the repository root) exists.
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), source
    assert "--build-arg SELDON_WRAPPER=seldon-wrapper==" in text  # the PyPI variant is documented


# -- usage, save-artifacts ---------------------------------------------------------------------


def test_usage_shows_rest_curls_on_port_9000(box):
    result = box.script("usage")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert """curl -s -d 'json={"data":{"ndarray":[[1.0,2.0]]}}' http://localhost:9000/predict""" in out
    assert "http://localhost:9000/api/v1.0/predictions" in out
    assert ":5000/predict" not in out
    assert "s2i build" in out and "MODEL_NAME=" in out and "SERVICE_TYPE=" in out


def test_assemble_h_prints_usage(box):
    result = box.script("assemble", "-h", unset=tuple(BUILD_SETTINGS))
    assert result.returncode == 0, result.stderr
    assert result.stdout == box.script("usage").stdout
    assert not box.app.exists()


def test_save_artifacts_is_a_no_op(box):
    result = box.script("save-artifacts")
    assert (result.returncode, result.stdout) == (0, "")


# -- assemble: required settings ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILD_SETTINGS))
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_assemble_requires_setting(box, name, how):
    box.fake("pip")
    if how == "unset":
        result = box.script("assemble", unset=(name,))
    else:
        result = box.script("assemble", **{name: ""})
    assert result.returncode == 1
    assert result.stderr.startswith(f"ERROR: {name} is empty"), result.stderr
    assert ".s2i/environment" in result.stderr
    if name == "PERSISTENCE":
        assert "should be 0 or 1" in result.stderr
    assert not box.app.exists()
    assert box.recorded() == []


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("SERVICE_TYPE", "MODELL", "SERVICE_TYPE=MODELL is not one of MODEL ROUTER"),
        ("PERSISTENCE", "yes", "PERSISTENCE=yes should be 0 or 1"),
    ],
)
def test_assemble_rejects_bad_setting(box, name, value, message):
    result = box.script("assemble", **{name: value})
    assert result.returncode == 1
    assert message in result.stderr
    assert not box.app.exists()


# -- assemble: source and dependencies ---------------------------------------------------------


def test_assemble_installs_requirements_with_real_pip_and_copies_source(box):
    box.write("requirements.txt", "numpy\n")
    box.write(".s2i/environment", "MODEL_NAME=MyModel\nSERVICE_TYPE=MODEL\nPERSISTENCE=0\n")
    box.write("pkg/helper.py", "VALUE = 1\n")
    box.write("setup.py", "raise SystemExit('setup.py must not be used when requirements.txt exists')\n")
    result = box.script("assemble", EXTRA_INDEX_URL="http://127.0.0.1:9/simple", PIP_TRUSTED_HOST="127.0.0.1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Requirement already satisfied: numpy" in result.stdout
    for relative in ("MyModel.py", "requirements.txt", ".s2i/environment", "pkg/helper.py", "setup.py"):
        assert (box.app / relative).read_bytes() == (box.src / relative).read_bytes(), relative
    # pip configuration was written to the (sandboxed) user config, as `pip config set` does.
    pip_conf = (box.home / ".config" / "pip" / "pip.conf").read_text()
    assert "extra-index-url = http://127.0.0.1:9/simple" in pip_conf
    assert "trusted-host = 127.0.0.1" in pip_conf


def test_assemble_fails_when_pip_fails(box):
    box.write("requirements.txt", "surely-not-an-installed-distribution-xyz\n")
    result = box.script("assemble")
    assert result.returncode != 0
    assert "Build of MyModel" not in result.stdout


LAYOUTS = {
    "requirements.txt wins": (["requirements.txt", "setup.py", "environment.yml"], "pip -r"),
    "setup.py before environment.yml": (["setup.py", "environment.yml"], "pip -e"),
    "environment.yml alone": (["environment.yml"], "conda"),
    "nothing to install": ([], None),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_dependencies_first_match_only(box, layout):
    files, expected = LAYOUTS[layout]
    for name in files:
        box.write(name, "# " + name + "\n")
    box.fake("pip")
    box.fake("conda")
    result = box.script("assemble", CONDA_ENV_NAME="my-env")
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [(call["name"], call["args"], call["cwd"]) for call in box.recorded()]
    app = str(box.app)
    if expected == "pip -r":
        assert calls == [("pip", ["install", "--no-cache-dir", "-r", "requirements.txt"], app)]
    elif expected == "pip -e":
        assert calls == [("pip", ["install", "--no-cache-dir", "-e", "."], app)]
    elif expected == "conda":
        assert calls == [("conda", ["env", "create", "--name", "my-env", "--file", "environment.yml"], app)]
    else:
        assert calls == []
        assert "no dependencies to install" in result.stdout


@pytest.mark.parametrize("dependency_file", ["requirements.txt", "setup.py"])
def test_wheel_dir_is_offered_to_pip(box, dependency_file):
    box.write(dependency_file, "\n")
    box.wheels.mkdir()
    box.fake("pip")
    result = box.script("assemble")
    assert result.returncode == 0, result.stderr
    (call,) = box.recorded("pip")
    assert call["args"][:4] == ["install", "--no-cache-dir", "--find-links", str(box.wheels)]


def test_environment_yml_without_conda_fails_clearly(box):
    box.write("environment.yml", "name: x\n")
    result = box.script("assemble", PATH=f"{VENV_BIN}:{SYSTEM_PATH}")
    assert result.returncode == 1
    assert "environment.yml needs conda" in result.stderr


def test_artifacts_restored_then_source_copied_over_them(box):
    box.write("MyModel.py", "# old build\n", base=box.artifacts)
    box.write("cache/weights.bin", "cached\n", base=box.artifacts)
    result = box.script("assemble")
    assert result.returncode == 0, result.stderr
    assert "Restoring build artifacts" in result.stdout
    assert (box.app / "cache" / "weights.bin").read_text() == "cached\n"
    assert (box.app / "MyModel.py").read_text() == (box.src / "MyModel.py").read_text()


def test_licences_written_with_pip_licenses(box):
    # pip-licenses already in the image: it is not installed again, and writes both reports.
    box.fake("pip")
    box.fake(
        "pip-licenses",
        extra='for arg in "$@"; do [[ "$arg" == --output-file=* ]] && echo "report $*" > "${arg#*=}"; done',
    )
    result = box.script("assemble", unset=("S2I_SKIP_LICENSES",))
    assert result.returncode == 0, result.stderr
    assert box.recorded("pip") == []
    outputs = {call["args"][-1] for call in box.recorded("pip-licenses")}
    assert outputs == {
        f"--output-file={box.licenses / 'license_info.csv'}",
        f"--output-file={box.licenses / 'license.txt'}",
    }
    assert "--format=csv" in (box.licenses / "license_info.csv").read_text()
    assert "--with-license-file" in (box.licenses / "license.txt").read_text()


def test_pip_licenses_installed_when_missing(box):
    box.fake("pip", extra=f"cp {box.fake_bin / 'pip-licenses.later'} {box.fake_bin / 'pip-licenses'}")
    box.write("pip-licenses.later", "#!/bin/bash\nexit 0\n", executable=True, base=box.fake_bin)
    result = box.script("assemble", unset=("S2I_SKIP_LICENSES",), PATH=f"{box.fake_bin}:{SYSTEM_PATH}")
    assert result.returncode == 0, result.stderr
    assert [call["args"] for call in box.recorded("pip")] == [["install", "--no-cache-dir", "pip-licenses"]]


def test_chown_to_8888_by_default_when_root(box):
    before = box.src.stat().st_uid
    result = box.script("assemble", unset=("S2I_CHOWN",))
    assert result.returncode == 0, result.stderr
    owners = {path.stat().st_uid for path in [box.app, *box.app.rglob("*")]}
    if os.geteuid() == 0:
        assert owners == {8888}
    else:
        assert owners == {before}  # not root: no chown unless asked


def test_chown_can_be_turned_off_or_pointed_elsewhere(box):
    user = 8888 if os.geteuid() == 0 else os.geteuid()
    result = box.script("assemble", S2I_CHOWN="1", S2I_APP_USER=str(user))
    assert result.returncode == 0, result.stderr
    assert {path.stat().st_uid for path in [box.app, *box.app.rglob("*")]} == {user}
    shutil.rmtree(box.app)
    result = box.script("assemble", S2I_CHOWN="0")
    assert result.returncode == 0, result.stderr
    assert box.app.stat().st_uid == os.geteuid()


# -- run ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MODEL_NAME", "SERVICE_TYPE"])
def test_run_requires_setting(box, name):
    box.app.mkdir()
    box.fake("seldon-core-microservice")
    result = box.script("run", unset=(name,))
    assert result.returncode == 1
    assert result.stderr.startswith(f"ERROR: {name} is empty")
    assert box.recorded() == []


@pytest.mark.parametrize(
    "persistence, expected",
    [
        (None, ["MyRouter", "--service-type", "ROUTER"]),
        ("1", ["MyRouter", "--service-type", "ROUTER", "--persistence", "1"]),
    ],
)
def test_run_execs_the_microservice(box, persistence, expected):
    box.app.mkdir()
    box.fake("seldon-core-microservice")
    env = {"MODEL_NAME": "MyRouter", "SERVICE_TYPE": "ROUTER"}
    if persistence is not None:
        env["PERSISTENCE"] = persistence
    result = box.script("run", "--workers", "2", unset=("PERSISTENCE",), **env)
    assert result.returncode == 0, result.stderr
    (call,) = box.recorded()
    assert call["args"] == [*expected, "--workers", "2"]
    assert call["cwd"] == str(box.app)
    assert call["conda_env"] is None


def test_run_hook_failure_stops_the_start(box):
    box.write("before-run", "#!/bin/bash\necho hook failed >&2\nexit 3\n", executable=True, base=box.app)
    box.fake("seldon-core-microservice")
    result = box.script("run")
    assert result.returncode == 3
    assert "hook failed" in result.stderr
    assert box.recorded() == []


def test_run_skips_a_before_run_that_is_not_executable(box):
    box.write("before-run", "#!/bin/bash\ntouch ran\n", base=box.app)
    box.fake("seldon-core-microservice")
    result = box.script("run")
    assert result.returncode == 0, result.stderr
    assert "before-run is not executable" in result.stderr
    assert not (box.app / "ran").exists()
    assert len(box.recorded("seldon-core-microservice")) == 1


CONDA_ENVS = """# conda environments:
#
base                     /opt/conda
{name}             /opt/conda/envs/{name}
"""


@pytest.mark.parametrize("env_name, activated", [("microservice", True), ("other", False)])
def test_run_activates_the_conda_env_when_it_exists(box, env_name, activated):
    box.app.mkdir()
    box.fake("seldon-core-microservice")
    listing = CONDA_ENVS.format(name=env_name)
    box.write("conda", f"#!/bin/bash\ncat <<'EOF'\n{listing}EOF\n", executable=True, base=box.fake_bin)
    # What `source conda.sh` provides: a shell function; `conda activate` changes the environment.
    conda_sh = box.write("conda.sh", 'conda() { [[ "$1" == activate ]] && export FAKE_CONDA_ENV="$2"; }\n')
    result = box.script("run", S2I_CONDA_SH=str(conda_sh))
    assert result.returncode == 0, result.stderr
    (call,) = box.recorded("seldon-core-microservice")
    assert call["conda_env"] == ("microservice" if activated else None)


def test_run_conda_env_name_is_configurable(box):
    box.app.mkdir()
    box.fake("seldon-core-microservice")
    box.write(
        "conda", "#!/bin/bash\necho 'my-env   /opt/conda/envs/my-env'\n", executable=True, base=box.fake_bin
    )
    conda_sh = box.write("conda.sh", 'conda() { [[ "$1" == activate ]] && export FAKE_CONDA_ENV="$2"; }\n')
    result = box.script("run", S2I_CONDA_SH=str(conda_sh), CONDA_ENV_NAME="my-env")
    assert result.returncode == 0, result.stderr
    assert box.recorded("seldon-core-microservice")[0]["conda_env"] == "my-env"


# -- assemble + run with the real server -------------------------------------------------------


def _stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


def test_assembled_example_is_served_by_run(box):
    """examples/model with its .s2i/environment, plus a before-run hook, built and started."""
    shutil.copytree(EXAMPLES / "model", box.src, dirs_exist_ok=True)
    box.write("before-run", "#!/bin/bash\nset -e\npwd > before-run.done\n", executable=True)
    settings = read_environment_file(box.src / ".s2i" / "environment")
    assert settings["MODEL_NAME"] == "MyModel" and settings["SERVICE_TYPE"] == "MODEL"
    env = {key: value for key, value in box.env.items() if key not in BUILD_SETTINGS}
    env.update(settings)

    assembled = subprocess.run(
        [str(S2I_BIN / "assemble")], env=env, capture_output=True, text=True, timeout=120
    )
    assert assembled.returncode == 0, assembled.stdout + assembled.stderr
    assert (box.app / "MyModel.py").is_file() and (box.app / "before-run").is_file()

    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    env.update(
        PREDICTIVE_UNIT_HTTP_SERVICE_PORT=str(http_port),
        PREDICTIVE_UNIT_GRPC_SERVICE_PORT=str(grpc_port),
        PREDICTIVE_UNIT_METRICS_SERVICE_PORT=str(metrics_port),
    )
    log_path = box.root / "run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(S2I_BIN / "run"), "--host", "127.0.0.1"],
            env=env,
            cwd=str(box.root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if requests.get(url + "/health/ping", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        # The hook ran first, in the application folder.
        assert (box.app / "before-run.done").read_text().strip() == str(box.app)
        # curl -s -d 'json={"data":{"ndarray":[[1.0,2.0]]}}' http://localhost:9000/predict
        form = {"json": '{"data":{"ndarray":[[1.0,2.0]]}}'}
        response = requests.post(url + "/predict", data=form, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}, "meta": {}}
        metrics = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert metrics.status_code == 200
        log_text = log_path.read_text()
        assert "Running" in log_text and "before-run" in log_text
        exec_line = "seldon-core-microservice MyModel --service-type MODEL --persistence 0 --host 127.0.0.1"
        assert exec_line in log_text
    finally:
        _stop_group(process)
