//===- Sparse24.cpp - Fully connected layer with 2:4 sparse weights -------===//
//
// tvc_kernel_linear_2to4_f32: y = x * W^T + bias where W [n,k] keeps two
// weights in every group of four along k, given as values [n,k/2] and 2-bit
// positions [n,(k+7)/8] bytes (tvc_kernels.h). Two paths:
//
//   m = 1 (decode): memory-bound, and the compressed form is 2.125 bytes per
//     dense weight instead of 4, so a GEMV that reads it once and never
//     expands it. A task of the runtime's pool takes a range of output rows
//     and reads them one after the other, one address stream with software
//     prefetch 2 KiB ahead (two or four rows at a time, sharing the loads of
//     x, measured 1.2-1.5x slower: four streams of a cold [n,k/2] array
//     prefetch worse than one; the picks are far from the limit). Within a row,
//     eight values (four groups, 16 x's) are one vector: the x's each value
//     needs are picked from registers by vpermilps, whose lane selector is the
//     low two bits of each 32-bit lane, so the positions need no masking: the
//     index bytes broadcast and shifted right by 0, 2, .., 14 already are
//     the selectors. vpermilps picks within 128-bit halves, so x is split
//     into [group 0 | group 2] and [group 1 | group 3] halves and the two
//     picks are blended. Where the CPU has AVX-512, sixteen values (eight
//     groups) pick from two registers of 16 x's with one vpermt2ps instead
//     (about a third of the instructions per value: 1.35x the AVX2 loops on
//     weights in cache, about even with them from memory). Chosen at run
//     time: AVX-512, else AVX2+FMA, else a scalar baseline. docs/Blas.md has
//     the measurements.
//   m > 1 (prefill): compute-bound; the pool splits the n output rows into
//     slices, each slice expands its rows into a dense per-thread buffer
//     (grow-only; AVX2 writes the eight weights of an index byte at once,
//     1.7x the scalar expansion) and calls single-threaded dnnl_sgemm
//     ('N','T') on them once, the bias copied into y first (beta = 1), as
//     Linear.cpp does. (Expanding and multiplying in L2-sized blocks of
//     rows or of k measured no faster: x is packed again per call.)
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Sparse24.h"

#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cpu/CpuFeatures.h"
#include "runtime/kernels/cpu/Linear.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

