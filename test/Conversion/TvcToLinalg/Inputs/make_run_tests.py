#!/usr/bin/python3
"""Writes the end-to-end tests run-*.mlir of convert-tvc-to-linalg.

Each test is a module whose @main passes constant inputs through a function
argument (so nothing folds them away) to one function per case holding a
tvc op, lowers it with tvc-opt through convert-tvc-to-linalg and the upstream
CPU pipeline, JIT-runs it with mlir-runner and prints every result with
printMemrefF32 / printMemrefI64. The expected numbers come from NumPy in
float64, written independently of the lowering from the formulas of
docs/Dialect/TvcOps.md (RoPE as Hugging Face's rotate_half and GPT-J's
rotate_every_two). Results that are copies of inputs (split, embedding) or
one f32 operation away from them (argmax, learned_positions) are matched
exactly; computed ones to 5 significant digits (an f32 tolerance of
1e-5 relative).

Usage: /usr/bin/python3 make_run_tests.py   (rewrites ../run-*.mlir)
"""

import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.dirname(HERE)

PIPELINE = (
    "builtin.module(convert-tvc-to-linalg, "
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}, "
    "buffer-deallocation-pipeline, convert-linalg-to-loops, "
    "convert-scf-to-cf, expand-strided-metadata, lower-affine, "
    "convert-math-to-llvm, convert-math-to-libm, finalize-memref-to-llvm, "
    "convert-arith-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, "
    "reconcile-unrealized-casts)"
)

# The same, with the loops tiled and mapped as the CUDA target maps them
# onto blocks of threads (tvc-gpu-map-loops, 6 threads a block so tiles are
# smaller than the extents and the guards matter), then run on the CPU:
# the tiling must compute the same values.
PIPELINE_GPU_LOOPS = PIPELINE.replace(
    "convert-linalg-to-loops",
    "func.func(convert-linalg-to-parallel-loops, "
    "tvc-gpu-map-loops{threads=6}), convert-linalg-to-loops")

RUN_LINES = "".join(f"""\
// RUN: tvc-opt %s --pass-pipeline="{pipeline}" \\
// RUN: | mlir-runner -e main -entry-point-result=void \\
// RUN:   --shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so \\
// RUN: | FileCheck %s
""" for pipeline in (PIPELINE, PIPELINE_GPU_LOOPS))

RNG = np.random.default_rng(20240611)


def values(shape, low=-3.0, high=3.0, min_abs=0.05):
    """f32 inputs with three decimals, none within min_abs of zero."""
    x = RNG.uniform(low, high, size=shape)
    x = np.where(np.abs(x) < min_abs, np.sign(x + 1e-9) * (min_abs + 0.1), x)
    return np.round(x, 3).astype(np.float32)


#===----------------------------------------------------------------------===#
# Formatting
#===----------------------------------------------------------------------===#


def type_str(shape, element):
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{element}>" if dims else f"tensor<{element}>"


def literal(array):
    """A dense<...> literal of a NumPy array."""
    if array.ndim == 0:
        return fmt_in(array.item())
    return "[" + ", ".join(literal(a) for a in array) + "]"


