"""Adaptive batching benchmark: ours with batching off and on, REST and gRPC, 1/8/64 callers.

    bench/.venvs/client/bin/python bench/batching.py [--duration 10] [--max-batch-size 64]

Each (transport, batching) pair starts ours once (frozen copy of the working tree, as
bench.py does) with bench/models/batching/VectorisedModel.py: about 2 ms of numpy work per
predict call plus a small per-row cost (BENCH_FIXED_MS). Then, for 1, 8 and 64 concurrent
closed-loop callers (wrk -c N on POST /api/v1.0/predictions; grpc_load.py -c N on
seldon.protos.Model/Predict), a warm-up and a measured run: throughput and p50/p99 latency.
Batching off is ours' default (one REST worker with one thread; one gRPC thread). BLAS
libraries are held to one thread so the fixed cost does not spread over both cores.
Writes bench/results/batching-<timestamp>/{RESULTS.md,raw.json,logs/}.
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

import bench  # noqa: E402 - the harness's helpers (wrk, gRPC client, process control)

MODEL_DIR = os.path.join(HERE, "models", "batching")
BODY = b'{"data":{"ndarray":[[1.0,2.0,3.0,4.0]]}}'
CALLERS = (1, 8, 64)
ROUNDS = 1  # set by calibrate()
ONE_THREAD_BLAS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def calibrate(ours_venv: str) -> int:
    """The model's rounds of work for ~2 ms, measured once so every server does the same work."""
    code = "import VectorisedModel as m; v = m.VectorisedModel(); v.load(); print(v.rounds)"
    env = dict(os.environ, **ONE_THREAD_BLAS)
    env.pop("BENCH_FIXED_ROUNDS", None)
    out = subprocess.run(
        [os.path.join(ours_venv, "bin", "python"), "-c", code],
        cwd=MODEL_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def start(ours_venv: str, src: str, batch: int, logs: str, label: str) -> tuple[subprocess.Popen, dict]:
    http, grpc_port, metrics = bench.free_ports(3)
    cmd = [
        os.path.join(ours_venv, "bin", "seldon-core-microservice"),
        "VectorisedModel",
        "--host",
        bench.HOST,
        "--http-port",
        str(http),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        str(metrics),
    ]
    if batch > 1:
        cmd += ["--max-batch-size", str(batch)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREDICTIVE_UNIT", "SELDON_"))}
    env.update(ONE_THREAD_BLAS, PYTHONPATH=src, BENCH_FIXED_ROUNDS=str(ROUNDS))
    log = open(os.path.join(logs, f"{label}.log"), "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd, cwd=MODEL_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    bench.LIVE[proc.pid] = proc
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{bench.HOST}:{http}/health/status", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        raise SystemExit(f"{label}: not ready in 60 s (see {log.name})")
    return proc, {"rest": f"http://{bench.HOST}:{http}", "grpc": f"{bench.HOST}:{grpc_port}"}


def load(transport: str, where: dict, callers: int, seconds: float, body_file: str, loadlog) -> dict:
    if transport == "rest":
        url = where["rest"] + "/api/v1.0/predictions"
        bench.run_wrk(url, body_file, callers, 2, loadlog)  # warm-up
        return bench.run_wrk(url, body_file, callers, seconds, loadlog)
    return bench.run_grpc_client("v1", where["grpc"], "VectorisedModel", seconds, callers, 2, loadlog)


def table(rows: list[dict]) -> str:
    lines = [
        "| transport | callers | off rps | on rps | on/off | off p50 / p99 ms | on p50 / p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    by = {(r["transport"], r["batch"] > 1, r["callers"]): r for r in rows}
    for transport in ("rest", "grpc"):
        for callers in CALLERS:
            off, on = by.get((transport, False, callers)), by.get((transport, True, callers))
            if not off or not on or "rps" not in off or "rps" not in on:
                lines.append(f"| {transport} | {callers} | error | error | | | |")
                continue
            lines.append(
                f"| {'REST' if transport == 'rest' else 'gRPC'} | {callers} | {off['rps']:,.0f} | "
                f"{on['rps']:,.0f} | {on['rps'] / off['rps']:.2f} | "
                f"{off['lat_p50_ms']:.2f} / {off['lat_p99_ms']:.2f} | "
                f"{on['lat_p50_ms']:.2f} / {on['lat_p99_ms']:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--ours-venv", default=os.environ.get("OURS_VENV", os.path.join(bench.ROOT, ".venv")))
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "batching-" + time.strftime("%Y%m%d-%H%M%S"))
    )
    args = parser.parse_args(argv)
    logs = os.path.join(args.out, "logs")
    os.makedirs(logs, exist_ok=True)
    src = bench.snapshot_ours(args.out, args.ours_venv)
    global ROUNDS
    ROUNDS = calibrate(args.ours_venv)
    body_file = os.path.join(args.out, "body.json")
    with open(body_file, "wb") as handle:
        handle.write(BODY)
    rows: list[dict] = []
    with open(os.path.join(logs, "load.log"), "w") as loadlog:
        for transport in ("rest", "grpc"):
            for batch in (0, args.max_batch_size):
                label = f"{transport}-batch{batch}"
                proc, where = start(args.ours_venv, src["path"], batch, logs, label)
                try:
                    for callers in CALLERS:
                        result = load(transport, where, callers, args.duration, body_file, loadlog)
                        row = {"transport": transport, "batch": batch, "callers": callers, **result}
                        rows.append(row)
                        bench.log(f"{label} c={callers}: {result.get('rps', result.get('error'))} rps")
                finally:
                    bench.stop_tree(proc, 10)
    text = (
        f"# Adaptive batching, {time.strftime('%Y-%m-%d %H:%M')}\n\n"
        f"ours {src['git']} (snapshot {src['sha256']}); VectorisedModel ({ROUNDS} rounds: ~2 ms per call, "
        "plus per row); "
        f"--max-batch-size {args.max_batch_size} (default --max-batch-time-ms); "
        f"{args.duration:g} s per run.\n\n" + table(rows) + "\n"
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
