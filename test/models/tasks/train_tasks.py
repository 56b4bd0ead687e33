#!/usr/bin/env python3
"""Trains the task models of test/models/tasks: tiny GPT-2s with a measurable
accuracy, the yardstick of tvc's accuracy-driven passes (pruning, attention
sparsification): `tvc-run MODEL --eval --eval-inputs X.npy --eval-answers
Y.npy` reports how many answers a transformed model still gets right.

Two synthetic tasks, each answered by attending to the right earlier token
(what attention pruning and sparsification can break):

  recall   associative recall: PAIRS key-value pairs (distinct keys drawn
           from KEYS key tokens, values from VALUES value tokens), a query
           marker, one of the keys; the answer is its value (A = 1).
  copy     copying: a random span of SPAN tokens, a separator, then the span
           again; the answer is the whole second span (A = SPAN, exact match
           means every token right).

Each model is a GPT-2 (pre-LayerNorm, learned positions, causal attention,
gelu_new, tied LM head; Hugging Face's parameter names, so its state dict is
a GPT2LMHeadModel checkpoint as it is) trained on fresh random examples for a
fixed number of steps, with the loss on the answer positions only. The step
counts are chosen so that accuracy is high but not perfect: damage done by a
pass shows up as lost points.

Writes test/models/tasks/<task>/ (or --out-dir/<task>/):

  config.json, model.safetensors   the Hugging Face checkpoint (float32,
                                   "transformer.*" keys, no lm_head.weight)
  model.onnx                       the same model, torch.onnx.export opset 17:
                                   input_ids int64 [1, T] (T dynamic) ->
                                   logits float32 [1, T, vocab]
  inputs.npy, answers.npy          the test set: X int64 [N, T] (answers
                                   included), Y int64 [N, A] (the last A ids
                                   of each row of X)
  README.md                        the task, model, training and the accuracy
                                   PyTorch measures on the test set

Needs Debian's python3-torch, python3-numpy and python3-onnx; no transformers
library. About a minute on 2 cores:

    /usr/bin/python3 test/models/tasks/train_tasks.py [--task recall|copy]
"""

import argparse
import io
import json
import math
import os
import platform
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from reference_eval import GPT2, accuracy  # noqa: E402
# The same safetensors writer and atomic file write as bytegpt's trainer.
from train_bytegpt import serialize_safetensors, write_bytes  # noqa: E402

GENERATOR = "test/models/tasks/train_tasks.py"
THREADS = 2
TEST_EXAMPLES = 256
BATCH = 32
LR = 2e-3
WARMUP = 50
# Training stops at the first check where the exact match on a validation
# set (not the test set) reaches TARGET, or after MAX_STEPS: accuracy high
# but not perfect. Checks come every CHECK_EVERY steps, and after every step
# once the exact match has passed CLOSE (it rises fast near the end).
TARGET = 0.9
CHECK_EVERY = 10
CLOSE = 0.3
MAX_STEPS = 1000
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.95)
GRAD_CLIP = 1.0


class Recall:
    name = "recall"
    KEYS, VALUES, PAIRS = 16, 16, 4
    # Training rows ask TRAIN_QUERIES queries (an answer each: more signal
    # per row); test rows ask one.
    TRAIN_QUERIES = 4
    # Tokens: keys 0..15, values 16..31, the query marker 32.
    QUERY = KEYS + VALUES
    vocab = QUERY + 1
    length = 2 * PAIRS + 2 + 1
    answer = 1
    seed = 1
    summary = (f"{PAIRS} key-value pairs (distinct keys from {KEYS} key "
               f"tokens 0..{KEYS - 1}, values from {VALUES} value tokens "
               f"{KEYS}..{KEYS + VALUES - 1}), the query marker {QUERY}, a "
               f"key of the pairs; the answer is its value")

    @classmethod
    def sample(cls, rng, n, queries=1):
        x = np.zeros((n, 2 * cls.PAIRS + 3 * queries), dtype=np.int64)
        for row in x:
            keys = rng.permutation(cls.KEYS)[:cls.PAIRS]
            values = rng.integers(cls.KEYS, cls.KEYS + cls.VALUES, cls.PAIRS)
            row[0:2 * cls.PAIRS:2] = keys
            row[1:2 * cls.PAIRS:2] = values
            for q in range(queries):
                which = rng.integers(cls.PAIRS)
                at = 2 * cls.PAIRS + 3 * q
                row[at:at + 3] = cls.QUERY, keys[which], values[which]
        return x

    @classmethod
    def training_batch(cls, rng, n):
        """(rows, answer positions) of a training batch."""
        x = cls.sample(rng, n, cls.TRAIN_QUERIES)
        return x, [2 * cls.PAIRS + 3 * q + 2 for q in range(cls.TRAIN_QUERIES)]


