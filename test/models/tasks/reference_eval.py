#!/usr/bin/env python3
"""PyTorch reference of `tvc-run --eval`: perplexity and task accuracy of a
Hugging Face GPT-2 checkpoint directory (config.json + model.safetensors,
float32, as test/models/train_bytegpt.py and test/models/tasks/train_tasks.py
write them), computed the way tvc-run computes them (docs/Evaluation.md),
so that the two numbers can be compared:

  perplexity  windows of `context` tokens starting every `stride` tokens
              (Hugging Face's perplexity guide); a window scores the tokens
              after the previous window's end that it predicts from at least
              one token of context; log-softmax in float64 from the float32
              logits.
  accuracy    X [N, T], Y [N, A]: the prediction for position t is the argmax
              of the logits at t - 1 (teacher forcing); exact match (all A
              right), token accuracy and the mean NLL of the answer tokens.

    /usr/bin/python3 test/models/tasks/reference_eval.py MODEL_DIR \\
        (--tokens FILE [--context N] [--stride S] | --inputs X.npy --answers Y.npy)

Needs Debian's python3-torch and python3-numpy; no transformers library (the
GPT-2 module is written by hand with Hugging Face's parameter names).
"""

import argparse
import json
import math
import os
import struct
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def gelu_new(x):
    """HF's NewGELUActivation (the tanh approximation), written out."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (
        x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """HF GPT-2's Conv1D: weight [in, out], y = x @ weight + bias."""

    def __init__(self, n_in, n_out, std=0.02):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


class Block(nn.Module):
    def __init__(self, d, heads, inner, eps, proj_std=0.02):
        super().__init__()
        self.d, self.heads = d, heads
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d)
        self.attn.c_proj = Conv1D(d, d, proj_std)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, inner)
        self.mlp.c_proj = Conv1D(inner, d, proj_std)

    def attention(self, x, masked):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.attn.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, hd).transpose(1, 2)
                   for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        scores = scores.masked_fill(masked, float("-inf"))
        y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.attn.c_proj(y)

    def forward(self, x, masked):
        x = x + self.attention(self.ln_1(x), masked)
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    """GPT2LMHeadModel with a tied head; state_dict keys are HF's."""

    def __init__(self, config):
        super().__init__()
        d = config["n_embd"]
        inner = config.get("n_inner") or 4 * d
        eps = config.get("layer_norm_epsilon", 1e-5)
        proj_std = 0.02 / math.sqrt(2 * config["n_layer"])
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config["vocab_size"], d),
            wpe=nn.Embedding(config["n_positions"], d),
            h=nn.ModuleList(Block(d, config["n_head"], inner, eps, proj_std)
                            for _ in range(config["n_layer"])),
            ln_f=nn.LayerNorm(d, eps=eps),
        ))
        nn.init.normal_(self.transformer.wte.weight, std=0.02)
        nn.init.normal_(self.transformer.wpe.weight, std=0.02)
        # True above the diagonal: the keys a query must not see. Not a
        # weight (model.safetensors leaves it out), but persistent so that
        # the ONNX export keeps it as an initializer, as bytegpt's does.
        n = config["n_positions"]
        self.register_buffer("masked",
                             torch.ones(n, n, dtype=torch.bool).triu(1))

    def forward(self, input_ids):
        t = input_ids.shape[1]
        tr = self.transformer
        x = tr.wte(input_ids) + tr.wpe(torch.arange(t).unsqueeze(0))
        masked = self.masked[:t, :t]
        for block in tr.h:
            x = block(x, masked)
        return F.linear(tr.ln_f(x), tr.wte.weight)


def read_safetensors(path):
    """{key: float32 tensor} of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: {key} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[8 + size + begin:8 + size + end], "<f4")
        tensors[key] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return tensors


def load_model(directory):
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    model = GPT2(config)
    state = read_safetensors(os.path.join(directory, "model.safetensors"))
    state["masked"] = model.masked
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, config


def read_tokens(path):
    """The ids of a .npy file (1-D int32/int64) or the bytes of any other."""
    if path.endswith(".npy"):
        return np.load(path).astype(np.int64)
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)


@torch.no_grad()
def perplexity(model, ids, context, stride):
    """{nll, tokens, windows}: summed NLL (nats) over the scored tokens."""
    total, count, windows = 0.0, 0, 0
    previous_end = 0
    for begin in range(0, len(ids), stride):
        end = min(begin + context, len(ids))
        first = max(previous_end, begin + 1)
        if first < end:
            x = torch.from_numpy(ids[begin:end].copy()).unsqueeze(0)
            logits = model(x)[0].double()
            logp = F.log_softmax(logits, dim=-1)
            targets = torch.from_numpy(ids[first:end].copy())
            rows = torch.arange(first - 1 - begin, end - 1 - begin)
            total -= logp[rows, targets].sum().item()
            count += end - first
            windows += 1
        previous_end = end
        if end == len(ids):
            break
    return dict(nll=total / count, tokens=count, windows=windows,
                perplexity=math.exp(total / count),
                bits_per_token=total / count / math.log(2))


@torch.no_grad()
def accuracy(model, inputs, answers):
    """{exact_match, token_accuracy, answer_nll} of teacher-forced answers."""
    n, t = inputs.shape
    a = answers.shape[1]
    logits = model(torch.from_numpy(inputs.astype(np.int64)))
    logp = F.log_softmax(logits.double(), dim=-1)[:, t - a - 1:t - 1]
    want = torch.from_numpy(answers.astype(np.int64))
    right = logp.argmax(-1) == want
    nll = -logp.gather(-1, want.unsqueeze(-1)).squeeze(-1)
    return dict(exact_match=right.all(-1).double().mean().item(),
                token_accuracy=right.double().mean().item(),
                answer_nll=nll.mean().item(), examples=n, answer_tokens=a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--tokens")
    parser.add_argument("--context", type=int)
    parser.add_argument("--stride", type=int)
    parser.add_argument("--inputs")
    parser.add_argument("--answers")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model, config = load_model(args.model_dir)
    if args.tokens:
        context = args.context or config["n_positions"]
        result = perplexity(model, read_tokens(args.tokens), context,
                            args.stride or context)
    else:
        result = accuracy(model, np.load(args.inputs), np.load(args.answers))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
