//===- Attention.cu - Multi-head attention on CUDA ------------------------===//
//
// tvc_cuda_kernel_attention_f32: tvc_kernel_attention_f32's semantics for
// the static mask kinds 0-4 (full, causal, sliding window, window + global,
// block-local), with its argument checks made before any CUDA call; the
// data-dependent kinds 5-8 go to SparseAttention.cu after the same checks.
// Every one of the static kinds gives a query at most two intervals of
// allowed keys, a global prefix [0, headHi) and a local span [tailLo,
// tailHi) (keySpans, shared with the host), whose ends never decrease with
// the position.
//
// Two kernels, both fp32 throughout with an online softmax (running max and
// sum per query row, output rescaled when the max grows):
//  - flashKernel (q_len > kDecodeMaxQueries): a block takes 16 query rows of
//    one head (4 warps x 4 rows) and walks key tiles of 32 keys (K and V
//    tiles in shared memory, K rows padded to an odd stride against bank
//    conflicts) over the union of its rows' intervals only, so windowed
//    kinds cost O(window) per query. Lane j of a warp scores key j of the
//    tile against the warp's 4 rows; its probabilities are broadcast by
//    shuffles for P.V, where lane l owns output columns l, l+32, ...
//  - decodeKernel + combineKernel (q_len <= kDecodeMaxQueries): split-KV.
//    Each query row's allowed keys (both intervals, concatenated) are cut
//    into chunks, one block per chunk; a warp takes every 4th key, the
//    block merges its warps' (max, sum, acc) and writes them as one partial
//    to scratch, and combineKernel merges a row's partials. With a single
//    chunk the decode kernel writes the output itself.
// The partials live in the calling thread's scratch (ThreadContext.h),
// which grows when a call needs more and is reused afterwards: a warm
// decode loop allocates nothing.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cuda/SparseAttention.h"
#include "runtime/kernels/cuda/ThreadContext.h"
#include "runtime/kernels/cuda/Warp.cuh"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

using tvc::runtime::cuda::ThreadContext;
using tvc::runtime::cuda::toStatus;

using tvc::runtime::cuda::kFullMask;
using tvc::runtime::cuda::kWarpSize;
using tvc::runtime::cuda::QueryRow;
using tvc::runtime::cuda::warpMax;
using tvc::runtime::cuda::warpSum;

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
/// Query rows per flash block and per warp.
constexpr int kQueryTile = 16;
constexpr int kRowsPerWarp = kQueryTile / kWarps;
/// Keys per flash tile: one per lane.
constexpr int kKeyTile = kWarpSize;
/// Up to this many query rows take the split-KV decode path.
constexpr int64_t kDecodeMaxQueries = 4;
/// Split-KV chunks: at least this many keys each, at most this many per row.
constexpr int64_t kMinChunkKeys = 64;
constexpr int64_t kMaxChunks = 256;
/// Dynamic shared memory a kernel gets without opting in.
constexpr size_t kDefaultSharedBytes = 48 * 1024;

/// The mask parameters of a call.
struct Mask {
  int64_t kind, window, global, block, kvLen;
};

/// The allowed keys of one query position: [0, headHi) and [tailLo, tailHi),
/// with headHi <= tailLo and tailHi <= kv_len.
struct Spans {
  int64_t headHi, tailLo, tailHi;
};