def fmt_in(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{float(v):.3f}"


def printed(v):
    """What printMemrefF32 prints for the f32 `v` (ostream, precision 6)."""
    return "%g" % float(np.float32(v))


def significant(s):
    digits = s.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(digits)


def truncate(mantissa, digits):
    """`mantissa` cut after its first `digits` significant digits."""
    seen = 0
    for i, c in enumerate(mantissa):
        if c.isdigit() and (seen or c != "0"):
            seen += 1
            if seen == digits:
                return mantissa[: i + 1]
    return mantissa


def approx_pattern(v, atol):
    """A FileCheck pattern for the f32 value printed for float64 `v`, within
    1e-5 relative plus `atol` absolute (for cancellation near zero): every
    string that may print, cut to 5 significant digits (4 when that gives
    fewer alternatives) and followed by any digits. Printing drops trailing
    zeros, so shorter strings (0.6) stay exact alternatives: "0.6" followed
    by any digits would also match 0.61."""
    if v == 0.0:
        # An exact zero (relu's gate): f32 computes 0 or -0.
        return "{{-?0}}"
    assert abs(v) > 20 * atol, f"{v} is too close to zero for a relative check"
    tol = 1e-5 * abs(v) + atol
    candidates = sorted({printed(t) for t in np.linspace(v - tol, v + tol, 4001)})
    if len(candidates) == 1:
        return candidates[0]
    exponents = {c.partition("e")[2] for c in candidates}
    assert len(exponents) == 1, (v, candidates[:3])
    exponent = exponents.pop()
    suffix = f"e{exponent}" if exponent else ""
    mantissas = [c.partition("e")[0] for c in candidates]
    best = None
    for digits in (5, 4):
        keys = set()
        for m in mantissas:
            if significant(m) < digits:
                keys.add((m, False))
            else:
                keys.add((truncate(m, digits), True))
        if best is None or len(keys) < len(best):
            best = keys
    keys = sorted(best)
    if len(keys) == 1 and keys[0][1]:
        return keys[0][0] + "{{[0-9]*}}" + suffix
    alternatives = [k.replace(".", "\\.") + ("[0-9]*" if open_ended else "")
                    for k, open_ended in keys]
    return "{{(" + "|".join(alternatives) + ")}}" + suffix


def check_lines(result, exact, atol):
    """CHECK lines for a flattened result printed as one 1-D memref, one
    CHECK-SAME line per row of the last dimension."""
    flat = result.reshape(-1)
    rows = result.reshape(-1, result.shape[-1]) if result.ndim else flat.reshape(1, 1)
    if result.ndim:
        lines = [f"// CHECK: rank = 1 offset = 0 sizes = [{flat.size}] strides = [1] data ="]
    else:
        lines = ["// CHECK: rank = 0 offset = 0 sizes = [] strides = [] data ="]
    pieces = []
    for row in rows:
        if exact:
            texts = [str(int(v)) if result.dtype.kind == "i" else printed(v) for v in row]
        else:
            texts = [approx_pattern(float(v), atol) for v in row]
        pieces.append(", ".join(texts))
    for i, piece in enumerate(pieces):
        head = "// CHECK-NEXT: [" if i == 0 else "// CHECK-SAME: "
        tail = "]" if i == len(pieces) - 1 else ","
        lines.append(head + piece + tail)
    return lines


#===----------------------------------------------------------------------===#
# Cases
#===----------------------------------------------------------------------===#


class Case:
    """One function @name holding `body` (MLIR using %arg names of `args`),
    called from @main; `expected` is matched exactly or to 1e-5 relative plus
    `atol` absolute."""

    def __init__(self, name, why, args, body, result, expected, exact=False,
                 atol=5e-7):
        self.name, self.why, self.args, self.body = name, why, args, body
        self.result, self.expected, self.exact = result, expected, exact
        self.atol = atol


def dyn(shape, dim=1):
    """The shape with dimension `dim` (the sequence) dynamic."""
    return tuple(None if i == dim else d for i, d in enumerate(shape))


def arg(name, array, dynamic_dim=1):
    element = "i64" if array.dtype.kind == "i" else "f32"
    static = type_str(array.shape, element)
    dynamic = type_str(dyn(array.shape, dynamic_dim), element) if dynamic_dim is not None else static
    return (name, array, element, static, dynamic)


def emit(cases, title, path):
    out = [RUN_LINES, f"// {title}",
           "// Generated by Inputs/make_run_tests.py (expected values from NumPy);",
           "// edit that script and rerun it rather than this file.", ""]
    for case in cases:
        params = ", ".join(f"%{n}: {d}" for n, _, _, _, d in case.args)
        out.append(f"func.func @{case.name}({params}) -> {case.result} {{")
        out += ["  " + line for line in case.body.strip().splitlines()]
        out += ["}", ""]
    out += ["func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}",
            "func.func private @printMemrefI64(tensor<*xi64>) attributes {llvm.emit_c_interface}", "",
            "func.func @main() {"]
    for index, case in enumerate(cases):
        out.append(f"  /// {case.why}")
        out += ["  " + line for line in check_lines(case.expected, case.exact, case.atol)]
        operands = []
        for n, array, element, static, dynamic in case.args:
            value = f"%{n}_{index}"
            out.append(f"  {value}_c = arith.constant dense<{literal(array)}> : {static}")
            if static != dynamic:
                out.append(f"  {value} = tensor.cast {value}_c : {static} to {dynamic}")
            else:
                value = f"{value}_c"
            operands.append(value)
        types = ", ".join(d for _, _, _, _, d in case.args)
        out.append(f"  %r{index} = call @{case.name}({', '.join(operands)}) : ({types}) -> {case.result}")
        element = "i64" if case.result.endswith("i64>") else "f32"
        rank = len(case.result[len("tensor<"):-1].split("x")) - 1
        if rank > 1:
            reassociation = "[[" + ", ".join(str(i) for i in range(rank)) + "]]"
            out.append(f"  %flat{index} = tensor.collapse_shape %r{index} {reassociation} : "
                       f"{case.result} into tensor<?x{element}>")
            flat = f"%flat{index}"
            flat_type = f"tensor<?x{element}>"
        else:
            flat, flat_type = f"%r{index}", case.result
        out.append(f"  %u{index} = tensor.cast {flat} : {flat_type} to tensor<*x{element}>")
        printer = "printMemrefI64" if element == "i64" else "printMemrefF32"
        out.append(f"  call @{printer}(%u{index}) : (tensor<*x{element}>) -> ()")
        out.append("")
    out += ["  return", "}", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))


