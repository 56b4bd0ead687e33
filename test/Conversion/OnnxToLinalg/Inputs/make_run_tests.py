#!/usr/bin/python3
"""Writes the end-to-end tests run-*.mlir of convert-onnx-to-linalg.

Each test is a module whose @main passes constant inputs through function
arguments (so nothing folds them away) to one function per case holding
generic `tvc_onnx.node` ops, lowers it with tvc-opt through
convert-onnx-to-linalg and the upstream CPU pipeline, JIT-runs it with
mlir-runner and prints each result, flattened, with printMemrefF32 /
printMemrefI64. Expected numbers come from NumPy, written from the ONNX
operator specifications independently of the lowering. Results that are
copies of inputs, integers, or sums and products of small multiples of 1/2
(exact in f32) are matched exactly; transcendental ones to 1e-5 relative
(the tolerance patterns of convert-tvc-to-linalg's generator, imported from
it). The pipeline is the upstream CPU one plus convert-bufferization-to-memref:
results that alias an argument (a slice, a reshape) are returned through a
bufferization.clone that it lowers.

Usage: /usr/bin/python3 make_run_tests.py   (rewrites ../run-*.mlir)
"""

import importlib.util
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.dirname(HERE)

# printed() (what printMemrefF32 prints for an f32) and approx_pattern() (a
# FileCheck pattern for a value within a relative tolerance) are shared with
# the tests of convert-tvc-to-linalg.
_spec = importlib.util.spec_from_file_location(
    "tvc_to_linalg_run_tests",
    os.path.join(OUT_DIR, "..", "TvcToLinalg", "Inputs", "make_run_tests.py"))
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
printed, approx_pattern = _shared.printed, _shared.approx_pattern

PIPELINE = (
    "builtin.module(convert-onnx-to-linalg, "
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}, "
    "buffer-deallocation-pipeline, convert-bufferization-to-memref, "
    "convert-linalg-to-loops, "
    "convert-scf-to-cf, expand-strided-metadata, lower-affine, "
    "convert-math-to-llvm, convert-math-to-libm, finalize-memref-to-llvm, "
    "convert-arith-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, "
    "reconcile-unrealized-casts)"
)

RUN_LINES = f"""\
// RUN: tvc-opt %s --pass-pipeline="{PIPELINE}" \\
// RUN: | mlir-runner -e main -entry-point-result=void \\
// RUN:   --shared-libs=%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_c_runner_utils.so \\
// RUN: | FileCheck %s
"""

RNG = np.random.default_rng(20250117)
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def values(shape, low=-3.0, high=3.0, min_abs=0.05):
    """f32 inputs with three decimals, none within min_abs of zero."""
    x = RNG.uniform(low, high, size=shape)
    x = np.where(np.abs(x) < min_abs, np.sign(x + 1e-9) * (min_abs + 0.1), x)
    return np.round(x, 3).astype(np.float32)


def halves(shape, low=-4, high=4):
    """f32 multiples of 1/2: sums of their products are exact in f32."""
    return (RNG.integers(2 * low, 2 * high + 1, size=shape) / 2).astype(np.float32)


def ints(shape, low=-9, high=10):
    return RNG.integers(low, high, size=shape).astype(np.int64)


#===----------------------------------------------------------------------===#
# Formatting
#===----------------------------------------------------------------------===#

ELEMENT = {"f": "f32", "i": "i64", "b": "i1"}


def element_of(array):
    return ELEMENT[array.dtype.kind]


def tensor_type(shape, element):
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{element}>" if dims else f"tensor<{element}>"


def literal(array):
    """A dense<...> literal of a NumPy array."""
    if array.ndim == 0:
        v = array.item()
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return f"{v:.3f}" if v == round(v, 3) else repr(v)
    return "[" + ", ".join(literal(a) for a in array) + "]"


def node(result, op, inputs, types, attrs="", version=17):
    """A tvc_onnx.node line: `types` is (input types..., result type)."""
    *input_types, result_type = types
    return (f'{result} = tvc_onnx.node "{op}"({", ".join(inputs)}) '
            f'{{attrs = {{{attrs}}}, domain = "", version = {version} : i64}} '
            f': ({", ".join(input_types)}) -> {result_type}')


def i64s(name, values_):
    """An arith.constant of 1-D i64 values (shape operands)."""
    return (f"{name} = arith.constant dense<[{', '.join(str(v) for v in values_)}]> "
            f": tensor<{len(values_)}xi64>")


def check_lines(result, exact, atol):
    """CHECK lines for a result printed flattened, one CHECK-SAME line per
    row of its last dimension."""
    flat = result.reshape(-1)
    if result.ndim:
        rows = result.reshape(-1, result.shape[-1]) if result.shape[-1] else [flat]
        lines = [f"// CHECK: rank = 1 offset = 0 sizes = [{flat.size}] strides = [1] data ="]
    else:
        rows = flat.reshape(1, 1)
        lines = ["// CHECK: rank = 0 offset = 0 sizes = [] strides = [] data ="]
    pieces = []
    for row in rows:
        if result.dtype.kind == "i":
            texts = [str(int(v)) for v in row]
        elif exact:
            texts = [printed(v) for v in row]
        else:
            texts = [approx_pattern(float(v), atol) for v in row]
        pieces.append(", ".join(texts))
    for i, piece in enumerate(pieces):
        head = "// CHECK-NEXT: [" if i == 0 else "// CHECK-SAME: "
        tail = "]" if i == len(pieces) - 1 else ","
        lines.append(head + piece + tail)
    return lines


class Arg:
    """A function argument: its value and its type in the callee (`dynamic`
    lists the dimensions the callee sees as `?`)."""

    def __init__(self, name, array, dynamic=(1,)):
        self.name, self.array = name, array
        element = element_of(array)
        self.static = tensor_type(array.shape, element)
        self.type = tensor_type(
            [None if i in dynamic else d for i, d in enumerate(array.shape)], element)


