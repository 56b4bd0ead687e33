//===- Linear.cu - Fully connected layer on CUDA through cuBLAS -----------===//
//
// tvc_cuda_kernel_linear_f32: y = x * W^T + bias with tvc_kernel_linear_f32's
// semantics and argument checks (checked before any CUDA call), on the
// calling thread's current stream. The product is one cublasGemmEx_64 call
// (64-bit sizes) in fp32; the flag TVC_LINEAR_ALLOW_TF32 (set by
// `tvc-compile --precision=tf32`) or TVC_CUDA_TF32=1 in the environment,
// read once, lets cuBLAS use TF32 tensor cores instead (inputs rounded to
// about 10 mantissa bits, fp32 accumulation). The
// bias is broadcast into y by a small kernel first and the GEMM accumulates
// onto it (beta = 1); k = 0 needs no GEMM (y = bias, or zeros by
// cudaMemsetAsync). Row-major y[m,n] is column-major y^T[n,m] = W x^T, so
// cuBLAS sees W as op(A) (transposed for the [n,k] layout) and x^T as B.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cuda/CublasLibrary.h"
#include "runtime/kernels/cuda/ThreadContext.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>

using tvc::runtime::cuda::ThreadContext;
using tvc::runtime::cuda::toStatus;

namespace {

/// y[r, c] = bias[c] for the m*n elements of y (grid-stride).
__global__ void broadcastBiasKernel(const float *bias, float *y, size_t n,
                                    size_t count) {
  size_t stride = size_t(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += stride)
    y[i] = bias[i % n];
}

/// True when TVC_CUDA_TF32=1: every fp32 GEMM may round inputs to TF32.
bool tf32FromEnvironment() {
  static const bool enabled = [] {
    const char *value = std::getenv("TVC_CUDA_TF32");
    return value && std::strcmp(value, "1") == 0;
  }();
  return enabled;
}

/// The GEMM part for validated parameters with m, n >= 1.
tvc_status_t linear(const tvc_linear_f32_params_t &p, cudaStream_t stream,
                    ThreadContext &context) {
  float beta = 0.0f;
  size_t count = size_t(p.m) * size_t(p.n);
  if (p.flags & TVC_LINEAR_HAS_BIAS) {
    constexpr unsigned kThreads = 256;
    size_t blocks = (count + kThreads - 1) / kThreads;
    if (blocks > 65535)
      blocks = 65535;
    broadcastBiasKernel<<<unsigned(blocks), kThreads, 0, stream>>>(
        p.bias, p.y, size_t(p.n), count);
    tvc_status_t status = toStatus(cudaGetLastError());
    if (status != TVC_OK)
      return status;
    beta = 1.0f;
  } else if (p.k == 0) {
    return toStatus(cudaMemsetAsync(p.y, 0, count * sizeof(float), stream));
  }
  if (p.k == 0)
    return TVC_OK;

  cublasHandle_t handle;
  tvc_status_t status = context.cublas(stream, &handle);
  if (status != TVC_OK)
    return status;
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  // Column-major view: A = W as [k,n] (out_in, transposed) or [n,k]
  // (in_out), B = x^T [k,m], C = y^T [n,m].
  const float one = 1.0f;
  cublasComputeType_t compute =
      (p.flags & TVC_LINEAR_ALLOW_TF32) || tf32FromEnvironment()
          ? CUBLAS_COMPUTE_32F_FAST_TF32
          : CUBLAS_COMPUTE_32F;
  return toStatus(tvc::runtime::cuda::cublasLibrary()->gemmEx(
      handle, inOut ? CUBLAS_OP_N : CUBLAS_OP_T, CUBLAS_OP_N, p.n, p.m, p.k,
      &one, p.w, CUDA_R_32F, inOut ? p.n : p.k, p.x, CUDA_R_32F, p.k, &beta,
      p.y, CUDA_R_32F, p.n, compute, CUBLAS_GEMM_DEFAULT));
}

} // namespace

extern "C" tvc_status_t
tvc_cuda_kernel_linear_f32(const tvc_linear_f32_params_t *params) {
  // The CPU entry's checks, before any CUDA call.
  if (!tvc::runtime::validLinearArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT |
                      TVC_LINEAR_ALLOW_TF32))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;

  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  ThreadContext *context;
  tvc_status_t status = ThreadContext::begin(stream, &context);
  if (status != TVC_OK)
    return status;
  status = linear(p, stream, *context);
  tvc_status_t ended = context->end(stream);
  return status != TVC_OK ? status : ended;
}
