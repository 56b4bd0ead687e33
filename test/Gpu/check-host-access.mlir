// RUN: tvc-opt %s -split-input-file -verify-diagnostics -tvc-gpu-check-host-access | FileCheck %s

/// Reading a rank-0 argument (past_len, host memory) on the host is fine,
/// as are the CUDA kernel entries and launches on device buffers.
// CHECK-LABEL: func.func @fine
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%x: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<4xf32>
      gpu.return
    }
  }
  func.func @fine(%past: memref<i64>, %x: memref<4xf32>, %w: memref<4x4xf32>) {
    %c1 = arith.constant 1 : index
    %c1_i64 = arith.constant 1 : i64
    %p = memref.load %past[] : memref<i64>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    tvc.kernel_call "tvc_cuda_kernel_linear_f32" ins(%x, %w : memref<4xf32>, memref<4x4xf32>) outs(%x : memref<4xf32>) scalars(%c1_i64 : i64)
    return
  }
}

// -----

/// A load of a device buffer on the host is an error.
func.func @device_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' op reads or writes device memory on the host in a CUDA artifact (only rank-0 arguments are host memory); this op must run in a kernel}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

/// So is a CPU kernel call left behind, and a store through a view.
func.func @cpu_kernel(%x: memref<4xf32>, %w: memref<4x4xf32>, %blob: memref<?xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : i64
  %f = arith.constant 1.0 : f32
  // expected-error @+1 {{'tvc.kernel_call' op reads or writes device memory on the host}}
  tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w : memref<4xf32>, memref<4x4xf32>) outs(%x : memref<4xf32>) scalars(%c1 : i64)
  %view = memref.view %blob[%c0][] : memref<?xi8> to memref<4xf32>
  // expected-error @+1 {{'memref.store' op reads or writes device memory on the host}}
  memref.store %f, %view[%c0] : memref<4xf32>
  return
}
