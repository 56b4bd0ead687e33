//===- SparseAttention.cu - CUDA attention for data-dependent masks -------===//
//
// tvc_kernel_attention_f32's mask kinds 5-8 on CUDA, with the CPU kernel's
// exact selection rules (runtime/kernels/cpu/Attention.cpp): which keys a
// query sees depends on scores, so these kernels are written for
// correctness and a bounded scratch first, not for speed. One block of 128
// threads (4 warps) per unit of work; a warp computes one dot product at a
// time (lanes over head_dim, then a shuffle sum) and softmax is fp32 with
// the CPU kernel's exp (expNonPositive, the same clamp at -87), so weights
// that underflow agree too.
//  - Top-k (5): a block per query row writes the scores of its causal keys
//    to scratch, selects the top_k by a radix select over order-preserving
//    integer keys of the floats (4 passes of 8 bits; -0 counts as +0, like a
//    float comparison), keeps the scores above the threshold and the
//    lowest-indexed ties up to top_k (an ordered block scan), then runs
//    softmax and P.V over the kept keys.
//  - Block top-k (6): poolKernel computes each block's mean key (summed in
//    key order, then divided, as the CPU does); a block per query row scores
//    the blocks before its own, selects top_k of them the same way (ties to
//    the lower block) and attends to their keys and its own block's causal
//    keys.
//  - Vertical-slash (7): a block per (batch entry, query head) estimates
//    the pattern from the call's last rows, one row after the other (double
//    sums per column and per diagonal offset, in row order like the CPU),
//    forces the first columns and offsets, and selects both with the same
//    radix select over 64-bit keys of the doubles; then a block per query
//    row attends to its kept causal keys.
//  - ALISA (8): rows of one (batch entry, query head) depend on the rows
//    before them, so a block takes one pair and walks its rows in order,
//    keeping the heavy set (keys, accumulated weights) and the window's
//    weights in scratch and, for the state entry, reading and writing the
//    state as tvc_kernel_attention_state_f32 does.
// Work is cut into launches whose scratch (ThreadContext's, which only
// grows) stays under kScratchBudget, at least one row or pair per launch.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/SparseAttention.h"

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
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
constexpr int kMaxDim = TVC_ATTENTION_MAX_HEAD_DIM;
/// Scratch one call's launches may use (a launch takes at least one row or
/// pair even when that needs more).
constexpr size_t kScratchBudget = size_t(64) << 20;
/// Blocks of one launch, well below the 2^31 - 1 of a grid's x.
constexpr int64_t kMaxBlocks = int64_t(1) << 24;

/// A validated call.
struct Problem {
  const float *q, *k, *v;
  float *out;
  float *state; // ALISA's, or null
  int64_t batch, qLen, kvLen, kvCapacity, heads, kvHeads, headDim, group;
  int64_t window, block, topK, vertical, slash, lastQueries;
  float scale;
};

//===----------------------------------------------------------------------===//
// Device helpers
//===----------------------------------------------------------------------===//

/// min and max of 64-bit integers in device code.
__host__ __device__ inline int64_t minI64(int64_t a, int64_t b) {
  return a < b ? a : b;
}
__host__ __device__ inline int64_t maxI64(int64_t a, int64_t b) {
  return a > b ? a : b;
}

/// The maximum of `value` over the block, in every thread.
__device__ inline float blockMax(float value) {
  __shared__ float partial[kWarps];
  value = warpMax(value);
  if (threadIdx.x % kWarpSize == 0)
    partial[threadIdx.x / kWarpSize] = value;
  __syncthreads();
  float result = partial[0];
  for (int w = 1; w < kWarps; ++w)
    result = fmaxf(result, partial[w]);
  __syncthreads(); // partial is free again
  return result;
}

/// The sum of `value` over the block, in every thread.
__device__ inline float blockSum(float value) {
  __shared__ float partial[kWarps];
  value = warpSum(value);
  if (threadIdx.x % kWarpSize == 0)
    partial[threadIdx.x / kWarpSize] = value;
  __syncthreads();
  float result = 0.0f;
  for (int w = 0; w < kWarps; ++w)
    result += partial[w];
  __syncthreads(); // partial is free again
  return result;
}

/// exp(x) for x <= 0 as the CPU kernel computes it (expNonPositive in
/// cpu/Attention.cpp): inputs below -87 clamped, Cody-Waite reduction, the
/// Cephes polynomial, 2^n built in the exponent bits.
__device__ inline float expNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float shifter = 12582912.0f;
  float shifted = x * 1.44269504088896341f + shifter;
  float n = shifted - shifter;
  int exponent = __float_as_int(shifted) - 0x4B400000;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  poly = poly * r * r + r + 1.0f;
  return poly * __int_as_float((exponent + 127) << 23);
}

