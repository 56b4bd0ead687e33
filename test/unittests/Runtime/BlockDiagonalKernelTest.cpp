//===- BlockDiagonalKernelTest.cpp - tvc_kernel_block_diagonal_f32 --------===//
//
// The block-diagonal kernel against the reference: decode (m = 1, through
// the GEMV, with its AVX2 and baseline loops) and prefill rows, odd block
// sizes, one block, with and without bias, on one thread and on the pool;
// empty dimensions and every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/Gemv.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>

using namespace tvc::test;

namespace {

struct BlockCase {
  int64_t m, blocks, n, k;
  int64_t flags;
};

/// Runs the kernel and the reference on random inputs and compares them;
/// the magnitude of y[i,c] is sum |x w| over its block + |bias[c]|.
void checkBlockDiagonal(const BlockCase &c, bool baselineGemv = false) {
  SCOPED_TRACE(::testing::Message()
               << "m=" << c.m << " blocks=" << c.blocks << " n=" << c.n
               << " k=" << c.k << " flags=" << c.flags);
  int64_t in = c.blocks * c.k, out = c.blocks * c.n;
  // At least one element each: the kernel rejects NULL even for k = 0.
  std::vector<float> x = randomFloats(std::max<int64_t>(1, c.m * in), 1);
  std::vector<float> w = randomFloats(std::max<int64_t>(1, out * c.k), 2);
  std::vector<float> bias = randomFloats(std::max<int64_t>(1, out), 3);
  std::vector<float> y(c.m * out, std::nanf("")), expected(c.m * out);
  tvc_block_diagonal_f32_params_t params = {};
  params.x = x.data();
  params.w = w.data();
  params.bias = (c.flags & TVC_LINEAR_HAS_BIAS) ? bias.data() : nullptr;
  params.y = y.data();
  params.m = c.m;
  params.blocks = c.blocks;
  params.block_n = c.n;
  params.block_k = c.k;
  params.flags = c.flags;
  if (baselineGemv)
    tvc::runtime::gemvBlockDiagonalF32(params,
                                       tvc::runtime::GemvCode::Baseline);
  else
    ASSERT_EQ(tvc_kernel_block_diagonal_f32(&params), TVC_OK);
  params.y = expected.data();
  tvc::runtime::reference::blockDiagonalF32(params);

  std::vector<double> magnitude(c.m * out);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t col = 0; col < out; ++col) {
      int64_t block = col / c.n;
      double sum = (c.flags & TVC_LINEAR_HAS_BIAS) ? std::fabs(bias[col]) : 0;
      for (int64_t l = 0; l < c.k; ++l)
        sum += std::fabs(x[i * in + block * c.k + l] * w[col * c.k + l]);
      magnitude[i * out + col] = sum;
    }
  expectClose(y, expected, magnitude);
}

const int64_t kAllFlags[] = {0, TVC_LINEAR_HAS_BIAS};

/// Decode: one row through the GEMV, blocks whose rows end inside a task,
/// odd widths (vector tails), GPT-2's BlockDense shape.
TEST(BlockDiagonalKernel, DecodeRow) {
  for (int64_t flags : kAllFlags) {
    checkBlockDiagonal({1, 4, 96, 192, flags});
    checkBlockDiagonal({1, 3, 7, 13, flags});
    checkBlockDiagonal({1, 5, 301, 67, flags});
    checkBlockDiagonal({1, 1, 1, 1, flags});
  }
}

/// The GEMV's edges with the AVX2 loops where the CPU has them and with the
/// baseline loops: tasks that span several small blocks, a block of one
/// row, long rows.
TEST(BlockDiagonalKernel, DecodeRowEdges) {
  for (bool baseline : {false, true})
    for (int64_t flags : kAllFlags) {
      checkBlockDiagonal({1, 64, 3, 5, flags}, baseline);
      checkBlockDiagonal({1, 7, 1, 1001, flags}, baseline);
      checkBlockDiagonal({1, 2, 2049, 33, flags}, baseline);
    }
}

/// One block is a dense linear: decode and prefill, split over the pool by
/// columns and rows.
TEST(BlockDiagonalKernel, OneBlock) {
  for (int64_t flags : kAllFlags) {
    checkBlockDiagonal({1, 1, 300, 77, flags});
    checkBlockDiagonal({5, 1, 13, 7, flags});
    checkBlockDiagonal({128, 1, 768, 256, flags});
  }
}

