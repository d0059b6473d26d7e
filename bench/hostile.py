#!/usr/bin/env python3
"""Hostile-client probes against ours and the original wrapper (issue: production hardening).

Each system is started as bench.py starts it (identity model, one REST worker, loopback), every
probe runs against a fresh server, and one Markdown table is printed: what an ordinary caller
still gets while slow, huge, deep or wrong requests arrive. Run it on a quiet machine:

    bench/.venvs/client/bin/python bench/hostile.py [--systems ours-w1,orig-w1] [--out FILE]

The machine's venvs come from bench/setup.sh (bench/run.sh makes them).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (the systems, launch and stop of the benchmark)

GOOD = b'{"data":{"ndarray":[[1.0,2.0]]}}'


def post(url: str, body: bytes, timeout: float = 2.0, path: str = "/api/v1.0/predictions") -> int:
    request = urllib.request.Request(url + path, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, TimeoutError):
        return 0  # no answer in time, or the connection failed


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def ordinary_while(url: str, seconds: float, every: float = 0.5) -> str:
    """Ordinary predictions (2 s timeout) sent while a probe runs: 'answered of sent'."""
    answered = sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sent += 1
        answered += post(url, GOOD) == 200
        time.sleep(every)
    return f"{answered} of {sent} answered"


def trickle(
    port: int, head: bytes, body_bytes: int, rate: float, seconds: float, stop: threading.Event
) -> None:
    """A slow client: with a body, the header block at once and the body one byte every 1/rate s;
    without, the header block itself, never finished, one byte every 1/rate s."""
    slow = b"x" * body_bytes if body_bytes else head
    try:
        with socket.create_connection((bench.HOST, port), timeout=seconds + 5) as sock:
            if body_bytes:
                sock.sendall(head)
            for i in range(len(slow)):
                if stop.is_set():
                    return
                sock.sendall(slow[i : i + 1])
                time.sleep(1.0 / rate)
    except OSError:
        return


def probe_slow(url: str, port: int, clients: int, body: int, rate: float, seconds: float) -> str:
    length = f"Content-Length: {body}\r\n" if body else ""
    head = f"POST /api/v1.0/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{length}\r\n"
    head_bytes = head.encode() if body else head.encode()[:-2]  # header trickles never end
    stop = threading.Event()
    threads = [
        threading.Thread(target=trickle, args=(port, head_bytes, body, rate, seconds, stop), daemon=True)
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    result = ordinary_while(url, seconds - 1)
    stop.set()
    return result


def probe_wrk(url: str, body_file: str) -> str:
    if not shutil.which("wrk"):
        return "wrk not installed"
    lua = os.path.join(HERE, "lua", "post.lua")
    out = subprocess.run(
        ["wrk", "-t2", "-c1000", "-d10s", "--timeout", "5s", "-s", lua, url + "/api/v1.0/predictions"],
        capture_output=True,
        text=True,
        env={**os.environ, "BODY_FILE": body_file},
        check=False,
    ).stdout
    line = next((line for line in out.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        return "wrk failed"
    w = json.loads(line[len("WRK_JSON ") :])
    errors = w["err_connect"] + w["err_read"] + w["err_write"]
    return (
        f"{w['requests']:,} answered, {w['err_timeout']} timed out, {errors} socket errors, "
        f"max latency {w['lat_max_us'] / 1e6:.1f} s"
    )


def probe_big(url: str, pid: int) -> str:
    values = ",".join(["0.5"] * 10_000_000)  # about 40 MB
    body = b'{"data":{"ndarray":[' + values.encode() + b"]}}"
    before = bench.tree_mem(pid)["pss_mb"]
    status = post(url, body, timeout=60)
    grown = bench.tree_mem(pid)["pss_mb"] - before
    return f"{len(body) // 2**20} MB: {status or 'no answer'}, PSS +{grown:.0f} MB; next: {post(url, GOOD)}"


def probe_deep(url: str) -> str:
    body = b'{"data":{"ndarray":' + b"[" * 100_000 + b"1" + b"]" * 100_000 + b"}}"
    return f"{post(url, body, timeout=10) or 'no answer'}; next: {post(url, GOOD)}"


def probe_v2_fraction(url: str) -> str:
    body = json.dumps(
        {"inputs": [{"name": "x", "datatype": "INT32", "shape": [2], "data": [1.5, 2]}]}
    ).encode()
    request = urllib.request.Request(
        url + "/v2/models/MyModel/infer", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.loads(response.read())["outputs"][0]["data"]
            return f"{response.status} with {data}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code}"
    except OSError as exc:
        return f"no answer ({type(exc).__name__})"


def probe_idle(url: str, port: int) -> str:
    idle = []
    for _ in range(600):
        try:
            idle.append(socket.create_connection((bench.HOST, port), timeout=2))
        except OSError:
            break
    result = f"{len(idle)} idle open; " + ordinary_while(url, 3)
    for sock in idle:
        sock.close()
    return result


#: A model whose prediction sleeps for the seconds its strData says (for the SIGTERM probe).
SLEEPY = """
import time


class Sleepy:
    def predict(self, X, features_names=None):
        time.sleep(float(X))
        return X
