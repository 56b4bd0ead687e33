#!/usr/bin/python3
"""Prints the table of bench/ort_compare.sh from the JSON its rounds wrote.

    compare_report.py RESULTS_DIR

RESULTS_DIR holds ort.N.json (bench/ort_bench.mjs), tvc.N.json
(`tvc-run --bench --json`) for rounds N = 1, 2, ..., and membw.json
(bench/membw.c). Times are the median over every timed run of every round;
ratios are ONNX Runtime / tvc, so a ratio above 1 means tvc is faster (or,
for memory, smaller). Standard library only.
"""

import glob
import json
import os
import statistics
import sys


def load_rounds(directory, engine):
    paths = sorted(glob.glob(os.path.join(directory, f"{engine}.*.json")))
    return [json.load(open(path)) for path in paths]


def pooled(rounds, phase, key, value):
    """Median over the runs of all rounds of the measurement `phase` whose
    `key` is `value`."""
    runs = [run for report in rounds for m in report[phase] if m[key] == value
            for run in m["runs_ms"]]
    return statistics.median(runs) if runs else None


def fmt_ms(value):
    return "-" if value is None else f"{value:.1f}"


def ratio(ort, tvc):
    return "-" if not ort or not tvc else f"{ort / tvc:.2f}"


def main():
    directory = sys.argv[1]
    ort, tvc = load_rounds(directory, "ort"), load_rounds(directory, "tvc")
    if not ort or not tvc:
        sys.exit("compare_report.py: no ort.N.json / tvc.N.json in " + directory)
    membw = json.load(open(os.path.join(directory, "membw.json")))

    print(f"GPT-2-124M shape, random weights; {len(ort)} rounds of ONNX Runtime "
          f"{ort[0].get('version', '?')} and tvc, interleaved; "
          f"{ort[0]['threads']} / {tvc[0]['threads']} threads; "
          f"median over {ort[0]['repeat']} / {tvc[0]['repeat']} timed runs per round")
    print()
    print("| measurement | ONNX Runtime | tvc | ratio ORT/tvc |")
    print("|---|---:|---:|---:|")
    tokens = sorted({m["tokens"] for r in tvc for m in r["prefill"]})
    pasts = sorted({m["past"] for r in tvc for m in r["decode"]})
    for t in tokens:
        o, v = pooled(ort, "prefill", "tokens", t), pooled(tvc, "prefill", "tokens", t)
        print(f"| prefill T={t} (ms) | {fmt_ms(o)} | {fmt_ms(v)} | {ratio(o, v)} |")
    for t in tokens:
        o, v = pooled(ort, "prefill", "tokens", t), pooled(tvc, "prefill", "tokens", t)
        to = f"{1000 * t / o:.0f}" if o else "-"
        tv = f"{1000 * t / v:.0f}" if v else "-"
        print(f"| prefill T={t} (tokens/s) | {to} | {tv} | {ratio(o, v)} |")
    for p in pasts:
        o, v = pooled(ort, "decode", "past", p), pooled(tvc, "decode", "past", p)
        print(f"| decode at past {p} (ms/token) | {fmt_ms(o)} | {fmt_ms(v)} | {ratio(o, v)} |")
    peak_o = statistics.median(r["peak_rss_bytes"] for r in ort)
    peak_v = statistics.median(r["peak_rss_bytes"] for r in tvc)
    print(f"| peak RSS (MB) | {peak_o / 1e6:.0f} | {peak_v / 1e6:.0f} | {ratio(peak_o, peak_v)} |")
    rss_o = statistics.median(r["rss_bytes"] for r in ort)
    rss_v = statistics.median(r["rss_bytes"] for r in tvc)
    print(f"| RSS after the runs (MB) | {rss_o / 1e6:.0f} | {rss_v / 1e6:.0f} | {ratio(rss_o, rss_v)} |")
    session = statistics.median(sum(r["session_ms"].values()) for r in ort)
    compile_ms = statistics.median(r["compile_ms"] for r in tvc)
    print(f"| setup (ms): ORT sessions / tvc compile | {session:.0f} | {compile_ms:.0f} | - |")

    weights = tvc[0]["weights_bytes"]
    best, med = membw["best_gb_per_s"], membw["median_gb_per_s"]
    bound = weights / (best * 1e9) * 1e3
    print()
    print(f"Memory bandwidth ({membw['threads']} threads, {membw['buffer_bytes'] >> 20} MiB "
          f"read): best {best:.1f} GB/s, median {med:.1f} GB/s.")
    print(f"Decode lower bound: weights {weights / 1e6:.0f} MB / {best:.1f} GB/s = "
          f"{bound:.1f} ms/token (KV cache reads excluded).")
    for p in pasts:
        o, v = pooled(ort, "decode", "past", p), pooled(tvc, "decode", "past", p)
        if o and v:
            print(f"  past {p}: ONNX Runtime {o / bound:.1f}x, tvc {v / bound:.1f}x the bound")

    sanity = ort[0].get("sanity")
    if sanity:
        print(f"ONNX Runtime vs PyTorch logits: max abs error {sanity['max_abs_error']:.2e} "
              f"(max |logit| {sanity['max_abs_logit']:.2f}): "
              f"{'ok' if sanity['ok'] else 'MISMATCH'}")

    if "kernels" in tvc[0]["prefill"][0]:
        print()
        print("tvc: where the time goes (mean per run over rounds; other = generated code)")
        print()
        print("| tvc run | mean ms | linear | attention | memrefCopy | other | mallocs/run | MB malloc'ed/run |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for phase, key, values, label in (("prefill", "tokens", tokens, "prefill T={}"),
                                          ("decode", "past", pasts, "decode past {}")):
            for value in values:
                ks = [m["kernels"] for r in tvc for m in r[phase] if m[key] == value]
                mean = lambda name: statistics.mean(k[name] for k in ks)
                total = mean("mean_ms")
                share = lambda name: f"{100 * mean(name) / total:.0f}%"
                print(f"| {label.format(value)} | {total:.1f} | {share('linear_ms')} | "
                      f"{share('attention_ms')} | {share('copy_ms')} | {share('other_ms')} | "
                      f"{mean('mallocs'):.0f} | {mean('malloc_bytes') / 1e6:.1f} |")


if __name__ == "__main__":
    main()
