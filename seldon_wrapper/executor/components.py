"""Graph nodes served by local user classes (``--component NODE=DIR[:CLASS]``), one process each.

In a cluster every node of the graph is its own container, started by the Seldon operator with
an environment the operator fills in (the node's name, image, parameters, ports, the predictor
and deployment names). Run locally, the executor plays the operator's part: each bound node gets
its own ``seldon-core-microservice`` process, in the binding's directory, on ports of its own,
with the environment it would get in its own container, so one class may back several nodes
that differ only by their env. The processes' output is passed through, each line prefixed with
``[node] ``, so the user reads one log stream.

Each process leads a process group of its own (``start_new_session``): the microservice forks
Gunicorn workers and gRPC processes, and stopping or restarting a node must leave none of them
behind holding a port.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO

from seldon_wrapper.executor.graph import (
    COMBINER,
    MODEL,
    OUTPUT_TRANSFORMER,
    ROUTER,
    TRANSFORMER,
    Endpoint,
    Node,
    Predictor,
)
from seldon_wrapper.executor.settings import Binding

logger = logging.getLogger(__name__)

#: The node's type -> ``--service-type``. The microservice serves every route whatever its
#: type; it knows no OUTPUT_TRANSFORMER (nor did the original), so that one runs as TRANSFORMER.
SERVICE_TYPES = {
    MODEL: "MODEL",
    ROUTER: "ROUTER",
    TRANSFORMER: "TRANSFORMER",
    OUTPUT_TRANSFORMER: "TRANSFORMER",
    COMBINER: "COMBINER",
}
#: The executor's log level -> the microservice's ``--log-level`` (which has no WARN or FATAL).
LOG_LEVELS = {"WARN": "WARNING", "FATAL": "ERROR", "CRITICAL": "ERROR"}
#: Inherited variables a container would not have: another node's identity, or a metrics
#: directory that two microservices must not share.
DROPPED_PREFIXES = ("PREDICTIVE_UNIT_", "PREDICTOR_")
DROPPED = ("SELDON_DEPLOYMENT_ID", "PROMETHEUS_MULTIPROC_DIR")
#: The operator's default path of the metrics page (``seldon.io/prometheus-path``).
OPERATOR_METRICS_PATH = "/prometheus"
HEALTH_PATH = "/health/ping"
TAIL_LINES = 20
#: Longest Unix socket path the kernel takes (108 with the NUL), with room to spare; a longer
#: temporary directory means the component is called over TCP instead.
MAX_SOCKET_PATH = 100
#: Restart back-off for a node that keeps dying soon after it starts.
QUICK_DEATH_S = 10.0
MAX_BACKOFF_S = 30.0

_output_lock = threading.Lock()


class ComponentError(RuntimeError):
    """A bound node's microservice could not be started; the message names the node."""


def free_port(host: str = "127.0.0.1", exclude: Iterable[int] = ()) -> int:
    """A port nothing listens on now; the OS picks it, ``exclude`` keeps one start's picks apart."""
    excluded = set(exclude)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in excluded:
            return port
    raise OSError(f"no free port on {host}")


def _client_host(host: str) -> str:
    """Where to reach a server bound to ``host`` (a wildcard address is reached on loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _answers_ping(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=1.0)
    try:
        connection.request("GET", HEALTH_PATH)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _pump(stream: IO[bytes], prefix: str, out_name: str, tail: collections.deque[str]) -> None:
    """Copy one pipe to our stdout or stderr line by line, prefixed; keep the last lines."""
    with contextlib.suppress(ValueError, OSError):  # the pipe closed under us at shutdown
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            tail.append(line)
            out = getattr(sys, out_name)  # looked up per line: whatever stdout is now
            with _output_lock, contextlib.suppress(ValueError, OSError):
                out.write(f"{prefix}{line}\n")
                out.flush()
    with contextlib.suppress(OSError):
        stream.close()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _prctl() -> Callable[..., int] | None:
    """Linux's prctl, looked up here (never in a forked child, where the loader may be locked)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: components outlive a killed executor there
        return None


_PRCTL = _prctl()
_PR_SET_PDEATHSIG = 1


