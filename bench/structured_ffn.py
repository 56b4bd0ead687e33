#!/usr/bin/python3
"""Prefill and decode speed of structured FFNs: keep, merge, cost.

    bench/structured_ffn.py [--build DIR] [--scratch DIR] [--rounds R]
        [--prompt-tokens T] [--tokens N] [--threads N]
        [--variants lowrank192,lowrank384,blockdense384,monarch768]

1. takes the GPT-2-124M-shaped model of the other benchmarks
   (bench/gpt2_model.sh: 12 layers, d = 768, FFN 3072) and writes four
   variants whose FFN matrices (c_fc [3072 x 768], c_proj [768 x 3072])
   are structured, with random factors (numpy, seed 0) in one safetensors
   file each: low-rank with r = 25 % of d (192), low-rank with r = 50 %
   (384), BlockDense with 4 blocks and r = 384, and block-shuffle
   (Monarch) with 4 first-stage blocks [192 x in/4] and 192 second-stage
   blocks [out/192 x 4];
2. compiles each with `tvc-compile --premerge=keep` (the factors run as
   two kernel calls, BlockDense's blocks one tvc_kernel_block_diagonal_f32
   call and L a dense one), `merge` (one
   dense matrix) and `cost` (each entry point the form the CPU cost model
   predicts faster: tvc-premerge-ffn workload=auto);
3. runs every executable on the same prompt (T tokens, default 128) and N
   greedy tokens (default 32), --rounds times interleaved, and prints
   prefill and decode tokens/s (medians) and, per row, whether cost is
   within 5 % of the better of keep and merge.

--variants keeps only the named variants (all four by default).
"""

import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys

import numpy as np

import gpt2_bench

D, FFN = 768, 3072


