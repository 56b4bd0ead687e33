// RUN: tvc-opt %s -split-input-file -canonicalize | FileCheck %s

/// softmax is monotonic along the reduced axis: argmax can read the logits.
// CHECK-LABEL: func.func @argmax_of_softmax
// CHECK-SAME: (%[[LOGITS:.*]]: tensor<1x4x16xf32>)
func.func @argmax_of_softmax(%logits: tensor<1x4x16xf32>) -> tensor<1x4xi64> {
  // CHECK-NOT: tvc.softmax
  // CHECK: %[[NEXT:.*]] = tvc.argmax %[[LOGITS]] : tensor<1x4x16xf32>
  // CHECK: return %[[NEXT]]
  %probs = tvc.softmax %logits : tensor<1x4x16xf32>
  %next = tvc.argmax %probs : tensor<1x4x16xf32>
  return %next : tensor<1x4xi64>
}

// -----

/// The softmax stays when something else uses it.
// CHECK-LABEL: func.func @negative_argmax_of_used_softmax
func.func @negative_argmax_of_used_softmax(%logits: tensor<1x4x16xf32>) -> (tensor<1x4xi64>, tensor<1x4x16xf32>) {
  // CHECK: %[[PROBS:.*]] = tvc.softmax
  // CHECK: tvc.argmax %{{.*}} : tensor<1x4x16xf32>
  // CHECK: return %{{.*}}, %[[PROBS]]
  %probs = tvc.softmax %logits : tensor<1x4x16xf32>
  %next = tvc.argmax %probs : tensor<1x4x16xf32>
  return %next, %probs : tensor<1x4xi64>, tensor<1x4x16xf32>
}

// -----

/// argmax of anything but a softmax is left alone.
// CHECK-LABEL: func.func @negative_argmax_of_gelu
func.func @negative_argmax_of_gelu(%logits: tensor<1x4x16xf32>) -> tensor<1x4xi64> {
  // CHECK: %[[ACT:.*]] = tvc.gelu
  // CHECK: tvc.argmax %[[ACT]]
  %act = tvc.gelu %logits : tensor<1x4x16xf32>
  %next = tvc.argmax %act : tensor<1x4x16xf32>
  return %next : tensor<1x4xi64>
}

// -----

/// Linear, NTK, YaRN and Llama 3 scaling by 1 are the identity: spelled
/// `none`.
// CHECK-LABEL: func.func @rope_unit_factor_is_unscaled
func.func @rope_unit_factor_is_unscaled(%query: tensor<1x4x16xf32>, %positions: tensor<1x4xi64>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK-COUNT-4: tvc.rope %{{.*}}, %{{.*}} heads 2 theta 1.000000e+04 : tensor<1x4x16xf32>, tensor<1x4xi64>
  // CHECK-NOT: scaling
  %linear = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = linear, factor = 1.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  %ntk = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = ntk, factor = 1.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  %yarn = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = yarn, factor = 1.0, original_max_positions = 2048> : tensor<1x4x16xf32>, tensor<1x4xi64>
  %llama3 = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = llama3, factor = 1.0, original_max_positions = 8192> : tensor<1x4x16xf32>, tensor<1x4xi64>
  return %linear, %ntk, %yarn, %llama3 : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// -----

/// A real scaling factor is kept.
// CHECK-LABEL: func.func @negative_rope_scaled
func.func @negative_rope_scaled(%query: tensor<1x4x16xf32>, %positions: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  // CHECK: scaling <kind = linear, factor = 2.000000e+00>
  %scaled = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = linear, factor = 2.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  return %scaled : tensor<1x4x16xf32>
}

// -----

/// relu is idempotent: relu(relu(x)) folds to relu(x).
// CHECK-LABEL: func.func @relu_of_relu
func.func @relu_of_relu(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK: %[[ONCE:.*]] = tvc.relu
  // CHECK-NOT: tvc.relu
  // CHECK: return %[[ONCE]]
  %once = tvc.relu %x : tensor<1x4x8xf32>
  %twice = tvc.relu %once : tensor<1x4x8xf32>
  return %twice : tensor<1x4x8xf32>
}

// -----

/// A layer whose results are unused is erased with its body (all of it is
/// free of side effects).
// CHECK-LABEL: func.func @unused_layer_is_erased
func.func @unused_layer_is_erased(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK-NOT: tvc.layer
  // CHECK: return
  %unused = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    %act = tvc.silu %x : tensor<1x4x8xf32>
    tvc.yield %act : tensor<1x4x8xf32>
  }
  return %hidden : tensor<1x4x8xf32>
}

// -----

/// A split into one piece is its input.
// CHECK-LABEL: func.func @split_single_piece
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>)
func.func @split_single_piece(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK-NOT: tvc.split
  // CHECK: return %[[X]]
  %whole = tvc.split %x sizes [8] : tensor<1x4x8xf32>
  return %whole : tensor<1x4x8xf32>
}

// -----

/// A real split stays.
// CHECK-LABEL: func.func @negative_split_two_pieces
func.func @negative_split_two_pieces(%x: tensor<1x4x8xf32>) -> (tensor<1x4x3xf32>, tensor<1x4x5xf32>) {
  // CHECK: tvc.split %{{.*}} sizes [3, 5]
  %a, %b = tvc.split %x sizes [3, 5] : tensor<1x4x8xf32>
  return %a, %b : tensor<1x4x3xf32>, tensor<1x4x5xf32>
}
