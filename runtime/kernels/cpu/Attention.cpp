//===- Attention.cpp - Multi-head attention on the CPU --------------------===//
//
// tvc_kernel_attention_f32: flash-style attention. A work item is a tile of
// query rows (several query heads sharing one KV head, times a block of
// query positions) of one batch entry; it walks the keys in blocks, keeping
// for each row a running maximum, a running sum and an unnormalised output
// (online softmax), so no score matrix exists. Every static mask kind gives
// each row at most two intervals of allowed keys (a global prefix and a local
// span), so key blocks outside a tile's union of intervals are never visited,
// and within a block a row's disallowed keys get zero weight (cost follows
// kept entries, to block granularity). Top-k rows are data-dependent: they
// score every causal key, select the top k and run softmax and P.V over those
// only (topKRow). Block top-k rows score the mean key of every earlier block
// (computed once per call), keep the k best blocks and their own (causal),
// and walk those blocks (selectBlocks; per row when the rows of a tile
// disagree too much to share the walk). Vertical-slash first estimates, per
// query head, a pattern from the call's last queries (their softmax weights
// summed per key column and per diagonal; estimatePattern, one parallel
// phase), then every row gathers its kept columns and diagonals in key order
// and runs softmax and P.V over them (verticalSlashRow). ALISA rows depend
// on the rows before them (accumulated weights decide the heavy keys), so a
// work item is one query head's rows in order (alisaItem). Tiles
// with several rows and head_dim a multiple of 16 take a register-blocked
// path over 16-float generic vectors (transposed key block, four rows per
// step); others (single-row decode, odd head sizes) take per-row dot
// products. Work items run on the runtime's thread pool; scratch is on the
// stack (hence TVC_ATTENTION_MAX_HEAD_DIM). The code is compiled for
// AVX-512, AVX2+FMA and the baseline ISA and chosen once by CPUID.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cpu/CpuFeatures.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

namespace {

/// Query rows of one work item (heads x positions).
constexpr int64_t kRowTile = 16;
/// Keys scored per step of the online softmax.
constexpr int64_t kKeyTile = 64;
/// Accumulator lanes of a dot product: one AVX-512 register, two AVX2 ones.
constexpr int64_t kLanes = 16;
constexpr int64_t kMaxHeadDim = TVC_ATTENTION_MAX_HEAD_DIM;

/// The validated problem and its tiling, shared by all work items.
struct Problem {
  const float *q, *k, *v;
  float *out;
  int64_t batch, qLen, kvLen, kvCapacity, heads, kvHeads, headDim;
  int64_t maskKind, window, global, block, topK;
  /// Block top-k: the mean key of every block before the last query's,
  /// [batch][kvHeads][pooledBlocks][headDim].
  const float *pooled;
  int64_t pooledBlocks;
  /// Vertical-slash: per batch entry and query head, the kept columns then
  /// the kept offsets, both ascending, in `vertical + slash` ints, and their
  /// counts in two ints.
  int64_t vertical, slash, lastQueries;
  int32_t *pattern;
  int64_t *patternCounts;
  /// ALISA: per batch entry and query head, kv_capacity accumulated weights
  /// carried between calls (-1: evicted), or null for one whole call.
  float *state;
  float scale;
  int64_t group;       // query heads per KV head
  int64_t headsPerRow; // query heads in one tile
  int64_t headTiles;   // tiles across one group
  int64_t posPerRow;   // query positions in one tile
  int64_t posTiles;
  int64_t items;
};

/// A half-open interval of key positions.
struct Span {
  int64_t lo, hi;
};

/// The allowed keys of the query at position `pos` as two disjoint
/// intervals, in order: a global prefix `head` (empty for most kinds) and a
/// local span `tail` that ends at the query (or at kv_len for the full mask).
/// Both ends of both intervals never decrease with `pos`, so a tile's union is
/// spanned by its first and last positions' intervals.
inline void keySpans(const Problem &p, int64_t pos, Span &head, Span &tail) {
  head = {0, 0};
  switch (p.maskKind) {
  case TVC_MASK_CAUSAL:
  case TVC_MASK_TOP_K: // the static part; topKRow selects within it
    tail = {0, pos + 1};
    return;
  case TVC_MASK_BLOCK_TOP_K: // the own block; selectBlocks adds the others
    tail = {pos / p.block * p.block, pos + 1};
    return;
  case TVC_MASK_SLIDING_WINDOW:
    tail = {std::max<int64_t>(0, pos - p.window + 1), pos + 1};
    return;
  case TVC_MASK_WINDOW_GLOBAL:
    tail = {std::max<int64_t>(0, pos - p.window + 1), pos + 1};
    // Global keys the window already covers stay in the tail.
    head = {0, std::min(p.global, tail.lo)};
    return;
  case TVC_MASK_BLOCK_LOCAL: {
    int64_t firstBlock = std::max<int64_t>(0, pos / p.block - p.window + 1);
    tail = {firstBlock * p.block, pos + 1};
    head = {0, p.global >= firstBlock ? tail.lo : p.global * p.block};
    return;
  }
  default:
    tail = {0, p.kvLen};
    return;
  }
}

/// exp(x) for x <= 0 (0 for x = -inf), within 2 ulp, branch-free so loops
/// over it vectorise: Cody-Waite reduction to r in [-ln2/2, ln2/2], the
/// Cephes polynomial, and 2^n built in the exponent bits. Inputs below -87
/// are clamped (exp(-87) ~ 1.6e-38 is far below a sum that contains 1).
__attribute__((always_inline)) inline float expNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the
  // low mantissa bits.
  const float shifter = 12582912.0f;
  float shifted = x * 1.44269504088896341f + shifter;
  float n = shifted - shifter;
  int32_t exponent = __builtin_bit_cast(int32_t, shifted) - 0x4B400000;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  poly = poly * r * r + r + 1.0f;
  return poly * __builtin_bit_cast(float, (exponent + 127) << 23);
}

/// sum(a[i] * b[i]) over n floats, in kLanes independent lanes.
__attribute__((always_inline)) inline float dot(const float *a, const float *b,
                                                int64_t n) {
  float lanes[kLanes] = {};
  int64_t d = 0;
  for (; d + kLanes <= n; d += kLanes)
    for (int64_t l = 0; l < kLanes; ++l)
      lanes[l] += a[d + l] * b[d + l];
  for (int64_t l = 0; d + l < n; ++l)
    lanes[l] += a[d + l] * b[d + l];
  float sum = 0;
  for (int64_t l = 0; l < kLanes; ++l)
    sum += lanes[l];
  return sum;
}

