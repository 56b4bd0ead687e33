#!/usr/bin/python3
"""tvc against PyTorch eager on one GPU: prefill and decode tokens/s, GEMM ceiling.

    /usr/bin/python3 bench/gpu_bench.py [--build DIR] [--quick]
        [--models gpt2,1b] [--layers N] [--prefill-tokens 512,2048]
        [--decode-tokens N] [--decode-prompt P] [--dtypes fp32,fp16,bf16]
        [--tvc-precisions fp32,bf16,fp16] [--rounds R] [--gemm-size N]
        [--timeout S] [--max-seconds S] [--output PATH] [--scratch DIR]
        [--target cuda|cpu] [--threads N]

First it measures cuBLAS through torch.matmul (N x N x N; fp32 with TF32
off and on, fp16, bf16), the ceiling. Then for each model shape (`gpt2`: GPT-2-124M, 12 layers, d_model 768, 12 heads,
FFN 3072; `1b`: 24 layers, d_model 2048, 16 heads, FFN 8192; both vocab
50257, random weights, seeded):

1. writes a Hugging Face checkpoint with make_gpt2_124m.py --hf-only into
   the scratch directory (reused while the generator and the shape are
   unchanged; the learned-position table is long enough for the longest
   prompt), imports it with tvc-import and compiles it once per
   --tvc-precisions value P with `tvc-compile --target=cuda --sm=SM
   --max-seq-len=N --precision=P` (SM: GPU 0's, 90 on an H200; N: the
   longest prompt + 1, or the decode prompt + new tokens, rounded up to
   128; P in the executable's name); engine "tvc P" stores the weight
   matrices in P and computes in fp32 (docs/Precision.md);
2. loads the same safetensors into a plain-PyTorch GPT-2 (written here
   from the architecture, with a preallocated KV cache and
   scaled_dot_product_attention where torch has it) in each of --dtypes;
3. after a warm-up, alternates tvc and torch --rounds times: each of
   tvc's executables runs once per measurement (`--prompt-ids` of T
   tokens and `--max-new-tokens 1` for prefill; a --decode-prompt-token prompt and
   --decode-tokens + 1 new tokens for decode; its own timings on stderr),
   then torch in each dtype (prefill: the forward over T tokens, full
   logits as tvc computes them, and the argmax of the last row; decode:
   the greedy loop with the next token kept on the device);
4. checks that tvc fp32 and torch fp32 generate the same first
   --check-tokens greedy tokens, and reports (as information, not an
   error: 16-bit rounding may flip a close argmax) how many leading
   tokens tvc bf16/fp16 share with torch in the same dtype and in fp32.

A failure of one engine (a tvc precision that does not compile or run, a
torch dtype out of memory) is recorded and drops only that engine.

It prints one Markdown table (tokens/s, medians over the rounds, per tvc
engine and torch dtype, and like-for-like ratios tvc P / torch P where
both ran; the GEMM row in TFLOP/s), then the prefill TFLOP/s each engine
reached, and writes PATH.md and PATH.json (default
SCRATCH/gpu_bench_TARGET). --target cpu runs the same flow on the CPU
(tvc's CPU target in fp32 and bf16, torch fp32 on --threads threads) to
test the script on a machine without a GPU; with the default target and
no GPU the script says so and exits with status 2. --quick: fewer layers (gpt2 4, 1b 2), 32
decode tokens, 2 rounds, GEMM 4096, no round after a model's first past
150 s, 90 s for one run of tvc.
--build defaults to $TVC_BUILD, else build-gpu (scripts/gpu-check.sh's)
when it has tvc-compile and the target is cuda, else build.
Exit status: 0 all ran and the tokens agree, 1 something failed, 2 no GPU.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import traceback

import gpt2_bench

HERE = gpt2_bench.HERE
ROOT = gpt2_bench.ROOT
VOCAB = 50257
EPSILON = 1e-5

# name: (label, layers, d_model, heads, ffn, default context)
SHAPES = {
    "gpt2": ("GPT-2-124M shape", 12, 768, 12, 3072, 1024),
    "1b": ("1B-class shape", 24, 2048, 16, 8192, 4096),
}
QUICK_LAYERS = {"gpt2": 4, "1b": 2}
ENGINES_TORCH = ("fp32", "fp16", "bf16")
# tvc-compile --precision values benchmarked (16-bit matrices, fp32
# activations: docs/Precision.md).
ENGINES_TVC = ("fp32", "bf16", "fp16")
START = time.monotonic()


def log(message):
    print(f"gpu_bench.py [{time.monotonic() - START:6.1f} s]: {message}",
          file=sys.stderr, flush=True)


def round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def parameter_count(layers, d, ffn, context):
    """Weights of the HF checkpoint (the head is tied to wte)."""
    per_layer = 4 * d + (3 * d * d + 3 * d) + (d * d + d) \
        + (d * ffn + ffn) + (ffn * d + d)
    return VOCAB * d + context * d + layers * per_layer + 2 * d


def prefill_flops(layers, d, ffn, tokens):
    """Matmul FLOPs of one prefill: the linears, the head over every
    position, and causal attention (the unmasked half of QK^T and PV)."""
    linears = 2 * tokens * layers * (4 * d * d + 2 * d * ffn)
    head = 2 * tokens * VOCAB * d
    attention = 2 * layers * tokens * tokens * d
    return linears + head + attention


def median(values):
    return statistics.median(values) if values else None


def fmt(value):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def common_prefix(a, b):
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


# ----------------------------------------------------------------------------
# tvc: the model files and the compiled executable


class Stages:
    """Wall time of each stage, for the report."""

    def __init__(self):
        self.items = []

    def run(self, name, function, *args):
        start = time.monotonic()
        try:
            return function(*args)
        finally:
            self.items.append((name, time.monotonic() - start))


def write_model(directory, shape, tools):
    """The HF checkpoint (make_gpt2_124m.py --hf-only) and model.mlir in
    `directory`, rewritten when the generator or the shape changed."""
    layers, d, heads, ffn, context = shape
    generator = os.path.join(HERE, "make_gpt2_124m.py")
    with open(generator, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()[:16] + \
            f" layers={layers} width={d} heads={heads} ffn={ffn} context={context}"
    stamp_path = os.path.join(directory, "stamp")
    mlir = os.path.join(directory, "model.mlir")
    os.makedirs(directory, exist_ok=True)
    current = open(stamp_path).read().strip() if os.path.exists(stamp_path) else ""
    if current != stamp:
        log(f"writing the model into {directory}")
        for path in (stamp_path, mlir):
            if os.path.exists(path):
                os.remove(path)
        subprocess.run([sys.executable, generator, directory, "--hf-only",
                        "--layers", str(layers), "--width", str(d),
                        "--heads", str(heads), "--ffn", str(ffn),
                        "--context", str(context)], check=True,
                       stdout=sys.stderr)
        with open(stamp_path, "w") as f:
            f.write(stamp + "\n")
    if not os.path.exists(mlir):
        log("importing it with tvc-import")
        subprocess.run([tools["tvc-import"], os.path.join(directory, "hf"),
                        "-o", mlir], check=True, stdout=sys.stderr)
    return mlir


def compile_model(mlir, args, capacity, tools, precision):
    """tvc-compile's executable for args.target with --precision=precision;
    (path, None) or (None, why)."""
    target, timeout = args.target, 4 * args.timeout
    kind = f"cuda-sm{args.sm}" if target == "cuda" else target
    # One file per precision, so the engines do not overwrite each other.
    exe = os.path.join(os.path.dirname(mlir),
                       f"tvc-{kind}-{precision}-s{capacity}")
    stale = (not os.path.exists(exe) or not os.path.exists(exe + ".weights") or
             os.path.getmtime(exe) < os.path.getmtime(mlir) or
             os.path.getmtime(exe) < os.path.getmtime(tools["tvc-compile"]))
    if not stale:
        return exe, None
    command = [tools["tvc-compile"], mlir, "-o", exe,
               f"--max-seq-len={capacity}", f"--precision={precision}"]
    if target == "cuda":
        command += ["--target=cuda", f"--sm={args.sm}"]
    log("compiling: " + " ".join(os.path.basename(c) for c in command))
    try:
        done = subprocess.run(command, text=True, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"tvc-compile --precision={precision} ran past {timeout} s"
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        # ld's "undefined symbol" lines say the most; keep a few.
        wanted = [line for line in lines if "error" in line][:6] or lines[-6:]
        return None, (f"tvc-compile --precision={precision} failed: "
                      + " / ".join(wanted))
    return exe, None


def tvc_environment(target):
    env = dict(os.environ)
    if target == "cuda":
        # Load every kernel when the executable's modules load (before its
        # timers), not at a kernel's first launch inside the timed prefill;
        # and keep the driver's JIT cache big enough for all modules.
        env.setdefault("CUDA_MODULE_LOADING", "EAGER")
        env.setdefault("CUDA_CACHE_MAXSIZE", str(4 << 30))
    return env


TIMING = re.compile(r"prefill: (\d+) tokens in ([0-9.]+) ms; decode: (\d+) "
                    r"tokens in ([0-9.]+) ms")


def run_tvc(exe, prompt, new_tokens, args):
    """One run of the executable: {prefill_ms, decode_ms, decoded, tokens,
    wall_s} or {error}."""
    command = [exe, "--prompt-ids", ",".join(map(str, prompt)),
               "--max-new-tokens", str(new_tokens)]
    if args.target == "cpu":
        command += ["--threads", str(args.threads)]
    start = time.monotonic()
    try:
        done = subprocess.run(command, text=True, capture_output=True,
                              timeout=args.timeout,
                              env=tvc_environment(args.target))
    except subprocess.TimeoutExpired:
        return {"error": f"timeout ({args.timeout} s)"}
    wall = time.monotonic() - start
    match = TIMING.search(done.stderr)
    if done.returncode != 0 or not match:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return {"error": f"exit {done.returncode}: " + " / ".join(lines[-3:])}
    tokens = [int(t) for t in done.stdout.strip().split(",") if t.strip()]
    return {"prefill_ms": float(match.group(2)),
            "decoded": int(match.group(3)),
            "decode_ms": float(match.group(4)),
            "tokens": tokens, "wall_s": wall}


# ----------------------------------------------------------------------------
# PyTorch: the same GPT-2, eager


def load_safetensors(path, torch):
    """{name: float32 CPU tensor} of an F32 safetensors file."""
    import struct
    tensors = {}
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        base = 8 + length
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise ValueError(f"{path}: {name} is {info['dtype']}, not F32")
            start, end = info["data_offsets"]
            data = bytearray(end - start)
            f.seek(base + start)
            f.readinto(data)
            tensor = torch.frombuffer(data, dtype=torch.float32)
            tensors[name] = tensor.reshape(info["shape"])
    return tensors


class TorchGpt2:
    """GPT-2 (HF layouts: Conv1D weights [in, out], fused c_attn, tanh GELU,
    head tied to wte) with a preallocated KV cache of `capacity` rows."""

    def __init__(self, torch, tensors, shape, device, dtype, capacity):
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        layers, d, heads, _, _ = shape
        self.d, self.heads, self.head_dim = d, heads, d // heads

        def get(name):
            return tensors[name].to(device=device, dtype=dtype).contiguous()

        self.wte, self.wpe = get("wte.weight"), get("wpe.weight")
        self.ln_f = (get("ln_f.weight"), get("ln_f.bias"))
        self.layers = []
        for i in range(layers):
            p = f"h.{i}."
            self.layers.append([get(p + n) for n in (
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight",
                "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias")])
        cache = (1, heads, capacity, self.head_dim)
        self.keys = [torch.zeros(cache, device=device, dtype=dtype)
                     for _ in range(layers)]
        self.values = [torch.zeros(cache, device=device, dtype=dtype)
                       for _ in range(layers)]
        self.positions = torch.arange(capacity, device=device)
        self.sdpa = getattr(F, "scaled_dot_product_attention", None)

    def attention(self, q, k, v, start):
        """q [1, H, T, D] at positions start.., k/v [1, H, start + T, D]."""
        torch = self.torch
        length, total = q.shape[2], k.shape[2]
        mask = None
        if length > 1:
            # Query i (position start + i) sees keys j <= start + i.
            query = torch.arange(length, device=q.device).unsqueeze(1) + start
            mask = torch.arange(total, device=q.device).unsqueeze(0) <= query
        if self.sdpa is not None:
            if start == 0:
                return self.sdpa(q, k, v, is_causal=length > 1)
            return self.sdpa(q, k, v, attn_mask=mask)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1, dtype=torch.float32)
        return weights.to(q.dtype) @ v

    def forward(self, ids, start):
        """Logits [1, T, V] of ids [1, T] at positions start..start+T-1;
        writes their keys and values into the cache."""
        torch, F = self.torch, self.F
        length, d = ids.shape[1], self.d
        x = F.embedding(ids, self.wte) + \
            F.embedding(self.positions[start:start + length], self.wpe)
        x = x.view(length, d)
        for layer, keys, values in zip(self.layers, self.keys, self.values):
            (ln1w, ln1b, attn_w, attn_b, proj_w, proj_b, ln2w, ln2b,
             fc_w, fc_b, mlp_w, mlp_b) = layer
            h = F.layer_norm(x, (d,), ln1w, ln1b, EPSILON)
            qkv = torch.addmm(attn_b, h, attn_w)
            q, k, v = qkv.view(1, length, 3, self.heads,
                               self.head_dim).permute(2, 0, 3, 1, 4)
            keys[:, :, start:start + length] = k
            values[:, :, start:start + length] = v
            end = start + length
            a = self.attention(q, keys[:, :, :end], values[:, :, :end], start)
            a = a.transpose(1, 2).reshape(length, d)
            x = x + torch.addmm(proj_b, a, proj_w)
            h = F.layer_norm(x, (d,), ln2w, ln2b, EPSILON)
            h = F.gelu(torch.addmm(fc_b, h, fc_w), approximate="tanh")
            x = x + torch.addmm(mlp_b, h, mlp_w)
        x = F.layer_norm(x, (d,), self.ln_f[0], self.ln_f[1], EPSILON)
        return F.linear(x, self.wte).view(1, length, VOCAB)


class TorchRunner:
    """Timed prefill and greedy decode of a TorchGpt2."""

    def __init__(self, torch, model, device, tf32):
        self.torch, self.model, self.device, self.tf32 = torch, model, device, tf32

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def _precision(self):
        if self.device == "cuda":
            self.torch.backends.cuda.matmul.allow_tf32 = self.tf32
            self.torch.backends.cudnn.allow_tf32 = self.tf32

    def prefill(self, prompt):
        """ms of one prefill (ids already on the device) and its token."""
        torch = self.torch
        self._precision()
        ids = torch.tensor([prompt], device=self.device)
        with torch.inference_mode():
            self.sync()
            start = time.perf_counter()
            logits = self.model.forward(ids, 0)
            token = int(logits[0, -1].argmax())
            elapsed = time.perf_counter() - start
        return elapsed * 1e3, token

    def generate(self, prompt, new_tokens):
        """Greedy: (tokens, ms of the new_tokens - 1 decode steps)."""
        torch = self.torch
        self._precision()
        ids = torch.tensor([prompt], device=self.device)
        with torch.inference_mode():
            logits = self.model.forward(ids, 0)
            token = logits[0, -1].argmax()
            tokens = [token]
            self.sync()
            start = time.perf_counter()
            position = len(prompt)
            for _ in range(new_tokens - 1):
                logits = self.model.forward(token.view(1, 1), position)
                token = logits[0, -1].argmax()
                tokens.append(token)
                position += 1
            self.sync()
            elapsed = time.perf_counter() - start
        return [int(t) for t in tokens], elapsed * 1e3

    def logits_copy_ms(self, tokens):
        """ms to copy T x V float32 logits to (pageable) host memory, as
        tvc's executable does after its prefill."""
        torch = self.torch
        logits = torch.empty(tokens, VOCAB, device=self.device)
        best = None
        for _ in range(3):
            self.sync()
            start = time.perf_counter()
            logits.to("cpu")
            elapsed = (time.perf_counter() - start) * 1e3
            best = elapsed if best is None else min(best, elapsed)
        return best


