//===- Attention.cpp - Multi-head attention on the CPU --------------------===//
//
// tvc_kernel_attention_f32: flash-style attention. A work item is a tile of
// query rows (several query heads sharing one KV head, times a block of
// query positions) of one batch entry; it walks the keys in blocks, keeping
// for each row a running maximum, a running sum and an unnormalised output
// (online softmax), so no score matrix exists. Every mask kind gives each
// row one interval of allowed keys, so masked keys are never visited: key
// blocks outside a tile's union of intervals are skipped, and within a block
// each row visits only its own interval (cost follows kept entries). Work
// items run on the runtime's thread pool; scratch is on the stack. The inner
// loops are written for the auto-vectoriser (fixed-width lane accumulators,
// branch-free exp) and compiled for AVX-512, AVX2+FMA and the baseline ISA,
// chosen once by CPUID.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/base/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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
  int64_t maskKind, window;
  float scale;
  int64_t group;       // query heads per KV head
  int64_t headsPerRow; // query heads in one tile
  int64_t headTiles;   // tiles across one group
  int64_t posPerRow;   // query positions in one tile
  int64_t posTiles;
  int64_t items;
};

/// The allowed keys [lo, hi) of the query at position `pos`.
inline void keyInterval(const Problem &p, int64_t pos, int64_t &lo,
                        int64_t &hi) {
  switch (p.maskKind) {
  case TVC_MASK_CAUSAL:
    lo = 0;
    hi = pos + 1;
    return;
  case TVC_MASK_SLIDING_WINDOW:
    lo = std::max<int64_t>(0, pos - p.window + 1);
    hi = pos + 1;
    return;
  default:
    lo = 0;
    hi = p.kvLen;
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

/// Computes one tile of query rows.
__attribute__((always_inline)) inline void attendItem(const Problem &p,
                                                      int64_t item) {
  // Items run heaviest first: the last position tiles see the most keys
  // under a causal mask, so they are numbered 0.
  int64_t perPosTile = p.batch * p.kvHeads * p.headTiles;
  int64_t posTile = p.posTiles - 1 - item / perPosTile;
  int64_t rest = item % perPosTile;
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
  alignas(64) float probs[kKeyTile];
  float rowMax[kRowTile], rowSum[kRowTile];
  int64_t rowLo[kRowTile], rowHi[kRowTile];

  // Row r is head head0 + r / numPos at query index pos0 + r % numPos.
  for (int64_t r = 0; r < rows; ++r) {
    int64_t head = head0 + r / numPos, index = pos0 + r % numPos;
    const float *src = p.q + (b * p.qLen + index) * qStride + head * dim;
    for (int64_t d = 0; d < dim; ++d)
      query[r][d] = src[d] * p.scale;
    std::memset(acc[r], 0, dim * sizeof(float));
    rowMax[r] = -std::numeric_limits<float>::infinity();
    rowSum[r] = 0;
    keyInterval(p, firstPos + index, rowLo[r], rowHi[r]);
  }
  // Intervals move right with the position: the tile's union is
  // [lo of its first position, hi of its last).
  int64_t tileLo = rowLo[0], tileHi = rowHi[numPos - 1];

  const float *kBase = p.k + b * p.kvCapacity * kvStride + kvHead * dim;
  const float *vBase = p.v + b * p.kvCapacity * kvStride + kvHead * dim;
  for (int64_t j0 = tileLo; j0 < tileHi; j0 += kKeyTile) {
    int64_t j1 = std::min(j0 + kKeyTile, tileHi);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t jb = std::max(j0, rowLo[r]), je = std::min(j1, rowHi[r]);
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

#define TVC_ATTENTION_ITEMS(NAME, TARGET)                                      \
  TARGET void NAME(void *context, int64_t begin, int64_t end) {                \
    const Problem &problem = *static_cast<const Problem *>(context);           \
    for (int64_t item = begin; item < end; ++item)                             \
      attendItem(problem, item);                                               \
  }

TVC_ATTENTION_ITEMS(attendItemsBase, )
TVC_ATTENTION_ITEMS(attendItemsAvx2, __attribute__((target("avx2,fma"))))
TVC_ATTENTION_ITEMS(attendItemsAvx512,
                    __attribute__((target("avx512f,avx512vl,avx2,fma"))))
#undef TVC_ATTENTION_ITEMS

/// The widest variant this CPU runs.
ItemsFn selectItems() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
    return attendItemsAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return attendItemsAvx2;
  return attendItemsBase;
}

/// a * b into out; false on overflow.
bool multiply(int64_t a, int64_t b, int64_t &out) {
  return !__builtin_mul_overflow(a, b, &out);
}

/// True when [batch, rows, heads * headDim] floats are addressable.
bool fitsInMemory(int64_t batch, int64_t rows, int64_t heads, int64_t headDim) {
  int64_t elements;
  return multiply(batch, rows, elements) &&
         multiply(elements, heads, elements) &&
         multiply(elements, headDim, elements) &&
         multiply(elements, int64_t(sizeof(float)), elements);
}

} // namespace

extern "C" tvc_status_t
tvc_kernel_attention_f32(const tvc_attention_f32_params_t *params) {
  if (!params || !params->q || !params->k || !params->v || !params->out)
    return TVC_INVALID_ARGUMENT;
  const tvc_attention_f32_params_t &a = *params;
  if (a.batch < 0 || a.q_len < 0 || a.kv_len < 0 || a.kv_capacity < 0 ||
      a.head_dim < 0 || a.heads < 1 || a.kv_heads < 1)
    return TVC_INVALID_ARGUMENT;
  if (a.q_len > a.kv_len || a.kv_len > a.kv_capacity ||
      a.heads % a.kv_heads != 0 || a.head_dim > kMaxHeadDim)
    return TVC_INVALID_ARGUMENT;
  if (a.mask_kind != TVC_MASK_FULL && a.mask_kind != TVC_MASK_CAUSAL &&
      a.mask_kind != TVC_MASK_SLIDING_WINDOW)
    return TVC_INVALID_ARGUMENT;
  if (a.mask_kind == TVC_MASK_SLIDING_WINDOW && a.window < 1)
    return TVC_INVALID_ARGUMENT;
  // A scale that overflows float would turn every score into inf or NaN.
  if (!std::isfinite(a.scale) ||
      std::fabs(a.scale) > std::numeric_limits<float>::max())
    return TVC_INVALID_ARGUMENT;
  if (!fitsInMemory(a.batch, a.q_len, a.heads, a.head_dim) ||
      !fitsInMemory(a.batch, a.kv_capacity, a.kv_heads, a.head_dim))
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
  p.scale = static_cast<float>(a.scale);
  p.group = a.heads / a.kv_heads;
  // Heads of one group share every key and value row they load, so a tile
  // takes as many of them as fit, then fills up with positions.
  p.headsPerRow = std::min(p.group, kRowTile);
  p.headTiles = (p.group + p.headsPerRow - 1) / p.headsPerRow;
  p.posPerRow = std::min(kRowTile / p.headsPerRow, p.qLen);
  p.posTiles = (p.qLen + p.posPerRow - 1) / p.posPerRow;
  p.items = p.posTiles * p.batch * p.kvHeads * p.headTiles;

  static const ItemsFn items = selectItems();
  // Below ~64k multiply-adds a wake-up of the workers costs more than the
  // work.
  double work =
      double(a.batch) * a.q_len * a.heads * a.head_dim *
      (a.mask_kind == TVC_MASK_SLIDING_WINDOW ? std::min(a.window, a.kv_len)
                                              : a.kv_len);
  if (work < 65536.0 || p.items == 1)
    items(&p, 0, p.items);
  else
    tvc::runtime::ThreadPool::global().parallelFor(p.items, 1, items, &p);
  return TVC_OK;
}
