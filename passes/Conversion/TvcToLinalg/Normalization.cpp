//===- Normalization.cpp - tvc norms, softmax and argmax to linalg --------===//
//
// Ops that reduce over the last dimension: layer_norm and rms_norm (row
// statistics, then an elementwise pass applying scale and bias), softmax
// (row max, sum of exp(x - max), then the quotient) and argmax (one
// reduction carrying the best value and its index). Reductions are
// linalg.generic ops with the last iterator a reduction, writing one value
// per row; per-row quantities are computed once by a parallel generic over
// the rows.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToLinalg/TvcToLinalg.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::tvc;

/// Builds one scalar from the block arguments of a generic's body.
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// The sizes of a tensor and of its rows (all dimensions but the last),
/// read once per op.
struct Sizes {
  SmallVector<OpFoldResult> all;
  SmallVector<OpFoldResult> rows;

  Sizes(OpBuilder &b, Location loc, Value tensor)
      : all(getSizes(b, loc, tensor)), rows(ArrayRef(all).drop_back()) {}
};

/// Reduces the last dimension of `input` into one f32 per row, starting
/// from `init`. `rows` are per-row operands. The body gets
/// `(x, rows..., accumulator)` and returns the new accumulator.
static Value reduceRows(OpBuilder &b, Location loc, Value input,
                        const Sizes &sizes, ValueRange rows, double init,
                        BodyFn combine) {
  int64_t rank = sizes.all.size();
  MLIRContext *context = b.getContext();
  Value acc = createFilledTensor(b, loc, sizes.rows, b.getF32FloatAttr(init));
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, rows);
  SmallVector<AffineMap> maps{getIdentityMap(context, rank)};
  maps.append(rows.size() + 1, getLeadingDimsMap(context, rank));
  return linalg::GenericOp::create(
             b, loc, acc.getType(), inputs, acc, maps,
             getIterators(rank, /*reduceLast=*/true),
             [&](OpBuilder &nested, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(nested, bodyLoc,
                                       combine(nested, bodyLoc, args));
             })
      .getResult(0);
}

/// One f32 per row computed from the per-row `rows`. The body gets
/// `(rows...)`.
static Value mapRows(OpBuilder &b, Location loc, const Sizes &sizes,
                     ValueRange rows, BodyFn compute) {
  int64_t rank = sizes.rows.size();
  Value init = createEmptyTensor(b, loc, sizes.rows, b.getF32Type());
  SmallVector<AffineMap> maps(rows.size() + 1,
                              getIdentityMap(b.getContext(), rank));
  return linalg::GenericOp::create(
             b, loc, init.getType(), rows, init, maps, getIterators(rank),
             [&](OpBuilder &nested, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(
                   nested, bodyLoc, compute(nested, bodyLoc, args.drop_back()));
             })
      .getResult(0);
}

/// A tensor of `input`'s shape computed elementwise from `input`, the
/// per-row `rows` and the per-channel `channels` (vectors over the last
/// dimension). The body gets `(x, rows..., channels...)`.
static Value mapElements(OpBuilder &b, Location loc, Value input,
                         const Sizes &sizes, ValueRange rows,
                         ValueRange channels, BodyFn compute) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  MLIRContext *context = b.getContext();
  Value init = createEmptyTensor(b, loc, sizes.all, type.getElementType());
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, rows);
  llvm::append_range(inputs, channels);
  SmallVector<AffineMap> maps{getIdentityMap(context, rank)};
  maps.append(rows.size(), getLeadingDimsMap(context, rank));
  maps.append(channels.size(), getLastDimMap(context, rank));
  maps.push_back(getIdentityMap(context, rank));
  return linalg::GenericOp::create(
             b, loc, type, inputs, init, maps, getIterators(rank),
             [&](OpBuilder &nested, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(
                   nested, bodyLoc, compute(nested, bodyLoc, args.drop_back()));
             })
      .getResult(0);
}