/// Unsigned keys that order like the numbers (for finite values and
/// infinities): the sign bit flipped for positives, every bit for negatives.
/// Callers map -0 to +0 first, since the float comparison ties them.
__device__ inline uint32_t orderKey(float value) {
  uint32_t bits = __float_as_uint(value);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
__device__ inline uint64_t orderKey(double value) {
  uint64_t bits = uint64_t(__double_as_longlong(value));
  return (bits >> 63) ? ~bits : (bits | (uint64_t(1) << 63));
}

/// A score as stored for selection: -0 becomes +0.
__device__ inline float canonical(float score) {
  return score == 0.0f ? 0.0f : score;
}

/// query[0, dim) . key[0, dim), summed over the lanes of a warp; the same in
/// every lane.
__device__ inline float warpDot(const float *query, const float *key, int dim,
                                int lane) {
  float sum = 0.0f;
  for (int d = lane; d < dim; d += kWarpSize)
    sum += query[d] * key[d];
  return warpSum(sum);
}

/// Row j of K or V of batch entry b and KV head `kvHead`.
__device__ inline const float *kvRow(const Problem &p, const float *base,
                                     int64_t b, int64_t j, int64_t kvHead) {
  return base + ((b * p.kvCapacity + j) * p.kvHeads + kvHead) * p.headDim;
}

/// Offset of query row i, head h of batch entry b in q and out.
__device__ inline int64_t queryOffset(const Problem &p, int64_t b, int64_t i,
                                      int64_t h) {
  return ((b * p.qLen + i) * p.heads + h) * p.headDim;
}

/// Loads query row (b, i, h) times scale into `query` (the CPU kernel scales
/// the query, not the scores); the caller synchronises.
__device__ inline void loadQuery(const Problem &p, int64_t b, int64_t i,
                                 int64_t h, float *query) {
  const float *source = p.q + queryOffset(p, b, i, h);
  for (int d = threadIdx.x; d < p.headDim; d += blockDim.x)
    query[d] = source[d] * p.scale;
}

/// The result of selectLargest: an item with key `key` at index i is kept
/// when all are, when key > threshold, or when key == threshold and
/// i <= cutoff.
template <typename Key> struct Selection {
  bool all;
  Key threshold;
  int64_t cutoff;
  __device__ bool keeps(Key key, int64_t index) const {
    return all || key > threshold || (key == threshold && index <= cutoff);
  }
};

/// Selects the min(k, n) items of [0, n) with the largest keys `load(i)`,
/// ties towards the lower index (k >= 1), over the whole block; every
/// thread gets the same result. A radix select, 8 bits per pass from the
/// top, finds the k-th largest key; then an ordered scan finds the index of
/// the last tie that is kept. `load` reads memory the block wrote before a
/// __syncthreads.
template <typename Key, typename Load>
__device__ Selection<Key> selectLargest(int64_t n, int64_t k, Load load) {
  Selection<Key> selection{true, Key(0), n};
  if (n <= k)
    return selection;
  __shared__ unsigned long long histogram[256];
  __shared__ int chosenDigit;
  __shared__ long long chosenAbove, cutoffIndex;
  __shared__ unsigned warpCounts[kWarps];
  const int tid = threadIdx.x, warp = tid / kWarpSize, lane = tid % kWarpSize;

  Key prefix = 0, prefixMask = 0;
  // The rank (from 1, largest first) of the wanted key among the keys that
  // match the prefix so far.
  int64_t remaining = k;
  for (int shift = int(sizeof(Key)) * 8 - 8; shift >= 0; shift -= 8) {
    for (int i = tid; i < 256; i += kThreads)
      histogram[i] = 0;
    __syncthreads();
    for (int64_t i = tid; i < n; i += kThreads) {
      Key key = load(i);
      if ((key & prefixMask) == prefix)
        atomicAdd(&histogram[int(key >> shift) & 0xff], 1ull);
    }
    __syncthreads();
    if (tid == 0) {
      // The digit holding the wanted key: the larger digits hold fewer
      // than `remaining` keys, with it at least that many.
      long long above = 0;
      int digit = 255;
      for (; digit > 0; --digit) {
        long long count = (long long)histogram[digit];
        if (above + count >= remaining)
          break;
        above += count;
      }
      chosenDigit = digit;
      chosenAbove = above;
    }
    __syncthreads();
    prefix |= Key(chosenDigit) << shift;
    prefixMask |= Key(0xff) << shift;
    remaining -= chosenAbove;
    __syncthreads(); // every thread read chosenDigit before the next pass
  }
  selection.all = false;
  selection.threshold = prefix;

  // `remaining` ties of the threshold are kept, the lowest-indexed: find the
  // index of the last one, a block of indices at a time.
  int64_t need = remaining;
  cutoffIndex = -1;
  for (int64_t base = 0; base < n; base += kThreads) {
    int64_t i = base + tid;
    bool tie = i < n && load(i) == prefix;
    unsigned ballot = __ballot_sync(kFullMask, tie);
    if (lane == 0)
      warpCounts[warp] = __popc(ballot);
    __syncthreads();
    int64_t before = __popc(ballot & ((1u << lane) - 1)), total = 0;
    for (int w = 0; w < kWarps; ++w) {
      if (w < warp)
        before += warpCounts[w];
      total += warpCounts[w];
    }
    if (tie && before == need - 1)
      cutoffIndex = i;
    __syncthreads(); // warpCounts read, cutoffIndex written
    need -= total;
    if (need <= 0)
      break;
  }
  selection.cutoff = cutoffIndex;
  __syncthreads(); // cutoffIndex read before another selection
  return selection;
}

/// One warp's share of a softmax row: running max m, sum l and the
/// unnormalised output (columns lane + 32 c), the same m and l in every
/// lane.
template <int kCols> struct WarpSoftmax {
  float m, l, acc[kCols];

  __device__ void init() {
    m = -INFINITY;
    l = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c)
      acc[c] = 0.0f;
  }

  /// Adds a key with score s and value row `value`.
  __device__ void add(float s, const float *value, int dim, int lane) {
    float newMax = fmaxf(m, s);
    float rescale = m == -INFINITY ? 0.0f : expNonPositive(m - newMax);
    float p = expNonPositive(s - newMax);
    l = l * rescale + p;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      int d = lane + c * kWarpSize;
      acc[c] = acc[c] * rescale + (d < dim ? p * value[d] : 0.0f);
    }
    m = newMax;
  }
};

