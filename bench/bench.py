#!/usr/bin/env python3
"""Benchmark orchestrator: ours vs seldon-core 1.19.0 vs MLServer 1.7.1 vs raw ceilings.

For every round, for every selected system (interleaved: the systems of one round run
back to back, so they see the same machine noise):

  1. pick free 127.0.0.1 ports, launch the system in a new session (its own process group)
  2. cold start: launch -> first 200 from its readiness URL (polled every 10 ms), then
     -> first correct REST inference and -> first correct gRPC inference
  3. its load phases (each: identity check of one response, warm-up, measured run):
       v1_rest_small  wrk POST /api/v1.0/predictions, 1x4 floats
       v1_rest_large  wrk POST /api/v1.0/predictions, 1000x100 floats (~0.93 MB)
       v1_grpc        grpc_load.py seldon.protos.Model/Predict, 1x4 tensor
       v2_rest_small  wrk POST /v2/models/{name}/infer, 1x4 FP64
       v2_rest_large  wrk POST /v2/models/{name}/infer, 1000x100 FP64 (~0.93 MB)
       v2_grpc        grpc_load.py inference.GRPCInferenceService/ModelInfer, 1x4 FP64
     each phase also records the server tree's CPU time, the load generator's CPU time and
     the "foreign" CPU (busy CPU of the machine used by neither: other tenants = noise)
  4. memory: RSS / PSS / USS summed over the whole process tree, idle and after load
  5. stop: SIGTERM to the main PID; after a grace period SIGTERM, then SIGKILL, the process
     group; leftovers of the recorded tree are SIGKILLed by PID

One JSON object per (round, system) goes to OUT/raw.jsonl, server output to OUT/logs/.
Run with the client venv's python (psutil + grpcio), normally through bench/run.sh.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import payloads
import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = os.path.join(HERE, "models")
HOST = "127.0.0.1"

PHASES = ("v1_rest_small", "v1_rest_large", "v1_grpc", "v2_rest_small", "v2_rest_large", "v2_grpc")
QUICK_PHASES = ("v1_rest_small", "v2_rest_small", "v2_grpc")
BODY = {
    "v1_rest_small": "v1_small.json",
    "v1_rest_large": "v1_large.json",
    "v2_rest_small": "v2_small.json",
    "v2_rest_large": "v2_large.json",
}


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


# ----------------------------------------------------------------------------- systems
OURS_WORKER = "wsgi_app.KeepAliveWorker"  # bench/models/raw/wsgi_app.py: ours, with an accept board


@dataclass
class System:
    name: str
    role: str  # ours | orig | mls | mls0 | ceil | ceils (sync-worker ceiling)
    label: str
    needs: tuple[str, ...]  # setup.sh components
    phases: tuple[str, ...]
    kind: str  # seldon | mlserver | wsgi | echo
    workers: int = 1
    venv: str = ""
    env: dict[str, str] = field(default_factory=dict)
    v2_model: str = "MyModel"
    check: bool = True  # identity check of responses (ceilings answer a fixed body)
    quick: bool = False  # part of --quick
    worker_class: str = ""  # gunicorn -k for the bare WSGI ceilings ("" = gunicorn's sync)


def all_systems(venvs: str, ours_venv: str) -> list[System]:
    orig, mls = os.path.join(venvs, "orig"), os.path.join(venvs, "mlserver")
    return [
        System(
            "ours-w1",
            "ours",
            "seldon-wrapper (ours), --workers 1 (default)",
            ("ours",),
            PHASES,
            "seldon",
            1,
            ours_venv,
            quick=True,
        ),
        System(
            "ours-w2",
            "ours",
            "seldon-wrapper (ours), --workers 2",
            ("ours",),
            ("v1_rest_small",),
            "seldon",
            2,
            ours_venv,
        ),
        System(
            "orig-w1",
            "orig",
            "seldon-core 1.19.0 / py3.11, --workers 1 (default)",
            ("orig",),
            ("v1_rest_small", "v1_rest_large", "v1_grpc"),
            "seldon",
            1,
            orig,
        ),
        System(
            "orig-w2",
            "orig",
            "seldon-core 1.19.0 / py3.11, --workers 2",
            ("orig",),
            ("v1_rest_small",),
            "seldon",
            2,
            orig,
        ),
        System(
            "mlserver-pw1",
            "mls",
            "MLServer 1.7.1, parallel_workers=1 (default), debug=false",
            ("mlserver",),
            ("v2_rest_small", "v2_rest_large", "v2_grpc"),
            "mlserver",
            1,
            mls,
            env={"MLSERVER_PARALLEL_WORKERS": "1"},
            v2_model="identity",
            quick=True,
        ),
        System(
            "mlserver-pw0",
            "mls0",
            "MLServer 1.7.1, parallel_workers=0 (inference in the main process)",
            ("mlserver",),
            ("v2_rest_small", "v2_rest_large", "v2_grpc"),
            "mlserver",
            1,
            mls,
            env={"MLSERVER_PARALLEL_WORKERS": "0"},
            v2_model="identity",
        ),
        System(
            "raw-wsgi-w1",
            "ceil",
            "ceiling: bare WSGI app, gunicorn with ours' keep-alive worker, 1 worker (our REST stack)",
            ("ours",),
            ("v1_rest_small", "v1_rest_large"),
            "wsgi",
            1,
            ours_venv,
            check=False,
            quick=True,
            worker_class=OURS_WORKER,
        ),
        System(
            "raw-wsgi-w2",
            "ceil",
            "ceiling: bare WSGI app, gunicorn with ours' keep-alive worker, 2 workers",
            ("ours",),
            ("v1_rest_small",),
            "wsgi",
            2,
            ours_venv,
            check=False,
            worker_class=OURS_WORKER,
        ),
        System(
            "raw-wsgi-sync-w1",
            "ceils",
            "bare WSGI app, gunicorn sync worker (Connection: close; the original's HTTP server), 1 worker",
            ("ours",),
            ("v1_rest_small", "v1_rest_large"),
            "wsgi",
            1,
            ours_venv,
            check=False,
        ),
        System(
            "raw-wsgi-sync-w2",
            "ceils",
            "bare WSGI app, gunicorn sync worker, 2 workers",
            ("ours",),
            ("v1_rest_small",),
            "wsgi",
            2,
            ours_venv,
            check=False,
        ),
        System(
            "grpc-echo-sync1",
            "ceil",
            "ceiling: raw-bytes gRPC echo, sync grpc.server, 1 thread (our gRPC stack)",
            ("ours",),
            ("v1_grpc", "v2_grpc"),
            "echo",
            1,
            ours_venv,
            quick=True,
        ),
    ]


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class Launch:
    cmd: list[str]
    cwd: str
    env: dict[str, str]
    ready_url: str
    rest: str | None
    grpc: str | None
    ports: list[int]


def launch_spec(s: System, workdir: str, ours_src: str | None) -> Launch:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREDICTIVE_UNIT", "MLSERVER_", "SELDON_")) and k != "PYTHONPATH"
    }
    env.update(s.env)
    if (s.role == "ours" or s.worker_class == OURS_WORKER) and ours_src:
        env["PYTHONPATH"] = ours_src  # the run's frozen copy wins over the editable install
    if s.kind == "seldon":
        http, grpc_p, metrics = free_ports(3)
        cmd = [
            os.path.join(s.venv, "bin", "seldon-core-microservice"),
            "MyModel",
            "--workers",
            str(s.workers),
            "--http-port",
            str(http),
            "--grpc-port",
            str(grpc_p),
            "--metrics-port",
            str(metrics),
        ]
        if s.role == "ours":
            cmd += ["--host", HOST]  # the original has no --host: it always binds 0.0.0.0
        return Launch(
            cmd,
            os.path.join(MODELS, "seldon"),
            env,
            f"http://{HOST}:{http}/health/ping",
            f"http://{HOST}:{http}",
            f"{HOST}:{grpc_p}",
            [http, grpc_p, metrics],
        )
    if s.kind == "mlserver":
        http, grpc_p, metrics = free_ports(3)
        # a fresh copy per start: MLServer writes .metrics/ and .envs/ into its model folder
        shutil.copytree(os.path.join(MODELS, "mlserver"), workdir, dirs_exist_ok=True)
        with open(os.path.join(MODELS, "mlserver", "settings.json")) as f:
            settings = json.load(f)
        settings.update(host=HOST, http_port=http, grpc_port=grpc_p, metrics_port=metrics)
        with open(os.path.join(workdir, "settings.json"), "w") as f:
            json.dump(settings, f, indent=1)
        return Launch(
            [os.path.join(s.venv, "bin", "mlserver"), "start", "."],
            workdir,
            env,
            f"http://{HOST}:{http}/v2/health/ready",
            f"http://{HOST}:{http}",
            f"{HOST}:{grpc_p}",
            [http, grpc_p, metrics],
        )
    if s.kind == "wsgi":
        (http,) = free_ports(1)
        cmd = [
            os.path.join(s.venv, "bin", "gunicorn"),
            "-w",
            str(s.workers),
            "-b",
            f"{HOST}:{http}",
            "--log-level",
            "warning",
            *(["-k", s.worker_class] if s.worker_class else []),
            "wsgi_app:app",
        ]
        return Launch(
            cmd,
            os.path.join(MODELS, "raw"),
            env,
            f"http://{HOST}:{http}/health/ping",
            f"http://{HOST}:{http}",
            None,
            [http],
        )
    (grpc_p,) = free_ports(1)
    cmd = [
        os.path.join(s.venv, "bin", "python"),
        "grpc_echo.py",
        "--addr",
        f"{HOST}:{grpc_p}",
        "--mode",
        "sync",
        "--threads",
        "1",
    ]
    return Launch(
        cmd, os.path.join(MODELS, "raw"), env, f"tcp:{HOST}:{grpc_p}", None, f"{HOST}:{grpc_p}", [grpc_p]
    )


# ----------------------------------------------------------------------------- process helpers
LIVE: dict[int, subprocess.Popen] = {}


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def tree_mem(pid: int) -> dict:
    rss = pss = uss = n = 0
    for p in tree(pid):
        try:
            m = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, pss, uss, n = rss + m.rss, pss + getattr(m, "pss", 0), uss + m.uss, n + 1
    mb = 1024 * 1024
    return {
        "procs": n,
        "rss_mb": round(rss / mb, 1),
        "pss_mb": round(pss / mb, 1),
        "uss_mb": round(uss / mb, 1),
    }


def busy_cpu() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def listening_owner(port: int) -> int | None:
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port:
            return c.pid
    return None


def ours(pid: int, root: int) -> bool:
    """Whether pid is root or one of its descendants (also ones forked after a tree snapshot)."""
    try:
        return pid == root or any(p.pid == root for p in psutil.Process(pid).parents())
    except psutil.NoSuchProcess:
        return True  # gone already: a short-lived child of ours, not a foreign listener


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def stop_tree(proc: subprocess.Popen, grace_s: float) -> dict:
    """SIGTERM the main PID (like `docker stop`) and wait grace_s; then SIGTERM the process
    group, wait 3 s, SIGKILL the group and every leftover of the recorded tree by PID."""
    pids = {p.pid for p in tree(proc.pid)} | {proc.pid}
    t0 = time.perf_counter()

    def gone() -> bool:
        return proc.poll() is not None and not any(alive(p) for p in pids)

    def wait(seconds: float) -> bool:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if gone():
                return True
            time.sleep(0.02)
        return gone()

    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    graceful = wait(grace_s)
    survivors = [] if graceful else sorted(p for p in pids if alive(p))
    if not graceful:
        for sig, wait_s in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            if wait(wait_s):
                break
    killed = []
    for p in pids:
        if alive(p):
            try:
                os.kill(p, signal.SIGKILL)
                killed.append(p)
            except ProcessLookupError:
                pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    LIVE.pop(proc.pid, None)
    return {
        "stop_s": round(time.perf_counter() - t0, 3),
        "graceful": graceful,
        "survivors_after_sigterm": survivors,
        "sigkilled_by_pid": killed,
        "rc": proc.returncode,
    }


@atexit.register
def _stop_everything() -> None:
    for proc in list(LIVE.values()):
        stop_tree(proc, 2.0)


def _on_signal(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------- requests
def http(method: str, url: str, body: bytes | None = None, timeout: float = 2.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _flat(x) -> list:
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


def check_rest(phase: str, sent: bytes, status: int, got: bytes) -> str | None:
    """None if the response is a 200 carrying the request's numbers back."""
    if status != 200:
        return f"HTTP {status}: {got[:200]!r}"
    try:
        g, s = json.loads(got), json.loads(sent)
        if phase.startswith("v1"):
            ok = g["data"]["ndarray"] == s["data"]["ndarray"]
        else:
            out, inp = g["outputs"][0], s["inputs"][0]
            ok = _flat(out["data"]) == _flat(inp["data"]) and list(out["shape"]) == list(inp["shape"])
        return None if ok else f"identity mismatch: {got[:200]!r}"
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return f"bad response ({type(e).__name__}: {e}): {got[:200]!r}"


