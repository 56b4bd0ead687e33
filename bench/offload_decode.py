#!/usr/bin/python3
"""Decode speed and peak memory of GPT-2-124M under memory budgets.

    bench/offload_decode.py [--build DIR] [--scratch DIR] [--budgets 100,50,25,10]
        [--tokens N] [--prompt-tokens P] [--max-prefill-tokens K]
        [--threads N] [--rounds R] [--warm] [--target cpu|cuda] [--sm N]
        [--kv-recompute none|all|auto]

1. writes the model (bench/gpt2_model.sh, shared with the other GPT-2
   benchmarks) and compiles it with tvc-compile, every executable with
   `--max-prefill-tokens K` (default 64: a bounded prefill arena): once
   without a plan (the baseline a user would otherwise run: the weights
   file mapped whole and paged in by the OS on first touch, the KV caches
   allocated whole), and once per budget B with `--offload-budget` of B %
   of the weights + KV + arena bytes (the weights blob, every KV cache at
   the compiled capacity and the prefill and decode activation arenas,
   each page rounded, read from the baseline's manifest), in bytes
   (tvc-chunk-weights, the arenas measured and reserved, tvc-plan-offload;
   the executable streams the weights and KV caches the plan does not keep
   resident);
2. runs every executable on the same prompt, greedy, --rounds times
   interleaved (baseline, 100 %, 50 %, ...), each with the weights file
   dropped from the page cache first (posix_fadvise DONTNEED on the file:
   a cold start; --warm skips that), and reads its own report
   (--offload-stats: decode tokens/s, bytes read, stalls, peak resident
   bytes of the executor, peak RSS from getrusage);
3. checks that every run generated the same tokens, and prints a Markdown
   table: budget, peak RSS, RSS above the budget (the fixed overhead: code
   and runtime; the baseline's budget is its weights + KV + arena bytes),
   decode tokens/s (median over rounds) and its ratio
   to the baseline, MiB of weights and of KV caches read per token.

With --kv-recompute all or auto every budgeted executable is compiled
with it (tvc-recompute-kv: the KV caches hold the attentions' inputs and
every call recomputes keys and values; auto: the plan decides per
budget); the baseline stays as a user would otherwise run it.

With --target cuda (a GPU machine: scripts/gpu-check.sh runs it) the
executables are CUDA ones and the budgets are device memory: the baseline
uploads the whole weights file and allocates every cache on the device,
each plan keeps its resident part there and copies the rest from pinned
host memory (docs/Offload.md, "CUDA executor"); the table's "peak
resident" column is the executor's device bytes (what the plan counts),
peak RSS then includes the pinned host tier, and the page cache is left
alone (the CUDA executor reads the file once, at open).

Needs /usr/bin/python3 with torch the first time (to write the model).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

import gpt2_bench



def log(message):
    print("offload_decode.py: " + message, file=sys.stderr, flush=True)


def drop_page_cache(path):
    """Asks the kernel to drop the file's clean cached pages."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run(command, **kwargs):
    return subprocess.run(command, check=True, text=True,
                          capture_output=True, **kwargs)


ELEMENT_BYTES = {1: 4, 6: 4, 7: 8, 10: 2, 11: 8, 16: 2}  # ONNX types


def page_round(size):
    return (size + 4095) // 4096 * 4096


def manifest_sizes(executable):
    """(weights bytes, KV bytes, KV rows, arena bytes) from the manifest
    embedded in `executable` (runtime/tools/Manifest.h): the weights blob,
    the prefill's KV-cache inputs at their compiled capacity, and the
    activation arenas of prefill and decode (what a generation run
    allocates), each page rounded."""
    with open(executable, "rb") as binary:
        data = binary.read()
    start = data.find(b"tvc-model 2\n")
    end = data.find(b"\nend\n", start)
    if start < 0 or end < 0:
        raise RuntimeError("no manifest in " + executable)
    weights = kv = rows = arenas = 0
    role = None
    for line in data[start:end].decode().splitlines():
        words = line.split()
        if words[0] == "weights":
            weights = int(words[1])
        elif words[0] == "entry":
            role = words[1]
            if role in ("prefill", "decode"):
                arenas += page_round(int(words[5]))
        elif words[0] == "input" and role == "prefill" and words[3] == "1":
            dims = [int(d) for d in words[4].split(",")]
            size = ELEMENT_BYTES[int(words[2])]
            for dim in dims:
                size *= dim
            kv += page_round(size)
            rows = max(rows, dims[1])
    return weights, kv, rows, arenas