class Case:
    """One function @name holding `body` (MLIR over the arguments' names)
    that returns one tensor of type `result`, compared with `expected`."""

    def __init__(self, name, why, args, body, result, expected, exact=False, atol=5e-7):
        self.name, self.why, self.args, self.body = name, why, args, body
        self.result, self.expected, self.exact, self.atol = result, expected, exact, atol


def emit(cases, title, path):
    out = [RUN_LINES, f"// {title}",
           "// Generated by Inputs/make_run_tests.py (expected values from NumPy);",
           "// edit that script and rerun it rather than this file.", ""]
    for case in cases:
        params = ", ".join(f"%{a.name}: {a.type}" for a in case.args)
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
        for a in case.args:
            value = f"%{a.name}_{index}"
            out.append(f"  {value}_c = arith.constant dense<{literal(a.array)}> : {a.static}")
            if a.static != a.type:
                out.append(f"  {value} = tensor.cast {value}_c : {a.static} to {a.type}")
            else:
                value += "_c"
            operands.append(value)
        types = ", ".join(a.type for a in case.args)
        out.append(f"  %r{index} = call @{case.name}({', '.join(operands)}) : ({types}) -> {case.result}")
        element = case.result[:-1].split("x")[-1].split("<")[-1]
        dims = case.result[len("tensor<"):-1].split("x")[:-1]
        if len(dims) > 1:
            reassociation = "[[" + ", ".join(str(i) for i in range(len(dims))) + "]]"
            size = "?" if "?" in dims else str(math.prod(int(d) for d in dims))
            flat_type = f"tensor<{size}x{element}>"
            out.append(f"  %flat{index} = tensor.collapse_shape %r{index} {reassociation} : "
                       f"{case.result} into {flat_type}")
            flat = f"%flat{index}"
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
T = tensor_type

#===----------------------------------------------------------------------===#
# Position ids (what PyTorch's GPT-2 and LLaMA exports leave generic)
#===----------------------------------------------------------------------===#


def position_chain(ids_type):
    """Shape -> Gather(axis 0, scalar 1) -> Cast -> Range(0, n, 1), exactly as
    torch.onnx exports `torch.arange(input_ids.size(1))`."""
    return "\n".join([
        node("%shape", "Shape", ["%ids"], [ids_type, "tensor<2xi64>"]),
        node("%one", "Constant", [], ["tensor<i64>"], "value = dense<1> : tensor<i64>"),
        node("%length", "Gather", ["%shape", "%one"],
             ["tensor<2xi64>", "tensor<i64>", "tensor<i64>"], "axis = 0 : i64"),
        node("%count", "Cast", ["%length"], ["tensor<i64>", "tensor<i64>"], "to = 7 : i64"),
        node("%zero", "Constant", [], ["tensor<i64>"], "value = dense<0> : tensor<i64>"),
        node("%step", "Constant", [], ["tensor<i64>"], "value = dense<1> : tensor<i64>"),
        node("%positions", "Range", ["%zero", "%count", "%step"],
             ["tensor<i64>", "tensor<i64>", "tensor<i64>", "tensor<?xi64>"]),
    ])


def position_cases():
    seq = 5
    ids = RNG.integers(0, 50, size=(1, seq)).astype(np.int64)
    ids_type = "tensor<1x?xi64>"
    tokens = values((1, seq, 32))
    table = values((16, 32))
    cases = [
        Case("position_ids_unsqueezed",
             "LLaMA's chain: Shape, Gather, Cast, Range, Unsqueeze(axes [0]) on a dynamic [1, ?] input.",
             [Arg("ids", ids)],
             position_chain(ids_type) + "\n" + "\n".join([
                 i64s("%axes", [0]),
                 node("%unsqueezed", "Unsqueeze", ["%positions", "%axes"],
                      ["tensor<?xi64>", "tensor<1xi64>", "tensor<1x?xi64>"]),
                 "return %unsqueezed : tensor<1x?xi64>"]),
             "tensor<1x?xi64>", np.arange(seq, dtype=np.int64)[None]),
        Case("position_embedding_add",
             "GPT-2's chain: positions gather rows of wpe [16, 32], broadcast-added to tokens [1, ?, 32].",
             [Arg("ids", ids), Arg("tokens", tokens), Arg("wpe", table, dynamic=())],
             position_chain(ids_type) + "\n" + "\n".join([
                 node("%rows", "Gather", ["%wpe", "%positions"],
                      ["tensor<16x32xf32>", "tensor<?xi64>", "tensor<?x32xf32>"], "axis = 0 : i64"),
                 node("%sum", "Add", ["%tokens", "%rows"],
                      ["tensor<1x?x32xf32>", "tensor<?x32xf32>", "tensor<1x?x32xf32>"]),
                 "return %sum : tensor<1x?x32xf32>"]),
             "tensor<1x?x32xf32>", (tokens + table[None, :seq]).astype(np.float32), exact=True),
    ]
    return cases


#===----------------------------------------------------------------------===#
# Shape
#===----------------------------------------------------------------------===#