/// Merges the warps' softmax rows and writes out[0, dim) (zeros when no
/// warp saw a key).
template <int kCols>
__device__ void writeRow(const WarpSoftmax<kCols> &row, float *out, int dim) {
  __shared__ float warpAcc[kWarps][kMaxDim];
  __shared__ float warpStats[kWarps][2];
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    int d = lane + c * kWarpSize;
    if (d < dim)
      warpAcc[warp][d] = row.acc[c];
  }
  if (lane == 0) {
    warpStats[warp][0] = row.m;
    warpStats[warp][1] = row.l;
  }
  __syncthreads();
  float maximum = -INFINITY;
  for (int w = 0; w < kWarps; ++w)
    maximum = fmaxf(maximum, warpStats[w][0]);
  float weight[kWarps], sum = 0.0f;
  for (int w = 0; w < kWarps; ++w) {
    weight[w] = warpStats[w][0] == -INFINITY
                    ? 0.0f
                    : expNonPositive(warpStats[w][0] - maximum);
    sum += warpStats[w][1] * weight[w];
  }
  float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
  for (int d = threadIdx.x; d < dim; d += kThreads) {
    float value = 0.0f;
    for (int w = 0; w < kWarps; ++w)
      value += weight[w] * warpAcc[w][d];
    out[d] = value * inverse;
  }
  __syncthreads(); // warpAcc is free again
}

/// The query row, head and batch entry of flattened row `row` of `p`.
__device__ inline QueryRow rowIndex(const Problem &p, int64_t row) {
  return tvc::runtime::cuda::queryRow(row, p.qLen, p.heads);
}

//===----------------------------------------------------------------------===//
// Top-k (5)
//===----------------------------------------------------------------------===//

/// One block per query row firstRow + blockIdx.x; `scratch` holds kv_len
/// scores per block.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    topKKernel(Problem p, int64_t firstRow, float *scratch) {
  __shared__ float query[kMaxDim];
  const QueryRow row = rowIndex(p, firstRow + blockIdx.x);
  const int dim = int(p.headDim);
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int64_t kvHead = row.h / p.group;
  const int64_t keys = p.kvLen - p.qLen + row.i + 1; // causal: j <= pos
  float *scores = scratch + int64_t(blockIdx.x) * p.kvLen;
  loadQuery(p, row.b, row.i, row.h, query);
  __syncthreads();
  for (int64_t j = warp; j < keys; j += kWarps) {
    float s = warpDot(query, kvRow(p, p.k, row.b, j, kvHead), dim, lane);
    if (lane == 0)
      scores[j] = canonical(s);
  }
  __syncthreads();
  Selection<uint32_t> selection = selectLargest<uint32_t>(
      keys, p.topK, [&](int64_t j) { return orderKey(scores[j]); });
  WarpSoftmax<kCols> softmax;
  softmax.init();
  for (int64_t j = warp; j < keys; j += kWarps) {
    float s = scores[j];
    if (selection.keeps(orderKey(s), j))
      softmax.add(s, kvRow(p, p.v, row.b, j, kvHead), dim, lane);
  }
  writeRow(softmax, p.out + queryOffset(p, row.b, row.i, row.h), dim);
}

//===----------------------------------------------------------------------===//
// Block top-k (6)
//===----------------------------------------------------------------------===//

/// pooled[b][kvHead][blk][d] = mean of K rows [blk * block, (blk + 1) *
/// block), summed in key order and divided by block, as the CPU does.
__global__ void __launch_bounds__(kThreads)
    poolKernel(Problem p, int64_t pooledBlocks, float *pooled) {
  const int64_t total = p.batch * p.kvHeads * pooledBlocks * p.headDim;
  for (int64_t idx = int64_t(blockIdx.x) * kThreads + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * kThreads) {
    int64_t d = idx % p.headDim, rest = idx / p.headDim;
    int64_t blk = rest % pooledBlocks;
    rest /= pooledBlocks;
    int64_t kvHead = rest % p.kvHeads, b = rest / p.kvHeads;
    float sum = 0.0f;
    for (int64_t j = blk * p.block; j < (blk + 1) * p.block; ++j)
      sum += kvRow(p, p.k, b, j, kvHead)[d];
    pooled[idx] = sum / float(p.block);
  }
}

