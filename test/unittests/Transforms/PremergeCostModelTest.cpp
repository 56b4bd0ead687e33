//===- PremergeCostModelTest.cpp - The structured-FFN CPU cost model ------===//
//
// The decisions of passes/Transforms/PremergeCostModel.h on the shapes the
// docs quote: small or near-full-rank factors merge at decode, large
// low-rank projections stay factored in both phases, so does BlockDense
// (its blocks one block-diagonal kernel call) unless its factors outweigh
// the matrix or are tiny, LoRA always merges, and the decode crossover sits
// where the bytes saved equal one call.
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

TEST(PremergeCostModel, FusedLowRankSavesOneCallAtDecode) {
  CpuCosts costs;
  // One tvc_kernel_low_rank_f32 call for a decode row: one overhead fewer.
  Estimate two = estimateLowRank(costs, 1, 128, 32, 16);
  Estimate fused = estimateFusedLowRank(costs, 1, 128, 32, 16);
  EXPECT_DOUBLE_EQ(fused.factoredUs, two.factoredUs - costs.callOverheadUs);
  EXPECT_DOUBLE_EQ(fused.mergedUs, two.mergedUs);
  EXPECT_TRUE(two.preferMerged());
  EXPECT_FALSE(fused.preferMerged());
  // More rows: the same two GEMMs inside the call.
  Estimate twoPrefill = estimateLowRank(costs, 128, 128, 32, 16);
  Estimate fusedPrefill = estimateFusedLowRank(costs, 128, 128, 32, 16);
  EXPECT_DOUBLE_EQ(fusedPrefill.factoredUs, twoPrefill.factoredUs);
  // The decode crossover of a [256 x 256] matrix: the bytes alone decide
  // (2056 r + 2048 against 264192), so it sits at r = 127.5.
  EXPECT_FALSE(estimateFusedLowRank(costs, 1, 256, 256, 127).preferMerged());
  EXPECT_TRUE(estimateFusedLowRank(costs, 1, 256, 256, 128).preferMerged());
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

TEST(PremergeCostModel, BlockDenseKeptWhereItSavesWeights) {
  CpuCosts costs;
  // GPT-2-124M's FFN matrices (d = 768), 4 blocks: the block-diagonal kernel
  // reads its blocks at the bandwidth and multiplies them at about the GEMM
  // rate, so the factors' fewer bytes and multiply-adds win at one token and
  // at 128 (bench/structured_ffn.py measured r = 384 kept faster than merged
  // in both phases).
  for (int64_t rows : {1, 128})
    for (int64_t rank : {64, 384}) {
      EXPECT_FALSE(
          estimateBlockDense(costs, rows, 3072, 768, rank, 4).preferMerged());
      EXPECT_FALSE(
          estimateBlockDense(costs, rows, 768, 3072, rank, 4).preferMerged());
    }
  // More factor weights than the matrix has: one [64 x 64] block and L
  // [256 x 64], 20480 weights against 16384.
  EXPECT_TRUE(estimateBlockDense(costs, 1, 256, 64, 64, 1).preferMerged());
  EXPECT_TRUE(estimateBlockDense(costs, 128, 256, 64, 64, 1).preferMerged());
  // Tiny matrices: the second call's overhead decides.
  EXPECT_TRUE(estimateBlockDense(costs, 1, 8, 8, 4, 2).preferMerged());
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

TEST(PremergeCostModel, BlockShuffleKeptAtMonarchShapes) {
  CpuCosts costs;
  // GPT-2-124M's FFN matrices as Monarch products: 768 -> 3072 with 4
  // blocks [192 x 192] and 192 blocks [16 x 4] (160K weights against
  // 2.4M), and 3072 -> 768 with 4 blocks [192 x 768] and 192 blocks [4 x 4]:
  // the factored form reads and multiplies a fraction of the matrix, which
  // two calls and the transpose do not outweigh at one token or at 128.
  for (int64_t rows : {1, 128}) {
    EXPECT_FALSE(estimateBlockShuffle(costs, rows, 3072, 768, 768, 4, 192)
                     .preferMerged());
    EXPECT_FALSE(estimateBlockShuffle(costs, rows, 768, 3072, 768, 4, 192)
                     .preferMerged());
  }
}

TEST(PremergeCostModel, BlockShuffleMergedWhenTinyOrHeavy) {
  CpuCosts costs;
  // [2 x 4] from 18 weights: the second call's overhead decides.
  EXPECT_TRUE(estimateBlockShuffle(costs, 1, 2, 4, 6, 2, 2).preferMerged());
  // One block per stage through a 256-wide middle: 32768 factor weights
  // against a [64 x 64] matrix's 4096.
  for (int64_t rows : {1, 128})
    EXPECT_TRUE(
        estimateBlockShuffle(costs, rows, 64, 64, 256, 1, 1).preferMerged());
}

TEST(PremergeCostModel, BlockShuffleTransposeIsPricedByItsBytes) {
  CpuCosts costs;
  // With one block per stage there is no shuffle and the two block calls
  // are a low-rank pair's two calls when the block-diagonal kernel runs at
  // the GEMM's rate.
  costs.blockDiagonalFlopsPerUs = costs.flopsPerUs;
  for (int64_t rows : {1, 128}) {
    Estimate shuffle = estimateBlockShuffle(costs, rows, 256, 64, 32, 1, 1);
    Estimate lowRank = estimateLowRank(costs, rows, 256, 64, 32);
    EXPECT_DOUBLE_EQ(shuffle.factoredUs, lowRank.factoredUs);
    EXPECT_DOUBLE_EQ(shuffle.mergedUs, lowRank.mergedUs);
  }
  // With k > 1 blocks of more than one row, the [rows, mid] intermediate is
  // read and written once more: 8 rows mid bytes over the bandwidth.
  double withTranspose =
      estimateBlockShuffle(costs, 128, 256, 64, 64, 4, 16).factoredUs;
  double calls = blockDiagonalCallUs(costs, 128, 64.0 * 64 / 4, 64, 64) +
                 blockDiagonalCallUs(costs, 128, 256.0 * 64 / 16, 64, 256);
  EXPECT_NEAR(withTranspose - calls, 8.0 * 128 * 64 / costs.bytesPerUs, 1e-9);
}

} // namespace
