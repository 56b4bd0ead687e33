// A node reading a value that nothing defines, and a graph output that no
// node produces, are refused with the node and value names; nothing is
// written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/undefined-values.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=INPUT
// RUN: not test -e %t/out.mlir
// RUN: not tvc-import %S/Inputs/output-without-node.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: not test -e %t/out.mlir

// INPUT: tvc-import: error: {{.*}}undefined-values.onnxtext: {{[0-9]+}} problem(s) in the model:
// INPUT-NEXT: node '' (Add, domain '', opset 17): input 'ghost' is not defined before the node

// OUTPUT: tvc-import: error: {{.*}}output-without-node.onnxtext: 1 problem(s) in the model:
// OUTPUT-NEXT: graph output 'lost' is produced by no node
// OUTPUT-EMPTY:
