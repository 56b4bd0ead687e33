#!/usr/bin/env python3
"""Table and plot of bench/attention_scaling.sh.

Reads the output of `tvc-kernel-bench <threads> attention-scaling ...` (a
title line, a header, then one row per sequence length T: dense and window
medians in ms, their ratio, microseconds per token of each, GFLOP/s over
kept entries), prints a Markdown table, and writes a log-log plot of time
against T as a self-contained SVG (no plotting library needed), with
dotted guides of slope 1 (linear) and 2 (quadratic) through the first
points.

    attention_scaling_report.py RAW [--svg FILE]
"""

import argparse
import math
import sys


def parse(path):
    title, rows = None, []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            if line.startswith("attention prefill"):
                title = line.strip()
            elif fields[0].isdigit() and len(fields) == 8:
                t, dense, window, ratio, dpt, wpt, dgf, wgf = fields
                rows.append(dict(t=int(t), dense=float(dense),
                                 window=float(window), ratio=float(ratio),
                                 dense_pt=float(dpt), window_pt=float(wpt),
                                 dense_gf=float(dgf), window_gf=float(wgf)))
    if not rows:
        sys.exit("attention_scaling_report.py: no rows in %s" % path)
    return title, rows


def table(title, rows):
    out = []
    if title:
        out.append(title + ":")
        out.append("")
    out.append("| T | dense causal (ms) | window (ms) | dense / window "
               "| dense µs/token | window µs/token | dense GFLOP/s "
               "| window GFLOP/s |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        out.append("| %d | %.1f | %.2f | %.1f× | %.1f | %.2f | %.1f | %.1f |"
                   % (r["t"], r["dense"], r["window"], r["ratio"],
                      r["dense_pt"], r["window_pt"], r["dense_gf"],
                      r["window_gf"]))
    return "\n".join(out)


def svg(title, rows, window_label):
    width, height = 640, 420
    left, right, top, bottom = 70, 170, 40, 50
    ts = [r["t"] for r in rows]
    values = [r["dense"] for r in rows] + [r["window"] for r in rows]
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
    # Grid and axes.
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

    # Slope guides through the first points.
    first = rows[0]
    for name, start, power in (("∝ T²", first["dense"], 2),
                               ("∝ T", first["window"], 1)):
        guide = clip([(t, start * (t / first["t"]) ** power) for t in ts])
        if len(guide) >= 2:
            parts.append('<polyline fill="none" stroke="#999" '
                         'stroke-dasharray="3 3" points="%s"/>'
                         % " ".join("%.1f,%.1f" % (px(t), py(ms))
                                    for t, ms in guide))
            t, ms = guide[-1]
            parts.append('<text x="%.1f" y="%.1f" fill="#777">%s</text>'
                         % (px(t) + 6, py(ms) + 4, name))
    # Series.
    series = (("dense causal", "dense", "#c0392b"),
              (window_label, "window", "#2471a3"))
    for i, (name, key, color) in enumerate(series):
        points = [(r["t"], r[key]) for r in rows]
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
                     % (width - right + 42, ly + 4, name))
    ratio = rows[-1]["ratio"]
    parts.append('<text x="%d" y="%d" fill="#333">T=%d: %.1f× faster</text>'
                 % (width - right + 12, top + 80, rows[-1]["t"], ratio))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--svg")
    args = parser.parse_args()
    title, rows = parse(args.raw)
    print(table(title, rows))
    if args.svg:
        label = "window"
        if title and "window" in title:
            label = "window " + title.split("window")[1].split(",")[0].strip()
        with open(args.svg + ".tmp", "w") as f:
            f.write(svg(title, rows, label))
        import os
        os.replace(args.svg + ".tmp", args.svg)
        print("\nplot: %s" % args.svg)


if __name__ == "__main__":
    main()