class Copy:
    name = "copy"
    SYMBOLS, SPAN = 16, 10
    # Tokens: symbols 0..15, the separator 16.
    SEPARATOR = SYMBOLS
    vocab = SYMBOLS + 1
    length = 2 * SPAN + 1
    answer = SPAN
    seed = 2
    summary = (f"a span of {SPAN} random tokens from 0..{SYMBOLS - 1}, the "
               f"separator {SEPARATOR}, then the span again; the answer is "
               f"the second span")

    @classmethod
    def sample(cls, rng, n):
        span = rng.integers(0, cls.SYMBOLS, (n, cls.SPAN))
        sep = np.full((n, 1), cls.SEPARATOR)
        return np.concatenate([span, sep, span], axis=1).astype(np.int64)

    @classmethod
    def training_batch(cls, rng, n):
        return cls.sample(rng, n), list(range(cls.SPAN + 1, cls.length))


TASKS = {task.name: task for task in (Recall, Copy)}

# Architecture (Hugging Face GPT2Config names); the same for both tasks.
N_EMBD, N_LAYER, N_HEAD, N_INNER, N_POSITIONS = 64, 2, 4, 128, 32


def hf_config(task):
    """config.json as transformers writes it for GPT2LMHeadModel."""
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-5,
        "model_type": "gpt2",
        "n_ctx": N_POSITIONS,
        "n_embd": N_EMBD,
        "n_head": N_HEAD,
        "n_inner": N_INNER,
        "n_layer": N_LAYER,
        "n_positions": N_POSITIONS,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": task.vocab,
    }


def lr_at(step):
    return LR * min(1.0, (step + 1) / WARMUP)