/// Sixteen floats, and sixteen lane masks. Clang lowers these generic
/// vectors to one AVX-512 register, two AVX2 ones or four SSE ones, so the
/// same source serves every ISA variant below.
typedef float Vec __attribute__((vector_size(64)));
typedef int32_t VecMask __attribute__((vector_size(64)));
constexpr int64_t kVecLanes = 16;

__attribute__((always_inline)) inline Vec load(const float *from) {
  Vec value;
  __builtin_memcpy(&value, from, sizeof(value));
  return value;
}

__attribute__((always_inline)) inline void store(float *to, Vec value) {
  __builtin_memcpy(to, &value, sizeof(value));
}

__attribute__((always_inline)) inline float laneMax(Vec value) {
  float result = value[0];
  for (int l = 1; l < kVecLanes; ++l)
    result = std::max(result, value[l]);
  return result;
}

__attribute__((always_inline)) inline float laneSum(Vec value) {
  float result = 0;
  for (int l = 0; l < kVecLanes; ++l)
    result += value[l];
  return result;
}

/// expNonPositive on sixteen lanes.
__attribute__((always_inline)) inline Vec expNonPositive(Vec x) {
  x = x < -87.0f ? Vec{} - 87.0f : x;
  const float shifter = 12582912.0f;
  Vec shifted = x * 1.44269504088896341f + shifter;
  Vec n = shifted - shifter;
  VecMask exponent = __builtin_bit_cast(VecMask, shifted) - 0x4B400000;
  Vec r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  Vec poly = Vec{} + 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  poly = poly * r * r + r + 1.0f;
  return poly * __builtin_bit_cast(Vec, (exponent + 127) << 23);
}

/// Rows of one register-blocked step of the vector path.
constexpr int64_t kRowGroup = 4;

/// The tile of attendItem when head_dim is a multiple of 16 and the tile has
/// several rows: per block of 16 keys, K is transposed once into kt so the
/// scores of four rows build up in four registers (one K load feeds four
/// multiply-adds), and P.V runs over 16-float chunks of the output with the
/// four rows' accumulators in registers. Rows past `rows` are padding with
/// empty key intervals; `query` rows are scaled, `acc` zeroed.
__attribute__((always_inline)) inline void
attendTileVec(int64_t rows, int64_t dim, int64_t kvStride, const float *kBase,
              const float *vBase, int64_t tileLo, int64_t tileHi,
              float (*query)[kMaxHeadDim], float (*acc)[kMaxHeadDim],
              float *rowMax, float *rowSum, const Span (*rowSpans)[2]) {
  alignas(64) float kt[kMaxHeadDim][kVecLanes];
  alignas(64) float probs[kRowGroup][kVecLanes];
  const VecMask laneIndex = {0, 1, 2,  3,  4,  5,  6,  7,
                             8, 9, 10, 11, 12, 13, 14, 15};
  const float negInf = -std::numeric_limits<float>::infinity();
  for (int64_t j0 = tileLo; j0 < tileHi; j0 += kVecLanes) {
    int64_t n = std::min(kVecLanes, tileHi - j0);
    for (int64_t j = 0; j < n; ++j) {
      const float *kRow = kBase + (j0 + j) * kvStride;
      for (int64_t d = 0; d < dim; ++d)
        kt[d][j] = kRow[d];
    }
    for (int64_t j = n; j < kVecLanes; ++j)
      for (int64_t d = 0; d < dim; ++d)
        kt[d][j] = 0;

    for (int64_t r0 = 0; r0 < rows; r0 += kRowGroup) {
      Vec scores[kRowGroup] = {};
      for (int64_t d = 0; d < dim; ++d) {
        Vec keys = load(kt[d]);
        for (int64_t g = 0; g < kRowGroup; ++g)
          scores[g] += query[r0 + g][d] * keys;
      }
      bool any = false;
      for (int64_t g = 0; g < kRowGroup; ++g) {
        int64_t r = r0 + g;
        // This row's allowed keys, relative to j0, clamped to the block.
        int32_t lo[2], hi[2];
        for (int s = 0; s < 2; ++s) {
          lo[s] = int32_t(std::clamp<int64_t>(rowSpans[r][s].lo - j0, 0, n));
          hi[s] = int32_t(std::clamp<int64_t>(rowSpans[r][s].hi - j0, 0, n));
        }
        if (lo[0] >= hi[0] && lo[1] >= hi[1]) {
          store(probs[g], Vec{});
          continue;
        }
        any = true;
        VecMask keep = ((laneIndex >= lo[0]) & (laneIndex < hi[0])) |
                       ((laneIndex >= lo[1]) & (laneIndex < hi[1]));
        Vec masked = keep ? scores[g] : Vec{} + negInf;
        float newMax = std::max(rowMax[r], laneMax(masked));
        Vec p = expNonPositive(masked - newMax);
        p = keep ? p : Vec{};
        // The first visited block has nothing to rescale.
        if (rowMax[r] != newMax && rowSum[r] != 0) {
          float correction = expNonPositive(rowMax[r] - newMax);
          rowSum[r] *= correction;
          for (int64_t d = 0; d < dim; d += kVecLanes)
            store(acc[r] + d, load(acc[r] + d) * correction);
        }
        rowSum[r] += laneSum(p);
        rowMax[r] = newMax;
        store(probs[g], p);
      }
      if (!any)
        continue;
      for (int64_t d = 0; d < dim; d += kVecLanes) {
        Vec out[kRowGroup];
        for (int64_t g = 0; g < kRowGroup; ++g)
          out[g] = load(acc[r0 + g] + d);
        for (int64_t j = 0; j < n; ++j) {
          Vec values = load(vBase + (j0 + j) * kvStride + d);
          for (int64_t g = 0; g < kRowGroup; ++g)
            out[g] += probs[g][j] * values;
        }
        for (int64_t g = 0; g < kRowGroup; ++g)
          store(acc[r0 + g] + d, out[g]);
      }
    }
  }
}

