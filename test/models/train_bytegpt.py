#!/usr/bin/env python3
"""Trains bytegpt, the small byte-level GPT-2 bundled in test/models/bytegpt.

A real (trained) model for tvc's examples, tests and benchmarks: its logits
are not noise, so a lowering bug shows up as wrong text, not only as a
numeric mismatch. Everything it needs ships with Debian 12:

  corpus     the licence texts of /usr/share/common-licenses (package
             base-files, present on every Debian system): the regular files
             (symlinks such as GPL -> GPL-3 are skipped, so no text appears
             twice), concatenated in sorted name order; the last 5 % is held
             out for validation.
  tokens     bytes: vocabulary of 256, token id = byte value, no tokenizer.
  model      GPT-2 (pre-LayerNorm blocks, learned positions, causal
             attention, gelu_new MLP, LM head tied to the token embedding):
             context 256, n_embd 128, 4 layers, 4 heads, FFN 512.
             The module below is written by hand (no transformers library)
             with Hugging Face's GPT-2 parameter names and Conv1D layout
             ([in, out] weights, y = x @ W + b), so its state dict is an HF
             GPT2LMHeadModel checkpoint as it is.
  training   AdamW, linear warm-up then cosine decay, 4 random 256-byte
             windows a step; fixed seeds, torch.set_num_threads(2) and
             single-threaded BLAS (OPENBLAS_NUM_THREADS=1: OpenBLAS's own
             threads fight torch's and make training about twice as slow).
             About 6 minutes on 2 idle cores of a Zen 3 EPYC with OpenBLAS.

Writes to test/models/bytegpt/ (or --out-dir):

  config.json, model.safetensors   Hugging Face GPT-2 checkpoint (float32;
                                   keys "transformer.*", no lm_head.weight)
                                   for `tvc-import DIR`.
  model.onnx                       the same weights, torch.onnx.export with
                                   opset 17: input "input_ids" int64[1, T]
                                   (T dynamic, <= 256), output "logits"
                                   float32[1, T, 256]; positions are
                                   arange(T) inside the graph.
  test_data_set_0/                 input_0.pb input_ids int64[1, 32] (a
                                   validation snippet), input_1.pb positions
                                   int64[1, 32] (0..31), output_0.pb logits
                                   float32[1, 32, 256] from this PyTorch
                                   module (ONNX TensorProto files).
  test_data_set_1/                 the same for a full window of 256 bytes.
  README.md                        architecture, corpus, settings, losses,
                                   a greedy sample and how to regenerate.

Needs Debian's python3-torch (1.13), python3-numpy and python3-onnx:

    /usr/bin/python3 test/models/train_bytegpt.py [--out-dir DIR] [--steps N]

Reruns on the same machine give the same model; float rounding depends on
the BLAS library torch uses, so another machine may give slightly different
weights (the losses agree to about two decimals).
"""

import argparse
import hashlib
import json
import math
import os
import platform
import re
import struct
import sys
import time

# Set before torch loads OpenBLAS (see the docstring).
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = "test/models/train_bytegpt.py"
CORPUS_DIR = "/usr/share/common-licenses"

# Architecture (Hugging Face GPT2Config names).
VOCAB = 256
CONTEXT = 256
N_EMBD = 128
N_LAYER = 4
N_HEAD = 4
EPSILON = 1e-5

# Training.
SEED = 0
THREADS = 2
STEPS = 2500
STEP_BYTES = 1024    # bytes per step, in random windows of ...
WINDOWS = ((0.0, CONTEXT),)  # (from fraction, bytes)
LR = 3e-3
MIN_LR = 1e-4
WARMUP = 100
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.95)
GRAD_CLIP = 1.0
DROPOUT = 0.0
VAL_FRACTION = 0.05
INIT_STD = 0.02

PROMPT = b"The GNU General Public License"
SAMPLE_BYTES = 64
GOLDEN_LEN = 32


# ----------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------