f64 = np.float64

#===----------------------------------------------------------------------===#
# Elementwise
#===----------------------------------------------------------------------===#


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def elementwise_cases():
    x = values((1, 3, 4))
    y = values((1, 3, 4))
    t = "tensor<1x?x4xf32>"
    cases = [
        Case("gelu_exact_f32", "GELU, erf form (math.erf through libm's erff).",
             [arg("x", x)], f"%y = tvc.gelu %x : {t}\nreturn %y : {t}", t, gelu(f64(x))),
        Case("gelu_tanh_f32", "GELU, tanh approximation (GPT-2's gelu_new).",
             [arg("x", x)], f"%y = tvc.gelu %x approximate tanh : {t}\nreturn %y : {t}", t,
             gelu_tanh(f64(x))),
        Case("silu_f32", "SiLU x * sigmoid(x).",
             [arg("x", x)], f"%y = tvc.silu %x : {t}\nreturn %y : {t}", t, silu(f64(x))),
        Case("relu_f32", "ReLU: negatives become exactly 0.",
             [arg("x", x)], f"%y = tvc.relu %x : {t}\nreturn %y : {t}", t,
             relu(x), exact=True),
        Case("add_f32", "Residual sum (one f32 addition: exact).",
             [arg("x", x), arg("y", y)], f"%s = tvc.add %x, %y : {t}\nreturn %s : {t}", t,
             (x + y).astype(np.float32), exact=True),
    ]
    activations = {"silu": silu, "gelu": gelu, "gelu_tanh": gelu_tanh, "relu": relu}
    for name, fn in activations.items():
        cases.append(Case(f"glu_{name}_f32", f"Gated product {name}(gate) * up.",
                          [arg("gate", x), arg("up", y)],
                          f"%h = tvc.glu %gate, %up activation {name} : {t}\nreturn %h : {t}", t,
                          fn(f64(x)) * f64(y)))
    return cases


