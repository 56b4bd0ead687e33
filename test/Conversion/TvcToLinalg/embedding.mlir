// RUN: tvc-opt %s -split-input-file -convert-tvc-to-linalg | FileCheck %s

// Gathers by id inside a linalg.generic, and RoPE as constant per-channel
// tables (computed at compile time), cos/sin per (batch, position, channel)
// and a rotation over [batch, seq, heads, head_dim]. Numbers:
// run-embedding.mlir.

/// Embedding: a generic over [ids..., width] reads the id through a map
/// dropping the width and extracts the table row at the clamped id.
// CHECK-DAG: #[[ROW3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @embedding_dynamic_seq_f32
// CHECK-SAME: (%[[TABLE:.*]]: tensor<100x16xf32>, %[[IDS:.*]]: tensor<1x?xi64>)
func.func @embedding_dynamic_seq_f32(%table: tensor<100x16xf32>, %ids: tensor<1x?xi64>) -> tensor<1x?x16xf32> {
  // CHECK: %[[T:.*]] = tensor.dim %[[IDS]], %{{.*}} : tensor<1x?xi64>
  // CHECK: %[[INIT:.*]] = tensor.empty(%[[T]]) : tensor<1x?x16xf32>
  // CHECK: %[[VOCAB:.*]] = tensor.dim %[[TABLE]], %{{.*}} : tensor<100x16xf32>
  // CHECK: %[[LAST:.*]] = arith.subi %[[VOCAB]], %{{.*}} : index
  // CHECK: %[[H:.*]] = linalg.generic {indexing_maps = [#[[ROW3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%[[IDS]] : tensor<1x?xi64>) outs(%[[INIT]] : tensor<1x?x16xf32>)
  // CHECK: ^bb0(%[[ID:.*]]: i64, %{{.*}}: f32):
  // CHECK: %[[IDX:.*]] = arith.index_cast %[[ID]] : i64 to index
  // CHECK: %[[LOW:.*]] = arith.maxsi %[[IDX]], %{{.*}} : index
  // CHECK: %[[ROW:.*]] = arith.minsi %[[LOW]], %[[LAST]] : index
  // CHECK: %[[COL:.*]] = linalg.index 2 : index
  // CHECK: %[[E:.*]] = tensor.extract %[[TABLE]][%[[ROW]], %[[COL]]] : tensor<100x16xf32>
  // CHECK: linalg.yield %[[E]] : f32
  // CHECK: return %[[H]]
  %h = tvc.embedding %table, %ids : tensor<100x16xf32>, tensor<1x?xi64>
  return %h : tensor<1x?x16xf32>
}

// -----

/// A 16-bit table (tvc-convert-precision's form): the gather copies bf16
/// elements; the widening that follows is not this op's.
// CHECK-LABEL: func.func @embedding_bf16_table
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<3x4xbf16>)
// CHECK: %[[E:.*]] = tensor.extract %{{.*}} : tensor<10x4xbf16>
// CHECK: linalg.yield %[[E]] : bf16
func.func @embedding_bf16_table(%table: tensor<10x4xbf16>, %ids: tensor<3xi64>) -> tensor<3x4xbf16> {
  %h = tvc.embedding %table, %ids : tensor<10x4xbf16>, tensor<3xi64>
  return %h : tensor<3x4xbf16>
}

// -----

/// Ids of any integer width are cast to index.
// CHECK-LABEL: func.func @embedding_i32_ids_f32
func.func @embedding_i32_ids_f32(%table: tensor<10x4xf32>, %ids: tensor<3xi32>) -> tensor<3x4xf32> {
  // CHECK: ^bb0(%[[ID:.*]]: i32, %{{.*}}: f32):
  // CHECK: arith.index_cast %[[ID]] : i32 to index
  %h = tvc.embedding %table, %ids : tensor<10x4xf32>, tensor<3xi32>
  return %h : tensor<3x4xf32>
}

// -----

/// Learned positions add the table row at each position to the hidden
/// state.
// CHECK-LABEL: func.func @learned_positions_dynamic_seq_f32
// CHECK-SAME: (%[[H:.*]]: tensor<1x?x8xf32>, %[[WPE:.*]]: tensor<32x8xf32>, %[[POS:.*]]: tensor<1x?xi64>)
func.func @learned_positions_dynamic_seq_f32(%hidden: tensor<1x?x8xf32>, %wpe: tensor<32x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[H]], %[[POS]] : tensor<1x?x8xf32>, tensor<1x?xi64>)
  // CHECK: ^bb0(%[[X:.*]]: f32, %[[P:.*]]: i64, %{{.*}}: f32):
  // CHECK: arith.index_cast %[[P]] : i64 to index
  // CHECK: %[[ROW:.*]] = arith.minsi
  // CHECK: %[[COL:.*]] = linalg.index 2 : index
  // CHECK: %[[E:.*]] = tensor.extract %[[WPE]][%[[ROW]], %[[COL]]] : tensor<32x8xf32>
  // CHECK: %[[SUM:.*]] = arith.addf %[[X]], %[[E]] : f32
  // CHECK: linalg.yield %[[SUM]] : f32
  %h = tvc.learned_positions %hidden, %wpe, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  return %h : tensor<1x?x8xf32>
}

