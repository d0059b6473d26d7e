"""Running ``seldon-core-executor`` for real in tests: a graph written to a SeldonDeployment file,
the executor started on free 127.0.0.1 ports, and nodes that record what reaches them."""

from __future__ import annotations

import asyncio
import http.server
import inspect
import json
import os
import pathlib
import socket
import subprocess
import threading
import time

import requests
import yaml

from tests.conftest import BIN_DIR, Server, free_port, wait_ready

EXECUTOR = str(BIN_DIR / "seldon-core-executor")


def endpoint(server: Server | RecordingNode) -> dict:
    """A graph node's ``endpoint`` for a running microservice (or a recording node)."""
    return {"service_host": "127.0.0.1", "httpPort": server.http_port, "grpcPort": server.grpc_port}


def sdep(graph: dict, name: str = "demo", protocol: str | None = None, **predictor: object) -> dict:
    spec: dict = {"predictors": [{"name": "default", "graph": graph, **predictor}]}
    if protocol:
        spec["protocol"] = protocol
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": name}, "spec": spec}  # fmt: skip


def start_executor(
    tmp_path: pathlib.Path,
    deployment: dict | str,
    *args: str,
    env: dict | None = None,
    ready_path: str = "/live",
    timeout: float = 60,
    cwd: pathlib.Path | str | None = None,
) -> Server:
    """Start the executor on a SeldonDeployment (a dict, or YAML text) and wait for ``ready_path``."""
    path = tmp_path / f"sdep-{free_port()}.yaml"
    path.write_text(deployment if isinstance(deployment, str) else yaml.safe_dump(deployment))
    name = deployment["metadata"]["name"] if isinstance(deployment, dict) else "demo"
    command = ["--sdep", name, "--namespace", "ns", "--predictor", "default", "--file", str(path), *args]
    return launch_executor(command, cwd=cwd or tmp_path, tmp_path=tmp_path, env=env, ready_path=ready_path,
                           timeout=timeout)  # fmt: skip


def launch_executor(
    args: list[str],
    *,
    cwd: pathlib.Path | str,
    tmp_path: pathlib.Path,
    env: dict | None = None,
    ready_path: str = "/ready",
    timeout: float = 120,
) -> Server:
    """``seldon-core-executor ARGS`` on free 127.0.0.1 ports, waited for until ``ready_path`` is 200."""
    http_port, grpc_port = free_port(), free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "ENGINE_", "REQUEST_LOGGER", "PROMETHEUS_"))
        or k == "SELDON_SPEEDUPS"  # `make test-plain`: the components run on the plain path too
    }
    full_env.update({"SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations"), "PYTHONUNBUFFERED": "1"})
    full_env.update(env or {})
    log_path = tmp_path / f"executor-{http_port}.log"
    command = [
        EXECUTOR,
        *args,
        "--host",
        "127.0.0.1",
        "--http_port",
        str(http_port),
        "--grpc_port",
        str(grpc_port),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=str(cwd), env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, http_port, grpc_port, 0, log_path)
    # The gRPC server is its own process: wait for it too.
    return wait_ready(server, ready_path, timeout, also=lambda: _listens(grpc_port), what="executor")


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def run_executor(
    tmp_path: pathlib.Path, deployment: dict | str, *args: str, timeout: float = 30
) -> tuple[int, str]:
    """Run the executor expecting it to refuse to start: (exit code, its output)."""
    path = tmp_path / "bad-sdep.yaml"
    path.write_text(deployment if isinstance(deployment, str) else yaml.safe_dump(deployment))
    port = free_port()
    command = [EXECUTOR, "--sdep", "demo", "--namespace", "ns", "--predictor", "default", "--file", str(path),
               "--host", "127.0.0.1", "--http_port", str(port), "--grpc_port", str(free_port()),
               *args]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SELDON_", "ENGINE_"))}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp_path, env=env)
    return done.returncode, done.stdout + done.stderr


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.node.seen.append((self.command, self.path, dict(self.headers), body))
        status, answer, content_type, delay = self.server.node.answer(self.path, body)
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names


class RecordingNode:
    """A node that records each call (method, path, headers, body) and answers ``answer``:
    by default it echoes the body it got with status 200."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict, bytes]] = []
        self.status = 200
        self.body: bytes | None = None
        self.content_type = "application/json"
        self.delay = 0.0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.server.daemon_threads = True
        self.server.node = self
        self.http_port = self.server.server_address[1]
        self.grpc_port = free_port()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, str, float]:
        return self.status, body if self.body is None else self.body, self.content_type, self.delay

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def post(server: Server, path: str, payload: object | bytes, **kwargs) -> requests.Response:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    kwargs.setdefault("timeout", 30)
    return requests.post(server.url + path, data=data, headers=headers, **kwargs)


class OnLoop:
    """An async client driven from a synchronous test: every call runs on one event loop of its
    own, so the client's kept-alive connections live from call to call as in the executor."""

    def __init__(self, target: object) -> None:
        self._target = target
        self._runner = asyncio.Runner()

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._runner.run(self._target(*args, **kwargs))  # type: ignore[operator]

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return lambda *args, **kwargs: self._runner.run(attribute(*args, **kwargs))

    def close(self) -> None:
        target = getattr(self._target, "call", self._target)  # a Walk closes its node client
        target.close()  # type: ignore[attr-defined]
        self._runner.close()