def gemm_tflops(torch, device, size, dtype, tf32):
    """Best TFLOP/s of torch.matmul on size^3 over 3 timed batches."""
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    c = torch.empty(size, size, device=device, dtype=dtype)
    for _ in range(2):
        torch.matmul(a, b, out=c)
    sync()
    start = time.perf_counter()
    torch.matmul(a, b, out=c)
    sync()
    once = max(time.perf_counter() - start, 1e-6)
    iterations = max(1, min(200, int(0.25 / once)))
    best = 0.0
    for _ in range(3):
        sync()
        start = time.perf_counter()
        for _ in range(iterations):
            torch.matmul(a, b, out=c)
        sync()
        elapsed = time.perf_counter() - start
        best = max(best, 2 * size ** 3 * iterations / elapsed / 1e12)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
    return best


# ----------------------------------------------------------------------------
# The benchmark


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    gpt2_bench.add_common_options(parser)
    parser.set_defaults(scratch=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "tvc-bench-gpu"), rounds=None,
        build=None)
    parser.add_argument("--target", choices=("cuda", "cpu"), default="cuda",
                        help="cuda (default; needs a GPU) or cpu (tests the "
                             "script without one)")
    parser.add_argument("--models", default="gpt2,1b",
                        help="comma-separated shapes: " + ", ".join(SHAPES))
    parser.add_argument("--layers", type=int,
                        help="layers of every shape (default: the shape's; "
                             "--quick: gpt2 4, 1b 2)")
    parser.add_argument("--prefill-tokens", default="512,2048",
                        help="prompt lengths T for prefill (default 512,2048)")
    parser.add_argument("--decode-tokens", type=int,
                        help="timed decode steps (default 128; --quick 32)")
    parser.add_argument("--decode-prompt", type=int, default=16,
                        help="prompt tokens before decoding (default 16)")
    parser.add_argument("--dtypes",
                        help="torch dtypes (default fp32,fp16,bf16 on cuda, "
                             "fp32 on cpu)")
    parser.add_argument("--tvc-precisions",
                        help="tvc-compile --precision values, one executable "
                             "each (default fp32,bf16,fp16 on cuda, "
                             "fp32,bf16 on cpu)")
    parser.add_argument("--gemm-size", type=int,
                        help="GEMM N (default 8192 on cuda, --quick 4096; "
                             "1024 on cpu)")
    parser.add_argument("--sm", type=int,
                        help="tvc-compile --sm (default: GPU 0's compute "
                             "capability, 90 on an H200)")
    parser.add_argument("--check-tokens", type=int, default=8,
                        help="first generated tokens tvc and torch fp32 must "
                             "agree on (default 8)")
    parser.add_argument("--timeout", type=int,
                        help="seconds for one run of tvc's executable "
                             "(default 300, --quick 90); tvc-compile gets "
                             "four times as long")
    parser.add_argument("--max-seconds", type=float,
                        help="start no round after a model's first once it "
                             "would end more than this many seconds after "
                             "the script started (default none; --quick 150)")
    parser.add_argument("--output",
                        help="writes OUTPUT.md and OUTPUT.json (default "
                             "SCRATCH/gpu_bench_TARGET)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run for the GPU check script")
    args = parser.parse_args()
    if args.build is None:
        # scripts/gpu-check.sh builds into build-gpu.
        gpu_build = os.path.join(ROOT, "build-gpu")
        args.build = os.environ.get("TVC_BUILD") or (
            gpu_build if args.target == "cuda" and os.access(
                os.path.join(gpu_build, "bin", "tvc-compile"), os.X_OK)
            else os.path.join(ROOT, "build"))
    # --rounds comes from gpt2_bench with default 2; None means "not given".
    args.rounds = args.rounds or (2 if args.quick else 3)
    if args.decode_tokens is None:
        args.decode_tokens = 32 if args.quick else 128
    if args.gemm_size is None:
        args.gemm_size = 1024 if args.target == "cpu" else \
            (4096 if args.quick else 8192)
    if args.max_seconds is None and args.quick:
        args.max_seconds = 150.0
    if args.timeout is None:
        args.timeout = 90 if args.quick else 300
    if args.dtypes is None:
        args.dtypes = "fp32,fp16,bf16" if args.target == "cuda" else "fp32"
    if args.tvc_precisions is None:
        args.tvc_precisions = "fp32,bf16,fp16" if args.target == "cuda" \
            else "fp32,bf16"

    def names(option, text, allowed):
        """The comma-separated list, in order, each once, each allowed."""
        chosen = []
        for name in (n.strip() for n in text.split(",")):
            if not name or name in chosen:
                continue
            if name not in allowed:
                parser.error(f"{option}: {name} is not one of "
                             f"{', '.join(allowed)}")
            chosen.append(name)
        return chosen

    args.dtypes = names("--dtypes", args.dtypes, ENGINES_TORCH)
    args.tvc_precisions = names("--tvc-precisions", args.tvc_precisions,
                                ENGINES_TVC)
    args.models = names("--models", args.models, tuple(SHAPES))
    try:
        args.prefill_tokens = [int(t) for t in args.prefill_tokens.split(",")
                               if t.strip()]
    except ValueError:
        parser.error(f"--prefill-tokens: {args.prefill_tokens} is not a "
                     f"comma-separated list of integers")
    # tvc fp32 against torch fp32 is the row the token check gates on.
    if "fp32" not in args.dtypes:
        parser.error("--dtypes must include fp32 (the like-for-like row)")
    if "fp32" not in args.tvc_precisions:
        parser.error("--tvc-precisions must include fp32 (the like-for-like "
                     "row and the token check)")
    if args.decode_tokens < 1 or args.decode_prompt < 1 or \
            not args.prefill_tokens or min(args.prefill_tokens) < 1:
        parser.error("token counts must be positive")
    if args.output is None:
        args.output = os.path.join(args.scratch, f"gpu_bench_{args.target}")
    args.output = re.sub(r"\.(md|json)$", "", args.output)
    return args


