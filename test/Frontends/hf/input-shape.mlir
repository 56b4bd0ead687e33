// --input-shape=BxT fixes the batch and sequence sizes of input_ids and
// positions; every activation type becomes static. '?' keeps one size
// dynamic. A malformed shape is an error and writes nothing.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/llama
// RUN: tvc-import %t/llama -o %t/llama.mlir --input-shape=2x16 --quiet
// RUN: FileCheck %s --input-file=%t/llama.mlir
// RUN: tvc-opt %t/llama.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
//
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t/gpt2
// RUN: tvc-import %t/gpt2 -o %t/gpt2.mlir --input-shape=2x16 --quiet
// RUN: FileCheck %s --input-file=%t/gpt2.mlir --check-prefix=GPT2
// RUN: tvc-import %t/gpt2 -o %t/gpt2-dynamic-batch.mlir --input-shape=?x8 --quiet
// RUN: FileCheck %s --input-file=%t/gpt2-dynamic-batch.mlir --check-prefix=BATCH
//
// RUN: not tvc-import %t/gpt2 -o %t/bad.mlir --input-shape=2x 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not test -e %t/bad.mlir
// RUN: not tvc-import %t/gpt2 -o %t/bad.mlir --input-shape=0x16 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not test -e %t/bad.mlir

/// No dynamic size anywhere in the function.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<2x16xi64>{{.*}}, %{{[^:]+}}: tensor<2x16xi64>{{.*}}) -> tensor<2x16x256xf32>
// CHECK-NOT: ?
// CHECK: tvc.embedding %{{.*}} : tensor<256x64xf32>, tensor<2x16xi64>
// CHECK-NOT: ?
// CHECK: tvc.layer 0 (%{{[^,]+}}, %{{[^)]+}}) : (tensor<2x16x64xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
// CHECK-NOT: ?
// CHECK: tvc.attention {{.*}} heads 4 kv_heads 2 mask(#tvc.causal) : tensor<2x16x64xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>
// CHECK-NOT: ?
// CHECK: tvc.glu {{.*}} activation silu : tensor<2x16x176xf32>
// CHECK-NOT: ?
// CHECK: tvc.layer 1 (
// CHECK-NOT: ?
// CHECK: tvc.lm_head %{{.*}} : tensor<2x16x64xf32>, tensor<256x64xf32>
// CHECK-NEXT: return %{{.*}} : tensor<2x16x256xf32>

// OPT-LABEL: func.func @forward
// OPT-SAME: -> tensor<2x16x256xf32>

// GPT2-LABEL: func.func @forward(
// GPT2-SAME: -> tensor<2x16x256xf32>
// GPT2-NOT: ?
// GPT2: tvc.learned_positions %{{.*}} : tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<2x16xi64>
// GPT2-NOT: ?
// GPT2: tvc.split %{{.*}} sizes [64, 64, 64] : tensor<2x16x192xf32>
// GPT2-NOT: ?
// GPT2: return %{{.*}} : tensor<2x16x256xf32>

// BATCH-LABEL: func.func @forward(
// BATCH-SAME: tensor<?x8xi64>{{.*}}, %{{[^:]+}}: tensor<?x8xi64>{{.*}}) -> tensor<?x8x256xf32>
// BATCH: tvc.layer 0 ({{.*}}) : (tensor<?x8x64xf32>, tensor<?x8xi64>) -> tensor<?x8x64xf32>

// BAD: tvc-import: error: {{.*}}--input-shape{{.*}}BxT
// BAD-NOT: tvc-import: {{.*}} layers