def rest_url(s: System, lt: Launch, phase: str) -> str:
    if phase.startswith("v1"):
        return lt.rest + "/api/v1.0/predictions"
    return lt.rest + f"/v2/models/{s.v2_model}/infer"


def run_wrk(url: str, body_file: str, conns: int, seconds: float, loadlog) -> dict:
    env = dict(os.environ, BODY_FILE=body_file)
    cmd = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        os.path.join(HERE, "lua", "post.lua"),
        url,
    ]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        return {"error": "wrk did not finish in time"}
    loadlog.write(f"$ BODY_FILE={os.path.basename(body_file)} {' '.join(cmd)}\n{p.stdout}{p.stderr}\n")
    loadlog.flush()
    m = re.search(r"^WRK_JSON (.*)$", p.stdout, re.M)
    if not m:
        return {"error": f"wrk failed rc={p.returncode}: {p.stderr[-300:]}"}
    w = json.loads(m.group(1))
    dur = w["duration_us"] / 1e6
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    err_detail = {k[4:]: w[k] for k in w if k.startswith("err_") and w[k]}
    return {
        "requests": w["requests"],
        "rps": round(w["requests"] / dur, 1),
        "lat_p50_ms": w["lat_p50_us"] / 1000,
        "lat_p90_ms": w["lat_p90_us"] / 1000,
        "lat_p99_ms": w["lat_p99_us"] / 1000,
        "lat_max_ms": w["lat_max_us"] / 1000,
        "req_MBps": round(w["requests"] * w["body_bytes"] / dur / 1e6, 2),
        "resp_MBps": round(w["bytes_read"] / dur / 1e6, 2),
        "body_bytes": w["body_bytes"],
        "errors": sum(err_detail.values()),
        "err_detail": err_detail,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "connections": conns,
    }


