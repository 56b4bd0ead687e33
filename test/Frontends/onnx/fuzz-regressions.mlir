/// Inputs that crashed tvc-import (found by tvc-fuzz-onnx and by hand) now
/// import or fail with a message. A crash fails `not` and a plain run alike.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
//
/// libonnx's version converter dereferenced a graph output no node
/// produces: the graph is checked first and the problem reported.
// RUN: not tvc-import %S/Inputs/regressions/converter-segv-min.onnx -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=NO-PRODUCER
// RUN: not tvc-import %S/Inputs/regressions/output-without-node-opset13.onnxtext -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=NO-PRODUCER
// NO-PRODUCER: graph output '{{.*}}' is produced by no node
//
/// Initializers need unique, non-empty names (the weights file is keyed by
/// them).
// RUN: not tvc-import %S/Inputs/regressions/duplicate-initializer-name.onnx -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=DUPLICATE
// DUPLICATE: initializer 'w' is defined twice
// RUN: not tvc-import %S/Inputs/regressions/empty-initializer-name.onnx -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY-INIT
// EMPTY-INIT: an initializer has an empty name
//
/// An attribute named "" could not be printed back as MLIR.
// RUN: not tvc-import %S/Inputs/regressions/empty-attribute-name.onnx -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY-ATTR
// EMPTY-ATTR: an attribute has an empty name
//
/// libonnx's textual parser throws on numbers it cannot convert.
// RUN: not tvc-import %S/Inputs/regressions/parser-stof-fuzzed.onnxtext -o %t/a.mlir 2>&1 | FileCheck %s --check-prefix=STOF
// STOF: invalid textual ONNX
//
/// ONNX's data propagation dereferenced the type of a Shape input it could
/// not infer (a custom op's or Attention's output, a bad Transpose): such
/// models are inferred without data propagation and import.
// RUN: tvc-import --no-raise %S/Inputs/regressions/shape-of-custom-op-segv.onnxtext -o %t/b.mlir
// RUN: tvc-import --no-raise %S/Inputs/regressions/shape-of-attention-segv.onnxtext -o %t/c.mlir
// RUN: tvc-import --no-raise %S/Inputs/regressions/shape-inference-transpose-perm-segv.onnxtext -o %t/d.mlir
// RUN: FileCheck %s --check-prefix=SHAPE --input-file=%t/b.mlir
// SHAPE: tvc_onnx.node "Shape"
