//===- StructuredLinear.cu - Block-diagonal and 2:4 linears on CUDA -------===//
//
// The CUDA entries of the structured linear maps, with the CPU entries'
// semantics and argument checks (checked before any CUDA call), on the
// calling thread's current stream.
//
// tvc_cuda_kernel_block_diagonal_f32: one cublasGemmStridedBatchedEx_64 call
// with a batch entry per block. Row-major y[m, blocks*block_n] is
// column-major y^T; block b's slice y_b^T [block_n, m] starts at column
// b*block_n of y with the leading dimension of the whole y, x_b^T [block_k,
// m] likewise at column b*block_k of x, and W_b ([block_n, block_k]
// row-major, transposed for cuBLAS) at b*block_n*block_k: three strided
// batches, in place. Bias, beta and TF32 as in tvc_cuda_kernel_linear_f32.
//
// tvc_cuda_kernel_linear_2to4_f32 (no 2:4 library ships with the CUDA
// toolkit: cuSPARSELt is a separate download, and its own compressed format
// is not tvc's): up to kGemvMaxRows rows of x (decode) take a hand-written
// GEMV that reads the compressed values and index nibbles once for all rows,
// a warp per output row, its lanes striding over the groups of four, a shuffle
// reduction at the end. More rows expand W into a dense [n,k] fp32 matrix in
// the thread's device scratch (a thread per group writes its four weights)
// and run tvc_cuda_kernel_linear_f32's cuBLAS GEMM on it. Either way a kept
// value multiplies x at its own position, so repeated positions add both
// values to one column, as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cuda/LinearCommon.cuh"

#include <cuda_runtime.h>

#include <cstdint>

using namespace tvc::runtime::cuda;

namespace {

//===----------------------------------------------------------------------===//
// Block-diagonal
//===----------------------------------------------------------------------===//

/// The blocks' GEMMs for validated parameters with m, blocks, block_n and
/// block_k >= 1, accumulating onto y with `beta`.
tvc_status_t blockDiagonalGemm(const tvc_block_diagonal_f32_params_t &p,
                               float beta, cudaStream_t stream,
                               ThreadContext &context) {
  cublasHandle_t handle;
  tvc_status_t status = context.cublas(stream, &handle);
  if (status != TVC_OK)
    return status;
  int64_t in = p.blocks * p.block_k, out = p.blocks * p.block_n;
  const float one = 1.0f;
  return toStatus(cublasLibrary()->gemmStridedBatchedEx(
      handle, CUBLAS_OP_T, CUBLAS_OP_N, p.block_n, p.m, p.block_k, &one,
      // A: W_b as column-major [block_k, block_n], transposed.
      p.w, CUDA_R_32F, p.block_k, p.block_n * p.block_k,
      // B: x_b^T, column-major [block_k, m] inside x^T [in, m].
      p.x, CUDA_R_32F, in, p.block_k, &beta,
      // C: y_b^T, column-major [block_n, m] inside y^T [out, m].
      p.y, CUDA_R_32F, out, p.block_n, p.blocks, fp32ComputeType(p.flags),
      CUBLAS_GEMM_DEFAULT));
}

//===----------------------------------------------------------------------===//
// 2:4 sparse
//===----------------------------------------------------------------------===//

/// Rows of x up to which the GEMV runs instead of expansion and cuBLAS: one
/// register accumulator per row.
constexpr int kGemvMaxRows = 8;
/// Warps (output rows in flight) per block of the GEMV.
constexpr int kGemvWarps = 8;

/// The 2-bit position within its group of kept value `s` (0 or 1) of group
/// `g`, from the row's index bytes.
__device__ __forceinline__ int position(const uint8_t *rowIndices, int64_t g,
                                        int s) {
  return (__ldg(rowIndices + g / 2) >> (4 * (g % 2) + 2 * s)) & 3;
}

/// y[r, j] = bias[j] + sum over kept values of row j of value * x[r, column]
/// for r < m <= kGemvMaxRows: a warp per output row j (grid-stride), lane l
/// taking groups l, l + 32, ... of the row, then a shuffle reduction. bias
/// may be null.
__global__ void __launch_bounds__(kGemvWarps *kWarpSize)
    gemv2to4Kernel(const float *__restrict__ x,
                   const float *__restrict__ values,
                   const uint8_t *__restrict__ indices,
                   const float *__restrict__ bias, float *__restrict__ y,
                   int64_t m, int64_t n, int64_t k) {
  int64_t groups = k / 4, half = k / 2, indexBytes = (k + 7) / 8;
  int lane = threadIdx.x % kWarpSize;
  int64_t stride = int64_t(gridDim.x) * kGemvWarps;
  for (int64_t j = int64_t(blockIdx.x) * kGemvWarps + threadIdx.x / kWarpSize;
       j < n; j += stride) {
    const float *rowValues = values + j * half;
    const uint8_t *rowIndices = indices + j * indexBytes;
    float acc[kGemvMaxRows] = {};
    for (int64_t g = lane; g < groups; g += kWarpSize) {
      float v0 = __ldg(rowValues + 2 * g), v1 = __ldg(rowValues + 2 * g + 1);
      int64_t c0 = 4 * g + position(rowIndices, g, 0);
      int64_t c1 = 4 * g + position(rowIndices, g, 1);
#pragma unroll
      for (int r = 0; r < kGemvMaxRows; ++r)
        if (r < m)
          acc[r] += v0 * __ldg(x + r * k + c0) + v1 * __ldg(x + r * k + c1);
    }
#pragma unroll
    for (int r = 0; r < kGemvMaxRows; ++r) {
      if (r < m) {
        float sum = warpSum(acc[r]);
        if (lane == 0)
          y[r * n + j] = bias ? sum + bias[j] : sum;
      }
    }
  }
}

/// dense[n,k] = W expanded from its compressed form, a thread per group of
/// four (grid-stride over the n * k/4 groups). Weight l of a group is the
/// sum of the kept values whose position is l (none: zero), so repeated
/// positions add up.
__global__ void expand2to4Kernel(const float *__restrict__ values,
                                 const uint8_t *__restrict__ indices,
                                 float *__restrict__ dense, int64_t n,
                                 int64_t k) {
  int64_t groups = k / 4, half = k / 2, indexBytes = (k + 7) / 8;
  int64_t count = n * groups;
  int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    int64_t j = i / groups, g = i % groups;
    const uint8_t *rowIndices = indices + j * indexBytes;
    float v0 = __ldg(values + j * half + 2 * g);
    float v1 = __ldg(values + j * half + 2 * g + 1);
    int p0 = position(rowIndices, g, 0), p1 = position(rowIndices, g, 1);
    float4 four;
    four.x = (p0 == 0 ? v0 : 0.0f) + (p1 == 0 ? v1 : 0.0f);
    four.y = (p0 == 1 ? v0 : 0.0f) + (p1 == 1 ? v1 : 0.0f);
    four.z = (p0 == 2 ? v0 : 0.0f) + (p1 == 2 ? v1 : 0.0f);
    four.w = (p0 == 3 ? v0 : 0.0f) + (p1 == 3 ? v1 : 0.0f);
    // k % 4 == 0 and scratch from cudaMalloc: every group is 16-byte aligned.
    reinterpret_cast<float4 *>(dense)[i] = four;
  }
}

