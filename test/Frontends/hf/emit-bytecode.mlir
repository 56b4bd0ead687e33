// --emit-bytecode writes MLIR bytecode; tvc-opt reads it back to the same
// module as the textual import.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t
// RUN: tvc-import %t -o %t/model.mlirbc --emit-bytecode 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: tvc-import %t -o %t/model.mlir --quiet
//
// The file starts with the bytecode magic "ML\xEFR", not with text.
// RUN: head -c 2 %t/model.mlirbc | FileCheck %s --check-prefix=MAGIC
// RUN: not grep -q "func.func" %t/model.mlirbc
//
// RUN: tvc-opt %t/model.mlirbc -o %t/from-bytecode.mlir
// RUN: tvc-opt %t/model.mlir -o %t/from-text.mlir
// RUN: diff %t/from-text.mlir %t/from-bytecode.mlir
// RUN: tvc-opt %t/model.mlirbc --tvc-check-weights --canonicalize | FileCheck %s -DDIR=%t

// SUMMARY-NOT: error
// SUMMARY: tvc-import: gpt2, 2 layers

// MAGIC: {{^}}ML{{$}}

// CHECK-LABEL: module {
// CHECK: tvc.global @wte.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "wte.weight">
// CHECK-LABEL: func.func @forward(
// CHECK: tvc.layer 0 (
// CHECK: tvc.linear {{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x?x192xf32>
// CHECK: tvc.split %{{.*}} sizes [64, 64, 64]
// CHECK: tvc.layer 1 (
// CHECK: tvc.lm_head
