// A .onnx file that is not a protobuf ModelProto (garbage bytes, a model
// cut short anywhere) or one without a graph (empty file; a lone ir_version
// field) is refused with the file name, and nothing is written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: printf 'not an onnx model\377\377\377\377' > %t/garbage.onnx
// RUN: not tvc-import %t/garbage.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GARBAGE
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
//
// RUN: head -c 300 %S/Inputs/tiny.onnx > %t/cut.onnx
// RUN: not tvc-import %t/cut.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
// RUN: head -c 1 %S/Inputs/tiny.onnx > %t/cut.onnx
// RUN: not tvc-import %t/cut.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: not test -e %t/out.mlir
// RUN: head -c 300 %S/Inputs/external/model.onnx > %t/cut.onnx
// RUN: not tvc-import %t/cut.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: not test -e %t/out.mlir
//
// RUN: printf '' > %t/empty.onnx
// RUN: not tvc-import %t/empty.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NO-GRAPH
// RUN: not test -e %t/out.mlir
// RUN: printf '\010\010' > %t/ir-version-only.onnx
// RUN: not tvc-import %t/ir-version-only.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NO-GRAPH
// RUN: not test -e %t/out.mlir

// GARBAGE: tvc-import: error: {{.*}}garbage.onnx: not a valid ONNX protobuf (truncated or corrupt)
// CUT: tvc-import: error: {{.*}}cut.onnx: not a valid ONNX protobuf (truncated or corrupt)
// NO-GRAPH: tvc-import: error: {{.*}}.onnx: the model has no graph
