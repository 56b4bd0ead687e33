#!/usr/bin/env python3
"""Writes the two tiny example models bundled with tvc.

For each model this writes, next to this script, `<name>/model.safetensors`
(random float32 weights, GPT-2 style init) and `<name>/model.mlir` (one
`tvc.global` per tensor referencing the safetensors file, and a
`func.func @forward(%input_ids, %positions) -> logits` whose transformer
blocks are `tvc.layer` regions). The .mlir text and the weights come from the
same tensor table, so they cannot disagree.

  gpt2-tiny   GPT-2: vocab 256, context 64, d_model 64, 4 heads, 2 layers,
              FFN 256, learned positions, gelu (tanh), tied LM head.
  llama-tiny  LLaMA: vocab 256, d_model 64, 4 heads, 2 KV heads, 2 layers,
              FFN 176 (SwiGLU), RMS norm, RoPE (linear scaling x2 in layer 1),
              untied LM head.

The output is deterministic: rerunning rewrites byte-identical files (given
the same numpy version; numpy does not promise Generator streams across
releases). `--check` regenerates in memory and exits 1 if a file on disk
differs. Needs only the standard library and numpy.

    /usr/bin/python3 test/models/make_models.py [--out-dir DIR] [--check]
"""

import argparse
import json
import math
import os
import struct
import sys
from dataclasses import dataclass, field

import numpy as np

GENERATOR = "test/models/make_models.py"
WEIGHTS_FILE = "model.safetensors"

# Standard deviation of GPT-2's initialisation; residual output projections
# are further scaled by 1/sqrt(2 * layers) as GPT-2 does.
INIT_STD = 0.02


# ----------------------------------------------------------------------------
# Tensor table and safetensors writer
# ----------------------------------------------------------------------------


@dataclass
class Tensor:
    """One weight: safetensors key, IR symbol name, float32 data."""

    key: str
    symbol: str
    data: np.ndarray

    @property
    def mlir_type(self):
        return "tensor<" + "x".join(str(d) for d in self.data.shape) + "xf32>"


@dataclass
class Model:
    """A model's tensors in file order, keyed by safetensors name."""

    name: str
    seed: int
    num_layers: int
    prefix: str  # dropped from the key to form the IR symbol name
    tensors: dict = field(default_factory=dict)
    rng: np.random.Generator = None

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    def _add(self, key, data):
        assert key not in self.tensors, key
        symbol = key[len(self.prefix):] if key.startswith(self.prefix) else key
        data = np.ascontiguousarray(data, "<f4")
        self.tensors[key] = Tensor(key, symbol, data)

    def normal(self, key, shape, std=INIT_STD):
        self._add(key, self.rng.standard_normal(shape) * std)

    def residual_proj(self, key, shape):
        self.normal(key, shape, INIT_STD / math.sqrt(2 * self.num_layers))

    def ones(self, key, shape):
        self._add(key, np.ones(shape))

    def zeros(self, key, shape):
        self._add(key, np.zeros(shape))

    def __getitem__(self, key):
        return self.tensors[key]


