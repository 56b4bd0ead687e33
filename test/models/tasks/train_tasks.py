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
a GPT2LMHeadModel checkpoint as it is) trained on fresh random examples, with
the loss on the answer positions only (recall adds an auxiliary
previous-token loss early on, see class Recall), until a validation set
reaches a target accuracy: high but not perfect, so that damage done by a
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
library. A few minutes on 1-2 cores:

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


class Task:
    """Model and training settings a task may override (these defaults are
    the copy model's)."""
    # Architecture (Hugging Face GPT2Config names).
    n_embd, n_layer, n_head, n_inner, n_positions = 64, 2, 4, 128, 32
    lr = LR
    threads = THREADS
    # Cosine decay of the learning rate from lr to lr_floor * lr over
    # max_steps after the warm-up; None: constant.
    lr_floor = None
    max_steps = MAX_STEPS
    target = TARGET
    close = CLOSE
    # Initialization: if set, the query and key projections of every
    # attention head start equal (one random matrix of this standard
    # deviation), so that a token attends to earlier copies of itself.
    qk_tie_std = None
    # If set, the position table is drawn again (the same distribution,
    # normal with standard deviation 0.02) before the query/key tie.
    redraw_positions = False
    # Auxiliary loss weight (decaying linearly to 0 over aux_steps): the
    # first block's output, through ln_f and the tied head, predicts the
    # token before each of aux_positions (a previous-token head).
    aux_weight = 0.0
    aux_steps = 0
    # An extra paragraph for the README's training section.
    training_notes = ""


class Recall(Task):
    name = "recall"
    KEYS, VALUES, PAIRS = 16, 16, 4
    # Training rows ask TRAIN_QUERIES queries (an answer each: more signal
    # per row; n_positions bounds them); test rows ask one.
    TRAIN_QUERIES = 18
    # Tokens: keys 0..15, values 16..31, the query marker 32.
    QUERY = KEYS + VALUES
    vocab = QUERY + 1
    length = 2 * PAIRS + 2 + 1
    answer = 1
    seed = 1
    # The 2-layer model sits on a plateau (it answers one of the values in
    # the prompt, about 0.36 exact match) until the previous-token head of
    # layer 1 and the key-matching head of layer 2 form together: longer
    # training rows (18 queries, so 64 positions), query/key projections
    # that start tied and an auxiliary previous-token loss early on get it
    # off the plateau within about a thousand steps.
    n_positions = 64
    lr_floor = 0.1
    max_steps = 3000
    target = 0.98
    close = 0.6
    threads = 1
    qk_tie_std = 0.125
    # Which draw leaves the plateau early depends on the seed: with seed 1,
    # drawing the position table a second time does (within a thousand
    # steps); from the first draw the training loss falls while the
    # validation rows stay at 0.36 (it seems to learn to copy an earlier
    # query's answer rather than to look the key up among the pairs).
    redraw_positions = True
    aux_weight = 1.0
    aux_steps = 1500
    training_notes = (
        "Training rows ask {queries} queries (the test rows one), hence 64\n"
        "positions. The position table is drawn a second time after the\n"
        "model's initialization (the same distribution; from the first draw\n"
        "of this seed the training loss falls while the validation rows stay\n"
        "at 0.36: it seems to learn to copy an earlier query's answer rather\n"
        "than to look the key up among the pairs). The query and\n"
        "key projections of each head start equal (one random matrix,\n"
        "standard deviation {qk_tie_std}), and an auxiliary\n"
        "loss, weighted {aux_weight} and decaying linearly to 0 over {aux_steps}\n"
        "steps, makes the first block's output (through `ln_f` and the tied\n"
        "head) predict the key before each value (the loss logged below\n"
        "includes it): without these the model\n"
        "stays on a plateau of about 0.36 exact match (one of the values in\n"
        "the prompt) for thousands of steps. The learning rate decays along\n"
        "a cosine to {lr_floor} of its peak over {max_steps} steps.\n")
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

    @classmethod
    def aux_positions(cls):
        """The value positions of a training row (a key before each)."""
        return ([2 * i + 1 for i in range(cls.PAIRS)] +
                [2 * cls.PAIRS + 3 * q + 2 for q in range(cls.TRAIN_QUERIES)])


class Copy(Task):
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
        "n_ctx": task.n_positions,
        "n_embd": task.n_embd,
        "n_head": task.n_head,
        "n_inner": task.n_inner,
        "n_layer": task.n_layer,
        "n_positions": task.n_positions,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": task.vocab,
    }


def lr_at(task, step, max_steps):
    if task.lr_floor is None or step < WARMUP:
        return task.lr * min(1.0, (step + 1) / WARMUP)
    done = (step - WARMUP) / max(1, max_steps - WARMUP)
    return task.lr * (task.lr_floor + (1 - task.lr_floor) * 0.5 *
                      (1 + math.cos(math.pi * done)))


