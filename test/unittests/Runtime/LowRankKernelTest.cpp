//===- LowRankKernelTest.cpp - tvc_kernel_low_rank_f32 --------------------===//
//
// The fused low-rank kernel against the reference: decode (m = 1, the one
// loop whose tasks of y wait for those of t, with its AVX2 and baseline
// loops) and prefill rows (two GEMMs), odd sizes, rank 1, with and without
// bias, on 1, 2 and 7 threads; empty dimensions and every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/Gemv.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace tvc::test;

namespace {

struct LowRankCase {
  int64_t m, n, k, r;
  int64_t flags;
};

/// Runs the kernel and the reference on random inputs and compares them;
/// the magnitude of y[i,c] is sum_j |U[c,j]| sum_l |V[j,l] x[i,l]| +
/// |bias[c]|.
void checkLowRank(const LowRankCase &c, bool baselineGemv = false) {
  SCOPED_TRACE(::testing::Message()
               << "m=" << c.m << " n=" << c.n << " k=" << c.k << " r=" << c.r
               << " flags=" << c.flags);
  // At least one element each: the kernel rejects NULL even for empty sizes.
  std::vector<float> x = randomFloats(std::max<int64_t>(1, c.m * c.k), 1);
  std::vector<float> v = randomFloats(std::max<int64_t>(1, c.r * c.k), 2);
  std::vector<float> u = randomFloats(std::max<int64_t>(1, c.n * c.r), 3);
  std::vector<float> bias = randomFloats(std::max<int64_t>(1, c.n), 4);
  std::vector<float> y(c.m * c.n, std::nanf("")), expected(c.m * c.n);
  tvc_low_rank_f32_params_t params = {};
  params.x = x.data();
  params.v = v.data();
  params.u = u.data();
  params.bias = (c.flags & TVC_LINEAR_HAS_BIAS) ? bias.data() : nullptr;
  params.y = y.data();
  params.m = c.m;
  params.n = c.n;
  params.k = c.k;
  params.r = c.r;
  params.flags = c.flags;
  if (baselineGemv)
    tvc::runtime::gemvLowRankF32(params, tvc::runtime::GemvCode::Baseline);
  else
    ASSERT_EQ(tvc_kernel_low_rank_f32(&params), TVC_OK);
  params.y = expected.data();
  tvc::runtime::reference::lowRankF32(params);

  std::vector<double> magnitude(c.m * c.n);
  std::vector<double> t(c.r);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.r; ++j) {
      t[j] = 0;
      for (int64_t l = 0; l < c.k; ++l)
        t[j] += std::fabs(double(x[i * c.k + l]) * v[j * c.k + l]);
    }
    for (int64_t col = 0; col < c.n; ++col) {
      double sum = (c.flags & TVC_LINEAR_HAS_BIAS) ? std::fabs(bias[col]) : 0;
      for (int64_t j = 0; j < c.r; ++j)
        sum += std::fabs(double(u[col * c.r + j])) * t[j];
      magnitude[i * c.n + col] = sum;
    }
  }
  expectClose(y, expected, magnitude);
}

const int64_t kAllFlags[] = {0, TVC_LINEAR_HAS_BIAS};

/// Decode: GPT-2-sized factors (split over the pool into tasks of t and of
/// y), odd widths (vector tails, tasks ending mid-group), rank 1.
TEST(LowRankKernel, DecodeRow) {
  for (int64_t flags : kAllFlags) {
    checkLowRank({1, 768, 768, 128, flags});
    checkLowRank({1, 3072, 768, 192, flags});
    checkLowRank({1, 13, 7, 5, flags});
    checkLowRank({1, 301, 67, 1, flags});
    checkLowRank({1, 1, 1, 1, flags});
  }
}

/// The decode loop with the AVX2 loops where the CPU has them and with the
/// baseline loops: a rank far below the task count, a rank above the
/// outputs, long rows of V.
TEST(LowRankKernel, DecodeRowEdges) {
  for (bool baseline : {false, true})
    for (int64_t flags : kAllFlags) {
      checkLowRank({1, 2049, 33, 3, flags}, baseline);
      checkLowRank({1, 5, 1001, 517, flags}, baseline);
      checkLowRank({1, 640, 4099, 37, flags}, baseline);
    }
}

/// More rows: the two GEMMs through the scratch, odd sizes reaching the
/// edges of the BLAS panels, rank 1, and a second, larger call on the same
/// thread (the scratch grows).
TEST(LowRankKernel, Prefill) {
  for (int64_t flags : kAllFlags) {
    checkLowRank({2, 5, 3, 1, flags});
    checkLowRank({3, 13, 7, 5, flags});
    checkLowRank({17, 131, 29, 11, flags});
    checkLowRank({128, 768, 768, 128, flags});
  }
}