/// `1 / sqrt(sum / count + epsilon)` per row.
static Value buildInverseRms(OpBuilder &b, Location loc, const Sizes &sizes,
                             Value sums, Value count, double epsilon) {
  Value eps = createF32Constant(b, loc, epsilon);
  Value one = createF32Constant(b, loc, 1.0);
  return mapRows(b, loc, sizes, sums,
                 [&](OpBuilder &nested, Location bodyLoc, ValueRange args) {
                   Value mean =
                       arith::DivFOp::create(nested, bodyLoc, args[0], count);
                   Value shifted =
                       arith::AddFOp::create(nested, bodyLoc, mean, eps);
                   Value root = math::SqrtOp::create(nested, bodyLoc, shifted);
                   return arith::DivFOp::create(nested, bodyLoc, one, root);
                 });
}

namespace {

//===----------------------------------------------------------------------===//
// layer_norm
//===----------------------------------------------------------------------===//

/// `(x - mean) / sqrt(var + eps) * scale + bias` with the mean first and the
/// biased variance as the mean of squared deviations (two passes over the
/// row, as PyTorch computes it, rather than E[x^2] - mean^2).
struct LayerNormToLinalg : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = op.getType().getRank();
    Value count = getDimAsF32(rewriter, loc, input, rank - 1);
    Sizes sizes(rewriter, loc, input);