// -----

/// Rotate-half RoPE on 2 heads of 8: channel j < 4 pairs with j + 4 and
/// takes -sin, channel j >= 4 pairs with j - 4 and takes +sin; frequencies
/// theta^(-2i/8) = 1, 0.1, 0.01, 0.001 repeat over both halves.
// CHECK-DAG: #[[POS3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[CHAN3:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[TABLE4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[CHAN4:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @rope_half_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x16xf32>, %[[POS:.*]]: tensor<1x?xi64>)
func.func @rope_half_dynamic_seq_f32(%x: tensor<1x?x16xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x16xf32> {
  // CHECK: %[[T:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<1x?x16xf32>
  // CHECK: %[[COS_INIT:.*]] = tensor.empty(%[[T]]) : tensor<1x?x8xf32>
  // CHECK: %[[SIN_INIT:.*]] = tensor.empty(%[[T]]) : tensor<1x?x8xf32>
  // CHECK: %[[FREQ:.*]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03, 1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<8xf32>
  // CHECK: %[[COS_SCALE:.*]] = arith.constant dense<1.000000e+00> : tensor<8xf32>
  // CHECK: %[[SIN_SCALE:.*]] = arith.constant dense<[-1.000000e+00, -1.000000e+00, -1.000000e+00, -1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<8xf32>
  // CHECK: %[[ANGLES:.*]]:2 = linalg.generic {indexing_maps = [#[[POS3]], #[[CHAN3]], #[[CHAN3]], #[[CHAN3]], #[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%[[POS]], %[[FREQ]], %[[COS_SCALE]], %[[SIN_SCALE]] : tensor<1x?xi64>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK-SAME: outs(%[[COS_INIT]], %[[SIN_INIT]] : tensor<1x?x8xf32>, tensor<1x?x8xf32>)
  // CHECK: ^bb0(%[[P:.*]]: i64, %[[F:.*]]: f32, %[[CS:.*]]: f32, %[[SS:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
  // CHECK: %[[PF:.*]] = arith.sitofp %[[P]] : i64 to f32
  // CHECK: %[[ANGLE:.*]] = arith.mulf %[[PF]], %[[F]] : f32
  // CHECK: %[[COS:.*]] = math.cos %[[ANGLE]] : f32
  // CHECK: %[[COS_S:.*]] = arith.mulf %[[COS]], %[[CS]] : f32
  // CHECK: %[[SIN:.*]] = math.sin %[[ANGLE]] : f32
  // CHECK: %[[SIN_S:.*]] = arith.mulf %[[SIN]], %[[SS]] : f32
  // CHECK: linalg.yield %[[COS_S]], %[[SIN_S]] : f32, f32
  // CHECK: %[[HEADS:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [1, %[[T]], 2, 8] : tensor<1x?x16xf32> into tensor<1x?x2x8xf32>
  // CHECK: %[[OFFSETS:.*]] = arith.constant dense<[4, 4, 4, 4, -4, -4, -4, -4]> : tensor<8xi64>
  // CHECK: %[[ROT:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[TABLE4]], #[[TABLE4]], #[[CHAN4]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%[[HEADS]], %[[ANGLES]]#0, %[[ANGLES]]#1, %[[OFFSETS]] : tensor<1x?x2x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<8xi64>)
  // CHECK: ^bb0(%[[V:.*]]: f32, %[[C:.*]]: f32, %[[S:.*]]: f32, %[[OFF:.*]]: i64, %{{.*}}: f32):
  // CHECK: %[[B:.*]] = linalg.index 0 : index
  // CHECK: %[[TT:.*]] = linalg.index 1 : index
  // CHECK: %[[HH:.*]] = linalg.index 2 : index
  // CHECK: %[[J:.*]] = linalg.index 3 : index
  // CHECK: %[[OFF_I:.*]] = arith.index_cast %[[OFF]] : i64 to index
  // CHECK: %[[PJ:.*]] = arith.addi %[[J]], %[[OFF_I]] : index
  // CHECK: %[[PARTNER:.*]] = tensor.extract %[[HEADS]][%[[B]], %[[TT]], %[[HH]], %[[PJ]]] : tensor<1x?x2x8xf32>
  // CHECK: %[[DIRECT:.*]] = arith.mulf %[[V]], %[[C]] : f32
  // CHECK: %[[CROSSED:.*]] = arith.mulf %[[PARTNER]], %[[S]] : f32
  // CHECK: %[[OUT:.*]] = arith.addf %[[DIRECT]], %[[CROSSED]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  // CHECK: %[[Y:.*]] = tensor.collapse_shape %[[ROT]] {{\[}}[0], [1], [2, 3]] : tensor<1x?x2x8xf32> into tensor<1x?x16xf32>
  // CHECK: return %[[Y]]
  %y = tvc.rope %x, %positions heads 2 theta 1.0e+04 : tensor<1x?x16xf32>, tensor<1x?xi64>
  return %y : tensor<1x?x16xf32>
}

// -----

/// Interleaved (GPT-J) pairs (2i, 2i+1) over rotary_dim 4 of 8: the first
/// four channels share frequencies pairwise and point at their neighbour,
/// the last four pass through (frequency 0, cos scale 1, sin scale 0,
/// partner itself).
// CHECK-LABEL: func.func @rope_partial_interleaved_f32
func.func @rope_partial_interleaved_f32(%x: tensor<2x?x16xf32>, %positions: tensor<2x?xi32>) -> tensor<2x?x16xf32> {
  // CHECK: arith.constant dense<[1.000000e+00, 1.000000e+00, 0.00999999977, 0.00999999977, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]> : tensor<8xf32>
  // CHECK: arith.constant dense<1.000000e+00> : tensor<8xf32>
  // CHECK: arith.constant dense<[-1.000000e+00, 1.000000e+00, -1.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]> : tensor<8xf32>
  // CHECK: arith.sitofp %{{.*}} : i32 to f32
  // CHECK: arith.constant dense<[1, -1, 1, -1, 0, 0, 0, 0]> : tensor<8xi64>
  %y = tvc.rope %x, %positions heads 2 theta 1.0e+04 rotary_dim 4 interleaved : tensor<2x?x16xf32>, tensor<2x?xi32>
  return %y : tensor<2x?x16xf32>
}

// -----

/// Scaling kinds change only the constant tables (theta 1e4, head 8:
/// unscaled frequencies 1, 0.1, 0.01, 0.001). Linear divides by 4; NTK
/// raises the base to 1e4 * 4^(8/6); YaRN (L = 64, beta 8..1) keeps the
/// fastest, blends the second and interpolates the rest, and scales cos and
/// sin by 0.1 ln 4 + 1; Llama 3 (L = 64, factors 1..4) keeps the fastest,
/// smooths the second and divides the rest by 8.
// CHECK-LABEL: func.func @rope_scaling_kinds_f32
func.func @rope_scaling_kinds_f32(%x: tensor<1x?x16xf32>, %positions: tensor<1x?xi64>) -> (tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) {
  // CHECK: arith.constant dense<[2.500000e-01, 2.500000e-02, 2.500000e-03, 2.500000e-04, 2.500000e-01, 2.500000e-02, 2.500000e-03, 2.500000e-04]> : tensor<8xf32>
  // CHECK: arith.constant dense<[1.000000e+00, 0.0629960{{[0-9]*}}, 0.00396850{{[0-9]*}}, 2.500000e-04, 1.000000e+00, 0.0629960{{[0-9]*}}, 0.00396850{{[0-9]*}}, 2.500000e-04]> : tensor<8xf32>
  // CHECK: arith.constant dense<[1.000000e+00, 0.0251991{{[0-9]*}}, 2.500000e-03, 2.500000e-04, 1.000000e+00, 0.0251991{{[0-9]*}}, 2.500000e-03, 2.500000e-04]> : tensor<8xf32>
  // CHECK: arith.constant dense<1.1386294{{[0-9]*}}> : tensor<8xf32>
  // CHECK: arith.constant dense<[-1.1386294{{[0-9]*}}, -1.1386294{{[0-9]*}}, -1.1386294{{[0-9]*}}, -1.1386294{{[0-9]*}}, 1.1386294{{[0-9]*}}, 1.1386294{{[0-9]*}}, 1.1386294{{[0-9]*}}, 1.1386294{{[0-9]*}}]> : tensor<8xf32>
  // CHECK: arith.constant dense<[1.000000e+00, 0.0130422{{[0-9]*}}, 1.250000e-03, 1.250000e-04, 1.000000e+00, 0.0130422{{[0-9]*}}, 1.250000e-03, 1.250000e-04]> : tensor<8xf32>
  %a = tvc.rope %x, %positions heads 2 theta 1.0e+04 scaling <kind = linear, factor = 4.0> : tensor<1x?x16xf32>, tensor<1x?xi64>
  %b = tvc.rope %x, %positions heads 2 theta 1.0e+04 scaling <kind = ntk, factor = 4.0> : tensor<1x?x16xf32>, tensor<1x?xi64>
  %c = tvc.rope %x, %positions heads 2 theta 1.0e+04 scaling <kind = yarn, factor = 4.0, original_max_positions = 64, beta_fast = 8.0, beta_slow = 1.0> : tensor<1x?x16xf32>, tensor<1x?xi64>
  %d = tvc.rope %x, %positions heads 2 theta 1.0e+04 scaling <kind = llama3, factor = 8.0, original_max_positions = 64, low_freq_factor = 1.0, high_freq_factor = 4.0> : tensor<1x?x16xf32>, tensor<1x?xi64>
  return %a, %b, %c, %d : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
}
