#!/usr/bin/env python3
"""Writes the tiny binary ONNX models the tvc-import lit tests read.

Run once (onnx 1.12 and numpy); its outputs are checked in beside it, and
the tests never run it. The same valid models seed the ONNX fuzzer
(test/fuzz/corpus/onnx), which this script also writes.

  make_onnx_models.py INPUTS_DIR [FUZZ_CORPUS_DIR]

INPUTS_DIR receives:

  tiny.onnx             x float[1, 4] -> y float[2, 1]:
                        fc/MatMul(x, w) -> fc/Add(+ b) -> Reshape(shape),
                        mask/Where(keep, y0, Cast(zero)) -> z float[1, 2].
                        w float[4, 2] in raw_data, b float[2] in float_data,
                        shape int64[2] = {2, 1}, keep bool[2] = {1, 0},
                        zero float16[1] = {0}.
  external/model.onnx   the same model with every raw_data initializer
  external/weights.bin  (w at offset 0, shape 32, keep 48, zero 50) in
                        external/weights.bin (onnx.save with
                        save_as_external_data, one file, size_threshold 0);
                        b, in float_data, stays in the model.
  external/bad-range.onnx
                        tiny.onnx whose w points at offset 4096 of the
                        (much shorter) external/weights.bin.
  bad-location.onnx     tiny.onnx whose w is external data at "../x".
  bad-raw-size.onnx     tiny.onnx whose w (float[4, 2], 32 bytes) holds 12
                        bytes of raw_data.
  several-problems.onnx bad-raw-size.onnx plus a node reading the undefined
                        value "ghost" and a graph output "nowhere" that no
                        node produces.
  attrs.onnx            an opset-13 model with attributes of every kind
                        the importer converts (int, float, ints, floats,
                        tensor): Gemm, Constant, Softmax, ReduceMean,
                        Unsqueeze, LeakyRelu.
  unknown-ops.onnx      float16: com.microsoft SkipLayerNormalization, the
                        opset-23 Attention (opset 17 imported), then a Split
                        with a strings attribute.

FUZZ_CORPUS_DIR receives tiny.onnx, attrs.onnx and unknown-ops.onnx.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_model():
    w = numpy_helper.from_array(
        np.array([[1, 2], [3, 4], [5, 6], [7, 8]], dtype=np.float32), "w")
    b = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -0.5])
    shape = numpy_helper.from_array(np.array([2, 1], dtype=np.int64), "shape")
    keep = numpy_helper.from_array(np.array([True, False]), "keep")
    zero = numpy_helper.from_array(np.array([0], dtype=np.float16), "zero")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="fc/MatMul"),
        helper.make_node("Add", ["m", "b"], ["y0"], name="fc/Add"),
        helper.make_node("Reshape", ["y0", "shape"], ["y"], name="reshape"),
        helper.make_node("Cast", ["zero"], ["zero32"], name="cast",
                         to=TensorProto.FLOAT),
        helper.make_node("Where", ["keep", "y0", "zero32"], ["z"],
                         name="mask/Where"),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 1]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2])],
        [w, b, shape, keep, zero])
    model = helper.make_model(
        graph, producer_name="make_onnx_models",
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def initializer(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def make_external(tensor, location, offset=None, length=None):
    """Turns `tensor` into external data at `location` (no bytes kept)."""
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", offset),
                       ("length", length)):
        if value is not None:
            entry = tensor.external_data.add()
            entry.key = key
            entry.value = str(value)


def save(model, path):
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def main():
    out = sys.argv[1]
    ext = os.path.join(out, "external")
    os.makedirs(ext, exist_ok=True)

    save(tiny_model(), os.path.join(out, "tiny.onnx"))

    # onnx.save appends to an existing external data file.
    if os.path.exists(os.path.join(ext, "weights.bin")):
        os.remove(os.path.join(ext, "weights.bin"))
    model = tiny_model()
    onnx.save(model, os.path.join(ext, "model.onnx"),
              save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)

    model = tiny_model()
    make_external(initializer(model, "w"), "weights.bin", 4096, 32)
    save(model, os.path.join(ext, "bad-range.onnx"))

    model = tiny_model()
    make_external(initializer(model, "w"), "../x")
    save(model, os.path.join(out, "bad-location.onnx"))

    model = tiny_model()
    initializer(model, "w").raw_data = b"\0" * 12
    save(model, os.path.join(out, "bad-raw-size.onnx"))

    model.graph.node.append(
        helper.make_node("Relu", ["ghost"], ["r"], name="haunted"))
    model.graph.output.append(
        helper.make_tensor_value_info("nowhere", TensorProto.FLOAT, [1]))
    save(model, os.path.join(out, "several-problems.onnx"))

    save(attrs_model(), os.path.join(out, "attrs.onnx"))
    save(custom_model(), os.path.join(out, "unknown-ops.onnx"))

    if len(sys.argv) > 2:
        corpus = sys.argv[2]
        os.makedirs(corpus, exist_ok=True)
        save(tiny_model(), os.path.join(corpus, "tiny.onnx"))
        save(attrs_model(), os.path.join(corpus, "attrs.onnx"))
        save(custom_model(), os.path.join(corpus, "unknown-ops.onnx"))


def attrs_model():
    """Every attribute kind the importer converts, and an opset-13 model
    for the version converter."""
    w = numpy_helper.from_array(np.ones((3, 4), dtype=np.float32), "w")
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["g"], transB=1, alpha=0.5),
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(
            np.array([1.0, 2.0, 3.0], dtype=np.float32))),
        helper.make_node("Add", ["g", "c"], ["a"]),
        helper.make_node("Softmax", ["a"], ["s"], axis=-1),
        helper.make_node("ReduceMean", ["s"], ["y"], axes=[1], keepdims=1),
        helper.make_node("Constant", [], ["ax"], value_ints=[0]),
        helper.make_node("Constant", [], ["fs"], value_floats=[1.5, 2.5]),
        helper.make_node("LeakyRelu", ["fs"], ["l"], alpha=0.25),
        helper.make_node("Unsqueeze", ["y", "ax"], ["u"]),
    ]
    graph = helper.make_graph(
        nodes, "attrs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("u", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("l", TensorProto.FLOAT, None)],
        [w])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


def custom_model():
    """A custom-domain op and an op newer than libonnx 1.12."""
    nodes = [
        helper.make_node("SkipLayerNormalization", ["x", "x", "g"], ["s"],
                         domain="com.microsoft", epsilon=1e-5),
        helper.make_node("Attention", ["s", "s", "s"], ["a"], is_causal=1),
        helper.make_node("Split", ["a"], ["p", "q"], axis=2,
                         names=["p", "q"]),
    ]
    g = numpy_helper.from_array(np.ones(8, dtype=np.float16), "g")
    graph = helper.make_graph(
        nodes, "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [2, 5, 8])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT16, None),
         helper.make_tensor_value_info("q", TensorProto.FLOAT16, None)],
        [g])
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


if __name__ == "__main__":
    main()