def train(task, model, max_steps, log, val_x, val_y):
    """Trains until the validation exact match reaches TARGET; returns
    (steps, seconds)."""
    rng = np.random.default_rng(task.seed)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS)
    start = time.time()
    every = CHECK_EVERY
    for step in range(max_steps):
        model.train()
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        x, answers = task.training_batch(rng, BATCH)
        x = torch.from_numpy(x)
        answers = torch.tensor(answers)
        logits = model(x)[:, answers - 1]
        loss = F.cross_entropy(logits.reshape(-1, task.vocab),
                               x[:, answers].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        if (step + 1) % every == 0 or step == max_steps - 1:
            model.eval()
            exact = accuracy(model, val_x, val_y)["exact_match"]
            done = exact >= TARGET or step == max_steps - 1
            if exact >= CLOSE:
                every = 1
            if (step + 1) % 100 == 0 or done:
                log(f"step {step + 1:5d}  loss {loss.item():.4f}  "
                    f"{time.time() - start:5.0f} s  validation exact match "
                    f"{exact:.4f}")
            if done:
                return step + 1, time.time() - start
    return max_steps, time.time() - start


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def export_onnx(model, path, length):
    model.eval()
    example = torch.zeros(1, length, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model, (example,), path,
            input_names=["input_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": {1: "seq"}, "logits": {1: "seq"}},
            opset_version=17, do_constant_folding=True)


def readme_text(task, r):
    example = " ".join(str(int(v)) for v in r["example"])
    log = "\n".join(r["log"])
    return f"""# {task.name} — a tiny GPT-2 trained on a synthetic task

A task model for tvc's accuracy-driven passes: `tvc-run --eval` measures
how many test answers a (transformed) model gets right. Generated by
`{GENERATOR}`; do not edit these files by hand.

| file | what |
|---|---|
| `config.json`, `model.safetensors` | Hugging Face GPT-2 checkpoint (float32, `transformer.*` keys, Conv1D `[in, out]` weights, no `lm_head.weight`: tied) |
| `model.onnx` | the same model, `torch.onnx.export` opset 17: `input_ids` int64 `[1, T]` (T dynamic, at most {N_POSITIONS}) → `logits` float32 `[1, T, {task.vocab}]` |
| `inputs.npy` | test prompts X, int64 `[{TEST_EXAMPLES}, {task.length}]`, answers included |
| `answers.npy` | expected answers Y, int64 `[{TEST_EXAMPLES}, {task.answer}]`: the last {task.answer} ids of each row of X |

## Task

{task.summary[0].upper() + task.summary[1:]}. Vocabulary {task.vocab}, sequence length {task.length},
answer span {task.answer}. An example (the first test row):

```
{example}
```

The test set is {TEST_EXAMPLES} rows drawn with seed {task.seed + 1000}; training
draws fresh rows with seed {task.seed} (a test row may appear in training by
chance).

## Model

GPT-2 (`model_type` gpt2): n_embd {N_EMBD}, {N_LAYER} layers, {N_HEAD} heads,
FFN {N_INNER}, n_positions {N_POSITIONS}, `gelu_new`, pre-LayerNorm, learned
positions, causal attention, tied LM head. {r['params']:,} parameters.

## Training

Batches of {BATCH} fresh examples, cross entropy on the answer positions
only, AdamW (betas {BETAS}, weight decay {WEIGHT_DECAY} on matrices), learning
rate {LR} after {WARMUP} warm-up steps, gradient clipping {GRAD_CLIP}, seed
{task.seed}, {THREADS} threads. Training stops at the first check (every
{CHECK_EVERY} steps, every step once it passes {CLOSE}) where the exact match
on a validation set ({TEST_EXAMPLES} rows, seed {task.seed + 2000}, not the test
set) reaches {TARGET}: high but not
perfect accuracy on purpose, so that damage done by a pass is visible. It
stopped after {r['steps']} steps, {r['seconds']:.0f} s on {r['machine']}, PyTorch
{torch.__version__}.

```
{log}
```

## Accuracy measured by PyTorch

Teacher forced: the prediction for position t is the argmax of the logits
at t - 1 (`test/models/tasks/reference_eval.py`, the same definition as
`tvc-run --eval`):

| exact match | token accuracy | answer NLL (nats) |
|---|---|---|
| {r['exact_match']:.4f} | {r['token_accuracy']:.4f} | {r['answer_nll']:.4f} |

```sh
tvc-import test/models/tasks/{task.name} -o {task.name}.mlir
tvc-run {task.name}.mlir --weights-dir test/models/tasks/{task.name} --eval \\
    --eval-inputs test/models/tasks/{task.name}/inputs.npy \\
    --eval-answers test/models/tasks/{task.name}/answers.npy
```

## Regenerating

```sh
/usr/bin/python3 {GENERATOR} --task {task.name}
```

(Debian's `python3-torch`, `python3-numpy`, `python3-onnx`.) Weights agree
bit for bit on the same machine; another BLAS library may round differently.
"""


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build(task, out_dir, max_steps):
    torch.manual_seed(task.seed)
    model = GPT2(hf_config(task))
    params = sum(p.numel() for p in model.parameters())
    lines = []

    def log(line):
        print(f"{task.name}: {line}", flush=True)
        lines.append(line)

    val_x = task.sample(np.random.default_rng(task.seed + 2000),
                        TEST_EXAMPLES)
    val_y = val_x[:, task.length - task.answer:].copy()
    steps, seconds = train(task, model, max_steps, log, val_x, val_y)
    model.eval()
    test_x = task.sample(np.random.default_rng(task.seed + 1000),
                         TEST_EXAMPLES)
    test_y = test_x[:, task.length - task.answer:].copy()
    result = accuracy(model, test_x, test_y)
    print(f"{task.name}: exact match {result['exact_match']:.4f}, token "
          f"accuracy {result['token_accuracy']:.4f}, answer NLL "
          f"{result['answer_nll']:.4f}", flush=True)

    os.makedirs(out_dir, exist_ok=True)
    write_bytes(os.path.join(out_dir, "config.json"),
                (json.dumps(hf_config(task), indent=2, sort_keys=True) +
                 "\n").encode())
    tensors = {k: np.ascontiguousarray(v.detach().numpy(), "<f4")
               for k, v in model.named_parameters()}
    write_bytes(os.path.join(out_dir, "model.safetensors"),
                serialize_safetensors(tensors, {"format": "pt",
                                                "generator": GENERATOR}))
    write_bytes(os.path.join(out_dir, "inputs.npy"), npy_bytes(test_x))
    write_bytes(os.path.join(out_dir, "answers.npy"), npy_bytes(test_y))
    export_onnx(model, os.path.join(out_dir, "model.onnx"), task.length)
    report = dict(result, params=params, steps=steps, seconds=seconds,
                  machine=f"{THREADS} threads of an {cpu_name()}",
                  example=test_x[0], log=lines)
    write_bytes(os.path.join(out_dir, "README.md"),
                readme_text(task, report).encode())
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), action="append",
                        help="task to train (default: all)")
    parser.add_argument("--out-dir", default=HERE)
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    for name in args.task or sorted(TASKS):
        task = TASKS[name]
        build(task, os.path.join(args.out_dir, name), args.max_steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
