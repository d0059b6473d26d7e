"""Inference-graph benchmark: a three-node chain under ``seldon-core-executor`` against the same
model served alone, REST and gRPC, in the same run.

    bench/.venvs/client/bin/python bench/graph.py [--duration 10] [--connections 16]

The model is bench/models/seldon/MyModel.py (identity ``predict``; its missing
``transform_input``/``transform_output`` pass the message through, as the original's did). The
chain is TRANSFORMER -> MODEL -> OUTPUT_TRANSFORMER, each node that class as a local
``--component`` of the executor; "single" is one ``seldon-core-microservice MyModel`` (ours'
defaults). Both run from a frozen copy of the working tree (as bench.py does). For each
(system, transport): closed-loop load with N callers (throughput, p50/p99) and with 1 caller
(latency), the CPU seconds each process tree used per request (the executor's own, the nodes'),
so the table says where the time goes. Over gRPC the same load also meets the stack's ceiling
(unless ``--no-ceiling``): bench.py's raw-bytes gRPC echo server alone, and three of them behind
``grpc_echo.py --mode proxy`` (a bare grpc.aio proxy making the three calls and nothing else), which
says what chain/single this stack allows on this machine at all. Writes
bench/results/graph-<timestamp>/{RESULTS.md, raw.json, logs/}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import psutil  # noqa: E402

import bench  # noqa: E402 - the harness's helpers (wrk, gRPC client, process control)

MODEL_DIR = os.path.join(HERE, "models", "seldon")
BODY = b'{"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}'
NODES = ("t", "m", "o")
GRAPH = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: bench
spec:
  predictors:
    - name: default
      graph:
        name: t
        type: TRANSFORMER
        children:
          - name: m
            type: MODEL
            children:
              - name: o
                type: OUTPUT_TRANSFORMER
"""


def _env(src: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "ENGINE_"))}
    env["PYTHONPATH"] = src
    return env