def normalize(text):
    """Whitespace made plain: each run of spaces, tabs and form feeds
    becomes one space, lines lose their indentation and trailing blanks,
    and at most one empty line separates paragraphs. (The licences indent
    and centre with long runs of spaces; a model trained on them raw
    learns that a line starts with spaces, and greedy decoding then
    produces nothing else.)"""
    lines = [b" ".join(line.split()) for line in text.split(b"\n")]
    return re.sub(rb"\n{3,}", b"\n\n", b"\n".join(lines)).strip()


def load_corpus(directory):
    """(bytes, [(name, raw size, normalized size)]) of the regular files of
    `directory` in sorted name order (symlinks skipped), each normalized,
    separated by an empty line."""
    names = sorted(n for n in os.listdir(directory)
                   if os.path.isfile(os.path.join(directory, n))
                   and not os.path.islink(os.path.join(directory, n)))
    parts, files = [], []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        text = normalize(data)
        parts.append(text)
        files.append((name, len(data), len(text)))
    if not parts:
        sys.exit(f"train_bytegpt.py: no files in {directory}")
    return b"\n\n".join(parts) + b"\n", files


# ----------------------------------------------------------------------------
# Model: GPT-2 with Hugging Face's parameter names and Conv1D layout
# ----------------------------------------------------------------------------


# Training and evaluation compute the same functions in two forms. Training
# (module.training) uses the forms that are fastest on the CPU: addmm for
# the linear maps, F.gelu for gelu_new, one baddbmm for scaled and masked
# attention scores. Evaluation, the goldens and the ONNX export use the
# textbook forms that Hugging Face's GPT-2 uses and that ONNX importers
# recognise: MatMul + Add, gelu_new written out with Pow(x, 3), scores
# scaled with Mul and masked with Where. The two agree to float rounding.


class Conv1D(nn.Module):
    """HF GPT-2's Conv1D: weight [in, out], y = x @ weight + bias."""

    def __init__(self, n_in, n_out, std=INIT_STD):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        if self.training:
            return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]),
                               self.weight).view(*x.shape[:-1], -1)
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    """HF's NewGELUActivation (the tanh approximation), written out."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (
        x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, d, heads, proj_std, dropout):
        super().__init__()
        self.d = d
        self.heads = heads
        self.head_dim = d // heads
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d, proj_std)
        # No dropout on the attention probabilities: on [B, H, T, T] it
        # would cost more than it helps (DROPOUT is 0 anyway).
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x, masked, additive_mask):
        b, t = x.shape[0], x.shape[1]
        q, k, v = self.c_attn(x).split(self.d, dim=2)
        q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        scale = 1.0 / math.sqrt(self.head_dim)
        if additive_mask is None:
            # The reference form (HF GPT-2, and what is exported to ONNX):
            # scaled scores, -inf where masked, softmax.
            scores = (q @ k.transpose(-2, -1)) * scale
            scores = scores.masked_fill(masked, float("-inf"))
        else:
            # Training: scale and mask fused into one batched GEMM (about
            # twice as fast on the CPU at T = 256).
            n = b * self.heads
            scores = torch.baddbmm(
                additive_mask, q.reshape(n, t, self.head_dim),
                k.reshape(n, t, self.head_dim).transpose(1, 2),
                alpha=scale).view(b, self.heads, t, t)
        probs = F.softmax(scores, dim=-1)
        y = (probs @ v).transpose(1, 2).contiguous().view(b, t, self.d)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, d, inner, proj_std, dropout):
        super().__init__()
        self.c_fc = Conv1D(d, inner)
        self.c_proj = Conv1D(inner, d, proj_std)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        h = self.c_fc(x)
        h = F.gelu(h, approximate="tanh") if self.training else gelu_new(h)
        return self.dropout(self.c_proj(h))


class Block(nn.Module):
    def __init__(self, d, heads, layers, dropout):
        super().__init__()
        proj_std = INIT_STD / math.sqrt(2 * layers)
        self.ln_1 = nn.LayerNorm(d, eps=EPSILON)
        self.attn = Attention(d, heads, proj_std, dropout)
        self.ln_2 = nn.LayerNorm(d, eps=EPSILON)
        self.mlp = MLP(d, 4 * d, proj_std, dropout)

    def forward(self, x, masked, additive_mask):
        x = x + self.attn(self.ln_1(x), masked, additive_mask)
        return x + self.mlp(self.ln_2(x))


class ByteGPT(nn.Module):
    """GPT2LMHeadModel in miniature; state_dict keys are HF's."""

    def __init__(self, dropout=0.0):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(VOCAB, N_EMBD),
            wpe=nn.Embedding(CONTEXT, N_EMBD),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList(Block(N_EMBD, N_HEAD, N_LAYER, dropout)
                            for _ in range(N_LAYER)),
            ln_f=nn.LayerNorm(N_EMBD, eps=EPSILON),
        ))
        nn.init.normal_(self.transformer.wte.weight, std=INIT_STD)
        nn.init.normal_(self.transformer.wpe.weight, std=INIT_STD)
        # True above the diagonal: the keys a query must not see. One buffer
        # for all layers; not a weight (model.safetensors leaves it out), but
        # persistent so that the ONNX export keeps it as an initializer.
        masked = torch.ones(CONTEXT, CONTEXT, dtype=torch.bool).triu(1)
        self.register_buffer("masked", masked.view(1, 1, CONTEXT, CONTEXT))

    def forward(self, input_ids, positions=None):
        t = input_ids.shape[1]
        if positions is None:
            positions = torch.arange(t, dtype=torch.long).unsqueeze(0)
        tr = self.transformer
        x = tr.drop(tr.wte(input_ids) + tr.wpe(positions))
        masked = self.masked[:, :, :t, :t]
        additive_mask = None
        if self.training:
            additive_mask = torch.zeros(t, t).masked_fill(masked[0, 0],
                                                          float("-inf"))
        for block in tr.h:
            x = block(x, masked, additive_mask)
        x = tr.ln_f(x)
        # Tied head: logits = x @ wte^T.
        return F.linear(x, tr.wte.weight)