/// One block per query row firstRow + blockIdx.x; `scratch` holds
/// max(pooledBlocks, 1) block scores per block.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    blockTopKKernel(Problem p, int64_t firstRow, const float *pooled,
                    int64_t pooledBlocks, float *scratch) {
  __shared__ float query[kMaxDim];
  const QueryRow row = rowIndex(p, firstRow + blockIdx.x);
  const int dim = int(p.headDim);
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int64_t kvHead = row.h / p.group;
  const int64_t pos = p.kvLen - p.qLen + row.i;
  const int64_t own = pos / p.block; // the blocks before the query's
  float *scores = scratch + int64_t(blockIdx.x) * maxI64(pooledBlocks, 1);
  const float *means =
      pooled + (row.b * p.kvHeads + kvHead) * pooledBlocks * p.headDim;
  loadQuery(p, row.b, row.i, row.h, query);
  __syncthreads();
  for (int64_t blk = warp; blk < own; blk += kWarps) {
    float s = warpDot(query, means + blk * p.headDim, dim, lane);
    if (lane == 0)
      scores[blk] = canonical(s);
  }
  __syncthreads();
  Selection<uint32_t> selection = selectLargest<uint32_t>(
      own, p.topK, [&](int64_t blk) { return orderKey(scores[blk]); });
  WarpSoftmax<kCols> softmax;
  softmax.init();
  auto attend = [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo + warp; j < hi; j += kWarps) {
      float s = warpDot(query, kvRow(p, p.k, row.b, j, kvHead), dim, lane);
      softmax.add(s, kvRow(p, p.v, row.b, j, kvHead), dim, lane);
    }
  };
  for (int64_t blk = 0; blk < own; ++blk)
    if (selection.keeps(orderKey(scores[blk]), blk))
      attend(blk * p.block, (blk + 1) * p.block);
  attend(own * p.block, pos + 1);
  writeRow(softmax, p.out + queryOffset(p, row.b, row.i, row.h), dim);
}

//===----------------------------------------------------------------------===//
// Vertical-slash (7)
//===----------------------------------------------------------------------===//

/// Per (batch entry, query head) pair of a launch: the estimation's sums
/// and scores, and the kept flags of columns and offsets, kv_len each.
struct PatternScratch {
  double *columnSums, *offsetSums;
  float *scores;
  uint8_t *columnKept, *offsetKept;
};

/// One block per pair firstPair + blockIdx.x (b * heads + h): the pattern of
/// TVC_MASK_VERTICAL_SLASH from the call's last min(last_queries, q_len)
/// rows, into the flags of slot blockIdx.x.
__global__ void __launch_bounds__(kThreads)
    estimateKernel(Problem p, int64_t firstPair, PatternScratch s) {
  __shared__ float query[kMaxDim];
  const int64_t slot = blockIdx.x, pair = firstPair + slot;
  const int64_t b = pair / p.heads, h = pair % p.heads, kvHead = h / p.group;
  const int dim = int(p.headDim), tid = threadIdx.x;
  const int warp = tid / kWarpSize, lane = tid % kWarpSize;
  const int64_t n = p.kvLen, firstPos = p.kvLen - p.qLen;
  double *columnSums = s.columnSums + slot * n;
  double *offsetSums = s.offsetSums + slot * n;
  float *scores = s.scores + slot * n;
  for (int64_t j = tid; j < n; j += kThreads)
    columnSums[j] = offsetSums[j] = 0.0;
  const int64_t estimated = minI64(p.lastQueries, p.qLen);
  for (int64_t i = p.qLen - estimated; i < p.qLen; ++i) {
    const int64_t pos = firstPos + i;
    __syncthreads(); // the previous row is done with query and scores
    loadQuery(p, b, i, h, query);
    __syncthreads();
    for (int64_t j = warp; j <= pos; j += kWarps) {
      float score = warpDot(query, kvRow(p, p.k, b, j, kvHead), dim, lane);
      if (lane == 0)
        scores[j] = score;
    }
    __syncthreads();
    float maximum = -INFINITY;
    for (int64_t j = tid; j <= pos; j += kThreads)
      maximum = fmaxf(maximum, scores[j]);
    maximum = blockMax(maximum);
    float sum = 0.0f;
    for (int64_t j = tid; j <= pos; j += kThreads) {
      float weight = expNonPositive(scores[j] - maximum);
      scores[j] = weight;
      sum += weight;
    }
    // Each thread reads back only the weights it wrote.
    double inverse = 1.0 / double(blockSum(sum));
    for (int64_t j = tid; j <= pos; j += kThreads) {
      double weight = double(scores[j]) * inverse;
      columnSums[j] += weight;
      offsetSums[pos - j] += weight;
    }
  }
  __syncthreads();
  // The first columns and the most recent diagonals are always kept.
  const int64_t forcedColumns = minI64(n, minI64(4, (p.vertical + 1) / 2));
  const int64_t forcedOffsets = minI64(n, minI64(64, (p.slash + 1) / 2));
  for (int64_t j = tid; j < forcedColumns; j += kThreads)
    columnSums[j] = INFINITY;
  for (int64_t o = tid; o < forcedOffsets; o += kThreads)
    offsetSums[o] = INFINITY;
  __syncthreads();
  Selection<uint64_t> columns = selectLargest<uint64_t>(
      n, p.vertical, [&](int64_t j) { return orderKey(columnSums[j]); });
  Selection<uint64_t> offsets = selectLargest<uint64_t>(
      n, p.slash, [&](int64_t o) { return orderKey(offsetSums[o]); });
  for (int64_t j = tid; j < n; j += kThreads) {
    s.columnKept[slot * n + j] = columns.keeps(orderKey(columnSums[j]), j);
    s.offsetKept[slot * n + j] = offsets.keeps(orderKey(offsetSums[j]), j);
  }
}