/// The tile of attendItem in any shape: per row and block of keys, dot
/// products over head_dim in kLanes lanes, then the online softmax update
/// and P.V as multiply-adds over head_dim. Visits only each row's own keys.
__attribute__((always_inline)) inline void
attendTileScalar(int64_t rows, int64_t dim, int64_t kvStride,
                 const float *kBase, const float *vBase, int64_t tileLo,
                 int64_t tileHi, float (*query)[kMaxHeadDim],
                 float (*acc)[kMaxHeadDim], float *rowMax, float *rowSum,
                 const Span (*rowSpans)[2]) {
  alignas(64) float probs[kKeyTile];
  for (int64_t j0 = tileLo; j0 < tileHi; j0 += kKeyTile) {
    int64_t j1 = std::min(j0 + kKeyTile, tileHi);
    for (int64_t item = 0; item < rows * 2; ++item) {
      // (row, span) pairs: each of a row's intervals in the block is a
      // step of the online softmax of its own.
      int64_t r = item / 2;
      const Span &span = rowSpans[r][item % 2];
      int64_t jb = std::max(j0, span.lo), je = std::min(j1, span.hi);
      if (jb >= je)
        continue;
      int64_t n = je - jb;
      float blockMax = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < n; ++j) {
        probs[j] = dot(query[r], kBase + (jb + j) * kvStride, dim);
        blockMax = std::max(blockMax, probs[j]);
      }
      float newMax = std::max(rowMax[r], blockMax);
      float blockSum = 0;
      for (int64_t j = 0; j < n; ++j) {
        probs[j] = expNonPositive(probs[j] - newMax);
        blockSum += probs[j];
      }
      float *o = acc[r];
      // The first visited block has nothing to rescale.
      if (rowMax[r] != newMax && rowSum[r] != 0) {
        float correction = expNonPositive(rowMax[r] - newMax);
        rowSum[r] *= correction;
        for (int64_t d = 0; d < dim; ++d)
          o[d] *= correction;
      }
      rowSum[r] += blockSum;
      rowMax[r] = newMax;
      for (int64_t j = 0; j < n; ++j) {
        const float *vRow = vBase + (jb + j) * kvStride;
        float weight = probs[j];
        for (int64_t d = 0; d < dim; ++d)
          o[d] += weight * vRow[d];
      }
    }
  }
}

/// Scores of a top-k tile: scores[r * stride + j] = query[r] . key j for
/// every row r < rows and key j < n. With head_dim a multiple of 16 and
/// several rows, per block of 16 keys K is transposed once and four rows'
/// scores build up in registers (as attendTileVec does); otherwise per-row
/// dot products. `query` has room for `rows` rounded up to kRowGroup.
__attribute__((always_inline)) inline void
scoreTile(int64_t rows, int64_t dim, int64_t kvStride, const float *kBase,
          int64_t n, float (*query)[kMaxHeadDim], float *scores,
          int64_t stride) {
  if (dim % kVecLanes != 0 || rows < 2) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j)
        scores[r * stride + j] = dot(query[r], kBase + j * kvStride, dim);
    return;
  }
  int64_t padded = (rows + kRowGroup - 1) / kRowGroup * kRowGroup;
  for (int64_t r = rows; r < padded; ++r)
    std::memset(query[r], 0, dim * sizeof(float));
  alignas(64) float kt[kMaxHeadDim][kVecLanes];
  for (int64_t j0 = 0; j0 < n; j0 += kVecLanes) {
    int64_t count = std::min(kVecLanes, n - j0);
    for (int64_t j = 0; j < count; ++j) {
      const float *kRow = kBase + (j0 + j) * kvStride;
      for (int64_t d = 0; d < dim; ++d)
        kt[d][j] = kRow[d];
    }
    for (int64_t j = count; j < kVecLanes; ++j)
      for (int64_t d = 0; d < dim; ++d)
        kt[d][j] = 0;
    for (int64_t r0 = 0; r0 < padded; r0 += kRowGroup) {
      Vec sums[kRowGroup] = {};
      for (int64_t d = 0; d < dim; ++d) {
        Vec keys = load(kt[d]);
        for (int64_t g = 0; g < kRowGroup; ++g)
          sums[g] += query[r0 + g][d] * keys;
      }
      for (int64_t g = 0; g < kRowGroup && r0 + g < rows; ++g) {
        float *row = scores + (r0 + g) * stride + j0;
        if (count == kVecLanes)
          store(row, sums[g]);
        else
          for (int64_t j = 0; j < count; ++j)
            row[j] = sums[g][j];
      }
    }
  }
}

/// The k-th largest of scores[0, n) (0 < k < n) as a value, given their
/// maximum and minimum, and in `above` how many scores exceed it. A
/// histogram of 256 equal-width buckets between the minimum and the maximum
/// finds the bucket that holds it (the bucket is a monotone function of the
/// score, so every score of an earlier bucket is larger), then a selection
/// among that bucket's scores only: two branch-free passes over the row
/// instead of a comparison-based selection over all of it, which
/// mispredicts about every other compare. Scores all equal or not finite
/// take std::nth_element. `work` holds n floats.
inline float kthLargest(const float *scores, int64_t n, int64_t k,
                        float maximum, float minimum, float *work,
                        int64_t &above) {
  constexpr int kBuckets = 256;
  float perUnit = kBuckets / (maximum - minimum);
  if (!(maximum > minimum) || !std::isfinite(maximum - minimum) ||
      !std::isfinite(perUnit)) {
    std::copy(scores, scores + n, work);
    std::nth_element(work, work + (k - 1), work + n, std::greater<float>());
    float threshold = work[k - 1];
    above = 0;
    for (int64_t j = 0; j < n; ++j)
      above += scores[j] > threshold;
    return threshold;
  }
  auto bucketOf = [&](float score) {
    return std::min(kBuckets - 1, int((maximum - score) * perUnit));
  };
  int64_t counts[kBuckets] = {};
  for (int64_t j = 0; j < n; ++j)
    ++counts[bucketOf(scores[j])];
  int bucket = 0;
  above = 0;
  while (above + counts[bucket] < k)
    above += counts[bucket++];
  int64_t size = 0;
  for (int64_t j = 0; j < n; ++j) {
    work[size] = scores[j];
    size += bucketOf(scores[j]) == bucket;
  }
  int64_t rank = k - above - 1;
  std::nth_element(work, work + rank, work + size, std::greater<float>());
  float threshold = work[rank];
  // Every score of an earlier bucket is above the threshold; in its own
  // bucket, those the selection put before it may equal it.
  for (int64_t i = 0; i < rank; ++i)
    above += work[i] > threshold;
  return threshold;
}

/// acc[0, dim) += weight * row[0, dim), sixteen lanes at a time: P.V for
/// one gathered value row.
__attribute__((always_inline)) inline void
addScaled(float *acc, float weight, const float *row, int64_t dim) {
  int64_t d = 0;
  for (; d + kVecLanes <= dim; d += kVecLanes)
    store(acc + d, load(acc + d) + weight * load(row + d));
  for (; d < dim; ++d)
    acc[d] += weight * row[d];
}

