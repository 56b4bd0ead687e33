#!/usr/bin/env python3
"""PyTorch references for the bundled tiny models: writes their goldens.

For gpt2-tiny and llama-tiny this computes the logits of `forward` in
PyTorch (float32) from `<name>/model.safetensors`, following the
architecture each model's header comment states, and writes an ONNX-style
test set `<name>/test_data_set_0/{input_0,input_1,output_0}.pb`
(input_ids, positions, logits) that the end-to-end lit tests compare tvc's
compiled output against.

llama-lora is the LLaMA checkpoint of test/Frontends/hf/Inputs/
make_hf_checkpoint.py with the PEFT adapter of make_lora_adapter.py beside
it (both regenerated into a temporary directory here and by the lit test
test/Frontends/hf/lora-numerics.test): each adapted linear adds PEFT's
`scaling * B (A x)`, the scaling taken from adapter_config.json by PEFT's
rules; only its test set is stored. gpt2-lora is the same for the GPT-2
checkpoint of make_hf_checkpoint.py (bare keys, [in, out] Conv1D weights,
fused c_attn) and make_lora_adapter.py's GPT-2 adapter (PEFT's
"transformer.h.N" names): each adapted Conv1D computes
`x W + b + scaling * (x A^T) B^T` (test/Frontends/hf/lora-gpt2.test).

The reference is written from the models' descriptions, not from tvc's IR,
so a lowering bug cannot hide in both. Needs Debian's python3-torch,
python3-onnx and python3-numpy; the goldens are committed, so tests do not.

    /usr/bin/python3 test/models/torch_reference.py [NAME...]
"""

import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT_LEN = 48
SEED = 1234


def load_safetensors(path, skip_dtypes=()):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] in skip_dtypes:
            continue
        assert info["dtype"] == "F32", name
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=np.float32)
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return tensors


def linear(x, w, b=None, lora=None):
    y = x @ w.T
    if lora is not None:
        a, up, scaling = lora
        y = y + scaling * ((x @ a.T) @ up.T)
    return y + b if b is not None else y


def load_lora(adapter_dir):
    """A PEFT adapter directory as {module: (A, B, scaling)}: the scaling is
    lora_alpha / r (lora_alpha / sqrt(r) with use_rslora), r and lora_alpha
    overridden by the first rank_pattern/alpha_pattern key K for which
    `(.*\\.)?(K)$` matches the module name."""
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        config = json.load(f)
    tensors = load_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))

    def lookup(patterns, module, default):
        for key, value in (patterns or {}).items():
            if re.match(rf"(.*\.)?({key})$", module):
                return value
        return default

    lora = {}
    for key, a in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[len("base_model.model."):-len(".lora_A.weight")]
        r = lookup(config.get("rank_pattern"), module, config["r"])
        alpha = lookup(config.get("alpha_pattern"), module, config["lora_alpha"])
        assert a.shape[0] == r, (module, a.shape, r)
        scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        up = tensors[key.replace(".lora_A.", ".lora_B.")]
        lora[module] = (a, up, scaling)
    return lora


def attention(q, k, v, heads, kv_heads):
    """Causal grouped-query attention over [B, T, H*Dh] tensors."""
    b, t, _ = q.shape
    dh = q.shape[-1] // heads
    q = q.view(b, t, heads, dh).transpose(1, 2)
    k = k.view(b, t, kv_heads, dh).transpose(1, 2)
    v = v.view(b, t, kv_heads, dh).transpose(1, 2)
    group = heads // kv_heads
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(1, 2).reshape(b, t, heads * dh)


def gpt2(w, ids, positions, layers=2, heads=4, eps=1e-5):
    p = "transformer."
    h = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][positions]
    ln = torch.nn.functional.layer_norm
    for i in range(layers):
        q = f"{p}h.{i}."
        x = ln(h, (h.shape[-1],), w[q + "ln_1.weight"], w[q + "ln_1.bias"], eps)
        qkv = [linear(x, w[q + f"attn.{n}_proj.weight"], w[q + f"attn.{n}_proj.bias"])
               for n in ("q", "k", "v")]
        a = attention(*qkv, heads, heads)
        h = h + linear(a, w[q + "attn.c_proj.weight"], w[q + "attn.c_proj.bias"])
        x = ln(h, (h.shape[-1],), w[q + "ln_2.weight"], w[q + "ln_2.bias"], eps)
        x = linear(x, w[q + "mlp.c_fc.weight"], w[q + "mlp.c_fc.bias"])
        x = torch.nn.functional.gelu(x, approximate="tanh")
        h = h + linear(x, w[q + "mlp.c_proj.weight"], w[q + "mlp.c_proj.bias"])
    h = ln(h, (h.shape[-1],), w[p + "ln_f.weight"], w[p + "ln_f.bias"], eps)
    return linear(h, w[p + "wte.weight"])


def conv1d(x, w, b, lora=None):
    """Hugging Face's Conv1D, W [in, out], plus PEFT's LoRA branch, whose A
    [r, in] and B [out, r] are stored as for nn.Linear."""
    y = x @ w + b
    if lora is not None:
        a, up, scaling = lora
        y = y + scaling * ((x @ a.T) @ up.T)
    return y