def machine_info(torch, target):
    info = {"host": platform.node(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_cuda": getattr(torch.version, "cuda", None)}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in cpuinfo
                                if line.startswith("model name")), "?")
    except OSError:
        info["cpu"] = "?"
    if target == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        props = torch.cuda.get_device_properties(0)
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["gpu_sm"] = f"{props.major}{props.minor}"
    try:
        info["tvc_commit"] = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True,
            capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["tvc_commit"] = "?"
    return info


def token_check(tvc_tokens, torch_tokens, args, errors):
    """Greedy-token agreement, {precision: tokens} of each side. tvc fp32
    against torch fp32 must agree on the first --check-tokens (a difference
    goes to `errors`); a 16-bit engine's common prefixes with torch in its
    dtype and with torch fp32 are information only, since rounding the
    weights may legitimately flip a close argmax."""
    reference = torch_tokens.get("fp32", [])
    check = {"generated": len(reference),
             "wanted": min(args.check_tokens, len(reference))}
    mine = tvc_tokens.get("fp32")
    if mine is not None:
        check["tvc_vs_torch_fp32"] = common_prefix(mine, reference)
        check["ok"] = check["tvc_vs_torch_fp32"] >= check["wanted"]
        if not check["ok"]:
            errors.append(
                f"tvc and torch fp32 tokens differ after "
                f"{check['tvc_vs_torch_fp32']} of {check['wanted']}: tvc "
                f"{mine[:check['wanted']]}, torch "
                f"{reference[:check['wanted']]}")
    for precision, tokens in tvc_tokens.items():
        if precision == "fp32":
            continue
        if reference:
            check[f"tvc_{precision}_vs_torch_fp32"] = common_prefix(
                tokens, reference)
        if precision in torch_tokens:
            check[f"tvc_{precision}_vs_torch_{precision}"] = common_prefix(
                tokens, torch_tokens[precision])
        check[f"tvc_{precision}_tokens"] = tokens
    for dtype, tokens in torch_tokens.items():
        if dtype != "fp32":
            check[f"torch_{dtype}_vs_fp32"] = common_prefix(tokens, reference)
            check[f"torch_{dtype}_tokens"] = tokens
    check["tvc_tokens"] = mine
    check["torch_fp32_tokens"] = reference
    return check