#===----------------------------------------------------------------------===#
# Normalization, softmax, argmax
#===----------------------------------------------------------------------===#


def layer_norm(x, scale, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps) * scale
    return y + bias if bias is not None else y


def rms_norm(x, scale, eps):
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * scale


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def normalization_cases():
    x = values((1, 3, 6))
    scale = values((6,), 0.5, 1.5)
    bias = values((6,), -0.5, 0.5)
    t, s = "tensor<1x?x6xf32>", "tensor<6xf32>"
    # Softmax rows far above exp's f32 range (exp(101) overflows without
    # subtracting the max), a row with a very negative entry, a plain row.
    logits = np.array([[[100.0, 99.5, 98.25, 80.0, 101.0, 97.125],
                        [-1.5, 0.25, 2.0, -60.0, 1.0, 0.5],
                        [0.3, -0.7, 1.1, 0.9, -0.2, 0.4]]], dtype=np.float32)
    # argmax: ties pick the lowest index; a row of equal values gives 0.
    ties = np.array([[[0.5, 2.0, -1.0, 2.0, 1.0, 2.0],
                      [1.25, 1.25, 1.25, 1.25, 1.25, 1.25],
                      [-3.0, -2.5, -4.0, -1.0, -1.5, -2.0],
                      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]], dtype=np.float32)
    a, r = "tensor<1x?x6xf32>", "tensor<1x?xi64>"
    vector = values((7,))
    vector_scale = values((7,), 0.5, 1.5)
    return [
        Case("layer_norm_f32", "Layer norm with bias (biased variance, epsilon 1e-5).",
             [arg("x", x), arg("scale", scale, None), arg("bias", bias, None)],
             f"%y = tvc.layer_norm %x, %scale, %bias epsilon 1.0e-05 : {t}, {s}, {s}\n"
             f"return %y : {t}", t, layer_norm(f64(x), f64(scale), f64(bias), 1e-5)),
        Case("layer_norm_no_bias_f32", "Layer norm without bias, epsilon large enough to matter.",
             [arg("x", x), arg("scale", scale, None)],
             f"%y = tvc.layer_norm %x, %scale epsilon 0.5 : {t}, {s}\nreturn %y : {t}", t,
             layer_norm(f64(x), f64(scale), None, 0.5)),
        Case("rms_norm_f32", "RMS norm (LLaMA), epsilon 1e-6.",
             [arg("x", x), arg("scale", scale, None)],
             f"%y = tvc.rms_norm %x, %scale epsilon 1.0e-06 : {t}, {s}\nreturn %y : {t}", t,
             rms_norm(f64(x), f64(scale), 1e-6)),
        Case("softmax_f32", "Softmax subtracts the row max: logits near 100 do not overflow.",
             [arg("x", logits)], f"%p = tvc.softmax %x : {t}\nreturn %p : {t}", t,
             softmax(f64(logits)), atol=0.0),
        Case("argmax_f32", "Argmax with ties (lowest index wins).",
             [arg("x", ties)], f"%i = tvc.argmax %x : {a}\nreturn %i : {r}", r,
             np.argmax(ties, -1).astype(np.int64), exact=True),
        Case("argmax_vector_f32", "Argmax of a vector of dynamic size: a 0-d index.",
             [arg("x", vector, 0)], "%i = tvc.argmax %x : tensor<?xf32>\n"
             "return %i : tensor<i64>", "tensor<i64>",
             np.array(np.argmax(vector), dtype=np.int64), exact=True),
        Case("rms_norm_vector_f32", "RMS norm of a vector of dynamic width (the count is "
             "read at run time).",
             [arg("x", vector, 0), arg("scale", vector_scale, 0)],
             "%y = tvc.rms_norm %x, %scale epsilon 1.0e-06 : tensor<?xf32>, tensor<?xf32>\n"
             "return %y : tensor<?xf32>", "tensor<?xf32>",
             rms_norm(f64(vector), f64(vector_scale), 1e-6)),
    ]


