//===- LinearW16KernelTest.cpp - 16-bit-weight linear vs the reference ----===//
//
// tvc_kernel_linear_bf16w_f32 and tvc_kernel_linear_f16w_f32 against the
// reference (weights widened, then the fp32 linear in double): both types,
// both layouts, with and without bias, decode and prefill row counts, odd
// sizes, every compiled copy (AVX-512, AVX2, baseline) of the few-rows path
// and of the GEMM path's widening; every one of the 65536 bit patterns of
// each type widened exactly by every path; infinite and NaN weights; one and
// two threads; k = 0, m or n = 0, and every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/LinearW16.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace tvc::test;
using tvc::runtime::W16Code;
using tvc::runtime::W16Type;

namespace {

/// How the kernel is reached.
enum class Path {
  /// The entry point (few-rows path up to kW16MaxGemvRows rows).
  Entry,
  /// The few-rows path, for any m: its best copy, AVX2 at most, baseline.
  Gemv,
  GemvAvx2,
  GemvBaseline,
  /// The widen-and-GEMM path, for any m: its best copy, the baseline's
  /// widening.
  Gemm,
  GemmBaseline,
};

const Path kAllPaths[] = {Path::Entry,        Path::Gemv, Path::GemvAvx2,
                          Path::GemvBaseline, Path::Gemm, Path::GemmBaseline};

const char *pathName(Path path) {
  switch (path) {
  case Path::Entry:
    return "entry";
  case Path::Gemv:
    return "gemv";
  case Path::GemvAvx2:
    return "gemv-avx2";
  case Path::GemvBaseline:
    return "gemv-baseline";
  case Path::Gemm:
    return "gemm";
  case Path::GemmBaseline:
    return "gemm-baseline";
  }
  return "?";
}

const int64_t kAllFlags[] = {0, TVC_LINEAR_HAS_BIAS, TVC_LINEAR_WEIGHT_IN_OUT,
                             TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT};

tvc_status_t callEntry(W16Type type, const tvc_linear_w16_f32_params_t &p) {
  return type == W16Type::BF16 ? tvc_kernel_linear_bf16w_f32(&p)
                               : tvc_kernel_linear_f16w_f32(&p);
}

/// Runs `p` (validated, m, n, k >= 1 unless through the entry) on `path`.
tvc_status_t run(W16Type type, const tvc_linear_w16_f32_params_t &p,
                 Path path) {
  switch (path) {
  case Path::Entry:
    return callEntry(type, p);
  case Path::Gemv:
    tvc::runtime::gemvW16F32(type, p);
    return TVC_OK;
  case Path::GemvAvx2:
    tvc::runtime::gemvW16F32(type, p, W16Code::Avx2);
    return TVC_OK;
  case Path::GemvBaseline:
    tvc::runtime::gemvW16F32(type, p, W16Code::Baseline);
    return TVC_OK;
  case Path::Gemm:
    return tvc::runtime::gemmW16F32(type, p);
  case Path::GemmBaseline:
    return tvc::runtime::gemmW16F32(type, p, W16Code::Baseline);
  }
  return TVC_INTERNAL;
}

float widen(W16Type type, uint16_t bits) {
  return type == W16Type::BF16 ? tvc::runtime::reference::widenBf16(bits)
                               : tvc::runtime::reference::widenF16(bits);
}

/// `count` random finite weights of `type` with magnitudes from the
/// smallest subnormals (f16) or 2^-15 (bf16) to just below 2, drawn as bit
/// patterns so every mantissa bit varies: the same bits read as the other
/// type give other values.
std::vector<uint16_t> randomWeights(W16Type type, int64_t count,
                                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> bits(count);
  for (uint16_t &value : bits) {
    uint32_t sign = rng() & 1, random = rng();
    if (type == W16Type::F16) // exponent field 0..15
      value =
          uint16_t(sign << 15 | (random % 16) << 10 | ((random >> 8) & 1023));
    else // exponent field 112..127
      value = uint16_t(sign << 15 | (112 + random % 16) << 7 |
                       ((random >> 8) & 127));
  }
  return bits;
}

struct Case {
  W16Type type;
  int64_t m, n, k;
  int64_t flags;
};

/// Expects y to match the reference: within 1e-5 of sum |x w| + |bias| where
/// that is finite, the same infinity or NaN where the reference has one.
void expectMatches(const Case &c, const std::vector<float> &x,
                   const std::vector<uint16_t> &w,
                   const std::vector<float> &bias, const std::vector<float> &y,
                   const std::vector<float> &expected) {
  bool inOut = c.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  int failures = 0;
  for (int64_t i = 0; i < c.m && failures < 5; ++i)
    for (int64_t j = 0; j < c.n && failures < 5; ++j) {
      float got = y[i * c.n + j], want = expected[i * c.n + j];
      if (!std::isfinite(want)) {
        bool same = std::isnan(want) ? std::isnan(got) : got == want;
        if (!same) {
          ++failures;
          ADD_FAILURE() << "y[" << i << "," << j << "] = " << got << ", want "
                        << want;
        }
        continue;
      }
      double magnitude =
          (c.flags & TVC_LINEAR_HAS_BIAS) ? std::fabs(bias[j]) : 0;
      for (int64_t l = 0; l < c.k; ++l)
        magnitude +=
            std::fabs(double(x[i * c.k + l]) *
                      widen(c.type, inOut ? w[l * c.n + j] : w[j * c.k + l]));
      double bound = kRelativeTolerance * std::max(magnitude, 1e-30);
      if (!(std::fabs(double(got) - double(want)) <= bound)) {
        ++failures;
        ADD_FAILURE() << "y[" << i << "," << j << "] = " << got << ", want "
                      << want << " (bound " << bound << ")";
      }
    }
}

/// Runs `path` and the reference on `w` (random x and bias) and compares.
void checkWeights(const Case &c, const std::vector<uint16_t> &w, Path path) {
  SCOPED_TRACE(::testing::Message()
               << (c.type == W16Type::BF16 ? "bf16" : "f16") << " m=" << c.m
               << " n=" << c.n << " k=" << c.k << " flags=" << c.flags << " "
               << pathName(path));
  // At least one element each: the kernels reject NULL even for k = 0.
  std::vector<float> x = randomFloats(std::max<int64_t>(1, c.m * c.k), 1);
  std::vector<float> bias = randomFloats(c.n, 3);
  std::vector<float> y(c.m * c.n, std::nanf("")), expected(c.m * c.n);
  tvc_linear_w16_f32_params_t params = {};
  params.x = x.data();
  params.w = w.data();
  params.bias = (c.flags & TVC_LINEAR_HAS_BIAS) ? bias.data() : nullptr;
  params.y = y.data();
  params.m = c.m;
  params.n = c.n;
  params.k = c.k;
  params.flags = c.flags;
  ASSERT_EQ(run(c.type, params, path), TVC_OK);
  params.y = expected.data();
  tvc::runtime::reference::linearW16F32(params, c.type == W16Type::F16);
  expectMatches(c, x, w, bias, y, expected);
}

void check(const Case &c, Path path = Path::Entry) {
  std::vector<uint16_t> w =
      randomWeights(c.type, std::max<int64_t>(1, c.n * c.k), 2);
  checkWeights(c, w, path);
}

const W16Type kTypes[] = {W16Type::BF16, W16Type::F16};

/// Every row count of the brief (decode, the few-rows path's chunks of
/// eight and their tails, prefill) on odd shapes: k and n off every vector
/// width, a single output, a single input.
TEST(LinearW16Kernel, RowCountsAndOddShapes) {
  struct Shape {
    int64_t n, k;
  };
  for (W16Type type : kTypes)
    for (int64_t flags : kAllFlags)
      for (int64_t m : {1, 2, 3, 7, 8, 9, 16, 33, 128})
        for (Shape shape : {Shape{1, 1}, Shape{1, 37}, Shape{37, 1},
                            Shape{13, 70}, Shape{67, 131}, Shape{131, 67}})
          check({type, m, shape.n, shape.k, flags});
}

/// Every compiled copy of the few-rows path (forced past its row limit
/// too) and of the GEMM path's widening, on shapes that reach the vector
/// bodies and every tail.
TEST(LinearW16Kernel, EveryPath) {
  for (W16Type type : kTypes)
    for (int64_t flags : kAllFlags)
      for (Path path : kAllPaths)
        for (int64_t m : {1, 2, 5, 8, 9, 17})
          for (auto nk :
               {std::pair<int64_t, int64_t>{37, 70}, {259, 35}, {19, 300}})
            check({type, m, nk.first, nk.second, flags}, path);
}

/// Shapes split over the pool: many output rows, a [k,n] weight whose
/// rows are split into parts (few columns, long k), several column blocks,
/// and prefill tiles (k = 3072 gives tiles narrower than the slices).
TEST(LinearW16Kernel, LargeOnThePool) {
  for (W16Type type : kTypes)
    for (int64_t flags : kAllFlags) {
      for (int64_t m : {1, 4, 8}) {
        check({type, m, 3000, 300, flags});
        check({type, m, 40, 5000, flags});
        check({type, m, 4099, 70, flags});
      }
      check({type, 33, 520, 3072, flags});
    }
  check({W16Type::F16, 128, 768, 768, TVC_LINEAR_HAS_BIAS});
}

/// The same results with one thread and with two.
TEST(LinearW16Kernel, OneAndTwoThreads) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    ASSERT_EQ(tvc_runtime_set_num_threads(threads), TVC_OK);
    for (W16Type type : kTypes)
      for (int64_t flags : kAllFlags) {
        check({type, 1, 3072, 768, flags});
        check({type, 3, 768, 769, flags});
        check({type, 1, 50, 3000, flags});
        check({type, 64, 768, 256, flags});
      }
  }
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// The reference's widening against values fixed by the formats.
TEST(LinearW16Kernel, ReferenceWidening) {
  using tvc::runtime::reference::widenBf16;
  using tvc::runtime::reference::widenF16;
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(widenF16(0x3c00), 1.0f);
  EXPECT_EQ(widenF16(0xc000), -2.0f);
  EXPECT_EQ(widenF16(0x3555), 0x1.554p-2f);
  EXPECT_EQ(widenF16(0x0001), 0x1p-24f);
  EXPECT_EQ(widenF16(0x03ff), 0x1.ff8p-15f);
  EXPECT_EQ(widenF16(0x0400), 0x1p-14f);
  EXPECT_EQ(widenF16(0x7bff), 65504.0f);
  EXPECT_EQ(widenF16(0x7c00), inf);
  EXPECT_EQ(widenF16(0xfc00), -inf);
  EXPECT_TRUE(std::isnan(widenF16(0x7e00)));
  EXPECT_TRUE(std::isnan(widenF16(0xfc01)));
  EXPECT_TRUE(std::signbit(widenF16(0x8000)) && widenF16(0x8000) == 0);
  EXPECT_EQ(widenBf16(0x3f80), 1.0f);
  EXPECT_EQ(widenBf16(0x4049), 3.140625f);
  EXPECT_EQ(widenBf16(0x0001), 0x1p-133f);
  EXPECT_EQ(widenBf16(0x7f7f), 0x1.fep127f);
  EXPECT_EQ(widenBf16(0xff80), -inf);
  EXPECT_TRUE(std::isnan(widenBf16(0x7fc0)));
}