def shape_cases():
    x = values((2, 3, 6))
    seq = values((1, 3, 8))
    m = values((4, 6))
    cases = []

    cases.append(Case(
        "reshape_zero_minus_one",
        "Reshape [2, ?, 6] by the constant [0, -1, 2, 3]: 0 copies dim 0, -1 takes the rest.",
        [Arg("x", x)],
        "\n".join([i64s("%shape", [0, -1, 2, 3]),
                   node("%y", "Reshape", ["%x", "%shape"],
                        ["tensor<2x?x6xf32>", "tensor<4xi64>", "tensor<2x?x2x3xf32>"]),
                   "return %y : tensor<2x?x2x3xf32>"]),
        "tensor<2x?x2x3xf32>", x.reshape(2, 3, 2, 3), exact=True))
    cases.append(Case(
        "reshape_split_heads",
        "Reshape [1, ?, 8] by [0, 0, 2, 4] (attention's head split) then Transpose perm [0, 2, 1, 3].",
        [Arg("x", seq)],
        "\n".join([i64s("%shape", [0, 0, 2, 4]),
                   node("%heads", "Reshape", ["%x", "%shape"],
                        ["tensor<1x?x8xf32>", "tensor<4xi64>", "tensor<1x?x2x4xf32>"]),
                   node("%y", "Transpose", ["%heads"],
                        ["tensor<1x?x2x4xf32>", "tensor<1x2x?x4xf32>"],
                        "perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]"),
                   "return %y : tensor<1x2x?x4xf32>"]),
        "tensor<1x2x?x4xf32>", seq.reshape(1, 3, 2, 4).transpose(0, 2, 1, 3), exact=True))
    cases.append(Case(
        "transpose_default_reverses",
        "Transpose without perm reverses the dimensions of [2, ?, 6].",
        [Arg("x", x)],
        "\n".join([node("%y", "Transpose", ["%x"], ["tensor<2x?x6xf32>", "tensor<6x?x2xf32>"]),
                   "return %y : tensor<6x?x2xf32>"]),
        "tensor<6x?x2xf32>", x.transpose(2, 1, 0), exact=True))
    a = values((1, 3, 2))
    b = values((1, 3, 3))
    cases.append(Case(
        "concat_last_axis",
        "Concat [1, ?, 2] and [1, ?, 3] on axis -1.",
        [Arg("a", a), Arg("b", b)],
        "\n".join([node("%y", "Concat", ["%a", "%b"],
                        ["tensor<1x?x2xf32>", "tensor<1x?x3xf32>", "tensor<1x?x5xf32>"],
                        "axis = -1 : i64"),
                   "return %y : tensor<1x?x5xf32>"]),
        "tensor<1x?x5xf32>", np.concatenate([a, b], axis=-1), exact=True))
    past = values((1, 2, 2))
    cases.append(Case(
        "concat_dynamic_axis",
        "Concat [1, 2, 2] and [1, ?, 2] on axis 1 (a KV-cache append): the offset of the second is 2.",
        [Arg("past", past, dynamic=()), Arg("a", a)],
        "\n".join([node("%y", "Concat", ["%past", "%a"],
                        ["tensor<1x2x2xf32>", "tensor<1x?x2xf32>", "tensor<1x?x2xf32>"],
                        "axis = 1 : i64"),
                   "return %y : tensor<1x?x2xf32>"]),
        "tensor<1x?x2xf32>", np.concatenate([past, a], axis=1), exact=True))
    slices = [
        ("slice_step_to_int64_max", "Slice columns 1::2 of [?, 6], end INT64_MAX.",
         [1], [INT64_MAX], [1], [2], "tensor<?x3xf32>", m[:, 1::2]),
        ("slice_negative_bounds", "Slice rows -3:-1 of [?, 6] (negative starts and ends count from the end).",
         [-3], [-1], [0], [1], "tensor<?x6xf32>", m[-3:-1]),
        ("slice_reverse", "Slice columns with step -1 from -1 to INT64_MIN: the columns reversed.",
         [-1], [INT64_MIN], [1], [-1], "tensor<?x6xf32>", m[:, ::-1]),
        ("slice_negative_step_two", "Slice rows 3 down to (not including) 0 with step -2, columns 1:5.",
         [3, 1], [0, 5], [0, 1], [-2, 1], "tensor<?x4xf32>", m[3:0:-2, 1:5]),
        ("slice_clamped", "Slice rows 1:100 (end clamped to the size) and columns -100:2 (start clamped to 0).",
         [1, -100], [100, 2], [0, -1], [1, 1], "tensor<?x2xf32>", m[1:100, -100:2]),
    ]
    for name, why, starts, ends, axes, steps, result, expected in slices:
        cases.append(Case(
            name, why, [Arg("m", m, dynamic=(0,))],
            "\n".join([i64s("%starts", starts), i64s("%ends", ends), i64s("%axes", axes),
                       i64s("%steps", steps),
                       node("%y", "Slice", ["%m", "%starts", "%ends", "%axes", "%steps"],
                            ["tensor<?x6xf32>"] + [f"tensor<{len(starts)}xi64>"] * 4 + [result]),
                       f"return %y : {result}"]),
            result, expected, exact=True))
    cases.append(Case(
        "reshape_runtime_shape",
        "Reshape [2, ?, 6] by a shape [0, -1, 3, 2] known only at run time.",
        [Arg("x", x), Arg("shape", np.array([0, -1, 3, 2], dtype=np.int64), dynamic=())],
        "\n".join([node("%y", "Reshape", ["%x", "%shape"],
                        ["tensor<2x?x6xf32>", "tensor<4xi64>", "tensor<2x?x?x?xf32>"]),
                   "return %y : tensor<2x?x?x?xf32>"]),
        "tensor<2x?x?x?xf32>", x.reshape(2, 3, 3, 2), exact=True))
    cases.append(Case(
        "slice_runtime_bounds",
        "Slice rows [-3, INT64_MAX) of [?, 6] with both bounds read at run time.",
        [Arg("m", m, dynamic=(0,)), Arg("starts", np.array([-3], dtype=np.int64), dynamic=()),
         Arg("ends", np.array([INT64_MAX], dtype=np.int64), dynamic=())],
        "\n".join([i64s("%axes", [0]),
                   node("%y", "Slice", ["%m", "%starts", "%ends", "%axes"],
                        ["tensor<?x6xf32>", "tensor<1xi64>", "tensor<1xi64>", "tensor<1xi64>",
                         "tensor<?x6xf32>"]),
                   "return %y : tensor<?x6xf32>"]),
        "tensor<?x6xf32>", m[-3:], exact=True))
    cases.append(Case(
        "split_runtime_sizes",
        "Split [2, ?, 6] on axis 2 into sizes [2, 4] read at run time; the second piece returned.",
        [Arg("x", x), Arg("split", np.array([2, 4], dtype=np.int64), dynamic=())],
        "\n".join([node("%p:2", "Split", ["%x", "%split"],
                        ["tensor<2x?x6xf32>", "tensor<2xi64>", "(tensor<2x?x?xf32>, tensor<2x?x?xf32>)"],
                        "axis = 2 : i64"),
                   "return %p#1 : tensor<2x?x?xf32>"]),
        "tensor<2x?x?xf32>", x[..., 2:], exact=True))
    cases.append(Case(
        "unranked_intermediates",
        "Reshape by a run-time shape whose result shape inference left unranked, then Transpose.",
        [Arg("x", seq), Arg("shape", np.array([0, 0, 2, -1], dtype=np.int64), dynamic=())],
        "\n".join([node("%h", "Reshape", ["%x", "%shape"],
                        ["tensor<1x?x8xf32>", "tensor<4xi64>", "tensor<*xf32>"]),
                   node("%t", "Transpose", ["%h"], ["tensor<*xf32>", "tensor<*xf32>"],
                        "perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]"),
                   "%r = tensor.cast %t : tensor<*xf32> to tensor<1x2x?x4xf32>",
                   "return %r : tensor<1x2x?x4xf32>"]),
        "tensor<1x2x?x4xf32>", seq.reshape(1, 3, 2, 4).transpose(0, 2, 1, 3), exact=True))
    column = values((3, 1))
    cases.append(Case(
        "expand_broadcast",
        "Expand [?, 1] to the constant shape [2, 1, 3]: result [2, ?, 3].",
        [Arg("c", column, dynamic=(0,))],
        "\n".join([i64s("%shape", [2, 1, 3]),
                   node("%y", "Expand", ["%c", "%shape"],
                        ["tensor<?x1xf32>", "tensor<3xi64>", "tensor<2x?x3xf32>"]),
                   "return %y : tensor<2x?x3xf32>"]),
        "tensor<2x?x3xf32>", np.broadcast_to(column, (2, 3, 3)), exact=True))
    row = values((1, 4))
    cases.append(Case(
        "expand_runtime_shape",
        "Expand [1, 4] to a shape tensor [3, 1] known only at run time: result [3, 4].",
        [Arg("row", row, dynamic=()), Arg("shape", np.array([3, 1], dtype=np.int64), dynamic=())],
        "\n".join([node("%y", "Expand", ["%row", "%shape"],
                        ["tensor<1x4xf32>", "tensor<2xi64>", "tensor<?x4xf32>"]),
                   "return %y : tensor<?x4xf32>"]),
        "tensor<?x4xf32>", np.broadcast_to(row, (3, 4)), exact=True))
    table = values((6, 4))
    ids = np.array([[5, 0, -1, 2]], dtype=np.int64)
    cases.append(Case(
        "gather_weight_rows",
        "Gather rows of a [6, 4] weight by i64 ids [1, ?] (an embedding); id -1 is the last row.",
        [Arg("table", table, dynamic=()), Arg("ids", ids)],
        "\n".join([node("%y", "Gather", ["%table", "%ids"],
                        ["tensor<6x4xf32>", "tensor<1x?xi64>", "tensor<1x?x4xf32>"], "axis = 0 : i64"),
                   "return %y : tensor<1x?x4xf32>"]),
        "tensor<1x?x4xf32>", table[ids], exact=True))
    cases.append(Case(
        "gather_axis_one_scalar",
        "Gather with a scalar index -2 on axis 1 of [?, 6]: column 4, the axis dropped.",
        [Arg("m", m, dynamic=(0,))],
        "\n".join([node("%index", "Constant", [], ["tensor<i64>"], "value = dense<-2> : tensor<i64>"),
                   node("%y", "Gather", ["%m", "%index"],
                        ["tensor<?x6xf32>", "tensor<i64>", "tensor<?xf32>"], "axis = 1 : i64"),
                   "return %y : tensor<?xf32>"]),
        "tensor<?xf32>", m[:, -2], exact=True))
    cases.append(Case(
        "split_sizes_input",
        "Split [2, ?, 6] on axis -1 into [1, 5] (opset 13 input); the second piece returned.",
        [Arg("x", x)],
        "\n".join([i64s("%split", [1, 5]),
                   node("%p:2", "Split", ["%x", "%split"],
                        ["tensor<2x?x6xf32>", "tensor<2xi64>", "(tensor<2x?x1xf32>, tensor<2x?x5xf32>)"],
                        "axis = -1 : i64"),
                   "return %p#1 : tensor<2x?x5xf32>"]),
        "tensor<2x?x5xf32>", x[..., 1:], exact=True))
    cases.append(Case(
        "split_equal_dynamic",
        "Split [2, ?, 6] on its dynamic axis 1 into 3 equal pieces; the last returned.",
        [Arg("x", x)],
        "\n".join([node("%p:3", "Split", ["%x"],
                        ["tensor<2x?x6xf32>", "(tensor<2x?x6xf32>, tensor<2x?x6xf32>, tensor<2x?x6xf32>)"],
                        "axis = 1 : i64"),
                   "return %p#2 : tensor<2x?x6xf32>"]),
        "tensor<2x?x6xf32>", x[:, 2:], exact=True))
    col = values((1, 3, 1))
    cases.append(Case(
        "squeeze_flatten",
        "Squeeze axes [0, 2] of [1, ?, 1], then Unsqueeze at -1 and Flatten at axis 1.",
        [Arg("x", col)],
        "\n".join([i64s("%axes", [0, 2]),
                   node("%s", "Squeeze", ["%x", "%axes"],
                        ["tensor<1x?x1xf32>", "tensor<2xi64>", "tensor<?xf32>"]),
                   i64s("%last", [-1]),
                   node("%u", "Unsqueeze", ["%s", "%last"],
                        ["tensor<?xf32>", "tensor<1xi64>", "tensor<?x1xf32>"]),
                   node("%f", "Flatten", ["%u"], ["tensor<?x1xf32>", "tensor<?x1xf32>"],
                        "axis = 1 : i64"),
                   "return %f : tensor<?x1xf32>"]),
        "tensor<?x1xf32>", col.reshape(3, 1), exact=True))
    cases.append(Case(
        "constant_of_shape_runtime",
        "ConstantOfShape of the shape of [2, ?, 6] with value 2.5 (a run-time size).",
        [Arg("x", x)],
        "\n".join([node("%shape", "Shape", ["%x"], ["tensor<2x?x6xf32>", "tensor<3xi64>"]),
                   node("%y", "ConstantOfShape", ["%shape"], ["tensor<3xi64>", "tensor<2x?x6xf32>"],
                        "value = dense<2.5> : tensor<1xf32>"),
                   "return %y : tensor<2x?x6xf32>"]),
        "tensor<2x?x6xf32>", np.full((2, 3, 6), 2.5, dtype=np.float32), exact=True))
    r = np.array([-2.7, -0.5, 0.0, 0.4, 1.5, 2.9], dtype=np.float32)
    cases.append(Case(
        "cast_f32_to_i64",
        "Cast f32 to i64 rounds toward zero (-2.7 -> -2).",
        [Arg("r", r, dynamic=(0,))],
        "\n".join([node("%y", "Cast", ["%r"], ["tensor<?xf32>", "tensor<?xi64>"], "to = 7 : i64"),
                   "return %y : tensor<?xi64>"]),
        "tensor<?xi64>", np.trunc(r).astype(np.int64)))
    cases.append(Case(
        "cast_through_bool_and_f16",
        "Cast f32 -> bool -> f32 (nonzero is 1) plus f32 -> f16 -> f32 (rounds to half precision).",
        [Arg("r", r, dynamic=(0,))],
        "\n".join([node("%b", "Cast", ["%r"], ["tensor<?xf32>", "tensor<?xi1>"], "to = 9 : i64"),
                   node("%bf", "Cast", ["%b"], ["tensor<?xi1>", "tensor<?xf32>"], "to = 1 : i64"),
                   node("%h", "Cast", ["%r"], ["tensor<?xf32>", "tensor<?xf16>"], "to = 10 : i64"),
                   node("%hf", "Cast", ["%h"], ["tensor<?xf16>", "tensor<?xf32>"], "to = 1 : i64"),
                   node("%y", "Add", ["%bf", "%hf"], ["tensor<?xf32>", "tensor<?xf32>", "tensor<?xf32>"]),
                   "return %y : tensor<?xf32>"]),
        "tensor<?xf32>",
        ((r != 0).astype(np.float32) + r.astype(np.float16).astype(np.float32)).astype(np.float32),
        exact=True))
    cases.append(Case(
        "range_float_and_negative_delta",
        "Range(1.0, 4.0, 0.5) as f32 plus Range(10, 2, -3) as i64 (both sized at run time).",
        [Arg("limit", np.array(4.0, dtype=np.float32), dynamic=()),
         Arg("start", np.array(10, dtype=np.int64), dynamic=())],
        "\n".join([
            node("%fs", "Constant", [], ["tensor<f32>"], "value = dense<1.0> : tensor<f32>"),
            node("%fd", "Constant", [], ["tensor<f32>"], "value = dense<0.5> : tensor<f32>"),
            node("%f", "Range", ["%fs", "%limit", "%fd"],
                 ["tensor<f32>", "tensor<f32>", "tensor<f32>", "tensor<?xf32>"]),
            node("%il", "Constant", [], ["tensor<i64>"], "value = dense<2> : tensor<i64>"),
            node("%id", "Constant", [], ["tensor<i64>"], "value = dense<-3> : tensor<i64>"),
            node("%i", "Range", ["%start", "%il", "%id"],
                 ["tensor<i64>", "tensor<i64>", "tensor<i64>", "tensor<?xi64>"]),
            node("%if", "Cast", ["%i"], ["tensor<?xi64>", "tensor<?xf32>"], "to = 1 : i64"),
            node("%y", "Concat", ["%f", "%if"], ["tensor<?xf32>", "tensor<?xf32>", "tensor<?xf32>"],
                 "axis = 0 : i64"),
            "return %y : tensor<?xf32>"]),
        "tensor<?xf32>",
        np.concatenate([np.arange(1.0, 4.0, 0.5), np.arange(10, 2, -3)]).astype(np.float32),
        exact=True))
    return cases


