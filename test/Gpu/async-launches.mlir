// RUN: tvc-opt %s -split-input-file -tvc-gpu-async-launches | FileCheck %s

/// One stream token at the start, every launch (also one in a loop) and the
/// device allocations on it, one wait before each return.
// CHECK-LABEL: func.func @step
// CHECK-NEXT: %[[S:.*]] = gpu.wait async
// CHECK: %{{.*}}, %{{.*}} = gpu.alloc async [%[[S]]] (%arg1) : memref<?xf32>
// CHECK: gpu.launch_func async [%[[S]]] @kernels::@scale
// CHECK: scf.for
// CHECK:   gpu.launch_func async [%[[S]]] @kernels::@scale
// CHECK: gpu.dealloc async [%[[S]]]
// CHECK: gpu.wait [%[[S]]]
// CHECK-NEXT: return
// CHECK-NOT: gpu.wait
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%x: memref<?xf32>) kernel {
      gpu.return
    }
  }
  func.func @step(%x: memref<?xf32>, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %tmp = gpu.alloc (%n) : memref<?xf32>
    gpu.launch_func @kernels::@scale blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<?xf32>)
    scf.for %i = %c0 to %c4 step %c1 {
      gpu.launch_func @kernels::@scale blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%tmp : memref<?xf32>)
    }
    gpu.dealloc %tmp : memref<?xf32>
    return
  }
  /// A function without launches is left alone.
  // CHECK-LABEL: func.func @host_only
  // CHECK-NOT: gpu.wait
  func.func @host_only() {
    return
  }
}