#===----------------------------------------------------------------------===#
# Embedding, positions, RoPE
#===----------------------------------------------------------------------===#


def inverse_frequencies(theta, d, kind="none", factor=1.0, original=0, beta_fast=32.0,
                        beta_slow=1.0, low=1.0, high=4.0):
    """The scaled inv_freq of the RopeScalingAttr docs and YaRN's magnitude."""
    if kind == "ntk":
        theta = theta * factor ** (d / (d - 2))
    inv = theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    magnitude = 1.0
    if kind == "linear":
        inv = inv / factor
    elif kind == "yarn":
        rotations = original * inv / (2 * math.pi)
        ramp = np.clip((rotations - beta_slow) / (beta_fast - beta_slow), 0.0, 1.0)
        inv = inv * ramp + inv / factor * (1 - ramp)
        magnitude = 0.1 * math.log(factor) + 1.0
    elif kind == "llama3":
        wavelength = 2 * math.pi / inv
        smooth = (original / wavelength - low) / (high - low)
        scaled = np.where(wavelength > original / low, inv / factor, inv)
        medium = (wavelength >= original / high) & (wavelength <= original / low)
        inv = np.where(medium, (1 - smooth) * inv / factor + smooth * inv, scaled)
    return inv, magnitude


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], -1)


def rotate_every_two(x):
    out = np.empty_like(x)
    out[..., 0::2] = -x[..., 1::2]
    out[..., 1::2] = x[..., 0::2]
    return out


def rope(x, positions, heads, theta, rotary_dim=None, interleaved=False, **scaling):
    b, t, width = x.shape
    head_dim = width // heads
    d = rotary_dim or head_dim
    inv, magnitude = inverse_frequencies(theta, d, **scaling)
    angles = positions[..., None].astype(np.float64) * inv  # [B, T, d/2]
    if interleaved:
        angles = np.repeat(angles, 2, -1)  # (f0, f0, f1, f1, ...)
        rotate = rotate_every_two
    else:
        angles = np.concatenate([angles, angles], -1)  # (f0, f1, ..., f0, f1, ...)
        rotate = rotate_half
    cos = np.cos(angles)[:, :, None, :] * magnitude
    sin = np.sin(angles)[:, :, None, :] * magnitude
    xh = x.reshape(b, t, heads, head_dim)
    rot, passed = xh[..., :d], xh[..., d:]
    out = np.concatenate([rot * cos + rotate(rot) * sin, passed], -1)
    return out.reshape(b, t, width)