def hf_config():
    """config.json as transformers writes it for GPT2LMHeadModel."""
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": DROPOUT,
        "embd_pdrop": DROPOUT,
        "initializer_range": INIT_STD,
        "layer_norm_epsilon": EPSILON,
        "model_type": "gpt2",
        "n_ctx": CONTEXT,
        "n_embd": N_EMBD,
        "n_head": N_HEAD,
        "n_inner": None,
        "n_layer": N_LAYER,
        "n_positions": CONTEXT,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": DROPOUT,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": VOCAB,
    }


# ----------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------


def lr_at(step, steps):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, steps - WARMUP)
    return MIN_LR + 0.5 * (LR - MIN_LR) * (1 + math.cos(math.pi * progress))


def window_at(step, steps):
    """Sequence-length warm-up: short windows first. With 256 positions to
    attend to, a fresh model stays at the bigram loss (2.44 nats/byte on
    this corpus) for about 1M bytes before it learns to look back; short
    windows get it there sooner and cost less per byte."""
    window = WINDOWS[0][1]
    for start, size in WINDOWS:
        if step >= start * steps:
            window = size
    return window


def optimizer_for(model):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() == 2 else no_decay).append(p)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS)


@torch.no_grad()
def evaluate(model, data, batch=32):
    """Mean next-byte cross entropy (nats) over `data` cut into consecutive
    windows of CONTEXT predictions (each window starts without context)."""
    model.eval()
    starts = list(range(0, len(data) - 1, CONTEXT))
    total, count = 0.0, 0
    full = [s for s in starts if s + CONTEXT + 1 <= len(data)]
    for i in range(0, len(full), batch):
        chunk = full[i:i + batch]
        x = torch.stack([data[s:s + CONTEXT] for s in chunk])
        y = torch.stack([data[s + 1:s + CONTEXT + 1] for s in chunk])
        loss = F.cross_entropy(model(x).view(-1, VOCAB), y.view(-1),
                               reduction="sum")
        total += loss.item()
        count += y.numel()
    for s in starts:
        if s + CONTEXT + 1 > len(data):  # the last, shorter window
            x = data[s:len(data) - 1].unsqueeze(0)
            y = data[s + 1:].unsqueeze(0)
            loss = F.cross_entropy(model(x).view(-1, VOCAB), y.view(-1),
                                   reduction="sum")
            total += loss.item()
            count += y.numel()
    return total / count


