#!/usr/bin/env python3
"""Exports GPT-2-style decoders with explicit past-KV inputs from PyTorch.

Run once (torch 1.13's TorchScript ONNX exporter, onnx, numpy); its outputs
are checked in beside it and the tests never run it.

  export_torch_past_kv.py [OUT_DIR]     (default: this script's directory)

The decoder is plain torch.nn (vocab 64, d_model 32, 4 heads of 8), written
the way hand-rolled KV-cache decoders are: each layer takes past_key_i and
past_value_i ([1, 4, P, 8]), concatenates its new keys and values after them
(torch.cat on dim -2) and returns them as present_key_i / present_value_i
([1, 4, P + T, 8]). Shapes are static: P = 5 cached positions, T = 3 new
tokens at positions 5..7 (learned position table of 16). Each layer builds
its causal mask a different way exporters meet in the wild:

  layer 0  masked_fill with a registered tril buffer sliced
           bias[:, :, P:P+T, :P+T] (nanoGPT/HF GPT-2 with a cache);
  layer 1  masked_fill with torch.tril(ones(P+T, P+T))[-T:];
  layer 2  an additive mask torch.triu(full((T, P+T), -inf), diagonal=P+1).

  gpt2_past_kv.onnx        the three layers above; every attention is the
                           causal mask over P + T keys with the queries at
                           the last T positions.
  gpt2_past_kv_topleft.onnx  one layer whose mask is bias[:, :, :T, :P+T]
                           (the slice forgets the offset: query i sees keys
                           0..i only). It is not causal at the queries'
                           positions, so it must not be raised as causal.
  llama_past_kv.onnx       LLaMA style with a cache, 2 layers: 4 query heads
                           on 2 KV heads (repeat_kv after the concat), RoPE
                           on the new q and k from cos/sin tables gathered by
                           a position_ids input ([1, T] = 5..7, as Hugging
                           Face passes it), the additive triu mask, RMSNorm,
                           SwiGLU; past_key_i/past_value_i are [1, 2, P, 8].
  gpt2_past_kv_dynamic.onnx  the three layers of gpt2_past_kv.onnx exported
                           with dynamic_axes (T on input_ids and logits, P
                           on the past inputs, P + T on the presents), as
                           Hugging Face/optimum export decoders with a
                           cache: the masks' slice bounds and sizes come
                           from Shape -> Gather -> arithmetic at run time.
                           Same weights and inputs as gpt2_past_kv.

Beside each NAME.onnx: NAME.test_data_set/ with input_0.pb (ids [1, T]),
(LLaMA: position_ids next), then past_key_0, past_value_0, ... (random
N(0, 1)) and
output_0.pb (logits [1, T, 64]), output_1.pb... (present_key_0,
present_value_0, ...), all computed by PyTorch.
"""

import math
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

# The hand-written RMSNorm of the models without a cache (same directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch_models import RMSNorm  # noqa: E402

VOCAB = 64
D_MODEL = 32
N_HEAD = 4
HEAD_DIM = D_MODEL // N_HEAD
CONTEXT = 16
PAST = 5
NEW = 3