/// The GEMV path for validated parameters with 1 <= m <= kGemvMaxRows and
/// n >= 1; it writes every output itself (k = 0 gives y = bias or zeros).
tvc_status_t gemv2to4(const tvc_linear_2to4_f32_params_t &p, const float *bias,
                      cudaStream_t stream) {
  gemv2to4Kernel<<<gridFor(p.n, kGemvWarps), kGemvWarps * kWarpSize, 0,
                   stream>>>(p.x, p.values, p.indices, bias, p.y, p.m, p.n,
                             p.k);
  return toStatus(cudaGetLastError());
}

/// The GEMM path for validated parameters with m > kGemvMaxRows and n >= 1:
/// W expanded into scratch, then the dense fp32 GEMM.
tvc_status_t gemm2to4(const tvc_linear_2to4_f32_params_t &p, const float *bias,
                      cudaStream_t stream, ThreadContext &context) {
  float beta;
  tvc_status_t status = prepareOutput(bias, p.y, p.m, p.n, p.k, stream, &beta);
  if (status != TVC_OK || p.k == 0)
    return status;
  void *dense;
  status = context.scratch(size_t(p.n) * size_t(p.k) * sizeof(float), &dense);
  if (status != TVC_OK)
    return status;
  constexpr unsigned kThreads = 256;
  expand2to4Kernel<<<gridFor(p.n * (p.k / 4), kThreads), kThreads, 0, stream>>>(
      p.values, p.indices, static_cast<float *>(dense), p.n, p.k);
  status = toStatus(cudaGetLastError());
  if (status != TVC_OK)
    return status;
  return gemm(context, stream, dense, p.x, CUDA_R_32F, p.y, p.m, p.n, p.k,
              /*inOut=*/false, beta, fp32ComputeType(p.flags));
}

} // namespace

extern "C" tvc_status_t tvc_cuda_kernel_block_diagonal_f32(
    const tvc_block_diagonal_f32_params_t *params) {
  // The CPU entry's checks, before any CUDA call; TF32 as for the fp32 linear.
  if (!tvc::runtime::validBlockDiagonalArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_ALLOW_TF32))
    return TVC_INVALID_ARGUMENT;
  const tvc_block_diagonal_f32_params_t &p = *params;
  if (p.m == 0 || p.blocks == 0 || p.block_n == 0)
    return TVC_OK;
  int64_t out = p.blocks * p.block_n;
  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  const float *bias = p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr;
  return withThreadContext(stream, [&](ThreadContext &context) {
    float beta;
    tvc_status_t status =
        prepareOutput(bias, p.y, p.m, out, p.block_k, stream, &beta);
    if (status != TVC_OK || p.block_k == 0)
      return status;
    return blockDiagonalGemm(p, beta, stream, context);
  });
}

extern "C" tvc_status_t
tvc_cuda_kernel_linear_2to4_f32(const tvc_linear_2to4_f32_params_t *params) {
  // The CPU entry's checks, before any CUDA call; TF32 applies to the GEMM
  // path (the GEMV multiplies in fp32).
  if (!tvc::runtime::validLinear2to4Arguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_ALLOW_TF32))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_2to4_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  const float *bias = p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr;
  return withThreadContext(stream, [&](ThreadContext &context) {
    return p.m <= kGemvMaxRows ? gemv2to4(p, bias, stream)
                               : gemm2to4(p, bias, stream, context);
  });
}