def train(model, train_data, val_data, steps, log):
    rng = np.random.default_rng(SEED)
    opt = optimizer_for(model)
    start = time.time()
    cpu_start = time.process_time()
    for step in range(steps):
        model.train()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps)
        window = window_at(step, steps)
        offsets = rng.integers(0, len(train_data) - window - 1,
                               size=STEP_BYTES // window)
        x = torch.stack([train_data[o:o + window] for o in offsets])
        y = torch.stack([train_data[o + 1:o + window + 1] for o in offsets])
        loss = F.cross_entropy(model(x).view(-1, VOCAB), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            line = (f"step {step:5d}  loss {loss.item():.4f}  "
                    f"lr {lr_at(step, steps):.2e}  {time.time() - start:6.0f} s"
                    f"  (cpu {time.process_time() - cpu_start:6.0f} s)")
            if step % 400 == 0 or step == steps - 1:
                line += f"  val {evaluate(model, val_data):.4f}"
            log(line)
    return time.time() - start, time.process_time() - cpu_start


@torch.no_grad()
def greedy(model, prompt, n):
    model.eval()
    ids = list(prompt)
    for _ in range(n):
        x = torch.tensor([ids[-CONTEXT:]], dtype=torch.long)
        ids.append(int(model(x)[0, -1].argmax()))
    return bytes(ids[len(prompt):])


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------


def serialize_safetensors(tensors, metadata):
    """safetensors bytes of {key: float32 array}: u64 LE header length, JSON
    header (sorted keys) padded with spaces to a multiple of 8, then the
    data in key order."""
    header = {"__metadata__": metadata}
    offset = 0
    for key in sorted(tensors):
        size = tensors[key].nbytes
        header[key] = {"dtype": "F32", "shape": list(tensors[key].shape),
                       "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    parts += [tensors[key].tobytes() for key in sorted(tensors)]
    return b"".join(parts)


def write_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def export_onnx(model, path):
    model.eval()
    example = torch.zeros(1, 16, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model, (example,), path,
            input_names=["input_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": {1: "seq"}, "logits": {1: "seq"}},
            opset_version=17, do_constant_folding=True)


def write_test_set(model, ids, out_dir):
    from onnx import numpy_helper
    positions = np.arange(ids.shape[1], dtype=np.int64)[None]
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(ids),
                       torch.from_numpy(positions)).numpy()
    os.makedirs(out_dir, exist_ok=True)
    for file, array, name in (("input_0.pb", ids, "input_ids"),
                              ("input_1.pb", positions, "positions"),
                              ("output_0.pb", logits, "logits")):
        proto = numpy_helper.from_array(np.ascontiguousarray(array), name)
        write_bytes(os.path.join(out_dir, file), proto.SerializeToString())
    return logits


def readme_text(r):
    stages = []
    for i, (start, size) in enumerate(WINDOWS):
        end = WINDOWS[i + 1][0] if i + 1 < len(WINDOWS) else 1.0
        stages.append(f"{STEP_BYTES // size} x {size} bytes for steps "
                      f"{math.ceil(start * r['steps'])}..{math.ceil(end * r['steps']) - 1}")
    window_text = ", ".join(stages)
    bpb = lambda nats: nats / math.log(2)
    files = "\n".join(f"  {name:12s} {raw:6d} bytes, {size:6d} normalized"
                      for name, raw, size in r["files"])
    log = "\n".join(r["log"])
    return f"""# bytegpt — a small trained byte-level GPT-2

A GPT-2 trained on the licence texts every Debian system ships, bundled
for tvc's examples, tests and benchmarks. Unlike the random-weight tiny
models next to it, its greedy output is readable text, so a lowering bug
shows up as garbage, not only as a numeric mismatch. Generated by
`{GENERATOR}`; do not edit these files by hand.

| file | what |
|---|---|
| `config.json`, `model.safetensors` | Hugging Face GPT-2 checkpoint (float32, `transformer.*` keys, Conv1D `[in, out]` weights, fused `c_attn`, no `lm_head.weight`: tied) |
| `model.onnx` | the same model, `torch.onnx.export` opset 17: `input_ids` int64 `[1, T]` (T dynamic, at most 256) → `logits` float32 `[1, T, 256]` |
| `test_data_set_0/` | `input_0.pb` input_ids `[1, {GOLDEN_LEN}]` (bytes {r['golden_offset']}..{r['golden_offset'] + GOLDEN_LEN - 1} of the validation text), `input_1.pb` positions `[1, {GOLDEN_LEN}]` (0..{GOLDEN_LEN - 1}), `output_0.pb` PyTorch float32 logits `[1, {GOLDEN_LEN}, 256]` |
| `test_data_set_1/` | the same for a full context window: `[1, {CONTEXT}]` ids from the same offset, positions 0..{CONTEXT - 1}, logits `[1, {CONTEXT}, 256]` |

## Model

GPT-2 architecture (`model_type` gpt2): vocabulary 256 (token id = byte
value, no tokenizer), context {CONTEXT}, n_embd {N_EMBD}, {N_LAYER} layers,
{N_HEAD} heads (head size {N_EMBD // N_HEAD}), FFN {4 * N_EMBD} (`n_inner` null),
`gelu_new`, pre-LayerNorm (epsilon {EPSILON}), learned positions, causal
attention, LM head tied to the token embedding. {r['params']:,} parameters
({r['params'] * 4 / 1e6:.2f} MB as float32).

## Corpus

The regular files of `{CORPUS_DIR}` (Debian package `base-files`;
symlinks such as `GPL -> GPL-3` skipped) in sorted name order, each with
its whitespace made plain (runs of spaces, tabs and form feeds become one
space, indentation and trailing blanks go, at most one empty line between
paragraphs), joined with an empty line: {r['corpus_bytes']:,} bytes, SHA-256
`{r['corpus_sha256']}`.

```
{files}
```

The first {r['train_bytes']:,} bytes train; the last {r['val_bytes']:,} bytes
(5 %, the end of `MPL-2.0`) are held out for validation.

## Training

AdamW (betas {BETAS}, weight decay {WEIGHT_DECAY} on matrices and
embeddings), learning rate {LR} with {WARMUP} warm-up steps and cosine decay
to {MIN_LR}, {r['steps']} steps of {STEP_BYTES} bytes in random windows, with a
sequence-length warm-up: {window_text} ({r['steps'] * STEP_BYTES / 1e6:.1f} M bytes, about
{r['steps'] * STEP_BYTES / r['train_bytes']:.0f} passes over the training text), no dropout,
gradient clipping {GRAD_CLIP}, GPT-2 initialisation (std {INIT_STD}; residual
projections {INIT_STD}/sqrt(2·{N_LAYER})), seed {SEED},
`torch.set_num_threads({THREADS})` with single-threaded OpenBLAS
(`OPENBLAS_NUM_THREADS=1`, set by the script). Training took {r['train_seconds']:.0f} s wall clock
({r['cpu_seconds']:.0f} s of CPU time) on {r['machine']}, PyTorch {torch.__version__};
1-minute load average {r['load'][0]:.1f} at the start and {r['load'][1]:.1f} at the end
of training (on a busy machine the wall clock grows, and so does the CPU time
of threads that wait).

Final loss (next-byte cross entropy over consecutive {CONTEXT}-byte
windows, dropout off):

| | nats/byte | bits/byte | perplexity |
|---|---|---|---|
| train | {r['train_loss']:.4f} | {bpb(r['train_loss']):.4f} | {math.exp(r['train_loss']):.3f} |
| validation | {r['val_loss']:.4f} | {bpb(r['val_loss']):.4f} | {math.exp(r['val_loss']):.3f} |

```
{log}
```

## Greedy sample

The PyTorch model, greedy decoding, {SAMPLE_BYTES} bytes after the prompt
`{PROMPT.decode()}`:

```
{PROMPT.decode()}{r['sample'].decode('utf-8', 'replace')}
```

## Regenerating

```sh
/usr/bin/python3 {GENERATOR}
```

(Debian's `python3-torch`, `python3-numpy`, `python3-onnx`; about
{r['total_seconds'] / 60:.0f} minutes on 2 cores.) Weights agree bit for bit
on the same machine; another BLAS library may round differently.
"""


def main():
    global LR, WARMUP, DROPOUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=os.path.join(HERE, "bytegpt"))
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--corpus-dir", default=CORPUS_DIR)
    # For experiments; the bundled model uses the defaults.
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--dropout", type=float, default=DROPOUT)
    args = parser.parse_args()
    LR, WARMUP, DROPOUT = args.lr, args.warmup, args.dropout

    t0 = time.time()
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    corpus, files = load_corpus(args.corpus_dir)
    split = int(len(corpus) * (1 - VAL_FRACTION))
    data = torch.tensor(np.frombuffer(corpus, dtype=np.uint8).astype(np.int64))
    train_data, val_data = data[:split], data[split:]
    log_lines = []

    def log(line):
        print(line, flush=True)
        log_lines.append(line)

    print(f"corpus: {len(files)} files, {len(corpus)} bytes "
          f"(train {len(train_data)}, val {len(val_data)})", flush=True)

    model = ByteGPT(DROPOUT)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params} parameters", flush=True)
    load_before = os.getloadavg()[0]
    train_seconds, cpu_seconds = train(model, train_data, val_data,
                                       args.steps, log)
    load = (load_before, os.getloadavg()[0])
    model.eval()
    train_loss = evaluate(model, train_data)
    val_loss = evaluate(model, val_data)
    print(f"train {train_loss:.4f} nats/byte ({train_loss / math.log(2):.4f} "
          f"bits/byte), val {val_loss:.4f} nats/byte "
          f"({val_loss / math.log(2):.4f} bits/byte, perplexity "
          f"{math.exp(val_loss):.3f}); {train_seconds:.0f} s", flush=True)
    sample = greedy(model, PROMPT, SAMPLE_BYTES)
    print("sample: " + repr((PROMPT + sample).decode("utf-8", "replace")),
          flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "config.json.tmp"), "w") as f:
        f.write(json.dumps(hf_config(), indent=2, sort_keys=True) + "\n")
    os.replace(os.path.join(args.out_dir, "config.json.tmp"),
               os.path.join(args.out_dir, "config.json"))
    tensors = {k: np.ascontiguousarray(v.detach().numpy(), "<f4")
               for k, v in model.named_parameters()}
    meta = {"format": "pt", "generator": GENERATOR,
            "corpus_sha256": hashlib.sha256(corpus).hexdigest()}
    write_bytes(os.path.join(args.out_dir, "model.safetensors"),
                serialize_safetensors(tensors, meta))
    export_onnx(model, os.path.join(args.out_dir, "model.onnx"))

    # The goldens: validation text from the start of its first full line,
    # GOLDEN_LEN bytes and a full context window.
    golden_offset = corpus[split:].find(b"\n") + 1
    for index, length in enumerate((GOLDEN_LEN, CONTEXT)):
        ids = val_data[golden_offset:golden_offset + length].numpy()[None].copy()
        logits = write_test_set(
            model, ids, os.path.join(args.out_dir, f"test_data_set_{index}"))
        print(f"test_data_set_{index}: {bytes(ids[0].tolist())[:40]!r}..., "
              f"max |logit| {np.abs(logits).max():.3f}", flush=True)

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    report = dict(files=files, corpus_bytes=len(corpus),
                  corpus_sha256=hashlib.sha256(corpus).hexdigest(),
                  train_bytes=len(train_data), val_bytes=len(val_data),
                  params=params, steps=args.steps, train_seconds=train_seconds,
                  cpu_seconds=cpu_seconds, load=load,
                  total_seconds=time.time() - t0,
                  machine=f"{THREADS} threads of an {cpu}",
                  train_loss=train_loss, val_loss=val_loss, sample=sample,
                  golden_offset=golden_offset, log=log_lines)
    with open(os.path.join(args.out_dir, "README.md"), "w") as f:
        f.write(readme_text(report))
    for name in sorted(os.listdir(args.out_dir)):
        path = os.path.join(args.out_dir, name)
        if os.path.isfile(path):
            print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
