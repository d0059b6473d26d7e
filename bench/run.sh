#!/usr/bin/env bash
# One command: set up what is missing, benchmark, print and save ONE table.
#
#   bench/run.sh                          # full: every system, 3 interleaved rounds, 15 s phases
#   bench/run.sh --quick                  # CI: ours + MLServer (+ ceilings), V2 small, 1 round, 3 s
#   bench/run.sh --rounds 1 --systems ours-w1,orig-w1,mlserver-pw1
#
# Any other bench.py flag passes through (bench/.venvs/client/bin/python bench/bench.py -h).
# Results: bench/results/<timestamp>/{RESULTS.md,raw.jsonl,meta.json,bench.log,logs/}.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENVS="${BENCH_VENVS:-$HERE/.venvs}"
PY="$VENVS/client/bin/python"

"$HERE/setup.sh" wrk client
needs=$("$PY" "$HERE/bench.py" --needs "$@")
# shellcheck disable=SC2086
"$HERE/setup.sh" $needs

OUT="$HERE/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
echo "uptime before the run: $(uptime)" | tee "$OUT/bench.log"
"$PY" "$HERE/bench.py" --out "$OUT" "$@" > >(tee -a "$OUT/bench.log") 2>&1 &
BENCH_PID=$!
trap 'kill -TERM "$BENCH_PID" 2>/dev/null || true; wait "$BENCH_PID" || true' TERM INT
rc=0
wait "$BENCH_PID" || rc=$?
trap - TERM INT
"$PY" "$HERE/summarize.py" "$OUT" --write "$OUT/RESULTS.md" --run-sh-args="$*"
echo "results: $OUT/RESULTS.md (raw: raw.jsonl, server logs: logs/)"
exit "$rc"