/// One row of top-k attention over the causal keys [0, n) given their
/// scores: the k-th largest score is the threshold; keys above it, and of
/// those equal to it the lowest-indexed until k, are kept, and only their
/// value rows enter out = sum(exp(score - max) v) / sum(exp(score - max)).
/// `work` holds n floats.
__attribute__((always_inline)) inline void
topKRow(const float *scores, int64_t n, int64_t k, int64_t dim,
        int64_t kvStride, const float *vBase, float *work, float *acc,
        float *out) {
  float maximum = -std::numeric_limits<float>::infinity(), minimum = -maximum;
  for (int64_t j = 0; j < n; ++j) {
    maximum = std::max(maximum, scores[j]);
    minimum = std::min(minimum, scores[j]);
  }
  float threshold = -std::numeric_limits<float>::infinity();
  int64_t tiesLeft = n;
  if (n > k) {
    int64_t above;
    threshold = kthLargest(scores, n, k, maximum, minimum, work, above);
    tiesLeft = k - above;
  }
  std::memset(acc, 0, dim * sizeof(float));
  float sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    float score = scores[j];
    if (score < threshold || (score == threshold && tiesLeft-- <= 0))
      continue;
    float weight = expNonPositive(score - maximum);
    sum += weight;
    addScaled(acc, weight, vBase + j * kvStride, dim);
  }
  float inverse = sum > 0 ? 1.0f / sum : 0.0f;
  for (int64_t d = 0; d < dim; ++d)
    out[d] = acc[d] * inverse;
}

/// Scratch of the top-k path, per thread, grown to the largest tile seen.
inline float *topKScratch(int64_t floats) {
  thread_local std::vector<float> scratch;
  if (int64_t(scratch.size()) < floats)
    scratch.resize(floats);
  return scratch.data();
}

/// Block top-k: marks in `bits` (one bit per block) the `k` blocks before
/// `own` whose mean keys `pooled` score highest against the (scaled)
/// `query`, ties to the lower block; all of them when there are at most k.
/// `scores` and `order` hold `own` entries.
__attribute__((always_inline)) inline void
selectBlocks(const float *query, int64_t dim, const float *pooled, int64_t own,
             int64_t k, float *scores, int32_t *order, uint64_t *bits) {
  for (int64_t block = 0; block < own; ++block) {
    scores[block] = dot(query, pooled + block * dim, dim);
    order[block] = int32_t(block);
  }
  int64_t kept = std::min(own, k);
  if (kept < own)
    std::nth_element(
        order, order + kept, order + own, [&](int32_t a, int32_t b) {
          return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
        });
  for (int64_t i = 0; i < kept; ++i)
    bits[order[i] / 64] |= uint64_t(1) << (order[i] % 64);
}

/// Scratch of the data-dependent kinds, per thread and element type: three
/// slots, grown to the largest request. A call uses each slot for one
/// purpose per phase (vertical-slash's estimate is done on every thread
/// before its rows start; block top-k's pooled means take float slot 0 on
/// the calling thread, its rows the others).
template <typename T> inline T *blockScratch(int slot, int64_t count) {
  thread_local std::vector<T> scratch[3];
  if (int64_t(scratch[slot].size()) < count)
    scratch[slot].resize(count);
  return scratch[slot].data();
}

/// Vertical-slash: how many of the budget's columns and offsets are always
/// kept (the first tokens, the most recent diagonals), as MInference forces
/// them: half the budget, at most 4 columns and 64 offsets.
inline int64_t forcedColumns(int64_t vertical) {
  return std::min<int64_t>(4, (vertical + 1) / 2);
}
inline int64_t forcedOffsets(int64_t slash) {
  return std::min<int64_t>(64, (slash + 1) / 2);
}

/// Writes to `kept` (ascending) the min(budget, n) indices of sums[0, n)
/// with the largest sums, ties towards the lower index; `order` holds n.
inline int64_t selectLargest(const double *sums, int64_t n, int64_t budget,
                             int32_t *order, int32_t *kept) {
  for (int64_t j = 0; j < n; ++j)
    order[j] = int32_t(j);
  int64_t count = std::min(budget, n);
  if (count < n)
    std::nth_element(
        order, order + count, order + n, [&](int32_t a, int32_t b) {
          return sums[a] > sums[b] || (sums[a] == sums[b] && a < b);
        });
  std::copy(order, order + count, kept);
  std::sort(kept, kept + count);
  return count;
}


/// Vertical-slash: estimates the pattern of query head `item % heads` of
/// batch entry `item / heads` from the call's last query rows (see
/// TVC_MASK_VERTICAL_SLASH): their softmax weights summed per column and per
/// diagonal offset, the forced ones set to +inf, the largest kept.
__attribute__((always_inline)) inline void estimatePattern(const Problem &p,
                                                           int64_t item) {
  int64_t b = item / p.heads, head = item % p.heads;
  int64_t kvHead = head / p.group, dim = p.headDim;
  int64_t qStride = p.heads * dim, kvStride = p.kvHeads * dim;
  int64_t n = p.kvLen, firstPos = p.kvLen - p.qLen;
  int64_t estimated = std::min(p.lastQueries, p.qLen);
  const float *kBase = p.k + b * p.kvCapacity * kvStride + kvHead * dim;
  double *sums = blockScratch<double>(0, 2 * n);
  double *columnSums = sums, *offsetSums = sums + n;
  std::fill(sums, sums + 2 * n, 0.0);
  float *scores = blockScratch<float>(1, (kRowTile + 1) * n);
  float *weights = scores + kRowTile * n;
  alignas(64) float query[kRowTile][kMaxHeadDim];
  for (int64_t first = p.qLen - estimated; first < p.qLen; first += kRowTile) {
    int64_t rows = std::min(kRowTile, p.qLen - first);
    for (int64_t r = 0; r < rows; ++r) {
      const float *src = p.q + (b * p.qLen + first + r) * qStride + head * dim;
      for (int64_t d = 0; d < dim; ++d)
        query[r][d] = src[d] * p.scale;
    }
    int64_t longest = firstPos + first + rows;
    scoreTile(rows, dim, kvStride, kBase, longest, query, scores, n);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t pos = firstPos + first + r;
      const float *row = scores + r * n;
      float maximum = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j <= pos; ++j)
        maximum = std::max(maximum, row[j]);
      float sum = 0;
      for (int64_t j = 0; j <= pos; ++j) {
        weights[j] = expNonPositive(row[j] - maximum);
        sum += weights[j];
      }
      double inverse = 1.0 / double(sum);
      for (int64_t j = 0; j <= pos; ++j) {
        double weight = weights[j] * inverse;
        columnSums[j] += weight;
        offsetSums[pos - j] += weight;
      }
    }
  }
  const double forced = std::numeric_limits<double>::infinity();
  std::fill(columnSums, columnSums + std::min(n, forcedColumns(p.vertical)),
            forced);
  std::fill(offsetSums, offsetSums + std::min(n, forcedOffsets(p.slash)),
            forced);
  int32_t *kept = p.pattern + item * (p.vertical + p.slash);
  int32_t *order = blockScratch<int32_t>(0, n);
  p.patternCounts[2 * item] =
      selectLargest(columnSums, n, p.vertical, order, kept);
  p.patternCounts[2 * item + 1] =
      selectLargest(offsetSums, n, p.slash, order, kept + p.vertical);
}