def parse(stderr):
    """The numbers of one run from the model main's report."""
    result = {}
    decode = re.search(r"decode: (\d+) tokens in ([0-9.]+) ms", stderr)
    if not decode:
        raise RuntimeError("no decode timing in:\n" + stderr)
    result["tokens"] = int(decode.group(1))
    result["decode_ms"] = float(decode.group(2))
    rss = re.search(r"peak RSS ([0-9.]+) MiB", stderr)
    result["rss_mib"] = float(rss.group(1)) if rss else float("nan")
    read = re.search(r"read ([0-9.]+) MiB in (\d+) reads; (\d+) stalls "
                     r"\(([0-9.]+) s\); peak resident ([0-9.]+) MiB of a "
                     r"([0-9.]+) MiB budget; (\d+) budget violations", stderr)
    if read:
        result.update(read_mib=float(read.group(1)), reads=int(read.group(2)),
                      stalls=int(read.group(3)),
                      stall_s=float(read.group(4)),
                      resident_mib=float(read.group(5)),
                      budget_mib=float(read.group(6)),
                      violations=int(read.group(7)))
    pool = re.search(r"pool ([0-9.]+) MiB, (\d+) pool fallbacks; "
                     r"([0-9.]+) MiB read at open", stderr)
    if pool:
        result["pool_mib"] = float(pool.group(1))
        result["fallbacks"] = int(pool.group(2))
        result["open_mib"] = float(pool.group(3))
    kv = re.search(r"KV caches ([0-9.]+) MiB read, ([0-9.]+) MiB written, "
                   r"spill file ([0-9.]+) MiB", stderr)
    if kv:
        result["kv_read_mib"] = float(kv.group(1))
        result["kv_written_mib"] = float(kv.group(2))
        result["spill_mib"] = float(kv.group(3))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    gpt2_bench.add_common_options(parser)
    parser.add_argument("--budgets", default="100,50,25,10",
                        help="percentages of the weights + KV + arena bytes")
    parser.add_argument("--tokens", type=int, default=32,
                        help="new tokens per run (default 32)")
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--max-prefill-tokens", type=int, default=64,
                        help="prefill bound of every executable (default 64)")
    parser.add_argument("--warm", action="store_true",
                        help="keep the weights file in the page cache")
    parser.add_argument("--target", choices=("cpu", "cuda"), default="cpu",
                        help="cpu (a RAM budget) or cuda (a device budget)")
    parser.add_argument("--sm", type=int, default=90,
                        help="--target cuda: the GPU architecture")
    parser.add_argument("--kv-recompute", choices=("none", "all", "auto"),
                        default="none",
                        help="the budgeted executables' --kv-recompute")
    args = parser.parse_args()
    cuda = args.target == "cuda"

    tools = gpt2_bench.find_tools(args.build, ("tvc-compile", "tvc-import"))
    if not tools:
        return 1

    # 1. The model and the executables.
    model = gpt2_bench.gpt2_model(args.scratch, tools["tvc-import"])
    out = os.path.join(args.scratch, "offload-cuda" if cuda else "offload")
    os.makedirs(out, exist_ok=True)
    budgets = [b.strip() for b in args.budgets.split(",") if b.strip()]
    variants = [("mmap (no plan)", None)] + [(f"{b} %", b) for b in budgets]
    executables = {}
    summaries = {}
    total_bytes = None  # weights + KV + arenas, from the baseline's manifest
    budget_bytes = {}
    for name, budget in variants:
        exe = os.path.join(out, "plain" if budget is None else f"budget{budget}")
        if budget is not None and args.kv_recompute != "none":
            exe += "-recompute-" + args.kv_recompute
        command = [tools["tvc-compile"], model, "-o", exe,
                   f"--max-prefill-tokens={args.max_prefill_tokens}"]
        if cuda:
            command += ["--target=cuda", f"--sm={args.sm}"]
        if budget is not None:
            budget_bytes[name] = int(total_bytes * float(budget) / 100)
            command.append(f"--offload-budget={budget_bytes[name]}")
            if args.kv_recompute != "none":
                command.append(f"--kv-recompute={args.kv_recompute}")
        # The budget in bytes is part of the command: a changed one
        # recompiles.
        log("compiling " + name + " (unless up to date)")
        done = gpt2_bench.compile_if_stale(command, exe, model,
                                           tools["tvc-compile"])
        if done:
            summaries[name] = done.stderr.strip()
        executables[name] = exe
        if budget is None:
            weights_bytes, kv_bytes, kv_rows, arena_bytes = manifest_sizes(exe)
            total_bytes = weights_bytes + kv_bytes + arena_bytes
            budget_bytes[name] = total_bytes

    # 2. Interleaved rounds.
    prompt = gpt2_bench.prompt_ids(args.prompt_tokens)
    results = {name: [] for name, _ in variants}
    tokens = {}
    for round_index in range(args.rounds):
        for name, budget in variants:
            exe = executables[name]
            if not args.warm and not cuda:
                drop_page_cache(exe + ".weights")
            log(f"round {round_index + 1}/{args.rounds}: {name}")
            done = run([exe, "--prompt-ids", prompt, "--max-new-tokens",
                        str(args.tokens), "--threads", str(args.threads),
                        "--offload-stats"])
            results[name].append(parse(done.stderr))
            tokens.setdefault(name, done.stdout.strip())
    reference = tokens[variants[0][0]]
    same = all(value == reference for value in tokens.values())

    # 3. The table.
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                    if line.startswith("model name")), "?")
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    weights_mib = weights_bytes / 2**20
    kv_mib = kv_bytes / 2**20
    arena_mib = arena_bytes / 2**20
    where = (f"CUDA (--sm={args.sm}), device budgets" if cuda else
             f"{args.threads} threads; "
             f"{'warm' if args.warm else 'cold'} weights file")
    print(f"machine: {os.cpu_count()} CPUs ({cpu}), load average {load}; "
          f"{where}; prompt {args.prompt_tokens} tokens, "
          f"{args.tokens} new; {args.rounds} rounds; every executable "
          f"compiled with --max-prefill-tokens {args.max_prefill_tokens}"
          + (f"; budgeted ones with --kv-recompute={args.kv_recompute}"
             if args.kv_recompute != "none" else ""))
    print(f"weights {weights_bytes} bytes ({weights_mib:.0f} MiB) + KV caches "
          f"{kv_bytes} bytes ({kv_mib:.0f} MiB, {kv_rows} positions compiled) "
          f"+ prefill and decode arenas {arena_bytes} bytes "
          f"({arena_mib:.1f} MiB) = {total_bytes} bytes: the budgets are "
          f"percentages of the sum, and hold the arenas (the plans' arenas, "
          f"measured after chunking, are in their summaries below)")
    print(f"generated tokens identical in every run: "
          f"{'yes' if same else 'NO'}")
    print()
    print("| of weights + KV + arenas | budget MiB | pool MiB | peak RSS MiB "
          "| RSS - budget MiB | peak resident MiB | decode tok/s | vs mmap "
          "| MiB read / token | KV MiB read / token | stalls / token |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_rate = None
    for name, budget in variants:
        runs = results[name]
        rate = statistics.median(r["tokens"] / (r["decode_ms"] / 1e3)
                                 for r in runs)
        rss = max(r["rss_mib"] for r in runs)
        if base_rate is None:
            base_rate = rate
        pool = "-"
        kv_per_token = "-"
        # The whole budget (what the executor may hold plus the arenas):
        # RSS above it is code and runtime.
        budget_mib = budget_bytes[name] / 2**20
        over = rss - budget_mib
        if budget is None:
            per_token = stalls = resident = "-"
        else:
            resident = f"{max(r['resident_mib'] for r in runs):.0f}"
            calls = runs[0]["tokens"] + 1  # prefill + decode steps
            per_token = f"{statistics.median(r['read_mib'] - r.get('open_mib', 0) for r in runs) / calls:.0f}"
            stalls = f"{statistics.median(r['stalls'] for r in runs) / calls:.1f}"
            pool = f"{runs[0].get('pool_mib', 0):.0f}"
            if all("kv_read_mib" in r for r in runs):
                kv_per_token = f"{statistics.median(r['kv_read_mib'] for r in runs) / calls:.1f}"
        print(f"| {name} | {budget_mib:.0f} | {pool} | {rss:.0f} | {over:.0f} | "
              f"{resident} | {rate:.2f} | {rate / base_rate:.2f}x | "
              f"{per_token} | {kv_per_token} | {stalls} |")
    violations = sum(r.get("violations", 0) for runs in results.values()
                     for r in runs)
    print()
    fallbacks = sum(r.get("fallbacks", 0) for runs in results.values()
                    for r in runs)
    print(f"budget violations reported by the executor: {violations}; "
          f"pool fallbacks (reads from the file-backed range): {fallbacks}")
    spills = [f"{name}: {runs[0]['spill_mib']:.0f}" for name, runs in
              results.items() if runs and "spill_mib" in runs[0]]
    if spills:
        print("KV spill file MiB (the streamed caches): " + ", ".join(spills))
    for name, summary in summaries.items():
        for line in summary.splitlines():
            print(f"{name}: {line}")
    return 0 if same and violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
