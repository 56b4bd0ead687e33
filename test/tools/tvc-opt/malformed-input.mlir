// tvc-opt never crashes on bad input: each RUN feeds it something malformed
// and checks that it exits with an error and a diagnostic. Plain `not` (not
// `not --crash`) fails the test when tvc-opt dies from a signal, so a crash
// or an assertion here is a test failure, not a pass.
//
// The module at the end of this file is valid; it is the source of the
// bytecode that the truncated-bytecode cases cut short.

/// Binary junk is not MLIR: the lexer rejects it.
// RUN: printf '\377\376garbage\000\200\220\n\007' > %t.junk
// RUN: not tvc-opt %t.junk 2>&1 | FileCheck %s --check-prefix=JUNK
// JUNK: error: unexpected character

/// Junk behind the bytecode magic number goes to the bytecode reader, which
/// rejects it instead of reading past the end.
// RUN: printf 'ML\357R\001\377\377\377\377\377\377\377\377' > %t.junk.mlirbc
// RUN: not tvc-opt %t.junk.mlirbc 2>&1 | FileCheck %s --check-prefix=JUNK-BYTECODE
// JUNK-BYTECODE: error: malformed null-terminated string, no null character found

/// An empty file is an empty module: accepted, and printed as one.
// RUN: rm -f %t.empty.mlir && touch %t.empty.mlir
// RUN: tvc-opt %t.empty.mlir | FileCheck %s --check-prefix=EMPTY
// EMPTY: module {
// EMPTY-NEXT: }

/// A textual module cut in the middle of an op.
// RUN: not tvc-opt %S/Inputs/truncated-module.mlir 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: truncated-module.mlir:7:33: error: expected SSA operand

/// The full bytecode of the module below reads back, so the failures of the
/// truncated copies come from the truncation alone.
// RUN: tvc-opt --emit-bytecode %s -o %t.mlirbc
// RUN: tvc-opt %t.mlirbc | FileCheck %s --check-prefix=BYTECODE
// BYTECODE: tvc.global @wte : tensor<16x8xf32> = #tvc.external<"model.safetensors", "wte.weight">
// BYTECODE: func.func @logits_of_ids

/// Bytecode cut after 40 bytes (inside the string section).
// RUN: head -c 40 %t.mlirbc > %t.truncated-40.mlirbc
// RUN: not tvc-opt %t.truncated-40.mlirbc 2>&1 | FileCheck %s --check-prefix=TRUNCATED-BYTECODE
// TRUNCATED-BYTECODE: error: attempting to parse {{[0-9]+}} bytes when only {{[0-9]+}} remain

/// Bytecode cut after the magic number and version, inside the producer
/// string.
// RUN: head -c 6 %t.mlirbc > %t.truncated-6.mlirbc
// RUN: not tvc-opt %t.truncated-6.mlirbc 2>&1 | FileCheck %s --check-prefix=TRUNCATED-HEADER
// TRUNCATED-HEADER: error: malformed null-terminated string, no null character found

/// Bytecode missing only its last bytes.
// RUN: head -c -16 %t.mlirbc > %t.truncated-tail.mlirbc
// RUN: not tvc-opt %t.truncated-tail.mlirbc 2>&1 | FileCheck %s --check-prefix=TRUNCATED-TAIL
// TRUNCATED-TAIL: error: attempting to parse {{[0-9]+}} bytes when only {{[0-9]+}} remain

/// A well-formed op with an operand type its ODS constraint rejects.
// RUN: not tvc-opt %S/Inputs/wrong-operand-type.mlir 2>&1 | FileCheck %s --check-prefix=WRONG-TYPE
// WRONG-TYPE: error: 'tvc.silu' op operand #0 must be ranked tensor of floating-point values, but got 'tensor<1x4x8xi32>'

/// An op the tvc dialect does not define.
// RUN: not tvc-opt %S/Inputs/unknown-op.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OP
// UNKNOWN-OP: error: custom op 'tvc.frobnicate' is unknown

/// An attribute the tvc dialect does not define.
// RUN: not tvc-opt %S/Inputs/unknown-attr.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-ATTR
// UNKNOWN-ATTR: error: unknown attribute `nonsense` in dialect `tvc`

/// An input file that does not exist.
// RUN: rm -f %t.does-not-exist.mlir
// RUN: not tvc-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file '{{.*}}does-not-exist.mlir': No such file or directory

tvc.global @wte : tensor<16x8xf32> = #tvc.external<"model.safetensors", "wte.weight">
tvc.global @ln_f.scale : tensor<8xf32> = dense<1.0> : tensor<8xf32>

func.func @logits_of_ids(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %wte = tvc.weight @wte : tensor<16x8xf32>
  %scale = tvc.weight @ln_f.scale : tensor<8xf32>
  %hidden = tvc.embedding %wte, %ids : tensor<16x8xf32>, tensor<1x4xi64>
  %normed = tvc.rms_norm %hidden, %scale epsilon 1.0e-06 : tensor<1x4x8xf32>, tensor<8xf32>
  %logits = tvc.lm_head %normed, %wte : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %logits : tensor<1x4x16xf32>
}
