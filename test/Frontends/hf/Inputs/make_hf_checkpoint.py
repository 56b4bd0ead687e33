#!/usr/bin/env python3
"""Writes a tiny Hugging Face-layout checkpoint directory with random weights.

Used by the tvc-import lit tests (test/Frontends/hf). The directory holds
`config.json` as Hugging Face transformers writes it for the model type, and
the weights as `model.safetensors`, or with `--shards N` as
`model-0000i-of-0000N.safetensors` plus `model.safetensors.index.json`. Key
names and shapes are those of real HF checkpoints:

  gpt2     vocab 256, n_embd 64, n_head 4, n_layer 2, n_positions 64,
           n_inner null (FFN 4 * 64 = 256), gelu_new. Conv1D weights are
           [in, out]; c_attn is fused ([64, 192]). Keys have no
           "transformer." prefix unless --prefix. Each layer also stores the
           buffers "h.N.attn.bias" ([1, 1, 64, 64], BOOL or U8) and
           "h.N.attn.masked_bias" (F32 scalar) that an importer must ignore.
           No lm_head.weight (the head is tied to wte).
  llama    vocab 256, hidden 64, 4 heads, 2 KV heads, 2 layers,
  mistral  intermediate 176, silu; nn.Linear weights are [out, in].
  qwen2    qwen2 adds q/k/v_proj biases. lm_head.weight unless --tie.

The output is deterministic (fixed seed; numpy's default_rng). Needs only
the standard library and numpy:

  make_hf_checkpoint.py MODEL_TYPE OUT_DIR [--shards N] [--dtype f32|f16|bf16]
      [--tie] [--prefix] [--sliding-window W] [--rope-scaling KIND:FACTOR]
      [--drop KEY]... [--corrupt-shape KEY]... [--set FIELD=VALUE]...
      [--unset FIELD]... [--header-length N] [--buffer-dtype BOOL|U8]
      [--seed S]

Options for negative tests:
  --drop KEY           leave tensor KEY out of the checkpoint (and index).
  --corrupt-shape KEY  store KEY with a wrong shape: a non-square matrix
                       transposed ([32, 64] -> [64, 32]), otherwise dim 0 + 1.
  --set FIELD=VALUE    override a config.json field; VALUE is parsed as JSON
                       and taken as a plain string if that fails
                       (--set model_type=bert, --set rope_theta=500000.0).
  --unset FIELD        remove a config.json field.
  --header-length N    write N as the 8-byte header length of the (first)
                       weights file instead of the true length.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

VOCAB = 256
HIDDEN = 64
HEADS = 4
KV_HEADS = 2
LAYERS = 2
INTERMEDIATE = 176
GPT2_POSITIONS = 64
LLAMA_POSITIONS = 128
TRANSFORMERS_VERSION = "4.46.0"
INIT_STD = 0.02

TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


# ----------------------------------------------------------------------------
# Tensors
# ----------------------------------------------------------------------------


class Tensor:
    """One stored tensor: key, safetensors dtype name, shape, raw bytes."""

    def __init__(self, key, dtype, shape, data):
        self.key = key
        self.dtype = dtype
        self.shape = list(shape)
        self.data = data
        self.itemsize = {"F32": 4, "F16": 2, "BF16": 2, "BOOL": 1, "U8": 1}[dtype]
        count = 1
        for d in self.shape:
            count *= d
        assert len(data) == count * self.itemsize, (key, len(data), shape)

    @property
    def nbytes(self):
        return len(self.data)


def encode_float(values, dtype):
    """Little-endian bytes of float32 `values` converted to `dtype`."""
    values = np.ascontiguousarray(values, dtype="<f4")
    if dtype == "f32":
        return values.tobytes()
    if dtype == "f16":
        return values.astype("<f2").tobytes()
    if dtype == "bf16":
        # bfloat16 is the upper half of a float32 (truncation).
        bits = values.view("<u4") >> np.uint32(16)
        return bits.astype("<u2").tobytes()
    raise ValueError(dtype)


class Builder:
    """Collects a checkpoint's tensors in module order."""

    def __init__(self, args):
        self.args = args
        self.rng = np.random.default_rng(args.seed)
        self.tensors = []
        self.corrupt = set(args.corrupt_shape)

    def _shape(self, key, shape):
        shape = list(shape)
        if key not in self.corrupt:
            return shape
        self.corrupt.discard(key)
        if len(shape) == 2 and shape[0] != shape[1]:
            return [shape[1], shape[0]]
        if not shape:
            return [1]
        return [shape[0] + 1] + shape[1:]

    def add_float(self, key, shape, kind="normal"):
        shape = self._shape(key, shape)
        if kind == "normal":
            values = self.rng.standard_normal(shape) * INIT_STD
        elif kind == "ones":
            # Norm scales near one, not exactly one, so that bf16/f16
            # truncation is visible in the bytes.
            values = 1.0 + self.rng.standard_normal(shape) * INIT_STD
        else:
            raise ValueError(kind)
        data = encode_float(values, self.args.dtype)
        self.tensors.append(Tensor(key, ST_DTYPE[self.args.dtype], shape, data))

    def add_raw(self, key, dtype, shape, data):
        shape = self._shape(key, shape)
        if list(shape) != list(np.shape(data)):
            data = np.resize(data, shape)
        self.tensors.append(Tensor(key, dtype, shape, np.ascontiguousarray(data).tobytes()))


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------


