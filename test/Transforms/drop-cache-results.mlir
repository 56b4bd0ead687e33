// RUN: tvc-opt %s -split-input-file -tvc-drop-cache-results | FileCheck %s

/// A cache written in place (the function returns its own argument) is no
/// longer returned; the logits stay.
// CHECK-LABEL: func.func @step
// CHECK-SAME: -> memref<1x1x8xf32>
// CHECK: return %{{.*}} : memref<1x1x8xf32>
func.func @step(%ids: memref<1x1xi64>, %cache: memref<1x16x4xf32>) -> (memref<1x1x8xf32>, memref<1x16x4xf32> {tvc.updates_arg = 1 : i64}) {
  %logits = memref.alloc() : memref<1x1x8xf32>
  return %logits, %cache : memref<1x1x8xf32>, memref<1x16x4xf32>
}

// -----

/// A cache that bufferization copied (a new buffer is returned) stays, and
/// so does a result without the marker.
// CHECK-LABEL: func.func @negative_copied_cache
// CHECK-SAME: -> (memref<1x16x4xf32> {tvc.updates_arg = 0 : i64}, memref<1x16x4xf32>)
func.func @negative_copied_cache(%cache: memref<1x16x4xf32>) -> (memref<1x16x4xf32> {tvc.updates_arg = 0 : i64}, memref<1x16x4xf32>) {
  %copy = memref.alloc() : memref<1x16x4xf32>
  memref.copy %cache, %copy : memref<1x16x4xf32> to memref<1x16x4xf32>
  return %copy, %cache : memref<1x16x4xf32>, memref<1x16x4xf32>
}

// -----

/// A function with callers keeps its signature (the calls would break).
// CHECK-LABEL: func.func @negative_called
// CHECK-SAME: -> (memref<2xf32>, memref<4xf32> {tvc.updates_arg = 0 : i64})
func.func @negative_called(%cache: memref<4xf32>) -> (memref<2xf32>, memref<4xf32> {tvc.updates_arg = 0 : i64}) {
  %out = memref.alloc() : memref<2xf32>
  return %out, %cache : memref<2xf32>, memref<4xf32>
}
func.func @caller(%cache: memref<4xf32>) -> memref<2xf32> {
  %out, %c = func.call @negative_called(%cache) : (memref<4xf32>) -> (memref<2xf32>, memref<4xf32>)
  return %out : memref<2xf32>
}