/// Odd sizes reach every edge of the BLAS panels, slices and tiles.
TEST(BlockDiagonalKernel, OddSizes) {
  for (int64_t flags : kAllFlags) {
    checkBlockDiagonal({3, 3, 7, 13, flags});
    checkBlockDiagonal({2, 5, 1, 1, flags});
    checkBlockDiagonal({17, 2, 131, 29, flags});
    checkBlockDiagonal({67, 3, 259, 45, flags});
  }
}

/// Prefill sizes large enough to be split over the pool: GPT-2's BlockDense
/// shape, and more blocks than tasks.
TEST(BlockDiagonalKernel, PrefillOnThePool) {
  for (int64_t flags : kAllFlags) {
    checkBlockDiagonal({128, 4, 96, 192, flags});
    checkBlockDiagonal({64, 16, 48, 48, flags});
  }
}

/// The same results with one thread as with the default pool, and with more
/// threads than cores.
TEST(BlockDiagonalKernel, ThreadCounts) {
  for (int threads : {1, 7}) {
    ASSERT_EQ(tvc_runtime_set_num_threads(threads), TVC_OK);
    checkBlockDiagonal({1, 4, 96, 192, TVC_LINEAR_HAS_BIAS});
    checkBlockDiagonal({100, 2, 300, 100, TVC_LINEAR_HAS_BIAS});
    checkBlockDiagonal({70, 1, 1000, 64, 0});
  }
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
}

/// block_k = 0 leaves y = bias (or zeros); m, blocks or block_n = 0 touch
/// nothing.
TEST(BlockDiagonalKernel, EmptyDimensions) {
  for (int64_t flags : kAllFlags) {
    checkBlockDiagonal({3, 2, 5, 0, flags});
    checkBlockDiagonal({1, 2, 5, 0, flags});
  }
  float x = 1, w = 1, bias = 1, y = 42;
  tvc_block_diagonal_f32_params_t params = {&x, &w, &bias, &y, 0, 1, 1, 1, 1};
  EXPECT_EQ(tvc_kernel_block_diagonal_f32(&params), TVC_OK);
  params.m = 1;
  params.blocks = 0;
  EXPECT_EQ(tvc_kernel_block_diagonal_f32(&params), TVC_OK);
  params.blocks = 1;
  params.block_n = 0;
  EXPECT_EQ(tvc_kernel_block_diagonal_f32(&params), TVC_OK);
  EXPECT_EQ(y, 42);
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves y alone.
TEST(BlockDiagonalKernel, InvalidArguments) {
  float x[4] = {}, w[4] = {}, bias[2] = {}, y[4] = {1, 2, 3, 4};
  // Two rows, two 1x1 blocks.
  const tvc_block_diagonal_f32_params_t valid = {
      x, w, bias, y, 2, 2, 1, 1, TVC_LINEAR_HAS_BIAS};
  ASSERT_EQ(tvc_kernel_block_diagonal_f32(&valid), TVC_OK);
  for (float &value : y)
    value = 7;
  auto expectRejected = [&](tvc_block_diagonal_f32_params_t params,
                            const char *why) {
    EXPECT_EQ(tvc_kernel_block_diagonal_f32(&params), TVC_INVALID_ARGUMENT)
        << why;
    for (float value : y)
      EXPECT_EQ(value, 7) << why;
  };
  EXPECT_EQ(tvc_kernel_block_diagonal_f32(nullptr), TVC_INVALID_ARGUMENT);
  tvc_block_diagonal_f32_params_t p = valid;
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
  p.blocks = -2;
  expectRejected(p, "negative blocks");
  p = valid;
  p.block_n = -3;
  expectRejected(p, "negative block_n");
  p = valid;
  p.block_k = -4;
  expectRejected(p, "negative block_k");
  p = valid;
  p.blocks = int64_t(1) << 40;
  p.block_k = int64_t(1) << 40;
  expectRejected(p, "blocks * block_k overflows");
  p = valid;
  p.block_k = int64_t(1) << 61;
  expectRejected(p, "[blocks*block_n, block_k] beyond the address space");
  p = valid;
  p.m = int64_t(1) << 61;
  expectRejected(p, "[m, blocks*block_n] beyond the address space");
  p = valid;
  p.flags = TVC_LINEAR_WEIGHT_IN_OUT;
  expectRejected(p, "the in_out layout");
  p = valid;
  p.flags = -1;
  expectRejected(p, "all flag bits");

  // Without HAS_BIAS a null bias is fine.
  p = valid;
  p.bias = nullptr;
  p.flags = 0;
  EXPECT_EQ(tvc_kernel_block_diagonal_f32(&p), TVC_OK);
}

} // namespace
