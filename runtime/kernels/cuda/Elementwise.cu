//===- Elementwise.cu - Elementwise CUDA kernels --------------------------===//
//
// A grid-stride elementwise add: the smallest real kernel, used to check
// that CUDA sources build, link and run (on a GPU) in every configuration.
// Generated fused elementwise chains replace it in lowered models.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_runtime.h"

#include <cuda_runtime.h>

namespace {

__global__ void addF32Kernel(const float *lhs, const float *rhs, float *out,
                             size_t count) {
  size_t stride = static_cast<size_t>(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       i < count; i += stride)
    out[i] = lhs[i] + rhs[i];
}

} // namespace

extern "C" tvc_status_t tvc_cuda_add_f32(const float *lhs, const float *rhs,
                                         float *out, size_t count) {
  if (count == 0)
    return TVC_OK;
  if (!lhs || !rhs || !out)
    return TVC_INVALID_ARGUMENT;
  constexpr unsigned kThreads = 256;
  size_t blocks = (count + kThreads - 1) / kThreads;
  if (blocks > 65535)
    blocks = 65535;
  addF32Kernel<<<static_cast<unsigned>(blocks), kThreads>>>(lhs, rhs, out,
                                                             count);
  cudaError_t error = cudaGetLastError();
  if (error == cudaSuccess)
    error = cudaDeviceSynchronize();
  if (error == cudaSuccess)
    return TVC_OK;
  return error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver
             ? TVC_UNAVAILABLE
             : TVC_INTERNAL;
}
