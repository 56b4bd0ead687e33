// RUN: tvc-opt %s -split-input-file -tvc-prune | FileCheck %s
// RUN: tvc-opt %s -split-input-file -tvc-prune=format=masked | FileCheck %s --check-prefix=MASKED
// RUN: tvc-opt %s -split-input-file -tvc-prune=report -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tvc-opt %s -split-input-file -tvc-prune=lm-head | FileCheck %s --check-prefix=HEAD
// RUN: tvc-opt %s -split-input-file '-tvc-prune=lm-head format=masked' | FileCheck %s --check-prefix=HEAD-MASKED
// RUN: tvc-opt %s -split-input-file -tvc-prune=layers=1 | FileCheck %s --check-prefix=LAYER
// RUN: tvc-opt %s -split-input-file '-tvc-prune=layers=1 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=LAYER-REPORT

/// An [out, in] weight: per group of four the two largest magnitudes stay
/// (-3 and 2; in the all-zero group the first two positions; on the 4/4/-4
/// tie the earlier ones), values in position order, positions packed two
/// bits each: row 0 = 0x49 (groups 1|2<<2, 0|1<<2), row 1 = 0xE4.
tvc.global @fc : tensor<2x8xf32> = dense<[[1.0, -3.0, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0], [4.0, 4.0, -4.0, 1.0, 0.1, -0.2, 0.3, -0.4]]> : tensor<2x8xf32>
// CHECK-LABEL: func.func @prune_out_in_f32
// MASKED-LABEL: func.func @prune_out_in_f32
func.func @prune_out_in_f32(%x: tensor<1x3x8xf32>, %bias: tensor<2xf32>) -> tensor<1x3x2xf32> {
  // CHECK-DAG: %[[V:.*]] = tvc.weight @fc.2to4_values : tensor<2x4xf32>
  // CHECK-DAG: %[[I:.*]] = tvc.weight @fc.2to4_indices : tensor<2x1xi8>
  // CHECK: tvc.linear %{{.*}}, %[[V]], %[[I]] bias %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x3x8xf32>, tensor<2x4xf32>, tensor<2x1xi8>, tensor<2xf32>) -> tensor<1x3x2xf32>
  // MASKED: %[[W:.*]] = tvc.weight @fc.2to4_masked : tensor<2x8xf32>
  // MASKED: tvc.linear %{{.*}}, %[[W]] bias %{{.*}} : (tensor<1x3x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  %w = tvc.weight @fc : tensor<2x8xf32>
  %y = tvc.linear %x, %w bias %bias : (tensor<1x3x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  return %y : tensor<1x3x2xf32>
}
// The original global is gone; the new ones hold the compressed bytes.
// CHECK-NOT: tvc.global @fc :
// CHECK-DAG: tvc.global @fc.2to4_values : tensor<2x4xf32> = dense_resource<fc.2to4_values>
// CHECK-DAG: tvc.global @fc.2to4_indices : tensor<2x1xi8> = dense_resource<fc.2to4_indices>
// CHECK-DAG: fc.2to4_values: "0x08000000000040C000000040000000000000000000008040000080409A99993ECDCCCCBE"
// CHECK-DAG: fc.2to4_indices: "0x0800000049E4"
// Masked: [0 -3 2 0 | 0 0 0 0], [4 4 0 0 | 0 0 0.3 -0.4].
// MASKED-NOT: tvc.global @fc :
// MASKED: fc.2to4_masked: "0x0800000000000000000040C00000004000000000000000000000000000000000000000000000804000008040000000000000000000000000000000009A99993ECDCCCCBE"
// REPORT: remark: pruned to 2:4: @fc [2 x 8], 8 of 16 weights kept, 64 -> 34 bytes
// REPORT: remark: tvc-prune: 1 linears pruned to 2:4, 0 left alone; their distinct weights 64 -> 34 bytes

// -----

/// An [in, out] (Conv1D) weight is compressed along its input dimension and
/// stored [out, in]: the same matrix as above, transposed.
tvc.global @conv : tensor<8x2xf32> = dense<[[1.0, 4.0], [-3.0, 4.0], [2.0, -4.0], [0.5, 1.0], [0.0, 0.1], [0.0, -0.2], [0.0, 0.3], [0.0, -0.4]]> : tensor<8x2xf32>
// CHECK-LABEL: func.func @prune_in_out_f32
// MASKED-LABEL: func.func @prune_in_out_f32
func.func @prune_in_out_f32(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<3x8xf32>, tensor<2x4xf32>, tensor<2x1xi8>) -> tensor<3x2xf32>
  // MASKED: tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
  %w = tvc.weight @conv : tensor<8x2xf32>
  %y = tvc.linear %x, %w structure(#tvc.dense<in_out>) : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
// CHECK-DAG: conv.2to4_values: "0x08000000000040C000000040000000000000000000008040000080409A99993ECDCCCCBE"
// CHECK-DAG: conv.2to4_indices: "0x0800000049E4"
// The masked [in, out] weight keeps its layout: rows (0, 4), (-3, 4), (2, 0), ...
// MASKED: conv.2to4_masked: "0x0800000000000000000080400000
// REPORT: remark: pruned to 2:4: @conv [2 x 8], 8 of 16 weights kept, 64 -> 34 bytes

// -----

/// One global read by two linears is compressed once; a global also read by
/// an op that is not pruned (a tied embedding) stays.
tvc.global @shared : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
tvc.global @tied : tensor<4x4xf32> = dense<2.0> : tensor<4x4xf32>
// CHECK-NOT: tvc.global @shared :
// CHECK: tvc.global @tied : tensor<4x4xf32>
// CHECK-LABEL: func.func @prune_shared_and_tied_f32
func.func @prune_shared_and_tied_f32(%x: tensor<2x4xf32>, %ids: tensor<1x2xi64>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x2x4xf32>) {
  // CHECK-COUNT-2: tvc.weight @shared.2to4_values
  // CHECK: tvc.weight @tied.2to4_values
  // CHECK: tvc.embedding %{{.*}}, %{{.*}} : tensor<4x4xf32>
  %a = tvc.weight @shared : tensor<4x4xf32>
  %y0 = tvc.linear %x, %a : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %b = tvc.weight @shared : tensor<4x4xf32>
  %y1 = tvc.linear %x, %b : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %t = tvc.weight @tied : tensor<4x4xf32>
  %y2 = tvc.linear %y1, %t : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %e = tvc.embedding %t, %ids : tensor<4x4xf32>, tensor<1x2xi64>
  return %y0, %y2, %e : tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x2x4xf32>
}
// CHECK: tvc.global @shared.2to4_values : tensor<4x2xf32>
// CHECK-NOT: tvc.global @shared.2to4_values_1
// REPORT: remark: tvc-prune: 3 linears pruned to 2:4, 0 left alone; their distinct weights 128 -> 72 bytes

// -----

/// With `layers`, only linears inside the selected tvc.layer ops change.
tvc.global @l0 : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
tvc.global @l1 : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
// CHECK-LABEL: func.func @negative_prune_layer_not_selected
func.func @negative_prune_layer_not_selected(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %h0 = tvc.layer 0 (%x) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @l0 : tensor<4x4xf32>
    %y = tvc.linear %in, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    tvc.yield %y : tensor<2x4xf32>
  }
  %h1 = tvc.layer 1 (%h0) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @l1 : tensor<4x4xf32>
    %y = tvc.linear %in, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    tvc.yield %y : tensor<2x4xf32>
  }
  return %h1 : tensor<2x4xf32>
}
// LAYER-LABEL: func.func @negative_prune_layer_not_selected
// LAYER: tvc.layer 0
// LAYER: tvc.weight @l0 : tensor<4x4xf32>
// LAYER: tvc.layer 1
// LAYER: tvc.weight @l1.2to4_values
// LAYER-REPORT: remark: not pruned: it is outside the selected layers