def gpt2_tensors(b, prefix):
    p = "transformer." if prefix else ""
    d, ffn = HIDDEN, 4 * HIDDEN
    b.add_float(p + "wte.weight", [VOCAB, d])
    b.add_float(p + "wpe.weight", [GPT2_POSITIONS, d])
    causal = np.tril(np.ones((GPT2_POSITIONS, GPT2_POSITIONS), dtype=np.uint8))
    causal = causal.reshape(1, 1, GPT2_POSITIONS, GPT2_POSITIONS)
    for i in range(LAYERS):
        h = f"{p}h.{i}."
        b.add_float(h + "ln_1.weight", [d], "ones")
        b.add_float(h + "ln_1.bias", [d])
        # Buffers (not parameters) that old GPT-2 checkpoints carry.
        b.add_raw(h + "attn.bias", b.args.buffer_dtype, causal.shape, causal)
        b.add_raw(h + "attn.masked_bias", "F32", [], np.array(-1.0e4, dtype="<f4"))
        b.add_float(h + "attn.c_attn.weight", [d, 3 * d])
        b.add_float(h + "attn.c_attn.bias", [3 * d])
        b.add_float(h + "attn.c_proj.weight", [d, d])
        b.add_float(h + "attn.c_proj.bias", [d])
        b.add_float(h + "ln_2.weight", [d], "ones")
        b.add_float(h + "ln_2.bias", [d])
        b.add_float(h + "mlp.c_fc.weight", [d, ffn])
        b.add_float(h + "mlp.c_fc.bias", [ffn])
        b.add_float(h + "mlp.c_proj.weight", [ffn, d])
        b.add_float(h + "mlp.c_proj.bias", [d])
    b.add_float(p + "ln_f.weight", [d], "ones")
    b.add_float(p + "ln_f.bias", [d])