def embedding_cases():
    table = values((5, 4))
    ids = np.array([[3, 0, 4, 1]], dtype=np.int64)
    hidden = values((1, 3, 4))
    wpe = values((6, 4))
    positions = np.array([[2, 3, 5]], dtype=np.int64)
    cases = [
        Case("embedding_f32", "Token embedding: rows of the table gathered by id.",
             [arg("table", table, None), arg("ids", ids)],
             "%h = tvc.embedding %table, %ids : tensor<5x4xf32>, tensor<1x?xi64>\n"
             "return %h : tensor<1x?x4xf32>", "tensor<1x?x4xf32>",
             table[ids], exact=True),
        Case("learned_positions_f32", "GPT-2 positions: hidden + wpe[positions] (one f32 add).",
             [arg("hidden", hidden), arg("wpe", wpe, None), arg("positions", positions)],
             "%h = tvc.learned_positions %hidden, %wpe, %positions : tensor<1x?x4xf32>, "
             "tensor<6x4xf32>, tensor<1x?xi64>\nreturn %h : tensor<1x?x4xf32>",
             "tensor<1x?x4xf32>", (hidden + wpe[positions]).astype(np.float32), exact=True),
    ]
    # Two heads of 8 channels; positions include 0 (no rotation) and larger
    # ones where the scaling kinds differ.
    q = values((1, 3, 16))
    pos = np.array([[0, 7, 40]], dtype=np.int64)
    t, p = "tensor<1x?x16xf32>", "tensor<1x?xi64>"
    variants = [
        ("rope_half_f32", "Rotate-half pairs (x[i], x[i + 4]) over whole heads.", "", {}),
        ("rope_interleaved_f32", "Adjacent pairs (x[2i], x[2i+1]) (GPT-J).", " interleaved",
         {"interleaved": True}),
        ("rope_partial_f32", "rotary_dim 4 of 8: the last 4 channels of each head pass through.",
         " rotary_dim 4", {"rotary_dim": 4}),
        ("rope_partial_interleaved_f32", "Partial and interleaved together.",
         " rotary_dim 6 interleaved", {"rotary_dim": 6, "interleaved": True}),
        ("rope_linear_f32", "Linear scaling (position interpolation): inv_freq / 4.",
         " scaling <kind = linear, factor = 4.0>", {"kind": "linear", "factor": 4.0}),
        ("rope_ntk_f32", "NTK-aware scaling: base theta * s^(d / (d - 2)).",
         " scaling <kind = ntk, factor = 4.0>", {"kind": "ntk", "factor": 4.0}),
        ("rope_yarn_f32", "YaRN: a ramp between extrapolated and interpolated frequencies "
         "(one clamped to 1, one between, two at 0) and magnitude 0.1 ln 4 + 1.",
         " scaling <kind = yarn, factor = 4.0, original_max_positions = 64, beta_fast = 8.0, "
         "beta_slow = 1.0>",
         {"kind": "yarn", "factor": 4.0, "original": 64, "beta_fast": 8.0, "beta_slow": 1.0}),
        ("rope_llama3_f32", "Llama 3 scaling: one high frequency kept, one smoothed, two divided.",
         " scaling <kind = llama3, factor = 8.0, original_max_positions = 64, "
         "low_freq_factor = 1.0, high_freq_factor = 4.0>",
         {"kind": "llama3", "factor": 8.0, "original": 64, "low": 1.0, "high": 4.0}),
    ]
    for name, why, attrs, kwargs in variants:
        kwargs = dict(kwargs)
        cases.append(Case(name, why, [arg("x", q), arg("positions", pos)],
                          f"%y = tvc.rope %x, %positions heads 2 theta 1.0e+04{attrs} : {t}, {p}\n"
                          f"return %y : {t}", t,
                          rope(f64(q), pos, 2, 1e4, **kwargs)))
    return cases


#===----------------------------------------------------------------------===#
# Shape
#===----------------------------------------------------------------------===#


def shape_cases():
    x = values((1, 3, 6))
    t = "tensor<1x?x6xf32>"
    cases = []
    for index, (lo, hi) in enumerate([(0, 1), (1, 3), (3, 6)]):
        out = f"tensor<1x?x{hi - lo}xf32>"
        cases.append(Case(f"split_piece{index}_f32",
                          f"Piece {index} of a split [1, 2, 3]: channels [{lo}, {hi}).",
                          [arg("x", x)],
                          f"%a, %b, %c = tvc.split %x sizes [1, 2, 3] : {t}\n"
                          f"return %{'abc'[index]} : {out}", out, x[..., lo:hi], exact=True))
    return cases


if __name__ == "__main__":
    emit(elementwise_cases(), "gelu (both forms), silu, relu, add and glu (every activation), run.",
         os.path.join(OUT_DIR, "run-elementwise.mlir"))
    emit(normalization_cases(), "layer_norm, rms_norm, softmax and argmax, run.",
         os.path.join(OUT_DIR, "run-normalization.mlir"))
    emit(embedding_cases(), "embedding, learned_positions and rope (layouts, partial rotation, "
         "every scaling kind), run.", os.path.join(OUT_DIR, "run-embedding.mlir"))
    emit(shape_cases(), "split, run.", os.path.join(OUT_DIR, "run-shape.mlir"))
