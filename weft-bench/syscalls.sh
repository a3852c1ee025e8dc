#!/usr/bin/env bash
# System calls per echo message at C = 64 for each server (weft, tokio, smol,
# epoll-ref): the server runs under `strace -f -c` for 20,000 round trips and
# the total count (start-up included) is divided by the messages.
#
#   weft-bench/syscalls.sh [ARGS]      # ARGS go to weft-bench (e.g. --markdown-out F)
#
# Installs strace with apt-get when it is missing.
# WEFT_BENCH_COUNT_CONNS=N and WEFT_BENCH_COUNT_MSGS=M count at C = N over M
# round trips instead (e.g. 1000 and 200000).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v strace >/dev/null; then
    echo "syscalls.sh: installing strace" >&2
    apt-get update -qq && apt-get install -y -qq strace >/dev/null
fi
exec weft-bench/run.sh --only syscalls --rounds 1 "$@"