def llama_tensors(b, model_type, tie):
    d, head_dim = HIDDEN, HIDDEN // HEADS
    kv = KV_HEADS * head_dim
    b.add_float("model.embed_tokens.weight", [VOCAB, d])
    for i in range(LAYERS):
        L = f"model.layers.{i}."
        b.add_float(L + "input_layernorm.weight", [d], "ones")
        b.add_float(L + "self_attn.q_proj.weight", [d, d])
        if model_type == "qwen2":
            b.add_float(L + "self_attn.q_proj.bias", [d])
        b.add_float(L + "self_attn.k_proj.weight", [kv, d])
        if model_type == "qwen2":
            b.add_float(L + "self_attn.k_proj.bias", [kv])
        b.add_float(L + "self_attn.v_proj.weight", [kv, d])
        if model_type == "qwen2":
            b.add_float(L + "self_attn.v_proj.bias", [kv])
        b.add_float(L + "self_attn.o_proj.weight", [d, d])
        b.add_float(L + "post_attention_layernorm.weight", [d], "ones")
        b.add_float(L + "mlp.gate_proj.weight", [INTERMEDIATE, d])
        b.add_float(L + "mlp.up_proj.weight", [INTERMEDIATE, d])
        b.add_float(L + "mlp.down_proj.weight", [d, INTERMEDIATE])
    b.add_float("model.norm.weight", [d], "ones")
    if not tie:
        b.add_float("lm_head.weight", [VOCAB, d])


# ----------------------------------------------------------------------------
# config.json
# ----------------------------------------------------------------------------


def parse_rope_scaling(text):
    """`KIND:FACTOR` -> the rope_scaling dict real configs carry."""
    if text is None:
        return None
    kind, _, factor = text.partition(":")
    factor = float(factor) if factor else 2.0
    if kind == "linear":
        # Older configs (LLaMA 2 era) spell the kind "type".
        return {"factor": factor, "type": "linear"}
    if kind == "yarn":
        return {
            "factor": factor,
            "original_max_position_embeddings": int(LLAMA_POSITIONS // factor),
            "rope_type": "yarn",
        }
    if kind == "llama3":
        return {
            "factor": factor,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": int(LLAMA_POSITIONS // factor),
            "rope_type": "llama3",
        }
    return {"factor": factor, "rope_type": kind}


def gpt2_config(args):
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": VOCAB - 1,
        "embd_pdrop": 0.1,
        "eos_token_id": VOCAB - 1,
        "initializer_range": INIT_STD,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_embd": HIDDEN,
        "n_head": HEADS,
        "n_inner": None,
        "n_layer": LAYERS,
        "n_positions": GPT2_POSITIONS,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "torch_dtype": TORCH_DTYPE[args.dtype],
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": VOCAB,
    }


def llama_family_config(args):
    mt = args.model_type
    arch = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
            "qwen2": "Qwen2ForCausalLM"}[mt]
    c = {
        "architectures": [arch],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": HIDDEN // HEADS,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": INIT_STD,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": LLAMA_POSITIONS,
        "model_type": mt,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": KV_HEADS,
        "rms_norm_eps": 1e-05,
        "rope_scaling": parse_rope_scaling(args.rope_scaling),
        "rope_theta": 10000.0,
        "tie_word_embeddings": bool(args.tie),
        "torch_dtype": TORCH_DTYPE[args.dtype],
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": VOCAB,
    }
    if mt == "llama":
        c.update({"attention_bias": False, "mlp_bias": False,
                  "pretraining_tp": 1})
    elif mt == "mistral":
        c["sliding_window"] = args.sliding_window
    elif mt == "qwen2":
        # Like the released Qwen2/2.5 configs: a sliding_window value that is
        # not used because use_sliding_window is false.
        del c["head_dim"]
        c.update({
            "bos_token_id": 0,
            "eos_token_id": 0,
            "max_window_layers": LAYERS,
            "rms_norm_eps": 1e-06,
            "rope_theta": 1000000.0,
            "sliding_window": args.sliding_window or 32768,
            "use_sliding_window": args.sliding_window is not None,
        })
    return c


