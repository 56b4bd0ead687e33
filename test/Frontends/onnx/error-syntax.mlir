// Errors of ONNX's textual parser are reported with the file name and the
// parser's position and context; nothing is written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/syntax-error.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=PAREN
// RUN: not test -e %t/out.mlir
// RUN: printf 'garbage' > %t/garbage.onnxtext
// RUN: not tvc-import %t/garbage.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GARBAGE
// RUN: not test -e %t/out.mlir

// PAREN: tvc-import: error: {{.*}}syntax-error.onnxtext: [ParseError at position (line: 9 column: 1)]
// PAREN-NEXT: Error context: }
// PAREN-NEXT: Expected character ) not found.

// GARBAGE: tvc-import: error: {{.*}}garbage.onnxtext: [ParseError at position (line: 1 column: 8)]
