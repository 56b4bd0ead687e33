//===- LinearW16.cpp - Fully connected layer with 16-bit weights ----------===//
//
// tvc_kernel_linear_bf16w_f32 and tvc_kernel_linear_f16w_f32: y = x * W^T +
// bias with W holding bf16 or IEEE binary16 bit patterns, x, bias and y fp32.
// Every weight is widened to fp32 exactly (bf16: the bits shifted left by
// 16; f16: vcvtph2ps, or integer steps on the baseline) and multiplied in
// fp32; x is never rounded. Written by hand: Debian's oneDNN 2.6 offers
// dnnl_sgemm and int8 GEMMs only through its C API; OpenBLAS, BLIS and
// libxsmm have no fp32 x bf16/f16 GEMM or GEMV (docs/Blas.md, "16-bit
// weights").
//
//   Up to kW16MaxGemvRows rows (decode): memory-bound, and the weights are
//     half the bytes of fp32 ones, so each weight is read once for all rows,
//     widened in registers, multiplied into fp32 accumulators. [n,k]: a task
//     of the pool takes a range of output columns and reads their weight
//     rows one after the other (one address stream per thread, every line
//     prefetched 2 KiB ahead), each row dotted with up to eight rows of x
//     at once (bf16, one row, AVX-512: 32 weights per load, see
//     dotRowPaired). [k,n]: as Gemv.cpp's [k,n] loop, column blocks whose
//     partial sums stay in L1 and row parts when the blocks alone give too few
//     tasks, with eight (one row of x) or four weight rows widened per pass
//     over the partial sums (the next pass's rows prefetched) and used for
//     up to four rows of x.
//   More rows (prefill): compute-bound; slices of output columns on the
//     pool as in Linear.cpp, each widened tile by tile (at most kTileBytes
//     of fp32, so the tile stays in L2) into a per-thread buffer that only
//     grows, and multiplied by one single-threaded dnnl_sgemm call per tile
//     over the bias copied into y (beta = 1).
//
// The loops (LinearW16Loops.inc) are compiled three times, for AVX-512
// (16 lanes), AVX2 with FMA and F16C (8 lanes) and the x86-64 baseline (SSE2,
// 4 lanes), and chosen at run time.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/LinearW16.h"

#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cpu/Activation.h"
#include "runtime/kernels/cpu/CpuFeatures.h"
#include "runtime/kernels/cpu/Linear.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

using tvc::runtime::W16Code;
using tvc::runtime::W16Type;

namespace {

/// Tasks per thread of the few-rows path (as in Gemv.cpp).
constexpr int64_t kTasksPerThread = 4;
/// Below this many weight-row products one thread does the few-rows path
/// alone: waking the pool costs about as much.
constexpr double kMinParallelWork = double(1 << 15);
/// Rows of x one pass over a weight row ([n,k]) or block ([k,n]) serves:
/// for [k,n], chunks of more than four rows measured slower than two
/// passes of four (the second reading the block from L2): their
/// broadcasts of x no longer fit the registers.
constexpr int64_t kRowChunk = 8;
constexpr int64_t kInOutRowChunk = 4;
/// How far ahead (weights, 2 KiB) the [n,k] loop asks for its row's next
/// lines.
constexpr int64_t kPrefetch = 1024;
/// Partial sums of one [k,n] task: at most this many floats (16 KiB, L1).
constexpr int64_t kColumnBlockFloats = 4096;
/// Fewest weight rows in one part of a split [k,n] weight.
constexpr int64_t kMinRowsPerPart = 64;

/// GEMM path: slices of output columns as in Linear.cpp, tiles of at most
/// kTileBytes of widened weights (a multiple of kColumnAlign columns).
constexpr int64_t kColumnAlign = 16;
constexpr int64_t kMinSliceColumns = 64;
constexpr double kMinParallelGemmWork = double(1 << 20);
constexpr int64_t kTileBytes = int64_t(512) << 10;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// IEEE binary16 to binary32, exactly (a signalling NaN comes back quiet,
/// as from vcvtph2ps).
inline float widenF16Scalar(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16;
  uint32_t magnitude = half & 0x7fff;
  if (magnitude >= 0x7c00) {
    uint32_t mantissa = uint32_t(magnitude & 0x3ff) << 13;
    return bitsToFloat(sign | 0x7f800000 | mantissa |
                       (mantissa ? 0x00400000 : 0));
  }
  if (magnitude < 0x0400) { // zero or subnormal: magnitude * 2^-24
    float value = float(magnitude) * 0x1p-24f;
    return sign ? -value : value;
  }
  return bitsToFloat(sign | ((magnitude << 13) + (uint32_t(112) << 23)));
}

template <W16Type T> inline float widenScalar(uint16_t bits) {
  if constexpr (T == W16Type::BF16)
    return bitsToFloat(uint32_t(bits) << 16);
  else
    return widenF16Scalar(bits);
}

struct GemvJob {
  const tvc_linear_w16_f32_params_t *params;
  const float *bias;
  /// [n,k]: output columns per task.
  int64_t rowsPerTask;
  /// [k,n]: the task grid is columnBlocks x rowParts.
  int64_t columnBlock, columnBlocks;
  int64_t rowsPerPart;
  /// [k,n] with rowParts > 1: (rowParts - 1) x [m, n] partial sums.
  float *scratch;
  /// bf16 [n,k], one row of x, AVX-512: x with each run of 32 elements
  /// reordered as its 16 even elements, then its 16 odd ones (pairedRow).
  const float *pairedX;
};

#define TVC_W16_INLINE inline __attribute__((always_inline))

} // namespace

