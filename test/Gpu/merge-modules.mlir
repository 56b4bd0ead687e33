// RUN: tvc-opt %s -split-input-file -verify-diagnostics -tvc-gpu-merge-modules | FileCheck %s

/// Two outlined kernels of the same name (as outlining names them) end up in
/// one module, named after their modules; the launches follow.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @tvc_kernels [#nvvm.target<chip = "sm_90">] {
// CHECK-NEXT: gpu.func @f_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK: gpu.func @f_kernel_0(%{{.*}}: memref<4xf32>) kernel
// CHECK-NOT: gpu.module
// CHECK: func.func @f(
// CHECK: gpu.launch_func @tvc_kernels::@f_kernel blocks
// CHECK: gpu.launch_func @tvc_kernels::@f_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @f_kernel [#nvvm.target<chip = "sm_90">] {
    gpu.func @f_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @f_kernel_0 [#nvvm.target<chip = "sm_90">] {
    gpu.func @f_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
  func.func @f(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
}

// -----

/// A module with more than kernels (a device function) stays as it is.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @g_kernel {
// CHECK: gpu.module @h_kernel {
// CHECK: gpu.launch_func @h_kernel::@h_kernel
module attributes {gpu.container_module} {
  gpu.module @g_kernel {
    gpu.func @g_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @h_kernel {
    func.func @helper() {
      return
    }
    gpu.func @h_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
  func.func @h(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @h_kernel::@h_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
}
