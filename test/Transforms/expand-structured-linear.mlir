// RUN: tvc-opt %s -split-input-file -tvc-expand-structured-linear | FileCheck %s

/// Low-rank: V without bias (rank outputs), then U with the bias.
// CHECK-LABEL: func.func @expand_low_rank
func.func @expand_low_rank(%x: tensor<1x?x16xf32>, %v: tensor<4x16xf32>, %u: tensor<24x4xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-SAME: (%[[X:.*]]: tensor<1x?x16xf32>, %[[V:.*]]: tensor<4x16xf32>, %[[U:.*]]: tensor<24x4xf32>, %[[B:.*]]: tensor<24xf32>)
  // CHECK: %[[H:.*]] = tvc.linear %[[X]], %[[V]] : (tensor<1x?x16xf32>, tensor<4x16xf32>) -> tensor<1x?x4xf32>
  // CHECK: %[[Y:.*]] = tvc.linear %[[H]], %[[U]] bias %[[B]] : (tensor<1x?x4xf32>, tensor<24x4xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %v, %u bias %bias structure(#tvc.low_rank<rank = 4>) : (tensor<1x?x16xf32>, tensor<4x16xf32>, tensor<24x4xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// BlockDense is left alone: convert-tvc-to-runtime calls the
/// block-diagonal kernel for it (test/Conversion/TvcToRuntime/linear.mlir).
// CHECK-LABEL: func.func @negative_block_dense_left_alone
func.func @negative_block_dense_left_alone(%x: tensor<1x?x16xf32>, %blocks: tensor<4x2x4xf32>, %l: tensor<24x8xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-NEXT: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.block_dense<blocks = 4>)
  // CHECK-NEXT: return
  %y = tvc.linear %x, %blocks, %l bias %bias structure(#tvc.block_dense<blocks = 4>) : (tensor<1x?x16xf32>, tensor<4x2x4xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// LoRA: the base linear keeps the bias; the branch B (A x) is scaled by
/// alpha / rank = 16 / 8 = 2 elementwise and added.
// CHECK-LABEL: func.func @expand_lora
func.func @expand_lora(%x: tensor<1x?x16xf32>, %w: tensor<24x16xf32>, %a: tensor<8x16xf32>, %b: tensor<24x8xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-SAME: (%[[X:.*]]: tensor<1x?x16xf32>, %[[W:.*]]: tensor<24x16xf32>, %[[A:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<24x8xf32>, %[[BIAS:.*]]: tensor<24xf32>)
  // CHECK-DAG: %[[BASE:.*]] = tvc.linear %[[X]], %[[W]] bias %[[BIAS]] : (tensor<1x?x16xf32>, tensor<24x16xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  // CHECK-DAG: %[[DOWN:.*]] = tvc.linear %[[X]], %[[A]] : (tensor<1x?x16xf32>, tensor<8x16xf32>) -> tensor<1x?x8xf32>
  // CHECK-DAG: %[[UP:.*]] = tvc.linear %[[DOWN]], %[[B]] : (tensor<1x?x8xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  // CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
  // CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%[[UP]] : tensor<1x?x24xf32>)
  // CHECK: arith.mulf %{{.*}}, %[[TWO]] : f32
  // CHECK: %[[Y:.*]] = tvc.add %[[BASE]], %[[SCALED]] : tensor<1x?x24xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %w, %a, %b bias %bias structure(#tvc.lora<rank = 8, alpha = 16.0>) : (tensor<1x?x16xf32>, tensor<24x16xf32>, tensor<8x16xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// alpha = rank: no multiplication.
// CHECK-LABEL: func.func @expand_lora_unit_scale
func.func @expand_lora_unit_scale(%x: tensor<2x16xf32>, %w: tensor<24x16xf32>, %a: tensor<8x16xf32>, %b: tensor<24x8xf32>) -> tensor<2x24xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: tvc.add
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 8, alpha = 8.0>) : (tensor<2x16xf32>, tensor<24x16xf32>, tensor<8x16xf32>, tensor<24x8xf32>) -> tensor<2x24xf32>
  return %y : tensor<2x24xf32>
}

// -----

/// An [in, out] base (GPT-2's Conv1D): the base linear keeps
/// #tvc.dense<in_out>; the branch reads A [rank, in] and B [out, rank] as
/// for any LoRA.
// CHECK-LABEL: func.func @expand_lora_in_out
func.func @expand_lora_in_out(%x: tensor<1x?x16xf32>, %w: tensor<16x24xf32>, %a: tensor<8x16xf32>, %b: tensor<24x8xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-SAME: (%[[X:.*]]: tensor<1x?x16xf32>, %[[W:.*]]: tensor<16x24xf32>, %[[A:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<24x8xf32>, %[[BIAS:.*]]: tensor<24xf32>)
  // CHECK-DAG: %[[BASE:.*]] = tvc.linear %[[X]], %[[W]] bias %[[BIAS]] structure(#tvc.dense<in_out>) : (tensor<1x?x16xf32>, tensor<16x24xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  // CHECK-DAG: %[[DOWN:.*]] = tvc.linear %[[X]], %[[A]] : (tensor<1x?x16xf32>, tensor<8x16xf32>) -> tensor<1x?x8xf32>
  // CHECK-DAG: %[[UP:.*]] = tvc.linear %[[DOWN]], %[[B]] : (tensor<1x?x8xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  // CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%[[UP]] : tensor<1x?x24xf32>)
  // CHECK: %[[Y:.*]] = tvc.add %[[BASE]], %[[SCALED]] : tensor<1x?x24xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %w, %a, %b bias %bias structure(#tvc.lora<rank = 8, alpha = 16.0, in_out>) : (tensor<1x?x16xf32>, tensor<16x24xf32>, tensor<8x16xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// Dense and 2:4 linears have kernels: left as they are.
// CHECK-LABEL: func.func @negative_expand_dense
func.func @negative_expand_dense(%x: tensor<2x16xf32>, %w: tensor<24x16xf32>) -> tensor<2x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<2x16xf32>, tensor<24x16xf32>) -> tensor<2x24xf32>
  // CHECK-NOT: tvc.linear
  %y = tvc.linear %x, %w : (tensor<2x16xf32>, tensor<24x16xf32>) -> tensor<2x24xf32>
  return %y : tensor<2x24xf32>
}