// The namespaces below are anonymous too; each compiles the loops for one
// instruction set.
namespace {

#pragma clang attribute push(                                                  \
    __attribute__((target("avx512f,avx512vl,avx2,fma,f16c"))),                 \
    apply_to = function)
namespace avx512 {

using Vec = __m512;
constexpr int64_t kLanes = 16;

TVC_W16_INLINE Vec zero() { return _mm512_setzero_ps(); }
TVC_W16_INLINE Vec load(const float *from) { return _mm512_loadu_ps(from); }
TVC_W16_INLINE void store(float *to, Vec value) { _mm512_storeu_ps(to, value); }
TVC_W16_INLINE Vec splat(float value) { return _mm512_set1_ps(value); }
TVC_W16_INLINE Vec fmadd(Vec a, Vec b, Vec c) {
  return _mm512_fmadd_ps(a, b, c);
}
TVC_W16_INLINE Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
TVC_W16_INLINE float sumLanes(Vec value) { return _mm512_reduce_add_ps(value); }
TVC_W16_INLINE Vec widenBf16(const uint16_t *from) {
  __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(from));
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}
TVC_W16_INLINE Vec widenF16(const uint16_t *from) {
  return _mm512_cvtph_ps(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(from)));
}

#include "runtime/kernels/cpu/LinearW16Loops.inc"

/// dotRow<BF16, 1> with the weights read 32 at a time: one 64-byte load
/// holds 32 weights, two to a 32-bit lane; the lanes shifted left by 16 are
/// the even weights as fp32, the lanes with their low half cleared the odd
/// ones, so two vectors cost a load and two single-cycle operations
/// (vpmovzxwd and a shift per vector otherwise). `paired` is x reordered to
/// match (GemvJob::pairedX); the tail uses x itself. Measured 5-9% faster
/// than dotRow from memory for one row of x; slower for eight.
TVC_W16_INLINE void dotRowPaired(const float *paired, const float *x, int64_t k,
                                 const uint16_t *row, float bias, float *y) {
  const __m512i high = _mm512_set1_epi32(int(0xffff0000u));
  Vec acc[4] = {zero(), zero(), zero(), zero()};
  int64_t l = 0;
  for (; l + 64 <= k; l += 64) {
    for (int u = 0; u < 2; ++u) {
      __builtin_prefetch(row + l + kPrefetch + 32 * u);
      __m512i bits = _mm512_loadu_si512(row + l + 32 * u);
      Vec even = _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16));
      Vec odd = _mm512_castsi512_ps(_mm512_and_si512(bits, high));
      acc[2 * u] = fmadd(load(paired + l + 32 * u), even, acc[2 * u]);
      acc[2 * u + 1] =
          fmadd(load(paired + l + 32 * u + 16), odd, acc[2 * u + 1]);
    }
  }
  if (l + 32 <= k) {
    __m512i bits = _mm512_loadu_si512(row + l);
    Vec even = _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16));
    Vec odd = _mm512_castsi512_ps(_mm512_and_si512(bits, high));
    acc[0] = fmadd(load(paired + l), even, acc[0]);
    acc[1] = fmadd(load(paired + l + 16), odd, acc[1]);
    l += 32;
  }
  float sum = sumLanes(add(add(acc[0], acc[1]), add(acc[2], acc[3])));
  for (; l < k; ++l)
    sum += x[l] * widenScalar<W16Type::BF16>(row[l]);
  *y = sum + bias;
}

