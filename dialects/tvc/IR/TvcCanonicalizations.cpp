//===- TvcCanonicalizations.cpp - tvc canonicalization patterns -----------===//
//
// Rewrites that are always right and always simplify:
//   * argmax(softmax(x))            -> argmax(x)   (softmax is monotonic)
//   * rope scaling with factor 1    -> kind none   (the identity scaling)
// relu(relu(x)) folds through the Idempotent trait.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// argmax(softmax(x)) -> argmax(x): softmax preserves order along the
/// reduced dimension, so the index of the maximum is the same.
struct ArgmaxOfSoftmax : OpRewritePattern<ArgmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ArgmaxOp op,
                                PatternRewriter &rewriter) const override {
    auto softmax = op.getInput().getDefiningOp<SoftmaxOp>();
    if (!softmax)
      return rewriter.notifyMatchFailure(op, "input is not a tvc.softmax");
    rewriter.modifyOpInPlace(
        op, [&] { op.getInputMutable().assign(softmax.getInput()); });
    return success();
  }
};

/// A linear, NTK or YaRN scaling with factor 1 leaves every frequency (and
/// YaRN's temperature, 0.1 ln 1 + 1 = 1) unchanged: spell it `none`.
struct RopeIdentityScaling : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    RopeScalingAttr scaling = op.getScaling();
    if (scaling.getKind() == RopeScalingKind::None)
      return rewriter.notifyMatchFailure(op, "already unscaled");
    if (scaling.getFactor().convertToDouble() != 1.0)
      return rewriter.notifyMatchFailure(op, "factor is not 1");
    RopeScalingAttr none = RopeScalingAttr::getNone(op.getContext());
    rewriter.modifyOpInPlace(op, [&] { op.setScalingAttr(none); });
    return success();
  }
};

} // namespace

void ArgmaxOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<ArgmaxOfSoftmax>(context);
}

void RopeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                         MLIRContext *context) {
  patterns.add<RopeIdentityScaling>(context);
}
