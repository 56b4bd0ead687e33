//===- PremergeCostModelTest.cpp - The structured-FFN CPU cost model ------===//
//
// The decisions of passes/Transforms/PremergeCostModel.h on the shapes the
// docs quote: small or near-full-rank factors merge at decode, large
// low-rank projections stay factored in both phases, BlockDense (whose
// blocks run as generated loops) merges for prefill only, LoRA always
// merges, and the decode crossover sits where the bytes saved equal one
// call.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/PremergeCostModel.h"

#include <gtest/gtest.h>

using namespace mlir::tvc::premerge;

namespace {

TEST(PremergeCostModel, SmallLowRankMergesAtDecode) {
  CpuCosts costs;
  EXPECT_TRUE(estimateLowRank(costs, 1, 2, 3, 2).preferMerged());
  EXPECT_TRUE(estimateLowRank(costs, 1, 64, 64, 32).preferMerged());
}

TEST(PremergeCostModel, LargeLowRankStaysFactored) {
  CpuCosts costs;
  for (int64_t rows : {1, 128}) {
    EXPECT_FALSE(estimateLowRank(costs, rows, 512, 256, 16).preferMerged());
    EXPECT_FALSE(estimateLowRank(costs, rows, 3072, 768, 192).preferMerged());
    EXPECT_FALSE(estimateLowRank(costs, rows, 3072, 768, 384).preferMerged());
  }
}

TEST(PremergeCostModel, FullRankFactorsMerge) {
  CpuCosts costs;
  // r (in + out) > in out: the factors are bigger than the matrix.
  EXPECT_TRUE(estimateLowRank(costs, 1, 768, 768, 512).preferMerged());
  EXPECT_TRUE(estimateLowRank(costs, 128, 768, 768, 512).preferMerged());
}

TEST(PremergeCostModel, LoraAlwaysMerges) {
  CpuCosts costs;
  for (int64_t rows : {1, 128})
    for (int64_t rank : {1, 8, 64})
      EXPECT_TRUE(estimateLora(costs, rows, 768, 768, rank).preferMerged());
}

TEST(PremergeCostModel, BlockDenseKeptAtDecodeMergedAtPrefill) {
  CpuCosts costs;
  // d = 768, 4 blocks, r = 64 -> 3072: at one token the bytes decide (the
  // factors are a tenth of the matrix); with 128 rows the generated
  // block-diagonal loops are far slower than one GEMM.
  EXPECT_FALSE(estimateBlockDense(costs, 1, 3072, 768, 64, 4).preferMerged());
  EXPECT_TRUE(estimateBlockDense(costs, 128, 3072, 768, 64, 4).preferMerged());
  // At r = 384 the loops' 0.4 GFLOP/s (bench/structured_ffn.py) lose even
  // at one token, though the factors are half the matrix's bytes: the
  // benchmark measured 33 tokens/s factored against 80 merged.
  EXPECT_TRUE(estimateBlockDense(costs, 1, 3072, 768, 384, 4).preferMerged());
  EXPECT_TRUE(estimateBlockDense(costs, 1, 768, 3072, 384, 4).preferMerged());
}

TEST(PremergeCostModel, DecodeCrossoverIsOneCallOfBytes) {
  CpuCosts costs;
  // Square d x d at rank r: merged saves 4 (d^2 - 2 d r) bytes per step.
  // Without overhead the factored form wins for any r < d / 2; the
  // overhead moves the crossover below d / 2 by about overhead x bandwidth
  // / (8 d) ranks.
  costs.callOverheadUs = 0;
  EXPECT_FALSE(estimateLowRank(costs, 1, 256, 256, 127).preferMerged());
  EXPECT_TRUE(estimateLowRank(costs, 1, 256, 256, 129).preferMerged());
  costs.callOverheadUs = 0.4;
  // 0.4 us x 22 GB/s / (8 x 256) = 4.3 ranks below 128.
  EXPECT_FALSE(estimateLowRank(costs, 1, 256, 256, 123).preferMerged());
  EXPECT_TRUE(estimateLowRank(costs, 1, 256, 256, 124).preferMerged());
}

} // namespace
