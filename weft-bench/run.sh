#!/usr/bin/env bash
# Build weft-bench in release mode and run it pinned to one CPU.
#
#   weft-bench/run.sh                 # every workload, 3 rounds
#   weft-bench/run.sh --quick         # smoke run, a few seconds
#   weft-bench/run.sh --only spawn --rounds 5
#
# CPU 1 by default (CPU 0 takes most interrupts); set WEFT_BENCH_CPU to
# choose another. Arguments go to the binary (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p weft-bench
cpu="${WEFT_BENCH_CPU:-1}"
if command -v taskset >/dev/null; then
    exec taskset -c "$cpu" target/release/weft-bench "$@"
else
    echo "run.sh: taskset not found; pinning with --pin $cpu" >&2
    exec target/release/weft-bench --pin "$cpu" "$@"
fi
