//===- PremergeBench.cpp - Calibration of the structured-FFN cost model ---===//
//
// Measures the numbers passes/Transforms/PremergeCostModel.h uses, on this
// machine, through tvc_kernel_linear_f32 (the kernel every factor runs on):
// the per-call overhead (a 1x8x8 linear, whose arithmetic is nothing, timed
// alone), the decode bandwidth (a cold [3072 x 768] GEMV) and the prefill
// rate (a [128 x 768] x [768 x 768] GEMM); then, to check the model, a
// low-rank pair V [r, in], U [out, r] against one dense [out, in] matrix
// for decode (one row, weights cold) and prefill (128 rows), timed
// interleaved; then the block-diagonal kernel's prefill rate (GPT-2's
// BlockDense shape, 128 x 4 blocks of [96 x 192]) and BlockDense pairs
// (tvc_kernel_block_diagonal_f32 by B [4, r/4, in/4], then L [out, r])
// against the dense matrix, the same way. Built on request (`ninja
// tvc-premerge-bench`), never by ctest. Usage: tvc-premerge-bench [threads].
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/BenchUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

namespace {

/// Medians of each of `calls`, called in turn (so all see the same load on
/// a shared machine) over at least 300 ms after 50 ms of warm-up.
std::vector<double> medians(const std::vector<std::function<void()>> &calls) {
  return tvc::bench::medianMsInterleaved(calls, 9, 300);
}

std::vector<float> randomFloats(size_t count) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> values(count);
  for (float &value : values)
    value = dist(rng);
  return values;
}

/// A linear y[m, n] = x[m, k] W^T over `copies` copies of W (a different one
/// each call, so that decode reads its weights from memory, as a model's
/// layers do).
struct Linear {
  int64_t m, n, k, copies;
  std::vector<float> w, x, y;
  int64_t next = 0;
  Linear(int64_t m, int64_t n, int64_t k, bool cold)
      : m(m), n(n), k(k),
        copies(cold ? std::max<int64_t>(2, (int64_t(256) << 20) / (n * k * 4))
                    : 1),
        w(copies * n * k), x(randomFloats(m * k)), y(m * n) {
    // Cheap non-constant weights: 256 MiB through mt19937 takes seconds.
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(i % 13) * 0.01f - 0.06f;
  }
  void run(const float *input) {
    const float *weights = w.data() + (next++ % copies) * n * k;
    tvc_linear_f32_params_t p = {input, weights, weights, y.data(), m, n, k, 0};
    tvc_kernel_linear_f32(&p);
  }
  void run() { run(x.data()); }
};

/// The block-diagonal map y[m, blocks*n] of x[m, blocks*k] by `blocks`
/// blocks [n, k], over copies of the blocks as Linear.
struct BlockDiagonal {
  int64_t m, blocks, n, k, copies;
  std::vector<float> w, x, y;
  int64_t next = 0;
  BlockDiagonal(int64_t m, int64_t blocks, int64_t n, int64_t k, bool cold)
      : m(m), blocks(blocks), n(n), k(k),
        copies(cold ? std::max<int64_t>(2, (int64_t(256) << 20) /
                                               (blocks * n * k * 4))
                    : 1),
        w(copies * blocks * n * k), x(randomFloats(m * blocks * k)),
        y(m * blocks * n) {
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(i % 13) * 0.01f - 0.06f;
  }
  void run() {
    const float *weights = w.data() + (next++ % copies) * blocks * n * k;
    tvc_block_diagonal_f32_params_t p = {
        x.data(), weights, weights, y.data(), m, blocks, n, k, 0};
    tvc_kernel_block_diagonal_f32(&p);
  }
};

void compareBlockDense(int64_t out, int64_t in, int64_t rank, int64_t m) {
  constexpr int64_t kBlocks = 4;
  bool cold = m == 1;
  Linear dense(m, out, in, cold), l(m, out, rank, cold);
  BlockDiagonal b(m, kBlocks, rank / kBlocks, in / kBlocks, cold);
  std::vector<double> ms = medians({[&] { dense.run(); },
                                    [&] {
                                      b.run();
                                      l.run(b.y.data());
                                    }});
  std::printf("%-7s out=%-5lld in=%-5lld r=%-4lld dense %8.4f ms  "
              "BlockDense %8.4f ms  speed-up of BlockDense %5.2f\n",
              m == 1 ? "decode" : "prefill", (long long)out, (long long)in,
              (long long)rank, ms[0], ms[1], ms[0] / ms[1]);
}

void compare(int64_t out, int64_t in, int64_t rank, int64_t m) {
  bool cold = m == 1;
  Linear dense(m, out, in, cold), v(m, rank, in, cold), u(m, out, rank, cold);
  std::vector<double> ms = medians({[&] { dense.run(); },
                                    [&] {
                                      v.run();
                                      u.run(v.y.data());
                                    }});
  std::printf("%-7s out=%-5lld in=%-5lld r=%-4lld dense %8.4f ms  "
              "low-rank %8.4f ms  speed-up of low-rank %5.2f\n",
              m == 1 ? "decode" : "prefill", (long long)out, (long long)in,
              (long long)rank, ms[0], ms[1], ms[0] / ms[1]);
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 1 && tvc_runtime_set_num_threads(std::atoi(argv[1])) != TVC_OK)
    return 1;
  Linear tiny(1, 8, 8, false), gemv(1, 3072, 768, true),
      gemm(128, 768, 768, false);
  // The overhead alone: interleaved with the sweeps below, the tiny call
  // would also pay for its operands evicted from the cache.
  double overheadMs = medians({[&] { tiny.run(); }})[0];
  std::vector<double> ms = medians({[&] { gemv.run(); }, [&] { gemm.run(); }});
  std::printf("per-call overhead (1x8x8 linear, warm): %.2f us\n",
              overheadMs * 1e3);
  std::printf("decode bandwidth (cold 3072x768 GEMV): %.1f GB/s\n",
              4.0 * 3072 * 768 / ms[0] / 1e6);
  std::printf("prefill rate (128x768x768 GEMM): %.1f GFLOP/s\n",
              2.0 * 128 * 768 * 768 / ms[1] / 1e6);
  for (int64_t m : {int64_t(1), int64_t(128)})
    for (int64_t d : {int64_t(32), int64_t(64), int64_t(256), int64_t(768)})
      for (int64_t rank : {d / 16, d / 4, d / 2, 3 * d / 4})
        compare(4 * d, d, rank, m);
  BlockDiagonal blockGemm(128, 4, 96, 192, false);
  double blockMs = medians({[&] { blockGemm.run(); }})[0];
  std::printf("block-diagonal prefill rate (128 x 4 x [96 x 192]): %.1f "
              "GFLOP/s\n",
              2.0 * 128 * 384 * 192 / blockMs / 1e6);
  for (int64_t m : {int64_t(1), int64_t(128)})
    for (int64_t d : {int64_t(64), int64_t(256), int64_t(768)})
      for (int64_t rank : {d / 4, d / 2})
        compareBlockDense(4 * d, d, rank, m);
  return 0;
}
