#!/usr/bin/env bash
# Instructions executed (valgrind callgrind "Ir"), not seconds: the same on a busy machine as on an
# idle one, so two versions of cdk-imds can be compared while other work shares the cores. It does not
# see memory effects (page faults, cache misses), which wall and CPU time in bench_check.py do.
#
#   bash bench/count_instructions.sh [ASSEMBLY] [OLD_COMMIT]
#
# Counts the floor, cdk-imds load only, load + check (bench/inprocess_check.py --gc-tuned, as the CLI
# loads) and the whole CLI; with OLD_COMMIT, the same for that commit's cdk_imds (extracted with git
# archive into bench/out/old-<commit>, put first on PYTHONPATH). Each run is preceded by an untimed one
# so that compiled modules are cached (bench/out/pycache). About 10 minutes on a busy 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSEMBLY=${1:-bench/out/assembly}
OLD=${2:-}
PYTHON=${PYTHON:-.venv/bin/python}
export PYTHONPYCACHEPREFIX="$PWD/bench/out/pycache"
unset PYTHONDONTWRITEBYTECODE

count() { # label, command...
  local label=$1
  shift
  "$@" >/dev/null 2>&1 || true # warm-up: page cache and .pyc files
  local ir
  # cdk-imds exits 1 when it finds errors, which this assembly has on purpose.
  ir=$( (valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true) | awk '/Collected/ {print $4}')
  printf '%-22s %15s\n' "$label" "$ir"
}

runs() { # prefix
  count "$1load" "$PYTHON" bench/inprocess_check.py --gc-tuned --load-only "$ASSEMBLY"
  count "$1load+check" "$PYTHON" bench/inprocess_check.py --gc-tuned "$ASSEMBLY"
  count "$1cli" "$PYTHON" -m cdk_imds check "$ASSEMBLY" --format json
}

count floor "$PYTHON" bench/floor_load.py "$ASSEMBLY"
runs ""
if [ -n "$OLD" ]; then
  tree="bench/out/old-$OLD"
  if [ ! -d "$tree" ]; then
    mkdir -p "$tree"
    git archive "$OLD" cdk_imds | tar -x -C "$tree"
  fi
  PYTHONPATH="$PWD/$tree" runs "$OLD "
fi