/// The allowed keys of the query at `pos` (tvc_kernel_attention_f32's masks
/// 0-4). Every end is non-decreasing in `pos`.
__host__ __device__ inline Spans keySpans(const Mask &mask, int64_t pos) {
  Spans spans{0, 0, pos + 1};
  switch (mask.kind) {
  case TVC_MASK_CAUSAL:
    break;
  case TVC_MASK_SLIDING_WINDOW:
    spans.tailLo = pos - mask.window + 1 > 0 ? pos - mask.window + 1 : 0;
    break;
  case TVC_MASK_WINDOW_GLOBAL:
    spans.tailLo = pos - mask.window + 1 > 0 ? pos - mask.window + 1 : 0;
    // Global keys the window already covers stay in the tail.
    spans.headHi = mask.global < spans.tailLo ? mask.global : spans.tailLo;
    break;
  case TVC_MASK_BLOCK_LOCAL: {
    int64_t firstBlock = pos / mask.block - mask.window + 1;
    firstBlock = firstBlock > 0 ? firstBlock : 0;
    spans.tailLo = firstBlock * mask.block;
    // Global blocks up to the window: one interval with the tail.
    spans.headHi =
        mask.global >= firstBlock ? spans.tailLo : mask.global * mask.block;
    break;
  }
  default: // full
    spans.tailHi = mask.kvLen;
    break;
  }
  return spans;
}

/// Keys allowed at `pos` in total.
__host__ __device__ inline int64_t keyCount(const Spans &spans) {
  return spans.headHi + (spans.tailHi - spans.tailLo);
}

/// A validated call.
struct Args {
  const float *q, *k, *v;
  float *out;
  int64_t qLen, kvLen, kvCapacity, heads, kvHeads, headDim;
  int64_t group; // query heads per KV head
  Mask mask;
  float scale;
};

/// Element (row, head, column 0) of a [.., heads, headDim] row-major tensor.
__device__ inline int64_t rowOffset(int64_t row, int64_t heads, int64_t head,
                                    int64_t headDim) {
  return (row * heads + head) * headDim;
}

//===----------------------------------------------------------------------===//
// Flash kernel (prefill)
//===----------------------------------------------------------------------===//

/// Floats of the flash kernel's shared memory: Q tile, K tile (odd row
/// stride), V tile.
size_t flashSharedFloats(int64_t headDim) {
  return size_t(kQueryTile) * headDim + size_t(kKeyTile) * (headDim | 1) +
         size_t(kKeyTile) * headDim;
}

