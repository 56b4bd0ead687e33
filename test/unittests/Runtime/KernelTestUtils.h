//===- KernelTestUtils.h - Shared helpers of the kernel tests ---*- C++ -*-===//
//
// Random inputs with a fixed seed and the tolerance check the CPU kernel
// tests share: fp32 results must match the double-precision reference within
// a relative 1e-5 of the magnitude of the terms that formed them.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_TEST_UNITTESTS_RUNTIME_KERNELTESTUTILS_H
#define TVC_TEST_UNITTESTS_RUNTIME_KERNELTESTUTILS_H

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tvc::test {

/// Relative tolerance of fp32 kernels against the reference.
constexpr double kRelativeTolerance = 1e-5;

/// `count` floats uniform in [-1, 1], the same for the same seed.
inline std::vector<float> randomFloats(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &value : values)
    value = dist(rng);
  return values;
}

/// Expects |actual[i] - expected[i]| <= tolerance * magnitude[i] for every
/// i; reports the first few mismatches.
inline void expectClose(const std::vector<float> &actual,
                        const std::vector<float> &expected,
                        const std::vector<double> &magnitude,
                        double tolerance = kRelativeTolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  ASSERT_EQ(actual.size(), magnitude.size());
  int failures = 0;
  for (size_t i = 0; i < actual.size() && failures < 5; ++i) {
    double bound = tolerance * std::max(magnitude[i], 1e-30);
    double error = std::fabs(double(actual[i]) - double(expected[i]));
    if (!(error <= bound)) {
      ++failures;
      ADD_FAILURE() << "element " << i << ": got " << actual[i] << ", want "
                    << expected[i] << " (error " << error << " > " << bound
                    << ")";
    }
  }
}

/// The argument checks that linear params structs with the fields x, w,
/// bias, y, m, n, k and flags share: each mutation of `valid` (which has
/// TVC_LINEAR_HAS_BIAS set) is passed to `expectRejected(params, why)`.
/// Flag values a kernel rejects besides -1 are its own test's.
template <typename Params, typename ExpectRejected>
void expectLinearArgumentsRejected(const Params &valid,
                                   ExpectRejected expectRejected) {
  Params p = valid;
  p.x = nullptr;
  expectRejected(p, "null x");
  p = valid;
  p.w = nullptr;
  expectRejected(p, "null w");
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
  p.k = int64_t(1) << 62;
  expectRejected(p, "[n,k] beyond the address space");
  p = valid;
  p.m = int64_t(1) << 61;
  p.n = 4;
  expectRejected(p, "[m,n] beyond the address space");
  p = valid;
  p.flags = -1;
  expectRejected(p, "all flag bits");
}

} // namespace tvc::test

#endif // TVC_TEST_UNITTESTS_RUNTIME_KERNELTESTUTILS_H
