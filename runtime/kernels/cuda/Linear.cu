//===- Linear.cu - Fully connected layers on CUDA -------------------------===//
//
// The CUDA linear entries, y = x * W^T + bias with tvc_kernel_linear_f32's
// semantics and argument checks (checked before any CUDA call), on the
// calling thread's current stream.
//
// tvc_cuda_kernel_linear_f32: one cuBLASLt matmul (CublasLt.h) in fp32 with
// the bias and the activation of the flags (bits 3-5) in its epilogue where
// cuBLASLt has one (ReLU and GELU's tanh form; GELU's erf form and SiLU run
// in a small kernel after it); the flag TVC_LINEAR_ALLOW_TF32 (set by
// `tvc-compile --precision=tf32`) or TVC_CUDA_TF32=1 in the environment,
// read once, lets it use TF32 tensor cores instead (inputs rounded to about
// 10 mantissa bits, fp32 accumulation). Without cuBLASLt (not installed, no
// algorithm for the shape, or TVC_CUDA_CUBLASLT=0) the bias is broadcast
// into y by a small kernel, one cublasGemmEx_64 call (64-bit sizes)
// accumulates onto it (beta = 1) and the activation kernel follows; k = 0
// needs no GEMM (y = bias, or zeros by cudaMemsetAsync). Row-major y[m,n] is
// column-major y^T[n,m] = W x^T, so cuBLAS sees W as op(A) (transposed for
// the [n,k] layout) and x^T as B.
//
// tvc_cuda_kernel_linear_bf16w_f32 / _f16w_f32 (16-bit weights, fp32 x and y):
// up to kGemvMaxRows rows of x (decode) take a hand-written GEMV that widens
// each weight exactly in registers and multiplies it with the fp32 x (never
// rounded), accumulating in fp32 and adding the bias itself; when the output
// columns alone give too few blocks to fill the device, k is split over blocks
// too, their partial sums go to the thread's device scratch and a second kernel
// adds them in a fixed order (the activation is applied to the final sums).
// More rows round x to the weights' type (round to nearest even) in the
// thread's device scratch and run the same GEMM as the fp32 entry with 16-bit
// A and B, fp32 C and CUBLAS_COMPUTE_32F (tensor cores, fp32 accumulation):
// cuBLAS has no GEMM that takes fp32 x against 16-bit W.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cuda/CublasLt.h"
#include "runtime/kernels/cuda/LinearCommon.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

// Shared with StructuredLinear.cu (LinearCommon.cuh): grid sizes, warpSum,
// prepareOutput, gemm, tf32FromEnvironment; ThreadContext.h:
// withThreadContext.
using namespace tvc::runtime::cuda;

