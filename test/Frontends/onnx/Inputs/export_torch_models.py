#!/usr/bin/env python3
"""Exports two tiny decoder-only transformers from PyTorch to ONNX.

Run once (torch 1.13 with its built-in TorchScript ONNX exporter, onnx and
numpy); its outputs are checked in beside it, and the tests never run it.

  export_torch_models.py [OUT_DIR]      (default: this script's directory)

Both models are plain torch.nn, randomly initialised after
torch.manual_seed(0) (norm weights 1 + N(0, 0.1), LayerNorm biases N(0, 0.1)
rather than torch's 1 and 0) and exported in eval mode with do_constant_folding,
input "input_ids" int64[1, seq] and output "logits" float[1, seq, 64]
(dynamic axis 1, "seq"; traced with seq = 8).

  gpt2_opset14.onnx     GPT-2 / nanoGPT style: vocab 64, d_model 32, 4 heads,
  gpt2_opset17.onnx     2 layers, context 16, learned positions, pre-LayerNorm
                        blocks, fused c_attn split into q/k/v, causal mask
                        from a registered tril buffer via masked_fill, exact
                        GELU MLP, final LayerNorm, lm_head tied to wte.
                        Opset 14 decomposes LayerNorm (ReduceMean, Sub, Pow,
                        Sqrt, Div, ...); opset 17 keeps LayerNormalization.
  llama_opset17.onnx    LLaMA style: vocab 64, d 32, 4 query heads, 2 KV heads
                        (GQA, k/v repeated with expand + reshape as HF's
                        repeat_kv), hand-written RMSNorm, rotary embedding
                        (rotate_half, cos/sin buffers indexed by position),
                        additive triu(-inf) causal mask, SwiGLU MLP, no
                        biases, untied lm_head.

Next to each NAME.onnx it writes NAME.input.npy (the int64[1, 8] ids) and
NAME.logits.npy (torch's float32 logits for those ids) for end-to-end checks.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 64
D_MODEL = 32
N_HEAD = 4
N_LAYER = 2
CONTEXT = 16
TRACE_LEN = 8


# --------------------------------------------------------------------------
# GPT-2 (nanoGPT / minGPT style)
# --------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    def __init__(self, d, n_head, block_size):
        super().__init__()
        assert d % n_head == 0
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.n_head = n_head
        self.n_embd = d
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(block_size, block_size)).view(
                1, 1, block_size, block_size
            ),
        )

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class GPT2MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, d, n_head, block_size):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, n_head, block_size)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = GPT2MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT2(nn.Module):
    def __init__(self, vocab=VOCAB, d=D_MODEL, n_head=N_HEAD, n_layer=N_LAYER,
                 block_size=CONTEXT):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(block_size, d)
        self.h = nn.ModuleList(
            [GPT2Block(d, n_head, block_size) for _ in range(n_layer)]
        )
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying

    def forward(self, input_ids):
        b, t = input_ids.size()
        pos = torch.arange(0, t, dtype=torch.long, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return self.lm_head(x)


# --------------------------------------------------------------------------
# LLaMA (HF LlamaModel style, written out by hand)
# --------------------------------------------------------------------------


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim, max_pos, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        t = torch.arange(max_pos, dtype=torch.float32)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos())
        self.register_buffer("sin_cached", emb.sin())

    def forward(self, position_ids):
        # [T, Dh] each
        return self.cos_cached[position_ids], self.sin_cached[position_ids]


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    # q, k: [B, H, T, Dh]; cos, sin: [T, Dh] -> broadcast as [1, 1, T, Dh]
    cos = cos.unsqueeze(0).unsqueeze(0)
    sin = sin.unsqueeze(0).unsqueeze(0)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def repeat_kv(x, n_rep):
    # [B, Hkv, T, Dh] -> [B, Hkv * n_rep, T, Dh], as HF's repeat_kv.
    b, n_kv, t, hd = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, None, :, :].expand(b, n_kv, n_rep, t, hd)
    return x.reshape(b, n_kv * n_rep, t, hd)


class LlamaAttention(nn.Module):
    def __init__(self, d, n_head, n_kv_head):
        super().__init__()
        self.n_head = n_head
        self.n_kv_head = n_kv_head
        self.head_dim = d // n_head
        self.q_proj = nn.Linear(d, n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_head * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.size()
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        n_rep = self.n_head // self.n_kv_head
        k = repeat_kv(k, n_rep)
        v = repeat_kv(v, n_rep)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        att = att + mask
        att = F.softmax(att, dim=-1, dtype=torch.float32).to(q.dtype)
        y = torch.matmul(att, v)
        y = y.transpose(1, 2).contiguous().reshape(B, T, -1)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.gate_proj = nn.Linear(d, hidden, bias=False)
        self.up_proj = nn.Linear(d, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaBlock(nn.Module):
    def __init__(self, d, n_head, n_kv_head, hidden):
        super().__init__()
        self.input_layernorm = RMSNorm(d)
        self.self_attn = LlamaAttention(d, n_head, n_kv_head)
        self.post_attention_layernorm = RMSNorm(d)
        self.mlp = LlamaMLP(d, hidden)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x


class Llama(nn.Module):
    def __init__(self, vocab=VOCAB, d=D_MODEL, n_head=N_HEAD, n_kv_head=2,
                 n_layer=N_LAYER, hidden=96, max_pos=CONTEXT):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(
            [LlamaBlock(d, n_head, n_kv_head, hidden) for _ in range(n_layer)]
        )
        self.norm = RMSNorm(d)
        self.rotary_emb = RotaryEmbedding(d // n_head, max_pos)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, input_ids):
        B, T = input_ids.size()
        position_ids = torch.arange(T, dtype=torch.long, device=input_ids.device)
        cos, sin = self.rotary_emb(position_ids)
        mask = torch.triu(
            torch.full((T, T), float("-inf"), device=input_ids.device), diagonal=1
        )
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        x = self.norm(x)
        return self.lm_head(x)


# --------------------------------------------------------------------------


def make_model(kind):
    torch.manual_seed(0)
    model = GPT2() if kind == "gpt2" else Llama()
    # Norms start as weight 1, bias 0; perturb them so that the goldens
    # catch a dropped or swapped scale/shift (and so that the exporter does
    # not fold the identical tensors into one initializer plus Identity nodes).
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.LayerNorm, RMSNorm)):
                module.weight.add_(0.1 * torch.randn_like(module.weight))
                if getattr(module, "bias", None) is not None:
                    module.bias.normal_(0.0, 0.1)
    model.eval()
    return model


def export(kind, opset, out_dir):
    name = "%s_opset%d" % (kind, opset)
    model = make_model(kind)
    gen = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(0, VOCAB, (1, TRACE_LEN), dtype=torch.int64,
                              generator=gen)
    with torch.no_grad():
        logits = model(input_ids)
    path = os.path.join(out_dir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (input_ids,),
            path,
            input_names=["input_ids"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {1: "seq"}, "logits": {1: "seq"}},
            opset_version=opset,
            do_constant_folding=True,
        )
    np.save(os.path.join(out_dir, name + ".input.npy"), input_ids.numpy())
    np.save(os.path.join(out_dir, name + ".logits.npy"),
            logits.numpy().astype(np.float32))
    n_params = sum(p.numel() for p in model.parameters())
    print("%s: %d parameters, %d bytes" % (path, n_params, os.path.getsize(path)))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for kind, opset in (("gpt2", 14), ("gpt2", 17), ("llama", 17)):
        export(kind, opset, out_dir)


if __name__ == "__main__":
    main()
