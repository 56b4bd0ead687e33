//===- LinearCommon.cuh - Helpers of the CUDA linear entries ----*- C++ -*-===//
//
// What the CUDA linear entries (Linear.cu, StructuredLinear.cu) share: grid
// sizes for grid-stride kernels, the warp sum, the bias broadcast that
// readies y for a GEMM accumulating onto it, the fp32 cuBLAS GEMM of
// tvc_cuda_kernel_linear_f32 (y^T = op(W) x^T) and the TF32 switch. For nvcc-compiled files only; the
// kernel has internal linkage, so each file that includes this header gets
// its own copy (the runtime's CUDA files are compiled without device
// linking).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_LINEARCOMMON_CUH
#define TVC_RUNTIME_KERNELS_CUDA_LINEARCOMMON_CUH

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cuda/CublasLibrary.h"
#include "runtime/kernels/cuda/ThreadContext.h"
#include "runtime/kernels/cuda/Warp.cuh"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace tvc::runtime::cuda {

/// Grid-stride kernels launch at most this many blocks (a limit every
/// architecture accepts in grid.x; the kernels loop over the rest).
constexpr int64_t kMaxBlocks = 65535;

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Blocks of a grid-stride launch over `work` items, `perBlock` a block.
inline unsigned gridFor(int64_t work, int64_t perBlock) {
  int64_t blocks = ceilDiv(work, perBlock);
  return unsigned(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

/// y[r, c] = bias[c] for the m*n elements of y (grid-stride).
static __global__ void broadcastBiasKernel(const float *bias, float *y,
                                           size_t n, size_t count) {
  size_t stride = size_t(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += stride)
    y[i] = bias[i % n];
}

/// True when TVC_CUDA_TF32=1: every fp32 GEMM may round inputs to TF32.
inline bool tf32FromEnvironment() {
  static const bool enabled = [] {
    const char *value = std::getenv("TVC_CUDA_TF32");
    return value && std::strcmp(value, "1") == 0;
  }();
  return enabled;
}

/// The compute type of an fp32 GEMM: TF32 tensor cores when the call's flags
/// allow them (TVC_LINEAR_ALLOW_TF32) or the environment does.
inline cublasComputeType_t fp32ComputeType(int64_t flags) {
  return (flags & TVC_LINEAR_ALLOW_TF32) || tf32FromEnvironment()
             ? CUBLAS_COMPUTE_32F_FAST_TF32
             : CUBLAS_COMPUTE_32F;
}

/// Readies y[m,n] (m, n >= 1) for a GEMM that accumulates onto it with
/// `*out_beta`: y = bias and beta 1 with a bias; otherwise beta 0, and zeros
/// when k = 0 leaves no GEMM to write y.
inline tvc_status_t prepareOutput(const float *bias, float *y, int64_t m,
                                  int64_t n, int64_t k, cudaStream_t stream,
                                  float *out_beta) {
  *out_beta = 0.0f;
  size_t count = size_t(m) * size_t(n);
  if (bias) {
    constexpr unsigned kThreads = 256;
    broadcastBiasKernel<<<gridFor(int64_t(count), kThreads), kThreads, 0,
                          stream>>>(bias, y, size_t(n), count);
    *out_beta = 1.0f;
    return toStatus(cudaGetLastError());
  }
  if (k == 0)
    return toStatus(cudaMemsetAsync(y, 0, count * sizeof(float), stream));
  return TVC_OK;
}

/// y^T[n,m] = op(W) x^T + beta y^T through cuBLAS, W and x of `type`, y fp32,
/// for k >= 1. Column-major view: A = W as [k,n] (out_in, transposed) or
/// [n,k] (in_out), B = x^T [k,m], C = y^T [n,m].
inline tvc_status_t gemm(ThreadContext &context, cudaStream_t stream,
                         const void *w, const void *x, cudaDataType type,
                         float *y, int64_t m, int64_t n, int64_t k, bool inOut,
                         float beta, cublasComputeType_t compute) {
  cublasHandle_t handle;
  tvc_status_t status = context.cublas(stream, &handle);
  if (status != TVC_OK)
    return status;
  const float one = 1.0f;
  return toStatus(cublasLibrary()->gemmEx(
      handle, inOut ? CUBLAS_OP_N : CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w,
      type, inOut ? n : k, x, type, k, &beta, y, CUDA_R_32F, n, compute,
      CUBLAS_GEMM_DEFAULT));
}

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_LINEARCOMMON_CUH