/// outInTasks<BF16> for one row of x, through dotRowPaired.
void outInTasksPaired(void *context, int64_t begin, int64_t end) {
  const GemvJob &job = *static_cast<const GemvJob *>(context);
  const tvc_linear_w16_f32_params_t &p = *job.params;
  int64_t j1 = std::min(p.n, end * job.rowsPerTask);
  for (int64_t j = std::min(p.n, begin * job.rowsPerTask); j < j1; ++j)
    dotRowPaired(job.pairedX, p.x, p.k, p.w + j * p.k,
                 job.bias ? job.bias[j] : 0.0f, p.y + j);
}

} // namespace avx512
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))),         \
                             apply_to = function)
namespace avx2 {

using Vec = __m256;
constexpr int64_t kLanes = 8;

TVC_W16_INLINE Vec zero() { return _mm256_setzero_ps(); }
TVC_W16_INLINE Vec load(const float *from) { return _mm256_loadu_ps(from); }
TVC_W16_INLINE void store(float *to, Vec value) { _mm256_storeu_ps(to, value); }
TVC_W16_INLINE Vec splat(float value) { return _mm256_set1_ps(value); }
TVC_W16_INLINE Vec fmadd(Vec a, Vec b, Vec c) {
  return _mm256_fmadd_ps(a, b, c);
}
TVC_W16_INLINE Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
TVC_W16_INLINE float sumLanes(Vec value) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(value),
                        _mm256_extractf128_ps(value, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
TVC_W16_INLINE Vec widenBf16(const uint16_t *from) {
  __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i *>(from));
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}
TVC_W16_INLINE Vec widenF16(const uint16_t *from) {
  return _mm256_cvtph_ps(
      _mm_loadu_si128(reinterpret_cast<const __m128i *>(from)));
}

#include "runtime/kernels/cpu/LinearW16Loops.inc"

} // namespace avx2
#pragma clang attribute pop

