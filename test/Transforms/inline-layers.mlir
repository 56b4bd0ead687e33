// RUN: tvc-opt %s -split-input-file -tvc-inline-layers | FileCheck %s

/// A layer's body replaces the layer: its arguments become the layer's
/// inputs and its yielded values the layer's results.
// CHECK-LABEL: func.func @inline_one_layer
// CHECK-SAME: (%[[HIDDEN:.*]]: tensor<1x?x8xf32>)
func.func @inline_one_layer(%hidden: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  // CHECK-NOT: tvc.layer
  // CHECK: %[[ACT:.*]] = tvc.gelu %[[HIDDEN]]
  // CHECK-NEXT: %[[SUM:.*]] = tvc.add %[[HIDDEN]], %[[ACT]]
  // CHECK-NEXT: return %[[SUM]]
  %out = tvc.layer 0 (%hidden) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%x: tensor<1x?x8xf32>):
    %act = tvc.gelu %x : tensor<1x?x8xf32>
    %sum = tvc.add %x, %act : tensor<1x?x8xf32>
    tvc.yield %sum : tensor<1x?x8xf32>
  }
  return %out : tensor<1x?x8xf32>
}

// -----

/// Consecutive layers with several inputs and results keep their data flow,
/// and weights read inside a layer stay where they are read.
tvc.global @scale : tensor<8xf32> = dense<1.0> : tensor<8xf32>

// CHECK-LABEL: func.func @inline_chain_with_weights
// CHECK-SAME: (%[[HIDDEN:.*]]: tensor<2x8xf32>, %[[OTHER:.*]]: tensor<2x8xf32>)
func.func @inline_chain_with_weights(%hidden: tensor<2x8xf32>, %other: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: %[[SCALE:.*]] = tvc.weight @scale
  // CHECK-NEXT: %[[NORMED:.*]] = tvc.rms_norm %[[HIDDEN]], %[[SCALE]]
  // CHECK-NEXT: %[[SUM:.*]] = tvc.add %[[NORMED]], %[[OTHER]]
  // CHECK-NEXT: %[[ACT:.*]] = tvc.relu %[[SUM]]
  // CHECK-NEXT: return %[[ACT]]
  %a, %b = tvc.layer 0 (%hidden, %other) : (tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  ^bb0(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>):
    %scale = tvc.weight @scale : tensor<8xf32>
    %normed = tvc.rms_norm %x, %scale epsilon 1.0e-06 : tensor<2x8xf32>, tensor<8xf32>
    tvc.yield %normed, %y : tensor<2x8xf32>, tensor<2x8xf32>
  }
  %c = tvc.layer 1 (%a, %b) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>):
    %sum = tvc.add %x, %y : tensor<2x8xf32>
    %act = tvc.relu %sum : tensor<2x8xf32>
    tvc.yield %act : tensor<2x8xf32>
  }
  return %c : tensor<2x8xf32>
}
