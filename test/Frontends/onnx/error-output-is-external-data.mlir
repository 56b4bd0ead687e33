/// The model's external data file is an input too: neither the module nor
/// the weights may be written over it, and it stays intact.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t && cp %S/Inputs/external/model.onnx %S/Inputs/external/weights.bin %t
// RUN: not tvc-import %t/model.onnx -o %t/weights.bin 2>&1 | FileCheck %s
// RUN: not tvc-import %t/model.onnx -o %t/out.mlir --weights %t/weights.bin 2>&1 | FileCheck %s
// RUN: cmp %t/weights.bin %S/Inputs/external/weights.bin
// RUN: not test -e %t/out.mlir
// CHECK: error: refusing to write over the model's external data: {{.*}}weights.bin
