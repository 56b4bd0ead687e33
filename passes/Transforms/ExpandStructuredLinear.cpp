//===- ExpandStructuredLinear.cpp - tvc-expand-structured-linear ----------===//
//
// Rewrites the factored linear structures the runtime has no kernel for
// into dense tvc.linear ops that it has: a #tvc.low_rank linear becomes two
// chained dense linears (V, then U with the bias); a #tvc.lora linear
// becomes the dense base linear plus the side branch B(Ax), scaled by
// alpha/rank with an elementwise linalg.generic (the pipeline is weightless,
// so the scale cannot be folded into B's bytes here) and added with tvc.add.
// The pipelines run it before convert-tvc-to-runtime. #tvc.block_dense
// and #tvc.block_shuffle are left alone: convert-tvc-to-runtime calls the
// block-diagonal kernel for them. With expand-low-rank=false (the CPU
// pipeline) #tvc.low_rank is left alone too: convert-tvc-to-runtime calls
// the fused low-rank kernel for it.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCEXPANDSTRUCTUREDLINEAR
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// `type` with its last dimension replaced by `size`.
RankedTensorType withLastDim(RankedTensorType type, int64_t size) {
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = size;
  return RankedTensorType::get(shape, type.getElementType());
}

/// A dense, bias-optional linear of `input` by the [out, in] `weight`.
Value denseLinear(PatternRewriter &rewriter, Location loc, Value input,
                  Value weight, Value bias) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
  return LinearOp::create(rewriter, loc, withLastDim(inputType, out), input,
                          ValueRange{weight}, bias,
                          DenseStructureAttr::get(rewriter.getContext()))
      .getResult();
}

/// `value * scale`, elementwise.
Value scaleBy(PatternRewriter &rewriter, Location loc, Value value,
              double scale) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (type.isDynamicDim(dim))
      dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, value, dim));
  Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                       type.getElementType(), dynamicSizes);
  Value factor = arith::ConstantOp::create(
      rewriter, loc, rewriter.getFloatAttr(type.getElementType(), scale));
  AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> parallel(type.getRank(),
                                            utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{value}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity}, parallel,
      [&](OpBuilder &b, Location nested, ValueRange args) {
        Value product = arith::MulFOp::create(b, nested, args[0], factor);
        linalg::YieldOp::create(b, nested, product);
      });
  return generic.getResult(0);
}

struct ExpandLowRank : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<LowRankStructureAttr>(op.getStructure()))
      return rewriter.notifyMatchFailure(op, "not a low-rank linear");
    Location loc = op.getLoc();
    Value v = op.getWeights()[0], u = op.getWeights()[1];
    Value hidden = denseLinear(rewriter, loc, op.getInput(), v, Value());
    Value result = denseLinear(rewriter, loc, hidden, u, op.getBias());
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandLora : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto lora = dyn_cast<LoraStructureAttr>(op.getStructure());
    if (!lora)
      return rewriter.notifyMatchFailure(op, "not a LoRA linear");
    Location loc = op.getLoc();
    Value w = op.getWeights()[0], a = op.getWeights()[1],
          b = op.getWeights()[2];
    // The base keeps W's layout (an [in, out] Conv1D weight stays in place).
    Value base = LinearOp::create(rewriter, loc, op.getType(), op.getInput(),
                                  ValueRange{w}, op.getBias(),
                                  DenseStructureAttr::get(rewriter.getContext(),
                                                          lora.getLayout()))
                     .getResult();
    Value down = denseLinear(rewriter, loc, op.getInput(), a, Value());
    Value branch = denseLinear(rewriter, loc, down, b, Value());
    // alpha = rank (a common choice) needs no multiplication.
    if (lora.getScale() != 1.0)
      branch = scaleBy(rewriter, loc, branch, lora.getScale());
    if (branch.getType() != op.getType() || base.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "inconsistent result types");
    rewriter.replaceOpWithNewOp<AddOp>(op, base, branch);
    return success();
  }
};

struct ExpandStructuredLinearPass
    : public tvc::impl::TvcExpandStructuredLinearBase<
          ExpandStructuredLinearPass> {
  using TvcExpandStructuredLinearBase::TvcExpandStructuredLinearBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateTvcExpandStructuredLinearPatterns(patterns, expandLowRank);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::tvc::populateTvcExpandStructuredLinearPatterns(
    RewritePatternSet &patterns, bool expandLowRank) {
  patterns.add<ExpandLora>(patterns.getContext());
  if (expandLowRank)
    patterns.add<ExpandLowRank>(patterns.getContext());
}