/// The x86-64 baseline: SSE2, no FMA, no F16C.
namespace baseline {

using Vec = __m128;
constexpr int64_t kLanes = 4;

TVC_W16_INLINE Vec zero() { return _mm_setzero_ps(); }
TVC_W16_INLINE Vec load(const float *from) { return _mm_loadu_ps(from); }
TVC_W16_INLINE void store(float *to, Vec value) { _mm_storeu_ps(to, value); }
TVC_W16_INLINE Vec splat(float value) { return _mm_set1_ps(value); }
TVC_W16_INLINE Vec fmadd(Vec a, Vec b, Vec c) {
  return _mm_add_ps(_mm_mul_ps(a, b), c);
}
TVC_W16_INLINE Vec add(Vec a, Vec b) { return _mm_add_ps(a, b); }
TVC_W16_INLINE float sumLanes(Vec value) {
  __m128 s = _mm_add_ps(value, _mm_movehl_ps(value, value));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
TVC_W16_INLINE __m128i loadFour(const uint16_t *from) {
  return _mm_loadl_epi64(reinterpret_cast<const __m128i *>(from));
}
/// Interleaving zeros below each 16-bit weight is the shift by 16.
TVC_W16_INLINE Vec widenBf16(const uint16_t *from) {
  return _mm_castsi128_ps(
      _mm_unpacklo_epi16(_mm_setzero_si128(), loadFour(from)));
}
/// widenF16Scalar on four lanes, every case computed and the right one
/// selected per lane.
TVC_W16_INLINE Vec widenF16(const uint16_t *from) {
  __m128i half = _mm_unpacklo_epi16(loadFour(from), _mm_setzero_si128());
  __m128i sign =
      _mm_slli_epi32(_mm_and_si128(half, _mm_set1_epi32(0x8000)), 16);
  __m128i magnitude = _mm_and_si128(half, _mm_set1_epi32(0x7fff));
  __m128i shifted = _mm_slli_epi32(magnitude, 13);
  __m128i normal = _mm_add_epi32(shifted, _mm_set1_epi32(112 << 23));
  __m128i isNan = _mm_cmpgt_epi32(magnitude, _mm_set1_epi32(0x7c00));
  __m128i special =
      _mm_or_si128(_mm_or_si128(shifted, _mm_set1_epi32(0x7f800000)),
                   _mm_and_si128(isNan, _mm_set1_epi32(0x00400000)));
  __m128i subnormal = _mm_castps_si128(
      _mm_mul_ps(_mm_cvtepi32_ps(magnitude), _mm_set1_ps(0x1p-24f)));
  __m128i isSpecial = _mm_cmpgt_epi32(magnitude, _mm_set1_epi32(0x7bff));
  __m128i isSubnormal = _mm_cmplt_epi32(magnitude, _mm_set1_epi32(0x0400));
  __m128i bits = _mm_or_si128(_mm_and_si128(isSpecial, special),
                              _mm_andnot_si128(isSpecial, normal));
  bits = _mm_or_si128(_mm_and_si128(isSubnormal, subnormal),
                      _mm_andnot_si128(isSubnormal, bits));
  return _mm_castsi128_ps(_mm_or_si128(bits, sign));
}

#include "runtime/kernels/cpu/LinearW16Loops.inc"

} // namespace baseline

/// The compiled copy `code` allows on this CPU.
enum class Isa { Avx512, Avx2, Baseline };

Isa chooseIsa(W16Code code) {
  static const bool f16c = [] {
    __builtin_cpu_init();
    return bool(__builtin_cpu_supports("f16c"));
  }();
  if (code == W16Code::Baseline || !f16c || !tvc::runtime::cpuHasAvx2Fma())
    return Isa::Baseline;
  if (code == W16Code::Detected && tvc::runtime::cpuHasAvx512())
    return Isa::Avx512;
  return Isa::Avx2;
}

/// The loops of one compiled copy for one weight type.
struct Loops {
  tvc::runtime::ThreadPool::Body outIn, inOut;
  void (*widenTile)(const uint16_t *src, int64_t ldsrc, int64_t rows,
                    int64_t cols, float *dst);
  int64_t lanes;
  /// For one row of x, where set: outIn reading GemvJob::pairedX.
  tvc::runtime::ThreadPool::Body outInPaired = nullptr;
};

template <W16Type T> Loops loopsFor(Isa isa) {
  switch (isa) {
  case Isa::Avx512:
    return {avx512::outInTasks<T>, avx512::inOutTasks<T>, avx512::widenTile<T>,
            avx512::kLanes};
  case Isa::Avx2:
    return {avx2::outInTasks<T>, avx2::inOutTasks<T>, avx2::widenTile<T>,
            avx2::kLanes};
  default:
    return {baseline::outInTasks<T>, baseline::inOutTasks<T>,
            baseline::widenTile<T>, baseline::kLanes};
  }
}

Loops loopsFor(W16Type type, W16Code code) {
  Isa isa = chooseIsa(code);
  if (type == W16Type::F16)
    return loopsFor<W16Type::F16>(isa);
  Loops loops = loopsFor<W16Type::BF16>(isa);
  if (isa == Isa::Avx512)
    loops.outInPaired = avx512::outInTasksPaired;
  return loops;
}

/// x[0:k] with each run of 32 elements reordered as its 16 even elements,
/// then its 16 odd ones; the last k % 32 stay in place.
void pairedRow(const float *x, int64_t k, float *paired) {
  int64_t l = 0;
  for (; l + 32 <= k; l += 32)
    for (int i = 0; i < 16; ++i) {
      paired[l + i] = x[l + 2 * i];
      paired[l + 16 + i] = x[l + 2 * i + 1];
    }
  for (; l < k; ++l)
    paired[l] = x[l];
}

struct GemmJob {
  const tvc_linear_w16_f32_params_t *params;
  int64_t sliceColumns, tileColumns;
  void (*widenTile)(const uint16_t *, int64_t, int64_t, int64_t, float *);
  /// Set by any tile whose call failed.
  std::atomic<bool> failed;
};

/// Output columns [n0, n1) of y: widen W's tile, then one single-threaded
/// dnnl_sgemm accumulating over the bias (or zeros); false when oneDNN
/// reports an error.
bool gemmTile(const GemmJob &job, int64_t n0, int64_t n1, float *dense) {
  const tvc_linear_w16_f32_params_t &p = *job.params;
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  int64_t columns = n1 - n0;
  float *y = p.y + n0;
  float beta = tvc::runtime::copyBiasColumns(
      y, p.m, p.n, p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr, n0,
      columns);
  bool ok;
  if (inOut) {
    job.widenTile(p.w + n0, p.n, p.k, columns, dense);
    ok = tvc::runtime::sgemmSerial('N', p.m, columns, p.k, p.x, p.k, dense,
                                   columns, beta, y, p.n);
  } else {
    job.widenTile(p.w + n0 * p.k, p.k, columns, p.k, dense);
    ok = tvc::runtime::sgemmSerial('T', p.m, columns, p.k, p.x, p.k, dense, p.k,
                                   beta, y, p.n);
  }
  if (ok)
    tvc::runtime::applyActivation(tvc::runtime::linearActivation(p.flags), y,
                                  p.m, p.n, columns);
  return ok;
}

void gemmSlices(void *context, int64_t begin, int64_t end) {
  GemmJob &job = *static_cast<GemmJob *>(context);
  const tvc_linear_w16_f32_params_t &p = *job.params;
  // Grow-only, so a steady sequence of calls allocates nothing here.
  thread_local std::vector<float> dense;
  size_t needed = size_t(job.tileColumns) * size_t(p.k);
  if (dense.size() < needed)
    dense.resize(needed);
  for (int64_t slice = begin; slice < end; ++slice) {
    int64_t s0 = slice * job.sliceColumns;
    int64_t s1 = std::min(p.n, s0 + job.sliceColumns);
    for (int64_t n0 = s0; n0 < s1; n0 += job.tileColumns)
      if (!gemmTile(job, n0, std::min(s1, n0 + job.tileColumns), dense.data()))
        job.failed.store(true, std::memory_order_relaxed);
  }
}

template <W16Type T>
tvc_status_t linearW16(const tvc_linear_w16_f32_params_t *params) {
  if (!tvc::runtime::validLinearArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT |
                      TVC_LINEAR_ACTIVATION_MASK))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_w16_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  // The GEMM path applies the activation slice by slice; the others once.
  if (p.k > 0 && p.m > tvc::runtime::kW16MaxGemvRows)
    return tvc::runtime::gemmW16F32(T, p);
  if (p.k == 0)
    tvc::runtime::fillWithBias(
        p.y, p.m, p.n, (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr);
  else
    tvc::runtime::gemvW16F32(T, p);
  tvc::runtime::applyActivationParallel(tvc::runtime::linearActivation(p.flags),
                                        p.y, p.m, p.n);
  return TVC_OK;
}

} // namespace