class PastAttention(nn.Module):
    def __init__(self, mask_style):
        super().__init__()
        self.c_attn = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.c_proj = nn.Linear(D_MODEL, D_MODEL)
        self.mask_style = mask_style
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(CONTEXT, CONTEXT)).view(1, 1, CONTEXT,
                                                          CONTEXT),
        )

    def forward(self, x, past_k, past_v):
        B, T, C = x.size()
        P = past_k.size(2)
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        k = k.view(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        v = v.view(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        k = torch.cat([past_k, k], dim=-2)
        v = torch.cat([past_v, v], dim=-2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(HEAD_DIM))
        if self.mask_style == "buffer":
            att = att.masked_fill(self.bias[:, :, P:P + T, :P + T] == 0,
                                  float("-inf"))
        elif self.mask_style == "tril":
            allowed = torch.tril(torch.ones(P + T, P + T))[-T:]
            att = att.masked_fill(allowed == 0, float("-inf"))
        elif self.mask_style == "triu":
            att = att + torch.triu(torch.full((T, P + T), float("-inf")),
                                   diagonal=P + 1)
        elif self.mask_style == "topleft":
            att = att.masked_fill(self.bias[:, :, :T, :P + T] == 0,
                                  float("-inf"))
        else:
            raise ValueError(self.mask_style)
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y), k, v


class Block(nn.Module):
    def __init__(self, mask_style):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D_MODEL)
        self.attn = PastAttention(mask_style)
        self.ln_2 = nn.LayerNorm(D_MODEL)
        self.c_fc = nn.Linear(D_MODEL, 4 * D_MODEL)
        self.c_proj = nn.Linear(4 * D_MODEL, D_MODEL)

    def forward(self, x, past_k, past_v):
        a, k, v = self.attn(self.ln_1(x), past_k, past_v)
        x = x + a
        x = x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))
        return x, k, v


class PastGPT2(nn.Module):
    def __init__(self, mask_styles):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, D_MODEL)
        self.wpe = nn.Embedding(CONTEXT, D_MODEL)
        self.h = nn.ModuleList([Block(style) for style in mask_styles])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)

    def forward(self, input_ids, *past):
        P = past[0].size(2)
        T = input_ids.size(1)
        pos = torch.arange(P, P + T, dtype=torch.long)
        x = self.wte(input_ids) + self.wpe(pos)
        presents = []
        for index, block in enumerate(self.h):
            x, k, v = block(x, past[2 * index], past[2 * index + 1])
            presents += [k, v]
        return (self.lm_head(self.ln_f(x)), *presents)


N_KV_HEAD = 2


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x, n_rep):
    b, n_kv, t, hd = x.shape
    x = x[:, :, None, :, :].expand(b, n_kv, n_rep, t, hd)
    return x.reshape(b, n_kv * n_rep, t, hd)


class PastLlamaAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = nn.Linear(D_MODEL, N_HEAD * HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(D_MODEL, N_KV_HEAD * HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(D_MODEL, N_KV_HEAD * HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(N_HEAD * HEAD_DIM, D_MODEL, bias=False)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        B, T, _ = x.size()
        q = self.q_proj(x).view(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(B, T, N_KV_HEAD, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(B, T, N_KV_HEAD, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=-2)
        v = torch.cat([past_v, v], dim=-2)
        rep = N_HEAD // N_KV_HEAD
        att = torch.matmul(q, repeat_kv(k, rep).transpose(2, 3)) \
            / math.sqrt(HEAD_DIM)
        att = F.softmax(att + mask, dim=-1)
        y = torch.matmul(att, repeat_kv(v, rep))
        y = y.transpose(1, 2).contiguous().reshape(B, T, -1)
        return self.o_proj(y), k, v


class PastLlamaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(D_MODEL)
        self.self_attn = PastLlamaAttention()
        self.post_attention_layernorm = RMSNorm(D_MODEL)
        self.gate_proj = nn.Linear(D_MODEL, 96, bias=False)
        self.up_proj = nn.Linear(D_MODEL, 96, bias=False)
        self.down_proj = nn.Linear(96, D_MODEL, bias=False)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, mask,
                                 past_k, past_v)
        x = x + a
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class PastLlama(nn.Module):
    def __init__(self, n_layer=2, theta=10000.0):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, D_MODEL)
        self.layers = nn.ModuleList([PastLlamaBlock() for _ in range(n_layer)])
        self.norm = RMSNorm(D_MODEL)
        self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)
        inv_freq = 1.0 / (theta ** (torch.arange(0, HEAD_DIM, 2).float()
                                    / HEAD_DIM))
        freqs = torch.outer(torch.arange(CONTEXT, dtype=torch.float32),
                            inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos())
        self.register_buffer("sin_cached", emb.sin())

    def forward(self, input_ids, position_ids, *past):
        T = input_ids.size(1)
        P = past[0].size(2)
        # [1, T, Dh] rows for the new tokens, broadcast over the heads.
        cos = self.cos_cached[position_ids].unsqueeze(1)
        sin = self.sin_cached[position_ids].unsqueeze(1)
        mask = torch.triu(torch.full((T, P + T), float("-inf")),
                          diagonal=P + 1)
        x = self.embed_tokens(input_ids)
        presents = []
        for index, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, mask, past[2 * index],
                            past[2 * index + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(x)), *presents)


def export(name, mask_styles, out_dir, dynamic=False):
    torch.manual_seed(0)
    llama = mask_styles == "llama"
    model = PastLlama() if llama else PastGPT2(mask_styles)
    n_layer = 2 if llama else len(mask_styles)
    kv_heads = N_KV_HEAD if llama else N_HEAD
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.LayerNorm, RMSNorm)):
                module.weight.add_(0.1 * torch.randn_like(module.weight))
                if getattr(module, "bias", None) is not None:
                    module.bias.normal_(0.0, 0.1)
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(0, VOCAB, (1, NEW), generator=gen)
    inputs = [input_ids]
    input_names = ["input_ids"]
    if llama:
        inputs.append(torch.arange(PAST, PAST + NEW).view(1, NEW))
        input_names.append("position_ids")
    output_names = ["logits"]
    for index in range(n_layer):
        inputs += [torch.randn(1, kv_heads, PAST, HEAD_DIM, generator=gen)
                   for _ in range(2)]
        input_names += ["past_key_%d" % index, "past_value_%d" % index]
        output_names += ["present_key_%d" % index, "present_value_%d" % index]
    with torch.no_grad():
        outputs = model(*inputs)
    path = os.path.join(out_dir, name + ".onnx")
    # With dynamic axes the exporter keeps T and P symbolic: the position
    # range and the mask's slice bounds, triu diagonal and sizes are
    # computed at run time from Shape -> Gather -> arithmetic.
    dynamic_axes = None
    if dynamic:
        dynamic_axes = {"input_ids": {1: "T"}}
        for tensor_name in input_names[1:]:
            dynamic_axes[tensor_name] = {2: "P"}
        dynamic_axes["logits"] = {1: "T"}
        for tensor_name in output_names[1:]:
            dynamic_axes[tensor_name] = {2: "P_plus_T"}
    with torch.no_grad():
        torch.onnx.export(model, tuple(inputs), path,
                          input_names=input_names, output_names=output_names,
                          opset_version=17, do_constant_folding=True,
                          dynamic_axes=dynamic_axes)
    data = os.path.join(out_dir, name + ".test_data_set")
    os.makedirs(data, exist_ok=True)
    for index, (tensor, tensor_name) in enumerate(zip(inputs, input_names)):
        proto = onnx.numpy_helper.from_array(tensor.numpy(), tensor_name)
        with open(os.path.join(data, "input_%d.pb" % index), "wb") as f:
            f.write(proto.SerializeToString())
    for index, (tensor, tensor_name) in enumerate(zip(outputs, output_names)):
        proto = onnx.numpy_helper.from_array(
            tensor.numpy().astype(np.float32), tensor_name)
        with open(os.path.join(data, "output_%d.pb" % index), "wb") as f:
            f.write(proto.SerializeToString())
    print("%s: %d bytes" % (path, os.path.getsize(path)))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    export("gpt2_past_kv", ("buffer", "tril", "triu"), out_dir)
    export("gpt2_past_kv_topleft", ("topleft",), out_dir)
    export("llama_past_kv", "llama", out_dir)
    export("gpt2_past_kv_dynamic", ("buffer", "tril", "triu"), out_dir,
           dynamic=True)


if __name__ == "__main__":
    main()