/// One block: query rows [q0, q0 + 16) of head h of batch entry b, with
/// blockIdx.x = (b * heads + h) * queryTiles + tile. kCols * 32 >= headDim.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    flashKernel(Args a, int64_t queryTiles) {
  extern __shared__ float shared[];
  const int dim = int(a.headDim);
  const int keyStride = dim | 1;
  float *qTile = shared;                       // [kQueryTile][dim]
  float *kTile = qTile + kQueryTile * dim;     // [kKeyTile][keyStride]
  float *vTile = kTile + kKeyTile * keyStride; // [kKeyTile][dim]

  const int64_t tile = blockIdx.x % queryTiles;
  const int64_t h = (blockIdx.x / queryTiles) % a.heads;
  const int64_t b = blockIdx.x / queryTiles / a.heads;
  const int64_t kvHead = h / a.group;
  const int64_t q0 = tile * kQueryTile;
  const int rows = int(min(int64_t(kQueryTile), a.qLen - q0));
  const int64_t firstPos = a.kvLen - a.qLen + q0;
  const int tid = threadIdx.x, warp = tid / kWarpSize, lane = tid % kWarpSize;

  for (int idx = tid; idx < kQueryTile * dim; idx += kThreads) {
    int r = idx / dim, d = idx - r * dim;
    qTile[idx] = r < rows
                     ? a.q[rowOffset(b * a.qLen + q0 + r, a.heads, h, dim) + d]
                     : 0.0f;
  }

  // The warp's rows: running max m, sum l and unnormalised output acc
  // (columns lane + 32 c); m and l are the same in every lane.
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kCols];
  Spans spans[kRowsPerWarp];
  bool valid[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    int row = warp * kRowsPerWarp + r;
    valid[r] = row < rows;
    spans[r] = keySpans(a.mask, firstPos + row);
    m[r] = -INFINITY;
    l[r] = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c)
      acc[r][c] = 0.0f;
  }

  // The tile's keys: [0, last.headHi) and [first.tailLo, last.tailHi),
  // merged when they touch. Keys outside every row's intervals are never
  // loaded.
  const Spans first = keySpans(a.mask, firstPos);
  const Spans last = keySpans(a.mask, firstPos + rows - 1);
  int64_t lo[2], hi[2];
  int ranges = 0;
  if (last.headHi > 0 && last.headHi < first.tailLo) {
    lo[ranges] = 0;
    hi[ranges++] = last.headHi;
    lo[ranges] = first.tailLo;
  } else {
    lo[ranges] = last.headHi > 0 ? 0 : first.tailLo;
  }
  hi[ranges++] = last.tailHi;
  __syncthreads(); // qTile is complete

  const int64_t kvRowBase = b * a.kvCapacity;
  for (int range = 0; range < ranges; ++range) {
    for (int64_t j0 = lo[range]; j0 < hi[range]; j0 += kKeyTile) {
      const int keys = int(min(int64_t(kKeyTile), hi[range] - j0));
      // Rows past `keys` are zeros: their probabilities are 0, and 0 * a
      // stale NaN would not be.
      for (int idx = tid; idx < kKeyTile * dim; idx += kThreads) {
        int jj = idx / dim, d = idx - jj * dim;
        float key = 0.0f, value = 0.0f;
        if (jj < keys) {
          int64_t offset =
              rowOffset(kvRowBase + j0 + jj, a.kvHeads, kvHead, dim) + d;
          key = a.k[offset];
          value = a.v[offset];
        }
        kTile[jj * keyStride + d] = key;
        vTile[jj * dim + d] = value;
      }
      __syncthreads(); // kTile and vTile are complete

      // Scores of key j0 + lane against the warp's rows.
      float score[kRowsPerWarp];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r)
        score[r] = 0.0f;
      const float *keyRow = kTile + lane * keyStride;
      const float *queryRows = qTile + warp * kRowsPerWarp * dim;
      for (int d = 0; d < dim; ++d) {
        float key = keyRow[d];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
          score[r] += queryRows[r * dim + d] * key;
      }

      // Online softmax; score[] becomes the probabilities.
      const int64_t j = j0 + lane;
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        bool allowed = valid[r] && lane < keys &&
                       (j < spans[r].headHi ||
                        (spans[r].tailLo <= j && j < spans[r].tailHi));
        float s = allowed ? score[r] * a.scale : -INFINITY;
        float newMax = fmaxf(m[r], warpMax(s));
        float p = 0.0f, rescale = 1.0f;
        // Uniform over the warp: newMax and m[r] are.
        if (newMax != -INFINITY) {
          p = allowed ? expf(s - newMax) : 0.0f;
          rescale = m[r] == -INFINITY ? 0.0f : expf(m[r] - newMax);
        }
        l[r] = l[r] * rescale + warpSum(p);
        m[r] = newMax;
#pragma unroll
        for (int c = 0; c < kCols; ++c)
          acc[r][c] *= rescale;
        score[r] = p;
      }

      // acc += P . V, lane j's probabilities broadcast to the warp.
      for (int jj = 0; jj < keys; ++jj) {
        float p[kRowsPerWarp];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
          p[r] = __shfl_sync(kFullMask, score[r], jj);
        const float *valueRow = vTile + jj * dim;
#pragma unroll
        for (int c = 0; c < kCols; ++c) {
          int d = lane + c * kWarpSize;
          float value = d < dim ? valueRow[d] : 0.0f;
#pragma unroll
          for (int r = 0; r < kRowsPerWarp; ++r)
            acc[r][c] += p[r] * value;
        }
      }
      __syncthreads(); // done with kTile and vTile before the next load
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    if (!valid[r])
      continue;
    // A row with no allowed key has l = 0 and gets zeros.
    float inverse = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    float *outRow = a.out + rowOffset(b * a.qLen + q0 + warp * kRowsPerWarp + r,
                                      a.heads, h, dim);
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      int d = lane + c * kWarpSize;
      if (d < dim)
        outRow[d] = acc[r][c] * inverse;
    }
  }
}

//===----------------------------------------------------------------------===//
// Split-KV decode
//===----------------------------------------------------------------------===//

