//===- KernelBench.cpp - Timings of the CPU kernels -----------------------===//
//
// Medians over repeats, after warm-up, of tvc_kernel_linear_f32 and
// tvc_kernel_attention_f32 on GPT-2-sized decode and prefill shapes, with
// GFLOP/s counted over the work the kernel must do (kept attention entries
// only), and of tvc_sample over GPT-2's vocabulary. Built on request (`ninja
// tvc-kernel-bench`), never by default or by ctest. Usage: tvc-kernel-bench
// [threads] (default: the pool's default); `tvc-kernel-bench <threads>
// attention-scaling [budget [runs [kinds [T...]]]]` prints only the
// prefill rows per mask kind of bench/attention_scaling.sh;
// `tvc-kernel-bench <threads> block-diagonal` only the block-diagonal
// kernel against the dense matrix it stands for; `tvc-kernel-bench <threads>
// low-rank` only the fused low-rank kernel against the two linear calls it
// replaces and the merged dense matrix; `tvc-kernel-bench <threads> w16`
// the 16-bit-weight kernels against fp32 weights, `w16-rows` their few-rows
// and GEMM paths over m.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_sampling.h"
#include "runtime/kernels/cpu/BenchUtils.h"
#include "runtime/kernels/cpu/Linear.h"
#include "runtime/kernels/cpu/LinearW16.h"
#include "runtime/kernels/cpu/Sparse24.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using tvc::bench::distinctFloats;
using tvc::bench::medianMsInterleaved;
using tvc::bench::nowMs;

