#!/usr/bin/env bash
# Create (once) what the benchmark needs; idempotent, safe to re-run.
#
#   bench/setup.sh [wrk] [ours] [client] [orig] [mlserver]    (default: all five)
#
#   wrk       apt-get update && apt-get install -y wrk   (only if `wrk` is not on PATH; needs root)
#   ours      .venv in the repo via `make install` (only if missing; OURS_VENV overrides the path)
#   client    bench/.venvs/client   : load client + orchestrator (psutil, grpcio, protobuf)
#   orig      bench/.venvs/orig     : seldon-core 1.19.0 on Python 3.11 (--ignore-requires-python)
#   mlserver  bench/.venvs/mlserver : MLServer 1.7.1 (+ uvloop<0.22, see README)
#
# A venv is rebuilt when its requirement line changes (stamp file .bench-req in the venv) or
# with FORCE=1. BENCH_VENVS moves the venv folder (e.g. to a CI cache path).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
VENVS="${BENCH_VENVS:-$HERE/.venvs}"
PY311="${PY311:-$(command -v python3.11 || true)}"
OURS_VENV="${OURS_VENV:-$ROOT/.venv}"

# requirement lines (the stamp); keep in sync with the README
REQ_CLIENT="psutil==7.2.2 grpcio==1.85.1 protobuf==6.33.6"
REQ_ORIG="seldon-core==1.19.0"
REQ_MLSERVER="mlserver==1.7.1 uvloop<0.22"

log() { echo "[setup $(date +%H:%M:%S)] $*" >&2; }

need_py() {
  [ -n "$PY311" ] || { log "python3.11 not found (set PY311=/path/to/python3.11)"; exit 1; }
}

# mkvenv NAME "REQUIREMENTS" [extra pip flags...]
mkvenv() {
  local dir="$VENVS/$1" req="$2"; shift 2
  if [ -x "$dir/bin/python" ] && [ -z "${FORCE:-}" ] && [ "$(cat "$dir/.bench-req" 2>/dev/null)" = "$req" ]; then
    return 0
  fi
  need_py
  log "creating $dir ($req)"
  local t0=$SECONDS
  rm -rf "$dir"
  "$PY311" -m venv "$dir"
  # (the grep drops the warnings of this box's find-links config about missing local folders)
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" $req 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  "$dir/bin/pip" freeze --all > "$dir/freeze.txt"
  echo "$req" > "$dir/.bench-req"
  log "created $dir in $((SECONDS - t0)) s"
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(wrk ours client orig mlserver)
for w in "${want[@]}"; do
  case "$w" in
    wrk)
      if ! command -v wrk >/dev/null; then
        log "installing wrk with apt-get"
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
      fi ;;
    ours)
      if [ ! -x "$OURS_VENV/bin/seldon-core-microservice" ]; then
        log "creating $OURS_VENV with make install"
        make -C "$ROOT" install VENV="$OURS_VENV"
      fi ;;
    client) mkvenv client "$REQ_CLIENT" ;;
    # seldon-core 1.19.0 declares Requires-Python >=3.12; on 3.11 plain pip silently picks
    # 1.18.2, so the flag is needed to measure 1.19.0 (it runs unchanged on 3.11).
    orig) mkvenv orig "$REQ_ORIG" --ignore-requires-python ;;
    # MLServer 1.7.1 with today's uvloop (>=0.22) cannot start its default inference worker
    # ("There is no current event loop in thread 'MainThread'"), hence the uvloop pin.
    mlserver) mkvenv mlserver "$REQ_MLSERVER" ;;
    *) log "unknown component: $w"; exit 2 ;;
  esac
done