def log(message):
    print("structured_ffn.py: " + message, file=sys.stderr, flush=True)


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, data in tensors:
        header[name] = {"dtype": "F32", "shape": list(data.shape),
                        "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for _, data in tensors:
            out.write(np.ascontiguousarray(data, dtype=np.float32).tobytes())
    os.replace(path + ".tmp", path)


def ttype(shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def structure(kind, rank, out_dim, in_dim):
    """Factor shapes and the structure attribute of one matrix."""
    if kind == "low_rank":
        return [("v", (rank, in_dim)), ("u", (out_dim, rank))], \
            f"#tvc.low_rank<rank = {rank}>"
    if kind == "block_shuffle":
        # Monarch: the middle width `rank` as a (4, rank / 4) grid, the
        # second stage rank / 4 blocks of 4 (one value of each first block).
        blocks, out_blocks = 4, rank // 4
        return [("b1", (blocks, rank // blocks, in_dim // blocks)),
                ("b2", (out_blocks, out_dim // out_blocks, blocks))], \
            f"#tvc.block_shuffle<blocks = {blocks}, out_blocks = {out_blocks}>"
    blocks = 4
    return [("b", (blocks, rank // blocks, in_dim // blocks)),
            ("l", (out_dim, rank))], f"#tvc.block_dense<blocks = {blocks}>"


LINEAR = re.compile(
    r"^(?P<indent>\s*)%(?P<w>\w+) = tvc\.weight @(?P<name>h\.\d+\.mlp\.c_(?:fc|proj))"
    r"\.weight : tensor<(?P<a>\d+)x(?P<b>\d+)xf32>\n"
    r"(?P<bias>\s*%\w+ = tvc\.weight @(?P=name)\.bias : tensor<\d+xf32>\n)"
    r"\s*%(?P<y>\w+) = tvc\.linear %(?P<x>\w+), %(?P=w) bias %(?P<bv>\w+) "
    r"structure\(#tvc\.dense<in_out>\) : \((?P<xt>tensor<[^>]*>), "
    r"tensor<[^>]*>, (?P<bt>tensor<[^>]*>)\) -> (?P<yt>tensor<[^>]*>)\n",
    re.M)
GLOBAL = re.compile(
    r"^\s*tvc\.global @(h\.\d+\.mlp\.c_(?:fc|proj))\.weight : .*\n", re.M)


def make_variant(model_text, kind, rank, out_dir, name):
    """Writes <name>.mlir and <name>.safetensors; returns the .mlir path."""
    rng = np.random.default_rng(0)
    tensors, globals_text = [], []
    weights_file = os.path.join(out_dir, name + ".safetensors")

    def replace(match):
        in_dim, out_dim = int(match["a"]), int(match["b"])  # in_out layout
        factors, attr = structure(kind, rank, out_dim, in_dim)
        lines, values = [], []
        for suffix, shape in factors:
            key = f"{match['name']}.{suffix}"
            scale = 1.0 / np.sqrt(shape[-1])
            tensors.append((key, (rng.standard_normal(shape) * scale)
                            .astype(np.float32)))
            globals_text.append(
                f'  tvc.global @{key} : {ttype(shape)} = '
                f'#tvc.external<"{weights_file}", "{key}">\n')
            value = f"{suffix}{match['w']}"
            lines.append(f"{match['indent']}%{value} = tvc.weight @{key} : "
                         f"{ttype(shape)}\n")
            values.append((value, ttype(shape)))
        operands = ", ".join("%" + v for v, _ in values)
        types = ", ".join(t for _, t in values)
        return ("".join(lines) + match["bias"] +
                f"{match['indent']}%{match['y']} = tvc.linear %{match['x']}, "
                f"{operands} bias %{match['bv']} structure({attr}) : "
                f"({match['xt']}, {types}, {match['bt']}) -> {match['yt']}\n")

    text, count = LINEAR.subn(replace, model_text)
    if count != 24:
        raise RuntimeError(f"expected 24 FFN linears, rewrote {count}")
    text = GLOBAL.sub("", text)
    text = text.replace("module {\n", "module {\n" + "".join(globals_text), 1)
    write_safetensors(weights_file, tensors)
    path = os.path.join(out_dir, name + ".mlir")
    with open(path, "w") as out:
        out.write(text)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    gpt2_bench.add_common_options(parser)
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--variants",
                        default="lowrank192,lowrank384,blockdense384,"
                        "monarch768",
                        help="comma-separated variants to run")
    args = parser.parse_args()

    tools = gpt2_bench.find_tools(args.build, ("tvc-compile", "tvc-import"))
    if not tools:
        return 1
    compile_tool = tools["tvc-compile"]
    with open(gpt2_bench.gpt2_model(args.scratch, tools["tvc-import"])) as source:
        model_text = source.read()
    out_dir = os.path.join(args.scratch, "structured")
    os.makedirs(out_dir, exist_ok=True)

    variants = [("low-rank r=192 (25 %)", "low_rank", 192, "lowrank192"),
                ("low-rank r=384 (50 %)", "low_rank", 384, "lowrank384"),
                ("BlockDense 4 blocks, r=384", "block_dense", 384,
                 "blockdense384"),
                ("block-shuffle 4 -> 192 blocks", "block_shuffle", 768,
                 "monarch768")]
    wanted = args.variants.split(",")
    unknown = set(wanted) - {name for _, _, _, name in variants}
    if unknown:
        print(f"unknown variants: {', '.join(sorted(unknown))}")
        return 2
    variants = [v for v in variants if v[3] in wanted]
    policies = ["keep", "merge", "cost"]
    executables = {}
    for label, kind, rank, name in variants:
        path = make_variant(model_text, kind, rank, out_dir, name)
        for policy in policies:
            exe = os.path.join(out_dir, f"{name}-{policy}")
            log(f"compiling {label}, --premerge={policy}")
            subprocess.run([compile_tool, path, "-o", exe,
                            f"--premerge={policy}"], check=True,
                           capture_output=True, text=True)
            executables[(label, policy)] = exe

    prompt = gpt2_bench.prompt_ids(args.prompt_tokens)
    times = {key: [] for key in executables}
    for round_index in range(args.rounds):
        for key, exe in executables.items():
            log(f"round {round_index + 1}/{args.rounds}: {key[0]}, {key[1]}")
            done = subprocess.run(
                [exe, "--prompt-ids", prompt, "--max-new-tokens",
                 str(args.tokens), "--threads", str(args.threads)],
                check=True, capture_output=True, text=True)
            match = re.search(r"prefill: (\d+) tokens in ([0-9.]+) ms; "
                              r"decode: (\d+) tokens in ([0-9.]+) ms",
                              done.stderr)
            times[key].append((int(match[1]) / float(match[2]) * 1e3,
                               int(match[3]) / float(match[4]) * 1e3))

    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(f"machine: {os.cpu_count()} CPUs, load average {load}; "
          f"{args.threads} threads; prompt {args.prompt_tokens} tokens, "
          f"{args.tokens} new; {args.rounds} rounds (medians)")
    print()
    print("| FFN | phase | keep tok/s | merge tok/s | cost tok/s | cost / best "
          "| within 5 % |")
    print("|---|---|---:|---:|---:|---:|---|")
    worst = 1.0
    for label, _, _, _ in variants:
        for phase, index in (("prefill", 0), ("decode", 1)):
            rate = {policy: statistics.median(
                t[index] for t in times[(label, policy)])
                for policy in policies}
            best = max(rate["keep"], rate["merge"])
            ratio = rate["cost"] / best
            worst = min(worst, ratio)
            print(f"| {label} | {phase} | {rate['keep']:.1f} | "
                  f"{rate['merge']:.1f} | {rate['cost']:.1f} | {ratio:.2f} | "
                  f"{'yes' if ratio >= 0.95 else 'NO'} |")
    print()
    print(f"cost policy at worst {worst:.2f} of the better fixed policy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