/// One block per query row blockIdx.x of the launch's pairs (pair
/// firstPair + blockIdx.x / q_len): softmax and P.V over the causal keys
/// that are a kept column or on a kept diagonal.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    verticalSlashKernel(Problem p, int64_t firstPair, PatternScratch s) {
  __shared__ float query[kMaxDim];
  const int64_t slot = blockIdx.x / p.qLen, i = blockIdx.x % p.qLen;
  const int64_t pair = firstPair + slot;
  const int64_t b = pair / p.heads, h = pair % p.heads, kvHead = h / p.group;
  const int dim = int(p.headDim);
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int64_t pos = p.kvLen - p.qLen + i;
  const uint8_t *columnKept = s.columnKept + slot * p.kvLen;
  const uint8_t *offsetKept = s.offsetKept + slot * p.kvLen;
  loadQuery(p, b, i, h, query);
  __syncthreads();
  WarpSoftmax<kCols> softmax;
  softmax.init();
  for (int64_t j = warp; j <= pos; j += kWarps) {
    if (!columnKept[j] && !offsetKept[pos - j])
      continue;
    float score = warpDot(query, kvRow(p, p.k, b, j, kvHead), dim, lane);
    softmax.add(score, kvRow(p, p.v, b, j, kvHead), dim, lane);
  }
  writeRow(softmax, p.out + queryOffset(p, b, i, h), dim);
}

//===----------------------------------------------------------------------===//
// ALISA (8)
//===----------------------------------------------------------------------===//

/// Per pair of a launch: the heavy set's keys and accumulated weights
/// (`capacity` each), the window's weights by position mod `slots`, and one
/// row's scores and weights (capacity + slots).
struct AlisaScratch {
  int32_t *heavyKeys;
  float *heavyWeights, *windowWeights, *rowWeights;
  int64_t capacity, slots;
};