// -----

/// Not pruned: an already sparse linear, an input width that groups of four
/// do not divide, a weight that is a function argument, an f16 weight, and
/// the LM head.
tvc.global @ragged : tensor<2x6xf32> = dense<1.0> : tensor<2x6xf32>
tvc.global @half : tensor<2x8xf16> = dense<1.0> : tensor<2x8xf16>
tvc.global @head : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
// CHECK-LABEL: func.func @negative_prune_untouched
func.func @negative_prune_untouched(%x6: tensor<1x6xf32>, %x8: tensor<1x8xf32>, %h8: tensor<1x8xf16>, %arg_weight: tensor<2x8xf32>, %values: tensor<2x4xf32>, %indices: tensor<2x1xi8>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf16>, tensor<1x16xf32>) {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>)
  // CHECK: tvc.weight @ragged : tensor<2x6xf32>
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<1x8xf32>, tensor<2x8xf32>)
  // CHECK: tvc.weight @half : tensor<2x8xf16>
  // CHECK: tvc.weight @head : tensor<16x8xf32>
  %a = tvc.linear %x8, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x8xf32>, tensor<2x4xf32>, tensor<2x1xi8>) -> tensor<1x2xf32>
  %wr = tvc.weight @ragged : tensor<2x6xf32>
  %b = tvc.linear %x6, %wr : (tensor<1x6xf32>, tensor<2x6xf32>) -> tensor<1x2xf32>
  %c = tvc.linear %x8, %arg_weight : (tensor<1x8xf32>, tensor<2x8xf32>) -> tensor<1x2xf32>
  %wh = tvc.weight @half : tensor<2x8xf16>
  %d = tvc.linear %h8, %wh : (tensor<1x8xf16>, tensor<2x8xf16>) -> tensor<1x2xf16>
  %wl = tvc.weight @head : tensor<16x8xf32>
  %e = tvc.lm_head %x8, %wl : tensor<1x8xf32>, tensor<16x8xf32>
  return %a, %b, %c, %d, %e : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf16>, tensor<1x16xf32>
}
// REPORT: remark: not pruned: its weight is already structured (#tvc.sparse_nm<n = 2, m = 4>)
// REPORT: remark: not pruned: its input width 6 is not a multiple of 4
// REPORT: remark: not pruned: its weight is not read from a tvc.global
// REPORT: remark: not pruned: its weight is f16, not f32
// REPORT: remark: tvc-prune: 0 linears pruned to 2:4, 4 left alone; their distinct weights 0 -> 0 bytes

