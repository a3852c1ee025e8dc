#!/usr/bin/env bash
# The default-flavour question (issue 7): echo and http on the
# current-thread runtimes, then the multi-thread ones with 1 and 2 workers,
# one round each in turn (current, multi 1, multi 2, current, ...) so that
# every flavour sees the same changes in the machine's load, then a table
# of the medians of weft's and tokio's server CPU per operation,
# throughput and p99 at each C.
#
#   weft-bench/flavours.sh                # 3 rounds, about 8 minutes on 2 CPUs
#   weft-bench/flavours.sh --rounds 5     # more rounds
#   weft-bench/flavours.sh --quick        # a smoke run (other ARGS go to run.sh)
#
# Each round is a separate `run.sh --only echo,http --rounds 1 --warmup 0`;
# the per-round tables are kept in a temporary folder until the end. The
# flavours' CPUs are run.sh's: CPU 1 for current and for 1 worker, CPUs
# 0..1 for 2 workers (the load generator then shares them).
set -euo pipefail
cd "$(dirname "$0")/.."
command="$*"
rounds=3
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --rounds=*) rounds="${1#--rounds=}"; shift ;;
        *) args+=("$1"); shift ;;
    esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release -p weft-bench
for r in $(seq 1 "$rounds"); do
    for flavour in current multi1 multi2; do
        case "$flavour" in
            current) f=() ;;
            multi1) f=(--flavor multi --workers 1) ;;
            multi2) f=(--flavor multi --workers 2) ;;
        esac
        echo "flavours.sh: $flavour, round $r of $rounds (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
        weft-bench/run.sh --only echo,http --rounds 1 --warmup 0 "${f[@]}" \
            ${args[@]+"${args[@]}"} > "$tmp/$flavour-$r.md"
    done
done
echo "Flavours compared by \`weft-bench/flavours.sh $command\` on $(date -u +%Y-%m-%d), $rounds rounds,"
echo "$(nproc) CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg). Medians, and the"
echo "smallest and largest round in parentheses."
echo
python3 - "$tmp" weft-bench <<'EOF'
import glob, os, re, statistics, sys

sys.path.insert(0, sys.argv[2])
from chart import table_rows

FLAVOURS = ["current", "multi1", "multi2"]
NAMES = {"current": "current", "multi1": "mt 1", "multi2": "mt 2"}
ROW = re.compile(r"c=\d+ (server CPU/\w+|msg/s|req/s|p99)$")
values = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.md"))):
    flavour = os.path.basename(path).split("-")[0]
    for _, cells in table_rows(open(path, encoding="utf-8").read()):
        if not ROW.search(cells[0]):
            continue
        for col, rt in ((2, "weft"), (3, "tokio")):
            try:
                v = float(cells[col])
            except (ValueError, IndexError):
                continue
            values.setdefault((cells[0], cells[1]), {}).setdefault((rt, flavour), []).append(v)


def fmt(v):
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


cols = [(rt, f) for rt in ("weft", "tokio") for f in FLAVOURS]
print("| workload | unit | " + " | ".join(f"{rt} {NAMES[f]}" for rt, f in cols) + " |")
print("|---|---|" + "---:|" * len(cols))
for (metric, unit), d in values.items():
    cells = []
    for key in cols:
        v = d.get(key)
        cells.append(f"{fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))})" if v else "-")
    print(f"| {metric} | {unit} | " + " | ".join(cells) + " |")
EOF