/// Every bit pattern of the type, widened by `path`: output j of y has one
/// non-zero weight, pattern j (mod 65536), at input j % k, x is all ones,
/// so y[i, j] is that weight exactly (an infinity stays one, NaN stays NaN,
/// a subnormal is not flushed).
void checkAllPatterns(W16Type type, int64_t m, int64_t flags, Path path) {
  SCOPED_TRACE(::testing::Message()
               << (type == W16Type::BF16 ? "bf16" : "f16") << " m=" << m
               << " flags=" << flags << " " << pathName(path));
  constexpr int64_t kN = 65536 + 13, kK = 37;
  bool inOut = flags & TVC_LINEAR_WEIGHT_IN_OUT;
  std::vector<uint16_t> w(kN * kK, 0);
  for (int64_t j = 0; j < kN; ++j) {
    int64_t l = j % kK;
    w[inOut ? l * kN + j : j * kK + l] = uint16_t(j);
  }
  std::vector<float> x(m * kK, 1.0f), y(m * kN, -1.0f);
  tvc_linear_w16_f32_params_t params = {x.data(), w.data(), nullptr, y.data(),
                                        m,        kN,       kK,      flags};
  ASSERT_EQ(run(type, params, path), TVC_OK);
  int failures = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i)
    for (int64_t j = 0; j < kN && failures < 5; ++j) {
      float want = widen(type, uint16_t(j)), got = y[i * kN + j];
      if (std::isnan(want) ? !std::isnan(got) : got != want) {
        ++failures;
        ADD_FAILURE() << "pattern 0x" << std::hex << (j & 0xffff) << std::dec
                      << " row " << i << ": got " << got << ", want " << want;
      }
    }
}