/// One block per pair firstPair + blockIdx.x (b * heads + h): its rows in
/// position order, as alisaItem in cpu/Attention.cpp. The heavy set is kept
/// unordered (an evicted key's slot takes the last one), so ties of the
/// eviction compare keys: the highest j goes.
__global__ void __launch_bounds__(kThreads)
    alisaKernel(Problem p, int64_t firstPair, AlisaScratch s) {
  __shared__ float query[kMaxDim];
  __shared__ unsigned warpCounts[kWarps];
  __shared__ float dropWeight[kWarps];
  __shared__ int dropKey[kWarps], dropIndex[kWarps];
  const int64_t slot = blockIdx.x, pair = firstPair + slot;
  const int64_t b = pair / p.heads, h = pair % p.heads, kvHead = h / p.group;
  const int dim = int(p.headDim), tid = threadIdx.x;
  const int warp = tid / kWarpSize, lane = tid % kWarpSize;
  const int64_t window = p.window, slots = s.slots;
  const int64_t firstPos = p.kvLen - p.qLen;
  int32_t *heavyKeys = s.heavyKeys + slot * s.capacity;
  float *heavyWeights = s.heavyWeights + slot * s.capacity;
  float *windowWeights = s.windowWeights + slot * slots;
  float *rowWeights = s.rowWeights + slot * (s.capacity + slots);
  float *state = p.state ? p.state + pair * p.kvCapacity : nullptr;

  for (int64_t j = tid; j < slots; j += kThreads)
    windowWeights[j] = 0.0f;
  __syncthreads();
  int64_t heavy = 0;
  if (state) {
    // The earlier calls' heavy set: keys older than the window that were
    // not evicted, ascending, at most top_k (an ordered compaction).
    const int64_t last = firstPos - window;
    for (int64_t base = 0; base <= last && heavy < p.topK; base += kThreads) {
      int64_t j = base + tid;
      bool live = j <= last && state[j] >= 0.0f;
      unsigned ballot = __ballot_sync(kFullMask, live);
      if (lane == 0)
        warpCounts[warp] = __popc(ballot);
      __syncthreads();
      int64_t before = __popc(ballot & ((1u << lane) - 1)), total = 0;
      for (int w = 0; w < kWarps; ++w) {
        if (w < warp)
          before += warpCounts[w];
        total += warpCounts[w];
      }
      if (live && heavy + before < p.topK) {
        heavyKeys[heavy + before] = int32_t(j);
        heavyWeights[heavy + before] = state[j];
      }
      heavy = minI64(heavy + total, p.topK);
      __syncthreads(); // warpCounts read
    }
    for (int64_t j = maxI64(0, firstPos - window + 1) + tid; j < firstPos;
         j += kThreads)
      windowWeights[j % slots] = state[j];
  }
  __syncthreads();

  for (int64_t pos = firstPos; pos < p.kvLen; ++pos) {
    const int64_t i = pos - firstPos;
    const int64_t lo = maxI64(0, pos - window + 1);
    const int64_t count = heavy + (pos - lo + 1);
    // The i-th key of this row: the heavy set, then the window.
    auto keyAt = [&](int64_t index) {
      return index < heavy ? int64_t(heavyKeys[index]) : lo + (index - heavy);
    };
    loadQuery(p, b, i, h, query);
    if (tid == 0)
      windowWeights[pos % slots] = 0.0f; // the new key
    __syncthreads();
    for (int64_t index = warp; index < count; index += kWarps) {
      float score =
          warpDot(query, kvRow(p, p.k, b, keyAt(index), kvHead), dim, lane);
      if (lane == 0)
        rowWeights[index] = score;
    }
    __syncthreads();
    float maximum = -INFINITY;
    for (int64_t index = tid; index < count; index += kThreads)
      maximum = fmaxf(maximum, rowWeights[index]);
    maximum = blockMax(maximum);
    float sum = 0.0f;
    for (int64_t index = tid; index < count; index += kThreads) {
      float weight = expNonPositive(rowWeights[index] - maximum);
      rowWeights[index] = weight;
      sum += weight;
    }
    sum = blockSum(sum); // also publishes the weights
    const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
    float *out = p.out + queryOffset(p, b, i, h);
    for (int d = tid; d < dim; d += kThreads) {
      float acc = 0.0f;
      for (int64_t index = 0; index < count; ++index)
        acc += rowWeights[index] * kvRow(p, p.v, b, keyAt(index), kvHead)[d];
      out[d] = acc * inverse;
    }
    __syncthreads(); // the unnormalised weights are read
    // Every key the row saw adds its softmax weight.
    for (int64_t index = tid; index < count; index += kThreads) {
      float weight = rowWeights[index] * inverse;
      if (index < heavy)
        heavyWeights[index] += weight;
      else
        windowWeights[keyAt(index) % slots] += weight;
    }
    __syncthreads();
    // The key leaving the window before the next row joins the heavy set.
    const int64_t leaving = pos + 1 - window;
    if (leaving < 0)
      continue;
    if (tid == 0) {
      heavyKeys[heavy] = int32_t(leaving);
      heavyWeights[heavy] = windowWeights[leaving % slots];
    }
    ++heavy;
    __syncthreads();
    if (heavy <= p.topK)
      continue;
    // Evict the smallest accumulated weight, ties: the highest key.
    float bestWeight = INFINITY;
    int bestKey = -1, bestIndex = -1;
    auto take = [&](float weight, int key, int index) {
      if (weight < bestWeight || (weight == bestWeight && key > bestKey)) {
        bestWeight = weight;
        bestKey = key;
        bestIndex = index;
      }
    };
    for (int64_t index = tid; index < heavy; index += kThreads)
      take(heavyWeights[index], heavyKeys[index], int(index));
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
      float weight = __shfl_xor_sync(kFullMask, bestWeight, offset);
      int key = __shfl_xor_sync(kFullMask, bestKey, offset);
      int index = __shfl_xor_sync(kFullMask, bestIndex, offset);
      take(weight, key, index);
    }
    if (lane == 0) {
      dropWeight[warp] = bestWeight;
      dropKey[warp] = bestKey;
      dropIndex[warp] = bestIndex;
    }
    __syncthreads();
    if (tid == 0) {
      for (int w = 0; w < kWarps; ++w)
        take(dropWeight[w], dropKey[w], dropIndex[w]);
      if (state)
        state[bestKey] = -1.0f;
      heavyKeys[bestIndex] = heavyKeys[heavy - 1];
      heavyWeights[bestIndex] = heavyWeights[heavy - 1];
    }
    --heavy;
    __syncthreads();
  }
  if (!state)
    return;
  // What the next call continues from: the heavy keys' and the window's
  // accumulated weights (evicted keys are -1 already).
  for (int64_t index = tid; index < heavy; index += kThreads)
    state[heavyKeys[index]] = heavyWeights[index];
  for (int64_t j = maxI64(0, p.kvLen - window + 1) + tid; j < p.kvLen;
       j += kThreads)
    state[j] = windowWeights[j % slots];
}

//===----------------------------------------------------------------------===//
// Host side
//===----------------------------------------------------------------------===//

/// Carves aligned arrays out of one scratch allocation.
class ScratchLayout {
public:
  /// Reserves `count` elements of T; returns their byte offset.
  template <typename T> size_t add(int64_t count) {
    size_t offset = bytes;
    bytes += (size_t(count) * sizeof(T) + 255) / 256 * 256;
    return offset;
  }
  size_t size() const { return bytes; }

private:
  size_t bytes = 0;
};