def bench_model(name, args, torch, tools, stages):
    """All rounds of one shape: the result record for the JSON."""
    label, layers, d, heads, ffn, context = SHAPES[name]
    full_layers = layers
    if args.layers:
        layers = args.layers
    elif args.quick:
        layers = QUICK_LAYERS[name]
    longest = max(max(args.prefill_tokens) + 1,
                  args.decode_prompt + args.decode_tokens + 1)
    context = max(context, round_up(longest, 1024))
    capacity = round_up(longest, 128)
    shape = (layers, d, heads, ffn, context)
    params = parameter_count(layers, d, ffn, context)
    record = {"name": name, "label": label, "layers": layers,
              "full_layers": full_layers, "d_model": d, "heads": heads,
              "ffn": ffn, "context": context, "kv_capacity": capacity,
              "parameters": params, "metrics": {}, "errors": []}
    log(f"{name}: {layers} layers, d_model {d}, {heads} heads, FFN {ffn}, "
        f"context {context}: {params / 1e6:.1f}M parameters")

    directory = os.path.join(args.scratch, f"{name}-L{layers}-C{context}")
    mlir = stages.run(f"{name}: write + import the model", write_model,
                      directory, shape, tools)
    # One executable per precision; one that does not compile drops only
    # its engine.
    exes = {}
    for precision in args.tvc_precisions:
        exe, why = stages.run(
            f"{name}: tvc-compile ({args.target}, {precision})",
            compile_model, mlir, args, capacity, tools, precision)
        if why:
            log(f"{name}: {why}")
            record["errors"].append(why)
        else:
            exes[precision] = exe

    device = args.target
    dtypes = {"fp32": torch.float32, "fp16": torch.float16,
              "bf16": torch.bfloat16}

    runners = {}

    def torch_call(dtype, what, function, *call_args):
        """A torch step; a failure (out of memory, a kernel this torch
        lacks) is recorded and drops the dtype for the rest of the run."""
        if what != "load" and dtype not in runners:
            return None
        try:
            return function(*call_args)
        except Exception as error:  # report it and go on with the others
            text = str(error).strip().splitlines()
            record["errors"].append(f"torch {dtype} {what}: "
                                    f"{type(error).__name__}: "
                                    f"{text[0] if text else ''}")
            log(record["errors"][-1])
            runners.pop(dtype, None)
            return None

    def load_torch():
        tensors = load_safetensors(os.path.join(directory, "hf",
                                                "model.safetensors"), torch)
        for dtype in args.dtypes:
            model = torch_call(dtype, "load", TorchGpt2, torch, tensors, shape,
                               device, dtypes[dtype], capacity)
            if model is not None:
                runners[dtype] = TorchRunner(torch, model, device, tf32=False)

    stages.run(f"{name}: load into torch", load_torch)

    prompts = {t: [int(i) for i in gpt2_bench.prompt_ids(t).split(",")]
               for t in args.prefill_tokens}
    decode_prompt = [int(i) for i in
                     gpt2_bench.prompt_ids(args.decode_prompt).split(",")]
    new_tokens = args.decode_tokens + 1
    metrics = [f"prefill T={t}" for t in args.prefill_tokens] + ["decode"]
    tvc_engines = [f"tvc {p}" for p in args.tvc_precisions]
    torch_engines = [f"torch {x}" for x in args.dtypes]
    samples = {m: {e: [] for e in tvc_engines + torch_engines}
               for m in metrics}
    tvc_tokens, torch_tokens = {}, {}
    tvc_walls = {p: [] for p in args.tvc_precisions}

    def tvc_call(precision, what, prompt, new):
        """One run of tvc's `precision` executable; a failure is recorded
        and drops that engine for the rest of the run."""
        if precision not in exes:
            return None
        result = run_tvc(exes[precision], prompt, new, args)
        if "error" in result:
            record["errors"].append(f"tvc {precision} {what}: "
                                    + result["error"])
            log(record["errors"][-1])
            exes.pop(precision)
            return None
        tvc_walls[precision].append(result["wall_s"])
        return result

    def warm_up():
        for precision in args.tvc_precisions:
            tvc_call(precision, "warm-up", decode_prompt, 2)
        for dtype, runner in list(runners.items()):
            for t in args.prefill_tokens:
                torch_call(dtype, f"prefill T={t}", runner.prefill, prompts[t])
            torch_call(dtype, "decode", runner.generate, decode_prompt,
                       min(new_tokens, 4))

    stages.run(f"{name}: warm-up", warm_up)
    # The warm-up's process times would skew the medians.
    for walls in tvc_walls.values():
        walls.clear()

    def rounds():
        round_seconds = 0.0
        for index in range(args.rounds):
            elapsed = time.monotonic() - START
            if args.max_seconds and index > 0 and \
                    elapsed + round_seconds > args.max_seconds:
                log(f"{name}: stopping after {index} rounds (--max-seconds "
                    f"{args.max_seconds:.0f})")
                break
            started = time.monotonic()
            record["rounds"] = index + 1
            log(f"{name}: round {index + 1}/{args.rounds}")
            for t in args.prefill_tokens:
                metric = f"prefill T={t}"
                for precision in args.tvc_precisions:
                    result = tvc_call(precision, metric, prompts[t], 1)
                    if result:
                        samples[metric][f"tvc {precision}"].append(
                            t / (result["prefill_ms"] / 1e3))
                for dtype, runner in list(runners.items()):
                    done = torch_call(dtype, metric, runner.prefill, prompts[t])
                    if done:
                        samples[metric][f"torch {dtype}"].append(
                            t / (done[0] / 1e3))
            for precision in args.tvc_precisions:
                result = tvc_call(precision, "decode", decode_prompt,
                                  new_tokens)
                if result and result["decoded"] > 0 and \
                        result["decode_ms"] > 0:
                    samples["decode"][f"tvc {precision}"].append(
                        result["decoded"] / (result["decode_ms"] / 1e3))
                    tvc_tokens.setdefault(precision, result["tokens"])
            for dtype, runner in list(runners.items()):
                done = torch_call(dtype, "decode", runner.generate,
                                  decode_prompt, new_tokens)
                if done:
                    samples["decode"][f"torch {dtype}"].append(
                        args.decode_tokens / (done[1] / 1e3))
                    torch_tokens.setdefault(dtype, done[0])
            round_seconds = time.monotonic() - started

    stages.run(f"{name}: rounds", rounds)

    for metric in metrics:
        record["metrics"][metric] = {
            engine: {"median": median(values), "samples": values}
            for engine, values in samples[metric].items()}
    # What the prefill rates mean against the GEMM ceiling.
    record["prefill_tflops"] = {}
    for t in args.prefill_tokens:
        flops = prefill_flops(layers, d, ffn, t)
        record["prefill_tflops"][f"T={t}"] = {
            engine: (value["median"] / t * flops / 1e12
                     if value["median"] else None)
            for engine, value in record["metrics"][f"prefill T={t}"].items()}
    if device == "cuda" and "fp32" in runners:
        record["logits_copy_ms"] = {
            f"T={t}": torch_call("fp32", "logits copy",
                                 runners["fp32"].logits_copy_ms, t)
            for t in args.prefill_tokens}
    record["tvc_process_wall_s"] = {f"tvc {p}": median(walls)
                                    for p, walls in tvc_walls.items()}
    record["token_check"] = token_check(tvc_tokens, torch_tokens, args,
                                        record["errors"])
    runners.clear()
    if device == "cuda":
        torch.cuda.empty_cache()
    return record


