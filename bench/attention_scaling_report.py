#!/usr/bin/env python3
"""Table and plot of bench/attention_scaling.sh.

Reads the output of `tvc-kernel-bench <threads> attention-scaling ...` (a
title line, then one line per sequence length T and mask kind:
`scaling T kind median_ms kept_entries`, the entries a head keeps), prints
Markdown tables (time and its ratio to dense causal; microseconds per token,
flat when cost grows linearly with T; GFLOP/s over kept entries), and
writes a log-log plot of time against T as a self-contained SVG (no
plotting library needed), with dotted guides of slope 1 (linear) and 2
(quadratic).

    attention_scaling_report.py RAW [--svg FILE]
"""

import argparse
import math
import os
import sys

HEADS, HEAD_DIM = 12, 64

# Display names and colours, in the order kinds are shown.
KINDS = {
    "causal": ("dense causal", "#c0392b"),
    "window": ("window", "#2471a3"),
    "window_global": ("window + 64 global", "#17a589"),
    "block_local": ("block-local (64)", "#7d3c98"),
    "top_k": ("top-k", "#d68910"),
    "block_top_k": ("block top-k (64)", "#566573"),
    "vertical_slash": ("vertical-slash", "#28b463"),
    "alisa": ("ALISA", "#a04000"),
}


def parse(path):
    title, rows = None, {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if line.startswith("attention prefill"):
                title = line.strip()
            elif len(fields) == 5 and fields[0] == "scaling":
                t, kind = int(fields[1]), fields[2]
                rows.setdefault(t, {})[kind] = (float(fields[3]),
                                                float(fields[4]))
    if not rows:
        sys.exit("attention_scaling_report.py: no rows in %s" % path)
    kinds = [k for k in KINDS if any(k in r for r in rows.values())]
    kinds += sorted({k for r in rows.values() for k in r} - set(kinds))
    return title, dict(sorted(rows.items())), kinds


def name(kind):
    return KINDS.get(kind, (kind, "#555"))[0]


def tables(title, rows, kinds):
    out = []
    if title:
        out += [title + ":", ""]
    dense = "causal" in kinds

    def grid(header, cell):
        out.append("| T | " + " | ".join(name(k) for k in kinds) + " |")
        out.append("|---:|" + "---:|" * len(kinds))
        for t, r in rows.items():
            out.append("| %d | " % t + " | ".join(
                cell(t, r, k) if k in r else "–" for k in kinds) + " |")
        out.append("")

    out.append("Time in ms" + (" (dense causal / kind)" if dense else "") +
               ":")
    out.append("")

    def time_cell(t, r, k):
        ms = r[k][0]
        if dense and "causal" in r and k != "causal":
            return "%.1f (%.1f×)" % (ms, r["causal"][0] / ms)
        return "%.1f" % ms
    grid("ms", time_cell)
    out += ["Microseconds per token (flat when linear in T):", ""]
    grid("us", lambda t, r, k: "%.1f" % (1e3 * r[k][0] / t))
    out += ["GFLOP/s over kept entries (4 flops per entry and dimension):",
            ""]
    grid("gf", lambda t, r, k: "%.1f" % (
        4.0 * r[k][1] * HEADS * HEAD_DIM / r[k][0] / 1e6))
    return "\n".join(out)


def svg(rows, kinds):
    width, height = 680, 440
    left, right, top, bottom = 70, 200, 40, 50
    ts = list(rows)
    values = [r[k][0] for r in rows.values() for k in kinds if k in r]
    x0, x1 = math.log2(min(ts)) - 0.25, math.log2(max(ts)) + 0.25
    y0 = math.floor(math.log10(min(values)))
    y1 = math.ceil(math.log10(max(values)))

    def px(t):
        return left + (math.log2(t) - x0) / (x1 - x0) * (width - left - right)

    def py(ms):
        return top + (y1 - math.log10(ms)) / (y1 - y0) * (height - top - bottom)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
             % (width, height, width, height),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="%d" y="22" font-size="14">%s</text>'
             % (left, "Prefill attention time vs sequence length "
                "(12 heads x 64, log-log)")]
    for decade in range(y0, y1 + 1):
        y = py(10 ** decade)
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                     'stroke="#ddd"/>' % (left, y, width - right, y))
        label = ("%g" % (10 ** decade)) if decade >= -3 else "1e%d" % decade
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                     % (left - 6, y + 4, label))
    for t in ts:
        x = px(t)
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" '
                     'stroke="#ddd"/>' % (x, top, x, height - bottom))
        label = "%dk" % (t // 1024) if t % 1024 == 0 else str(t)
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                     % (x, height - bottom + 16, label))
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
                 'stroke="black"/>' % (left, top, width - left - right,
                                       height - top - bottom))
    parts.append('<text x="%d" y="%d" text-anchor="middle">sequence length T '
                 '(tokens)</text>' % ((left + width - right) // 2,
                                       height - 12))
    parts.append('<text transform="translate(18 %d) rotate(-90)" '
                 'text-anchor="middle">time (ms)</text>'
                 % ((top + height - bottom) // 2))

    def clip(points):
        lo, hi = 10 ** y0, 10 ** y1
        return [(t, ms) for t, ms in points if lo <= ms <= hi]

    # Slope guides through the first point of the slowest and fastest kind.
    first = rows[ts[0]]
    present = [k for k in kinds if k in first]
    if present:
        slow = max(present, key=lambda k: first[k][0])
        fast = min(present, key=lambda k: first[k][0])
        for label, start, power in (("∝ T²", first[slow][0], 2),
                                    ("∝ T", first[fast][0], 1)):
            guide = clip([(t, start * (t / ts[0]) ** power) for t in ts])
            if len(guide) >= 2:
                parts.append('<polyline fill="none" stroke="#999" '
                             'stroke-dasharray="3 3" points="%s"/>'
                             % " ".join("%.1f,%.1f" % (px(t), py(ms))
                                        for t, ms in guide))
                t, ms = guide[-1]
                parts.append('<text x="%.1f" y="%.1f" fill="#777">%s</text>'
                             % (px(t) + 6, py(ms) + 4, label))
    for i, kind in enumerate(kinds):
        color = KINDS.get(kind, (kind, "#555"))[1]
        points = [(t, r[kind][0]) for t, r in rows.items() if kind in r]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" '
                     'points="%s"/>' % (color, " ".join(
                         "%.1f,%.1f" % (px(t), py(ms)) for t, ms in points)))
        for t, ms in points:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>'
                         % (px(t), py(ms), color))
        ly = top + 20 + 22 * i
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                     'stroke-width="2"/>' % (width - right + 12, ly,
                                             width - right + 36, ly, color))
        parts.append('<text x="%d" y="%d">%s</text>'
                     % (width - right + 42, ly + 4, name(kind)))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--svg")
    args = parser.parse_args()
    title, rows, kinds = parse(args.raw)
    print(tables(title, rows, kinds))
    if args.svg:
        with open(args.svg + ".tmp", "w") as f:
            f.write(svg(rows, kinds))
        os.replace(args.svg + ".tmp", args.svg)
        print("plot: %s" % args.svg)


if __name__ == "__main__":
    main()