#===----------------------------------------------------------------------===#
# Elementwise
#===----------------------------------------------------------------------===#


def elementwise_cases():
    x = values((2, 3, 4))
    y = values((3, 1))
    pos = np.abs(values((2, 3, 4))) + np.float32(0.5)
    t, ty = "tensor<2x?x4xf32>", "tensor<?x1xf32>"
    cases = []
    binaries = [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply), ("Div", np.divide)]
    body = []
    expected = f64(x)
    for op, fn in binaries:
        prev = "%x" if op == "Add" else f"%{prev_op.lower()}"
        body.append(node(f"%{op.lower()}", op, [prev, "%y"], [t, ty, t]))
        expected = fn(expected, f64(y))
        prev_op = op
    cases.append(Case(
        "arith_broadcast_chain",
        "((((x + y) - y) * y) / y) with x [2, ?, 4] and y [?, 1] broadcast on both sides.",
        [Arg("x", x), Arg("y", y, dynamic=(0,))],
        "\n".join(body + [f"return %div : {t}"]), t, expected, atol=1e-5))
    unary = [("Sqrt", np.sqrt), ("Exp", np.exp), ("Log", np.log), ("Tanh", np.tanh),
             ("Erf", np.vectorize(math.erf)), ("Sigmoid", lambda v: 1 / (1 + np.exp(-v))),
             ("Reciprocal", lambda v: 1 / v), ("Neg", np.negative)]
    for op, fn in unary:
        source = pos if op in ("Sqrt", "Log") else x
        cases.append(Case(
            f"unary_{op.lower()}", f"{op} of a [2, ?, 4] tensor.",
            [Arg("x", source)],
            "\n".join([node("%y", op, ["%x"], [t, t]), f"return %y : {t}"]),
            t, fn(f64(source))))
    cases.append(Case(
        "pow_abs_relu",
        "Pow(|x|, 1.5) + Relu(x) with the exponent a broadcast scalar constant.",
        [Arg("x", x)],
        "\n".join([node("%a", "Abs", ["%x"], [t, t]),
                   node("%e", "Constant", [], ["tensor<f32>"], "value = dense<1.5> : tensor<f32>"),
                   node("%p", "Pow", ["%a", "%e"], [t, "tensor<f32>", t]),
                   node("%r", "Relu", ["%x"], [t, t]),
                   node("%y", "Add", ["%p", "%r"], [t, t, t]),
                   f"return %y : {t}"]),
        t, np.abs(f64(x)) ** 1.5 + np.maximum(f64(x), 0)))
    z = values((4,))
    cases.append(Case(
        "max_min_variadic",
        "Max(x, y, z) - Min(x, z) with y [?, 1] and z [4] broadcast (variadic, numpy rules).",
        [Arg("x", x), Arg("y", y, dynamic=(0,)), Arg("z", z, dynamic=())],
        "\n".join([node("%mx", "Max", ["%x", "%y", "%z"], [t, ty, "tensor<4xf32>", t]),
                   node("%mn", "Min", ["%x", "%z"], [t, "tensor<4xf32>", t]),
                   node("%d", "Sub", ["%mx", "%mn"], [t, t, t]),
                   f"return %d : {t}"]),
        t, (np.maximum(np.maximum(x, y), z) - np.minimum(x, z)).astype(np.float32), exact=True))
    cond = RNG.integers(0, 2, size=(3, 4)).astype(bool)
    cases.append(Case(
        "where_bool_mask",
        "Where(mask [?, 4] bool, x [2, ?, 4], -inf-like scalar -100): an additive-mask pattern.",
        [Arg("mask", cond, dynamic=(0,)), Arg("x", x)],
        "\n".join([node("%fill", "Constant", [], ["tensor<f32>"], "value = dense<-100.0> : tensor<f32>"),
                   node("%y", "Where", ["%mask", "%x", "%fill"],
                        ["tensor<?x4xi1>", t, "tensor<f32>", t]),
                   f"return %y : {t}"]),
        t, np.where(cond, x, np.float32(-100.0)), exact=True))
    cases.append(Case(
        "compare_logic_to_f32",
        "Greater, Less, Not, And, Equal and Or: (x > y and not x < 0) or x == x[5], cast from bool to f32.",
        [Arg("x", x), Arg("y", y, dynamic=(0,))],
        "\n".join([node("%gt", "Greater", ["%x", "%y"], [t, ty, "tensor<2x?x4xi1>"]),
                   node("%zero", "Constant", [], ["tensor<f32>"], "value = dense<0.0> : tensor<f32>"),
                   node("%lt", "Less", ["%x", "%zero"], [t, "tensor<f32>", "tensor<2x?x4xi1>"]),
                   node("%nonneg", "Not", ["%lt"], ["tensor<2x?x4xi1>", "tensor<2x?x4xi1>"]),
                   node("%both", "And", ["%gt", "%nonneg"],
                        ["tensor<2x?x4xi1>", "tensor<2x?x4xi1>", "tensor<2x?x4xi1>"]),
                   node("%probe", "Constant", [], ["tensor<f32>"],
                        f"value = dense<{x.flat[5]:.3f}> : tensor<f32>"),
                   node("%eq", "Equal", ["%x", "%probe"], [t, "tensor<f32>", "tensor<2x?x4xi1>"]),
                   node("%any", "Or", ["%both", "%eq"],
                        ["tensor<2x?x4xi1>", "tensor<2x?x4xi1>", "tensor<2x?x4xi1>"]),
                   node("%y2", "Cast", ["%any"], ["tensor<2x?x4xi1>", t], "to = 1 : i64"),
                   f"return %y2 : {t}"]),
        t, (((x > y) & ~(x < 0)) | (x == x.flat[5])).astype(np.float32), exact=True))
    square = values((2, 4, 4))
    cases.append(Case(
        "trilu_upper_and_lower",
        "Trilu upper from diagonal 1 (constant k) plus lower from diagonal -1 (k read at run time).",
        [Arg("m", square, dynamic=(1, 2)), Arg("k", np.array(-1, dtype=np.int64), dynamic=())],
        "\n".join([node("%one", "Constant", [], ["tensor<i64>"], "value = dense<1> : tensor<i64>"),
                   node("%u", "Trilu", ["%m", "%one"],
                        ["tensor<2x?x?xf32>", "tensor<i64>", "tensor<2x?x?xf32>"], "upper = 1 : i64"),
                   node("%l", "Trilu", ["%m", "%k"],
                        ["tensor<2x?x?xf32>", "tensor<i64>", "tensor<2x?x?xf32>"], "upper = 0 : i64"),
                   node("%y", "Add", ["%u", "%l"],
                        ["tensor<2x?x?xf32>", "tensor<2x?x?xf32>", "tensor<2x?x?xf32>"]),
                   "return %y : tensor<2x?x?xf32>"]),
        "tensor<2x?x?xf32>", (np.triu(square, 1) + np.tril(square, -1)).astype(np.float32),
        exact=True))
    a = np.array([7, -7, 9, -9, 12, 5], dtype=np.int64)
    b = np.array([2], dtype=np.int64)
    cases.append(Case(
        "i64_shape_arithmetic",
        "i64 Add, Sub, Mul and Div (rounding toward zero: -7 / 2 = -3) with a broadcast [1] operand.",
        [Arg("a", a, dynamic=(0,)), Arg("b", b, dynamic=())],
        "\n".join([node("%s", "Add", ["%a", "%b"], ["tensor<?xi64>", "tensor<1xi64>", "tensor<?xi64>"]),
                   node("%d", "Sub", ["%s", "%b"], ["tensor<?xi64>", "tensor<1xi64>", "tensor<?xi64>"]),
                   node("%m", "Mul", ["%d", "%b"], ["tensor<?xi64>", "tensor<1xi64>", "tensor<?xi64>"]),
                   node("%q", "Div", ["%a", "%b"], ["tensor<?xi64>", "tensor<1xi64>", "tensor<?xi64>"]),
                   node("%y", "Add", ["%m", "%q"], ["tensor<?xi64>", "tensor<?xi64>", "tensor<?xi64>"]),
                   "return %y : tensor<?xi64>"]),
        "tensor<?xi64>", a * 2 + np.trunc(a / 2).astype(np.int64)))
    return cases