"""


def _seldon_message_str(text: bytes) -> bytes:
    """A SeldonMessage with strData (field 5) set, encoded by hand: the client venv has no stubs."""
    return b"\x2a" + bytes([len(text)]) + text


def probe_sigterm(url: str, grpc_target: str, pid: int) -> str:
    """4 REST and 4 gRPC calls of 2 s in flight (one worker, one gRPC thread), then SIGTERM."""
    import grpc  # the client venv's

    rest: list[int] = []
    calls: list[str] = []
    channel = grpc.insecure_channel(grpc_target)
    predict = channel.unary_unary("/seldon.protos.Model/Predict")

    def rest_call() -> None:
        rest.append(post(url, b'{"strData": "2"}', timeout=60))

    def grpc_call() -> None:
        try:
            predict(_seldon_message_str(b"2"), timeout=60)
            calls.append("OK")
        except grpc.RpcError as exc:
            calls.append(exc.code().name)

    threads = [threading.Thread(target=rest_call) for _ in range(4)]
    threads += [threading.Thread(target=grpc_call) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    signalled = time.monotonic()
    os.kill(pid, 15)
    for thread in threads:
        thread.join(70)
    try:
        code = bench.LIVE[pid].wait(40)
        exited = f"exit {code} after {time.monotonic() - signalled:.1f} s"
    except subprocess.TimeoutExpired:
        exited = "still running 40 s after SIGTERM"
    channel.close()
    grpc_codes = ", ".join(f"{calls.count(c)} {c}" for c in sorted(set(calls)))
    return f"REST {rest.count(200)} of 4 OK; gRPC {grpc_codes}; {exited}"


class Target(NamedTuple):
    url: str
    port: int
    pid: int
    body_file: str
    grpc: str


SLOW_HEADERS = (
    "20 connections trickle headers at 1 byte/s for 12 s; ordinary requests meanwhile (2 s timeout)"
)
SLOW_BODIES = "3 connections declare a 100 KB body and send 10 bytes/s; ordinary requests meanwhile"
SIGTERM = "SIGTERM while 4 REST and 4 gRPC calls of 2 s are in flight (one worker, one gRPC thread)"
PROBES: dict[str, Callable[[Target], str]] = {
    SLOW_HEADERS: lambda t: probe_slow(t.url, t.port, 20, 0, 1.0, 12),
    SLOW_BODIES: lambda t: probe_slow(t.url, t.port, 3, 100_000, 10.0, 8),
    "1,000 concurrent connections (wrk -c1000 -d10s --timeout 5s)": lambda t: probe_wrk(t.url, t.body_file),
    "a 40 MB JSON body": lambda t: probe_big(t.url, t.pid),
    "JSON nested 100,000 deep": lambda t: probe_deep(t.url),
    "V2 INT32 tensor with data [1.5, 2]": lambda t: probe_v2_fraction(t.url),
    "600 idle connections; ordinary requests meanwhile": lambda t: probe_idle(t.url, t.port),
    SIGTERM: lambda t: probe_sigterm(t.url, t.grpc, t.pid),
}


def run_system(system: bench.System, body_file: str) -> dict[str, str]:
    results = {}
    for name, probe in PROBES.items():
        with tempfile.TemporaryDirectory() as workdir:
            launch = bench.launch_spec(system, workdir, None)
            if name == SIGTERM:  # the same server with a model that sleeps
                with open(os.path.join(workdir, "Sleepy.py"), "w") as f:
                    f.write(SLEEPY)
                cmd = ["Sleepy" if arg == "MyModel" else arg for arg in launch.cmd]
                launch = dataclasses.replace(launch, cmd=cmd, cwd=workdir)
            proc = subprocess.Popen(
                launch.cmd,
                cwd=launch.cwd,
                env=launch.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            bench.LIVE[proc.pid] = proc
            try:
                deadline = time.monotonic() + 30
                while not ready(launch.ready_url):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{system.name} did not start")
                    time.sleep(0.05)
                port = int(launch.rest.rsplit(":", 1)[1])
                results[name] = probe(Target(launch.rest, port, proc.pid, body_file, launch.grpc))
                if name != SIGTERM:
                    alive = proc.poll() is None and post(launch.rest, GOOD) == 200
                    results[name] += "" if alive else " (server not serving afterwards)"
            finally:
                bench.stop_tree(proc, 10.0)
        print(f"{system.name}: {name}: {results[name]}", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", default="ours-w1,orig-w1")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    venvs = os.environ.get("BENCH_VENVS", os.path.join(HERE, ".venvs"))
    ours_venv = os.environ.get("OURS_VENV", os.path.join(os.path.dirname(HERE), ".venv"))
    systems = {s.name: s for s in bench.all_systems(venvs, ours_venv)}
    chosen = [systems[name] for name in args.systems.split(",")]
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as body_file:
        body_file.write(GOOD)
    try:
        columns = {s.name: run_system(s, body_file.name) for s in chosen}
    finally:
        os.unlink(body_file.name)
    header = "| probe | " + " | ".join(s.label for s in chosen) + " |"
    lines = [header, "|---" * (len(chosen) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(columns[s.name][name] for s in chosen) + " |" for name in PROBES]
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