void tvc::runtime::gemvW16F32(W16Type type,
                              const tvc_linear_w16_f32_params_t &p,
                              W16Code code) {
  ThreadPool &pool = ThreadPool::global();
  Loops loops = loopsFor(type, code);
  int64_t tasks = 1;
  // In double: n * k * 8 may exceed int64_t where n * k floats fit.
  if (double(p.n) * double(p.k) * double(std::min(p.m, kRowChunk)) >=
          kMinParallelWork &&
      pool.numThreads() > 1)
    tasks = kTasksPerThread * pool.numThreads();
  GemvJob job = {};
  job.params = &p;
  job.bias = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr;

  if (!(p.flags & TVC_LINEAR_WEIGHT_IN_OUT)) {
    ThreadPool::Body body = loops.outIn;
    // Per thread and grow-only, so steady decoding allocates nothing.
    thread_local std::vector<float> paired;
    if (p.m == 1 && loops.outInPaired) {
      if (paired.size() < size_t(p.k))
        paired.resize(p.k);
      pairedRow(p.x, p.k, paired.data());
      job.pairedX = paired.data();
      body = loops.outInPaired;
    }
    job.rowsPerTask = std::max<int64_t>(4, ceilDiv(ceilDiv(p.n, tasks), 4) * 4);
    pool.parallelFor(ceilDiv(p.n, job.rowsPerTask), 1, body, &job);
    return;
  }

  // Balanced column blocks of whole vectors whose partial sums for every
  // row chunk fit kColumnBlockFloats, then as many row parts as it takes
  // to reach the task count.
  int64_t blockLimit = std::max<int64_t>(
      4 * loops.lanes, kColumnBlockFloats / std::min(p.m, kInOutRowChunk));
  job.columnBlocks = ceilDiv(p.n, blockLimit);
  job.columnBlock =
      ceilDiv(ceilDiv(p.n, job.columnBlocks), loops.lanes) * loops.lanes;
  job.columnBlocks = ceilDiv(p.n, job.columnBlock);
  int64_t rowParts =
      std::clamp<int64_t>(ceilDiv(tasks, job.columnBlocks), 1,
                          std::max<int64_t>(1, p.k / kMinRowsPerPart));
  job.rowsPerPart = ceilDiv(ceilDiv(p.k, rowParts), 8) * 8;
  rowParts = ceilDiv(p.k, job.rowsPerPart);
  // Partial sums of the extra row parts live in a per-thread buffer that
  // only grows, so steady decoding allocates nothing.
  thread_local std::vector<float> scratch;
  if (rowParts > 1) {
    size_t needed = size_t(rowParts - 1) * size_t(p.m) * size_t(p.n);
    if (scratch.size() < needed)
      scratch.resize(needed);
    job.scratch = scratch.data();
  }
  pool.parallelFor(job.columnBlocks * rowParts, 1, loops.inOut, &job);
  for (int64_t part = 1; part < rowParts; ++part) {
    const float *partial = job.scratch + (part - 1) * p.m * p.n;
    for (int64_t i = 0; i < p.m * p.n; ++i)
      p.y[i] += partial[i];
  }
}