#===----------------------------------------------------------------------===#
# Reductions
#===----------------------------------------------------------------------===#


def softmax(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def reduction_cases():
    x = values((1, 3, 5))
    w = values((2, 3, 4))
    t = "tensor<1x?x5xf32>"
    cases = [
        Case("softmax_last_axis", "Softmax over the last axis (opset 13) of [1, ?, 5].",
             [Arg("x", x)],
             "\n".join([node("%y", "Softmax", ["%x"], [t, t], "axis = -1 : i64"),
                        f"return %y : {t}"]),
             t, softmax(f64(x), (2,))),
        Case("softmax_opset11_coerced", "Softmax of opset 11 at axis 1 normalizes over dims 1 and 2 together.",
             [Arg("w", w)],
             "\n".join([node("%y", "Softmax", ["%w"], ["tensor<2x?x4xf32>", "tensor<2x?x4xf32>"],
                             "axis = 1 : i64", version=11),
                        "return %y : tensor<2x?x4xf32>"]),
             "tensor<2x?x4xf32>", softmax(f64(w), (1, 2))),
        Case("log_softmax", "LogSoftmax over the last axis.",
             [Arg("x", x)],
             "\n".join([node("%y", "LogSoftmax", ["%x"], [t, t], "axis = -1 : i64"),
                        f"return %y : {t}"]),
             t, np.log(softmax(f64(x), (2,)))),
        Case("reduce_mean_keepdims", "ReduceMean over axes [-1] (attribute, opset 17) keeping dims: [1, ?, 1].",
             [Arg("x", x)],
             "\n".join([node("%y", "ReduceMean", ["%x"], [t, "tensor<1x?x1xf32>"],
                             "axes = [-1 : i64], keepdims = 1 : i64"),
                        "return %y : tensor<1x?x1xf32>"]),
             "tensor<1x?x1xf32>", f64(x).mean(axis=-1, keepdims=True)),
        Case("reduce_mean_axes_input", "ReduceMean of opset 18 with axes [0, 2] as an input, keepdims 0: [?].",
             [Arg("w", w)],
             "\n".join([i64s("%axes", [0, 2]),
                        node("%y", "ReduceMean", ["%w", "%axes"],
                             ["tensor<2x?x4xf32>", "tensor<2xi64>", "tensor<?xf32>"],
                             "keepdims = 0 : i64", version=18),
                        "return %y : tensor<?xf32>"]),
             "tensor<?xf32>", f64(w).mean(axis=(0, 2))),
        Case("reduce_sum_max", "ReduceSum over axis 1 (input, opset 13, no keepdims) plus ReduceMax of all dims.",
             [Arg("w", w)],
             "\n".join([i64s("%axes", [1]),
                        node("%s", "ReduceSum", ["%w", "%axes"],
                             ["tensor<2x?x4xf32>", "tensor<1xi64>", "tensor<2x4xf32>"],
                             "keepdims = 0 : i64", version=13),
                        node("%m", "ReduceMax", ["%w"], ["tensor<2x?x4xf32>", "tensor<1x1x1xf32>"],
                             "", version=13),
                        i64s("%flat", [1]),
                        node("%mf", "Reshape", ["%m", "%flat"],
                             ["tensor<1x1x1xf32>", "tensor<1xi64>", "tensor<1xf32>"], version=13),
                        node("%y", "Add", ["%s", "%mf"],
                             ["tensor<2x4xf32>", "tensor<1xf32>", "tensor<2x4xf32>"], version=13),
                        "return %y : tensor<2x4xf32>"]),
             "tensor<2x4xf32>", f64(w).sum(axis=1) + f64(w).max(), atol=1e-5),
    ]
    scale = values((5,))
    bias = values((5,))
    centered = f64(x) - f64(x).mean(-1, keepdims=True)
    inv_std = 1 / np.sqrt((centered**2).mean(-1, keepdims=True) + 1e-5)
    cases.append(Case(
        "layer_norm_and_inv_std",
        "LayerNormalization over the last axis of [1, ?, 5] plus its InvStdDev result (broadcast back).",
        [Arg("x", x), Arg("scale", scale, dynamic=()), Arg("bias", bias, dynamic=())],
        "\n".join([node("%y, %mean, %inv", "LayerNormalization", ["%x", "%scale", "%bias"],
                        [t, "tensor<5xf32>", "tensor<5xf32>",
                         f"({t}, tensor<1x?x1xf32>, tensor<1x?x1xf32>)"],
                        "axis = -1 : i64, epsilon = 9.99999974E-6 : f32"),
                   node("%sum", "Add", ["%y", "%inv"], [t, "tensor<1x?x1xf32>", t]),
                   f"return %sum : {t}"]),
        t, centered * inv_std * scale + bias + inv_std, atol=1e-5))
    ties = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -1.0, 0.25], [-3.0, -1.0, -1.0, -4.0]],
                    dtype=np.float32)
    cases.append(Case(
        "argmax_first_and_last",
        "ArgMax over the last axis, ties to the first index, plus 10 x the select_last_index one.",
        [Arg("x", ties, dynamic=(0,))],
        "\n".join([node("%first", "ArgMax", ["%x"], ["tensor<?x4xf32>", "tensor<?xi64>"],
                        "axis = -1 : i64, keepdims = 0 : i64"),
                   node("%last", "ArgMax", ["%x"], ["tensor<?x4xf32>", "tensor<?x1xi64>"],
                        "axis = 1 : i64, keepdims = 1 : i64, select_last_index = 1 : i64"),
                   i64s("%ten", [10]),
                   node("%scaled", "Mul", ["%last", "%ten"],
                        ["tensor<?x1xi64>", "tensor<1xi64>", "tensor<?x1xi64>"]),
                   i64s("%shape", [-1]),
                   node("%flat", "Reshape", ["%scaled", "%shape"],
                        ["tensor<?x1xi64>", "tensor<1xi64>", "tensor<?xi64>"]),
                   node("%y", "Add", ["%first", "%flat"],
                        ["tensor<?xi64>", "tensor<?xi64>", "tensor<?xi64>"]),
                   "return %y : tensor<?xi64>"]),
        "tensor<?xi64>",
        ties.argmax(-1) + 10 * (ties.shape[1] - 1 - ties[:, ::-1].argmax(-1))))
    return cases


