//===- Linear.h - The GEMM path of the CPU linear kernel --------*- C++ -*-===//
//
// tvc_kernel_linear_f32 sends one row to gemvF32 (Gemv.h) and everything
// else to gemmF32, oneDNN's dnnl_sgemm over the runtime's pool. Exposed so
// that tvc-kernel-bench can time both paths on the same shapes; sgemmSerial,
// the single-threaded call each slice makes, is shared with the 2:4 sparse
// kernel (Sparse24.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_LINEAR_H
#define TVC_RUNTIME_KERNELS_CPU_LINEAR_H

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/ArgumentChecks.h"

namespace tvc::runtime {

/// y = x * W^T + bias through dnnl_sgemm for validated parameters with
/// m >= 1 and n >= 1 (any m, one row included); TVC_INTERNAL when oneDNN
/// reports an error.
tvc_status_t gemmF32(const tvc_linear_f32_params_t &params);

/// c[m,n] = a[m,k] * op(b) + beta * c through one dnnl_sgemm call that runs
/// on the calling thread alone (the OpenMP team size of Debian's oneDNN is
/// set to 1 around it and restored), row-major; op(b) is b ([k,n], transB
/// 'N') or b^T ([n,k], transB 'T'). For callers that split the work over the
/// runtime's pool themselves. False when oneDNN reports an error.
bool sgemmSerial(char transB, int64_t m, int64_t n, int64_t k, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                 int64_t ldc);

/// Fills the m rows of y [m, n] with `bias` (when not null) or zeros: the
/// result of a linear map with an empty reduction (k = 0).
void fillWithBias(float *y, int64_t m, int64_t n, const float *bias);

/// Before a slice's GEMM: copies bias[n0, n0 + columns) into each of the m
/// rows of the slice of y (row stride ldy) when `bias` is not null, and
/// returns the GEMM's beta: 1 to accumulate onto it, else 0.
float copyBiasColumns(float *y, int64_t m, int64_t ldy, const float *bias,
                      int64_t n0, int64_t columns);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_LINEAR_H
