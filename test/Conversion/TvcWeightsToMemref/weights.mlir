// RUN: tvc-opt %s -split-input-file -convert-tvc-weights-to-memref | FileCheck %s

/// Weights read by a function get 64-byte aligned offsets in module order;
/// unread globals get none; the function gains a trailing blob argument and
/// each weight becomes a read-only view of it.
// CHECK: module attributes {tvc.weights_bytes = 192 : i64}
// CHECK: tvc.global @first : tensor<3xf32> = {{.*}} {tvc.offset = 0 : i64}
// CHECK: tvc.global @unused : tensor<5xf32> = dense<2.000000e+00> : tensor<5xf32>{{$}}
// CHECK: tvc.global @second : tensor<2x16xf32> = {{.*}} {tvc.offset = 64 : i64}
tvc.global @first : tensor<3xf32> = dense<1.0> : tensor<3xf32>
tvc.global @unused : tensor<5xf32> = dense<2.0> : tensor<5xf32>
tvc.global @second : tensor<2x16xf32> = dense<3.0> : tensor<2x16xf32>

// CHECK-LABEL: func.func @reads_two_weights
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[BLOB:.*]]: memref<?xi8> {tvc.weights})
func.func @reads_two_weights(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<2x16xf32>) {
  // CHECK: %[[OFF0:.*]] = arith.constant 0 : index
  // CHECK: %[[V0:.*]] = memref.view %[[BLOB]][%[[OFF0]]][] : memref<?xi8> to memref<3xf32>
  // CHECK: %[[W0:.*]] = bufferization.to_tensor %[[V0]] restrict : memref<3xf32> to tensor<3xf32>
  // CHECK: %[[OFF1:.*]] = arith.constant 64 : index
  // CHECK: %[[V1:.*]] = memref.view %[[BLOB]][%[[OFF1]]][] : memref<?xi8> to memref<2x16xf32>
  // CHECK: %[[W1:.*]] = bufferization.to_tensor %[[V1]] restrict
  // CHECK: %[[SUM:.*]] = tvc.add %[[X]], %[[W0]]
  // CHECK: return %[[SUM]], %[[W1]]
  %first = tvc.weight @first : tensor<3xf32>
  %second = tvc.weight @second : tensor<2x16xf32>
  %sum = tvc.add %x, %first : tensor<3xf32>
  return %sum, %second : tensor<3xf32>, tensor<2x16xf32>
}

/// A function without weights keeps its signature.
// CHECK-LABEL: func.func @negative_no_weights
// CHECK-SAME: (%{{.*}}: tensor<3xf32>) -> tensor<3xf32>
func.func @negative_no_weights(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}

// -----

/// The same weight read in two places is laid out once.
// CHECK: module attributes {tvc.weights_bytes = 16 : i64}
tvc.global @shared : tensor<4xf32> = dense<1.0> : tensor<4xf32>

// CHECK-LABEL: func.func @shared_weight
func.func @shared_weight() -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK-COUNT-2: memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<4xf32>
  %a = tvc.weight @shared : tensor<4xf32>
  %b = tvc.weight @shared : tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