namespace {

/// Tasks per thread of the GEMV (as in Gemv.cpp): enough to even out a
/// descheduled thread, few enough that each reads long runs of addresses.
constexpr int64_t kTasksPerThread = 4;
/// Below this many dense-equivalent weights one thread does the GEMV alone:
/// waking the pool costs about as much as reading them.
constexpr int64_t kMinParallelWeights = int64_t(1) << 16;
/// Output rows the GEMV computes together: one (a single stream of values
/// per thread) measured fastest, two and four slower.
constexpr int64_t kRowBlock = 1;
/// How far ahead (floats) the GEMV asks for the next values: 2 KiB measured
/// best (1 KiB close; 256 bytes slower than none).
constexpr int64_t kPrefetch = 512;

/// GEMM slices: a multiple of this many output rows, at least kMinSliceRows,
/// and below kMinParallelWork multiply-adds (dense-equivalent) one slice.
constexpr int64_t kRowAlign = 16;
constexpr int64_t kMinSliceRows = 64;
constexpr double kMinParallelWork = double(1 << 20);

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The 2-bit position of kept value `s` (0 or 1) of group `g` in a row's
/// index bytes.
inline int position(const uint8_t *rowIndices, int64_t g, int s) {
  return (rowIndices[g >> 1] >> (4 * (g & 1) + 2 * s)) & 3;
}

/// dot(x, row) over groups [g0, groups) of one compressed row.
inline float dotGroups(const float *x, const float *values,
                       const uint8_t *indices, int64_t g0, int64_t groups) {
  float sum0 = 0, sum1 = 0;
  for (int64_t g = g0; g < groups; ++g) {
    const float *xg = x + 4 * g;
    sum0 += values[2 * g] * xg[position(indices, g, 0)];
    sum1 += values[2 * g + 1] * xg[position(indices, g, 1)];
  }
  return sum0 + sum1;
}

struct GemvJob {
  const tvc_linear_2to4_f32_params_t *params;
  const float *bias;
  int64_t rowsPerTask;
};

/// y[j] = bias[j] + dot(x, row j) for j in [j0, j1), one row at a time.
void gemvRowsBaseline(const GemvJob &job, int64_t j0, int64_t j1) {
  const tvc_linear_2to4_f32_params_t &p = *job.params;
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  for (int64_t j = j0; j < j1; ++j) {
    float sum = dotGroups(p.x, p.values + j * half, p.indices + j * indexBytes,
                          0, groups);
    p.y[j] = job.bias ? sum + job.bias[j] : sum;
  }
}

#define TVC_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

TVC_AVX2 float sumLanesAvx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// The x's that the eight values of four groups multiply: `lo` holds
/// [group 0 | group 2] of the 16 x's, `hi` [group 1 | group 3]; `selector`
/// has value lane l's position in its low two bits.
TVC_AVX2 __m256 pickAvx2(__m256 lo, __m256 hi, __m256i selector) {
  return _mm256_blend_ps(_mm256_permutevar_ps(lo, selector),
                         _mm256_permutevar_ps(hi, selector), 0xCC);
}

/// Rows [j, j + Rows) of the GEMV: y[j + r] = bias + dot(x, row j + r).
template <int Rows>
TVC_AVX2 void gemvBlockAvx2(const tvc_linear_2to4_f32_params_t &p,
                            const float *bias, int64_t j) {
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  const float *values[Rows];
  const uint8_t *indices[Rows];
  for (int r = 0; r < Rows; ++r) {
    values[r] = p.values + (j + r) * half;
    indices[r] = p.indices + (j + r) * indexBytes;
  }
  const __m256i shiftLo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i shiftHi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
  // Two accumulators per row, so that a row's FMAs do not wait on each other
  // when the weights are in cache.
  __m256 acc[Rows], acc2[Rows];
  for (int r = 0; r < Rows; ++r)
    acc[r] = acc2[r] = _mm256_setzero_ps();
  const float *x = p.x;
  int64_t g = 0;
  // Eight groups: 32 x's, 16 values and 4 index bytes per row.
  for (; g + 8 <= groups; g += 8) {
    __m256 x0 = _mm256_loadu_ps(x + 4 * g), x1 = _mm256_loadu_ps(x + 4 * g + 8),
           x2 = _mm256_loadu_ps(x + 4 * g + 16),
           x3 = _mm256_loadu_ps(x + 4 * g + 24);
    __m256 lo0 = _mm256_permute2f128_ps(x0, x1, 0x20),
           hi0 = _mm256_permute2f128_ps(x0, x1, 0x31),
           lo1 = _mm256_permute2f128_ps(x2, x3, 0x20),
           hi1 = _mm256_permute2f128_ps(x2, x3, 0x31);
    for (int r = 0; r < Rows; ++r) {
      __builtin_prefetch(values[r] + 2 * g + kPrefetch);
      uint32_t bits;
      std::memcpy(&bits, indices[r] + g / 2, sizeof(bits));
      __m256i all = _mm256_set1_epi32(int(bits));
      __m256 w0 = pickAvx2(lo0, hi0, _mm256_srlv_epi32(all, shiftLo));
      __m256 w1 = pickAvx2(lo1, hi1, _mm256_srlv_epi32(all, shiftHi));
      acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(values[r] + 2 * g), w0, acc[r]);
      acc2[r] =
          _mm256_fmadd_ps(_mm256_loadu_ps(values[r] + 2 * g + 8), w1, acc2[r]);
    }
  }
  // Four groups: 16 x's, 8 values and 2 index bytes per row.
  if (g + 4 <= groups) {
    __m256 x0 = _mm256_loadu_ps(x + 4 * g), x1 = _mm256_loadu_ps(x + 4 * g + 8);
    __m256 lo = _mm256_permute2f128_ps(x0, x1, 0x20),
           hi = _mm256_permute2f128_ps(x0, x1, 0x31);
    for (int r = 0; r < Rows; ++r) {
      uint16_t bits;
      std::memcpy(&bits, indices[r] + g / 2, sizeof(bits));
      __m256 w =
          pickAvx2(lo, hi, _mm256_srlv_epi32(_mm256_set1_epi32(bits), shiftLo));
      acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(values[r] + 2 * g), w, acc[r]);
    }
    g += 4;
  }
  for (int r = 0; r < Rows; ++r) {
    float sum = sumLanesAvx2(_mm256_add_ps(acc[r], acc2[r])) +
                dotGroups(x, values[r], indices[r], g, groups);
    p.y[j + r] = bias ? sum + bias[j + r] : sum;
  }
}