#===----------------------------------------------------------------------===#
# MatMul and Gemm
#===----------------------------------------------------------------------===#


def matmul_cases():
    x = halves((1, 3, 4))
    w = halves((4, 3))
    q = halves((1, 2, 3, 4))
    k = halves((1, 2, 4, 3))
    a = halves((2, 1, 3, 4))
    b = halves((3, 4, 2))
    v = halves((4,))
    cases = [
        Case("matmul_3d_by_2d", "MatMul [1, ?, 4] x [4, 3] (a linear layer's weight).",
             [Arg("x", x), Arg("w", w, dynamic=())],
             "\n".join([node("%y", "MatMul", ["%x", "%w"],
                             ["tensor<1x?x4xf32>", "tensor<4x3xf32>", "tensor<1x?x3xf32>"]),
                        "return %y : tensor<1x?x3xf32>"]),
             "tensor<1x?x3xf32>", x @ w, exact=True),
        Case("matmul_attention_scores", "MatMul [1, 2, ?, 4] x [1, 2, 4, ?]: batched attention scores.",
             [Arg("q", q, dynamic=(2,)), Arg("k", k, dynamic=(3,))],
             "\n".join([node("%y", "MatMul", ["%q", "%k"],
                             ["tensor<1x2x?x4xf32>", "tensor<1x2x4x?xf32>", "tensor<1x2x?x?xf32>"]),
                        "return %y : tensor<1x2x?x?xf32>"]),
             "tensor<1x2x?x?xf32>", q @ k, exact=True),
        Case("matmul_broadcast_batch", "MatMul [2, 1, 3, 4] x [3, 4, 2]: batch dims broadcast to [2, 3].",
             [Arg("a", a, dynamic=()), Arg("b", b, dynamic=())],
             "\n".join([node("%y", "MatMul", ["%a", "%b"],
                             ["tensor<2x1x3x4xf32>", "tensor<3x4x2xf32>", "tensor<2x3x3x2xf32>"]),
                        "return %y : tensor<2x3x3x2xf32>"]),
             "tensor<2x3x3x2xf32>", a @ b, exact=True),
        Case("matmul_vector", "MatMul [1, ?, 4] x [4]: the promoted vector's dim is dropped, result [1, ?].",
             [Arg("x", x), Arg("v", v, dynamic=())],
             "\n".join([node("%y", "MatMul", ["%x", "%v"],
                             ["tensor<1x?x4xf32>", "tensor<4xf32>", "tensor<1x?xf32>"]),
                        "return %y : tensor<1x?xf32>"]),
             "tensor<1x?xf32>", x @ v, exact=True),
    ]
    ga = halves((3, 4))
    gb = halves((2, 4))
    gc = halves((2,))
    cases.append(Case(
        "gemm_trans_b_alpha_beta",
        "Gemm 0.5 * A [?, 4] B^T ([2, 4], transB) + 2 * C [2].",
        [Arg("a", ga, dynamic=(0,)), Arg("b", gb, dynamic=()), Arg("c", gc, dynamic=())],
        "\n".join([node("%y", "Gemm", ["%a", "%b", "%c"],
                        ["tensor<?x4xf32>", "tensor<2x4xf32>", "tensor<2xf32>", "tensor<?x2xf32>"],
                        "alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, transB = 1 : i64"),
                   "return %y : tensor<?x2xf32>"]),
        "tensor<?x2xf32>", 0.5 * (ga @ gb.T) + 2 * gc, exact=True))
    cases.append(Case(
        "gemm_trans_a_no_c",
        "Gemm A^T ([4, ?], transA) B [4, 2] without C.",
        [Arg("a", ga.T.copy(), dynamic=(1,)), Arg("b", gb.T.copy(), dynamic=())],
        "\n".join([node("%y", "Gemm", ["%a", "%b"],
                        ["tensor<4x?xf32>", "tensor<4x2xf32>", "tensor<?x2xf32>"], "transA = 1 : i64"),
                   "return %y : tensor<?x2xf32>"]),
        "tensor<?x2xf32>", ga @ gb.T, exact=True))
    return cases


if __name__ == "__main__":
    emit(position_cases(), "Position ids as PyTorch exports them (GPT-2, LLaMA), run.",
         os.path.join(OUT_DIR, "run-position-ids.mlir"))
    emit(shape_cases(), "Shape, layout and data-movement nodes, run.",
         os.path.join(OUT_DIR, "run-shape.mlir"))
    emit(elementwise_cases(), "Elementwise nodes with numpy broadcasting, run.",
         os.path.join(OUT_DIR, "run-elementwise.mlir"))
    emit(reduction_cases(), "Reductions, softmax and argmax, run.",
         os.path.join(OUT_DIR, "run-reduction.mlir"))
    emit(matmul_cases(), "MatMul and Gemm, run.",
         os.path.join(OUT_DIR, "run-matmul.mlir"))
