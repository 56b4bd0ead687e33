#!/usr/bin/python3
"""Whole-model prefill and decode time against sequence length, dense
causal attention against each sparse attention kind.

Writes a LLaMA-style model (RoPE, so no learned-position limit) with random
weights as a Hugging Face directory (config.json + model.safetensors) into
the scratch directory, imports it with `tvc-import`, makes one variant per
sparse kind with `tvc-opt --tvc-sparsify-attention=...`, and for every
sequence length T times each variant with

    tvc-run VARIANT.mlir --bench --json --max-seq-len T --num-threads N \\
        --prefill-tokens T --past 1 --repeat R          # prefill
    tvc-run VARIANT.mlir --bench --json --max-seq-len T --num-threads N \\
        --prefill-tokens 1 --past T-1 --repeat D        # decode

(a prefill of T tokens; one decode step after T-1 cached tokens, timed D
times after an untimed fill of the cache; all kinds at one T before the
next T, so load changes hit every kind alike).
Prints Markdown tables (prefill ms and dense/kind, prefill microseconds per
token, decode ms per step and dense/kind, the attention kernels' share of
prefill and decode) and writes a log-log plot as plain SVG.

Windowed layers get ring KV caches of `window` rows (tvc-derive-decode), so
the decode step of the window kinds reads only the ring.

    /usr/bin/python3 bench/attention_model_scaling.py [--build DIR]
        [--scratch DIR] [--lengths 1024,2048,...] [--kinds dense,window,...]
        [--repeat R] [--long-repeat R16K] [--decode-repeat D]
        [--phases prefill,decode] [--merge] [--layers L] [--threads N]
        [--svg FILE] [--json FILE] [--from-json FILE]

Needs numpy. Progress goes to stderr, the tables to stdout.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Sparse kinds: display name, colour, tvc-sparsify-attention options.
KINDS = {
    "dense": ("dense causal", "#c0392b", None),
    "window": ("window 256", "#2471a3", "kind=window window=256"),
    "window-global": ("window 256 + 64 global", "#17a589",
                      "kind=window-global window=256 global=64"),
    "block-local": ("block-local 64×4 + 1", "#7d3c98",
                    "kind=block-local block=64 local=4 global=1"),
    "top-k": ("top-k 256", "#d68910", "kind=top-k k=256"),
    "block-top-k": ("block top-k 64×(3 + own)", "#566573",
                    "kind=block-top-k block=64 k=3"),
    "vertical-slash": ("vertical-slash 128 + 128", "#28b463",
                       "kind=vertical-slash vertical=128 slash=128"),
    "alisa": ("ALISA 128 + 128", "#a04000", "kind=alisa window=128 k=128"),
}

GENERATOR_VERSION = 1


def log(msg):
    print("[attention_model_scaling] " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


def model_config(args):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": args.hidden,
        "intermediate_size": args.intermediate,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.heads,
        "num_hidden_layers": args.layers,
        "vocab_size": args.vocab,
        "max_position_embeddings": max(16384, max(args.lengths)),
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "_generator": "bench/attention_model_scaling.py v%d"
                      % GENERATOR_VERSION,
    }


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, array in tensors:
        size = array.nbytes
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for _, array in tensors:
            f.write(np.ascontiguousarray(array, dtype="<f4").tobytes())
    os.replace(path + ".tmp", path)


def write_model(hf_dir, config):
    """Random weights (std 0.02, residual projections / sqrt(2 L))."""
    rng = np.random.default_rng(0)
    d, f = config["hidden_size"], config["intermediate_size"]
    layers, vocab = config["num_hidden_layers"], config["vocab_size"]
    std, res = 0.02, 0.02 / np.sqrt(2 * layers)

    def normal(shape, s=std):
        return (rng.standard_normal(shape, dtype=np.float32) * s)

    tensors = [("model.embed_tokens.weight", normal((vocab, d)))]
    for i in range(layers):
        p = "model.layers.%d." % i
        tensors += [
            (p + "input_layernorm.weight", np.ones(d, np.float32)),
            (p + "self_attn.q_proj.weight", normal((d, d))),
            (p + "self_attn.k_proj.weight", normal((d, d))),
            (p + "self_attn.v_proj.weight", normal((d, d))),
            (p + "self_attn.o_proj.weight", normal((d, d), res)),
            (p + "post_attention_layernorm.weight", np.ones(d, np.float32)),
            (p + "mlp.gate_proj.weight", normal((f, d))),
            (p + "mlp.up_proj.weight", normal((f, d))),
            (p + "mlp.down_proj.weight", normal((d, f), res)),
        ]
    tensors += [("model.norm.weight", np.ones(d, np.float32)),
                ("lm_head.weight", normal((vocab, d)))]
    os.makedirs(hf_dir, exist_ok=True)
    write_safetensors(os.path.join(hf_dir, "model.safetensors"), tensors)
    with open(os.path.join(hf_dir, "config.json"), "w") as out:
        json.dump(config, out, indent=2, sort_keys=True)
        out.write("\n")
    return sum(a.size for _, a in tensors)


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s" % (
            " ".join(cmd), proc.returncode, proc.stderr.strip()[-3000:]))
    return proc.stdout


def prepare(args):
    """Model, import and one variant per kind; returns {kind: path}."""
    scratch = args.scratch
    hf_dir = os.path.join(scratch, "hf-L%d-d%d" % (args.layers, args.hidden))
    config = model_config(args)
    config_path = os.path.join(hf_dir, "config.json")
    current = None
    if os.path.exists(config_path) and os.path.exists(
            os.path.join(hf_dir, "model.safetensors")):
        with open(config_path) as f:
            current = json.load(f)
    if current != config:
        log("writing the model into %s" % hf_dir)
        params = write_model(hf_dir, config)
        log("  %.1f M parameters" % (params / 1e6))
    else:
        log("reusing the model in %s" % hf_dir)
    tools = os.path.join(args.build, "bin")
    model = os.path.join(hf_dir, "model.mlir")
    tag = os.path.join(hf_dir, "model.mlir.stamp")
    importer = os.path.join(tools, "tvc-import")
    stamp = "%s %s" % (os.path.getmtime(importer),
                       os.path.getmtime(config_path))
    if not (os.path.exists(model) and os.path.exists(tag)
            and open(tag).read() == stamp):
        log("tvc-import %s" % hf_dir)
        run([importer, "--quiet", hf_dir, "-o", model])
        with open(tag, "w") as f:
            f.write(stamp)
    variants = {}
    for kind in args.kinds:
        options = KINDS[kind][2]
        if options is None:
            variants[kind] = model
            continue
        out = os.path.join(hf_dir, "model-%s.mlir" % kind)
        log("tvc-opt --tvc-sparsify-attention='%s'" % options)
        run([os.path.join(tools, "tvc-opt"), model,
             "--tvc-sparsify-attention=" + options, "-o", out])
        variants[kind] = out
    return hf_dir, variants


# ---------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------


def bench(args, variant, hf_dir, prefill, past, capacity, repeat):
    cmd = [os.path.join(args.build, "bin", "tvc-run"), variant,
           "--weights-dir", hf_dir, "--bench", "--json",
           "--prefill-tokens", str(prefill), "--past", str(past),
           "--max-seq-len", str(capacity), "--repeat", str(repeat),
           "--num-threads", str(args.threads)]
    return json.loads(run(cmd))


def measure(args, hf_dir, variants, results):
    """Two tvc-run calls per T and kind: the prefill of T tokens (--repeat
    timed runs; a decode step at past 1 comes along), then one decode step
    after T-1 cached tokens (--decode-repeat timed steps after an untimed
    fill of the cache; a one-token prefill comes along)."""
    for t in args.lengths:
        repeat = args.long_repeat if t >= 16384 else args.repeat
        for kind in args.kinds:
            row = results["lengths"].setdefault(str(t), {}).setdefault(
                kind, {})
            start = time.time()
            try:
                if "prefill" in args.phases:
                    data = bench(args, variants[kind], hf_dir, t, 1, t,
                                 repeat)
                    pre = data["prefill"][0]
                    row.update({
                        "prefill_ms": pre["median_ms"],
                        "prefill_tokens_per_s": pre["tokens_per_s"],
                        "prefill_attention_ms":
                            pre["kernels"]["attention_ms"],
                        "prefill_mean_ms": pre["kernels"]["mean_ms"],
                        "prefill_min_ms": min(pre["runs_ms"]),
                        "prefill_repeat": repeat,
                        "compile_ms": data.get("compile_ms"),
                        "peak_rss_bytes": data.get("peak_rss_bytes"),
                    })
                if "decode" in args.phases:
                    data = bench(args, variants[kind], hf_dir, 1, t - 1, t,
                                 args.decode_repeat)
                    dec = data["decode"][0]
                    row.update({
                        "decode_ms": dec["median_ms"],
                        "decode_attention_ms": dec["kernels"]["attention_ms"],
                        "decode_mean_ms": dec["kernels"]["mean_ms"],
                        "decode_min_ms": min(dec["runs_ms"]),
                        "decode_repeat": args.decode_repeat,
                    })
            except (RuntimeError, ValueError, KeyError) as error:
                log("T=%d %s: FAILED: %s" % (t, kind, error))
                results["errors"].setdefault(str(t), {})[kind] = str(error)
                continue
            log("T=%5d %-13s prefill %9.1f ms  decode %7.3f ms  (%.0f s)"
                % (t, kind, row.get("prefill_ms", float("nan")),
                   row.get("decode_ms", float("nan")), time.time() - start))
    return results


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def rows_of(results):
    rows = {int(t): r for t, r in results["lengths"].items()}
    return dict(sorted(rows.items()))


def kinds_of(rows):
    present = {k for r in rows.values() for k in r}
    return [k for k in KINDS if k in present]


def tables(results):
    rows = rows_of(results)
    kinds = kinds_of(rows)
    out = []

    def grid(title, cell):
        out.extend([title, ""])
        out.append("| T | " + " | ".join(KINDS[k][0] for k in kinds) + " |")
        out.append("|---:|" + "---:|" * len(kinds))
        def safe(t, r, k):
            try:
                return cell(t, r, k)
            except (KeyError, ZeroDivisionError):
                return "–"
        for t, r in rows.items():
            out.append("| %d | " % t + " | ".join(
                safe(t, r, k) for k in kinds) + " |")
        out.append("")

    def with_ratio(key, fmt):
        def cell(t, r, k):
            value = r[k][key]
            if k != "dense" and "dense" in r:
                return (fmt + " (%.1f×)") % (value, r["dense"][key] / value)
            return fmt % value
        return cell

    def share(ms, mean):
        def cell(t, r, k):
            return "%.0f %%" % (100.0 * r[k][ms] / r[k][mean]) \
                if r[k][mean] > 0 else "–"
        return cell

    grid("Prefill of T tokens, ms (dense / kind):",
         with_ratio("prefill_ms", "%.0f"))
    grid("Prefill, microseconds per token (flat when linear in T):",
         lambda t, r, k: "%.1f" % (1e3 * r[k]["prefill_ms"] / t))
    grid("Prefill tokens/s:",
         lambda t, r, k: "%.0f" % r[k]["prefill_tokens_per_s"])
    grid("One decode step after T − 1 cached tokens, ms (dense / kind):",
         with_ratio("decode_ms", "%.2f"))
    grid("One decode step, fastest of the timed steps, ms (dense / kind):",
         with_ratio("decode_min_ms", "%.2f"))
    grid("Attention kernels' share of the prefill:",
         share("prefill_attention_ms", "prefill_mean_ms"))
    grid("Attention kernels' share of the decode step:",
         share("decode_attention_ms", "decode_mean_ms"))
    for t, errs in sorted(results.get("errors", {}).items(),
                          key=lambda e: int(e[0])):
        for kind, error in errs.items():
            out.append("FAILED at T = %s, %s: %s" % (t, kind,
                                                       error.splitlines()[-1]))
    return "\n".join(out)


def panel(parts, rows, kinds, key, title, x_off, width, height):
    left, right, top, bottom = x_off + 62, x_off + width - 10, 40, 50
    ts = list(rows)
    values = [r[k][key] for r in rows.values() for k in kinds
              if key in r.get(k, {})]
    if not values:
        return
    x0, x1 = np.log2(min(ts)) - 0.25, np.log2(max(ts)) + 0.25
    y0 = int(np.floor(np.log10(min(values))))
    y1 = int(np.ceil(np.log10(max(values))))
    if y1 == y0:
        y1 += 1

    def px(t):
        return left + (np.log2(t) - x0) / (x1 - x0) * (right - left)

    def py(v):
        return top + (y1 - np.log10(v)) / (y1 - y0) * (height - top - bottom)

    parts.append('<text x="%d" y="24" font-size="14">%s</text>'
                 % (left, title))
    for decade in range(y0, y1 + 1):
        y = py(10 ** decade)
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" '
                     'stroke="#ddd"/>' % (left, y, right, y))
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>'
                     % (left - 6, y + 4, 10.0 ** decade))
    for t in ts:
        x = px(t)
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" '
                     'stroke="#ddd"/>' % (x, top, x, height - bottom))
        label = "%dk" % (t // 1024) if t % 1024 == 0 else str(t)
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                     % (x, height - bottom + 16, label))
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
                 'stroke="black"/>' % (left, top, right - left,
                                       height - top - bottom))
    parts.append('<text x="%d" y="%d" text-anchor="middle">sequence length '
                 'T (tokens)</text>' % ((left + right) // 2, height - 14))
    parts.append('<text transform="translate(%d %d) rotate(-90)" '
                 'text-anchor="middle">ms</text>'
                 % (x_off + 16, (top + height - bottom) // 2))
    # Guides of slope 1 and 2 from the first point of the dense model.
    first = rows[ts[0]]
    if key in first.get("dense", {}):
        lo, hi = 10.0 ** y0, 10.0 ** y1
        for label, power in (("∝ T", 1), ("∝ T²", 2)):
            guide = [(t, first["dense"][key] * (t / ts[0]) ** power)
                     for t in ts]
            guide = [(t, v) for t, v in guide if lo <= v <= hi]
            if len(guide) >= 2:
                parts.append('<polyline fill="none" stroke="#999" '
                             'stroke-dasharray="3 3" points="%s"/>'
                             % " ".join("%.1f,%.1f" % (px(t), py(v))
                                        for t, v in guide))
                t, v = guide[-1]
                parts.append('<text x="%.1f" y="%.1f" fill="#777" '
                             'text-anchor="end">%s</text>'
                             % (px(t) - 4, py(v) - 6, label))
    for kind in kinds:
        color = KINDS[kind][1]
        points = [(t, r[kind][key]) for t, r in rows.items()
                  if key in r.get(kind, {})]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" '
                     'points="%s"/>' % (color, " ".join(
                         "%.1f,%.1f" % (px(t), py(v)) for t, v in points)))
        for t, v in points:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>'
                         % (px(t), py(v), color))


def svg(results, subtitle):
    rows = rows_of(results)
    kinds = kinds_of(rows)
    pw, height, legend = 400, 420, 190
    width = 2 * pw + legend
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
             % (width, height + 20, width, height + 20),
             '<rect width="100%" height="100%" fill="white"/>']
    panel(parts, rows, kinds, "prefill_ms", "Prefill of T tokens (log-log)",
          0, pw, height)
    panel(parts, rows, kinds, "decode_ms",
          "One decode step after T−1 (log-log)", pw, pw, height)
    for i, kind in enumerate(kinds):
        color = KINDS[kind][1]
        ly = 60 + 22 * i
        x = 2 * pw + 8
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                     'stroke-width="2"/>' % (x, ly, x + 24, ly, color))
        parts.append('<text x="%d" y="%d">%s</text>'
                     % (x + 30, ly + 4, KINDS[kind][0]))
    parts.append('<text x="10" y="%d" fill="#555">%s</text>'
                 % (height + 12, subtitle))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(REPO, "build"),
                        help="build directory with bin/tvc-* (default: "
                             "./build)")
    parser.add_argument("--scratch", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "tvc-bench-attention-model"),
        help="where the model is written (default: "
             "$TMPDIR/tvc-bench-attention-model)")
    parser.add_argument("--lengths", default="1024,2048,4096,8192,16384",
                        help="sequence lengths T, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated subset of: " + ", ".join(KINDS))
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs per measurement (default 3)")
    parser.add_argument("--long-repeat", type=int, default=1,
                        help="timed runs at T >= 16384 (default 1)")
    parser.add_argument("--decode-repeat", type=int, default=20,
                        help="timed decode steps per measurement (default "
                             "20)")
    parser.add_argument("--phases", default="prefill,decode",
                        help="what to measure: prefill, decode or both "
                             "(default prefill,decode)")
    parser.add_argument("--merge", action="store_true",
                        help="update the rows of the existing --json file "
                             "with what this run measures (e.g. --phases "
                             "decode after a full run)")
    parser.add_argument("--threads", type=int, default=2,
                        help="--num-threads of tvc-run (default 2)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--intermediate", type=int, default=1376)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--svg", help="write the plot here (e.g. "
                        "docs/attention_model_scaling.svg)")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--from-json", help="print tables (and --svg) from "
                        "a --json file instead of measuring")
    args = parser.parse_args()
    args.lengths = [int(t) for t in args.lengths.split(",") if t]
    args.kinds = [k for k in args.kinds.split(",") if k]
    args.phases = [p for p in args.phases.split(",") if p]
    if not set(args.phases) <= {"prefill", "decode"} or not args.phases:
        parser.error("--phases takes prefill, decode or both")
    if args.merge and not (args.json and os.path.exists(args.json)):
        parser.error("--merge needs an existing --json file")
    for kind in args.kinds:
        if kind not in KINDS:
            parser.error("unknown kind '%s' (known: %s)"
                         % (kind, ", ".join(KINDS)))

    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
    else:
        started = time.time()
        load0 = open("/proc/loadavg").read().split()[:3]
        hf_dir, variants = prepare(args)
        results = {"lengths": {}, "errors": {}}
        if args.merge:
            with open(args.json) as f:
                results = json.load(f)
            if "runs" not in results and "machine" in results:
                results["runs"] = [results["machine"]]
            results["errors"] = {}
        measure(args, hf_dir, variants, results)
        results["model"] = model_config(args)
        run_info = {
            "nproc": os.cpu_count(),
            "loadavg_start": load0,
            "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "seconds": round(time.time() - started, 1),
            "threads": args.threads, "phases": args.phases,
            "repeat": args.repeat, "long_repeat": args.long_repeat,
            "decode_repeat": args.decode_repeat,
        }
        results.setdefault("runs", []).append(run_info)
        results["machine"] = run_info
        log("done in %.0f s" % (time.time() - started))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1, sort_keys=True)
    m = results.get("model", {})
    print("Model: LLaMA-style, %s layers, hidden %s, %s heads × %s, FFN %s "
          "(SwiGLU), vocab %s, random weights; %s thread(s)."
          % (m.get("num_hidden_layers"), m.get("hidden_size"),
             m.get("num_attention_heads"),
             (m.get("hidden_size") or 0) // (m.get("num_attention_heads")
                                             or 1),
             m.get("intermediate_size"), m.get("vocab_size"),
             results.get("machine", {}).get("threads")))
    mach = results.get("machine", {})
    for info in results.get("runs", [mach] if mach else []):
        print("Run (%s): nproc %s, load %s at start, %s at end; %s s." % (
            ", ".join(info.get("phases", ["prefill", "decode"])),
            info["nproc"], " ".join(info["loadavg_start"]),
            " ".join(info["loadavg_end"]), info["seconds"]))
    print()
    print(tables(results))
    if args.svg and results["lengths"]:
        subtitle = ("LLaMA-style %s layers, d %s, %s heads; tvc-run --bench, "
                    "%s threads" % (m.get("num_hidden_layers"),
                                    m.get("hidden_size"),
                                    m.get("num_attention_heads"),
                                    mach.get("threads")))
        with open(args.svg + ".tmp", "w") as f:
            f.write(svg(results, subtitle))
        os.replace(args.svg + ".tmp", args.svg)
        log("plot: %s" % args.svg)
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
