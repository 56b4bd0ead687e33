// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.5' | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.5 format=masked' | FileCheck %s --check-prefix=MASKED
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.5 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.5 score=activation calibration=%S/Inputs/prune-structured-norms.safetensors' | FileCheck %s --check-prefix=ACTIVATION
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.5 layers=1' | FileCheck %s --check-prefix=LAYERS
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=0.1 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=NONE
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.2 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=NO-HEADS
// RUN: not tvc-opt %s -split-input-file '-tvc-prune=strategy=channels amount=-0.5' 2>&1 | FileCheck %s --check-prefix=AMOUNT
// AMOUNT: error: tvc-prune: expects 'amount' (the fraction of channels to remove) in (0, 1), got -0.5

/// A GELU FFN with [out, in] weights and biases, 4 channels of which 1 and
/// 3 are weak: they go. up keeps rows 0 and 2 (bias 1, 3), down keeps
/// columns 0 and 2.
tvc.global @up : tensor<4x2xf32> = dense<[[1.0, 1.0], [0.1, 0.1], [2.0, 2.0], [0.1, 0.1]]> : tensor<4x2xf32>
tvc.global @up_bias : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
tvc.global @down : tensor<2x4xf32> = dense<[[1.0, 0.1, 2.0, 0.1], [3.0, 0.1, 4.0, 0.1]]> : tensor<2x4xf32>
tvc.global @down_bias : tensor<2xf32> = dense<[0.5, 0.5]> : tensor<2xf32>
// CHECK-LABEL: func.func @channels_gelu_out_in
// MASKED-LABEL: func.func @channels_gelu_out_in
// ACTIVATION-LABEL: func.func @channels_gelu_out_in
func.func @channels_gelu_out_in(%x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  // CHECK: %[[H:.*]] = tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<1x3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  // CHECK: %[[G:.*]] = tvc.gelu %[[H]] approximate tanh : tensor<1x3x2xf32>
  // CHECK: tvc.linear %[[G]], %{{.*}} bias %{{.*}} : (tensor<1x3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  // MASKED: tvc.gelu %{{.*}} approximate tanh : tensor<1x3x4xf32>
  // ACTIVATION: tvc.gelu %{{.*}} approximate tanh : tensor<1x3x2xf32>
  %wu = tvc.weight @up : tensor<4x2xf32>
  %bu = tvc.weight @up_bias : tensor<4xf32>
  %wd = tvc.weight @down : tensor<2x4xf32>
  %bd = tvc.weight @down_bias : tensor<2xf32>
  %h = tvc.linear %x, %wu bias %bu : (tensor<1x3x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %g = tvc.gelu %h approximate tanh : tensor<1x3x4xf32>
  %y = tvc.linear %g, %wd bias %bd : (tensor<1x3x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  return %y : tensor<1x3x2xf32>
}
// CHECK-DAG: up.pruned: "0x080000000000803F0000803F0000004000000040"
// CHECK-DAG: up_bias.pruned: "0x080000000000803F00004040"
// CHECK-DAG: down.pruned: "0x080000000000803F000000400000404000008040"
// Masked: down's columns 1 and 3 are zero; up is as it was.
// MASKED: down.pruned: "0x080000000000803F0000000000000040000000000000404000000000000080400000000
// Activation-aware: channel 3's input norm (10) outweighs channel 2's
// (0.01): channels 0 and 3 stay.
// ACTIVATION: down.pruned: "0x080000000000803FCDCCCC3D00004040CDCCCC3D"
// REPORT: remark: removed 2 of 4 FFN channels: 22 -> 12 parameters
// REPORT: remark: tvc-prune: 1 FFN blocks pruned (0 left alone): 2 of 4 channels removed, their projections 22 -> 12 parameters
// NONE: remark: FFN channels not pruned: removing 0.1 of 4 channels rounds to none

// -----

/// A gated (SwiGLU) FFN with [in, out] weights: gate and up lose the same
/// channels (2 and 3), the glu narrows, down keeps rows 0 and 1.
tvc.global @gate : tensor<2x4xf32> = dense<[[1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1]]> : tensor<2x4xf32>
tvc.global @up : tensor<2x4xf32> = dense<[[1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1]]> : tensor<2x4xf32>
tvc.global @down : tensor<4x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0], [0.1, 0.1], [0.1, 0.1]]> : tensor<4x2xf32>
// CHECK-LABEL: func.func @channels_glu_in_out
func.func @channels_glu_in_out(%x: tensor<1x?x2xf32>) -> tensor<1x?x2xf32> {
  // CHECK: %[[G:.*]] = tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x2xf32>) -> tensor<1x?x2xf32>
  // CHECK: %[[U:.*]] = tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x2xf32>) -> tensor<1x?x2xf32>
  // CHECK: %[[A:.*]] = tvc.glu %[[G]], %[[U]] activation silu : tensor<1x?x2xf32>
  // CHECK: tvc.linear %[[A]], %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x2xf32>) -> tensor<1x?x2xf32>
  %wg = tvc.weight @gate : tensor<2x4xf32>
  %wu = tvc.weight @up : tensor<2x4xf32>
  %wd = tvc.weight @down : tensor<4x2xf32>
  %g = tvc.linear %x, %wg structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  %u = tvc.linear %x, %wu structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  %a = tvc.glu %g, %u activation silu : tensor<1x?x4xf32>
  %y = tvc.linear %a, %wd structure(#tvc.dense<in_out>) : (tensor<1x?x4xf32>, tensor<4x2xf32>) -> tensor<1x?x2xf32>
  return %y : tensor<1x?x2xf32>
}
// CHECK-DAG: gate.pruned: "0x080000000000803F0000803F0000803F0000803F"
// CHECK-DAG: down.pruned: "0x080000000000803F000000400000404000008040"
// REPORT: remark: removed 2 of 4 FFN channels: 24 -> 12 parameters

// -----

/// layers=1 prunes the FFN of layer 1 only.
tvc.global @up0 : tensor<4x2xf32> = dense<[[1.0, 1.0], [0.1, 0.1], [2.0, 2.0], [0.1, 0.1]]> : tensor<4x2xf32>
tvc.global @down0 : tensor<2x4xf32> = dense<[[1.0, 0.1, 2.0, 0.1], [3.0, 0.1, 4.0, 0.1]]> : tensor<2x4xf32>
tvc.global @up1 : tensor<4x2xf32> = dense<[[1.0, 1.0], [0.1, 0.1], [2.0, 2.0], [0.1, 0.1]]> : tensor<4x2xf32>
tvc.global @down1 : tensor<2x4xf32> = dense<[[1.0, 0.1, 2.0, 0.1], [3.0, 0.1, 4.0, 0.1]]> : tensor<2x4xf32>
// LAYERS-LABEL: func.func @channels_in_layers
func.func @channels_in_layers(%x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  // LAYERS: tvc.layer 0
  // LAYERS: tvc.relu %{{.*}} : tensor<1x3x4xf32>
  // LAYERS: tvc.layer 1
  // LAYERS: tvc.relu %{{.*}} : tensor<1x3x2xf32>
  %h0 = tvc.layer 0 (%x) : (tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  ^bb0(%in: tensor<1x3x2xf32>):
    %wu = tvc.weight @up0 : tensor<4x2xf32>
    %wd = tvc.weight @down0 : tensor<2x4xf32>
    %h = tvc.linear %in, %wu : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
    %r = tvc.relu %h : tensor<1x3x4xf32>
    %y = tvc.linear %r, %wd : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
    tvc.yield %y : tensor<1x3x2xf32>
  }
  %h1 = tvc.layer 1 (%h0) : (tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  ^bb0(%in: tensor<1x3x2xf32>):
    %wu = tvc.weight @up1 : tensor<4x2xf32>
    %wd = tvc.weight @down1 : tensor<2x4xf32>
    %h = tvc.linear %in, %wu : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
    %r = tvc.relu %h : tensor<1x3x4xf32>
    %y = tvc.linear %r, %wd : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
    tvc.yield %y : tensor<1x3x2xf32>
  }
  return %h1 : tensor<1x3x2xf32>
}

// -----

/// negative_: the hidden activation is also returned: its width must stay.
tvc.global @up : tensor<4x2xf32> = dense<[[1.0, 1.0], [0.1, 0.1], [2.0, 2.0], [0.1, 0.1]]> : tensor<4x2xf32>
tvc.global @down : tensor<2x4xf32> = dense<[[1.0, 0.1, 2.0, 0.1], [3.0, 0.1, 4.0, 0.1]]> : tensor<2x4xf32>
// CHECK-LABEL: func.func @negative_hidden_escapes
func.func @negative_hidden_escapes(%x: tensor<1x3x2xf32>) -> (tensor<1x3x2xf32>, tensor<1x3x4xf32>) {
  // CHECK: tvc.relu %{{.*}} : tensor<1x3x4xf32>
  %wu = tvc.weight @up : tensor<4x2xf32>
  %wd = tvc.weight @down : tensor<2x4xf32>
  %h = tvc.linear %x, %wu : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
  %r = tvc.relu %h : tensor<1x3x4xf32>
  %y = tvc.linear %r, %wd : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
  return %y, %r : tensor<1x3x2xf32>, tensor<1x3x4xf32>
}
// REPORT: remark: FFN channels not pruned: its hidden activation has other users

// -----

/// negative_: the activation reads an argument, not an up projection.
tvc.global @down : tensor<2x4xf32> = dense<[[1.0, 0.1, 2.0, 0.1], [3.0, 0.1, 4.0, 0.1]]> : tensor<2x4xf32>
// CHECK-LABEL: func.func @negative_no_up_projection
func.func @negative_no_up_projection(%h: tensor<1x3x4xf32>) -> tensor<1x3x2xf32> {
  // CHECK: tvc.relu %{{.*}} : tensor<1x3x4xf32>
  %wd = tvc.weight @down : tensor<2x4xf32>
  %r = tvc.relu %h : tensor<1x3x4xf32>
  %y = tvc.linear %r, %wd : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
  return %y : tensor<1x3x2xf32>
}
// REPORT: remark: FFN channels not pruned: its activation's input is not made by a tvc.linear

// -----

/// Two linears in a row are no FFN: nothing to report, nothing changes.
tvc.global @a : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32>
tvc.global @b : tensor<2x4xf32> = dense<1.0> : tensor<2x4xf32>
// CHECK-LABEL: func.func @not_an_ffn
func.func @not_an_ffn(%x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
  %wa = tvc.weight @a : tensor<4x2xf32>
  %wb = tvc.weight @b : tensor<2x4xf32>
  %h = tvc.linear %x, %wa : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
  %y = tvc.linear %h, %wb : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
  return %y : tensor<1x3x2xf32>
}
// REPORT: remark: tvc-prune: 0 FFN blocks pruned (0 left alone): 0 of 0 channels removed

// -----

/// strategy=heads with too small an amount: 0.2 of 2 heads rounds to none.
tvc.global @q : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
func.func @heads_round_to_none(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %w = tvc.weight @q : tensor<4x4xf32>
  %q = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %k = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}
// NO-HEADS: remark: heads not pruned: removing 0.2 of 2 heads rounds to none