def run_grpc_client(
    api: str, target: str, model: str, seconds: float, conns: int, warmup: int, loadlog
) -> dict:
    cmd = [
        sys.executable,
        os.path.join(HERE, "grpc_load.py"),
        "--api",
        api,
        "--target",
        target,
        "--model",
        model,
        "-d",
        str(seconds),
        "-c",
        str(conns),
        "--warmup",
        str(warmup),
    ]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        return {"error": "gRPC client did not finish in time"}
    loadlog.write(f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}\n")
    loadlog.flush()
    m = re.search(r"^GRPC_JSON (.*)$", p.stdout, re.M)
    if not m:
        return {"error": f"gRPC client failed rc={p.returncode}: {p.stderr[-400:]}"}
    return json.loads(m.group(1))


def grpc_first_ok(
    api: str, target: str, model: str, t0: float, deadline: float
) -> tuple[float | None, str | None]:
    """Poll with a real inference until one succeeds; seconds since t0 and the identity check.

    A fresh channel per attempt: a channel whose first connect was refused waits out gRPC's
    reconnect backoff (about 1 s) before trying again, which would be measured as start time.
    """
    import grpc
    import grpc_load

    req = grpc_load.build_request(api, model)
    payload = req.SerializeToString()
    last = "never answered"
    while time.perf_counter() < deadline:
        with grpc.insecure_channel(target) as channel:
            try:
                raw = channel.unary_unary(grpc_load.METHODS[api])(payload, timeout=1.0)
                return time.perf_counter() - t0, grpc_load.check_response(api, raw, req)
            except grpc.RpcError as e:
                last = f"{e.code()}: {e.details()}"
        time.sleep(0.01)
    return None, f"gRPC inference never succeeded: {last}"