/// Median milliseconds of `call` over about 200 ms after 50 ms of warm-up.
template <typename Call> double medianMs(Call call) {
  for (double start = nowMs(); nowMs() - start < 50;)
    call();
  std::vector<double> times;
  for (double start = nowMs(); times.size() < 5 || nowMs() - start < 200;) {
    double t0 = nowMs();
    call();
    times.push_back(nowMs() - t0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<float> randomFloats(size_t count) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> values(count);
  for (float &value : values)
    value = dist(rng);
  return values;
}

void benchLinear(int64_t m, int64_t n, int64_t k) {
  std::vector<float> x = randomFloats(m * k), w = randomFloats(n * k),
                     bias = randomFloats(n), y(m * n);
  tvc_linear_f32_params_t p = {x.data(), w.data(), bias.data(), y.data(),
                               m,        n,        k,           1};
  double ms = medianMs([&] { tvc_kernel_linear_f32(&p); });
  std::printf("linear    m=%-4lld n=%-6lld k=%-5lld %9.3f ms %7.1f GFLOP/s\n",
              (long long)m, (long long)n, (long long)k, ms,
              2.0 * m * n * k / ms / 1e6);
}

/// Decode through weights that are not in any cache: as many copies of W as
/// fill 256 MiB, a different one each call, as in a model's layers; through
/// the kernel (the hand-written GEMV) and through its oneDNN path, each in
/// GB/s of weights read.
void benchColdGemv(int64_t n, int64_t k, int64_t flags) {
  int64_t copies = std::max<int64_t>(2, (int64_t(256) << 20) / (n * k * 4));
  std::vector<float> x = randomFloats(k), bias = randomFloats(n), y(n);
  std::vector<float> w(copies * n * k, 0.5f);
  int64_t next = 0;
  auto params = [&] {
    const float *weights = w.data() + (next++ % copies) * n * k;
    return tvc_linear_f32_params_t{x.data(), weights, bias.data(), y.data(),
                                   1,        n,       k,           flags};
  };
  double gemv = medianMs([&] {
    tvc_linear_f32_params_t p = params();
    tvc_kernel_linear_f32(&p);
  });
  double gemm = medianMs([&] { tvc::runtime::gemmF32(params()); });
  std::printf("gemv cold %-6s n=%-6lld k=%-5lld %9.3f ms %7.1f GB/s   "
              "oneDNN %9.3f ms %7.1f GB/s\n",
              (flags & TVC_LINEAR_WEIGHT_IN_OUT) ? "in_out" : "out_in",
              (long long)n, (long long)k, gemv, 4.0 * n * k / gemv / 1e6, gemm,
              4.0 * n * k / gemm / 1e6);
}

/// Cold-weight copies of a [n,k] 2:4 sparse weight: as many as fill 256 MiB
/// of compressed bytes, with two distinct positions per group.
struct Sparse24Weights {
  int64_t copies;
  std::vector<float> values;
  std::vector<uint8_t> indices;
};

Sparse24Weights sparse24Weights(int64_t n, int64_t k) {
  int64_t bytes = n * k / 2 * 4 + n * ((k + 7) / 8);
  Sparse24Weights w;
  w.copies = std::max<int64_t>(2, (int64_t(256) << 20) / bytes);
  w.values.assign(w.copies * n * k / 2, 0.5f);
  w.indices.resize(w.copies * n * ((k + 7) / 8));
  std::mt19937 rng(5);
  for (uint8_t &byte : w.indices)
    byte = uint8_t((rng() % 2) | (2 + rng() % 2) << 2 | (rng() % 2) << 4 |
                   (2 + rng() % 2) << 6);
  return w;
}

/// Decode (m = 1) through the 2:4 kernel with cold weights, next to the
/// dense GEMV on the same [n,k] shape, also cold (as benchColdGemv);
/// GB/s of weight bytes read (compressed: 2.125 bytes per dense weight).
void benchColdSparse24(int64_t n, int64_t k) {
  int64_t half = n * k / 2, indexBytes = n * ((k + 7) / 8);
  Sparse24Weights w = sparse24Weights(n, k);
  int64_t copies = std::max<int64_t>(2, (int64_t(256) << 20) / (n * k * 4));
  std::vector<float> dense(copies * n * k, 0.5f);
  std::vector<float> x = randomFloats(k), bias = randomFloats(n), y(n);
  int64_t nextSparse = 0, nextDense = 0;
  auto sparseParams = [&] {
    int64_t copy = nextSparse++ % w.copies;
    return tvc_linear_2to4_f32_params_t{x.data(),
                                        w.values.data() + copy * half,
                                        w.indices.data() + copy * indexBytes,
                                        bias.data(),
                                        y.data(),
                                        1,
                                        n,
                                        k,
                                        TVC_LINEAR_HAS_BIAS};
  };
  std::vector<double> ms = medianMsInterleaved({
      [&] {
        tvc_linear_2to4_f32_params_t p = sparseParams();
        tvc_kernel_linear_2to4_f32(&p);
      },
      [&] {
        tvc::runtime::gemv2to4F32(sparseParams(),
                                  tvc::runtime::Sparse24Code::Avx2);
      },
      [&] {
        tvc_linear_f32_params_t p = {
            x.data(),    dense.data() + (nextDense++ % copies) * n * k,
            bias.data(), y.data(),
            1,           n,
            k,           TVC_LINEAR_HAS_BIAS};
        tvc_kernel_linear_f32(&p);
      },
  });
  double bytes = 4.0 * half + indexBytes;
  std::printf("2:4 cold  m=1    n=%-6lld k=%-5lld %8.3f ms %5.1f GB/s "
              "(AVX2 copy %8.3f ms)  dense %8.3f ms %5.1f GB/s  speedup "
              "%5.2fx\n",
              (long long)n, (long long)k, ms[0], bytes / ms[0] / 1e6, ms[1],
              ms[2], 4.0 * n * k / ms[2] / 1e6, ms[2] / ms[0]);
}

/// Decode (m = 1) through the 2:4 kernel and the dense GEMV with warm
/// weights (one copy, reused): small models whose weights stay in cache.
void benchWarmSparse24(int64_t n, int64_t k) {
  std::vector<float> x = randomFloats(k), values = randomFloats(n * k / 2),
                     dense = randomFloats(n * k), bias = randomFloats(n), y(n);
  std::vector<uint8_t> indices(n * ((k + 7) / 8), 0xD8);
  tvc_linear_2to4_f32_params_t sp = {
      x.data(), values.data(),      indices.data(), bias.data(), y.data(), 1, n,
      k,        TVC_LINEAR_HAS_BIAS};
  tvc_linear_f32_params_t dp = {
      x.data(), dense.data(), bias.data(), y.data(), 1, n, k, 1};
  std::vector<double> ms =
      medianMsInterleaved({[&] { tvc_kernel_linear_2to4_f32(&sp); },
                           [&] { tvc_kernel_linear_f32(&dp); }});
  std::printf("2:4 warm  m=1    n=%-6lld k=%-5lld %8.4f ms  dense %8.4f ms  "
              "speedup %5.2fx\n",
              (long long)n, (long long)k, ms[0], ms[1], ms[1] / ms[0]);
}

/// Prefill (m rows) through the 2:4 kernel next to the dense kernel on the
/// same [n,k] shape, interleaved; weights reused between calls (the GEMM is
/// compute-bound).
void benchSparse24(int64_t m, int64_t n, int64_t k) {
  std::vector<float> x = randomFloats(m * k), values = randomFloats(n * k / 2),
                     dense = randomFloats(n * k), bias = randomFloats(n),
                     y(m * n);
  std::vector<uint8_t> indices(n * ((k + 7) / 8), 0xD8);
  tvc_linear_2to4_f32_params_t sp = {
      x.data(), values.data(),      indices.data(), bias.data(), y.data(), m, n,
      k,        TVC_LINEAR_HAS_BIAS};
  tvc_linear_f32_params_t dp = {
      x.data(), dense.data(), bias.data(), y.data(), m, n, k, 1};
  std::vector<double> ms =
      medianMsInterleaved({[&] { tvc_kernel_linear_2to4_f32(&sp); },
                           [&] { tvc_kernel_linear_f32(&dp); }});
  double sparse = ms[0], gemm = ms[1];
  std::printf("2:4       m=%-4lld n=%-6lld k=%-5lld %9.3f ms %7.1f GFLOP/s "
              "dense %9.3f ms %7.1f GFLOP/s speedup %5.2fx\n",
              (long long)m, (long long)n, (long long)k, sparse,
              2.0 * m * n * k / sparse / 1e6, gemm,
              2.0 * m * n * k / gemm / 1e6, gemm / sparse);
}

/// The block-diagonal kernel (`blocks` blocks of [n, k], so a [blocks*n,
/// blocks*k] map) next to one dense linear by the same map multiplied out,
/// interleaved, each in GFLOP/s of its own multiply-adds (the dense one does
/// `blocks` times more) and the time ratio. Decode (m = 1) reads weights
/// that are not in any cache, as benchColdGemv; more rows reuse one copy.
void benchBlockDiagonal(int64_t m, int64_t blocks, int64_t n, int64_t k) {
  int64_t in = blocks * k, out = blocks * n;
  int64_t weights = out * k, denseWeights = out * in;
  int64_t copies =
      m == 1 ? std::max<int64_t>(2, (int64_t(256) << 20) / (denseWeights * 4))
             : 1;
  std::vector<float> w = distinctFloats(copies * weights),
                     dense = distinctFloats(copies * denseWeights);
  std::vector<float> x = randomFloats(m * in), bias = randomFloats(out),
                     y(m * out);
  int64_t nextBlocks = 0, nextDense = 0;
  std::vector<double> ms = medianMsInterleaved({
      [&] {
        tvc_block_diagonal_f32_params_t p = {
            x.data(), w.data() + (nextBlocks++ % copies) * weights,
            nullptr,  y.data(),
            m,        blocks,
            n,        k,
            0};
        tvc_kernel_block_diagonal_f32(&p);
      },
      [&] {
        tvc_linear_f32_params_t p = {
            x.data(), dense.data() + (nextDense++ % copies) * denseWeights,
            nullptr,  y.data(),
            m,        out,
            in,       0};
        tvc_kernel_linear_f32(&p);
      },
  });
  std::printf("blockdiag m=%-4lld %3lld x [%4lld x %4lld] %8.4f ms %6.1f "
              "GFLOP/s  dense [%5lld x %5lld] %8.4f ms %6.1f GFLOP/s  "
              "speedup %5.2fx\n",
              (long long)m, (long long)blocks, (long long)n, (long long)k,
              ms[0], 2.0 * m * weights / ms[0] / 1e6, (long long)out,
              (long long)in, ms[1], 2.0 * m * denseWeights / ms[1] / 1e6,
              ms[1] / ms[0]);
  std::fflush(stdout);
}

/// The fused low-rank kernel (V [r, k], U [n, r]) next to the two
/// tvc_kernel_linear_f32 calls of the expanded form (V into t, then U with
/// the bias) and one dense linear by the merged [n, k] matrix, interleaved,
/// with the bias. `cold`: every call reads other copies of the weights, as
/// many as fill 256 MiB per form (a model's layers in decode); otherwise one
/// copy, reused. Prints the medians and two-call / fused.
void benchLowRank(int64_t m, int64_t n, int64_t k, int64_t r, bool cold) {
  int64_t factorWeights = r * k + n * r, denseWeights = n * k;
  auto copiesOf = [&](int64_t weights) {
    return cold ? std::max<int64_t>(2, (int64_t(256) << 20) / (weights * 4))
                : 1;
  };
  int64_t factorCopies = copiesOf(factorWeights),
          denseCopies = copiesOf(denseWeights);
  // Each copy holds V then U; the fused and two-call forms read their own
  // copies so neither warms the other's.
  std::vector<float> fusedW = distinctFloats(factorCopies * factorWeights),
                     twoW = distinctFloats(factorCopies * factorWeights),
                     dense = distinctFloats(denseCopies * denseWeights);
  std::vector<float> x = randomFloats(m * k), bias = randomFloats(n), t(m * r),
                     y(m * n);
  int64_t nextFused = 0, nextTwo = 0, nextDense = 0;
  std::vector<double> ms = medianMsInterleaved(
      {
          [&] {
            const float *w =
                fusedW.data() + (nextFused++ % factorCopies) * factorWeights;
            tvc_low_rank_f32_params_t p = {
                x.data(), w, w + r * k, bias.data(), y.data(),
                m,        n, k,         r,           TVC_LINEAR_HAS_BIAS};
            tvc_kernel_low_rank_f32(&p);
          },
          [&] {
            const float *w =
                twoW.data() + (nextTwo++ % factorCopies) * factorWeights;
            tvc_linear_f32_params_t first = {x.data(), w, nullptr, t.data(),
                                             m,        r, k,       0};
            tvc_kernel_linear_f32(&first);
            tvc_linear_f32_params_t second = {
                t.data(), w + r * k, bias.data(), y.data(),
                m,        n,         r,           TVC_LINEAR_HAS_BIAS};
            tvc_kernel_linear_f32(&second);
          },
          [&] {
            tvc_linear_f32_params_t p = {
                x.data(),
                dense.data() + (nextDense++ % denseCopies) * denseWeights,
                bias.data(),
                y.data(),
                m,
                n,
                k,
                TVC_LINEAR_HAS_BIAS};
            tvc_kernel_linear_f32(&p);
          },
      },
      5, 400, /*rotate=*/true);
  std::printf("lowrank %s m=%-4lld n=%-5lld k=%-5lld r=%-4lld fused %8.4f ms  "
              "two calls %8.4f ms  dense %8.4f ms  two/fused %5.3fx\n",
              cold ? "cold" : "warm", (long long)m, (long long)n, (long long)k,
              (long long)r, ms[0], ms[1], ms[2], ms[1] / ms[0]);
  std::fflush(stdout);
}

/// `count` 16-bit weights, distinct on every page (as distinctFloats): bf16
/// the high halves of distinctFloats' values, f16 random patterns of
/// magnitude below 1 (exponent field 0..14).
std::vector<uint16_t> distinctHalves(int64_t count,
                                     tvc::runtime::W16Type type) {
  std::vector<uint16_t> halves(count);
  uint32_t state = 7;
  for (uint16_t &half : halves) {
    state = state * 1664525u + 1013904223u;
    if (type == tvc::runtime::W16Type::F16) {
      uint16_t bits = uint16_t(state >> 16);
      half = (bits & 0x7c00) == 0x7c00 ? uint16_t(bits & 0xbbff) : bits;
      half &= 0xbfff;
    } else {
      float value = float(state >> 8) * 0x1p-24f - 0.5f;
      uint32_t wide;
      std::memcpy(&wide, &value, sizeof(wide));
      half = uint16_t(wide >> 16);
    }
  }
  return halves;
}

/// Bytes of weight copies each form of a cold benchmark cycles through:
/// more than this machine's last-level cache (480 MiB, shared).
constexpr int64_t kW16ColdBytes = int64_t(1) << 30;

/// The fp32 kernel and the bf16 and f16 kernels on one shape, interleaved
/// call by call (rotating), each in ms and GB/s of its own weight bytes,
/// with the speedups over fp32. `cold`: each form cycles through copies of
/// its weights filling kW16ColdBytes (a model's layers in decode);
/// otherwise one copy, reused.
void benchW16(int64_t m, int64_t n, int64_t k, int64_t flags, bool cold) {
  using tvc::runtime::W16Type;
  int64_t weights = n * k;
  auto copiesOf = [&](int64_t bytesPerWeight) {
    return cold ? std::max<int64_t>(2,
                                    kW16ColdBytes / (weights * bytesPerWeight))
                : 1;
  };
  int64_t f32Copies = copiesOf(4), halfCopies = copiesOf(2);
  std::vector<float> w32 = distinctFloats(f32Copies * weights);
  std::vector<uint16_t> bf16 =
                            distinctHalves(halfCopies * weights, W16Type::BF16),
                        f16 =
                            distinctHalves(halfCopies * weights, W16Type::F16);
  std::vector<float> x = randomFloats(m * k), bias = randomFloats(n), y(m * n);
  int64_t next32 = 0, nextBf16 = 0, nextF16 = 0;
  std::vector<double> ms = medianMsInterleaved(
      {
          [&] {
            tvc_linear_f32_params_t p = {
                x.data(),    w32.data() + (next32++ % f32Copies) * weights,
                bias.data(), y.data(),
                m,           n,
                k,           flags};
            tvc_kernel_linear_f32(&p);
          },
          [&] {
            tvc_linear_w16_f32_params_t p = {
                x.data(),    bf16.data() + (nextBf16++ % halfCopies) * weights,
                bias.data(), y.data(),
                m,           n,
                k,           flags};
            tvc_kernel_linear_bf16w_f32(&p);
          },
          [&] {
            tvc_linear_w16_f32_params_t p = {
                x.data(),    f16.data() + (nextF16++ % halfCopies) * weights,
                bias.data(), y.data(),
                m,           n,
                k,           flags};
            tvc_kernel_linear_f16w_f32(&p);
          },
      },
      5, 400, /*rotate=*/true);
  std::printf("w16 %s %-6s m=%-4lld n=%-6lld k=%-5lld f32 %8.4f ms %6.1f GB/s"
              "  bf16 %8.4f ms %6.1f GB/s %5.2fx  f16 %8.4f ms %6.1f GB/s "
              "%5.2fx\n",
              cold ? "cold" : "warm",
              (flags & TVC_LINEAR_WEIGHT_IN_OUT) ? "in_out" : "out_in",
              (long long)m, (long long)n, (long long)k, ms[0],
              4.0 * weights / ms[0] / 1e6, ms[1], 2.0 * weights / ms[1] / 1e6,
              ms[0] / ms[1], ms[2], 2.0 * weights / ms[2] / 1e6, ms[0] / ms[2]);
  std::fflush(stdout);
}

/// The bf16 kernel's two paths on m rows with cold weights (as benchW16),
/// interleaved: the few-rows loops against widen-and-GEMM, to place
/// kW16MaxGemvRows.
void benchW16Rows(int64_t m, int64_t n, int64_t k, int64_t flags) {
  using tvc::runtime::W16Type;
  int64_t weights = n * k;
  int64_t copies = std::max<int64_t>(2, kW16ColdBytes / (weights * 2));
  std::vector<uint16_t> w = distinctHalves(copies * weights, W16Type::BF16);
  std::vector<float> x = randomFloats(m * k), bias = randomFloats(n), y(m * n);
  int64_t next = 0;
  auto params = [&] {
    return tvc_linear_w16_f32_params_t{
        x.data(),    w.data() + (next++ % copies) * weights,
        bias.data(), y.data(),
        m,           n,
        k,           flags};
  };
  std::vector<double> ms = medianMsInterleaved(
      {[&] { tvc::runtime::gemvW16F32(W16Type::BF16, params()); },
       [&] { tvc::runtime::gemmW16F32(W16Type::BF16, params()); }},
      5, 300, /*rotate=*/true);
  std::printf("w16 rows %-6s m=%-3lld n=%-5lld k=%-5lld few-rows %8.4f ms  "
              "gemm %8.4f ms  gemm/few %5.2fx\n",
              (flags & TVC_LINEAR_WEIGHT_IN_OUT) ? "in_out" : "out_in",
              (long long)m, (long long)n, (long long)k, ms[0], ms[1],
              ms[1] / ms[0]);
  std::fflush(stdout);
}

void benchAttention(const char *name, int64_t qLen, int64_t kvLen,
                    int64_t heads, int64_t kvHeads, int64_t dim, int64_t mask,
                    int64_t window) {
  std::vector<float> q = randomFloats(qLen * heads * dim),
                     k = randomFloats(kvLen * kvHeads * dim),
                     v = randomFloats(kvLen * kvHeads * dim),
                     out(qLen * heads * dim);
  tvc_attention_f32_params_t p = {q.data(), k.data(),
                                  v.data(), out.data(),
                                  1,        qLen,
                                  kvLen,    kvLen,
                                  heads,    kvHeads,
                                  dim,      mask,
                                  window,   1.0 / std::sqrt(double(dim)),
                                  0,        0,
                                  0,        0,
                                  0,        0};
  double kept = 0;
  for (int64_t i = 0; i < qLen; ++i) {
    int64_t pos = kvLen - qLen + i;
    int64_t lo = mask == TVC_MASK_SLIDING_WINDOW
                     ? std::max<int64_t>(0, pos - window + 1)
                     : 0;
    int64_t hi = mask == TVC_MASK_FULL ? kvLen : pos + 1;
    kept += hi - lo;
  }
  double ms = medianMs([&] { tvc_kernel_attention_f32(&p); });
  std::printf("attention %-28s %9.3f ms %7.1f GFLOP/s\n", name, ms,
              4.0 * kept * heads * dim / ms / 1e6);
}

/// A mask of the scaling table: its name and params fields.
struct ScalingKind {
  const char *name;
  int64_t mask, window, global, block, topK;
  int64_t vertical = 0, slash = 0, lastQueries = 0;
};

/// The kinds bench/attention_scaling.sh compares, each sized to keep about
/// `budget` keys per query: dense causal, a window of `budget`, the window
/// plus 64 global tokens, blocks of 64 (the query's own and budget/64 - 1
/// before it, plus the first block), the top `budget` scores, and the
/// query's own block of 64 plus the budget/64 - 1 earlier blocks with the
/// highest pooled scores, and budget/2 columns plus budget/2 diagonals
/// estimated from the last 64 queries (vertical-slash), and a window of
/// budget/2 plus budget/2 heavy keys (ALISA).
std::vector<ScalingKind> scalingKinds(int64_t budget) {
  return {{"causal", TVC_MASK_CAUSAL, 0, 0, 0, 0},
          {"window", TVC_MASK_SLIDING_WINDOW, budget, 0, 0, 0},
          {"window_global", TVC_MASK_WINDOW_GLOBAL, budget, 64, 0, 0},
          {"block_local", TVC_MASK_BLOCK_LOCAL,
           std::max<int64_t>(1, budget / 64), 1, 64, 0},
          {"top_k", TVC_MASK_TOP_K, 0, 0, 0, budget},
          {"block_top_k", TVC_MASK_BLOCK_TOP_K, 0, 0, 64,
           std::max<int64_t>(1, budget / 64 - 1)},
          {"vertical_slash", TVC_MASK_VERTICAL_SLASH, 0, 0, 0, 0,
           std::max<int64_t>(1, budget / 2), std::max<int64_t>(1, budget / 2),
           64},
          {"alisa", TVC_MASK_ALISA, std::max<int64_t>(1, budget / 2), 0, 0,
           std::max<int64_t>(1, budget / 2)}};
}

/// Keys the query at `pos` attends to under `kind` (for GFLOP/s).
int64_t keptKeys(const ScalingKind &kind, int64_t pos) {
  int64_t causal = pos + 1;
  switch (kind.mask) {
  case TVC_MASK_SLIDING_WINDOW:
    return std::min(causal, kind.window);
  case TVC_MASK_WINDOW_GLOBAL: {
    int64_t lo = std::max<int64_t>(0, pos - kind.window + 1);
    return causal - lo + std::min(kind.global, lo);
  }
  case TVC_MASK_BLOCK_LOCAL: {
    int64_t first = std::max<int64_t>(0, pos / kind.block - kind.window + 1);
    int64_t lo = first * kind.block;
    return causal - lo + std::min(kind.global * kind.block, lo);
  }
  case TVC_MASK_TOP_K:
    return std::min(causal, kind.topK);
  case TVC_MASK_BLOCK_TOP_K:
    return pos % kind.block + 1 +
           std::min(pos / kind.block, kind.topK) * kind.block;
  case TVC_MASK_VERTICAL_SLASH: // at most: columns and diagonals may meet
    return std::min(causal, kind.vertical + kind.slash);
  case TVC_MASK_ALISA:
    return std::min(causal, kind.window + kind.topK);
  default:
    return causal;
  }
}

/// Prefill attention of one sequence of `len` tokens (12 heads of 64, as
/// GPT-2 124M) under each of `kinds`, interleaved; rows of the scaling
/// table bench/attention_scaling.sh draws, one per kind:
/// `scaling T kind median_ms kept_entries` (kept entries per head).
void benchAttentionScaling(int64_t len, const std::vector<ScalingKind> &kinds,
                           size_t runs) {
  constexpr int64_t kHeads = 12, kDim = 64;
  std::vector<float> q = randomFloats(len * kHeads * kDim),
                     k = randomFloats(len * kHeads * kDim),
                     v = randomFloats(len * kHeads * kDim),
                     out(len * kHeads * kDim);
  std::vector<tvc_attention_f32_params_t> params;
  std::vector<std::function<void()>> calls;
  for (const ScalingKind &kind : kinds) {
    tvc_attention_f32_params_t p = {};
    p.q = q.data();
    p.k = k.data();
    p.v = v.data();
    p.out = out.data();
    p.batch = 1;
    p.q_len = p.kv_len = p.kv_capacity = len;
    p.heads = p.kv_heads = kHeads;
    p.head_dim = kDim;
    p.mask_kind = kind.mask;
    p.window = kind.window;
    p.global = kind.global;
    p.block = kind.block;
    p.top_k = kind.topK;
    p.vertical = kind.vertical;
    p.slash = kind.slash;
    p.last_queries = kind.lastQueries;
    p.scale = 1.0 / std::sqrt(double(kDim));
    params.push_back(p);
  }
  for (const tvc_attention_f32_params_t &p : params)
    calls.push_back([&p] { tvc_kernel_attention_f32(&p); });
  std::vector<double> ms = medianMsInterleaved(calls, runs, 0);
  for (size_t i = 0; i < kinds.size(); ++i) {
    double kept = 0;
    for (int64_t pos = 0; pos < len; ++pos)
      kept += keptKeys(kinds[i], pos);
    std::printf("scaling %lld %s %.3f %.0f\n", (long long)len, kinds[i].name,
                ms[i], kept);
  }
  std::fflush(stdout);
}

/// tvc_sample over 50257 logits shaped like a language model's: a few
/// likely tokens over a long tail.
void benchSample(const char *name, float temperature, int32_t topK,
                 float topP) {
  constexpr int64_t kVocab = 50257;
  std::vector<float> logits = randomFloats(kVocab);
  for (float &logit : logits)
    logit = 4 * logit - 6;
  for (int64_t token : {11, 13, 262, 290, 50256})
    logits[token] += 12;
  std::vector<uint64_t> scratch(tvc_sample_scratch_bytes(kVocab) / 8);
  tvc_rng_t rng;
  tvc_rng_seed(&rng, 1);
  tvc_sampling_params_t params = {temperature, topK, topP};
  int64_t token;
  double ms = medianMs([&] {
    tvc_sample(logits.data(), kVocab, &params, &rng, scratch.data(), &token);
  });
  std::printf("sample    %-28s %9.3f ms\n", name, ms);
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 1 && tvc_runtime_set_num_threads(std::atoi(argv[1])) != TVC_OK)
    return 2;
  int threads = 0;
  tvc_runtime_get_num_threads(&threads);
  std::printf("threads %d\n", threads);
  // "tvc-kernel-bench <threads> attention-scaling [budget [runs [kinds
  // [T...]]]]" times prefill attention under each mask kind over lengths;
  // kinds is a comma-separated subset of scalingKinds' names or "all".
  if (argc > 2 && std::string(argv[2]) == "attention-scaling") {
    int64_t budget = argc > 3 ? std::atoll(argv[3]) : 256;
    long runs = argc > 4 ? std::atol(argv[4]) : 5;
    std::string wanted = argc > 5 ? argv[5] : "all";
    std::vector<int64_t> lengths;
    for (int arg = 6; arg < argc; ++arg)
      lengths.push_back(std::atoll(argv[arg]));
    if (lengths.empty())
      lengths = {1024, 2048, 4096, 8192, 16384};
    if (budget < 1 || runs < 1)
      return 2;
    for (int64_t len : lengths)
      if (len < 1)
        return 2;
    std::vector<ScalingKind> kinds;
    for (const ScalingKind &kind : scalingKinds(budget))
      if (wanted == "all" ||
          ("," + wanted + ",").find("," + std::string(kind.name) + ",") !=
              std::string::npos)
        kinds.push_back(kind);
    if (kinds.empty()) {
      std::fprintf(stderr, "attention-scaling: no kind in '%s'\n",
                   wanted.c_str());
      return 2;
    }
    std::printf("attention prefill, 1 sequence, 12 heads x 64, about %lld "
                "keys per query, median of %ld interleaved runs\n",
                (long long)budget, runs);
    for (int64_t len : lengths)
      benchAttentionScaling(len, kinds, size_t(runs));
    return 0;
  }
  // "tvc-kernel-bench <threads> 2:4-warm": decode rows of small and
  // mid-sized matrices whose weights stay in cache (the cost model's data).
  if (argc > 2 && std::string(argv[2]) == "2:4-warm") {
    for (auto nk : {std::pair<int64_t, int64_t>{64, 64},
                    {128, 128},
                    {256, 256},
                    {512, 128},
                    {128, 512},
                    {384, 128},
                    {512, 512},
                    {768, 768},
                    {3072, 768}})
      benchWarmSparse24(nk.first, nk.second);
    return 0;
  }
  // "tvc-kernel-bench <threads> block-diagonal": BlockDense's first map on
  // GPT-2-124M's FFN shapes (r = 384 of 768 and of 3072 inputs, 4 blocks),
  // one block, and many small blocks, against the merged dense matrix.
  if (argc > 2 && std::string(argv[2]) == "block-diagonal") {
    struct Shape {
      int64_t blocks, n, k;
    };
    for (int64_t m : {1, 128})
      for (Shape shape : {Shape{4, 96, 192},
                          {4, 96, 768},
                          {1, 384, 768},
                          {16, 24, 48},
                          {16, 192, 192}})
        benchBlockDiagonal(m, shape.blocks, shape.n, shape.k);
    return 0;
  }
  // "tvc-kernel-bench <threads> low-rank": #tvc.low_rank factors of
  // GPT-2-124M's FFN maps (768 -> 3072 and back) and of a small model's
  // (256 wide), at several ranks: decode with cold and warm weights, a few
  // rows, prefill.
  if (argc > 2 && std::string(argv[2]) == "low-rank") {
    struct Shape {
      int64_t n, k, r;
    };
    const Shape shapes[] = {{3072, 768, 64}, {3072, 768, 192}, {768, 3072, 192},
                            {768, 768, 128}, {1024, 256, 32},  {256, 256, 32},
                            {128, 128, 16}};
    for (Shape shape : shapes)
      benchLowRank(1, shape.n, shape.k, shape.r, true);
    for (Shape shape : shapes)
      benchLowRank(1, shape.n, shape.k, shape.r, false);
    for (int64_t m : {4, 128})
      for (Shape shape : shapes)
        benchLowRank(m, shape.n, shape.k, shape.r, false);
    return 0;
  }
  // "tvc-kernel-bench <threads> w16": fp32 against bf16 and f16 weights on
  // GPT-2's shapes, decode (cold weights) and prefill (m = 128, warm), both
  // layouts; "w16-rows": the 16-bit kernels' two paths over m.
  if (argc > 2 && std::string(argv[2]) == "w16") {
    for (int64_t flags : {1, 3})
      for (int64_t m : {1, 128})
        for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                        {3072, 768},
                        {768, 3072},
                        {50257, 768}})
          benchW16(m, nk.first, nk.second, flags, m == 1);
    return 0;
  }
  if (argc > 2 && std::string(argv[2]) == "w16-rows") {
    for (int64_t flags : {1, 3})
      for (auto nk :
           {std::pair<int64_t, int64_t>{768, 768}, {3072, 768}, {768, 3072}})
        for (int64_t m : {1, 2, 4, 6, 8, 12, 16, 32})
          benchW16Rows(m, nk.first, nk.second, flags);
    return 0;
  }
  // "tvc-kernel-bench <threads> 2:4" times only the 2:4 sparse rows.
  if (argc > 2 && std::string(argv[2]) == "2:4") {
    for (int64_t m : {1, 128})
      for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                      {2304, 768},
                      {3072, 768},
                      {768, 3072}})
        m == 1 ? benchColdSparse24(nk.first, nk.second)
               : benchSparse24(m, nk.first, nk.second);
    return 0;
  }
  for (int64_t m : {1, 128, 512})
    for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                    {3072, 768},
                    {768, 3072},
                    {50257, 768}})
      benchLinear(m, nk.first, nk.second);
  for (int64_t flags : {1, 3})
    for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                    {2304, 768},
                    {3072, 768},
                    {768, 3072},
                    {50257, 768}})
      benchColdGemv(nk.first, nk.second, flags);
  for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                  {2304, 768},
                  {3072, 768},
                  {768, 3072}})
    benchColdSparse24(nk.first, nk.second);
  for (auto nk : {std::pair<int64_t, int64_t>{768, 768},
                  {2304, 768},
                  {3072, 768},
                  {768, 3072}})
    benchSparse24(128, nk.first, nk.second);
  benchAttention("decode kv=1024 h12 d64", 1, 1024, 12, 12, 64, 1, 0);
  benchAttention("decode kv=4096 h32/8 d128", 1, 4096, 32, 8, 128, 1, 0);
  benchAttention("prefill 512 causal h12 d64", 512, 512, 12, 12, 64, 1, 0);
  benchAttention("prefill 512 full h12 d64", 512, 512, 12, 12, 64, 0, 0);
  benchAttention("prefill 2048 window128 h12", 2048, 2048, 12, 12, 64, 2, 128);
  benchAttention("prefill 512 causal h32/8 d128", 512, 512, 32, 8, 128, 1, 0);
  benchSample("greedy", 0, 0, 0);
  benchSample("T=1", 1, 0, 0);
  benchSample("top_k=40", 1, 40, 0);
  benchSample("top_k=1000", 1, 1000, 0);
  benchSample("top_p=0.9", 1, 0, 0.9f);
  benchSample("top_p=0.9 T=2 (flat)", 2, 0, 0.9f);
  benchSample("top_k=40 top_p=0.9", 1, 40, 0.9f);
  return 0;
}