__attribute__((target("avx2,fma"))) void gemvRowsAvx2(const GemvJob &job,
                                                      int64_t j0, int64_t j1) {
  int64_t j = j0;
  for (; j + kRowBlock <= j1; j += kRowBlock)
    gemvBlockAvx2<kRowBlock>(*job.params, job.bias, j);
  for (; j < j1; ++j)
    gemvBlockAvx2<1>(*job.params, job.bias, j);
}

#define TVC_AVX512                                                             \
  __attribute__((target("avx512f,avx512vl,avx2,fma"), always_inline)) inline

/// Eight groups (32 x's, 16 values and 4 index bytes per row) of rows
/// `values`/`indices`, added into acc.
template <int Rows>
TVC_AVX512 void stepAvx512(const float *x, const float *const *values,
                           const uint8_t *const *indices, int64_t g,
                           __m512 *acc) {
  const __m512i shifts = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                           20, 22, 24, 26, 28, 30);
  const __m512i groupBase = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16,
                                              20, 20, 24, 24, 28, 28);
  const __m512i three = _mm512_set1_epi32(3);
  __m512 x0 = _mm512_loadu_ps(x + 4 * g), x1 = _mm512_loadu_ps(x + 4 * g + 16);
  for (int r = 0; r < Rows; ++r) {
    __builtin_prefetch(values[r] + 2 * g + kPrefetch);
    uint32_t bits;
    std::memcpy(&bits, indices[r] + g / 2, sizeof(bits));
    __m512i fields = _mm512_srlv_epi32(_mm512_set1_epi32(int(bits)), shifts);
    // (fields & 3) | groupBase.
    __m512i selector =
        _mm512_ternarylogic_epi32(fields, three, groupBase, 0xEA);
    __m512 w = _mm512_permutex2var_ps(x0, selector, x1);
    acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(values[r] + 2 * g), w, acc[r]);
  }
}

/// Rows [j, j + Rows) of the GEMV with 16-lane vectors: the 16 values of
/// eight groups pick their x's from two registers of 16 x's with one
/// vpermt2ps, whose selector (five bits: 4 * group + position) comes from
/// the index bits by one shift and one vpternlogd.
template <int Rows>
TVC_AVX512 void gemvBlockAvx512(const tvc_linear_2to4_f32_params_t &p,
                                const float *bias, int64_t j) {
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  const float *values[Rows];
  const uint8_t *indices[Rows];
  for (int r = 0; r < Rows; ++r) {
    values[r] = p.values + (j + r) * half;
    indices[r] = p.indices + (j + r) * indexBytes;
  }
  // Two accumulators per row (alternate steps of eight groups), so that a
  // row's FMAs do not wait on each other when the weights are in cache.
  __m512 acc[2][Rows];
  for (int r = 0; r < Rows; ++r)
    acc[0][r] = acc[1][r] = _mm512_setzero_ps();
  const float *x = p.x;
  int64_t g = 0;
  for (; g + 16 <= groups; g += 16) {
    stepAvx512<Rows>(x, values, indices, g, acc[0]);
    stepAvx512<Rows>(x, values, indices, g + 8, acc[1]);
  }
  if (g + 8 <= groups) {
    stepAvx512<Rows>(x, values, indices, g, acc[0]);
    g += 8;
  }
  __m256 tail[Rows];
  for (int r = 0; r < Rows; ++r)
    tail[r] = _mm256_setzero_ps();
  if (g + 4 <= groups) {
    __m256 x0 = _mm256_loadu_ps(x + 4 * g), x1 = _mm256_loadu_ps(x + 4 * g + 8);
    __m256 lo = _mm256_permute2f128_ps(x0, x1, 0x20),
           hi = _mm256_permute2f128_ps(x0, x1, 0x31);
    const __m256i shiftLo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (int r = 0; r < Rows; ++r) {
      uint16_t bits;
      std::memcpy(&bits, indices[r] + g / 2, sizeof(bits));
      __m256 w =
          pickAvx2(lo, hi, _mm256_srlv_epi32(_mm256_set1_epi32(bits), shiftLo));
      tail[r] = _mm256_mul_ps(_mm256_loadu_ps(values[r] + 2 * g), w);
    }
    g += 4;
  }
  for (int r = 0; r < Rows; ++r) {
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][r], acc[1][r])) +
                sumLanesAvx2(tail[r]) +
                dotGroups(x, values[r], indices[r], g, groups);
    p.y[j + r] = bias ? sum + bias[j + r] : sum;
  }
}