def measured(pid: int, fn) -> dict:
    """Run fn() and attach CPU accounting: server tree, load generator, everything else."""
    c0, b0, k0, t0 = tree_cpu(pid), busy_cpu(), children_cpu(), time.perf_counter()
    res = fn()
    c1, b1, k1, t1 = tree_cpu(pid), busy_cpu(), children_cpu(), time.perf_counter()
    wall, server, loadgen = t1 - t0, c1 - c0, k1 - k0
    res["wall_s"] = round(wall, 3)
    res["server_cpu_s"] = round(server, 3)
    res["loadgen_cpu_s"] = round(loadgen, 3)
    res["foreign_cpu_cores"] = round(max(0.0, (b1 - b0) - server - loadgen) / wall, 3)
    if res.get("requests"):
        res["server_cpu_ms_per_req"] = round(1000 * server / res["requests"], 4)
    return res


# ----------------------------------------------------------------------------- one system
def bench_system(s: System, rnd: int, a: argparse.Namespace, out: str, bodies: dict[str, str]) -> dict:
    rec: dict = {
        "round": rnd,
        "system": s.name,
        "role": s.role,
        "label": s.label,
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "phases": {},
    }
    workdir = os.path.join(out, "work", f"{s.name}.r{rnd}")
    lt = launch_spec(s, workdir, a.ours_src)
    server_log = open(os.path.join(out, "logs", f"{s.name}.r{rnd}.log"), "w")
    loadlog = open(os.path.join(out, "logs", f"{s.name}.r{rnd}.load.log"), "w")
    proc = None
    try:
        server_log.write(f"$ (cd {lt.cwd} && {' '.join(lt.cmd)})  env+={s.env}\n")
        server_log.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            lt.cmd,
            cwd=lt.cwd,
            env=lt.env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        LIVE[proc.pid] = proc
        pid = rec["pid"] = proc.pid

        # ---- cold start
        deadline = t0 + a.start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited during start, rc={proc.returncode}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"not ready within {a.start_timeout} s")
            if lt.ready_url.startswith("tcp:"):
                if port_open(HOST, int(lt.ready_url.rsplit(":", 1)[1])):
                    break
            else:
                try:
                    if http("GET", lt.ready_url, timeout=0.5)[0] == 200:
                        break
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.01)
        rec["cold_ready_s"] = round(time.perf_counter() - t0, 3)
        rest_phase = next((p for p in s.phases if "rest_small" in p), None)
        if lt.rest and rest_phase:
            body = open(bodies[BODY[rest_phase]], "rb").read()
            err = "never answered"
            while time.perf_counter() < deadline:
                try:
                    st, got = http("POST", rest_url(s, lt, rest_phase), body)
                    err = check_rest(rest_phase, body, st, got) if s.check else None
                    if st == 200:
                        break
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.01)
            rec["cold_first_rest_s"] = round(time.perf_counter() - t0, 3)
            rec["cold_rest_error"] = err
        grpc_phase = next((p for p in s.phases if p.endswith("grpc")), None)
        if lt.grpc and grpc_phase:
            secs, err = grpc_first_ok(grpc_phase[:2], lt.grpc, s.v2_model, t0, deadline)
            rec["cold_first_grpc_s"] = round(secs, 3) if secs else None
            rec["cold_grpc_error"] = err if s.check else None
        stray = {
            port: o for port in lt.ports if (o := listening_owner(port)) is not None and not ours(o, pid)
        }
        if stray:
            raise RuntimeError(f"ports owned by processes outside the started tree: {stray}")
        time.sleep(a.settle)
        rec["mem_idle"] = tree_mem(pid)
        log(
            f"[r{rnd}] {s.name}: ready {rec['cold_ready_s']} s, first REST {rec.get('cold_first_rest_s')} s, "
            f"first gRPC {rec.get('cold_first_grpc_s')} s, PSS {rec['mem_idle']['pss_mb']} MB"
        )

        # ---- load phases
        for phase in s.phases:
            if phase not in a.phases:
                continue
            if phase.endswith("grpc"):
                res = measured(
                    pid,
                    lambda ph=phase: run_grpc_client(
                        ph[:2], lt.grpc, s.v2_model, a.duration, a.grpc_c, a.grpc_warmup, loadlog
                    ),
                )
                if not s.check:
                    res["check_error"] = None
            else:
                large = phase.endswith("large")
                url, body_file = rest_url(s, lt, phase), bodies[BODY[phase]]
                body = open(body_file, "rb").read()
                st, got = http("POST", url, body, timeout=30)
                check = check_rest(phase, body, st, got) if s.check else None
                conns = a.large_c if large else a.small_c
                if a.warmup > 0:
                    run_wrk(url, body_file, conns, a.warmup, loadlog)
                res = measured(pid, lambda u=url, b=body_file, c=conns: run_wrk(u, b, c, a.duration, loadlog))
                res["check_error"] = check
            rec["phases"][phase] = res
            log(
                f"[r{rnd}] {s.name} {phase}: {res.get('rps')} rps, p50 {res.get('lat_p50_ms')} ms, "
                f"p99 {res.get('lat_p99_ms')} ms, server {res.get('server_cpu_ms_per_req')} ms CPU/req, "
                f"foreign {res.get('foreign_cpu_cores')} cores"
                + "".join(
                    f", {k}={res[k]}" for k in ("error", "errors", "non2xx", "check_error") if res.get(k)
                )
            )
        rec["mem_after_load"] = tree_mem(pid)
        log(f"[r{rnd}] {s.name}: after load {rec['mem_after_load']}")
    except Exception as e:  # noqa: BLE001 - one failing system must not stop the run
        rec["error"] = f"{type(e).__name__}: {e}"
        log(f"[r{rnd}] {s.name}: ERROR {rec['error']}")
    finally:
        if proc is not None:
            rec["stop"] = stop_tree(proc, a.stop_grace)
            if not rec["stop"]["graceful"]:
                log(f"[r{rnd}] {s.name}: still running {a.stop_grace} s after SIGTERM; process group killed")
        server_log.close()
        loadlog.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return rec