TEST(LinearW16Kernel, EveryBitPatternWidensExactly) {
  for (W16Type type : kTypes)
    for (int64_t flags : {0, int(TVC_LINEAR_WEIGHT_IN_OUT)})
      for (Path path : kAllPaths)
        for (int64_t m : {1, 3, 9}) {
          if (path == Path::Entry || m != 9)
            checkAllPatterns(type, m, flags, path);
        }
}

/// Random weights with infinities, NaN, the largest finite value and
/// subnormals spliced in: y is infinite or NaN exactly where the reference
/// is, and within tolerance elsewhere.
TEST(LinearW16Kernel, SpecialWeightValues) {
  const uint16_t f16Specials[] = {0x7c00, 0xfc00, 0x7e00, 0x7bff,
                                  0xfbff, 0x0001, 0x83ff, 0x0400};
  const uint16_t bf16Specials[] = {0x7f80, 0xff80, 0x7fc0, 0x7f7f,
                                   0xff7f, 0x0001, 0x807f, 0x0080};
  for (W16Type type : kTypes)
    for (int64_t flags : kAllFlags)
      for (Path path : kAllPaths)
        for (int64_t m : {1, 3, 9}) {
          Case c = {type, m, 41, 53, flags};
          std::vector<uint16_t> w = randomWeights(type, c.n * c.k, 5);
          const uint16_t *specials =
              type == W16Type::F16 ? f16Specials : bf16Specials;
          std::mt19937 rng(7);
          for (int s = 0; s < 24; ++s)
            w[rng() % w.size()] = specials[s % 8];
          checkWeights(c, w, path);
        }
}