def _wait(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready in {seconds}s")


class Ours:
    """Our server's process tree (the executor with its components, or one microservice)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc

    def cpu(self) -> dict[str, float]:
        return split_cpu(self.proc)

    def stop(self) -> None:
        bench.stop_tree(self.proc, 20)


def start_single(ours_venv: str, src: str, logs: str) -> tuple[Ours, dict]:
    http, grpc_port, metrics = bench.free_ports(3)
    cmd = [os.path.join(ours_venv, "bin", "seldon-core-microservice"), "MyModel", "--host", bench.HOST,
           "--http-port", str(http), "--grpc-port", str(grpc_port),
           "--metrics-port", str(metrics)]  # fmt: skip
    log = open(os.path.join(logs, "single.log"), "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=MODEL_DIR, env=_env(src), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    bench.LIVE[proc.pid] = proc
    _wait(f"http://{bench.HOST}:{http}/health/status", proc)
    where = {"rest": f"http://{bench.HOST}:{http}/api/v1.0/predictions", "grpc": f"{bench.HOST}:{grpc_port}",
             "api": "v1"}  # fmt: skip
    return Ours(proc), where


#: The chain's executor configurations: its defaults (one REST worker process running an event
#: loop), and two such workers.
CHAINS = {"chain": [], "chain-w2": ["--rest_workers", "2"]}


def start_chain(
    ours_venv: str, src: str, out: str, logs: str, name: str, extra: list[str]
) -> tuple[Ours, dict]:
    http, grpc_port = bench.free_ports(2)
    graph = os.path.join(out, "graph.yaml")
    with open(graph, "w") as handle:
        handle.write(GRAPH)
    cmd = [os.path.join(ours_venv, "bin", "seldon-core-executor"), "--sdep", "bench", "--namespace", "bench",
           "--predictor", "default", "--file", graph, "--host", bench.HOST, "--http_port", str(http),
           "--grpc_port", str(grpc_port), *extra]  # fmt: skip
    for node in NODES:
        cmd += ["--component", f"{node}={MODEL_DIR}:MyModel"]
    log = open(os.path.join(logs, f"{name}.log"), "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=out, env=_env(src), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    bench.LIVE[proc.pid] = proc
    _wait(f"http://{bench.HOST}:{http}/ready", proc)
    where = {"rest": f"http://{bench.HOST}:{http}/api/v1.0/predictions", "grpc": f"{bench.HOST}:{grpc_port}",
             "api": "v1-graph"}  # fmt: skip
    return Ours(proc), where


RAW_DIR = os.path.join(HERE, "models", "raw")


class Group:
    """Processes started together (the ceiling's proxy and echo servers), stopped together;
    ``own`` is the proxy, the rest are its nodes."""

    def __init__(self, own: subprocess.Popen | None, nodes: list[subprocess.Popen]) -> None:
        self.own = own
        self.nodes = nodes

    def cpu(self) -> dict[str, float]:
        def used(procs: list[subprocess.Popen]) -> float:
            total = 0.0
            for proc in procs:
                try:
                    times = psutil.Process(proc.pid).cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
            return total

        return {"own": used([self.own] if self.own else []), "nodes": used(self.nodes)}

    def stop(self) -> None:
        for proc in ([self.own] if self.own else []) + self.nodes:
            bench.stop_tree(proc, 5)


def _start_raw(script: str, args: list[str], logs: str, name: str, port: int) -> subprocess.Popen:
    log = open(os.path.join(logs, f"{name}.log"), "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, script, "--addr", f"{bench.HOST}:{port}", *args], cwd=RAW_DIR,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    bench.LIVE[proc.pid] = proc
    deadline = time.monotonic() + 30
    while not bench.port_open(bench.HOST, port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start (see {logs}/{name}.log)")
        time.sleep(0.05)
    return proc


def start_ceiling(chain: bool, logs: str) -> tuple[Group, dict]:
    """The stack's ceiling over gRPC: one raw-bytes echo server (bench.py's gRPC ceiling: sync
    grpc.server, one thread) alone, or three behind its proxy mode (a grpc.aio front door
    calling them in turn over kept channels; nothing but the three calls)."""
    count = len(NODES) if chain else 1
    ports = bench.free_ports(count + 1)
    echoes = [_start_raw("grpc_echo.py", ["--mode", "sync", "--threads", "1"], logs, f"echo-{i}", port)
              for i, port in enumerate(ports[:count])]  # fmt: skip
    if not chain:
        return Group(None, echoes), {"grpc": f"{bench.HOST}:{ports[0]}", "api": "v1"}
    targets = [arg for port in ports[:count] for arg in ("--to", f"{bench.HOST}:{port}")]
    proxy = _start_raw("grpc_echo.py", ["--mode", "proxy", *targets], logs, "proxy", ports[-1])
    return Group(proxy, echoes), {"grpc": f"{bench.HOST}:{ports[-1]}", "api": "v1-graph"}


def split_cpu(proc: subprocess.Popen) -> dict[str, float]:
    """CPU seconds so far of the executor's own processes and of its component processes."""
    own, nodes = 0.0, 0.0
    for process in bench.tree(proc.pid):
        try:
            times = process.cpu_times()
            cmdline = " ".join(process.cmdline())
        except psutil.Error:
            continue
        used = times.user + times.system
        if "seldon_wrapper.cli" in cmdline or "seldon-core-microservice" in cmdline:
            nodes += used
        else:
            own += used
    return {"own": own, "nodes": nodes}


def load(transport: str, where: dict, callers: int, seconds: float, body_file: str, loadlog) -> dict:
    if transport == "rest":
        bench.run_wrk(where["rest"], body_file, callers, 2, loadlog)  # warm-up
        return bench.run_wrk(where["rest"], body_file, callers, seconds, loadlog)
    return bench.run_grpc_client(where["api"], where["grpc"], "MyModel", seconds, callers, 200, loadlog)


def measure(proc: Ours | Group, transport: str, where: dict, callers: int, seconds: float,
            body_file: str, loadlog) -> dict:  # fmt: skip
    before = proc.cpu()
    result = load(transport, where, callers, seconds, body_file, loadlog)
    after = proc.cpu()
    requests = result.get("requests") or 0
    if requests:
        result["cpu_ms_own"] = (after["own"] - before["own"]) * 1000 / requests
        result["cpu_ms_nodes"] = (after["nodes"] - before["nodes"]) * 1000 / requests
    return result


def table(rows: list[dict]) -> str:
    by = {(r["system"], r["transport"], r["callers"]): r for r in rows}
    lines = [
        "| transport | executor | single rps | chain rps | chain/single | p50 1 caller: single / chain ms "
        "| added per hop ms | chain CPU ms/req: executor / nodes | single CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for transport in ("rest", "grpc"):
        if not any(row["transport"] == transport for row in rows):
            continue  # not measured in this run (--transports)
        for chain_name in (*CHAINS, "ceiling-chain") if transport == "grpc" else CHAINS:
            alone = "ceiling" if chain_name == "ceiling-chain" else "single"
            keys = [(alone, transport, "N"), (chain_name, transport, "N"), (alone, transport, 1),
                    (chain_name, transport, 1)]  # fmt: skip
            single, chain, single1, chain1 = (by.get(key, {}) for key in keys)
            if chain_name == "ceiling-chain":
                if not single and not chain:
                    continue
                label = "stack ceiling: raw echo, bare proxy"
            else:
                label = "defaults" if not CHAINS[chain_name] else " ".join(CHAINS[chain_name])
            if not all("rps" in row for row in (single, chain, single1, chain1)):
                lines.append(f"| {transport} | {label} | error | error | | | | | |")
                continue
            per_hop = (chain1["lat_p50_ms"] - single1["lat_p50_ms"]) / len(NODES)
            lines.append(
                f"| {'REST' if transport == 'rest' else 'gRPC'} | {label} | {single['rps']:,.0f} | "
                f"{chain['rps']:,.0f} | {chain['rps'] / single['rps']:.2f} | "
                f"{single1['lat_p50_ms']:.2f} / {chain1['lat_p50_ms']:.2f} | "
                f"{per_hop:.2f} | {chain.get('cpu_ms_own', 0):.3f} / {chain.get('cpu_ms_nodes', 0):.3f} | "
                f"{single.get('cpu_ms_nodes', 0) + single.get('cpu_ms_own', 0):.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--connections", type=int, default=16, help="callers of the throughput runs")
    parser.add_argument("--ours-venv", default=os.environ.get("OURS_VENV", os.path.join(bench.ROOT, ".venv")))
    parser.add_argument("--transports", default="rest,grpc", help="comma-separated: rest, grpc")
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip the gRPC stack ceiling (raw echo, bare proxy)"
    )
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "graph-" + time.strftime("%Y%m%d-%H%M%S"))
    )
    args = parser.parse_args(argv)
    logs = os.path.join(args.out, "logs")
    os.makedirs(logs, exist_ok=True)
    src = bench.snapshot_ours(args.out, args.ours_venv)
    body_file = os.path.join(args.out, "body.json")
    with open(body_file, "wb") as handle:
        handle.write(BODY)
    rows: list[dict] = []
    with open(os.path.join(logs, "load.log"), "w") as loadlog:
        transports = args.transports.split(",")
        ceilings = ("ceiling", "ceiling-chain") if "grpc" in transports and not args.no_ceiling else ()
        for system in ("single", *CHAINS, *ceilings):
            if system == "single":
                proc, where = start_single(args.ours_venv, src["path"], logs)
            elif system in CHAINS:
                proc, where = start_chain(args.ours_venv, src["path"], args.out, logs, system, CHAINS[system])
            else:
                proc, where = start_ceiling(system == "ceiling-chain", logs)
            try:
                for transport in transports if system not in ceilings else ("grpc",):
                    for callers in (args.connections, 1):
                        result = measure(proc, transport, where, callers, args.duration, body_file, loadlog)
                        label = "N" if callers == args.connections else 1
                        rows.append({"system": system, "transport": transport, "callers": label, **result})
                        bench.log(
                            f"{system} {transport} c={callers}: {result.get('rps', result.get('error'))} rps"
                        )
            finally:
                proc.stop()
    text = (
        f"# Inference graph, {time.strftime('%Y-%m-%d %H:%M')}\n\n"
        f"ours {src['git']} (snapshot {src['sha256']}); identity MyModel; chain = executor + "
        f"{len(NODES)} local components (TRANSFORMER -> MODEL -> OUTPUT_TRANSFORMER); "
        f"{args.connections} callers for throughput, 1 for latency; {args.duration:g} s per run. "
        "'added per hop' = (chain p50 - single p50) / 3.\n\n" + table(rows) + "\n"
    )
    with open(os.path.join(args.out, "RESULTS.md"), "w") as handle:
        handle.write(text)
    with open(os.path.join(args.out, "raw.json"), "w") as handle:
        json.dump(rows, handle, indent=1)
    print(text)
    print(f"results: {args.out}/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