namespace {

//===----------------------------------------------------------------------===//
// Activations and the GEMM with a fused epilogue
//===----------------------------------------------------------------------===//

/// The activation of a linear entry's flags (bits 3-5) at y, with CUDA's
/// math functions; the formulas of the CPU entries (Activation.cpp): GELU's
/// tanh form as y * sigmoid(2u), its erf form as y * Phi(y).
__device__ float activate(int64_t activation, float y) {
  switch (activation) {
  case TVC_LINEAR_RELU:
    return y > 0.0f || y != y ? y : 0.0f;
  case TVC_LINEAR_GELU:
    return y * normcdff(y);
  case TVC_LINEAR_GELU_TANH:
    return y / (1.0f + expf(-1.59576912f * (y + 0.044715f * y * y * y)));
  case TVC_LINEAR_SILU:
    return y / (1.0f + expf(-y));
  default:
    return y;
  }
}

/// y[i] = activate(y[i]) for the count elements of y (grid-stride).
__global__ void activationKernel(float *y, size_t count, int64_t activation) {
  size_t stride = size_t(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += stride)
    y[i] = activate(activation, y[i]);
}

/// Queues activationKernel over y[m,n]; nothing for activation 0.
tvc_status_t applyActivation(int64_t activation, float *y, int64_t m, int64_t n,
                             cudaStream_t stream) {
  if (activation == 0)
    return TVC_OK;
  size_t count = size_t(m) * size_t(n);
  constexpr unsigned kThreads = 256;
  activationKernel<<<gridFor(int64_t(count), kThreads), kThreads, 0, stream>>>(
      y, count, activation);
  return toStatus(cudaGetLastError());
}

/// The cuBLASLt epilogue for `activation` with or without a bias, and in
/// *out_after what a kernel still applies after it: cuBLASLt fuses ReLU
/// and the tanh form of GELU; the erf form and SiLU run after.
cublasLtEpilogue_t epilogueFor(int64_t activation, bool bias,
                               int64_t *out_after) {
  *out_after = 0;
  switch (activation) {
  case TVC_LINEAR_RELU:
    return bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
  case TVC_LINEAR_GELU_TANH:
    return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
  default:
    *out_after = activation;
    return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
  }
}

/// y = activation(x W^T + bias) for m, n >= 1, x and W of `type`: one
/// cuBLASLt call with the bias and activation in its epilogue where it has
/// an algorithm, else the bias broadcast, cuBLAS and an activation kernel;
/// k = 0 gives activation(bias) (or zeros) without a GEMM.
tvc_status_t linearGemm(ThreadContext &context, cudaStream_t stream,
                        const void *w, const void *x, cudaDataType type,
                        const float *bias, float *y, int64_t m, int64_t n,
                        int64_t k, bool inOut, cublasComputeType_t compute,
                        int64_t activation) {
  if (k == 0) {
    float beta;
    tvc_status_t status = prepareOutput(bias, y, m, n, k, stream, &beta);
    return status != TVC_OK ? status
                            : applyActivation(activation, y, m, n, stream);
  }
  LtMatmuls *lt;
  void *workspace;
  size_t workspaceBytes;
  tvc_status_t status = context.cublasLt(&lt, &workspace, &workspaceBytes);
  if (status != TVC_OK)
    return status;
  if (lt) {
    int64_t after;
    LtGemm gemm = {
        type, compute, epilogueFor(activation, bias, &after), inOut, m, n, k};
    bool ran;
    status =
        lt->run(gemm, w, x, bias, y, workspace, workspaceBytes, stream, &ran);
    if (status != TVC_OK || ran)
      return status != TVC_OK ? status
                              : applyActivation(after, y, m, n, stream);
  }
  float beta;
  status = prepareOutput(bias, y, m, n, k, stream, &beta);
  if (status == TVC_OK)
    status =
        gemm(context, stream, w, x, type, y, m, n, k, inOut, beta, compute);
  if (status == TVC_OK)
    status = applyActivation(activation, y, m, n, stream);
  return status;
}

//===----------------------------------------------------------------------===//
// 16-bit weights
//===----------------------------------------------------------------------===//

/// The two weight formats: their cuBLAS type, exact widening of a stored
/// bit pattern to fp32, and rounding of fp32 to the format (nearest even).
struct Bf16 {
  static constexpr cudaDataType kType = CUDA_R_16BF;
  __device__ static float widen(uint16_t bits) {
    return __bfloat162float(__ushort_as_bfloat16(bits));
  }
  __device__ static uint16_t narrow(float value) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(value));
  }
};

struct F16 {
  static constexpr cudaDataType kType = CUDA_R_16F;
  __device__ static float widen(uint16_t bits) {
    return __half2float(__ushort_as_half(bits));
  }
  __device__ static uint16_t narrow(float value) {
    return __half_as_ushort(__float2half_rn(value));
  }
};

/// Rows of x up to which the GEMV kernels run instead of cuBLAS: one
/// register accumulator per row and output.
constexpr int kGemvMaxRows = 8;

/// One GEMV launch. Blocks of grid row b take the k rows [b * splitRows,
/// (b + 1) * splitRows) and write their sums to out + b * m * n: y itself
/// (with the bias) when the grid has one row, else partial sums in scratch
/// (bias null) that sumSplitsKernel adds up.
struct GemvArgs {
  const float *x;
  const uint16_t *w;
  const float *bias;
  float *out;
  int64_t m, n, k;
  int64_t splitRows;
  /// Applied with the bias to the final sums (0 for partial sums).
  int64_t activation;
};

/// GEMV for W stored [n,k] (out_in): a warp per output column j, its lanes
/// striding over the block's k rows, all m <= kGemvMaxRows rows of x at
/// once, then a shuffle reduction. `Vector`: k and splitRows are multiples
/// of 8 and x and w 16-byte aligned, so a lane loads 8 weights (16 bytes)
/// and 2 float4 of x per row at a time.
constexpr int kOutInWarps = 8;

