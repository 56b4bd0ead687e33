//===- LinearKernelTest.cpp - tvc_kernel_linear_f32 against the reference -===//
//
// Decode (m = 1) and prefill rows, odd sizes, both weight layouts, with and
// without bias, on one thread and on the pool; every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/Activation.h"
#include "runtime/kernels/cpu/Gemv.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace tvc::test;

namespace {

struct LinearCase {
  int64_t m, n, k;
  int64_t flags;
};

/// Runs the kernel and the reference on random inputs and compares them;
/// the magnitude of y[i,j] is sum |x[i,l] w[l,j]| + |bias[j]|.
void checkLinear(const LinearCase &c, bool baselineGemv = false) {
  SCOPED_TRACE(::testing::Message() << "m=" << c.m << " n=" << c.n
                                    << " k=" << c.k << " flags=" << c.flags);
  // At least one element each: the kernel rejects NULL even for k = 0.
  std::vector<float> x = randomFloats(std::max<int64_t>(1, c.m * c.k), 1);
  std::vector<float> w = randomFloats(std::max<int64_t>(1, c.n * c.k), 2);
  std::vector<float> bias = randomFloats(c.n, 3);
  std::vector<float> y(c.m * c.n, std::nanf("")), expected(c.m * c.n);
  tvc_linear_f32_params_t params = {};
  params.x = x.data();
  params.w = w.data();
  params.bias = (c.flags & TVC_LINEAR_HAS_BIAS) ? bias.data() : nullptr;
  params.y = y.data();
  params.m = c.m;
  params.n = c.n;
  params.k = c.k;
  params.flags = c.flags;
  if (baselineGemv)
    tvc::runtime::gemvF32(params, tvc::runtime::GemvCode::Baseline);
  else
    ASSERT_EQ(tvc_kernel_linear_f32(&params), TVC_OK);
  params.y = expected.data();
  tvc::runtime::reference::linearF32(params);

  bool inOut = c.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  std::vector<double> magnitude(c.m * c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double sum = (c.flags & TVC_LINEAR_HAS_BIAS) ? std::fabs(bias[j]) : 0;
      for (int64_t l = 0; l < c.k; ++l)
        sum += std::fabs(x[i * c.k + l] *
                         (inOut ? w[l * c.n + j] : w[j * c.k + l]));
      magnitude[i * c.n + j] = sum;
    }
  expectClose(y, expected, magnitude);
}

const int64_t kAllFlags[] = {0, TVC_LINEAR_HAS_BIAS, TVC_LINEAR_WEIGHT_IN_OUT,
                             TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT};

/// Decode: one row goes through sgemv.
TEST(LinearKernel, DecodeRow) {
  for (int64_t flags : kAllFlags) {
    checkLinear({1, 7, 13, flags});
    checkLinear({1, 64, 64, flags});
    checkLinear({1, 768, 768, flags});
    checkLinear({1, 3072, 768, flags});
    checkLinear({1, 768, 3072, flags});
  }
}

/// Decode rows that reach every edge of the hand-written GEMV: vector and
/// four-row tails, several column blocks of a [k,n] weight, its rows split
/// into parts (the last one short), on the pool; with the AVX2 loops where
/// the CPU has them and with the baseline loops.
TEST(LinearKernel, DecodeRowEdges) {
  for (bool baseline : {false, true})
    for (int64_t flags : kAllFlags) {
      checkLinear({1, 4099, 70, flags}, baseline);
      checkLinear({1, 1001, 523, flags}, baseline);
      checkLinear({1, 9000, 131, flags}, baseline);
      checkLinear({1, 5, 100003, flags}, baseline);
      checkLinear({1, 3, 5, flags}, baseline);
    }
}

/// Odd sizes reach every edge of the BLAS panels and of the column slices.
TEST(LinearKernel, OddSizes) {
  for (int64_t flags : kAllFlags) {
    checkLinear({3, 7, 13, flags});
    checkLinear({5, 1, 1, flags});
    checkLinear({2, 13, 7, flags});
    checkLinear({17, 1031, 129, flags});
  }
}

/// Prefill sizes large enough to be split over the pool.
TEST(LinearKernel, PrefillOnThePool) {
  for (int64_t flags : kAllFlags)
    checkLinear({64, 768, 256, flags});
  checkLinear({128, 3072, 768, TVC_LINEAR_HAS_BIAS});
}

/// The same results with one thread as with the default pool.
TEST(LinearKernel, OneThread) {
  ASSERT_EQ(tvc_runtime_set_num_threads(1), TVC_OK);
  checkLinear({64, 768, 256, TVC_LINEAR_HAS_BIAS});
  checkLinear({1, 3072, 768, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT});
  checkLinear({1, 3072, 768, TVC_LINEAR_HAS_BIAS});
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// More threads than cores still split and join correctly.
TEST(LinearKernel, ManyThreads) {
  ASSERT_EQ(tvc_runtime_set_num_threads(7), TVC_OK);
  checkLinear({33, 2000, 300, TVC_LINEAR_HAS_BIAS});
  checkLinear({1, 2000, 301, TVC_LINEAR_HAS_BIAS});
  checkLinear({1, 2000, 301, TVC_LINEAR_WEIGHT_IN_OUT});
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// k = 0 leaves y = bias (or zeros); m or n = 0 touches nothing.
TEST(LinearKernel, EmptyDimensions) {
  for (int64_t flags : kAllFlags)
    checkLinear({3, 5, 0, flags});
  float x = 1, w = 1, bias = 1, y = 42;
  tvc_linear_f32_params_t params = {&x, &w, &bias, &y, 0, 1, 1, 1};
  EXPECT_EQ(tvc_kernel_linear_f32(&params), TVC_OK);
  params.m = 1;
  params.n = 0;
  EXPECT_EQ(tvc_kernel_linear_f32(&params), TVC_OK);
  EXPECT_EQ(y, 42);
}

const int64_t kActivations[] = {TVC_LINEAR_RELU, TVC_LINEAR_GELU,
                                TVC_LINEAR_GELU_TANH, TVC_LINEAR_SILU};

/// A fused activation on every path: one row (GEMV, then one pass), a few
/// rows and a prefill on the pool (GEMM slices), k = 0 (bias only).
TEST(LinearKernel, FusedActivations) {
  for (int64_t activation : kActivations)
    for (int64_t flags : kAllFlags) {
      checkLinear({1, 768, 256, flags | activation});
      checkLinear({1, 3072, 768, flags | activation});
      checkLinear({3, 7, 13, flags | activation});
      checkLinear({64, 768, 256, flags | activation});
      checkLinear({3, 5, 0, flags | activation});
    }
}

/// The activations alone against libm in double: within 2e-6 relative
/// (about 16 float ulps; measured: 1.1e-6 for GELU's erf form in its
/// negative tail, under 1e-6 for the others) plus 1e-9 absolute (below
/// y = -5.7 the erf form's z^2 rounds to fewer bits than its result has,
/// where GELU is under 1e-7) over [-40, 40] in steps of 1/128, and the
/// special values.
TEST(LinearKernel, ActivationAccuracy) {
  for (int64_t activation : kActivations) {
    SCOPED_TRACE(::testing::Message() << "activation " << activation);
    for (int step = -40 * 128; step <= 40 * 128; ++step) {
      float y = float(step) / 128;
      double want = tvc::runtime::reference::activation(activation, y);
      double got = tvc::runtime::activationValue(activation, y);
      double bound = 2e-6 * std::fabs(want) + 1e-9;
      ASSERT_LE(std::fabs(got - want), bound) << "at y = " << y;
    }
    float inf = std::numeric_limits<float>::infinity();
    EXPECT_TRUE(
        std::isnan(tvc::runtime::activationValue(activation, std::nanf(""))));
    EXPECT_EQ(tvc::runtime::activationValue(activation, inf), inf);
    EXPECT_EQ(tvc::runtime::activationValue(activation, 0.0f), 0.0f);
    // Far tails: the identity above, zero (or -0) below.
    EXPECT_EQ(tvc::runtime::activationValue(activation, 1e6f), 1e6f);
    EXPECT_EQ(tvc::runtime::activationValue(activation, -1e6f), 0.0f);
    EXPECT_EQ(tvc::runtime::activationValue(activation, 3e38f), 3e38f);
  }
  EXPECT_EQ(tvc::runtime::activationValue(0, -2.5f), -2.5f);
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves y alone.
TEST(LinearKernel, InvalidArguments) {
  float x[4] = {}, w[4] = {}, bias[2] = {}, y[4] = {1, 2, 3, 4};
  const tvc_linear_f32_params_t valid = {x, w, bias, y,
                                         2, 2, 2,    TVC_LINEAR_HAS_BIAS};
  ASSERT_EQ(tvc_kernel_linear_f32(&valid), TVC_OK);
  for (float &value : y)
    value = 7;
  auto expectRejected = [&](tvc_linear_f32_params_t params, const char *why) {
    EXPECT_EQ(tvc_kernel_linear_f32(&params), TVC_INVALID_ARGUMENT) << why;
    for (float value : y)
      EXPECT_EQ(value, 7) << why;
  };
  EXPECT_EQ(tvc_kernel_linear_f32(nullptr), TVC_INVALID_ARGUMENT);
  expectLinearArgumentsRejected(valid, expectRejected);
  tvc_linear_f32_params_t p = valid;
  p.flags = 4;
  expectRejected(p, "unknown flag");
  for (int64_t unknown : {40, 48, 56}) {
    p.flags = TVC_LINEAR_HAS_BIAS | unknown;
    expectRejected(p, "unknown activation");
  }
  p.flags = 64;
  expectRejected(p, "unknown flag above the activation field");

  // Without HAS_BIAS a null bias is fine.
  p = valid;
  p.bias = nullptr;
  p.flags = 0;
  EXPECT_EQ(tvc_kernel_linear_f32(&p), TVC_OK);
}

} // namespace