/// Floats of the decode kernel's shared memory: the query, then per warp
/// its accumulator and (max, sum).
size_t decodeSharedFloats(int64_t headDim) {
  return size_t(headDim) * (1 + kWarps) + 2 * kWarps;
}

/// Partial results of the decode kernel in scratch: `partials` (max, sum)
/// pairs, then `partials` accumulators of headDim floats.
size_t scratchFloats(int64_t partials, int64_t headDim) {
  return size_t(partials) * (2 + size_t(headDim));
}

/// The query row, head and batch entry of flattened row `row` of `a`.
__device__ inline QueryRow queryRow(const Args &a, int64_t row) {
  return tvc::runtime::cuda::queryRow(row, a.qLen, a.heads);
}

/// One block: chunk `chunk` of the allowed keys of one query row, with
/// blockIdx.x = row * chunks + chunk. Writes the output when chunks == 1,
/// else a partial. kCols * 32 >= headDim.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    decodeKernel(Args a, int64_t chunks, int64_t chunkKeys, float *scratch) {
  extern __shared__ float shared[];
  const int dim = int(a.headDim);
  float *query = shared;                     // [dim]
  float *warpAcc = query + dim;              // [kWarps][dim]
  float *warpStats = warpAcc + kWarps * dim; // [kWarps][2]: max, sum

  const int64_t partial = blockIdx.x;
  const int64_t chunk = partial % chunks;
  const QueryRow row = queryRow(a, partial / chunks);
  const int64_t kvHead = row.h / a.group;
  const Spans spans = keySpans(a.mask, a.kvLen - a.qLen + row.i);
  const int64_t count = keyCount(spans);
  const int64_t begin = chunk * chunkKeys;
  const int64_t end = min(count, begin + chunkKeys);
  const int tid = threadIdx.x, warp = tid / kWarpSize, lane = tid % kWarpSize;

  const int64_t queryRowIndex = row.b * a.qLen + row.i;
  for (int d = tid; d < dim; d += kThreads)
    query[d] = a.q[rowOffset(queryRowIndex, a.heads, row.h, dim) + d];
  __syncthreads(); // query is complete

  float q[kCols], acc[kCols];
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    int d = lane + c * kWarpSize;
    q[c] = d < dim ? query[d] : 0.0f;
    acc[c] = 0.0f;
  }
  // Uniform over the warp, like the loop bounds.
  float m = -INFINITY, l = 0.0f;
  for (int64_t idx = begin + warp; idx < end; idx += kWarps) {
    // The idx-th allowed key: the global prefix, then the local span.
    int64_t j = idx < spans.headHi ? idx : spans.tailLo + (idx - spans.headHi);
    int64_t offset =
        rowOffset(row.b * a.kvCapacity + j, a.kvHeads, kvHead, dim);
    const float *keyRow = a.k + offset;
    const float *valueRow = a.v + offset;
    float dot = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      int d = lane + c * kWarpSize;
      if (d < dim)
        dot += q[c] * keyRow[d];
    }
    float s = warpSum(dot) * a.scale;
    float newMax = fmaxf(m, s);
    float rescale = m == -INFINITY ? 0.0f : expf(m - newMax);
    float p = expf(s - newMax);
    l = l * rescale + p;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      int d = lane + c * kWarpSize;
      acc[c] = acc[c] * rescale + (d < dim ? p * valueRow[d] : 0.0f);
    }
    m = newMax;
  }

  // Merge the warps.
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    int d = lane + c * kWarpSize;
    if (d < dim)
      warpAcc[warp * dim + d] = acc[c];
  }
  if (lane == 0) {
    warpStats[2 * warp] = m;
    warpStats[2 * warp + 1] = l;
  }
  __syncthreads(); // warpAcc and warpStats are complete

  float blockMax = -INFINITY;
  for (int w = 0; w < kWarps; ++w)
    blockMax = fmaxf(blockMax, warpStats[2 * w]);
  float weight[kWarps];
  float blockSum = 0.0f;
  for (int w = 0; w < kWarps; ++w) {
    // A warp that saw no key has max -inf and weight 0.
    float warpMaxValue = warpStats[2 * w];
    weight[w] =
        warpMaxValue == -INFINITY ? 0.0f : expf(warpMaxValue - blockMax);
    blockSum += warpStats[2 * w + 1] * weight[w];
  }
  if (chunks == 1) {
    float inverse = blockSum > 0.0f ? 1.0f / blockSum : 0.0f;
    float *outRow = a.out + rowOffset(queryRowIndex, a.heads, row.h, dim);
    for (int d = tid; d < dim; d += kThreads) {
      float sum = 0.0f;
      for (int w = 0; w < kWarps; ++w)
        sum += weight[w] * warpAcc[w * dim + d];
      outRow[d] = sum * inverse;
    }
    return;
  }
  float *stats = scratch + 2 * partial;
  float *partialAcc = scratch + 2 * int64_t(gridDim.x) + partial * dim;
  for (int d = tid; d < dim; d += kThreads) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w)
      sum += weight[w] * warpAcc[w * dim + d];
    partialAcc[d] = sum;
  }
  if (tid == 0) {
    stats[0] = blockMax;
    stats[1] = blockSum;
  }
}

