#!/usr/bin/env bash
# hyper's hello-world on weft (weft-hyper-examples/examples/hello_hyper.rs) beside hyper on tokio's
# current-thread runtime (weft-bench/src/bin/hello_hyper_tokio.rs), under wrk.
#
#   weft-bench/hyper.sh                       # -c64 and -c512, 5 s each, 3 rounds
#   ROUNDS=1 DURATION=2s weft-bench/hyper.sh  # quicker
#
# Each server is pinned to one CPU (SERVER_CPU, default 1) and wrk to another (WRK_CPU,
# default 0) with taskset; runs alternate weft, tokio, weft, tokio... so that load from
# elsewhere on the machine hits both alike. For each run: requests per second as wrk
# counts them, and the server's CPU time per request (user + system of all its threads,
# from /proc/PID/task/*/schedstat, over the measured run only; a 1 s warm-up run comes
# first). A run with non-2xx responses or socket errors other than wrk's own end-of-run
# timeouts is reported and fails the script.
#
# Output: one line per run on stderr, then a markdown table of medians on stdout.
#
# SYSCALLS=1 adds, per runtime, the system calls per request under `wrk -t1 -c64 -d2s`
# counted by `strace -f -c` (slow, but the count does not depend on how loaded the machine
# is, which the timings on a shared machine do).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-5s}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-64 512}"
SERVER_CPU="${SERVER_CPU:-1}"
WRK_CPU="${WRK_CPU:-0}"

for tool in wrk taskset; do
    command -v "$tool" >/dev/null || { echo "hyper.sh: $tool not found (apt-get install wrk util-linux)" >&2; exit 1; }
done

cargo build --release --quiet -p weft-hyper-examples --example hello_hyper
cargo build --release --quiet -p weft-bench --bin hello_hyper_tokio
declare -A BIN=([weft]=target/release/examples/hello_hyper [tokio]=target/release/hello_hyper_tokio)
# RUNTIMES="weft tokio other" with BIN_other=path adds a third server (e.g. a build of weft
# with a change under test); the table compares each runtime with tokio.
RUNTIMES="${RUNTIMES:-weft tokio}"
for rt in $RUNTIMES; do
    var="BIN_$rt"
    if [[ -n "${!var:-}" ]]; then BIN[$rt]="${!var}"; fi
    [[ -x "${BIN[$rt]:-}" ]] || { echo "hyper.sh: no server binary for $rt (set BIN_$rt)" >&2; exit 1; }
done

# Enough descriptors for -c512 plus the listener.
ulimit -n "$(( $(ulimit -Hn) < 4096 ? $(ulimit -Hn) : 4096 ))" 2>/dev/null || true

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# CPU time of every thread of $1, in nanoseconds.
cpu_ns() {
    local total=0 t
    for f in /proc/"$1"/task/*/schedstat; do
        read -r t _ < "$f" || continue
        total=$(( total + t ))
    done
    echo "$total"
}

start_server() { # name -> sets server_pid and addr
    : > "$tmp/out"
    taskset -c "$SERVER_CPU" "${BIN[$1]}" --addr 127.0.0.1:0 > "$tmp/out" 2> "$tmp/err" &
    server_pid=$!
    for _ in $(seq 100); do
        addr="$(sed -n 's/^listening on //p' "$tmp/out")"
        [[ -n "$addr" ]] && return 0
        sleep 0.05
    done
    echo "hyper.sh: $1 server did not start: $(cat "$tmp/err")" >&2
    exit 1
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

results="$tmp/results"
: > "$results"
failed=0
for round in $(seq "$ROUNDS"); do
    for c in $CONNS; do
        for rt in $RUNTIMES; do
            start_server "$rt"
            taskset -c "$WRK_CPU" wrk -t1 -c"$c" -d1s "http://$addr/" > /dev/null
            before="$(cpu_ns "$server_pid")"
            out="$(taskset -c "$WRK_CPU" wrk -t1 -c"$c" -d"$DURATION" "http://$addr/")"
            after="$(cpu_ns "$server_pid")"
            stop_server
            reqs="$(awk '/requests in/ {print $1}' <<< "$out")"
            rps="$(awk '/Requests\/sec/ {print $2}' <<< "$out")"
            us="$(awk -v a="$before" -v b="$after" -v n="$reqs" 'BEGIN { printf "%.2f", (b - a) / 1000 / n }')"
            bad="$(grep -E 'Non-2xx|Socket errors' <<< "$out" | grep -v 'connect 0, read 0, write 0' || true)"
            if grep -q 'Non-2xx' <<< "$bad" || grep -Eq 'connect [1-9]|read [1-9]|write [1-9]' <<< "$bad"; then
                echo "hyper.sh: $rt -c$c: $bad" >&2
                failed=1
            fi
            echo "round $round  $rt  -c$c  $rps req/s  $us us CPU/req  ${bad:+($bad)}" >&2
            echo "$rt $c $rps $us" >> "$results"
        done
    done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "hyper hello-world, \`wrk -t1 -cN -d$DURATION\`, server pinned to one CPU; medians of $ROUNDS rounds"
echo
echo "| connections | runtime | req/s | vs tokio | server CPU µs/req |"
echo "|---|---|---|---|---|"
for c in $CONNS; do
    tr="$(awk -v c="$c" '$1 == "tokio" && $2 == c { print $3 }' "$results" | median)"
    for rt in $RUNTIMES; do
        r="$(awk -v rt="$rt" -v c="$c" '$1 == rt && $2 == c { print $3 }' "$results" | median)"
        cpu="$(awk -v rt="$rt" -v c="$c" '$1 == rt && $2 == c { print $4 }' "$results" | median)"
        ratio="$(awk -v a="$r" -v b="$tr" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
        echo "| $c | $rt | $r | $ratio | $cpu |"
    done
done

if [[ "${SYSCALLS:-0}" == 1 ]]; then
    command -v strace >/dev/null || { echo "hyper.sh: strace not found" >&2; exit 1; }
    echo
    echo "| runtime | requests | syscalls/request | of which reads | writes | waits |"
    echo "|---|---|---|---|---|---|"
    for rt in $RUNTIMES; do
        start_server "$rt"
        wrk -t1 -c64 -d1s "http://$addr/" > /dev/null
        strace -f -c -o "$tmp/strace" -p "$server_pid" 2> /dev/null &
        strace_pid=$!
        sleep 0.5
        reqs="$(wrk -t1 -c64 -d2s "http://$addr/" | awk '/requests in/ {print $1}')"
        sleep 0.2
        kill -INT "$strace_pid"
        wait "$strace_pid" 2>/dev/null || true
        stop_server
        awk -v r="$reqs" -v rt="$rt" '
            $NF == "total" { total = $4 }
            $NF ~ /^(read|recvfrom|recvmsg|readv)$/ { rd += $4 }
            $NF ~ /^(write|writev|sendto|sendmsg)$/ { wr += $4 }
            $NF ~ /^(epoll_wait|epoll_pwait|epoll_pwait2|poll|ppoll)$/ { wt += $4 }
            END { printf "| %s | %d | %.2f | %.2f | %.2f | %.2f |\n", rt, r, total / r, rd / r, wr / r, wt / r }
        ' "$tmp/strace"
    done
fi
exit "$failed"