template <typename Format, bool Vector>
__global__ void __launch_bounds__(kOutInWarps *kWarpSize)
    gemvOutInKernel(GemvArgs a) {
  const float *__restrict__ x = a.x;
  const uint16_t *__restrict__ w = a.w;
  int64_t m = a.m, n = a.n, k = a.k;
  int64_t begin = int64_t(blockIdx.y) * a.splitRows;
  int64_t end = begin + a.splitRows < k ? begin + a.splitRows : k;
  float *out = a.out + int64_t(blockIdx.y) * m * n;
  int lane = threadIdx.x % kWarpSize;
  int64_t stride = int64_t(gridDim.x) * kOutInWarps;
  for (int64_t j = int64_t(blockIdx.x) * kOutInWarps + threadIdx.x / kWarpSize;
       j < n; j += stride) {
    const uint16_t *row = w + j * k;
    float acc[kGemvMaxRows] = {};
    if (Vector) {
      for (int64_t l = begin + int64_t(lane) * 8; l < end; l += kWarpSize * 8) {
        uint4 bits = __ldg(reinterpret_cast<const uint4 *>(row + l));
        const uint32_t words[4] = {bits.x, bits.y, bits.z, bits.w};
        float weights[8];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          // Little-endian: the lower half is the earlier element.
          weights[2 * i] = Format::widen(uint16_t(words[i]));
          weights[2 * i + 1] = Format::widen(uint16_t(words[i] >> 16));
        }
#pragma unroll
        for (int r = 0; r < kGemvMaxRows; ++r) {
          if (r < m) {
            const float4 *xr = reinterpret_cast<const float4 *>(x + r * k + l);
            float4 p = __ldg(xr), q = __ldg(xr + 1);
            acc[r] += p.x * weights[0] + p.y * weights[1] + p.z * weights[2] +
                      p.w * weights[3] + q.x * weights[4] + q.y * weights[5] +
                      q.z * weights[6] + q.w * weights[7];
          }
        }
      }
    } else {
      for (int64_t l = begin + lane; l < end; l += kWarpSize) {
        float weight = Format::widen(__ldg(row + l));
#pragma unroll
        for (int r = 0; r < kGemvMaxRows; ++r)
          if (r < m)
            acc[r] += __ldg(x + r * k + l) * weight;
      }
    }
#pragma unroll
    for (int r = 0; r < kGemvMaxRows; ++r) {
      if (r < m) {
        float sum = warpSum(acc[r]);
        if (lane == 0)
          out[r * n + j] =
              activate(a.activation, a.bias ? sum + a.bias[j] : sum);
      }
    }
  }
}

/// GEMV for W stored [k,n] (in_out): a block owns kInOutColumns adjacent
/// columns, 2 per thread of a warp's width, and spreads its k rows over
/// kInOutSlices warps (thread row s takes rows begin + s, begin + s +
/// kInOutSlices, ...); the slices' partial sums meet in shared memory, one
/// output per thread. `Pairs`: n is even and w 4-byte aligned, so a thread
/// loads its two weights as one 32-bit word (a warp: 128 contiguous bytes).
constexpr int kInOutSlices = 16;
constexpr int kInOutColumns = 2 * kWarpSize;
static_assert(kInOutSlices * kWarpSize == kGemvMaxRows * kInOutColumns,
              "one thread per output of a block in the reduction");