/// One block per query row (blockIdx.x, as in decodeKernel): merges its
/// `chunks` partials out of `partials` in scratch into the output.
__global__ void __launch_bounds__(kThreads)
    combineKernel(Args a, int64_t chunks, int64_t partials,
                  const float *scratch) {
  const int dim = int(a.headDim);
  const QueryRow row = queryRow(a, blockIdx.x);
  const float *stats = scratch + 2 * int64_t(blockIdx.x) * chunks;
  const float *partialAcc =
      scratch + 2 * partials + int64_t(blockIdx.x) * chunks * dim;
  float maximum = -INFINITY;
  for (int64_t c = 0; c < chunks; ++c)
    maximum = fmaxf(maximum, stats[2 * c]);
  float sum = 0.0f;
  for (int64_t c = 0; c < chunks; ++c)
    if (stats[2 * c] != -INFINITY)
      sum += stats[2 * c + 1] * expf(stats[2 * c] - maximum);
  float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
  float *outRow =
      a.out + rowOffset(row.b * a.qLen + row.i, a.heads, row.h, dim);
  for (int d = threadIdx.x; d < dim; d += kThreads) {
    float value = 0.0f;
    for (int64_t c = 0; c < chunks; ++c)
      if (stats[2 * c] != -INFINITY)
        value += expf(stats[2 * c] - maximum) * partialAcc[c * dim + d];
    outRow[d] = value * inverse;
  }
}

//===----------------------------------------------------------------------===//
// Host side
//===----------------------------------------------------------------------===//

/// tvc_kernel_attention_f32's checks, every kind (0-8).
bool validArguments(const tvc_attention_f32_params_t *params) {
  return tvc::runtime::validAttentionArguments(params, TVC_MASK_ALISA,
                                               /*withState=*/false);
}

/// Launches the flash kernel with kCols columns per lane.
template <int kCols>
tvc_status_t launchFlash(const Args &args, int64_t batch, cudaStream_t stream) {
  int64_t queryTiles = (args.qLen + kQueryTile - 1) / kQueryTile;
  int64_t blocks = queryTiles * args.heads * batch;
  // Grid x is at most 2^31 - 1 blocks.
  if (blocks > std::numeric_limits<int32_t>::max())
    return TVC_INVALID_ARGUMENT;
  size_t bytes = flashSharedFloats(args.headDim) * sizeof(float);
  if (bytes > kDefaultSharedBytes) {
    tvc_status_t status = toStatus(cudaFuncSetAttribute(
        flashKernel<kCols>, cudaFuncAttributeMaxDynamicSharedMemorySize,
        int(bytes)));
    if (status != TVC_OK)
      return status;
  }
  flashKernel<kCols>
      <<<unsigned(blocks), kThreads, bytes, stream>>>(args, queryTiles);
  return toStatus(cudaGetLastError());
}

