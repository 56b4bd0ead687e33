//===- MaskAttrTest.cpp - Reference semantics of attention masks ----------===//
//
// The isAllowed() answers of each mask kind are the reference that kernels
// are tested against; these tests pin down their boundaries (the diagonal,
// the window edge) and the span each kind bounds the KV cache by.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/MLIRContext.h"

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

TEST_F(MaskAttrTest, DenseStructureReportsOutputWidth) {
  auto dense = DenseStructureAttr::get(&context);
  Type f32 = Float32Type::get(&context);
  Type weight = RankedTensorType::get({24, 8}, f32);
  EXPECT_EQ(dense.getOutFeatures(TypeRange{weight}), 24);
  EXPECT_TRUE(ShapedType::isDynamic(dense.getOutFeatures(TypeRange{})));
}

} // namespace