def model_title(record):
    if "parameters" not in record:
        return record["name"]
    layers = record["layers"]
    depth = f"{layers} layers" if layers == record["full_layers"] else \
        f"{layers} of {record['full_layers']} layers"
    return (f"{record['name']} ({record['parameters'] / 1e6:.0f}M params, "
            f"{depth}, d {record['d_model']})")


def report(results, args):
    """The Markdown text: the main table, the TFLOP/s table, the notes."""
    tvc_engines = [f"tvc {p}" for p in args.tvc_precisions]
    torch_engines = [f"torch {d}" for d in args.dtypes]
    # Like for like: tvc in a precision against torch in the same dtype.
    pairs = [(f"tvc {p}", f"torch {p}") for p in args.tvc_precisions
             if p in args.dtypes]
    lines = []
    info = results["machine"]
    where = info.get("gpu", info.get("cpu", "?"))
    rounds = sorted({r.get("rounds", 0) for r in results["models"]})
    done = "/".join(str(r) for r in rounds) if rounds else "0"
    lines.append(f"tvc ({info['tvc_commit']}) vs PyTorch {info['torch']} eager "
                 f"on {where} ({args.target}); medians of {done} "
                 f"interleaved rounds (of {args.rounds}); tokens/s (higher "
                 f"is better); ratio = tvc P / torch P, like for like (tvc "
                 f"P: matrices in P, activations fp32).")
    lines.append("")
    header = ["model", "metric"] + tvc_engines + torch_engines + \
        [f"{t} / {e}" for t, e in pairs]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---", "---"] + ["---:"] *
                                (len(header) - 2)) + "|")
    for record in results["models"]:
        title = model_title(record)
        for metric, values in record["metrics"].items():
            row = [title, metric + " tok/s"]
            row += [fmt(values[e]["median"]) for e in tvc_engines +
                    torch_engines]
            for mine, peer in pairs:
                tvc, other = values[mine]["median"], values[peer]["median"]
                row.append(f"{tvc / other:.2f}x" if tvc and other else "–")
            lines.append("| " + " | ".join(row) + " |")
            title = ""
    gemm = results["gemm"]
    if gemm:
        row = [f"cuBLAS GEMM {args.gemm_size}³" if args.target == "cuda"
               else f"GEMM {args.gemm_size}³ (CPU)", "TFLOP/s"]
        row += ["–"] * len(tvc_engines)
        for dtype in args.dtypes:
            value = gemm.get(dtype)
            cell = fmt(value)
            if dtype == "fp32" and "fp32 tf32" in gemm:
                cell += f" (TF32: {fmt(gemm['fp32 tf32'])})"
            row.append(cell)
        row += [""] * len(pairs)
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Prefill TFLOP/s reached (matmul FLOPs of the model / time; "
                 "causal attention counted half):")
    lines.append("")
    engines = tvc_engines + torch_engines
    lines.append("| model | T | " + " | ".join(engines) + " |")
    lines.append("|---|---:|" + "---:|" * len(engines))
    for record in results["models"]:
        for t, values in record.get("prefill_tflops", {}).items():
            lines.append(f"| {record['name']} | {t[2:]} | " + " | ".join(
                fmt(values[e]) for e in engines) + " |")
    lines.append("")
    for record in results["models"]:
        if not record.get("metrics"):
            lines += [f"- {record['name']}: ERROR {e}" for e in record["errors"]]
            continue
        check = record.get("token_check", {})
        if check.get("tvc_tokens") is None:
            agreement = "not checked (tvc did not run)"
        else:
            agreement = (f"first {check['tvc_vs_torch_fp32']} of "
                         f"{check['generated']} greedy tokens identical "
                         f"(wanted {check['wanted']}): "
                         f"{'ok' if check['ok'] else 'MISMATCH'}")
        others = ", ".join(f"torch {d} {check[f'torch_{d}_vs_fp32']}"
                           for d in args.dtypes
                           if f"torch_{d}_vs_fp32" in check)
        lines.append(f"- {record['name']}: tvc fp32 vs torch fp32: {agreement}"
                     + (f"; leading tokens equal to torch fp32's: {others}"
                        if others else ""))
        for precision in args.tvc_precisions:
            tokens = check.get(f"tvc_{precision}_tokens")
            if precision == "fp32" or tokens is None:
                continue
            prefixes = ", ".join(
                f"torch {peer}'s {check[key]}" for peer, key in (
                    (precision, f"tvc_{precision}_vs_torch_{precision}"),
                    ("fp32", f"tvc_{precision}_vs_torch_fp32"))
                if key in check)
            lines.append(f"- {record['name']}: tvc {precision} (information, "
                         f"16-bit weights may diverge): leading greedy tokens "
                         f"of {len(tokens)} equal to "
                         + (prefixes or "nothing (no torch tokens)"))
        copies = ", ".join(f"{t} {ms:.1f} ms" for t, ms in
                           record.get("logits_copy_ms", {}).items()
                           if ms is not None)
        lines.append(f"- {record['name']}: tvc's prefill is the first call in "
                     f"a fresh process"
                     + (f" and includes copying the T x {VOCAB} fp32 logits "
                        f"to the host ({copies} measured by torch)"
                        if copies else "")
                     + "; median tvc process wall time " + (", ".join(
                         f"{e} {fmt(w)} s" for e, w in
                         record.get("tvc_process_wall_s", {}).items()
                         if w is not None) or "–"))
        if record.get("rounds", args.rounds) < args.rounds:
            lines.append(f"- {record['name']}: {record['rounds']} of "
                         f"{args.rounds} rounds (--max-seconds "
                         f"{fmt(args.max_seconds)})")
        for error in record["errors"]:
            lines.append(f"- {record['name']}: ERROR {error}")
    lines.append(f"- decode: {args.decode_prompt}-token prompt, "
                 f"{args.decode_tokens} timed steps at batch 1; torch keeps "
                 f"the next token on the device (no sync per step), tvc "
                 f"copies each step's logits to the host and samples there")
    lines.append("- torch fp32 runs with TF32 off (tvc's CUDA target computes "
                 "in fp32); fp16/bf16 are torch's defaults")
    if any(p != "fp32" for p in args.tvc_precisions):
        lines.append("- tvc bf16/fp16 (`tvc-compile --precision`) store the "
                     "weight matrices in 16 bits and keep activations, KV "
                     "cache and accumulation in fp32"
                     + ("; GEMMs over more than 8 rows round x to the "
                        "weights' type and use tensor cores"
                        if args.target == "cuda" else "")
                     + "; torch fp16/bf16 compute everything in that dtype")
    if "gemm_error" in results:
        lines.append(f"- GEMM: ERROR {results['gemm_error']}")
    lines.append("- stages: " + "; ".join(f"{n} {s:.1f} s" for n, s in
                                          results["stages"]))
    return "\n".join(lines) + "\n"


