// RUN: tvc-opt %s -split-input-file -convert-tvc-to-linalg | FileCheck %s

// split becomes one tensor.extract_slice per piece. Numbers: run-shape.mlir.

/// Pieces [768, 768, 768] of a fused QKV projection with a dynamic sequence
/// start at channels 0, 768 and 1536.
// CHECK-LABEL: func.func @split_qkv_dynamic_seq_f32
// CHECK-SAME: (%[[QKV:.*]]: tensor<1x?x2304xf32>)
func.func @split_qkv_dynamic_seq_f32(%qkv: tensor<1x?x2304xf32>) -> (tensor<1x?x768xf32>, tensor<1x?x768xf32>, tensor<1x?x768xf32>) {
  // CHECK-NOT: tvc.split
  // CHECK: %[[T:.*]] = tensor.dim %[[QKV]], %{{.*}} : tensor<1x?x2304xf32>
  // CHECK: %[[Q:.*]] = tensor.extract_slice %[[QKV]][0, 0, 0] [1, %[[T]], 768] [1, 1, 1] : tensor<1x?x2304xf32> to tensor<1x?x768xf32>
  // CHECK: %[[K:.*]] = tensor.extract_slice %[[QKV]][0, 0, 768] [1, %[[T]], 768] [1, 1, 1] : tensor<1x?x2304xf32> to tensor<1x?x768xf32>
  // CHECK: %[[V:.*]] = tensor.extract_slice %[[QKV]][0, 0, 1536] [1, %[[T]], 768] [1, 1, 1] : tensor<1x?x2304xf32> to tensor<1x?x768xf32>
  // CHECK: return %[[Q]], %[[K]], %[[V]]
  %q, %k, %v = tvc.split %qkv sizes [768, 768, 768] : tensor<1x?x2304xf32>
  return %q, %k, %v : tensor<1x?x768xf32>, tensor<1x?x768xf32>, tensor<1x?x768xf32>
}

// -----

/// Unequal pieces of a static matrix.
// CHECK-LABEL: func.func @split_unequal_static_f32
func.func @split_unequal_static_f32(%x: tensor<4x10xf32>) -> (tensor<4x3xf32>, tensor<4x7xf32>) {
  // CHECK: tensor.extract_slice %{{.*}}[0, 0] [4, 3] [1, 1] : tensor<4x10xf32> to tensor<4x3xf32>
  // CHECK: tensor.extract_slice %{{.*}}[0, 3] [4, 7] [1, 1] : tensor<4x10xf32> to tensor<4x7xf32>
  %a, %b = tvc.split %x sizes [3, 7] : tensor<4x10xf32>
  return %a, %b : tensor<4x3xf32>, tensor<4x7xf32>
}