/// Softmax and P.V of one (scaled) query over the `count` keys listed in
/// `keys`; leaves in `scores` their softmax weights (each row of P).
__attribute__((always_inline)) inline void
attendGathered(int64_t dim, int64_t kvStride, const float *kBase,
               const float *vBase, const float *query, const int32_t *keys,
               int64_t count, float *scores, float *acc, float *out) {
  float maximum = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < count; ++i) {
    scores[i] = dot(query, kBase + keys[i] * kvStride, dim);
    maximum = std::max(maximum, scores[i]);
  }
  std::memset(acc, 0, dim * sizeof(float));
  float sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    float weight = expNonPositive(scores[i] - maximum);
    scores[i] = weight;
    sum += weight;
    addScaled(acc, weight, vBase + keys[i] * kvStride, dim);
  }
  float inverse = sum > 0 ? 1.0f / sum : 0.0f;
  for (int64_t d = 0; d < dim; ++d)
    out[d] = acc[d] * inverse;
  for (int64_t i = 0; i < count; ++i)
    scores[i] *= inverse;
}

/// One vertical-slash row at position `pos`: the kept columns j <= pos and
/// the keys pos - o of the kept offsets o <= pos, merged in key order
/// without duplicates, then softmax and P.V over them. `keys` and `scores`
/// hold vertical + slash entries.
__attribute__((always_inline)) inline void
verticalSlashRow(const Problem &p, int64_t item, int64_t pos,
                 const float *query, const float *kBase, const float *vBase,
                 int32_t *keys, float *scores, float *acc, float *out) {
  int64_t dim = p.headDim, kvStride = p.kvHeads * dim;
  const int32_t *columns = p.pattern + item * (p.vertical + p.slash);
  const int32_t *offsets = columns + p.vertical;
  int64_t numColumns = p.patternCounts[2 * item];
  int64_t numOffsets = p.patternCounts[2 * item + 1];
  // Offsets ascending are keys descending: walk them from the largest
  // offset that fits to merge with the ascending columns.
  int64_t c = 0, o = numOffsets - 1, count = 0;
  while (o >= 0 && offsets[o] > pos)
    --o;
  while (true) {
    int64_t column = c < numColumns && columns[c] <= pos ? columns[c] : -1;
    int64_t diagonal = o >= 0 ? pos - offsets[o] : -1;
    if (column < 0 && diagonal < 0)
      break;
    int64_t key;
    if (diagonal < 0 || (column >= 0 && column < diagonal)) {
      key = column;
      ++c;
    } else {
      key = diagonal;
      --o;
      if (column == diagonal)
        ++c;
    }
    keys[count++] = int32_t(key);
  }
  attendGathered(dim, kvStride, kBase, vBase, query, keys, count, scores, acc,
                 out);
}

/// ALISA: every row of query head `item % heads` of batch entry
/// `item / heads`, in position order (see TVC_MASK_ALISA). The heavy set
/// holds at most top_k keys older than the window with their accumulated
/// softmax weights; each row attends to the heavy set and its window, adds
/// its weights to every key it saw, and then the key leaving the window
/// joins the heavy set, which drops its smallest (ties: the newest) when it
/// has top_k + 1.
__attribute__((always_inline)) inline void alisaItem(const Problem &p,
                                                     int64_t item) {
  int64_t b = item / p.heads, head = item % p.heads;
  int64_t kvHead = head / p.group, dim = p.headDim;
  int64_t qStride = p.heads * dim, kvStride = p.kvHeads * dim;
  const float *kBase = p.k + b * p.kvCapacity * kvStride + kvHead * dim;
  const float *vBase = p.v + b * p.kvCapacity * kvStride + kvHead * dim;
  int64_t window = p.window, firstPos = p.kvLen - p.qLen;
  // The window's keys by position mod `slots` (at most that many exist).
  int64_t slots = std::min(window, p.kvLen);
  // Heavy keys then the window's, in key order: heavy keys are older.
  int32_t *keys = blockScratch<int32_t>(2, p.topK + 1 + slots);
  float *weights = blockScratch<float>(1, 2 * (p.topK + 1) + slots);
  float *heavyWeights = weights + p.topK + 1 + slots;
  float *windowWeights = blockScratch<float>(0, slots);
  std::fill(windowWeights, windowWeights + slots, 0.0f);
  int64_t heavy = 0;
  // With a state, the earlier calls' heavy set (keys that left the window
  // and were not evicted) and the window's accumulated weights.
  float *state = p.state ? p.state + item * p.kvCapacity : nullptr;
  if (state) {
    for (int64_t j = 0; j <= firstPos - window && heavy < p.topK; ++j)
      if (state[j] >= 0) {
        keys[heavy] = int32_t(j);
        heavyWeights[heavy++] = state[j];
      }
    for (int64_t j = std::max<int64_t>(0, firstPos - window + 1); j < firstPos;
         ++j)
      windowWeights[j % slots] = state[j];
  }
  alignas(64) float query[kMaxHeadDim], acc[kMaxHeadDim];
  for (int64_t pos = firstPos; pos < p.kvLen; ++pos) {
    int64_t row = pos - firstPos;
    const float *src = p.q + (b * p.qLen + row) * qStride + head * dim;
    for (int64_t d = 0; d < dim; ++d)
      query[d] = src[d] * p.scale;
    int64_t lo = std::max<int64_t>(0, pos - window + 1);
    int64_t count = heavy;
    for (int64_t j = lo; j <= pos; ++j)
      keys[count++] = int32_t(j);
    windowWeights[pos % slots] = 0; // the new key
    float *dst = p.out + (b * p.qLen + row) * qStride + head * dim;
    attendGathered(dim, kvStride, kBase, vBase, query, keys, count, weights,
                   acc, dst);
    for (int64_t i = 0; i < heavy; ++i)
      heavyWeights[i] += weights[i];
    for (int64_t i = heavy; i < count; ++i)
      windowWeights[keys[i] % slots] += weights[i];
    // The key leaving the window before the next row joins the heavy set.
    int64_t leaving = pos + 1 - window;
    if (leaving < 0)
      continue;
    keys[heavy] = int32_t(leaving);
    heavyWeights[heavy] = windowWeights[leaving % slots];
    ++heavy;
    if (heavy <= p.topK)
      continue;
    int64_t drop = 0;
    for (int64_t i = 1; i < heavy; ++i)
      if (heavyWeights[i] <= heavyWeights[drop])
        drop = i;
    if (state)
      state[keys[drop]] = -1;
    // Keys stay in order: shift the later ones down.
    for (int64_t i = drop; i + 1 < heavy; ++i) {
      keys[i] = keys[i + 1];
      heavyWeights[i] = heavyWeights[i + 1];
    }
    --heavy;
  }
  if (!state)
    return;
  // What the next call continues from: the heavy keys' and the window's
  // accumulated weights (evicted keys are -1 already).
  for (int64_t i = 0; i < heavy; ++i)
    state[keys[i]] = heavyWeights[i];
  for (int64_t j = std::max<int64_t>(0, p.kvLen - window + 1); j < p.kvLen; ++j)
    state[j] = windowWeights[j % slots];
}