template <typename Format, bool Pairs>
__global__ void __launch_bounds__(kInOutSlices *kWarpSize)
    gemvInOutKernel(GemvArgs a) {
  __shared__ float partial[kInOutSlices][kGemvMaxRows][kInOutColumns];
  const float *__restrict__ x = a.x;
  const uint16_t *__restrict__ w = a.w;
  int64_t m = a.m, n = a.n, k = a.k;
  int64_t begin = int64_t(blockIdx.y) * a.splitRows;
  int64_t end = begin + a.splitRows < k ? begin + a.splitRows : k;
  float *out = a.out + int64_t(blockIdx.y) * m * n;
  int column = 2 * threadIdx.x, slice = threadIdx.y;
  int thread = slice * kWarpSize + threadIdx.x;
  // Block-uniform loop: every thread reaches the barriers.
  for (int64_t first = int64_t(blockIdx.x) * kInOutColumns; first < n;
       first += int64_t(gridDim.x) * kInOutColumns) {
    int64_t j = first + column;
    float acc[kGemvMaxRows][2] = {};
    if (j < n) {
      for (int64_t l = begin + slice; l < end; l += kInOutSlices) {
        const uint16_t *at = w + l * n + j;
        float w0, w1 = 0.0f;
        if (Pairs) {
          uint32_t word = __ldg(reinterpret_cast<const uint32_t *>(at));
          w0 = Format::widen(uint16_t(word));
          w1 = Format::widen(uint16_t(word >> 16));
        } else {
          w0 = Format::widen(__ldg(at));
          if (j + 1 < n)
            w1 = Format::widen(__ldg(at + 1));
        }
#pragma unroll
        for (int r = 0; r < kGemvMaxRows; ++r) {
          if (r < m) {
            float xv = __ldg(x + r * k + l);
            acc[r][0] += xv * w0;
            acc[r][1] += xv * w1;
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kGemvMaxRows; ++r) {
      partial[slice][r][column] = acc[r][0];
      partial[slice][r][column + 1] = acc[r][1];
    }
    __syncthreads();
    int r = thread / kInOutColumns, c = thread % kInOutColumns;
    if (r < m && first + c < n) {
      float sum = 0.0f;
      for (int s = 0; s < kInOutSlices; ++s)
        sum += partial[s][r][c];
      out[r * n + first + c] =
          activate(a.activation, a.bias ? sum + a.bias[first + c] : sum);
    }
    // The next column group overwrites `partial`.
    __syncthreads();
  }
}

/// y[i] = sum over the splits of partial[s * count + i], in split order,
/// plus bias[i % n], then the activation (grid-stride over the count = m * n
/// outputs).
__global__ void sumSplitsKernel(const float *__restrict__ partial,
                                const float *__restrict__ bias,
                                float *__restrict__ y, int64_t n, size_t count,
                                int64_t splits, int64_t activation) {
  size_t stride = size_t(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += stride) {
    float sum = 0.0f;
    for (int64_t s = 0; s < splits; ++s)
      sum += partial[size_t(s) * count + i];
    y[i] = activate(activation, bias ? sum + bias[i % size_t(n)] : sum);
  }
}

/// x rounded to the weights' format, count elements (grid-stride).
template <typename Format>
__global__ void narrowKernel(const float *__restrict__ x,
                             uint16_t *__restrict__ out, size_t count) {
  size_t stride = size_t(blockDim.x) * gridDim.x;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count;
       i += stride)
    out[i] = Format::narrow(x[i]);
}

bool alignedTo(const void *pointer, uintptr_t bytes) {
  return reinterpret_cast<uintptr_t>(pointer) % bytes == 0;
}

/// The GEMV grid aims at this many blocks per multiprocessor: with fewer
/// columns than that, k is split over grid rows too (decode needs many
/// loads in flight to reach the memory bandwidth).
constexpr int64_t kGemvBlocksPerSm = 4;
constexpr int64_t kMaxSplits = 64;
/// k rows per split are a multiple of these (a warp step of the [n,k]
/// kernel's vector loads is 256 rows; the [k,n] kernel's slices take 16).
constexpr int64_t kOutInSplitGranule = 512;
constexpr int64_t kInOutSplitGranule = 128;

/// Rows of k per grid row for `blocks` column blocks on `sms`
/// multiprocessors: k itself (one split) when the columns alone give half
/// the target or more (a split costs a second launch) or k is short.
int64_t splitRowsFor(int64_t blocks, int64_t k, int64_t granule, int sms) {
  int64_t splits = kGemvBlocksPerSm * (sms > 0 ? sms : 1) / blocks;
  splits = std::min({splits, ceilDiv(k, granule), kMaxSplits});
  if (splits <= 1)
    return k;
  return ceilDiv(ceilDiv(k, splits), granule) * granule;
}

/// The GEMV path for validated parameters with 1 <= m <= kGemvMaxRows and
/// n >= 1. It writes every output itself (k = 0 gives y = bias or zeros);
/// when k is split, the partial sums go to scratch and a second kernel adds
/// them.
template <typename Format>
tvc_status_t gemv(const tvc_linear_w16_f32_params_t &p, const float *bias,
                  cudaStream_t stream, ThreadContext &context) {
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  unsigned blocks = gridFor(p.n, inOut ? kInOutColumns : kOutInWarps);
  int64_t splitRows =
      splitRowsFor(blocks, p.k, inOut ? kInOutSplitGranule : kOutInSplitGranule,
                   context.multiprocessors());
  int64_t splits = splitRows < p.k ? ceilDiv(p.k, splitRows) : 1;
  int64_t activation = p.flags & TVC_LINEAR_ACTIVATION_MASK;
  GemvArgs args = {p.x, p.w, bias, p.y, p.m, p.n, p.k, splitRows, activation};
  size_t count = size_t(p.m) * size_t(p.n);
  if (splits > 1) {
    void *partial;
    tvc_status_t status =
        context.scratch(size_t(splits) * count * sizeof(float), &partial);
    if (status != TVC_OK)
      return status;
    args.out = static_cast<float *>(partial);
    args.bias = nullptr;
    args.activation = 0;
  }
  dim3 grid(blocks, unsigned(splits));
  if (inOut) {
    dim3 threads(kWarpSize, kInOutSlices);
    if (p.n % 2 == 0 && alignedTo(p.w, 4))
      gemvInOutKernel<Format, true><<<grid, threads, 0, stream>>>(args);
    else
      gemvInOutKernel<Format, false><<<grid, threads, 0, stream>>>(args);
  } else {
    constexpr unsigned kThreads = kOutInWarps * kWarpSize;
    if (p.k % 8 == 0 && alignedTo(p.w, 16) && alignedTo(p.x, 16))
      gemvOutInKernel<Format, true><<<grid, kThreads, 0, stream>>>(args);
    else
      gemvOutInKernel<Format, false><<<grid, kThreads, 0, stream>>>(args);
  }
  tvc_status_t status = toStatus(cudaGetLastError());
  if (status != TVC_OK || splits == 1)
    return status;
  constexpr unsigned kThreads = 256;
  sumSplitsKernel<<<gridFor(int64_t(count), kThreads), kThreads, 0, stream>>>(
      args.out, bias, p.y, p.n, count, splits, activation);
  return toStatus(cudaGetLastError());
}

/// The GEMM path for validated parameters with m > kGemvMaxRows and n >= 1:
/// x rounded into scratch, then cuBLAS with 16-bit inputs.
template <typename Format>
tvc_status_t gemm16(const tvc_linear_w16_f32_params_t &p, const float *bias,
                    cudaStream_t stream, ThreadContext &context) {
  int64_t activation = p.flags & TVC_LINEAR_ACTIVATION_MASK;
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  if (p.k == 0) // Nothing to round.
    return linearGemm(context, stream, p.w, p.x, Format::kType, bias, p.y,
                      p.m, p.n, p.k, inOut, CUBLAS_COMPUTE_32F, activation);
  size_t count = size_t(p.m) * size_t(p.k);
  void *rounded;
  tvc_status_t status = context.scratch(count * sizeof(uint16_t), &rounded);
  if (status != TVC_OK)
    return status;
  constexpr unsigned kThreads = 256;
  narrowKernel<Format>
      <<<gridFor(int64_t(count), kThreads), kThreads, 0, stream>>>(
          p.x, static_cast<uint16_t *>(rounded), count);
  status = toStatus(cudaGetLastError());
  if (status != TVC_OK)
    return status;
  return linearGemm(context, stream, p.w, rounded, Format::kType, bias, p.y,
                    p.m, p.n, p.k, inOut, CUBLAS_COMPUTE_32F, activation);
}

template <typename Format>
tvc_status_t linearW16(const tvc_linear_w16_f32_params_t *params) {
  // The CPU entries' checks, before any CUDA call; TF32 is not among the
  // accepted flags.
  if (!tvc::runtime::validLinearArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT |
                      TVC_LINEAR_ACTIVATION_MASK))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_w16_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  const float *bias = p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr;
  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  return withThreadContext(stream, [&](ThreadContext &context) {
    return p.m <= kGemvMaxRows ? gemv<Format>(p, bias, stream, context)
                               : gemm16<Format>(p, bias, stream, context);
  });
}

} // namespace

extern "C" tvc_status_t
tvc_cuda_kernel_linear_f32(const tvc_linear_f32_params_t *params) {
  // The CPU entry's checks, before any CUDA call.
  if (!tvc::runtime::validLinearArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT |
                      TVC_LINEAR_ALLOW_TF32 | TVC_LINEAR_ACTIVATION_MASK))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;

  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  const float *bias = p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr;
  cublasComputeType_t compute = fp32ComputeType(p.flags);
  int64_t activation = p.flags & TVC_LINEAR_ACTIVATION_MASK;
  return withThreadContext(stream, [&](ThreadContext &context) {
    return linearGemm(context, stream, p.w, p.x, CUDA_R_32F, bias, p.y, p.m,
                      p.n, p.k, p.flags & TVC_LINEAR_WEIGHT_IN_OUT, compute,
                      activation);
  });
}

extern "C" tvc_status_t
tvc_cuda_kernel_linear_bf16w_f32(const tvc_linear_w16_f32_params_t *params) {
  return linearW16<Bf16>(params);
}

extern "C" tvc_status_t
tvc_cuda_kernel_linear_f16w_f32(const tvc_linear_w16_f32_params_t *params) {
  return linearW16<F16>(params);
}
