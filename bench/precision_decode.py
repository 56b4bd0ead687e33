#!/usr/bin/python3
"""Decode speed, memory and accuracy of GPT-2-124M by weight precision.

    bench/precision_decode.py [--build DIR] [--scratch DIR] [--tokens N]
        [--prompt-tokens P] [--budget PERCENT] [--threads N] [--rounds R]
        [--cold]

1. writes the model (bench/gpt2_model.sh, shared with the other GPT-2
   benchmarks) and compiles it with tvc-compile --precision=fp32, bf16 and
   fp16 (all with --max-prefill-tokens 64); with --budget P, also fp32 and
   bf16 under an offload budget of P % of the fp32 executable's weights +
   KV + arena bytes (the same memory for both: bf16 holds twice the share
   of its weights);
2. runs every executable on the same prompt, greedy, --rounds times
   interleaved, the weights file in the page cache (--cold drops it before
   each run), reading its report (prefill and decode timing, peak RSS);
   each run also writes its logits (--logits-out);
3. prints a Markdown table: weights file MiB (a plan's file also holds
   the row chunks of the tied vocabulary matrix), peak RSS, prefill and decode
   tokens/s (medians over rounds) with their ratios to fp32, the first
   step's largest logit error relative to the row's largest fp32 logit,
   and how many generated tokens equal fp32's.

fp32 is the baseline a user would otherwise run; the 16-bit executables
read half the weight bytes per decode step (docs/Precision.md).
Needs /usr/bin/python3 with torch the first time (to write the model).
"""

import argparse
import array
import os
import re
import statistics
import sys

import gpt2_bench
import offload_decode


def log(message):
    print("precision_decode.py: " + message, file=sys.stderr, flush=True)


def load_logits(path, vocab):
    values = array.array("f")
    with open(path, "rb") as file:
        values.frombytes(file.read())
    return [values[i:i + vocab] for i in range(0, len(values), vocab)]


def relative_error(row, reference):
    scale = max(abs(value) for value in reference)
    return max(abs(a - b) for a, b in zip(row, reference)) / scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    gpt2_bench.add_common_options(parser)
    parser.add_argument("--tokens", type=int, default=32,
                        help="new tokens per run (default 32)")
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--budget", type=float, default=None,
                        help="also fp32 and bf16 under this percentage of "
                             "the fp32 executable's weights + KV + arenas")
    parser.add_argument("--cold", action="store_true",
                        help="drop the weights file from the page cache "
                             "before each run")
    args = parser.parse_args()

    tools = gpt2_bench.find_tools(args.build, ("tvc-compile", "tvc-import"))
    if not tools:
        return 1
    model = gpt2_bench.gpt2_model(args.scratch, tools["tvc-import"])
    out = os.path.join(args.scratch, "precision")
    os.makedirs(out, exist_ok=True)

    variants = [("fp32", "fp32", None), ("bf16", "bf16", None),
                ("fp16", "fp16", None)]
    if args.budget is not None:
        variants += [(f"fp32 @ {args.budget:g} %", "fp32", args.budget),
                     (f"bf16 @ {args.budget:g} %", "bf16", args.budget)]
    executables = {}
    total_bytes = None
    for name, precision, budget in variants:
        exe = os.path.join(out, precision + ("" if budget is None
                                             else f"-budget{budget:g}"))
        command = [tools["tvc-compile"], model, "-o", exe,
                   f"--precision={precision}", "--max-prefill-tokens=64"]
        if budget is not None:
            command.append(
                f"--offload-budget={int(total_bytes * budget / 100)}")
        log("compiling " + name + " (unless up to date)")
        gpt2_bench.compile_if_stale(command, exe, model, tools["tvc-compile"])
        executables[name] = exe
        if name == "fp32":
            weights, kv, _, arenas = offload_decode.manifest_sizes(exe)
            total_bytes = weights + kv + arenas

    prompt = gpt2_bench.prompt_ids(args.prompt_tokens)
    results = {name: [] for name, _, _ in variants}
    tokens = {}
    for round_index in range(args.rounds):
        for name, _, _ in variants:
            exe = executables[name]
            if args.cold:
                offload_decode.drop_page_cache(exe + ".weights")
            log(f"round {round_index + 1}/{args.rounds}: {name}")
            logits = exe + ".logits"
            done = offload_decode.run(
                [exe, "--prompt-ids", prompt, "--max-new-tokens",
                 str(args.tokens), "--threads", str(args.threads),
                 "--offload-stats", "--logits-out", logits])
            result = offload_decode.parse(done.stderr)
            prefill = re.search(
                r"prefill: (\d+) tokens in ([0-9.]+) ms", done.stderr)
            result["prefill_rate"] = (int(prefill.group(1)) /
                                      (float(prefill.group(2)) / 1e3))
            if round_index == 0:
                result["logits"] = load_logits(logits, 50257)
                tokens[name] = done.stdout.strip().split(",")
            results[name].append(result)

    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                    if line.startswith("model name")), "?")
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(f"machine: {os.cpu_count()} CPUs ({cpu}), load average {load}; "
          f"{args.threads} threads; prompt {args.prompt_tokens} tokens, "
          f"{args.tokens} new; {'cold' if args.cold else 'warm'} weights "
          f"file; {args.rounds} rounds")
    print()
    print("| precision | weights file MiB | peak RSS MiB | prefill tok/s "
          "| vs fp32 | decode tok/s | vs fp32 | first-step logit error "
          "| tokens as fp32 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = results["fp32"]
    base_prefill = statistics.median(r["prefill_rate"] for r in base)
    base_decode = statistics.median(r["tokens"] / (r["decode_ms"] / 1e3)
                                    for r in base)
    reference_row = base[0]["logits"][0]
    for name, _, _ in variants:
        runs = results[name]
        weights_mib = os.path.getsize(executables[name] + ".weights") / 2**20
        prefill = statistics.median(r["prefill_rate"] for r in runs)
        decode = statistics.median(r["tokens"] / (r["decode_ms"] / 1e3)
                                   for r in runs)
        rss = max(r["rss_mib"] for r in runs)
        error = relative_error(runs[0]["logits"][0], reference_row)
        same = sum(a == b for a, b in zip(tokens[name], tokens["fp32"]))
        print(f"| {name} | {weights_mib:.0f} | {rss:.0f} | {prefill:.1f} | "
              f"{prefill / base_prefill:.2f}x | {decode:.2f} | "
              f"{decode / base_decode:.2f}x | {error:.2e} | "
              f"{same}/{len(tokens['fp32'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