    Value sums =
        reduceRows(rewriter, loc, input, sizes, {}, 0.0,
                   [](OpBuilder &b, Location bodyLoc, ValueRange args) {
                     return arith::AddFOp::create(b, bodyLoc, args[1], args[0]);
                   });
    Value means =
        mapRows(rewriter, loc, sizes, sums,
                [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
                  return arith::DivFOp::create(b, bodyLoc, args[0], count);
                });
    Value squares = reduceRows(
        rewriter, loc, input, sizes, means, 0.0,
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value deviation = arith::SubFOp::create(b, bodyLoc, args[0], args[1]);
          Value square =
              arith::MulFOp::create(b, bodyLoc, deviation, deviation);
          return arith::AddFOp::create(b, bodyLoc, args[2], square);
        });
    Value inverseStd = buildInverseRms(rewriter, loc, sizes, squares, count,
                                       op.getEpsilon().convertToDouble());

    SmallVector<Value> channels{adaptor.getScale()};
    if (adaptor.getBias())
      channels.push_back(adaptor.getBias());
    Value result = mapElements(
        rewriter, loc, input, sizes, {means, inverseStd}, channels,
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value centered = arith::SubFOp::create(b, bodyLoc, args[0], args[1]);
          Value normalized =
              arith::MulFOp::create(b, bodyLoc, centered, args[2]);
          Value scaled = arith::MulFOp::create(b, bodyLoc, normalized, args[3]);
          if (args.size() == 5)
            return arith::AddFOp::create(b, bodyLoc, scaled, args[4])
                .getResult();
          return scaled;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rms_norm
//===----------------------------------------------------------------------===//

/// `x / sqrt(mean(x^2) + eps) * scale`.
struct RmsNormToLinalg : OpConversionPattern<RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = op.getType().getRank();
    Value count = getDimAsF32(rewriter, loc, input, rank - 1);
    Sizes sizes(rewriter, loc, input);

    Value squares =
        reduceRows(rewriter, loc, input, sizes, {}, 0.0,
                   [](OpBuilder &b, Location bodyLoc, ValueRange args) {
                     Value square =
                         arith::MulFOp::create(b, bodyLoc, args[0], args[0]);
                     return arith::AddFOp::create(b, bodyLoc, args[1], square);
                   });
    Value inverseRms = buildInverseRms(rewriter, loc, sizes, squares, count,
                                       op.getEpsilon().convertToDouble());
    Value result = mapElements(
        rewriter, loc, input, sizes, inverseRms, adaptor.getScale(),
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value normalized =
              arith::MulFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::MulFOp::create(b, bodyLoc, normalized, args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

/// `exp(x - max) / sum(exp(x - max))` over the last dimension (subtracting
/// the row max keeps exp from overflowing).
struct SoftmaxToLinalg : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Sizes sizes(rewriter, loc, input);

    Value maxima = reduceRows(
        rewriter, loc, input, sizes, {},
        -std::numeric_limits<double>::infinity(),
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          return arith::MaximumFOp::create(b, bodyLoc, args[1], args[0]);
        });
    auto shiftedExp = [](OpBuilder &b, Location bodyLoc, Value x, Value max) {
      Value shifted = arith::SubFOp::create(b, bodyLoc, x, max);
      return math::ExpOp::create(b, bodyLoc, shifted);
    };
    Value sums =
        reduceRows(rewriter, loc, input, sizes, maxima, 0.0,
                   [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
                     Value term = shiftedExp(b, bodyLoc, args[0], args[1]);
                     return arith::AddFOp::create(b, bodyLoc, args[2], term);
                   });
    Value result =
        mapElements(rewriter, loc, input, sizes, {maxima, sums}, {},
                    [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
                      Value term = shiftedExp(b, bodyLoc, args[0], args[1]);
                      return arith::DivFOp::create(b, bodyLoc, term, args[2]);
                    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// argmax
//===----------------------------------------------------------------------===//

/// One reduction carrying (best value, its index) per row. A candidate
/// replaces the best when it is larger, when it is NaN and the best is not
/// (NaN counts as the largest value, as in PyTorch and NumPy), or when it
/// ties and has a lower index; the result is the lowest index of the
/// maximum whatever order the reduction visits the row in.
struct ArgmaxToLinalg : OpConversionPattern<ArgmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ArgmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    MLIRContext *context = rewriter.getContext();

    Sizes sizes(rewriter, loc, input);
    Value bestValues = createFilledTensor(
        rewriter, loc, sizes.rows,
        rewriter.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    Value bestIndices = createFilledTensor(rewriter, loc, sizes.rows,
                                           rewriter.getI64IntegerAttr(0));
    SmallVector<AffineMap> maps{getIdentityMap(context, rank),
                                getLeadingDimsMap(context, rank),
                                getLeadingDimsMap(context, rank)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{bestValues.getType(), bestIndices.getType()},
        input, ValueRange{bestValues, bestIndices}, maps,
        getIterators(rank, /*reduceLast=*/true),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value x = args[0], best = args[1], bestIndex = args[2];
          Value index = arith::IndexCastOp::create(
              b, bodyLoc, b.getI64Type(),
              linalg::IndexOp::create(b, bodyLoc, rank - 1));
          using Pred = arith::CmpFPredicate;
          auto cmp = [&](Pred pred, Value lhs, Value rhs) -> Value {
            return arith::CmpFOp::create(b, bodyLoc, pred, lhs, rhs);
          };
          Value larger = cmp(Pred::OGT, x, best);
          Value xIsNan = cmp(Pred::UNO, x, x);
          Value bestIsNan = cmp(Pred::UNO, best, best);
          Value nanOverNumber = arith::AndIOp::create(
              b, bodyLoc, xIsNan,
              arith::XOrIOp::create(
                  b, bodyLoc, bestIsNan,
                  arith::ConstantIntOp::create(b, bodyLoc, 1, 1)));
          Value tie = arith::OrIOp::create(
              b, bodyLoc, cmp(Pred::OEQ, x, best),
              arith::AndIOp::create(b, bodyLoc, xIsNan, bestIsNan));
          Value earlier = arith::CmpIOp::create(
              b, bodyLoc, arith::CmpIPredicate::slt, index, bestIndex);
          Value better = arith::OrIOp::create(
              b, bodyLoc,
              arith::OrIOp::create(b, bodyLoc, larger, nanOverNumber),
              arith::AndIOp::create(b, bodyLoc, tie, earlier));
          linalg::YieldOp::create(
              b, bodyLoc,
              ValueRange{arith::SelectOp::create(b, bodyLoc, better, x, best),
                         arith::SelectOp::create(b, bodyLoc, better, index,
                                                 bestIndex)});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

} // namespace

void mlir::tvc::populateTvcNormalizationToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns
      .add<LayerNormToLinalg, RmsNormToLinalg, SoftmaxToLinalg, ArgmaxToLinalg>(
          patterns.getContext());
}
