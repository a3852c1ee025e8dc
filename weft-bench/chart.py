#!/usr/bin/env python3
"""Draw weft's ratio to tokio for each row of weft-bench's markdown tables
as a horizontal bar chart in SVG (python3 standard library only).

    python3 weft-bench/chart.py weft-bench/docs/bench.md weft-bench/docs/bench.svg

Bars left of the 1.0 line are better than tokio for "lower is better" rows
and worse for throughput rows (msg/s, req/s), which are marked "higher is
better"; green is better, red is worse. Rows of the load generator's own CPU
use and the per-call breakdown of system calls are left out.
"""

import html
import sys

HIGHER_IS_BETTER = ("msg/s", "req/s")


def table_rows(markdown):
    """(header cells, row cells) for every body row of every markdown table
    in `markdown` (also used by flavours.sh)."""
    header = None
    for line in markdown.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        yield header, cells


def rows(markdown):
    """(metric, unit, ratio) for every table row with a weft / tokio value."""
    out = []
    for header, cells in table_rows(markdown):
        if "weft / tokio" not in header:
            continue
        metric, unit = cells[0], cells[1]
        if metric.endswith("load CPU") or "syscalls:" in metric:
            continue
        value = cells[header.index("weft / tokio")].rstrip("×")
        try:
            out.append((metric, unit, float(value)))
        except ValueError:
            continue
    return out


def svg(data, title):
    bar_h, gap, left, width, top = 16, 6, 300, 420, 50
    vmax = max([2.0] + [r for _, _, r in data])
    scale = width / vmax
    height = top + len(data) * (bar_h + gap) + 40
    total_w = left + width + 80
    p = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{total_w}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (metric, unit, r) in enumerate(data):
        y = top + i * (bar_h + gap)
        higher = unit in HIGHER_IS_BETTER
        better = r > 1.0 if higher else r < 1.0
        color = "#2e9e44" if better else ("#888888" if r == 1.0 else "#d0473c")
        label = f"{metric} ({unit}{', higher is better' if higher else ''})"
        p.append(
            f'<text x="{left - 8}" y="{y + bar_h - 4}" text-anchor="end">'
            f"{html.escape(label)}</text>"
        )
        p.append(
            f'<rect x="{left}" y="{y}" width="{max(r * scale, 1):.1f}" height="{bar_h}" '
            f'fill="{color}"/>'
        )
        p.append(f'<text x="{left + r * scale + 4:.1f}" y="{y + bar_h - 4}">{r:.2f}×</text>')
    x1 = left + scale
    p.append(
        f'<line x1="{x1:.1f}" y1="{top - 6}" x2="{x1:.1f}" y2="{height - 30}" '
        f'stroke="black" stroke-dasharray="4,3"/>'
    )
    p.append(
        f'<text x="{x1:.1f}" y="{height - 14}" text-anchor="middle">1.0 = tokio</text>'
    )
    p.append("</svg>")
    return "\n".join(p) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: chart.py BENCH.md OUT.svg\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    data = rows(text)
    if not data:
        sys.stderr.write(f"chart.py: no 'weft / tokio' rows in {argv[1]}\n")
        return 1
    date = next((w for line in text.splitlines() for w in line.split() if w[:2] == "20" and w.count("-") == 2), "")
    title = f"weft / tokio (current-thread), lower is better unless marked {date}".strip()
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(svg(data, title))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
