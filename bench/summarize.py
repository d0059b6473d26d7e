#!/usr/bin/env python3
"""Turn one bench.py run (OUT/raw.jsonl + OUT/meta.json) into ONE markdown table.

    summarize.py bench/results/<timestamp> [--write bench/results/<timestamp>/RESULTS.md]

Cells are medians over rounds. Ratio columns are ours / other, computed within each round
(systems of a round ran back to back) and then the median over rounds, with the min-max
range when there are several rounds. A phase with errors (wrk socket errors, non-2xx
responses, gRPC errors, a failed identity check) is left out of the medians and listed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys

ROLES = {
    "ours": "ours",
    "orig": "seldon-core 1.19.0",
    "mls": "MLServer 1.7.1 (default, parallel_workers=1)",
    "mls0": "MLServer parallel_workers=0",
    "ceil": "ceiling (bare stack)",
    "ceils": "bare app, gunicorn sync worker",
}
RATIO_ROLES = ("orig", "mls", "mls0", "ceil", "ceils")
NO_RATIO = {"mem_after_load.procs"}  # counts, not costs

# role -> (system, phase); phase None = a per-start value (memory, cold start)
V1_SMALL = {
    "ours": ("ours-w1", "v1_rest_small"),
    "orig": ("orig-w1", "v1_rest_small"),
    "mls": ("mlserver-pw1", "v2_rest_small"),
    "mls0": ("mlserver-pw0", "v2_rest_small"),
    "ceil": ("raw-wsgi-w1", "v1_rest_small"),
    "ceils": ("raw-wsgi-sync-w1", "v1_rest_small"),
}
V1_LARGE = {
    "ours": ("ours-w1", "v1_rest_large"),
    "orig": ("orig-w1", "v1_rest_large"),
    "mls": ("mlserver-pw1", "v2_rest_large"),
    "mls0": ("mlserver-pw0", "v2_rest_large"),
    "ceil": ("raw-wsgi-w1", "v1_rest_large"),
    "ceils": ("raw-wsgi-sync-w1", "v1_rest_large"),
}
V1_GRPC = {
    "ours": ("ours-w1", "v1_grpc"),
    "orig": ("orig-w1", "v1_grpc"),
    "mls": ("mlserver-pw1", "v2_grpc"),
    "mls0": ("mlserver-pw0", "v2_grpc"),
    "ceil": ("grpc-echo-sync1", "v1_grpc"),
}
V2_SMALL = {
    "ours": ("ours-w1", "v2_rest_small"),
    "mls": ("mlserver-pw1", "v2_rest_small"),
    "mls0": ("mlserver-pw0", "v2_rest_small"),
    "ceil": ("raw-wsgi-w1", "v1_rest_small"),
}
V2_LARGE = {
    "ours": ("ours-w1", "v2_rest_large"),
    "mls": ("mlserver-pw1", "v2_rest_large"),
    "mls0": ("mlserver-pw0", "v2_rest_large"),
    "ceil": ("raw-wsgi-w1", "v1_rest_large"),
}
V2_GRPC = {
    "ours": ("ours-w1", "v2_grpc"),
    "mls": ("mlserver-pw1", "v2_grpc"),
    "mls0": ("mlserver-pw0", "v2_grpc"),
    "ceil": ("grpc-echo-sync1", "v2_grpc"),
}
W2_SMALL = {
    "ours": ("ours-w2", "v1_rest_small"),
    "orig": ("orig-w2", "v1_rest_small"),
    "ceil": ("raw-wsgi-w2", "v1_rest_small"),
    "ceils": ("raw-wsgi-sync-w2", "v1_rest_small"),
}
# --workers 2 over --workers 1, per system, same round
SCALING = {
    "ours": ("ours-w2", "ours-w1"),
    "orig": ("orig-w2", "orig-w1"),
    "ceil": ("raw-wsgi-w2", "raw-wsgi-w1"),
    "ceils": ("raw-wsgi-sync-w2", "raw-wsgi-sync-w1"),
}
PER_START = {
    "ours": ("ours-w1", None),
    "orig": ("orig-w1", None),
    "mls": ("mlserver-pw1", None),
    "mls0": ("mlserver-pw0", None),
}

# (label, field, decimals, mapping); "↑" = higher is better, "↓" = lower is better
ROWS = [
    ("REST small rps ↑ (v1; MLServer: V2)", "rps", 0, V1_SMALL),
    ("REST small p50 / p99 ms ↓", ("lat_p50_ms", "lat_p99_ms"), 2, V1_SMALL),
    ("REST small server CPU ms/req ↓", "server_cpu_ms_per_req", 3, V1_SMALL),
    ("REST large (0.93 MB) rps ↑ (v1; MLServer: V2)", "rps", 1, V1_LARGE),
    ("REST large server CPU ms/req ↓", "server_cpu_ms_per_req", 1, V1_LARGE),
    ("gRPC small rps ↑ (Predict; MLServer: ModelInfer)", "rps", 0, V1_GRPC),
    ("gRPC small p50 / p99 ms ↓", ("lat_p50_ms", "lat_p99_ms"), 2, V1_GRPC),
    ("gRPC small server CPU ms/req ↓", "server_cpu_ms_per_req", 3, V1_GRPC),
    ("V2 REST small rps ↑", "rps", 0, V2_SMALL),
    ("V2 REST small p50 / p99 ms ↓", ("lat_p50_ms", "lat_p99_ms"), 2, V2_SMALL),
    ("V2 REST small server CPU ms/req ↓", "server_cpu_ms_per_req", 3, V2_SMALL),
    ("V2 REST large (0.93 MB) rps ↑", "rps", 1, V2_LARGE),
    ("V2 gRPC small rps ↑", "rps", 0, V2_GRPC),
    ("V2 gRPC small p50 / p99 ms ↓", ("lat_p50_ms", "lat_p99_ms"), 2, V2_GRPC),
    ("V2 gRPC small server CPU ms/req ↓", "server_cpu_ms_per_req", 3, V2_GRPC),
    ("REST small rps, --workers 2 ↑", "rps", 0, W2_SMALL),
    ("PSS after load MB ↓ (whole process tree)", "mem_after_load.pss_mb", 0, PER_START),
    ("processes", "mem_after_load.procs", 0, PER_START),
    ("cold start: launch → ready 200 s ↓", "cold_ready_s", 2, PER_START),
    ("launch → first REST inference s ↓", "cold_first_rest_s", 2, PER_START),
    ("launch → first gRPC inference s ↓", "cold_first_grpc_s", 2, PER_START),
]


def load(run: str) -> tuple[list[dict], dict]:
    with open(os.path.join(run, "raw.jsonl")) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    meta_path = os.path.join(run, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    return recs, meta


def phase_problem(ph: dict) -> str | None:
    if ph.get("error"):
        return ph["error"]
    bits = []
    if ph.get("errors"):
        bits.append(f"{ph['errors']} errors {ph.get('err_detail') or ph.get('error_sample') or ''}".strip())
    if ph.get("non2xx"):
        bits.append(f"{ph['non2xx']} non-2xx responses")
    if ph.get("check_error"):
        bits.append(f"identity check: {ph['check_error']}")
    return "; ".join(bits) or None


def value(rec: dict | None, phase: str | None, fld: str):
    if rec is None or (phase is None and rec.get("error")):
        return None
    cur = rec
    if phase is not None:
        cur = rec.get("phases", {}).get(phase)
        if not cur or phase_problem(cur):
            return None
    for key in fld.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur if isinstance(cur, (int, float)) and not isinstance(cur, bool) else None


def fmt(x: float | None, nd: int) -> str:
    if x is None:
        return "–"
    if nd == 0 or abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def rounds_of(recs: list[dict]) -> dict[int, dict[str, dict]]:
    """round -> system -> record."""
    by_round: dict[int, dict[str, dict]] = {}
    for r in recs:
        by_round.setdefault(r["round"], {})[r["system"]] = r
    return by_round


def table(recs: list[dict], meta: dict) -> str:
    by_round = rounds_of(recs)
    rounds = sorted(by_round)
    present = {r["system"] for r in recs}
    roles = [ro for ro in ROLES if any(m.get(ro, ("",))[0] in present for *_, m in ROWS)]
    ratio_roles = [ro for ro in RATIO_ROLES if ro in roles and "ours" in roles]

    def med_cell(role: str, mapping: dict, fld: str, nd: int) -> str:
        if role not in mapping:
            return "–"
        system, phase = mapping[role]
        xs = [v for rd in rounds if (v := value(by_round[rd].get(system), phase, fld)) is not None]
        return fmt(statistics.median(xs), nd) if xs else "–"

    def ratio_cell(role: str, mapping: dict, fld: str) -> str:
        if role not in mapping or "ours" not in mapping or fld in NO_RATIO:
            return "–"
        rs = []
        for rd in rounds:
            a = value(by_round[rd].get(mapping["ours"][0]), mapping["ours"][1], fld)
            b = value(by_round[rd].get(mapping[role][0]), mapping[role][1], fld)
            if a is not None and b:
                rs.append(a / b)
        if not rs:
            return "–"
        cell = f"{statistics.median(rs):.2f}×"
        return cell + (f" ({min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else "")

    head = [
        "metric (identity model)",
        *(ROLES[ro] for ro in roles),
        *(f"ours / {short(ro)}" for ro in ratio_roles),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, fld, nd, mapping in ROWS:
        if not any(mapping.get(ro, ("",))[0] in present for ro in roles):
            continue
        if isinstance(fld, tuple):
            cells = [
                " / ".join(med_cell(ro, mapping, f, nd) for f in fld) if ro in mapping else "–"
                for ro in roles
            ]
            ratios = [
                " / ".join(ratio_cell(ro, mapping, f).split(" ")[0] for f in fld) if ro in mapping else "–"
                for ro in ratio_roles
            ]
        else:
            cells = [med_cell(ro, mapping, fld, nd) for ro in roles]
            ratios = [ratio_cell(ro, mapping, fld) for ro in ratio_roles]
        if all(c in ("–", "– / –") for c in cells):
            continue
        lines.append("| " + " | ".join([label, *cells, *ratios]) + " |")
    return "\n".join(lines)


def short(role: str) -> str:
    return {
        "orig": "original",
        "mls": "MLServer",
        "mls0": "MLServer pw0",
        "ceil": "ceiling",
        "ceils": "sync-worker app",
    }[role]


def scaling(recs: list[dict]) -> str:
    """REST small rps with --workers 2 over --workers 1, within each round (the issue's target)."""
    by_round = rounds_of(recs)
    parts = []
    for role, (two, one) in SCALING.items():
        rs = []
        for systems in by_round.values():
            a = value(systems.get(two), "v1_rest_small", "rps")
            b = value(systems.get(one), "v1_rest_small", "rps")
            if a is not None and b:
                rs.append(a / b)
        if rs:
            spread = f" ({min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else ""
            cell = f"{statistics.median(rs):.2f}×{spread}"
            parts.append(f"{ROLES[role]} {cell}")
    if not parts:
        return ""
    return "Scaling, REST small rps `--workers 2` / `--workers 1` (same round): " + "; ".join(parts) + "."


def notes(recs: list[dict], meta: dict) -> str:
    out = []
    args = meta.get("args", {})
    if args:
        d, w = f"{args['duration']:g}", f"{args['warmup']:g}"
        out.append(
            f"Load: REST small `wrk -t1 -c{args['small_c']} -d{d}s` (after a {w} s warm-up), "
            f"REST large `wrk -t1 -c{args['large_c']} -d{d}s`, "
            f"gRPC `grpc_load.py -c {args['grpc_c']} -d {d}` (asyncio, one channel); "
            f"{args['rounds']} interleaved round(s); systems: {', '.join(meta.get('systems', []))}."
        )
    fc = [
        (r["round"], r["system"], ph, p["foreign_cpu_cores"])
        for r in recs
        for ph, p in r.get("phases", {}).items()
        if isinstance(p.get("foreign_cpu_cores"), (int, float))
    ]
    if fc:
        vals = sorted(x[3] for x in fc)
        noisy = [f"r{rd} {s} {ph} {v:.2f}" for rd, s, ph, v in fc if v > 0.2]
        out.append(
            f"Noise: foreign CPU (used by neither the server tree nor the load generator) per phase: median "
            f"{statistics.median(vals):.2f}, max {vals[-1]:.2f} cores of {meta.get('cpus', '?')}; "
            f"load average at start {fmt_load(meta.get('loadavg_start'))}, "
            f"at end {fmt_load(meta.get('loadavg_end'))}. "
            + (f"Phases above 0.2 cores: {'; '.join(noisy)}." if noisy else "No phase above 0.2 cores.")
        )
    problems = []
    for r in recs:
        if r.get("error"):
            problems.append(f"r{r['round']} {r['system']}: {r['error']}")
        for ph, p in r.get("phases", {}).items():
            if (msg := phase_problem(p)) is not None:
                problems.append(f"r{r['round']} {r['system']} {ph}: {msg}")
        for k in ("cold_rest_error", "cold_grpc_error"):
            if r.get(k):
                problems.append(f"r{r['round']} {r['system']} {k}: {r[k]}")
    out.append("Problems (left out of the medians): " + ("; ".join(problems) if problems else "none") + ".")
    stops = {}
    for r in recs:
        if r.get("stop"):
            stops.setdefault(r["system"], []).append(r["stop"]["graceful"])
    ungraceful = [f"{s} ({g.count(False)}/{len(g)})" for s, g in stops.items() if not all(g)]
    out.append(
        "Stop: every system exited on SIGTERM to its main PID."
        if not ungraceful
        else "Stop: did not exit on SIGTERM to the main PID within the grace period (process group killed): "
        + ", ".join(ungraceful)
        + "."
    )
    return "\n\n".join(out)


def fmt_load(x) -> str:
    return "/".join(f"{v:.2f}" for v in x) if x else "?"


def render(run: str) -> str:
    recs, meta = load(run)
    cmd = " ".join(shlex.quote(x) for x in meta.get("argv", []))
    versions = "; ".join(f"{k}: {', '.join(v)}" for k, v in meta.get("versions", {}).items() if v)
    head = [
        f"## Benchmark {os.path.basename(os.path.abspath(run))}",
        "",
        f"Date: {meta.get('start', '?')} – {meta.get('end', '?')}. Machine: {meta.get('cpus', '?')} CPUs, "
        f"{meta.get('uname', '?')}. Loopback only (127.0.0.1).",
        "",
        f"Command: `{('bench/run.sh ' + meta.get('run_sh_args', '')).strip()}`" + f" (orchestrator: `{cmd}`)",
        "",
        f"Versions: {versions}." if versions else "",
        "",
        f"Ours: git {meta.get('ours_git', '?')}"
        + (f", code snapshot sha256 {meta['ours_src_sha256']}" if meta.get("ours_src_sha256") else "")
        + ".",
        "",
        "Cells: median over rounds. Ratios: ours / other within the same round, median (min–max) over "
        "rounds; for ↑ rows > 1 means ours is better, for ↓ rows < 1 means ours is better. "
        "Ceiling = the bare stack ours runs on (a bare WSGI app under gunicorn with ours' keep-alive "
        "worker for REST — also used for the V2 REST rows; a raw-bytes echo on a 1-thread sync "
        "grpc.server for gRPC). The sync-worker column is the same bare app under gunicorn's sync "
        "worker (what the original serves with; `Connection: close`, one TCP connection per request).",
        "",
    ]
    scale = scaling(recs)
    body = table(recs, meta) + "\n\n" + (scale + "\n\n" if scale else "") + notes(recs, meta)
    return "\n".join(head) + "\n" + body + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a bench.py results folder")
    ap.add_argument("--write", default=None, help="also write the markdown here")
    ap.add_argument("--run-sh-args", default=None, help="arguments given to run.sh (for the header)")
    a = ap.parse_args()
    if a.run_sh_args is not None:
        meta_path = os.path.join(a.run, "meta.json")
        meta = json.load(open(meta_path))
        meta["run_sh_args"] = a.run_sh_args
        json.dump(meta, open(meta_path, "w"), indent=1)
    text = render(a.run)
    print(text)
    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
        print(f"wrote {a.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