def serialize_safetensors(tensors, metadata):
    """Returns safetensors bytes: u64 LE header length, JSON header padded
    with spaces to a multiple of 8, then the tensors back to back."""
    header = {"__metadata__": metadata}
    offset = 0
    for t in tensors:
        size = t.data.nbytes
        header[t.key] = {
            "dtype": "F32",
            "shape": list(t.data.shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    parts += [t.data.tobytes() for t in tensors]
    return b"".join(parts)


# ----------------------------------------------------------------------------
# MLIR text helpers
# ----------------------------------------------------------------------------


def f32(*shape):
    """`tensor<...xf32>` with `?` for None."""
    dims = ["?" if d is None else str(d) for d in shape]
    return "tensor<" + "x".join(dims) + "xf32>"


IDS = "tensor<1x?xi64>"


class Body:
    """Collects the lines of one region with a fixed indent."""

    def __init__(self, model, indent):
        self.model = model
        self.indent = indent
        self.lines = []

    def emit(self, line):
        self.lines.append(" " * self.indent + line)

    def weight(self, name, key):
        t = self.model[key]
        self.emit(f"%{name} = tvc.weight @{t.symbol} : {t.mlir_type}")
        return t

    def linear(self, result, x, x_type, key, bias_key=None):
        """`tvc.linear` reading weight `key` ([out, in]) and optional bias."""
        w = self.model[key]
        wname = result + "_weight"
        self.weight(wname, key)
        out = w.data.shape[0]
        res_type = f32(1, None, out)
        if bias_key is None:
            self.emit(
                f"%{result} = tvc.linear %{x}, %{wname} : "
                f"({x_type}, {w.mlir_type}) -> {res_type}"
            )
        else:
            b = self.model[bias_key]
            bname = result + "_bias"
            self.weight(bname, bias_key)
            self.emit(
                f"%{result} = tvc.linear %{x}, %{wname} bias %{bname} : "
                f"({x_type}, {w.mlir_type}, {b.mlir_type}) -> {res_type}"
            )
        return res_type


def module_text(model, header_lines, func_lines):
    lines = ["// " + l if l else "//" for l in header_lines]
    lines.append("")
    lines.append("module {")
    for t in model.tensors.values():
        lines.append(
            f'  tvc.global @{t.symbol} : {t.mlir_type} = '
            f'#tvc.external<"{WEIGHTS_FILE}", "{t.key}">'
        )
    lines.append("")
    lines += func_lines
    lines.append("}")
    return "\n".join(lines) + "\n"


def layer_lines(index, hidden_in, d_model, body_fn, model, result):
    """A `tvc.layer index (%hidden_in, %positions)` region around body_fn."""
    h = f32(1, None, d_model)
    lines = [
        f"    %{result} = tvc.layer {index} (%{hidden_in}, %positions) : "
        f"({h}, {IDS}) -> {h} {{",
        f"    ^bb0(%hidden: {h}, %pos: {IDS}):",
    ]
    body = Body(model, 6)
    body_fn(body, index)
    lines += body.lines
    lines.append("    }")
    return lines


# ----------------------------------------------------------------------------
# gpt2-tiny
# ----------------------------------------------------------------------------

GPT2 = dict(vocab=256, context=64, d_model=64, heads=4, layers=2, ffn=256,
            eps="1.0e-05", seed=0)


def build_gpt2():
    c = GPT2
    d, ffn = c["d_model"], c["ffn"]
    m = Model("gpt2-tiny", c["seed"], c["layers"], "transformer.")
    m.normal("transformer.wte.weight", (c["vocab"], d))
    m.normal("transformer.wpe.weight", (c["context"], d), 0.01)
    for i in range(c["layers"]):
        p = f"transformer.h.{i}."
        m.ones(p + "ln_1.weight", (d,))
        m.zeros(p + "ln_1.bias", (d,))
        for proj in ("q_proj", "k_proj", "v_proj"):
            m.normal(p + f"attn.{proj}.weight", (d, d))
            m.zeros(p + f"attn.{proj}.bias", (d,))
        m.residual_proj(p + "attn.c_proj.weight", (d, d))
        m.zeros(p + "attn.c_proj.bias", (d,))
        m.ones(p + "ln_2.weight", (d,))
        m.zeros(p + "ln_2.bias", (d,))
        m.normal(p + "mlp.c_fc.weight", (ffn, d))
        m.zeros(p + "mlp.c_fc.bias", (ffn,))
        m.residual_proj(p + "mlp.c_proj.weight", (d, ffn))
        m.zeros(p + "mlp.c_proj.bias", (d,))
    m.ones("transformer.ln_f.weight", (d,))
    m.zeros("transformer.ln_f.bias", (d,))
    return m


def gpt2_layer(c):
    d, eps, heads = c["d_model"], c["eps"], c["heads"]
    h = f32(1, None, d)
    f = f32(1, None, c["ffn"])

    def body_fn(b, i):
        p = f"transformer.h.{i}."
        b.weight("ln_1_weight", p + "ln_1.weight")
        b.weight("ln_1_bias", p + "ln_1.bias")
        b.emit(f"%normed = tvc.layer_norm %hidden, %ln_1_weight, %ln_1_bias "
               f"epsilon {eps} : {h}, {f32(d)}, {f32(d)}")
        b.linear("query", "normed", h, p + "attn.q_proj.weight",
                 p + "attn.q_proj.bias")
        b.linear("key", "normed", h, p + "attn.k_proj.weight",
                 p + "attn.k_proj.bias")
        b.linear("value", "normed", h, p + "attn.v_proj.weight",
                 p + "attn.v_proj.bias")
        b.emit(f"%attn = tvc.attention %query, %key, %value heads {heads} "
               f"kv_heads {heads} mask(#tvc.causal) : {h}, {h}, {h}")
        b.linear("attn_out", "attn", h, p + "attn.c_proj.weight",
                 p + "attn.c_proj.bias")
        b.emit(f"%residual = tvc.add %hidden, %attn_out : {h}")
        b.weight("ln_2_weight", p + "ln_2.weight")
        b.weight("ln_2_bias", p + "ln_2.bias")
        b.emit(f"%ffn_in = tvc.layer_norm %residual, %ln_2_weight, %ln_2_bias "
               f"epsilon {eps} : {h}, {f32(d)}, {f32(d)}")
        b.linear("ffn_up", "ffn_in", h, p + "mlp.c_fc.weight",
                 p + "mlp.c_fc.bias")
        b.emit(f"%ffn_act = tvc.gelu %ffn_up approximate tanh : {f}")
        b.linear("ffn_out", "ffn_act", f, p + "mlp.c_proj.weight",
                 p + "mlp.c_proj.bias")
        b.emit(f"%out = tvc.add %residual, %ffn_out : {h}")
        b.emit(f"tvc.yield %out : {h}")

    return body_fn


def gpt2_mlir(m):
    c = GPT2
    d, v = c["d_model"], c["vocab"]
    h = f32(1, None, d)
    wte, wpe = m["transformer.wte.weight"], m["transformer.wpe.weight"]
    header = [
        "gpt2-tiny: a GPT-2 decoder with random weights, for examples and",
        f"tests. vocab {v}, context {c['context']}, d_model {d}, "
        f"{c['heads']} heads, {c['layers']} layers, FFN {c['ffn']};",
        f"layer_norm epsilon {c['eps']}, gelu (tanh), learned positions,",
        "causal attention, LM head tied to the token embedding (@wte.weight).",
        "Separate q/k/v projections with biases; linear weights are [out, in]",
        "(not the [in, out] of HF GPT-2's Conv1D).",
        "",
        f"Generated by {GENERATOR} (seed {c['seed']}) with",
        f"{WEIGHTS_FILE}; do not edit by hand, rerun the script.",
    ]
    f = Body(m, 4)
    f.emit(f"%wte = tvc.weight @{wte.symbol} : {wte.mlir_type}")
    f.emit(f"%wpe = tvc.weight @{wpe.symbol} : {wpe.mlir_type}")
    f.emit(f"%token_emb = tvc.embedding %wte, %input_ids : "
           f"{wte.mlir_type}, {IDS}")
    f.emit(f"%embedded = tvc.learned_positions %token_emb, %wpe, %positions : "
           f"{h}, {wpe.mlir_type}, {IDS}")
    lines = [f"  func.func @forward(%input_ids: {IDS}, %positions: {IDS}) "
             f"-> {f32(1, None, v)} {{"]
    lines += f.lines
    prev = "embedded"
    for i in range(c["layers"]):
        lines += layer_lines(i, prev, d, gpt2_layer(c), m, f"hidden_{i}")
        prev = f"hidden_{i}"
    f = Body(m, 4)
    f.weight("ln_f_weight", "transformer.ln_f.weight")
    f.weight("ln_f_bias", "transformer.ln_f.bias")
    f.emit(f"%final = tvc.layer_norm %{prev}, %ln_f_weight, %ln_f_bias "
           f"epsilon {c['eps']} : {h}, {f32(d)}, {f32(d)}")
    f.emit("// Tied head: the same global as the token embedding.")
    f.emit(f"%logits = tvc.lm_head %final, %wte : {h}, {wte.mlir_type}")
    f.emit(f"return %logits : {f32(1, None, v)}")
    lines += f.lines
    lines.append("  }")
    return module_text(m, header, lines)


# ----------------------------------------------------------------------------
# llama-tiny
# ----------------------------------------------------------------------------

LLAMA = dict(vocab=256, d_model=64, heads=4, kv_heads=2, layers=2, ffn=176,
             eps="1.0e-05", theta="1.0e+04", seed=1,
             # RoPE scaling per layer (None: plain RoPE); same for q and k.
             rope_scaling=[None, "<kind = linear, factor = 2.0>"])


def build_llama():
    c = LLAMA
    d, ffn = c["d_model"], c["ffn"]
    kv = d // c["heads"] * c["kv_heads"]
    m = Model("llama-tiny", c["seed"], c["layers"], "model.")
    m.normal("model.embed_tokens.weight", (c["vocab"], d))
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        m.ones(p + "input_layernorm.weight", (d,))
        m.normal(p + "self_attn.q_proj.weight", (d, d))
        m.normal(p + "self_attn.k_proj.weight", (kv, d))
        m.normal(p + "self_attn.v_proj.weight", (kv, d))
        m.residual_proj(p + "self_attn.o_proj.weight", (d, d))
        m.ones(p + "post_attention_layernorm.weight", (d,))
        m.normal(p + "mlp.gate_proj.weight", (ffn, d))
        m.normal(p + "mlp.up_proj.weight", (ffn, d))
        m.residual_proj(p + "mlp.down_proj.weight", (d, ffn))
    m.ones("model.norm.weight", (d,))
    m.normal("lm_head.weight", (c["vocab"], d))
    return m


def llama_layer(c):
    d, eps = c["d_model"], c["eps"]
    heads, kv_heads = c["heads"], c["kv_heads"]
    kv = d // heads * kv_heads
    h, k = f32(1, None, d), f32(1, None, kv)
    f = f32(1, None, c["ffn"])

    def body_fn(b, i):
        p = f"model.layers.{i}."
        scaling = c["rope_scaling"][i]
        rope_tail = f" theta {c['theta']}" + (
            f" scaling {scaling}" if scaling else "")
        b.weight("attn_norm_weight", p + "input_layernorm.weight")
        b.emit(f"%normed = tvc.rms_norm %hidden, %attn_norm_weight "
               f"epsilon {eps} : {h}, {f32(d)}")
        b.linear("query_proj", "normed", h, p + "self_attn.q_proj.weight")
        b.linear("key_proj", "normed", h, p + "self_attn.k_proj.weight")
        b.linear("value", "normed", h, p + "self_attn.v_proj.weight")
        b.emit(f"%query = tvc.rope %query_proj, %pos heads {heads}{rope_tail}"
               f" : {h}, {IDS}")
        b.emit(f"%key = tvc.rope %key_proj, %pos heads {kv_heads}{rope_tail}"
               f" : {k}, {IDS}")
        b.emit(f"%attn = tvc.attention %query, %key, %value heads {heads} "
               f"kv_heads {kv_heads} mask(#tvc.causal) : {h}, {k}, {k}")
        b.linear("attn_out", "attn", h, p + "self_attn.o_proj.weight")
        b.emit(f"%residual = tvc.add %hidden, %attn_out : {h}")
        b.weight("ffn_norm_weight", p + "post_attention_layernorm.weight")
        b.emit(f"%ffn_in = tvc.rms_norm %residual, %ffn_norm_weight "
               f"epsilon {eps} : {h}, {f32(d)}")
        b.linear("gate", "ffn_in", h, p + "mlp.gate_proj.weight")
        b.linear("up", "ffn_in", h, p + "mlp.up_proj.weight")
        b.emit(f"%ffn_act = tvc.glu %gate, %up activation silu : {f}")
        b.linear("ffn_out", "ffn_act", f, p + "mlp.down_proj.weight")
        b.emit(f"%out = tvc.add %residual, %ffn_out : {h}")
        b.emit(f"tvc.yield %out : {h}")

    return body_fn


def llama_mlir(m):
    c = LLAMA
    d, v = c["d_model"], c["vocab"]
    h = f32(1, None, d)
    embed = m["model.embed_tokens.weight"]
    head = m["lm_head.weight"]
    header = [
        "llama-tiny: a LLaMA decoder with random weights, for examples and",
        f"tests. vocab {v}, d_model {d}, {c['heads']} heads, "
        f"{c['kv_heads']} KV heads (GQA), {c['layers']} layers,",
        f"FFN {c['ffn']} (SwiGLU), rms_norm epsilon {c['eps']}, RoPE theta "
        f"{c['theta']}",
        "(plain in layer 0, linear scaling factor 2 in layer 1), causal",
        "attention, untied LM head, no biases. Linear weights are [out, in].",
        "",
        f"Generated by {GENERATOR} (seed {c['seed']}) with",
        f"{WEIGHTS_FILE}; do not edit by hand, rerun the script.",
    ]
    f = Body(m, 4)
    f.emit(f"%embed_tokens = tvc.weight @{embed.symbol} : {embed.mlir_type}")
    f.emit(f"%embedded = tvc.embedding %embed_tokens, %input_ids : "
           f"{embed.mlir_type}, {IDS}")
    lines = [f"  func.func @forward(%input_ids: {IDS}, %positions: {IDS}) "
             f"-> {f32(1, None, v)} {{"]
    lines += f.lines
    prev = "embedded"
    for i in range(c["layers"]):
        lines += layer_lines(i, prev, d, llama_layer(c), m, f"hidden_{i}")
        prev = f"hidden_{i}"
    f = Body(m, 4)
    f.weight("norm_weight", "model.norm.weight")
    f.emit(f"%final = tvc.rms_norm %{prev}, %norm_weight epsilon {c['eps']} "
           f": {h}, {f32(d)}")
    f.weight("lm_head_weight", "lm_head.weight")
    f.emit(f"%logits = tvc.lm_head %final, %lm_head_weight : "
           f"{h}, {head.mlir_type}")
    f.emit(f"return %logits : {f32(1, None, v)}")
    lines += f.lines
    lines.append("  }")
    return module_text(m, header, lines)


# ----------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------


def metadata(model, config):
    meta = {"generator": GENERATOR, "model": model.name,
            "seed": str(model.seed), "layout": "linear weights are [out, in]"}
    meta["config"] = json.dumps(config, sort_keys=True)
    return meta


def outputs():
    """(relative path, bytes) of every file this script writes."""
    files = []
    for build, to_mlir, config in ((build_gpt2, gpt2_mlir, GPT2),
                                   (build_llama, llama_mlir, LLAMA)):
        m = build()
        files.append((os.path.join(m.name, WEIGHTS_FILE),
                      serialize_safetensors(list(m.tensors.values()),
                                            metadata(m, config))))
        files.append((os.path.join(m.name, "model.mlir"),
                      to_mlir(m).encode("utf-8")))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir",
                        default=os.path.dirname(os.path.abspath(__file__)),
                        help="where the model folders go (default: beside "
                             "this script)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a file is stale")
    args = parser.parse_args()

    stale = []
    for rel, data in outputs():
        path = os.path.join(args.out_dir, rel)
        if args.check:
            try:
                with open(path, "rb") as fh:
                    same = fh.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        print(f"wrote {path} ({len(data)} bytes)")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