/// Computes one tile of query rows.
__attribute__((always_inline)) inline void attendItem(const Problem &p,
                                                      int64_t item) {
  // Items run heaviest first: the last position tiles see the most keys
  // under a causal mask, so they are numbered 0. Top-k reads value rows
  // scattered over the whole prefix, so its items go head after head
  // instead, keeping one head's keys and values in cache.
  int64_t perPosTile = p.batch * p.kvHeads * p.headTiles;
  int64_t posTile, rest;
  if (p.maskKind == TVC_MASK_TOP_K || p.maskKind == TVC_MASK_VERTICAL_SLASH) {
    posTile = p.posTiles - 1 - item % p.posTiles;
    rest = item / p.posTiles;
  } else {
    posTile = p.posTiles - 1 - item / perPosTile;
    rest = item % perPosTile;
  }
  int64_t headTile = rest % p.headTiles;
  rest /= p.headTiles;
  int64_t kvHead = rest % p.kvHeads;
  int64_t b = rest / p.kvHeads;

  int64_t pos0 = posTile * p.posPerRow;
  int64_t numPos = std::min(p.posPerRow, p.qLen - pos0);
  int64_t head0 = kvHead * p.group + headTile * p.headsPerRow;
  int64_t numHeads = std::min(p.headsPerRow, (kvHead + 1) * p.group - head0);
  int64_t rows = numHeads * numPos;
  int64_t dim = p.headDim;
  int64_t qStride = p.heads * dim;
  int64_t kvStride = p.kvHeads * dim;
  // Absolute position of query index 0.
  int64_t firstPos = p.kvLen - p.qLen;

  alignas(64) float query[kRowTile][kMaxHeadDim];
  alignas(64) float acc[kRowTile][kMaxHeadDim];
  float rowMax[kRowTile], rowSum[kRowTile];
  Span rowSpans[kRowTile][2];

  // Row r is head head0 + r / numPos at query index pos0 + r % numPos.
  for (int64_t r = 0; r < rows; ++r) {
    int64_t head = head0 + r / numPos, index = pos0 + r % numPos;
    const float *src = p.q + (b * p.qLen + index) * qStride + head * dim;
    for (int64_t d = 0; d < dim; ++d)
      query[r][d] = src[d] * p.scale;
    std::memset(acc[r], 0, dim * sizeof(float));
    rowMax[r] = -std::numeric_limits<float>::infinity();
    rowSum[r] = 0;
    keySpans(p, firstPos + index, rowSpans[r][0], rowSpans[r][1]);
  }

  const float *kBase = p.k + b * p.kvCapacity * kvStride + kvHead * dim;
  const float *vBase = p.v + b * p.kvCapacity * kvStride + kvHead * dim;
  if (p.maskKind == TVC_MASK_TOP_K) {
    // Every row scores the tile's longest causal prefix (the last position's;
    // the extra keys of earlier rows exist and are ignored), then selects.
    int64_t longest = rowSpans[numPos - 1][1].hi;
    float *scores = topKScratch((rows + 1) * longest);
    float *work = scores + rows * longest;
    scoreTile(rows, dim, kvStride, kBase, longest, query, scores, longest);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t head = head0 + r / numPos, index = pos0 + r % numPos;
      float *dst = p.out + (b * p.qLen + index) * qStride + head * dim;
      topKRow(scores + r * longest, rowSpans[r][1].hi, p.topK, dim, kvStride,
              vBase, work, acc[r], dst);
    }
    return;
  }
  if (p.maskKind == TVC_MASK_VERTICAL_SLASH) {
    // Rows of one head share a pattern, but each row's slashes are its own
    // keys: a gathered row at a time.
    int32_t *keys = blockScratch<int32_t>(2, p.vertical + p.slash);
    float *scores = blockScratch<float>(1, p.vertical + p.slash);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t head = head0 + r / numPos, index = pos0 + r % numPos;
      float *dst = p.out + (b * p.qLen + index) * qStride + head * dim;
      verticalSlashRow(p, b * p.heads + head, firstPos + index, query[r], kBase,
                       vBase, keys, scores, acc[r], dst);
    }
    return;
  }
  // Transposing a key block pays off from a few rows up; one row (decode
  // without grouped heads) takes plain dot products below.
  bool vectorPath = dim % kVecLanes == 0 && rows >= 2;
  int64_t padded = (rows + kRowGroup - 1) / kRowGroup * kRowGroup;
  if (vectorPath)
    for (int64_t r = rows; r < padded; ++r) {
      std::memset(query[r], 0, dim * sizeof(float));
      std::memset(acc[r], 0, dim * sizeof(float));
      rowMax[r] = -std::numeric_limits<float>::infinity();
      rowSum[r] = 0;
      rowSpans[r][0] = rowSpans[r][1] = {0, 0};
    }
  // One step of the online softmax over keys [lo, hi) with the rows' spans.
  auto walk = [&](int64_t lo, int64_t hi) {
    if (lo >= hi)
      return;
    if (vectorPath)
      attendTileVec(padded, dim, kvStride, kBase, vBase, lo, hi, query, acc,
                    rowMax, rowSum, rowSpans);
    else
      attendTileScalar(rows, dim, kvStride, kBase, vBase, lo, hi, query, acc,
                       rowMax, rowSum, rowSpans);
  };

  if (p.maskKind == TVC_MASK_BLOCK_TOP_K) {
    // Each row selects its blocks; the tile walks the union of them, one
    // block at a time with each row's span set to the block or nothing,
    // then the rows' own blocks (causal).
    int64_t blocks = rowSpans[numPos - 1][1].lo / p.block;
    int64_t words = (blocks + 63) / 64;
    uint64_t *bits = blockScratch<uint64_t>(0, (rows + 1) * words);
    float *scores = blockScratch<float>(1, blocks);
    int32_t *order = blockScratch<int32_t>(2, blocks);
    std::fill(bits, bits + (rows + 1) * words, 0);
    uint64_t *any = bits + rows * words;
    const float *pooled =
        p.pooled + (b * p.kvHeads + kvHead) * p.pooledBlocks * dim;
    for (int64_t r = 0; r < rows; ++r) {
      selectBlocks(query[r], dim, pooled, rowSpans[r][1].lo / p.block, p.topK,
                   scores, order, bits + r * words);
      for (int64_t w = 0; w < words; ++w)
        any[w] |= bits[r * words + w];
    }
    // Rows of a tile select different blocks (a tile of 16 positions
    // selecting 3 blocks each can touch 48), so when the union is much
    // larger than one row's share each row walks only its own blocks,
    // giving up the K/V reuse across rows; otherwise the tile walks the
    // union with each row's span set to the block or nothing.
    int64_t unionBlocks = 0;
    for (int64_t w = 0; w < words; ++w)
      unionBlocks += __builtin_popcountll(any[w]);
    if (unionBlocks > 2 * std::min(p.topK, blocks)) {
      for (int64_t r = 0; r < rows; ++r) {
        Span own = rowSpans[r][1];
        rowSpans[r][1] = {0, 0};
        for (int64_t block = 0; block < own.lo / p.block; ++block) {
          if (!(bits[r * words + block / 64] >> (block % 64) & 1))
            continue;
          rowSpans[r][0] = {block * p.block, (block + 1) * p.block};
          attendTileScalar(1, dim, kvStride, kBase, vBase, rowSpans[r][0].lo,
                           rowSpans[r][0].hi, query + r, acc + r, rowMax + r,
                           rowSum + r, rowSpans + r);
        }
        rowSpans[r][0] = {0, 0};
        rowSpans[r][1] = own;
        attendTileScalar(1, dim, kvStride, kBase, vBase, own.lo, own.hi,
                         query + r, acc + r, rowMax + r, rowSum + r,
                         rowSpans + r);
      }
    } else {
      Span own[kRowTile];
      for (int64_t r = 0; r < rows; ++r)
        own[r] = rowSpans[r][1];
      for (int64_t block = 0; block < blocks; ++block) {
        if (!(any[block / 64] >> (block % 64) & 1))
          continue;
        Span keys = {block * p.block, (block + 1) * p.block};
        for (int64_t r = 0; r < rows; ++r) {
          bool kept = bits[r * words + block / 64] >> (block % 64) & 1;
          rowSpans[r][0] = kept ? keys : Span{0, 0};
          rowSpans[r][1] = {0, 0};
        }
        walk(keys.lo, keys.hi);
      }
      for (int64_t r = 0; r < rows; ++r) {
        rowSpans[r][0] = {0, 0};
        rowSpans[r][1] = own[r];
      }
      walk(own[0].lo, own[numPos - 1].hi);
    }
  } else {
    // Interval ends move right with the position: the tile's union is
    // spanned by the heads of its last position and the tails from its
    // first position to its last; two segments unless they touch.
    Span head = rowSpans[numPos - 1][0];
    Span tail = {rowSpans[0][1].lo, rowSpans[numPos - 1][1].hi};
    if (head.hi >= tail.lo) {
      walk(0, tail.hi);
    } else {
      walk(head.lo, head.hi);
      walk(tail.lo, tail.hi);
    }
  }

  for (int64_t r = 0; r < rows; ++r) {
    int64_t head = head0 + r / numPos, index = pos0 + r % numPos;
    float *dst = p.out + (b * p.qLen + index) * qStride + head * dim;
    // A row with no allowed key has rowSum 0 and gets zeros.
    float inverse = rowSum[r] > 0 ? 1.0f / rowSum[r] : 0.0f;
    for (int64_t d = 0; d < dim; ++d)
      dst[d] = acc[r][d] * inverse;
  }
}