def write_outputs(results, args):
    """PATH.md (the report) and PATH.json (everything)."""
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output + ".md", "w") as f:
        f.write(report(results, args))
    with open(args.output + ".json", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


def main():
    args = parse_args()
    try:
        import torch
    except ImportError as error:
        print(f"gpu_bench.py: needs PyTorch ({error}); run it with "
              f"/usr/bin/python3", file=sys.stderr)
        return 1
    if args.target == "cuda" and not torch.cuda.is_available():
        print("gpu_bench.py: no CUDA GPU is visible to PyTorch "
              f"(torch {torch.__version__}, built with CUDA "
              f"{getattr(torch.version, 'cuda', None)}): this benchmark needs "
              "one; --target cpu runs the same flow on the CPU",
              file=sys.stderr)
        return 2
    tools = gpt2_bench.find_tools(args.build, ("tvc-compile", "tvc-import"))
    if not tools:
        return 1
    if args.target == "cuda":
        help_text = subprocess.run([tools["tvc-compile"], "--help"], text=True,
                                   capture_output=True).stdout
        if "--sm" not in help_text:
            print(f"gpu_bench.py: {tools['tvc-compile']} has no CUDA target "
                  f"(its --help lists no --sm): build with TVC_ENABLE_CUDA",
                  file=sys.stderr)
            return 1
    if args.target == "cuda" and not args.sm:
        major, minor = torch.cuda.get_device_capability(0)
        args.sm = 10 * major + minor
    if args.target == "cpu":
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    os.makedirs(args.scratch, exist_ok=True)

    stages = Stages()
    results = {"machine": machine_info(torch, args.target),
               "config": {k: v for k, v in vars(args).items()},
               "models": [], "gemm": {}}
    log(f"{results['machine'].get('gpu', results['machine']['cpu'])}, torch "
        f"{torch.__version__}")

    def gemm():
        dtypes = {"fp32": torch.float32, "fp16": torch.float16,
                  "bf16": torch.bfloat16}
        for dtype in args.dtypes:
            if args.target == "cpu" and dtype != "fp32":
                continue
            results["gemm"][dtype] = gemm_tflops(
                torch, args.target, args.gemm_size, dtypes[dtype], False)
            if dtype == "fp32" and args.target == "cuda":
                results["gemm"]["fp32 tf32"] = gemm_tflops(
                    torch, args.target, args.gemm_size, torch.float32, True)
        log("GEMM TFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                          results["gemm"].items()))

    results["stages"] = stages.items
    try:
        stages.run("GEMM ceiling", gemm)
    except Exception as error:  # the models can still be measured
        traceback.print_exc()
        results["gemm_error"] = f"{type(error).__name__}: {error}"
    write_outputs(results, args)
    for name in args.models:
        try:
            record = bench_model(name, args, torch, tools, stages)
        except Exception as error:  # report it; the other models still run
            traceback.print_exc()
            record = {"name": name, "metrics": {},
                      "errors": [f"{type(error).__name__}: {error}"]}
            if args.target == "cuda":
                torch.cuda.empty_cache()
        results["models"].append(record)
        # After each model, so a run stopped from outside leaves its part.
        write_outputs(results, args)
    print(report(results, args), end="")
    log(f"wrote {args.output}.md and {args.output}.json")
    failed = "gemm_error" in results or \
        any(record["errors"] for record in results["models"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