template <typename T> T *at(void *base, size_t offset) {
  return reinterpret_cast<T *>(static_cast<char *>(base) + offset);
}

/// How many units of `unitBytes` scratch one launch takes: as many as fit
/// in the budget, at least one, at most `units` and kMaxBlocks.
int64_t unitsPerLaunch(size_t unitBytes, int64_t units) {
  int64_t fit = int64_t(kScratchBudget / std::max<size_t>(unitBytes, 1));
  return std::max<int64_t>(1, std::min({fit, units, kMaxBlocks}));
}

tvc_status_t lastLaunchStatus() { return toStatus(cudaGetLastError()); }

template <int kCols>
tvc_status_t runTopK(const Problem &p, ThreadContext &context,
                     cudaStream_t stream) {
  const int64_t rows = p.batch * p.heads * p.qLen;
  const size_t rowBytes = size_t(p.kvLen) * sizeof(float);
  const int64_t perLaunch = unitsPerLaunch(rowBytes, rows);
  void *scratch = nullptr;
  tvc_status_t status = context.scratch(size_t(perLaunch) * rowBytes, &scratch);
  if (status != TVC_OK)
    return status;
  for (int64_t first = 0; first < rows; first += perLaunch) {
    int64_t blocks = std::min(perLaunch, rows - first);
    topKKernel<kCols><<<unsigned(blocks), kThreads, 0, stream>>>(
        p, first, static_cast<float *>(scratch));
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
  }
  return TVC_OK;
}

template <int kCols>
tvc_status_t runBlockTopK(const Problem &p, ThreadContext &context,
                          cudaStream_t stream) {
  // The blocks a query may select: those before the last query's block.
  const int64_t pooledBlocks = (p.kvLen - 1) / p.block;
  const int64_t rows = p.batch * p.heads * p.qLen;
  const int64_t rowFloats = std::max<int64_t>(pooledBlocks, 1);
  const int64_t perLaunch =
      unitsPerLaunch(size_t(rowFloats) * sizeof(float), rows);
  ScratchLayout layout;
  size_t pooledAt = layout.add<float>(
      std::max<int64_t>(1, p.batch * p.kvHeads * pooledBlocks * p.headDim));
  size_t scoresAt = layout.add<float>(perLaunch * rowFloats);
  void *scratch = nullptr;
  tvc_status_t status = context.scratch(layout.size(), &scratch);
  if (status != TVC_OK)
    return status;
  float *pooled = at<float>(scratch, pooledAt);
  int64_t means = p.batch * p.kvHeads * pooledBlocks * p.headDim;
  if (means > 0) {
    int64_t blocks =
        std::min<int64_t>((means + kThreads - 1) / kThreads, int64_t(1) << 16);
    poolKernel<<<unsigned(blocks), kThreads, 0, stream>>>(p, pooledBlocks,
                                                          pooled);
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
  }
  for (int64_t first = 0; first < rows; first += perLaunch) {
    int64_t blocks = std::min(perLaunch, rows - first);
    blockTopKKernel<kCols><<<unsigned(blocks), kThreads, 0, stream>>>(
        p, first, pooled, pooledBlocks, at<float>(scratch, scoresAt));
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
  }
  return TVC_OK;
}

template <int kCols>
tvc_status_t runVerticalSlash(const Problem &p, ThreadContext &context,
                              cudaStream_t stream) {
  const int64_t pairs = p.batch * p.heads;
  const size_t pairBytes =
      size_t(p.kvLen) * (2 * sizeof(double) + sizeof(float) + 2);
  // The rows of a launch's pairs are one launch too.
  const int64_t perLaunch = unitsPerLaunch(
      pairBytes, std::min(pairs, std::max<int64_t>(1, kMaxBlocks / p.qLen)));
  ScratchLayout layout;
  size_t columnSumsAt = layout.add<double>(perLaunch * p.kvLen);
  size_t offsetSumsAt = layout.add<double>(perLaunch * p.kvLen);
  size_t scoresAt = layout.add<float>(perLaunch * p.kvLen);
  size_t columnKeptAt = layout.add<uint8_t>(perLaunch * p.kvLen);
  size_t offsetKeptAt = layout.add<uint8_t>(perLaunch * p.kvLen);
  void *scratch = nullptr;
  tvc_status_t status = context.scratch(layout.size(), &scratch);
  if (status != TVC_OK)
    return status;
  PatternScratch s{
      at<double>(scratch, columnSumsAt), at<double>(scratch, offsetSumsAt),
      at<float>(scratch, scoresAt), at<uint8_t>(scratch, columnKeptAt),
      at<uint8_t>(scratch, offsetKeptAt)};
  for (int64_t first = 0; first < pairs; first += perLaunch) {
    int64_t count = std::min(perLaunch, pairs - first);
    estimateKernel<<<unsigned(count), kThreads, 0, stream>>>(p, first, s);
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
    verticalSlashKernel<kCols>
        <<<unsigned(count * p.qLen), kThreads, 0, stream>>>(p, first, s);
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
  }
  return TVC_OK;
}