/// A fused activation (flags bits 3-5) through the entry on each path: the
/// few-rows path and k = 0 (one pass after), the GEMM path (per slice).
TEST(LinearW16Kernel, FusedActivations) {
  for (W16Type type : kTypes)
    for (int64_t activation : {TVC_LINEAR_RELU, TVC_LINEAR_GELU,
                               TVC_LINEAR_GELU_TANH, TVC_LINEAR_SILU})
      for (int64_t flags : kAllFlags) {
        check({type, 1, 3072, 768, flags | activation});
        check({type, 5, 41, 53, flags | activation});
        check({type, 64, 768, 256, flags | activation});
        check({type, 3, 5, 0, flags | activation});
      }
}

/// k = 0 leaves y = bias (or zeros); m or n = 0 touches nothing.
TEST(LinearW16Kernel, EmptyDimensions) {
  for (W16Type type : kTypes) {
    for (int64_t flags : kAllFlags)
      for (int64_t m : {1, 3, 9})
        check({type, m, 5, 0, flags});
    float x = 1, bias = 1, y = 42;
    uint16_t w = 0x3c00;
    tvc_linear_w16_f32_params_t params = {&x, &w, &bias, &y, 0, 1, 1, 1};
    EXPECT_EQ(callEntry(type, params), TVC_OK);
    params.m = 1;
    params.n = 0;
    EXPECT_EQ(callEntry(type, params), TVC_OK);
    EXPECT_EQ(y, 42);
  }
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves y alone.
TEST(LinearW16Kernel, InvalidArguments) {
  for (W16Type type : kTypes) {
    float x[4] = {}, bias[2] = {}, y[4] = {1, 2, 3, 4};
    uint16_t w[4] = {};
    const tvc_linear_w16_f32_params_t valid = {x, w, bias, y,
                                               2, 2, 2,    TVC_LINEAR_HAS_BIAS};
    ASSERT_EQ(callEntry(type, valid), TVC_OK);
    for (float &value : y)
      value = 7;
    auto expectRejected = [&](tvc_linear_w16_f32_params_t params,
                              const char *why) {
      EXPECT_EQ(callEntry(type, params), TVC_INVALID_ARGUMENT) << why;
      for (float value : y)
        EXPECT_EQ(value, 7) << why;
    };
    EXPECT_EQ(tvc_kernel_linear_bf16w_f32(nullptr), TVC_INVALID_ARGUMENT);
    EXPECT_EQ(tvc_kernel_linear_f16w_f32(nullptr), TVC_INVALID_ARGUMENT);
    expectLinearArgumentsRejected(valid, expectRejected);
    tvc_linear_w16_f32_params_t p = valid;
    p.flags = TVC_LINEAR_HAS_BIAS | TVC_LINEAR_ALLOW_TF32;
    expectRejected(p, "TF32 flag");
    p = valid;
    p.flags = 64;
    expectRejected(p, "unknown flag");
    p.flags = TVC_LINEAR_HAS_BIAS | 40;
    expectRejected(p, "unknown activation");

    // Without HAS_BIAS a null bias is fine, and y is x * W^T = 0.
    p = valid;
    p.bias = nullptr;
    p.flags = 0;
    EXPECT_EQ(callEntry(type, p), TVC_OK);
    EXPECT_EQ(y[0], 0.0f);
  }
}

} // namespace
