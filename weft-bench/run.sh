#!/usr/bin/env bash
# Build weft-bench in release mode and run it pinned to one CPU.
#
#   weft-bench/run.sh                 # every workload, 3 rounds
#   weft-bench/run.sh --quick         # smoke run, a few seconds
#   weft-bench/run.sh --only spawn --rounds 5
#   weft-bench/run.sh --flavor multi --workers 2   # multi-thread runtimes
#
# CPU 1 by default (CPU 0 takes most interrupts); with --flavor multi and
# --workers N > 1, CPUs 0..N-1 (all of them if fewer are online). Set
# WEFT_BENCH_CPU to choose others (a taskset list: 1, 0,1, 0-3).
# Arguments go to the binary (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p weft-bench
multi=0
workers=""
prev=""
for a in "$@"; do
    case "$prev" in
        --flavor) if [ "$a" = multi ] || [ "$a" = multi_thread ]; then multi=1; else multi=0; fi ;;
        --workers) workers="$a" ;;
    esac
    case "$a" in
        --flavor=multi | --flavor=multi_thread) multi=1 ;;
        --flavor=*) multi=0 ;;
        --workers=*) workers="${a#--workers=}" ;;
    esac
    prev="$a"
done
cpu=1
if [ "$multi" = 1 ]; then
    # --workers defaults to the CPUs online, as in the binary.
    n="${workers:-$(getconf _NPROCESSORS_ONLN)}"
    case "$n" in '' | *[!0-9]*) n=1 ;; esac
    if [ "$n" -gt "$(getconf _NPROCESSORS_ONLN)" ]; then n="$(getconf _NPROCESSORS_ONLN)"; fi
    if [ "$n" -gt 1 ]; then cpu="0-$((n - 1))"; fi
fi
cpu="${WEFT_BENCH_CPU:-$cpu}"
if command -v taskset >/dev/null; then
    exec taskset -c "$cpu" target/release/weft-bench "$@"
else
    echo "run.sh: taskset not found; pinning with --pin $cpu" >&2
    exec target/release/weft-bench --pin "$cpu" "$@"
fi
