"""Shared test helpers: start the real ``seldon-core-microservice`` on free 127.0.0.1 ports."""

from __future__ import annotations

import collections
import os
import pathlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest
import requests

MODELS_DIR = pathlib.Path(__file__).parent / "models"
BIN_DIR = pathlib.Path(sys.executable).parent
CLI = str(BIN_DIR / "seldon-core-microservice")
SPEEDUPS = os.environ.get("SELDON_SPEEDUPS")
WITH_SPEEDUPS = {"SELDON_SPEEDUPS": "true"}


_RECENT_PORTS: collections.deque[int] = collections.deque(maxlen=256)


def free_port() -> int:
    """A port nothing listens on now, never one of the last 256 handed out: the OS may give the
    same free port twice in a row, and a server started with ``--http-port`` equal to its
    ``--metrics-port`` cannot start (CI saw it once)."""
    from seldon_wrapper.executor.components import free_port as unused_port

    port = unused_port("127.0.0.1", exclude=_RECENT_PORTS)
    _RECENT_PORTS.append(port)
    return port


@dataclass
class Server:
    """A running server process and where to reach it."""

    process: subprocess.Popen
    http_port: int
    grpc_port: int
    metrics_port: int
    log_path: pathlib.Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the process group (workers, helpers) goes too.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=5)
        return self.process.returncode


def start_server(
    model: str,
    *args: str,
    env: dict | None = None,
    cwd: pathlib.Path | str = MODELS_DIR,
    tmp_path: pathlib.Path,
    ready_path: str = "/health/ping",
    timeout: float = 30,
) -> Server:
    """Start the CLI and wait until ``ready_path`` answers 200."""
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "GUNICORN_", "GRPC_"))
    }
    full_env.update(
        {
            "SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if SPEEDUPS is not None:  # the whole suite runs with the speed machinery on and off
        full_env["SELDON_SPEEDUPS"] = SPEEDUPS
    full_env.update(env or {})
    log_path = tmp_path / f"server-{http_port}.log"
    command = [
        CLI,
        model,
        "--host",
        "127.0.0.1",
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        str(metrics_port),
        *args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=str(cwd), env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, http_port, grpc_port, metrics_port, log_path)
    return wait_ready(server, ready_path, timeout)


def wait_ready(
    server: Server, ready_path: str, timeout: float, also=lambda: True, what: str = "server"
) -> Server:
    """``server`` once ``ready_path`` answers 200 (and ``also()`` holds); stopped, and a
    RuntimeError with its log, if it exits or is not ready in ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{what} exited with {server.process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url + ready_path, timeout=1).status_code == 200 and also():
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{server.log()}")


# PREDICTIVE_UNIT_PARAMETERS of tests/models/WorkerPidModel.py: where __init__ and load() log pids.
WORKER_PID_PARAMS = (
    '[{"name":"init_log","value":"%s","type":"STRING"},{"name":"load_log","value":"%s","type":"STRING"}]'
)


def worker_pid_env(tmp_path: pathlib.Path) -> dict:
    """Environment for WorkerPidModel logging to tmp_path/init and tmp_path/load."""
    return {"PREDICTIVE_UNIT_PARAMETERS": WORKER_PID_PARAMS % (tmp_path / "init", tmp_path / "load")}


def wait_for_loads(load_log: pathlib.Path, count: int, timeout: float = 20) -> None:
    """Ready means one worker answers; wait until `count` processes have run load()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if load_log.exists() and len(load_log.read_text().split()) >= count:
            return
        time.sleep(0.05)
    logged = load_log.read_text() if load_log.exists() else None
    raise AssertionError(f"{count} load() calls expected, logged: {logged!r}")


@pytest.fixture
def serve(tmp_path):
    """``serve("Model", "--flag", env={...})`` -> Server; every server is stopped afterwards."""
    servers: list[Server] = []

    def _serve(model: str, *args: str, **kwargs) -> Server:
        server = start_server(model, *args, tmp_path=tmp_path, **kwargs)
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        server.stop()


@pytest.fixture
def serve_speedups(serve):
    """``serve`` for tests of the speed machinery itself: on, whatever the run's setting."""

    def _serve(model: str, *args: str, env: dict | None = None, **kwargs) -> Server:
        return serve(model, *args, env={**WITH_SPEEDUPS, **(env or {})}, **kwargs)

    return _serve


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("server")


def module_server(model: str, *args: str, **kwargs):
    """A module-scoped fixture factory: one server shared by a test module."""

    @pytest.fixture(scope="module")
    def _fixture(module_tmp):
        server = start_server(model, *args, tmp_path=module_tmp, **kwargs)
        yield server
        server.stop()

    return _fixture


def app_with_speedups(dataplane):
    """The REST app as serving builds it with the speed machinery on (in-process tests)."""
    from seldon_wrapper import speedups
    from seldon_wrapper.rest.app import create_app

    app = create_app(dataplane)
    speedups.install(app, dataplane)
    return app