__attribute__((target("avx512f,avx512vl,avx2,fma"))) void
gemvRowsAvx512(const GemvJob &job, int64_t j0, int64_t j1) {
  int64_t j = j0;
  for (; j + kRowBlock <= j1; j += kRowBlock)
    gemvBlockAvx512<kRowBlock>(*job.params, job.bias, j);
  for (; j < j1; ++j)
    gemvBlockAvx512<1>(*job.params, job.bias, j);
}

template <void (*Rows)(const GemvJob &, int64_t, int64_t)>
void gemvTasks(void *context, int64_t begin, int64_t end) {
  const GemvJob &job = *static_cast<const GemvJob *>(context);
  int64_t n = job.params->n;
  Rows(job, std::min(n, begin * job.rowsPerTask),
       std::min(n, end * job.rowsPerTask));
}

/// Rows [j0, j1) of W expanded into dense[(j1 - j0), k]. Positions may
/// repeat, so kept values are added, not stored.
void decompressRows(const tvc_linear_2to4_f32_params_t &p, int64_t j0,
                    int64_t j1, float *dense) {
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  std::memset(dense, 0, size_t(j1 - j0) * size_t(p.k) * sizeof(float));
  for (int64_t j = j0; j < j1; ++j) {
    const float *values = p.values + j * half;
    const uint8_t *indices = p.indices + j * indexBytes;
    float *row = dense + (j - j0) * p.k;
    for (int64_t g = 0; g < groups; ++g) {
      row[4 * g + position(indices, g, 0)] += values[2 * g];
      row[4 * g + position(indices, g, 1)] += values[2 * g + 1];
    }
  }
}

/// decompressRows with AVX2: each index byte (two groups) and its four
/// values become eight dense weights at once, lane l of a group holding
/// (first == l ? v0 : 0) + (second == l ? v1 : 0).
__attribute__((target("avx2,fma"))) void
decompressRowsAvx2(const tvc_linear_2to4_f32_params_t &p, int64_t j0,
                   int64_t j1, float *dense) {
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  const __m256i firstShift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const __m256i secondShift = _mm256_setr_epi32(2, 2, 2, 2, 6, 6, 6, 6);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3);
  const __m256i three = _mm256_set1_epi32(3);
  const __m256i firstValue = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2);
  const __m256i secondValue = _mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3);
  for (int64_t j = j0; j < j1; ++j) {
    const float *values = p.values + j * half;
    const uint8_t *indices = p.indices + j * indexBytes;
    float *row = dense + (j - j0) * p.k;
    int64_t g = 0;
    for (; g + 2 <= groups; g += 2) {
      __m256 four = _mm256_castps128_ps256(_mm_loadu_ps(values + 2 * g));
      __m256i byte = _mm256_set1_epi32(indices[g / 2]);
      __m256i first =
          _mm256_and_si256(_mm256_srlv_epi32(byte, firstShift), three);
      __m256i second =
          _mm256_and_si256(_mm256_srlv_epi32(byte, secondShift), three);
      __m256 v0 =
          _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(first, lane)),
                        _mm256_permutevar8x32_ps(four, firstValue));
      __m256 v1 =
          _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(second, lane)),
                        _mm256_permutevar8x32_ps(four, secondValue));
      _mm256_storeu_ps(row + 4 * g, _mm256_add_ps(v0, v1));
    }
    for (; g < groups; ++g) {
      int first = position(indices, g, 0), second = position(indices, g, 1);
      for (int l = 0; l < 4; ++l)
        row[4 * g + l] = (first == l ? values[2 * g] : 0.0f) +
                         (second == l ? values[2 * g + 1] : 0.0f);
    }
  }
}