tvc_status_t tvc::runtime::gemmW16F32(W16Type type,
                                      const tvc_linear_w16_f32_params_t &p,
                                      W16Code code) {
  ThreadPool &pool = ThreadPool::global();
  double work = double(p.m) * double(p.n) * double(p.k);
  int64_t slices = 1;
  if (work >= kMinParallelGemmWork && pool.numThreads() > 1)
    slices = std::min<int64_t>(2 * pool.numThreads(),
                               ceilDiv(p.n, kMinSliceColumns));
  GemmJob job{&p, p.n, 0, loopsFor(type, code).widenTile, {false}};
  if (slices > 1) {
    job.sliceColumns =
        ceilDiv(ceilDiv(p.n, slices), kColumnAlign) * kColumnAlign;
    slices = ceilDiv(p.n, job.sliceColumns);
  }
  int64_t tileLimit = std::max<int64_t>(
      kColumnAlign, kTileBytes / (p.k * int64_t(sizeof(float))) / kColumnAlign *
                        kColumnAlign);
  job.tileColumns = std::min(job.sliceColumns, tileLimit);
  pool.parallelFor(slices, 1, gemmSlices, &job);
  return job.failed ? TVC_INTERNAL : TVC_OK;
}

extern "C" tvc_status_t
tvc_kernel_linear_bf16w_f32(const tvc_linear_w16_f32_params_t *params) {
  return linearW16<W16Type::BF16>(params);
}

extern "C" tvc_status_t
tvc_kernel_linear_f16w_f32(const tvc_linear_w16_f32_params_t *params) {
  return linearW16<W16Type::F16>(params);
}
