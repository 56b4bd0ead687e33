//===- Sparse24KernelTest.cpp - tvc_kernel_linear_2to4_f32 vs reference ---===//
//
// Decode (m = 1: the GEMV's AVX-512, AVX2 and baseline copies) and prefill rows
// (m > 1: decompression plus oneDNN) against the reference, on random
// compressed weights whose positions are unsorted and repeat, and on sorted
// distinct ones; every group tail (k % 32), k % 8 == 4 with a set high nibble
// that must be ignored, row counts that are not a multiple of the GEMV's row
// block, one thread, the default pool and seven threads; k = 0, m or n = 0,
// and every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/Reference.h"
#include "runtime/kernels/cpu/Sparse24.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace tvc::test;

namespace {

/// How the kernel is reached.
enum class Path {
  /// tvc_kernel_linear_2to4_f32 (the GEMV for m = 1, with AVX-512 or AVX2
  /// when the CPU has them).
  Entry,
  /// The GEMV's AVX2 loops (baseline where the CPU lacks AVX2; m = 1 only).
  Avx2Gemv,
  /// The GEMV's baseline loops, forced (m = 1 only).
  BaselineGemv,
  /// The decompress-and-GEMM path, for any m.
  Gemm,
  /// The same with the baseline decompression.
  GemmBaseline,
};

/// How the index bytes are drawn.
enum class Positions {
  /// Every 2-bit field random: unsorted, repeated, and a random high nibble
  /// in the last byte when k % 8 == 4.
  Random,
  /// Two distinct positions in increasing order, as a pruner writes them.
  Sorted,
};

struct SparseCase {
  int64_t m, n, k;
  int64_t flags;
};

std::vector<uint8_t> randomIndices(int64_t n, int64_t k, Positions kind,
                                   uint32_t seed) {
  int64_t indexBytes = (k + 7) / 8;
  std::mt19937 rng(seed);
  std::vector<uint8_t> indices(std::max<int64_t>(1, n * indexBytes));
  if (kind == Positions::Random) {
    for (uint8_t &byte : indices)
      byte = uint8_t(rng());
    return indices;
  }
  static const uint8_t kSortedPairs[6] = {0 | 1 << 2, 0 | 2 << 2, 0 | 3 << 2,
                                          1 | 2 << 2, 1 | 3 << 2, 2 | 3 << 2};
  std::fill(indices.begin(), indices.end(), 0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t g = 0; g < k / 4; ++g)
      indices[j * indexBytes + g / 2] |= kSortedPairs[rng() % 6]
                                         << (4 * (g % 2));
  return indices;
}

/// Runs the kernel and the reference on random inputs and compares them;
/// the magnitude of y[i,j] is sum |x * kept value| + |bias[j]|.
void checkSparse(const SparseCase &c, Path path = Path::Entry,
                 Positions kind = Positions::Random) {
  SCOPED_TRACE(::testing::Message()
               << "m=" << c.m << " n=" << c.n << " k=" << c.k
               << " flags=" << c.flags << " path=" << int(path)
               << " positions=" << int(kind));
  int64_t half = c.k / 2, indexBytes = (c.k + 7) / 8;
  // At least one element each: the kernel rejects NULL even for k = 0.
  std::vector<float> x = randomFloats(std::max<int64_t>(1, c.m * c.k), 1);
  std::vector<float> values = randomFloats(std::max<int64_t>(1, c.n * half), 2);
  std::vector<uint8_t> indices = randomIndices(c.n, c.k, kind, 4);
  std::vector<float> bias = randomFloats(c.n, 3);
  std::vector<float> y(c.m * c.n, std::nanf("")), expected(c.m * c.n);
  tvc_linear_2to4_f32_params_t params = {};
  params.x = x.data();
  params.values = values.data();
  params.indices = indices.data();
  params.bias = (c.flags & TVC_LINEAR_HAS_BIAS) ? bias.data() : nullptr;
  params.y = y.data();
  params.m = c.m;
  params.n = c.n;
  params.k = c.k;
  params.flags = c.flags;
  switch (path) {
  case Path::Entry:
    ASSERT_EQ(tvc_kernel_linear_2to4_f32(&params), TVC_OK);
    break;
  case Path::Avx2Gemv:
    tvc::runtime::gemv2to4F32(params, tvc::runtime::Sparse24Code::Avx2);
    break;
  case Path::BaselineGemv:
    tvc::runtime::gemv2to4F32(params, tvc::runtime::Sparse24Code::Baseline);
    break;
  case Path::Gemm:
    ASSERT_EQ(tvc::runtime::gemm2to4F32(params), TVC_OK);
    break;
  case Path::GemmBaseline:
    ASSERT_EQ(
        tvc::runtime::gemm2to4F32(params, tvc::runtime::Sparse24Code::Baseline),
        TVC_OK);
    break;
  }
  params.y = expected.data();
  tvc::runtime::reference::linear2to4F32(params);

  std::vector<double> magnitude(c.m * c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double sum = (c.flags & TVC_LINEAR_HAS_BIAS) ? std::fabs(bias[j]) : 0;
      for (int64_t g = 0; g < c.k / 4; ++g) {
        uint8_t byte = indices[j * indexBytes + g / 2];
        int nibble = g % 2 ? byte >> 4 : byte & 15;
        for (int s = 0; s < 2; ++s)
          sum +=
              std::fabs(double(x[i * c.k + 4 * g + ((nibble >> 2 * s) & 3)]) *
                        values[j * half + 2 * g + s]);
      }
      magnitude[i * c.n + j] = sum;
    }
  expectClose(y, expected, magnitude);
}

const int64_t kBothFlags[] = {0, TVC_LINEAR_HAS_BIAS};

/// GPT-2's decode shapes.
TEST(Sparse24Kernel, DecodeRow) {
  for (int64_t flags : kBothFlags)
    for (Positions kind : {Positions::Random, Positions::Sorted}) {
      checkSparse({1, 768, 768, flags}, Path::Entry, kind);
      checkSparse({1, 2304, 768, flags}, Path::Entry, kind);
      checkSparse({1, 3072, 768, flags}, Path::Entry, kind);
      checkSparse({1, 768, 3072, flags}, Path::Entry, kind);
      checkSparse({1, 768, 3072, flags}, Path::Avx2Gemv, kind);
    }
}

/// Every group tail of the GEMV's eight-group steps (k = 4 .. 64, so
/// k % 32 takes every value and k % 8 == 4 half the time), row counts around
/// the four-row block, with the best loops the CPU has (AVX-512 here), the
/// AVX2 ones and the baseline ones.
TEST(Sparse24Kernel, DecodeRowEdges) {
  for (Path path : {Path::Entry, Path::Avx2Gemv, Path::BaselineGemv})
    for (int64_t flags : kBothFlags) {
      for (int64_t k = 4; k <= 68; k += 4)
        for (int64_t n : {1, 3, 4, 5, 9})
          checkSparse({1, n, k, flags}, path);
      // Large enough for the pool, n not a multiple of four.
      checkSparse({1, 4099, 132, flags}, path);
      checkSparse({1, 1001, 516, flags}, path);
      checkSparse({1, 7, 20004, flags}, path);
      checkSparse({1, 1001, 516, flags}, path, Positions::Sorted);
    }
}

/// Prefill through decompression and oneDNN: odd sizes at every edge of the
/// slices, k % 8 == 4, and one row forced through the same path.
TEST(Sparse24Kernel, Prefill) {
  for (int64_t flags : kBothFlags) {
    checkSparse({2, 3, 4, flags});
    checkSparse({3, 7, 12, flags});
    checkSparse({5, 1, 36, flags});
    checkSparse({17, 1031, 132, flags});
    checkSparse({64, 768, 256, flags});
    checkSparse({33, 250, 516, flags}, Path::Entry, Positions::Sorted);
    checkSparse({1, 1031, 132, flags}, Path::Gemm);
  }
  checkSparse({128, 3072, 768, TVC_LINEAR_HAS_BIAS});
}

/// Every group count of the decompression (an odd one leaves a group
/// without a partner byte nibble), with the AVX2 decompression where the CPU
/// has it and with the baseline one.
TEST(Sparse24Kernel, PrefillDecompressionEdges) {
  for (Path path : {Path::Gemm, Path::GemmBaseline})
    for (int64_t flags : kBothFlags) {
      for (int64_t k = 4; k <= 36; k += 4)
        checkSparse({3, 5, k, flags}, path);
      checkSparse({20, 300, 516, flags}, path);
      checkSparse({20, 300, 516, flags}, path, Positions::Sorted);
    }
}

/// Both positions of a group the same (the kept values add up), and every
/// position the same in every group.
TEST(Sparse24Kernel, RepeatedPositions) {
  for (uint8_t byte : {0x00, 0x55, 0xAA, 0xFF, 0x1B, 0xE4}) {
    SCOPED_TRACE(int(byte));
    for (int64_t m : {1, 3}) {
      int64_t n = 6, k = 44, half = k / 2;
      std::vector<float> x = randomFloats(m * k, 5),
                         values = randomFloats(n * half, 6), y(m * n),
                         expected(m * n);
      std::vector<uint8_t> indices(n * ((k + 7) / 8), byte);
      tvc_linear_2to4_f32_params_t params = {
          x.data(), values.data(), indices.data(), nullptr, y.data(), m, n, k,
          0};
      ASSERT_EQ(tvc_kernel_linear_2to4_f32(&params), TVC_OK);
      params.y = expected.data();
      tvc::runtime::reference::linear2to4F32(params);
      for (int64_t i = 0; i < m * n; ++i)
        EXPECT_NEAR(y[i], expected[i], 1e-4) << i;
    }
  }
}

/// The same results with one thread as with the default pool.
TEST(Sparse24Kernel, OneThread) {
  ASSERT_EQ(tvc_runtime_set_num_threads(1), TVC_OK);
  checkSparse({1, 3072, 768, TVC_LINEAR_HAS_BIAS});
  checkSparse({1, 3072, 768, TVC_LINEAR_HAS_BIAS}, Path::Avx2Gemv);
  checkSparse({1, 3072, 768, TVC_LINEAR_HAS_BIAS}, Path::BaselineGemv);
  checkSparse({64, 768, 260, TVC_LINEAR_HAS_BIAS});
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// More threads than cores still split and join correctly.
TEST(Sparse24Kernel, ManyThreads) {
  ASSERT_EQ(tvc_runtime_set_num_threads(7), TVC_OK);
  checkSparse({1, 2001, 300, TVC_LINEAR_HAS_BIAS});
  checkSparse({1, 2001, 300, 0}, Path::Avx2Gemv);
  checkSparse({1, 2001, 300, 0}, Path::BaselineGemv);
  checkSparse({33, 2000, 300, TVC_LINEAR_HAS_BIAS});
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// k = 0 leaves y = bias (or zeros); m or n = 0 touches nothing.
TEST(Sparse24Kernel, EmptyDimensions) {
  for (int64_t flags : kBothFlags) {
    checkSparse({1, 5, 0, flags});
    checkSparse({3, 5, 0, flags});
  }
  float x = 1, values = 1, bias = 1, y = 42;
  uint8_t indices = 0;
  tvc_linear_2to4_f32_params_t params = {&x, &values, &indices, &bias, &y,
                                         0,  1,       4,        1};
  EXPECT_EQ(tvc_kernel_linear_2to4_f32(&params), TVC_OK);
  params.m = 1;
  params.n = 0;
  EXPECT_EQ(tvc_kernel_linear_2to4_f32(&params), TVC_OK);
  EXPECT_EQ(y, 42);
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves y alone.
TEST(Sparse24Kernel, InvalidArguments) {
  float x[16] = {}, values[4] = {}, bias[2] = {}, y[4] = {1, 2, 3, 4};
  uint8_t indices[2] = {};
  const tvc_linear_2to4_f32_params_t valid = {
      x, values, indices, bias, y, 2, 2, 4, TVC_LINEAR_HAS_BIAS};
  ASSERT_EQ(tvc_kernel_linear_2to4_f32(&valid), TVC_OK);
  for (float &value : y)
    value = 7;
  auto expectRejected = [&](tvc_linear_2to4_f32_params_t params,
                            const char *why) {
    EXPECT_EQ(tvc_kernel_linear_2to4_f32(&params), TVC_INVALID_ARGUMENT) << why;
    for (float value : y)
      EXPECT_EQ(value, 7) << why;
  };
  EXPECT_EQ(tvc_kernel_linear_2to4_f32(nullptr), TVC_INVALID_ARGUMENT);
  tvc_linear_2to4_f32_params_t p = valid;
  p.x = nullptr;
  expectRejected(p, "null x");
  p = valid;
  p.values = nullptr;
  expectRejected(p, "null values");
  p = valid;
  p.indices = nullptr;
  expectRejected(p, "null indices");
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
  p.k = -4;
  expectRejected(p, "negative k");
  for (int64_t k : {1, 2, 3, 6, 10}) {
    p = valid;
    p.k = k;
    expectRejected(p, "k not a multiple of 4");
  }
  p = valid;
  p.m = 0;
  p.k = 6;
  expectRejected(p, "k not a multiple of 4, even with m = 0");
  p = valid;
  p.k = int64_t(1) << 62;
  expectRejected(p, "[n,k] beyond the address space");
  p = valid;
  p.m = int64_t(1) << 61;
  p.n = 4;
  expectRejected(p, "[m,n] beyond the address space");
  p = valid;
  p.flags = TVC_LINEAR_WEIGHT_IN_OUT;
  expectRejected(p, "in_out layout");
  p = valid;
  p.flags = 4;
  expectRejected(p, "unknown flag");
  p = valid;
  p.flags = -1;
  expectRejected(p, "all flag bits");

  // Without HAS_BIAS a bias is not read: null is fine, and so is a pointer.
  p = valid;
  p.bias = nullptr;
  p.flags = 0;
  EXPECT_EQ(tvc_kernel_linear_2to4_f32(&p), TVC_OK);
  float garbage[2] = {1e30f, 1e30f};
  p.bias = garbage;
  EXPECT_EQ(tvc_kernel_linear_2to4_f32(&p), TVC_OK);
  for (float value : y)
    EXPECT_EQ(value, 0);
}

} // namespace