/// Launches the split-KV decode (and combine) kernels.
template <int kCols>
tvc_status_t launchDecode(const Args &args, int64_t batch,
                          ThreadContext &context, cudaStream_t stream) {
  int64_t maxKeys = 0;
  for (int64_t i = 0; i < args.qLen; ++i)
    maxKeys = std::max(
        maxKeys, keyCount(keySpans(args.mask, args.kvLen - args.qLen + i)));
  // Enough chunks for about two blocks per multiprocessor, each of at least
  // kMinChunkKeys keys, at most kMaxChunks per row.
  int64_t rows = batch * args.heads * args.qLen;
  int64_t wantedBlocks = 2 * int64_t(std::max(context.multiprocessors(), 1));
  int64_t wantedChunks = (wantedBlocks + rows - 1) / rows;
  int64_t chunkKeys =
      std::max(kMinChunkKeys, (maxKeys + wantedChunks - 1) / wantedChunks);
  chunkKeys = std::max(chunkKeys, (maxKeys + kMaxChunks - 1) / kMaxChunks);
  int64_t chunks = std::max<int64_t>(1, (maxKeys + chunkKeys - 1) / chunkKeys);
  int64_t partials = rows * chunks;
  if (partials > std::numeric_limits<int32_t>::max())
    return TVC_INVALID_ARGUMENT;

  float *scratch = nullptr;
  if (chunks > 1) {
    void *pointer = nullptr;
    tvc_status_t status = context.scratch(
        scratchFloats(partials, args.headDim) * sizeof(float), &pointer);
    if (status != TVC_OK)
      return status;
    scratch = static_cast<float *>(pointer);
  }
  size_t bytes = decodeSharedFloats(args.headDim) * sizeof(float);
  decodeKernel<kCols><<<unsigned(partials), kThreads, bytes, stream>>>(
      args, chunks, chunkKeys, scratch);
  tvc_status_t status = toStatus(cudaGetLastError());
  if (status != TVC_OK || chunks == 1)
    return status;
  combineKernel<<<unsigned(rows), kThreads, 0, stream>>>(args, chunks, partials,
                                                         scratch);
  return toStatus(cudaGetLastError());
}

template <int kCols>
tvc_status_t launch(const Args &args, int64_t batch, ThreadContext &context,
                    cudaStream_t stream) {
  if (args.qLen <= kDecodeMaxQueries)
    return launchDecode<kCols>(args, batch, context, stream);
  return launchFlash<kCols>(args, batch, stream);
}

} // namespace

extern "C" tvc_status_t
tvc_cuda_kernel_attention_f32(const tvc_attention_f32_params_t *params) {
  if (!validArguments(params))
    return TVC_INVALID_ARGUMENT;
  if (params->mask_kind >= TVC_MASK_TOP_K)
    return tvc::runtime::cuda::sparseAttention(*params, /*state=*/nullptr);
  const tvc_attention_f32_params_t &p = *params;
  if (p.batch == 0 || p.q_len == 0 || p.head_dim == 0)
    return TVC_OK;

  Args args;
  args.q = p.q;
  args.k = p.k;
  args.v = p.v;
  args.out = p.out;
  args.qLen = p.q_len;
  args.kvLen = p.kv_len;
  args.kvCapacity = p.kv_capacity;
  args.heads = p.heads;
  args.kvHeads = p.kv_heads;
  args.headDim = p.head_dim;
  args.group = p.heads / p.kv_heads;
  args.mask = {p.mask_kind, p.window, p.global, p.block, p.kv_len};
  args.scale = float(p.scale);

  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  return tvc::runtime::cuda::withThreadContext(
      stream, [&](ThreadContext &context) {
        if (p.head_dim <= 2 * kWarpSize)
          return launch<2>(args, p.batch, context, stream);
        if (p.head_dim <= 4 * kWarpSize)
          return launch<4>(args, p.batch, context, stream);
        return launch<8>(args, p.batch, context, stream);
      });
}