def forward_with_first_block(model, x):
    """(logits, the first block's output) of GPT2.forward."""
    tr = model.transformer
    t = x.shape[1]
    h = tr.wte(x) + tr.wpe(torch.arange(t).unsqueeze(0))
    masked = model.masked[:t, :t]
    first = None
    for block in tr.h:
        h = block(h, masked)
        if first is None:
            first = h
    return F.linear(tr.ln_f(h), tr.wte.weight), first


def tie_query_key(model, std):
    """Starts each block's query and key projections equal."""
    with torch.no_grad():
        for block in model.transformer.h:
            d = block.d
            w = torch.randn(d, d) * std
            block.attn.c_attn.weight[:, :d] = w
            block.attn.c_attn.weight[:, d:2 * d] = w


def train(task, model, max_steps, log, val_x, val_y):
    """Trains until the validation exact match reaches task.target; returns
    (steps, seconds)."""
    rng = np.random.default_rng(task.seed)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=task.lr, betas=BETAS)
    start = time.time()
    every = CHECK_EVERY
    for step in range(max_steps):
        model.train()
        for group in opt.param_groups:
            group["lr"] = lr_at(task, step, max_steps)
        x, answers = task.training_batch(rng, BATCH)
        x = torch.from_numpy(x)
        answers = torch.tensor(answers)
        aux = task.aux_weight * max(0.0, 1.0 - step / max(1, task.aux_steps))
        if aux > 0:
            out, first = forward_with_first_block(model, x)
        else:
            out = model(x)
        logits = out[:, answers - 1]
        loss = F.cross_entropy(logits.reshape(-1, task.vocab),
                               x[:, answers].reshape(-1))
        if aux > 0:
            where = torch.tensor(task.aux_positions())
            tr = model.transformer
            aux_logits = F.linear(tr.ln_f(first[:, where]), tr.wte.weight)
            loss = loss + aux * F.cross_entropy(
                aux_logits.reshape(-1, task.vocab), x[:, where - 1].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        if (step + 1) % every == 0 or step == max_steps - 1:
            model.eval()
            exact = accuracy(model, val_x, val_y)["exact_match"]
            done = exact >= task.target or step == max_steps - 1
            if exact >= task.close:
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
    notes = task.training_notes.format(
        queries=getattr(task, "TRAIN_QUERIES", 1), qk_tie_std=task.qk_tie_std,
        aux_weight=task.aux_weight, aux_steps=task.aux_steps,
        lr_floor=task.lr_floor, max_steps=r["max_steps"])
    return f"""# {task.name} — a tiny GPT-2 trained on a synthetic task

A task model for tvc's accuracy-driven passes: `tvc-run --eval` measures
how many test answers a (transformed) model gets right. Generated by
`{GENERATOR}`; do not edit these files by hand.

| file | what |
|---|---|
| `config.json`, `model.safetensors` | Hugging Face GPT-2 checkpoint (float32, `transformer.*` keys, Conv1D `[in, out]` weights, no `lm_head.weight`: tied) |
| `model.onnx` | the same model, `torch.onnx.export` opset 17: `input_ids` int64 `[1, T]` (T dynamic, at most {task.n_positions}) → `logits` float32 `[1, T, {task.vocab}]` |
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

GPT-2 (`model_type` gpt2): n_embd {task.n_embd}, {task.n_layer} layers, {task.n_head} heads,
FFN {task.n_inner}, n_positions {task.n_positions}, `gelu_new`, pre-LayerNorm, learned
positions, causal attention, tied LM head. {r['params']:,} parameters.

## Training

Batches of {BATCH} fresh examples, cross entropy on the answer positions
only, AdamW (betas {BETAS}, weight decay {WEIGHT_DECAY} on matrices), learning
rate {task.lr} after {WARMUP} warm-up steps, gradient clipping {GRAD_CLIP}, seed
{task.seed}, {task.threads} thread{"s" if task.threads > 1 else ""}. {notes}Training stops at the first check (every
{CHECK_EVERY} steps, every step once it passes {task.close}) where the exact match
on a validation set ({TEST_EXAMPLES} rows, seed {task.seed + 2000}, not the test
set) reaches {task.target}: high but not
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
    torch.set_num_threads(task.threads)
    torch.manual_seed(task.seed)
    model = GPT2(hf_config(task))
    if task.redraw_positions:
        torch.nn.init.normal_(model.transformer.wpe.weight, std=0.02)
    if task.qk_tie_std:
        tie_query_key(model, task.qk_tie_std)
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
                  max_steps=max_steps,
                  machine=(f"{task.threads} thread"
                           f"{'s' if task.threads > 1 else ''} of an "
                           f"{cpu_name()}"),
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
    parser.add_argument("--max-steps", type=int,
                        help="training steps at most (default: the task's)")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    for name in args.task or sorted(TASKS):
        task = TASKS[name]
        build(task, os.path.join(args.out_dir, name),
              args.max_steps or task.max_steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
