#!/usr/bin/env bash
# User-space instructions per echo message at C = 64 for each server: the
# server runs under `valgrind --tool=callgrind` for 20,000 round trips and its
# total instruction count (start-up included) is divided by the messages.
# Slow (valgrind runs the server some 50x slower): a minute or two.
#
#   weft-bench/callgrind.sh [ARGS]     # ARGS go to weft-bench
#
# Installs valgrind with apt-get when it is missing. WEFT_BENCH_KEEP_CALLGRIND=1
# keeps each server's callgrind.out (its path goes to stderr) for callgrind_annotate.
# WEFT_BENCH_COUNT_CONNS=N and WEFT_BENCH_COUNT_MSGS=M count at C = N over M
# round trips instead; WEFT_BENCH_CALLGRIND_ARGS adds callgrind options, e.g.
# "--cache-sim=yes" for simulated cache misses (kept files show them).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    echo "callgrind.sh: installing valgrind" >&2
    apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
fi
exec weft-bench/run.sh --only callgrind --rounds 1 "$@"
