// RUN: tvc-opt %s -split-input-file -verify-diagnostics -tvc-gpu-prepare-buffers | FileCheck %s

/// A copy (a KV-cache row written into the cache) becomes linalg.copy, a
/// kernel like any other generated op.
// CHECK-LABEL: func.func @copy_into_cache
// CHECK: %[[ROW:.*]] = memref.subview %arg1
// CHECK: linalg.copy ins(%arg0 : memref<1x1x64xf32>) outs(%[[ROW]] : memref<1x1x64xf32, strided<[4096, 64, 1], offset: ?>>)
// CHECK-NOT: memref.copy
func.func @copy_into_cache(%row: memref<1x1x64xf32>, %cache: memref<1x64x64xf32>, %at: index) {
  %slot = memref.subview %cache[0, %at, 0] [1, 1, 64] [1, 1, 1] : memref<1x64x64xf32> to memref<1x1x64xf32, strided<[4096, 64, 1], offset: ?>>
  memref.copy %row, %slot : memref<1x1x64xf32> to memref<1x1x64xf32, strided<[4096, 64, 1], offset: ?>>
  return
}

// -----

/// A buffer the memory plan left on the heap becomes a device allocation,
/// with one remark per function.
// CHECK-LABEL: func.func @unplanned
// CHECK: %[[A:.*]] = gpu.alloc  (%arg0) : memref<?x64xf32>
// CHECK: %[[B:.*]] = gpu.alloc  (%arg0) : memref<?x64xf32>
// CHECK: linalg.copy ins(%[[A]] : memref<?x64xf32>) outs(%[[B]] : memref<?x64xf32>)
// CHECK: gpu.dealloc  %[[A]] : memref<?x64xf32>
// CHECK: gpu.dealloc  %[[B]] : memref<?x64xf32>
// CHECK-NOT: memref.alloc
func.func @unplanned(%n: index) {
  // expected-remark @+1 {{buffers without a size bound are allocated in device memory on every call of this function}}
  %a = memref.alloc(%n) : memref<?x64xf32>
  %b = memref.alloc(%n) : memref<?x64xf32>
  memref.copy %a, %b : memref<?x64xf32> to memref<?x64xf32>
  memref.dealloc %a : memref<?x64xf32>
  memref.dealloc %b : memref<?x64xf32>
  return
}
