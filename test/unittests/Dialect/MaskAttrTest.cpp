//===- MaskAttrTest.cpp - Reference semantics of attention masks ----------===//
//
// The isAllowed() answers of each mask kind are the reference that kernels
// are tested against; these tests pin down their boundaries (the diagonal,
// the window edge, the global edge, block edges) and the span each kind
// bounds the KV cache by.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/FormatVariadic.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::tvc;

namespace {

class MaskAttrTest : public ::testing::Test {
protected:
  MaskAttrTest() { context.loadDialect<TvcDialect>(); }
  MLIRContext context;
};

TEST_F(MaskAttrTest, FullSeesEverything) {
  MaskAttrInterface mask = FullMaskAttr::get(&context);
  EXPECT_FALSE(mask.isCausal());
  EXPECT_FALSE(mask.getKeySpan().has_value());
  for (int64_t q = 0; q < 4; ++q)
    for (int64_t k = 0; k < 4; ++k)
      EXPECT_TRUE(mask.isAllowed(q, k));
}

TEST_F(MaskAttrTest, CausalSeesTheDiagonalAndThePast) {
  MaskAttrInterface mask = CausalMaskAttr::get(&context);
  EXPECT_TRUE(mask.isCausal());
  EXPECT_FALSE(mask.getKeySpan().has_value());
  EXPECT_TRUE(mask.isAllowed(3, 3));
  EXPECT_TRUE(mask.isAllowed(3, 0));
  EXPECT_FALSE(mask.isAllowed(3, 4));
}

TEST_F(MaskAttrTest, SlidingWindowCountsTheDiagonal) {
  MaskAttrInterface mask = SlidingWindowMaskAttr::get(&context, 3);
  EXPECT_TRUE(mask.isCausal());
  EXPECT_EQ(mask.getKeySpan(), std::optional<int64_t>(3));
  // Query 10 sees keys 8, 9, 10: i - w < j <= i.
  EXPECT_FALSE(mask.isAllowed(10, 7));
  EXPECT_TRUE(mask.isAllowed(10, 8));
  EXPECT_TRUE(mask.isAllowed(10, 10));
  EXPECT_FALSE(mask.isAllowed(10, 11));
}

TEST_F(MaskAttrTest, WindowOfOneSeesOnlyItself) {
  MaskAttrInterface mask = SlidingWindowMaskAttr::get(&context, 1);
  EXPECT_TRUE(mask.isAllowed(5, 5));
  EXPECT_FALSE(mask.isAllowed(5, 4));
}

TEST_F(MaskAttrTest, LongWindowEqualsCausalOnShortSequences) {
  MaskAttrInterface window = SlidingWindowMaskAttr::get(&context, 16);
  MaskAttrInterface causal = CausalMaskAttr::get(&context);
  for (int64_t q = 0; q < 16; ++q)
    for (int64_t k = 0; k < 16; ++k)
      EXPECT_EQ(window.isAllowed(q, k), causal.isAllowed(q, k));
}

TEST_F(MaskAttrTest, WindowGlobalSeesTheWindowAndTheFirstTokens) {
  MaskAttrInterface mask = WindowGlobalMaskAttr::get(&context, 3, 2);
  EXPECT_TRUE(mask.isCausal());
  // Global keys are the oldest: no bound on what a cache must keep.
  EXPECT_FALSE(mask.getKeySpan().has_value());
  // Query 10 sees the global keys 0, 1 and the window 8, 9, 10.
  EXPECT_TRUE(mask.isAllowed(10, 0));
  EXPECT_TRUE(mask.isAllowed(10, 1));
  EXPECT_FALSE(mask.isAllowed(10, 2)); // global edge
  EXPECT_FALSE(mask.isAllowed(10, 7)); // window edge
  EXPECT_TRUE(mask.isAllowed(10, 8));
  EXPECT_TRUE(mask.isAllowed(10, 10));
  EXPECT_FALSE(mask.isAllowed(10, 11));
  // A global query is still causal: query 0 does not see key 1.
  EXPECT_TRUE(mask.isAllowed(0, 0));
  EXPECT_FALSE(mask.isAllowed(0, 1));
}

TEST_F(MaskAttrTest, WindowGlobalIsItsWindowPlusItsGlobalKeys) {
  MaskAttrInterface mask = WindowGlobalMaskAttr::get(&context, 4, 3);
  MaskAttrInterface window = SlidingWindowMaskAttr::get(&context, 4);
  for (int64_t q = 0; q < 16; ++q)
    for (int64_t k = 0; k < 16; ++k)
      EXPECT_EQ(mask.isAllowed(q, k),
                window.isAllowed(q, k) || (k < 3 && k <= q))
          << "query " << q << ", key " << k;
}

TEST_F(MaskAttrTest, BlockLocalSeesWholeBlocksUpToTheDiagonal) {
  // Blocks of 4; a query sees its block and the one before, and block 0.
  MaskAttrInterface mask = BlockLocalMaskAttr::get(&context, 4, 2, 1);
  EXPECT_TRUE(mask.isCausal());
  EXPECT_FALSE(mask.getKeySpan().has_value());
  // Query 13 is in block 3 (12-15): keys 8-13 and 0-3.
  EXPECT_TRUE(mask.isAllowed(13, 0));
  EXPECT_TRUE(mask.isAllowed(13, 3));
  EXPECT_FALSE(mask.isAllowed(13, 4)); // first key past the global block
  EXPECT_FALSE(mask.isAllowed(13, 7)); // last key before the local blocks
  EXPECT_TRUE(mask.isAllowed(13, 8));
  EXPECT_TRUE(mask.isAllowed(13, 13));
  EXPECT_FALSE(mask.isAllowed(13, 14)); // causal inside its own block
  // Query 12 opens block 3 and still sees all of block 2, keys 8-11.
  EXPECT_TRUE(mask.isAllowed(12, 8));
  EXPECT_FALSE(mask.isAllowed(12, 7));
  // Query 11 closes block 2: it sees block 1 (4-7), not block 0 past it.
  EXPECT_TRUE(mask.isAllowed(11, 4));
  EXPECT_TRUE(mask.isAllowed(11, 0)); // global
}

TEST_F(MaskAttrTest, BlockLocalWithoutGlobalBlocksBoundsTheSpan) {
  MaskAttrInterface mask = BlockLocalMaskAttr::get(&context, 4, 2, 0);
  EXPECT_EQ(mask.getKeySpan(), std::optional<int64_t>(8));
  EXPECT_FALSE(mask.isAllowed(13, 0));
  EXPECT_FALSE(mask.isAllowed(13, 7));
  EXPECT_TRUE(mask.isAllowed(13, 8));
  // The span bounds what any query sees: at most local * block keys back.
  for (int64_t q = 0; q < 32; ++q)
    for (int64_t k = 0; k <= q; ++k)
      if (mask.isAllowed(q, k))
        EXPECT_LT(q - k, *mask.getKeySpan());
}

TEST_F(MaskAttrTest, BlockLocalOfOneBlockSeesOnlyItsOwnBlock) {
  MaskAttrInterface mask = BlockLocalMaskAttr::get(&context, 4, 1, 0);
  EXPECT_TRUE(mask.isAllowed(7, 4));
  EXPECT_FALSE(mask.isAllowed(7, 3));
  EXPECT_TRUE(mask.isAllowed(4, 4));
  EXPECT_FALSE(mask.isAllowed(4, 3));
}

/// The data-dependent kinds answer isAllowed for their static (causal)
/// part and have no key span.
TEST_F(MaskAttrTest, DataDependentKindsAnswerForTheirCausalPart) {
  MaskAttrInterface causal = CausalMaskAttr::get(&context);
  for (MaskAttrInterface mask :
       {MaskAttrInterface(TopKMaskAttr::get(&context, 2)),
        MaskAttrInterface(BlockTopKMaskAttr::get(&context, 4, 1)),
        MaskAttrInterface(VerticalSlashMaskAttr::get(&context, 1, 2, 3)),
        MaskAttrInterface(AlisaMaskAttr::get(&context, 2, 1))}) {
    SCOPED_TRACE(llvm::formatv("{0}", Attribute(mask)).str());
    EXPECT_TRUE(mask.isCausal());
    EXPECT_FALSE(mask.getKeySpan().has_value());
    for (int64_t q = 0; q < 12; ++q)
      for (int64_t k = 0; k < 12; ++k)
        EXPECT_EQ(mask.isAllowed(q, k), causal.isAllowed(q, k));
  }
}

TEST_F(MaskAttrTest, DenseStructureReportsOutputWidth) {
  auto dense = DenseStructureAttr::get(&context);
  Type f32 = Float32Type::get(&context);
  Type weight = RankedTensorType::get({24, 8}, f32);
  EXPECT_EQ(dense.getOutFeatures(TypeRange{weight}), 24);
  EXPECT_TRUE(ShapedType::isDynamic(dense.getOutFeatures(TypeRange{})));
}

} // namespace
