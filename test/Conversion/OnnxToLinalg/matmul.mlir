// RUN: tvc-opt %s -split-input-file -convert-onnx-to-linalg | FileCheck %s

/// MatMul [1, ?, 64] x [64, 32]: loops (b, m, n, k), the weight has no
/// batch dimension.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[$Y:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @matmul_3d_by_2d
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x64xf32>, %[[W:.*]]: tensor<64x32xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]]
// CHECK: %[[INIT:.*]] = tensor.empty(%[[SEQ]]) : tensor<1x?x32xf32>
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[INIT]] : tensor<1x?x32xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$W]], #[[$Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<1x?x64xf32>, tensor<64x32xf32>) outs(%[[ACC]] : tensor<1x?x32xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[C:.*]]: f32):
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK: %[[S:.*]] = arith.addf %[[C]], %[[P]] : f32
// CHECK: linalg.yield %[[S]] : f32
func.func @matmul_3d_by_2d(%x: tensor<1x?x64xf32>, %w: tensor<64x32xf32>) -> tensor<1x?x32xf32> {
  %y = tvc_onnx.node "MatMul"(%x, %w) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x?x64xf32>, tensor<64x32xf32>) -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

/// Batched attention scores [1, 4, ?, 16] x [1, 4, 16, ?].
// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$K:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[$S:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_4d_by_4d
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x?x16xf32>, %[[K:.*]]: tensor<1x4x16x?xf32>)
// CHECK-DAG: %[[M:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<1x4x?x16xf32>
// CHECK-DAG: %[[N:.*]] = tensor.dim %[[K]], %{{.*}} : tensor<1x4x16x?xf32>
// CHECK: tensor.empty(%[[M]], %[[N]]) : tensor<1x4x?x?xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_4d_by_4d(%q: tensor<1x4x?x16xf32>, %k: tensor<1x4x16x?xf32>) -> tensor<1x4x?x?xf32> {
  %y = tvc_onnx.node "MatMul"(%q, %k) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x16x?xf32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

/// A unit batch dimension broadcasts (constant 0 in the operand's map).
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-LABEL: func.func @matmul_broadcast_batch
// CHECK: linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #{{.*}}]
// CHECK: } -> tensor<2x3x3x5xf32>
func.func @matmul_broadcast_batch(%a: tensor<2x1x3x4xf32>, %b: tensor<3x4x5xf32>) -> tensor<2x3x3x5xf32> {
  %y = tvc_onnx.node "MatMul"(%a, %b) {attrs = {}, domain = "", version = 13 : i64} : (tensor<2x1x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x3x5xf32>
  return %y : tensor<2x3x3x5xf32>
}

// -----

/// A 1-D right operand is a column whose dimension is dropped.
// CHECK-DAG: #[[$MAT:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$VEC:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @matmul_vector
// CHECK: linalg.generic {indexing_maps = [#[[$MAT]], #[[$VEC]], #[[$OUT]]], iterator_types = ["parallel", "reduction"]}
// CHECK: } -> tensor<3xf32>
func.func @matmul_vector(%a: tensor<3x4xf32>, %v: tensor<4xf32>) -> tensor<3xf32> {
  %y = tvc_onnx.node "MatMul"(%a, %v) {attrs = {}, domain = "", version = 13 : i64} : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

/// Gemm with transB, alpha and beta: a contraction reading B as (n, k),
/// then alpha * acc + beta * C with C broadcast over the rows.
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @gemm_trans_b
// CHECK-SAME: (%[[A:.*]]: tensor<?x8xf32>, %[[B:.*]]: tensor<4x8xf32>, %[[C:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[BETA:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[AB:.*]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[A]], %[[B]] :
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$C]], #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[AB]], %[[C]] :
// CHECK: ^bb0(%[[P:.*]]: f32, %[[BIAS:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[SP:.*]] = arith.mulf %[[P]], %[[ALPHA]] : f32
// CHECK: %[[SB:.*]] = arith.mulf %[[BIAS]], %[[BETA]] : f32
// CHECK: arith.addf %[[SP]], %[[SB]] : f32
func.func @gemm_trans_b(%a: tensor<?x8xf32>, %b: tensor<4x8xf32>, %c: tensor<4xf32>) -> tensor<?x4xf32> {
  %y = tvc_onnx.node "Gemm"(%a, %b, %c) {attrs = {alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, transB = 1 : i64}, domain = "", version = 13 : i64} : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

/// Contracted sizes that differ (64 against 32) leave the node alone.
// CHECK-LABEL: func.func @negative_matmul_size_mismatch
// CHECK: tvc_onnx.node "MatMul"
func.func @negative_matmul_size_mismatch(%x: tensor<2x64xf32>, %w: tensor<32x8xf32>) -> tensor<2x8xf32> {
  %y = tvc_onnx.node "MatMul"(%x, %w) {attrs = {}, domain = "", version = 13 : i64} : (tensor<2x64xf32>, tensor<32x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