struct GemmJob {
  const tvc_linear_2to4_f32_params_t *params;
  int64_t sliceRows;
  bool avx2;
  /// Set by any slice whose call failed.
  std::atomic<bool> failed;
};

/// Output columns [n0, n1) of y (rows n0..n1-1 of W): expand, then one
/// single-threaded dnnl_sgemm; false when oneDNN reports an error.
bool gemmColumns(const tvc_linear_2to4_f32_params_t &p, int64_t n0, int64_t n1,
                 bool avx2) {
  int64_t columns = n1 - n0;
  float *y = p.y + n0;
  float beta = tvc::runtime::copyBiasColumns(
      y, p.m, p.n, p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr, n0,
      columns);
  // Grow-only, so a steady sequence of calls allocates nothing here.
  thread_local std::vector<float> dense;
  size_t needed = size_t(columns) * size_t(p.k);
  if (dense.size() < needed)
    dense.resize(needed);
  if (avx2)
    decompressRowsAvx2(p, n0, n1, dense.data());
  else
    decompressRows(p, n0, n1, dense.data());
  return tvc::runtime::sgemmSerial('T', p.m, columns, p.k, p.x, p.k,
                                   dense.data(), p.k, beta, y, p.n);
}

void gemmSlices(void *context, int64_t begin, int64_t end) {
  GemmJob &job = *static_cast<GemmJob *>(context);
  int64_t n = job.params->n;
  for (int64_t slice = begin; slice < end; ++slice) {
    int64_t n0 = slice * job.sliceRows;
    if (!gemmColumns(*job.params, n0, std::min(n, n0 + job.sliceRows),
                     job.avx2))
      job.failed.store(true, std::memory_order_relaxed);
  }
}

} // namespace

void tvc::runtime::gemv2to4F32(const tvc_linear_2to4_f32_params_t &p,
                               Sparse24Code code) {
  ThreadPool &pool = ThreadPool::global();
  int64_t tasks = 1;
  if (p.n * p.k >= kMinParallelWeights && pool.numThreads() > 1)
    tasks = kTasksPerThread * pool.numThreads();
  GemvJob job = {};
  job.params = &p;
  job.bias = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr;
  job.rowsPerTask = std::max<int64_t>(
      kRowBlock, ceilDiv(ceilDiv(p.n, tasks), kRowBlock) * kRowBlock);
  ThreadPool::Body body = gemvTasks<gemvRowsBaseline>;
  if (code == Sparse24Code::Detected && cpuHasAvx512())
    body = gemvTasks<gemvRowsAvx512>;
  else if (code != Sparse24Code::Baseline && cpuHasAvx2Fma())
    body = gemvTasks<gemvRowsAvx2>;
  pool.parallelFor(ceilDiv(p.n, job.rowsPerTask), 1, body, &job);
}

tvc_status_t tvc::runtime::gemm2to4F32(const tvc_linear_2to4_f32_params_t &p,
                                       Sparse24Code code) {
  ThreadPool &pool = ThreadPool::global();
  double work = double(p.m) * double(p.n) * double(p.k);
  int64_t slices = 1;
  if (work >= kMinParallelWork && pool.numThreads() > 1)
    slices =
        std::min<int64_t>(2 * pool.numThreads(), ceilDiv(p.n, kMinSliceRows));
  GemmJob job{
      &p, p.n, code != Sparse24Code::Baseline && cpuHasAvx2Fma(), {false}};
  if (slices > 1) {
    job.sliceRows = ceilDiv(ceilDiv(p.n, slices), kRowAlign) * kRowAlign;
    slices = ceilDiv(p.n, job.sliceRows);
  }
  pool.parallelFor(slices, 1, gemmSlices, &job);
  return job.failed ? TVC_INTERNAL : TVC_OK;
}

extern "C" tvc_status_t
tvc_kernel_linear_2to4_f32(const tvc_linear_2to4_f32_params_t *params) {
  if (!tvc::runtime::validLinear2to4Arguments(params, TVC_LINEAR_HAS_BIAS))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_2to4_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  if (p.k == 0) {
    tvc::runtime::fillWithBias(
        p.y, p.m, p.n, (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr);
    return TVC_OK;
  }
  if (p.m == 1) {
    tvc::runtime::gemv2to4F32(p);
    return TVC_OK;
  }
  return tvc::runtime::gemm2to4F32(p);
}
