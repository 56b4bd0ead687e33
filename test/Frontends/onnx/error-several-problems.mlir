// Problems that do not stop the import are collected and reported in one
// error: a bad initializer, unsupported (subgraph) attributes, an undefined
// input and outputs no node produces, from a textual and a binary model.
// Nothing is written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/several-problems.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=TEXT
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
// RUN: not tvc-import %S/Inputs/several-problems.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=BINARY
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors

// TEXT: tvc-import: error: {{.*}}several-problems.onnxtext: 6 problem(s) in the model:
// TEXT-NEXT: initializer 'w' holds 12 bytes, but its shape of 2 elements needs 8
// TEXT-NEXT: node '' (If, domain '', opset 17): attribute 'then_branch' has an unsupported kind (subgraphs, sparse tensors and type protos are not imported)
// TEXT-NEXT: node '' (If, domain '', opset 17): attribute 'else_branch' has an unsupported kind (subgraphs, sparse tensors and type protos are not imported)
// TEXT-NEXT: node '' (Add, domain '', opset 17): input 'ghost' is not defined before the node
// TEXT-NEXT: graph output 'z' is produced by no node
// TEXT-NEXT: graph output 'lost' is produced by no node
// TEXT-EMPTY:

// BINARY: tvc-import: error: {{.*}}several-problems.onnx: {{[0-9]+}} problem(s) in the model:
// BINARY-NEXT: initializer 'w' holds 12 bytes, but its shape of 8 elements needs 32
// BINARY: node 'haunted' (Relu, domain '', opset 17): input 'ghost' is not defined before the node
// BINARY: graph output 'nowhere' is produced by no node