def apply_overrides(config, args):
    for item in args.set:
        field, sep, text = item.partition("=")
        if not sep:
            sys.exit(f"make_hf_checkpoint.py: --set needs FIELD=VALUE, got {item!r}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        config[field] = value
    for field in args.unset:
        config.pop(field, None)
    return config


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------


def serialize_safetensors(tensors, header_length=None):
    """safetensors bytes: u64 LE header length, JSON header space-padded to a
    multiple of 8, then the tensors back to back in the given order."""
    header = {"__metadata__": {"format": "pt"}}
    entries = {}
    offset = 0
    for t in tensors:
        entries[t.key] = {
            "dtype": t.dtype,
            "shape": t.shape,
            "data_offsets": [offset, offset + t.nbytes],
        }
        offset += t.nbytes
    for key in sorted(entries):
        header[key] = entries[key]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    length = len(text) if header_length is None else header_length
    return b"".join([struct.pack("<Q", length), text] + [t.data for t in tensors])


def storage_order(tensors):
    """Data order of the safetensors library: larger items first (keeps every
    tensor aligned to its item size), then by key."""
    return sorted(tensors, key=lambda t: (-t.itemsize, t.key))


def split_shards(tensors, n):
    """Splits `tensors` (module order) into `n` consecutive groups of about
    equal byte size, as transformers' save_pretrained(max_shard_size=...)
    does."""
    total = sum(t.nbytes for t in tensors)
    shards = [[] for _ in range(n)]
    done = 0
    for t in tensors:
        # The shard that holds the middle byte of the tensor.
        shards[min(n - 1, (2 * done + t.nbytes) * n // (2 * total))].append(t)
        done += t.nbytes
    if any(not shard for shard in shards):
        sys.exit(f"make_hf_checkpoint.py: cannot fill {n} shards")
    return shards


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Write a tiny Hugging Face checkpoint with random weights.")
    parser.add_argument("model_type", choices=["gpt2", "llama", "mistral", "qwen2"])
    parser.add_argument("out_dir")
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    parser.add_argument("--tie", action="store_true",
                        help="tie_word_embeddings (no lm_head.weight)")
    parser.add_argument("--prefix", action="store_true",
                        help="gpt2: keys with the 'transformer.' prefix")
    parser.add_argument("--sliding-window", type=int, default=None)
    parser.add_argument("--rope-scaling", default=None,
                        help="KIND:FACTOR, e.g. linear:2.0, yarn:4.0, llama3:8.0")
    parser.add_argument("--drop", action="append", default=[], metavar="KEY")
    parser.add_argument("--corrupt-shape", action="append", default=[], metavar="KEY")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--unset", action="append", default=[], metavar="FIELD")
    parser.add_argument("--header-length", type=int, default=None)
    parser.add_argument("--buffer-dtype", choices=["BOOL", "U8"], default="BOOL")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.shards < 1:
        parser.error("--shards must be at least 1")

    b = Builder(args)
    if args.model_type == "gpt2":
        gpt2_tensors(b, args.prefix)
        config = gpt2_config(args)
    else:
        llama_tensors(b, args.model_type, args.tie)
        config = llama_family_config(args)
    config = apply_overrides(config, args)

    keys = {t.key for t in b.tensors}
    for key in args.drop + args.corrupt_shape:
        if key not in keys:
            sys.exit(f"make_hf_checkpoint.py: no tensor {key!r} in a "
                     f"{args.model_type} checkpoint")
    tensors = [t for t in b.tensors if t.key not in set(args.drop)]

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        # transformers' PretrainedConfig.to_json_string: indent 2, sorted.
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")

    if args.shards == 1:
        write_file(os.path.join(args.out_dir, "model.safetensors"),
                   serialize_safetensors(storage_order(tensors),
                                         args.header_length))
        return 0

    n = args.shards
    weight_map = {}
    for i, shard in enumerate(split_shards(tensors, n)):
        name = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        for t in shard:
            weight_map[t.key] = name
        write_file(os.path.join(args.out_dir, name),
                   serialize_safetensors(storage_order(shard),
                                         args.header_length if i == 0 else None))
    index = {
        "metadata": {"total_size": sum(t.nbytes for t in tensors)},
        "weight_map": dict(sorted(weight_map.items())),
    }
    with open(os.path.join(args.out_dir, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps(index, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