def gpt2_hf(w, ids, positions, config, lora):
    """GPT2LMHeadModel of an HF checkpoint with bare keys; `lora` is keyed
    by PEFT's module names ("transformer.h.N...")."""
    d, heads, eps = config["n_embd"], config["n_head"], config["layer_norm_epsilon"]
    ln = torch.nn.functional.layer_norm

    def proj(x, module):
        return conv1d(x, w[module + ".weight"], w[module + ".bias"],
                      lora.get("transformer." + module))
    h = w["wte.weight"][ids] + w["wpe.weight"][positions]
    for i in range(config["n_layer"]):
        p = f"h.{i}."
        x = ln(h, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        q, k, v = proj(x, p + "attn.c_attn").split(d, dim=-1)
        h = h + proj(attention(q, k, v, heads, heads), p + "attn.c_proj")
        x = ln(h, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        x = torch.nn.functional.gelu(proj(x, p + "mlp.c_fc"), approximate="tanh")
        h = h + proj(x, p + "mlp.c_proj")
    h = ln(h, (d,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return h @ w["wte.weight"].T


def rms_norm(x, scale, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * scale


def rope(x, positions, heads, theta, factor):
    """Half-split (rotate_half) RoPE; linear scaling divides positions."""
    b, t, width = x.shape
    dh = width // heads
    inv_freq = 1.0 / theta ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh)
    angles = positions.to(torch.float64)[..., None] / factor * inv_freq
    cos = torch.cat([angles.cos(), angles.cos()], -1).to(torch.float32)[:, :, None]
    sin = torch.cat([angles.sin(), angles.sin()], -1).to(torch.float32)[:, :, None]
    x = x.view(b, t, heads, dh)
    rotated = torch.cat([-x[..., dh // 2:], x[..., : dh // 2]], -1)
    return (x * cos + rotated * sin).reshape(b, t, width)


def llama(w, ids, positions, layers=2, heads=4, kv_heads=2, eps=1e-5,
          theta=1e4, factors=(1.0, 2.0), lora=None):
    lora = lora or {}

    def proj(x, module):
        return linear(x, w[module + ".weight"], lora=lora.get(module))
    h = w["model.embed_tokens.weight"][ids]
    for i in range(layers):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = proj(x, p + "self_attn.q_proj")
        k = proj(x, p + "self_attn.k_proj")
        v = proj(x, p + "self_attn.v_proj")
        q = rope(q, positions, heads, theta, factors[i])
        k = rope(k, positions, kv_heads, theta, factors[i])
        a = attention(q, k, v, heads, kv_heads)
        h = h + proj(a, p + "self_attn.o_proj")
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = proj(x, p + "mlp.gate_proj")
        up = proj(x, p + "mlp.up_proj")
        h = h + proj(torch.nn.functional.silu(gate) * up, p + "mlp.down_proj")
    h = rms_norm(h, w["model.norm.weight"], eps)
    return linear(h, w["lm_head.weight"])


def write_test_set(name, forward, weights=None):
    if weights is None:
        weights = load_safetensors(os.path.join(HERE, name, "model.safetensors"))
    rng = np.random.default_rng(SEED)
    ids = rng.integers(0, 256, size=(1, PROMPT_LEN), dtype=np.int64)
    positions = np.arange(PROMPT_LEN, dtype=np.int64)[None]
    with torch.no_grad():
        logits = forward(weights, torch.from_numpy(ids),
                         torch.from_numpy(positions)).numpy()
    out_dir = os.path.join(HERE, name, "test_data_set_0")
    os.makedirs(out_dir, exist_ok=True)
    for file, array, tensor_name in (("input_0.pb", ids, "input_ids"),
                                     ("input_1.pb", positions, "positions"),
                                     ("output_0.pb", logits, "logits")):
        proto = numpy_helper.from_array(np.ascontiguousarray(array), tensor_name)
        with open(os.path.join(out_dir, file), "wb") as f:
            f.write(proto.SerializeToString())
    print(f"{name}: logits {logits.shape}, max |logit| {np.abs(logits).max():.4f}")


def base_with_adapter(family, skip_dtypes=()):
    """Writes a small HF checkpoint of `family` and a PEFT adapter for it
    (the generators beside the HF importer's tests) into a temporary
    directory and returns (base weights, LoRA factors, config.json)."""
    inputs = os.path.join(HERE, "..", "Frontends", "hf", "Inputs")
    with tempfile.TemporaryDirectory() as tmp:
        base, adapter = os.path.join(tmp, "base"), os.path.join(tmp, "adapter")
        subprocess.run([sys.executable, os.path.join(inputs, "make_hf_checkpoint.py"),
                        family, base], check=True)
        subprocess.run([sys.executable, os.path.join(inputs, "make_lora_adapter.py"),
                        base, adapter], check=True)
        weights = load_safetensors(os.path.join(base, "model.safetensors"),
                                   skip_dtypes=skip_dtypes)
        with open(os.path.join(base, "config.json")) as f:
            config = json.load(f)
        return weights, load_lora(adapter), config


def write_lora_test_set():
    weights, lora, _ = base_with_adapter("llama")

    def forward(w, ids, positions):
        return llama(w, ids, positions, factors=(1.0, 1.0), lora=lora)
    write_test_set("llama-lora", forward, weights)


def write_gpt2_lora_test_set():
    # The attention-mask buffers (BOOL/U8) are not weights.
    weights, lora, config = base_with_adapter("gpt2", skip_dtypes=("BOOL", "U8"))
    assert len(lora) == 4 * config["n_layer"], sorted(lora)

    def forward(w, ids, positions):
        return gpt2_hf(w, ids, positions, config, lora)
    write_test_set("gpt2-lora", forward, weights)


if __name__ == "__main__":
    torch.manual_seed(0)
    names = sys.argv[1:] or ["gpt2-tiny", "llama-tiny", "llama-lora", "gpt2-lora"]
    if "gpt2-tiny" in names:
        write_test_set("gpt2-tiny", gpt2)
    if "llama-tiny" in names:
        write_test_set("llama-tiny", llama)
    if "llama-lora" in names:
        write_lora_test_set()
    if "gpt2-lora" in names:
        write_gpt2_lora_test_set()