/// The same results with one thread (every task on the caller), two, and
/// more threads than cores (tasks of y that wait for a descheduled task of
/// t). Decode calls alternate between two input widths, so that a task of
/// y that read t before its tasks finished would find the other call's t.
TEST(LowRankKernel, ThreadCounts) {
  for (int threads : {1, 2, 7}) {
    ASSERT_EQ(tvc_runtime_set_num_threads(threads), TVC_OK);
    for (int repeat = 0; repeat < 40; ++repeat) {
      checkLowRank({1, 768, repeat % 2 ? 768 : 512, 96, TVC_LINEAR_HAS_BIAS});
      // Long rows of V: its tasks run longest.
      checkLowRank({1, 64, repeat % 2 ? 4096 : 4000, 256, 0});
    }
    checkLowRank({1, 3072, 768, 8, 0});
    checkLowRank({100, 300, 100, 20, TVC_LINEAR_HAS_BIAS});
  }
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// k = 0 or r = 0 leaves y = bias (or zeros), for one row and several;
/// m or n = 0 touch nothing.
TEST(LowRankKernel, EmptyDimensions) {
  for (int64_t flags : kAllFlags) {
    checkLowRank({3, 5, 0, 4, flags});
    checkLowRank({1, 5, 0, 4, flags});
    checkLowRank({3, 5, 6, 0, flags});
    checkLowRank({1, 5, 6, 0, flags});
  }
  float x = 1, v = 1, u = 1, bias = 1, y = 42;
  tvc_low_rank_f32_params_t params = {&x, &v, &u, &bias, &y, 0, 1, 1, 1, 1};
  EXPECT_EQ(tvc_kernel_low_rank_f32(&params), TVC_OK);
  params.m = 1;
  params.n = 0;
  EXPECT_EQ(tvc_kernel_low_rank_f32(&params), TVC_OK);
  EXPECT_EQ(y, 42);
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves y alone.
TEST(LowRankKernel, InvalidArguments) {
  float x[4] = {}, v[4] = {}, u[4] = {}, bias[2] = {}, y[4] = {1, 2, 3, 4};
  // Two rows of two, rank 2, two outputs.
  const tvc_low_rank_f32_params_t valid = {x, v, u, bias, y,
                                           2, 2, 2, 2,    TVC_LINEAR_HAS_BIAS};
  ASSERT_EQ(tvc_kernel_low_rank_f32(&valid), TVC_OK);
  for (float &value : y)
    value = 7;
  auto expectRejected = [&](tvc_low_rank_f32_params_t params, const char *why) {
    EXPECT_EQ(tvc_kernel_low_rank_f32(&params), TVC_INVALID_ARGUMENT) << why;
    for (float value : y)
      EXPECT_EQ(value, 7) << why;
  };
  EXPECT_EQ(tvc_kernel_low_rank_f32(nullptr), TVC_INVALID_ARGUMENT);
  tvc_low_rank_f32_params_t p = valid;
  p.x = nullptr;
  expectRejected(p, "null x");
  p = valid;
  p.v = nullptr;
  expectRejected(p, "null v");
  p = valid;
  p.u = nullptr;
  expectRejected(p, "null u");
  p = valid;
  p.y = nullptr;
  expectRejected(p, "null y");
  p = valid;
  p.bias = nullptr;
  expectRejected(p, "null bias with HAS_BIAS");
  p = valid;
  p.m = -1;
  expectRejected(p, "negative m");
  p = valid;
  p.n = -2;
  expectRejected(p, "negative n");
  p = valid;
  p.k = -3;
  expectRejected(p, "negative k");
  p = valid;
  p.r = -4;
  expectRejected(p, "negative r");
  p = valid;
  p.flags = TVC_LINEAR_WEIGHT_IN_OUT;
  expectRejected(p, "the in_out layout");
  p = valid;
  p.flags = 8;
  expectRejected(p, "unknown flag");
  p = valid;
  p.m = int64_t(1) << 40;
  p.k = int64_t(1) << 40;
  expectRejected(p, "m * k overflows");
  p = valid;
  p.r = int64_t(1) << 40;
  p.k = int64_t(1) << 40;
  expectRejected(p, "r * k overflows");
  p = valid;
  p.n = int64_t(1) << 40;
  p.r = int64_t(1) << 40;
  expectRejected(p, "n * r overflows");
  p = valid;
  p.m = int64_t(1) << 40;
  p.r = int64_t(1) << 40;
  expectRejected(p, "m * r overflows");
  p = valid;
  p.m = int64_t(1) << 40;
  p.n = int64_t(1) << 40;
  expectRejected(p, "m * n overflows");
  p = valid;
  p.m = int64_t(1) << 61;
  expectRejected(p, "m * k * 4 bytes overflow");
  p = valid;
  p.flags = -1;
  expectRejected(p, "all flag bits");

  // Without HAS_BIAS a null bias is fine.
  p = valid;
  p.bias = nullptr;
  p.flags = 0;
  EXPECT_EQ(tvc_kernel_low_rank_f32(&p), TVC_OK);
}

} // namespace