tvc_status_t runAlisa(const Problem &p, ThreadContext &context,
                      cudaStream_t stream) {
  const int64_t pairs = p.batch * p.heads;
  // The heavy set never holds more than top_k + 1 keys, nor more keys than
  // exist; the window at most min(window, kv_len).
  const int64_t capacity = std::min(p.topK, p.kvLen) + 1;
  const int64_t slots = std::min(p.window, p.kvLen);
  const size_t pairBytes =
      size_t(capacity) * (sizeof(int32_t) + sizeof(float)) +
      size_t(slots) * sizeof(float) + size_t(capacity + slots) * sizeof(float);
  const int64_t perLaunch = unitsPerLaunch(pairBytes, pairs);
  ScratchLayout layout;
  size_t keysAt = layout.add<int32_t>(perLaunch * capacity);
  size_t heavyAt = layout.add<float>(perLaunch * capacity);
  size_t windowAt = layout.add<float>(perLaunch * slots);
  size_t rowAt = layout.add<float>(perLaunch * (capacity + slots));
  void *scratch = nullptr;
  tvc_status_t status = context.scratch(layout.size(), &scratch);
  if (status != TVC_OK)
    return status;
  AlisaScratch s{at<int32_t>(scratch, keysAt),
                 at<float>(scratch, heavyAt),
                 at<float>(scratch, windowAt),
                 at<float>(scratch, rowAt),
                 capacity,
                 slots};
  for (int64_t first = 0; first < pairs; first += perLaunch) {
    int64_t count = std::min(perLaunch, pairs - first);
    alisaKernel<<<unsigned(count), kThreads, 0, stream>>>(p, first, s);
    if ((status = lastLaunchStatus()) != TVC_OK)
      return status;
  }
  return TVC_OK;
}

template <int kCols>
tvc_status_t run(const Problem &p, int64_t kind, ThreadContext &context,
                 cudaStream_t stream) {
  switch (kind) {
  case TVC_MASK_TOP_K:
    return runTopK<kCols>(p, context, stream);
  case TVC_MASK_BLOCK_TOP_K:
    return runBlockTopK<kCols>(p, context, stream);
  case TVC_MASK_VERTICAL_SLASH:
    return runVerticalSlash<kCols>(p, context, stream);
  default:
    return runAlisa(p, context, stream);
  }
}

} // namespace

tvc_status_t
tvc::runtime::cuda::sparseAttention(const tvc_attention_f32_params_t &a,
                                    float *state) {
  if (a.mask_kind < TVC_MASK_TOP_K || a.mask_kind > TVC_MASK_ALISA ||
      (state && a.mask_kind != TVC_MASK_ALISA))
    return TVC_INVALID_ARGUMENT;
  // The CPU entry's limits (32-bit key indices).
  if (!tvc::runtime::fitsAttentionKeyIndices(a))
    return TVC_INVALID_ARGUMENT;
  if (a.batch == 0 || a.q_len == 0 || a.head_dim == 0)
    return TVC_OK;

  Problem p;
  p.q = a.q;
  p.k = a.k;
  p.v = a.v;
  p.out = a.out;
  p.state = state;
  p.batch = a.batch;
  p.qLen = a.q_len;
  p.kvLen = a.kv_len;
  p.kvCapacity = a.kv_capacity;
  p.heads = a.heads;
  p.kvHeads = a.kv_heads;
  p.headDim = a.head_dim;
  p.group = a.heads / a.kv_heads;
  p.window = a.window;
  p.block = a.block;
  p.topK = a.top_k;
  p.vertical = a.vertical;
  p.slash = a.slash;
  p.lastQueries = a.last_queries;
  p.scale = float(a.scale);

  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  return tvc::runtime::cuda::withThreadContext(
      stream, [&](ThreadContext &context) {
        if (a.head_dim <= 2 * kWarpSize)
          return run<2>(p, a.mask_kind, context, stream);
        if (a.head_dim <= 4 * kWarpSize)
          return run<4>(p, a.mask_kind, context, stream);
        return run<8>(p, a.mask_kind, context, stream);
      });
}

extern "C" tvc_status_t tvc_cuda_kernel_attention_state_f32(
    const tvc_attention_state_f32_params_t *params) {
  if (!params || !params->state)
    return TVC_INVALID_ARGUMENT;
  const tvc_attention_state_f32_params_t &a = *params;
  tvc_attention_f32_params_t plain = {
      a.q,        a.k,         a.v,           a.out,   a.batch,
      a.q_len,    a.kv_len,    a.kv_capacity, a.heads, a.kv_heads,
      a.head_dim, a.mask_kind, a.window,      a.scale, a.global,
      a.block,    a.top_k,     a.vertical,    a.slash, a.last_queries};
  if (!tvc::runtime::validAttentionArguments(&plain, TVC_MASK_ALISA,
                                             /*withState=*/true) ||
      a.mask_kind != TVC_MASK_ALISA ||
      !tvc::runtime::fitsInMemory(a.batch, a.kv_capacity, a.heads, 1))
    return TVC_INVALID_ARGUMENT;
  return tvc::runtime::cuda::sparseAttention(plain, a.state);
}
