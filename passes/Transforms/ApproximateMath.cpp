//===- ApproximateMath.cpp - tvc-approximate-math -------------------------===//
//
// Polynomial approximations of the transcendental functions transformers
// use (GELU's tanh or erf, softmax's exp, log-softmax's log), so that the
// loops computing them vectorize instead of calling libm per element.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCAPPROXIMATEMATH
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public tvc::impl::TvcApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Upstream names the functions by mnemonic; accept either spelling.
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          name.consume_front("math.");
          return llvm::StringSwitch<bool>(name)
              .Cases({"tanh", "erf", "exp", "expm1", "log", "log1p"}, true)
              .Default(false);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