# ----------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="CI mode: ours-w1, mlserver-pw1 and the ceilings; v1/V2 REST small + V2 gRPC; "
        "1 round of 3 s phases",
    )
    ap.add_argument(
        "--systems", default="", help="comma list of system names (default: all, or the quick set)"
    )
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; --quick: 1)")
    ap.add_argument(
        "--duration", type=float, default=None, help="seconds per measured phase (default 15; --quick: 3)"
    )
    ap.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="wrk warm-up seconds per REST phase (default 3; --quick: 1)",
    )
    ap.add_argument("--small-c", type=int, default=16, help="connections, REST small")
    ap.add_argument("--large-c", type=int, default=4, help="connections, REST large")
    ap.add_argument("--grpc-c", type=int, default=16, help="concurrent calls, gRPC")
    ap.add_argument("--grpc-warmup", type=int, default=200, help="sequential gRPC calls before measuring")
    ap.add_argument(
        "--settle", type=float, default=1.0, help="idle seconds after ready before the idle memory"
    )
    ap.add_argument(
        "--no-load", action="store_true", help="only cold start, memory and stop (no load phases)"
    )
    ap.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run ours from its live working tree instead of a copy frozen at the start of the run",
    )
    ap.add_argument("--start-timeout", type=float, default=60.0)
    ap.add_argument(
        "--stop-grace", type=float, default=5.0, help="seconds after SIGTERM before the group is killed"
    )
    ap.add_argument("--venvs", default=os.environ.get("BENCH_VENVS", os.path.join(HERE, ".venvs")))
    ap.add_argument("--ours-venv", default=os.environ.get("OURS_VENV", os.path.join(ROOT, ".venv")))
    ap.add_argument("--out", default=None, help="results folder (default bench/results/<timestamp>)")
    ap.add_argument(
        "--needs", action="store_true", help="print the setup.sh components the selection needs, exit"
    )
    a = ap.parse_args(argv)
    a.rounds = a.rounds if a.rounds is not None else (1 if a.quick else 3)
    a.duration = a.duration if a.duration is not None else (3.0 if a.quick else 15.0)
    a.warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 3.0)
    a.phases = () if a.no_load else QUICK_PHASES if a.quick else PHASES
    return a