using ItemsFn = void (*)(void *, int64_t, int64_t);

/// Runs PER_ITEM on items [begin, end) of a Problem, compiled for TARGET.
#define TVC_ITEMS(NAME, TARGET, PER_ITEM)                                      \
  TARGET void NAME(void *context, int64_t begin, int64_t end) {                \
    const Problem &problem = *static_cast<const Problem *>(context);           \
    for (int64_t item = begin; item < end; ++item)                             \
      PER_ITEM(problem, item);                                                 \
  }
/// The baseline, AVX2+FMA and AVX-512 builds of PER_ITEM's items.
#define TVC_ISA_VARIANTS(NAME, PER_ITEM)                                       \
  TVC_ITEMS(NAME##Base, , PER_ITEM)                                            \
  TVC_ITEMS(NAME##Avx2, __attribute__((target("avx2,fma"))), PER_ITEM)         \
  TVC_ITEMS(NAME##Avx512,                                                      \
            __attribute__((target("avx512f,avx512vl,avx2,fma"))), PER_ITEM)    \
  constexpr IsaVariants NAME = {NAME##Base, NAME##Avx2, NAME##Avx512};

struct IsaVariants {
  ItemsFn base, avx2, avx512;
};

TVC_ISA_VARIANTS(attendItems, attendItem)
TVC_ISA_VARIANTS(estimateItems, estimatePattern)
TVC_ISA_VARIANTS(alisaItems, alisaItem)
#undef TVC_ITEMS
#undef TVC_ISA_VARIANTS

/// The widest variant this CPU runs. Measured on Zen 5, one thread: AVX2+FMA
/// is 2.1-2.8x the baseline (SSE2) build on prefill and decode; AVX-512 adds
/// 0-40% over AVX2 (most on decode and head_dim 64).
ItemsFn widest(const IsaVariants &variants) {
  if (tvc::runtime::cpuHasAvx512())
    return variants.avx512;
  if (tvc::runtime::cpuHasAvx2Fma())
    return variants.avx2;
  return variants.base;
}

/// Both entry points: `state` is ALISA's carried state or null.
tvc_status_t attention(const tvc_attention_f32_params_t *params, float *state) {
  if (!tvc::runtime::validAttentionArguments(params, TVC_MASK_ALISA,
                                             state != nullptr))
    return TVC_INVALID_ARGUMENT;
  const tvc_attention_f32_params_t &a = *params;
  if (state && (a.mask_kind != TVC_MASK_ALISA ||
                !tvc::runtime::fitsInMemory(a.batch, a.kv_capacity, a.heads,
                                            1)))
    return TVC_INVALID_ARGUMENT;
  if (!tvc::runtime::fitsAttentionKeyIndices(a))
    return TVC_INVALID_ARGUMENT;
  if (a.batch == 0 || a.q_len == 0 || a.head_dim == 0)
    return TVC_OK;

  Problem p;
  p.q = a.q;
  p.k = a.k;
  p.v = a.v;
  p.out = a.out;
  p.batch = a.batch;
  p.qLen = a.q_len;
  p.kvLen = a.kv_len;
  p.kvCapacity = a.kv_capacity;
  p.heads = a.heads;
  p.kvHeads = a.kv_heads;
  p.headDim = a.head_dim;
  p.maskKind = a.mask_kind;
  p.window = a.window;
  p.global = a.global;
  p.block = a.block;
  p.topK = a.top_k;
  p.pooled = nullptr;
  p.pooledBlocks = 0;
  p.vertical = a.vertical;
  p.slash = a.slash;
  p.lastQueries = a.last_queries;
  p.pattern = nullptr;
  p.patternCounts = nullptr;
  p.state = state;
  p.scale = static_cast<float>(a.scale);
  p.group = a.heads / a.kv_heads;
  // Heads of one group share every key and value row they load, so a tile
  // takes as many of them as fit, then fills up with positions.
  p.headsPerRow = std::min(p.group, kRowTile);
  p.headTiles = (p.group + p.headsPerRow - 1) / p.headsPerRow;
  p.posPerRow = std::min(kRowTile / p.headsPerRow, p.qLen);
  p.posTiles = (p.qLen + p.posPerRow - 1) / p.posPerRow;
  p.items = p.posTiles * p.batch * p.kvHeads * p.headTiles;

  if (a.mask_kind == TVC_MASK_BLOCK_TOP_K) {
    // The mean key of every block a query may select: those before the
    // last query's block. Small (kv_len / block rows per KV head), so
    // computed here once, on the calling thread.
    p.pooledBlocks = (a.kv_len - 1) / a.block;
    int64_t dim = a.head_dim, stride = a.kv_heads * dim;
    // (Slot 0 of the float scratch: the calling thread also runs items,
    // whose block scores use slot 1.)
    float *pooled =
        blockScratch<float>(0, a.batch * a.kv_heads * p.pooledBlocks * dim);
    for (int64_t b = 0; b < a.batch; ++b)
      for (int64_t h = 0; h < a.kv_heads; ++h)
        for (int64_t block = 0; block < p.pooledBlocks; ++block) {
          float *mean =
              pooled + ((b * a.kv_heads + h) * p.pooledBlocks + block) * dim;
          std::fill(mean, mean + dim, 0.0f);
          for (int64_t j = block * a.block; j < (block + 1) * a.block; ++j) {
            const float *key = a.k + (b * a.kv_capacity + j) * stride + h * dim;
            for (int64_t d = 0; d < dim; ++d)
              mean[d] += key[d];
          }
          for (int64_t d = 0; d < dim; ++d)
            mean[d] /= float(a.block);
        }
    p.pooled = pooled;
  }
  static const ItemsFn items = widest(attendItems);
  if (a.mask_kind == TVC_MASK_ALISA) {
    // Rows of a head depend on the rows before (the heavy set): one item
    // per batch entry and query head, its rows in order.
    static const ItemsFn alisa = widest(alisaItems);
    int64_t heads = a.batch * a.heads;
    double work = double(heads) * a.q_len * a.head_dim *
                  (double(std::min(a.window, a.kv_len)) + double(a.top_k));
    if (work < 65536.0 || heads == 1)
      alisa(&p, 0, heads);
    else
      tvc::runtime::ThreadPool::global().parallelFor(heads, 1, alisa, &p);
    return TVC_OK;
  }
  if (a.mask_kind == TVC_MASK_VERTICAL_SLASH) {
    // Every row needs its head's pattern: estimate all of them first, one
    // item per batch entry and query head. The buffers live in the calling
    // thread, which waits for (and takes part in) both phases.
    thread_local std::vector<int32_t> pattern;
    thread_local std::vector<int64_t> counts;
    int64_t patterns = a.batch * a.heads;
    pattern.resize(patterns * (a.vertical + a.slash));
    counts.resize(2 * patterns);
    p.pattern = pattern.data();
    p.patternCounts = counts.data();
    static const ItemsFn estimate = widest(estimateItems);
    double estimateWork = double(patterns) * std::min(a.last_queries, a.q_len) *
                          a.kv_len * a.head_dim;
    if (estimateWork < 65536.0 || patterns == 1)
      estimate(&p, 0, patterns);
    else
      tvc::runtime::ThreadPool::global().parallelFor(patterns, 1, estimate, &p);
  }
  // Below ~64k multiply-adds a wake-up of the workers costs more than the
  // work.
  double keys = double(a.kv_len);
  if (a.mask_kind == TVC_MASK_SLIDING_WINDOW)
    keys = std::min(keys, double(a.window));
  else if (a.mask_kind == TVC_MASK_WINDOW_GLOBAL)
    keys = std::min(keys, double(a.window) + double(a.global));
  else if (a.mask_kind == TVC_MASK_BLOCK_LOCAL)
    keys = std::min(keys, (double(a.window) + double(a.global)) * a.block);
  else if (a.mask_kind == TVC_MASK_BLOCK_TOP_K)
    keys = std::min(keys, (double(a.top_k) + 1) * a.block);
  else if (a.mask_kind == TVC_MASK_VERTICAL_SLASH)
    keys = std::min(keys, double(a.vertical) + double(a.slash));
  double work = double(a.batch) * a.q_len * a.heads * a.head_dim * keys;
  if (work < 65536.0 || p.items == 1)
    items(&p, 0, p.items);
  else
    tvc::runtime::ThreadPool::global().parallelFor(p.items, 1, items, &p);
  return TVC_OK;
}

} // namespace

extern "C" tvc_status_t
tvc_kernel_attention_f32(const tvc_attention_f32_params_t *params) {
  return attention(params, nullptr);
}

extern "C" tvc_status_t
tvc_kernel_attention_state_f32(const tvc_attention_state_f32_params_t *params) {
  if (!params || !params->state)
    return TVC_INVALID_ARGUMENT;
  const tvc_attention_state_f32_params_t &a = *params;
  tvc_attention_f32_params_t plain = {
      a.q,        a.k,         a.v,           a.out,   a.batch,
      a.q_len,    a.kv_len,    a.kv_capacity, a.heads, a.kv_heads,
      a.head_dim, a.mask_kind, a.window,      a.scale, a.global,
      a.block,    a.top_k,     a.vertical,    a.slash, a.last_queries};
  return attention(&plain, a.state);
}