// -----

/// With `lm-head` the head is pruned too: compressed, it becomes a 2:4
/// linear without bias, and the tied embedding keeps the dense table;
/// masked, the head reads the masked copy.
tvc.global @wte : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
// HEAD: tvc.global @wte : tensor<16x8xf32>
// HEAD-LABEL: func.func @prune_lm_head_tied_f32
// HEAD-MASKED-LABEL: func.func @prune_lm_head_tied_f32
// CHECK-LABEL: func.func @prune_lm_head_tied_f32
func.func @prune_lm_head_tied_f32(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  // HEAD: tvc.embedding %{{.*}}, %{{.*}} : tensor<16x8xf32>
  // HEAD: %[[V:.*]] = tvc.weight @wte.2to4_values : tensor<16x4xf32>
  // HEAD: %[[I:.*]] = tvc.weight @wte.2to4_indices : tensor<16x1xi8>
  // HEAD: tvc.linear %{{.*}}, %[[V]], %[[I]] structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x8xf32>, tensor<16x4xf32>, tensor<16x1xi8>) -> tensor<1x4x16xf32>
  // HEAD-MASKED: %[[M:.*]] = tvc.weight @wte.2to4_masked : tensor<16x8xf32>
  // HEAD-MASKED: tvc.lm_head %{{.*}}, %[[M]]
  // Without the option the head is left alone.
  // CHECK: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xf32>
  %table = tvc.weight @wte : tensor<16x8xf32>
  %hidden = tvc.embedding %table, %ids : tensor<16x8xf32>, tensor<1x4xi64>
  %head = tvc.weight @wte : tensor<16x8xf32>
  %logits = tvc.lm_head %hidden, %head : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %logits : tensor<1x4x16xf32>
}
