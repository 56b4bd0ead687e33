//===- Linear.h - The GEMM path of the CPU linear kernel --------*- C++ -*-===//
//
// tvc_kernel_linear_f32 sends one row to gemvF32 (Gemv.h) and everything
// else to gemmF32, oneDNN's dnnl_sgemm over the runtime's pool. Exposed so
// that tvc-kernel-bench can time both paths on the same shapes.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_LINEAR_H
#define TVC_RUNTIME_KERNELS_CPU_LINEAR_H

#include "runtime/api/tvc_kernels.h"

namespace tvc::runtime {

/// y = x * W^T + bias through dnnl_sgemm for validated parameters with
/// m >= 1 and n >= 1 (any m, one row included); TVC_INTERNAL when oneDNN
/// reports an error.
tvc_status_t gemmF32(const tvc_linear_f32_params_t &params);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_LINEAR_H
