//===- Elementwise.cpp - tvc activations and elementwise ops to linalg ----===//
//
// gelu (erf and tanh forms), silu, relu, add and glu, each one parallel
// linalg.generic over the operands (which all have the result's type) whose
// body computes the op's scalar formula with arith and math.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToLinalg/TvcToLinalg.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Scalar formulas
//===----------------------------------------------------------------------===//

/// `x * Phi(x)`: `0.5 x (1 + erf(x / sqrt 2))`, or with `tanhForm`
/// `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.
static Value buildGelu(OpBuilder &b, Location loc, Value x, bool tanhForm) {
  Value inner;
  if (tanhForm) {
    Value cube =
        arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x), x);
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, createF32Constant(b, loc, 0.044715),
                              cube));
    Value scaled = arith::MulFOp::create(
        b, loc, createF32Constant(b, loc, std::sqrt(2.0 / M_PI)), poly);
    inner = math::TanhOp::create(b, loc, scaled);
  } else {
    Value scaled = arith::MulFOp::create(
        b, loc, x, createF32Constant(b, loc, 1.0 / std::sqrt(2.0)));
    inner = math::ErfOp::create(b, loc, scaled);
  }
  Value onePlus =
      arith::AddFOp::create(b, loc, createF32Constant(b, loc, 1.0), inner);
  Value halfX =
      arith::MulFOp::create(b, loc, createF32Constant(b, loc, 0.5), x);
  return arith::MulFOp::create(b, loc, halfX, onePlus);
}

/// `x * sigmoid(x)` as `x / (1 + exp(-x))` (a large negative x gives
/// `x / inf = -0`, not NaN).
static Value buildSilu(OpBuilder &b, Location loc, Value x) {
  Value expNeg = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  Value denominator =
      arith::AddFOp::create(b, loc, createF32Constant(b, loc, 1.0), expNeg);
  return arith::DivFOp::create(b, loc, x, denominator);
}

/// `max(x, 0)`, propagating NaN as PyTorch does.
static Value buildRelu(OpBuilder &b, Location loc, Value x) {
  return arith::MaximumFOp::create(b, loc, x, createF32Constant(b, loc, 0.0));
}

/// The nonlinearity of a gated feed-forward.
static Value buildActivation(OpBuilder &b, Location loc, Activation kind,
                             Value x) {
  switch (kind) {
  case Activation::Gelu:
    return buildGelu(b, loc, x, /*tanhForm=*/false);
  case Activation::GeluTanh:
    return buildGelu(b, loc, x, /*tanhForm=*/true);
  case Activation::Silu:
    return buildSilu(b, loc, x);
  case Activation::Relu:
    return buildRelu(b, loc, x);
  }
  llvm_unreachable("unknown activation");
}

/// The scalar result of each op from its operands' elements.
static Value buildScalar(GeluOp op, OpBuilder &b, Location loc,
                         ValueRange args) {
  return buildGelu(b, loc, args[0],
                   op.getApproximate() == GeluApproximation::Tanh);
}
static Value buildScalar(SiluOp, OpBuilder &b, Location loc, ValueRange args) {
  return buildSilu(b, loc, args[0]);
}
static Value buildScalar(ReluOp, OpBuilder &b, Location loc, ValueRange args) {
  return buildRelu(b, loc, args[0]);
}
static Value buildScalar(AddOp, OpBuilder &b, Location loc, ValueRange args) {
  return arith::AddFOp::create(b, loc, args[0], args[1]);
}
static Value buildScalar(GluOp op, OpBuilder &b, Location loc,
                         ValueRange args) {
  Value gate = buildActivation(b, loc, op.getActivation(), args[0]);
  return arith::MulFOp::create(b, loc, gate, args[1]);
}

//===----------------------------------------------------------------------===//
// Pattern
//===----------------------------------------------------------------------===//

namespace {
/// Lowers an elementwise op whose operands all have the result's type to a
/// parallel linalg.generic computing `buildScalar(op, ...)`.
template <typename OpTy>
struct ElementwiseToGeneric : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ValueRange inputs = adaptor.getOperands();
    int64_t rank = resultType.getRank();
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineMap> maps(inputs.size() + 1,
                                getIdentityMap(context, rank));
    Value init = createEmptyTensor(rewriter, loc,
                                   getSizes(rewriter, loc, inputs.front()),
                                   resultType.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultType, inputs, init, maps, getIterators(rank),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value result = buildScalar(op, b, bodyLoc, args.drop_back());
          linalg::YieldOp::create(b, bodyLoc, result);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};
} // namespace

void mlir::tvc::populateTvcElementwiseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric<GeluOp>, ElementwiseToGeneric<SiluOp>,
               ElementwiseToGeneric<ReluOp>, ElementwiseToGeneric<AddOp>,
               ElementwiseToGeneric<GluOp>>(patterns.getContext());
}