def select(a: argparse.Namespace) -> list[System]:
    systems = all_systems(a.venvs, a.ours_venv)
    if not a.systems:
        return [s for s in systems if s.quick] if a.quick else systems
    by = {s.name: s for s in systems}
    want = [w.strip() for w in a.systems.split(",") if w.strip()]
    missing = [w for w in want if w not in by]
    if missing:
        sys.exit(f"unknown systems {missing}; known: {', '.join(by)}")
    return [by[w] for w in want]


OURS_PACKAGES = ("seldon_wrapper", "seldon_core")


def snapshot_ours(out: str, ours_venv: str) -> dict:
    """Freeze ours' code for the whole run: ours' venv is an editable install of a working tree
    that may change while a run lasts (25 min), so its packages are copied into OUT/ours-src,
    byte-compiled (like an installed package), and put first on ours' PYTHONPATH."""
    dest = os.path.join(out, "ours-src")
    for pkg in OURS_PACKAGES:
        if os.path.isdir(os.path.join(ROOT, pkg)):
            shutil.copytree(
                os.path.join(ROOT, pkg),
                os.path.join(dest, pkg),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
    digest = hashlib.sha256()
    for dirpath, dirnames, files in os.walk(dest):
        dirnames.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            digest.update(os.path.relpath(path, dest).encode() + b"\0" + open(path, "rb").read())
    py = os.path.join(ours_venv, "bin", "python")
    subprocess.run([py, "-m", "compileall", "-q", dest], check=True)
    env = dict(os.environ, PYTHONPATH=dest)
    probe = subprocess.run(
        [py, "-c", "import seldon_wrapper; print(seldon_wrapper.__file__)"],
        env=env,
        cwd=os.path.join(MODELS, "seldon"),  # where ours runs (`python -c` puts the cwd first)
        capture_output=True,
        text=True,
    )
    where = probe.stdout.strip()
    if not where.startswith(dest):
        sys.exit(f"ours' snapshot is not what its python imports ({where or probe.stderr[-300:]})")
    return {"path": dest, "sha256": digest.hexdigest()[:16], "git": git_state()}


def git_state() -> str:
    """Commit of the working tree ours runs from (an editable install), and whether it is dirty."""

    def git(*args: str) -> str:
        p = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)
        return p.stdout.strip()

    dirty = git("status", "--porcelain", "--", *OURS_PACKAGES, "setup.py")
    return (git("rev-parse", "--short", "HEAD") or "?") + (" + uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    systems = select(a)
    if a.needs:
        print(" ".join(sorted({n for s in systems for n in s.needs})))
        return 0
    signal.signal(signal.SIGTERM, _on_signal)
    out = a.out or os.path.join(HERE, "results", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    bodies = payloads.write(os.path.join(out, "payloads"))
    ours = None
    a.ours_src = None
    if not a.no_snapshot and any(s.role == "ours" for s in systems):
        ours = snapshot_ours(out, a.ours_venv)
        a.ours_src = ours["path"]
        log(f"ours: code of git {ours['git']} frozen in {ours['path']} (sha256 {ours['sha256']})")
    freezes = {}
    for name in ("orig", "mlserver", "client"):
        path = os.path.join(a.venvs, name, "freeze.txt")
        if os.path.exists(path):
            freezes[name] = [
                ln
                for ln in open(path).read().split()
                if ln.lower().startswith(
                    (
                        "seldon-core==",
                        "mlserver==",
                        "uvloop==",
                        "grpcio==",
                        "protobuf==",
                        "numpy==",
                        "flask==",
                        "gunicorn==",
                        "fastapi==",
                        "uvicorn==",
                        "psutil==",
                    )
                )
            ]
    ours_freeze = subprocess.run(
        [os.path.join(a.ours_venv, "bin", "pip"), "freeze"], capture_output=True, text=True
    ).stdout.split()
    freezes["ours"] = [
        ln
        for ln in ours_freeze
        if ln.lower().startswith(("grpcio==", "protobuf==", "numpy==", "flask==", "gunicorn==", "orjson=="))
    ]
    meta = {
        "argv": sys.argv,
        "args": {k: v for k, v in vars(a).items()},
        "start": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "uname": " ".join(os.uname()),
        "loadavg_start": os.getloadavg(),
        "systems": [s.name for s in systems],
        "labels": {s.name: s.label for s in systems},
        "roles": {s.name: s.role for s in systems},
        "versions": freezes,
        "python": sys.version.split()[0],
        "ours_git": ours["git"] if ours else git_state() + " (live tree, no snapshot)",
        "ours_src_sha256": ours["sha256"] if ours else None,
    }
    raw = open(os.path.join(out, "raw.jsonl"), "w")
    log(
        f"results -> {out}; {len(systems)} systems x {a.rounds} round(s), {a.duration:g} s phases, "
        f"load average {os.getloadavg()}"
    )
    try:
        for rnd in range(1, a.rounds + 1):
            for s in systems:
                rec = bench_system(s, rnd, a, out, bodies)
                rec["loadavg"] = os.getloadavg()
                raw.write(json.dumps(rec) + "\n")
                raw.flush()
    except KeyboardInterrupt:
        log("interrupted; stopping servers")
        return 130
    finally:
        _stop_everything()
        raw.close()
        meta["end"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        meta["loadavg_end"] = os.getloadavg()
        with open(os.path.join(out, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
    log(f"done -> {out}/raw.jsonl")
    print(f"BENCH_OUT {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
