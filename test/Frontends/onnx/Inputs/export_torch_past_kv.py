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

Beside each NAME.onnx: NAME.test_data_set/ with input_0.pb (ids [1, T]),
input_1.pb... (past_key_0, past_value_0, ... random N(0, 1)) and
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


def export(name, mask_styles, out_dir):
    torch.manual_seed(0)
    model = PastGPT2(mask_styles)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.add_(0.1 * torch.randn_like(module.weight))
                module.bias.normal_(0.0, 0.1)
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(0, VOCAB, (1, NEW), generator=gen)
    past = []
    for _ in mask_styles:
        past += [torch.randn(1, N_HEAD, PAST, HEAD_DIM, generator=gen)
                 for _ in range(2)]
    with torch.no_grad():
        outputs = model(input_ids, *past)
    input_names = ["input_ids"]
    output_names = ["logits"]
    for index in range(len(mask_styles)):
        input_names += ["past_key_%d" % index, "past_value_%d" % index]
        output_names += ["present_key_%d" % index, "present_value_%d" % index]
    path = os.path.join(out_dir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, (input_ids, *past), path,
                          input_names=input_names, output_names=output_names,
                          opset_version=17, do_constant_folding=True)
    data = os.path.join(out_dir, name + ".test_data_set")
    os.makedirs(data, exist_ok=True)
    for index, (tensor, tensor_name) in enumerate(
            zip((input_ids, *past), input_names)):
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


if __name__ == "__main__":
    main()
