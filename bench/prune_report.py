#!/usr/bin/env python3
"""Table of bench/prune_decode.sh: median prefill and decode times of each
variant over all rounds, tokens/s, weight bytes and speed-up over dense.

Usage: prune_report.py RESULTS_DIR VARIANT...  (the first variant is the
baseline; files are VARIANT.ROUND.json with ':' spelled 't' and '+' 'p')."""
import glob
import json
import statistics
import sys


def load(results, variant):
    runs = [json.load(open(path)) for path in
            sorted(glob.glob(f"{results}/{variant.replace(':', 't').replace('+', 'p')}.*.json"))]
    if not runs:
        sys.exit(f"prune_report.py: no results for {variant} in {results}")
    prefill = [t for run in runs for t in run["prefill"][0]["runs_ms"]]
    decode = [t for run in runs for t in run["decode"][0]["runs_ms"]]
    return {
        "prefill_ms": statistics.median(prefill),
        "prefill_tokens": runs[0]["prefill"][0]["tokens"],
        "decode_ms": statistics.median(decode),
        "past": runs[0]["decode"][0]["past"],
        "weights_mb": runs[0]["weights_bytes"] / 1e6,
        "linear_share": statistics.mean(
            run["decode"][0]["kernels"]["linear_ms"] /
            run["decode"][0]["kernels"]["mean_ms"] for run in runs),
        "rounds": len(runs),
    }


def main():
    results, variants = sys.argv[1], sys.argv[2:]
    rows = {variant: load(results, variant) for variant in variants}
    base = rows[variants[0]]
    print(f"GPT-2-124M shape, random weights; {base['rounds']} interleaved "
          f"rounds; medians of all timed runs\n")
    print("| model | weights (MB) | prefill T=%d (ms) | decode at past %d "
          "(ms/token) | decode tokens/s | decode speed-up | prefill speed-up "
          "| linear share of decode |" % (base["prefill_tokens"], base["past"]))
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for variant in variants:
        row = rows[variant]
        print(f"| {variant} | {row['weights_mb']:.1f} | {row['prefill_ms']:.1f} "
              f"| {row['decode_ms']:.2f} | {1000 / row['decode_ms']:.1f} "
              f"| {base['decode_ms'] / row['decode_ms']:.2f} "
              f"| {base['prefill_ms'] / row['prefill_ms']:.2f} "
              f"| {100 * row['linear_share']:.0f}% |")


if __name__ == "__main__":
    main()