def _stop_with(parent: int) -> Callable[[], None] | None:
    """Runs in the component's child before exec: SIGTERM it when the executor dies, even by
    SIGKILL (its own session keeps it out of the executor's process group otherwise)."""
    if _PRCTL is None:
        return None
    prctl = _PRCTL

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the executor died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


@dataclasses.dataclass
class _Component:
    """One bound node: how to start it, and its current process."""

    binding: Binding
    command: list[str]
    cwd: str
    env: dict[str, str]
    http_port: int
    grpc_port: int
    metrics_port: int
    http_socket: str | None = None
    process: subprocess.Popen | None = None
    readers: list[threading.Thread] = dataclasses.field(default_factory=list)
    tail: collections.deque[str] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=TAIL_LINES)
    )
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_after: float = 0.0
    group_cleared: bool = False  # its group was killed after it exited: the pgid may be reused

    @property
    def node(self) -> str:
        return self.binding.node

    def spawn(self) -> None:
        """Start the process (a new session, so it leads its own group) and its output readers."""
        self.tail.clear()
        self.group_cleared = False
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_stop_with(os.getpid()),  # noqa: PLW1509 - async-signal-safe: one prepared call
        )
        self.started_at = time.monotonic()
        prefix = f"[{self.node}] "
        self.readers = [
            threading.Thread(
                target=_pump,
                args=(stream, prefix, out_name, self.tail),
                name=f"component-{self.node}-{out_name}",
                daemon=True,
            )
            for stream, out_name in ((self.process.stdout, "stdout"), (self.process.stderr, "stderr"))
        ]
        for reader in self.readers:
            reader.start()

    def kill_leftovers(self) -> None:
        """SIGKILL whatever remains of the group (workers and gRPC children outlive a killed leader)."""
        if self.process is not None and not self.group_cleared:
            _signal_group(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.group_cleared = self.process.poll() is not None

    def join_readers(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for reader in self.readers:
            reader.join(max(0.0, deadline - time.monotonic()))

    def last_output(self, lines: int = 5) -> str:
        shown = [line.strip() for line in self.tail if line.strip()][-lines:]
        text = " | ".join(shown) or "(no output)"
        return text if len(text) <= 600 else "..." + text[-597:]


class LocalComponents:
    """The local microservices of the bound nodes: started, watched, restarted, stopped."""

    def __init__(
        self,
        predictor: Predictor,
        bindings: Sequence[Binding],
        *,
        deployment: str,
        namespace: str,
        host: str = "127.0.0.1",
        start_timeout_s: float = 120.0,
        log_level: str = "INFO",
        extra_args: Sequence[str] = (),
        python: str | None = None,
    ) -> None:
        self.predictor = predictor
        self.bindings = tuple(bindings)
        self.deployment = deployment
        self.namespace = namespace
        self.host = host
        self.start_timeout_s = start_timeout_s
        self.log_level = LOG_LEVELS.get(log_level.upper(), log_level.upper())
        self.extra_args = tuple(extra_args)
        self.python = python or sys.executable
        self._components: list[_Component] = []
        self._lock = threading.RLock()
        self._stopped = False
        self._started = False
        self._socket_dir: str | None = None

    # -- public -----------------------------------------------------------------------------

    @property
    def pids(self) -> dict[str, int]:
        """Node -> pid of its current process (also its process group id); empty before start."""
        with self._lock:
            return {c.node: c.process.pid for c in self._components if c.process is not None}

    def plan(self) -> Predictor:
        """Choose each bound node's ports, without starting anything: the predictor as
        ``start()`` will return it. The executor forks its servers after this and before
        ``start()``, while this process has no thread yet (a fork copies no lock held by one)."""
        with self._lock:
            if not self._components:
                self._components = self._plan()
            return self._rebound_predictor()

    def start(self) -> Predictor:
        """Start every bound node's microservice and wait until each answers ``/health/ping``.

        Returns the predictor with each bound node's endpoint pointing at its process. If one
        exits or is not ready in time, every started one is stopped and ComponentError names it.
        """
        with self._lock:
            if self._started:
                raise RuntimeError("LocalComponents.start() was already called")
            self._started = True
            self._stopped = False
            if not self._components:
                self._components = self._plan()
            for component in self._components:
                try:
                    component.spawn()
                except OSError as exc:
                    self._stop_all(grace_s=5.0)
                    raise ComponentError(
                        f"component {component.node!r}: cannot start {component.command[0]}: {exc}"
                    ) from None
                logger.info(
                    "Started component %s (%s in %s) as pid %d on %s:%d (gRPC %d, metrics %d)",
                    component.node,
                    component.binding.class_name,
                    component.cwd,
                    component.process.pid,
                    self.host,
                    component.http_port,
                    component.grpc_port,
                    component.metrics_port,
                )
        try:
            self._wait_ready()
        except BaseException:  # ComponentError has stopped them; an interrupt must too
            with self._lock:
                self._stop_all(grace_s=2.0)
            raise
        return self._rebound_predictor()

    def poll(self) -> list[str]:
        """Restart every bound node whose process has died, on the same ports with the same env.

        A node that keeps dying soon after it starts is restarted after a growing delay (up to
        MAX_BACKOFF_S), so a broken class does not spin. Returns the restarted nodes' names.
        """
        restarted: list[str] = []
        with self._lock:
            if self._stopped:
                return restarted
            now = time.monotonic()
            for component in self._components:
                process = component.process
                if process is None or process.poll() is None:
                    continue
                if component.restart_after == 0.0:  # first seen dead
                    component.kill_leftovers()  # no orphaned gRPC child serves on meanwhile
                    lived = now - component.started_at
                    component.quick_deaths = component.quick_deaths + 1 if lived < QUICK_DEATH_S else 0
                    delay = (
                        0.0
                        if component.quick_deaths <= 1
                        else min(MAX_BACKOFF_S, 2.0 ** (component.quick_deaths - 2))
                    )
                    component.restart_after = now + delay
                    logger.warning(
                        "Component %s (pid %d) exited with code %s; restarting it on port %d%s",
                        component.node,
                        process.pid,
                        process.returncode,
                        component.http_port,
                        f" in {delay:g}s" if delay else "",
                    )
                if now < component.restart_after:
                    continue
                component.kill_leftovers()
                component.join_readers(timeout=1.0)
                component.restart_after = 0.0
                try:
                    component.spawn()
                except OSError as exc:
                    logger.error("Cannot restart component %s: %s", component.node, exc)
                    component.restart_after = now + MAX_BACKOFF_S
                    continue
                restarted.append(component.node)
        return restarted

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM every microservice, wait up to ``grace_s``, then SIGKILL what is left of each group."""
        with self._lock:
            self._stopped = True
            self._stop_all(grace_s)
            if self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
                self._socket_dir = None

    # -- internals --------------------------------------------------------------------------

    def _plan(self) -> list[_Component]:
        """Ports, command and environment of each binding (no two share a port)."""
        used: set[int] = set()

        def port() -> int:
            chosen = free_port(self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1", used)
            used.add(chosen)
            return chosen

        planned = []
        if self._socket_dir is None:
            self._socket_dir = tempfile.mkdtemp(prefix="seldon-executor-")  # mode 0700: ours alone
        for index, binding in enumerate(self.bindings):
            node = self.predictor.node(binding.node)
            if node is None:
                raise ComponentError(f"component {binding.node!r}: no node of that name in the graph")
            http_port, grpc_port, metrics_port = port(), port(), port()
            # REST calls from the executor take this Unix socket (less kernel work than loopback
            # TCP, on both ends); the TCP port stays for readiness and for anyone else.
            http_socket = os.path.join(self._socket_dir, f"c{index}.sock")
            if len(http_socket) > MAX_SOCKET_PATH:
                http_socket = None
            command = [
                self.python,
                "-P",  # as the console script: the class's folder goes last on sys.path, not first
                "-m",
                "seldon_wrapper.cli",
                binding.class_name,
                "--host",
                self.host,
                "--http-port",
                str(http_port),
                "--grpc-port",
                str(grpc_port),
                "--metrics-port",
                str(metrics_port),
                "--service-type",
                SERVICE_TYPES.get(node.type or MODEL, "MODEL"),
                "--log-level",
                self.log_level,
                *(("--http-socket", http_socket) if http_socket else ()),
                *self.extra_args,
            ]
            env = self.environment(node, http_port, grpc_port, metrics_port)
            planned.append(
                _Component(
                    binding,
                    command,
                    os.path.abspath(binding.directory),
                    env,
                    http_port,
                    grpc_port,
                    metrics_port,
                    http_socket,
                )
            )
        return planned

    def environment(
        self,
        node: Node,
        http_port: int,
        grpc_port: int,
        metrics_port: int,
        inherited: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """What the node's container would hold: ours, less other nodes' identity; then the
        container's own env; then what the operator sets.

        The operator always sets the identifiers (they win over the container's env), sets
        ``PREDICTIVE_UNIT_PARAMETERS`` only when the container has none, and the ports are the
        ones the process is started on.
        """
        inherited = os.environ if inherited is None else inherited
        env = {
            key: value
            for key, value in inherited.items()
            if not key.startswith(DROPPED_PREFIXES) and key not in DROPPED
        }
        env["PYTHONUNBUFFERED"] = "1"  # lines reach the user as they are written
        container = self.predictor.containers.get(node.name)
        if container is not None:
            env.update(container.env)
        own = dict(container.env) if container is not None else {}
        if node.parameters and "PREDICTIVE_UNIT_PARAMETERS" not in own:
            env["PREDICTIVE_UNIT_PARAMETERS"] = json.dumps([dict(p) for p in node.parameters])
        labels = {"version": self.predictor.version} if self.predictor.version else {}
        env.update(
            {
                "PREDICTIVE_UNIT_SERVICE_PORT": str(http_port),
                "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(http_port),
                "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(grpc_port),
                "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": str(metrics_port),
                "PREDICTIVE_UNIT_METRICS_ENDPOINT": OPERATOR_METRICS_PATH,
                "PREDICTIVE_UNIT_ID": node.name,
                "PREDICTOR_ID": self.predictor.name,
                "PREDICTOR_LABELS": json.dumps(labels),
                "SELDON_DEPLOYMENT_ID": self.deployment,
                "SELDON_EXECUTOR_ENABLED": "true",
            }
        )
        if container is not None and container.image:
            env["PREDICTIVE_UNIT_IMAGE"] = container.image
        return env

    def _wait_ready(self) -> None:
        """Until every process answers the ping; on an exit or the deadline, stop all and raise."""
        deadline = time.monotonic() + self.start_timeout_s
        waiting = list(self._components)
        client_host = _client_host(self.host)
        while waiting:
            for component in list(waiting):
                process = component.process
                if process.poll() is not None:
                    self._fail(component, f"exited with code {process.returncode} before it was ready")
                if _answers_ping(client_host, component.http_port):
                    waiting.remove(component)
                    logger.info(
                        "Component %s is ready on %s:%d", component.node, self.host, component.http_port
                    )
            if waiting and time.monotonic() >= deadline:
                self._fail(waiting[0], f"did not answer GET {HEALTH_PATH} within {self.start_timeout_s:g}s")
            if waiting:
                time.sleep(0.05)

    def _fail(self, component: _Component, what: str) -> None:
        with self._lock:
            self._stop_all(grace_s=2.0)
        component.join_readers(timeout=1.0)
        binding = component.binding
        raise ComponentError(
            f"component {component.node!r} ({binding.class_name} in {component.cwd}) {what}; "
            f"last output: {component.last_output()}"
        )

    def _stop_all(self, grace_s: float) -> None:
        running = [c for c in self._components if c.process is not None]
        for component in running:
            if component.process.poll() is None:
                # The leader alone, as Kubernetes signals a container: it stops its own children.
                with contextlib.suppress(ProcessLookupError):
                    component.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for component in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            if component.process.poll() is None:
                logger.warning(
                    "Component %s (pid %d) did not stop within %gs; killing it",
                    component.node,
                    component.process.pid,
                    grace_s,
                )
            component.kill_leftovers()
        for component in running:
            component.join_readers(timeout=1.0)

    def _rebound_predictor(self) -> Predictor:
        """The predictor with each bound node's endpoint set to its local process."""
        host = _client_host(self.host)
        endpoints = {
            c.node: Endpoint(host, c.http_port, c.grpc_port, c.http_port, unix_socket=c.http_socket)
            for c in self._components
        }

        def rebuild(node: Node) -> Node:
            return dataclasses.replace(
                node,
                endpoint=endpoints.get(node.name, node.endpoint),
                children=tuple(rebuild(child) for child in node.children),
            )

        return dataclasses.replace(self.predictor, graph=rebuild(self.predictor.graph))
