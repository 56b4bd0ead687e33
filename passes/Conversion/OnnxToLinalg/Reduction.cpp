//===- Reduction.cpp - ONNX reductions, softmax and argmax to linalg ------===//
//
// ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp (axes as an
// attribute or, from opset 13 for ReduceSum and 18 for the others, as an
// input),
// Softmax/LogSoftmax (over one axis, or before opset 13 over all dimensions
// from the axis on), LayerNormalization and ArgMax/ArgMin. Each reduction
// is a linalg.generic whose reduced iterators write one value per kept
// position; keepdims reinserts the reduced dimensions as units with
// tensor.expand_shape, which is also how softmax and layer norm broadcast
// their row statistics back.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tvc;

/// Checks the input (ranked, of a supported type) and the one tensor result
/// of `node`.
static LogicalResult checkUnary(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter, unsigned maxInputs,
                                bool floatOnly) {
  if (node.getInputs().empty() || node.getInputs().size() > maxInputs ||
      node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "unexpected number of operands");
  RankedTensorType inputType = getRankedType(node.getInputs()[0]);
  if (!inputType || !isa<TensorType>(node.getResult(0).getType()))
    return rewriter.notifyMatchFailure(node, "input is not ranked");
  Type element = inputType.getElementType();
  if (!isSupportedElementType(element) || element.isInteger(1) ||
      (floatOnly && !isa<FloatType>(element)))
    return rewriter.notifyMatchFailure(node, "unsupported element type");
  return success();
}

/// `sum` (a reduction of `input` over `axes`) divided by the number of
/// elements reduced: the mean.
static Value divideByCount(OpBuilder &b, Location loc, Value sum, Value input,
                           ArrayRef<int64_t> axes) {
  Type element = cast<RankedTensorType>(sum.getType()).getElementType();
  IndexMath math{b, loc};
  OpFoldResult count = b.getIndexAttr(1);
  for (int64_t axis : axes)
    count = math.mul(count, tensor::getMixedSize(b, loc, input, axis));
  Value countValue = convertScalar(
      b, loc,
      arith::IndexCastOp::create(b, loc, b.getI64Type(), math.value(count)),
      element);
  return buildBroadcastGeneric(
      b, loc, sum, tensor::getMixedSizes(b, loc, sum), element,
      [&](OpBuilder &nested, Location bodyLoc, ValueRange args) {
        return arith::DivFOp::create(nested, bodyLoc, args[0], countValue);
      });
}

//===----------------------------------------------------------------------===//
// ReduceX
//===----------------------------------------------------------------------===//

namespace {
enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  SumSquare,
  LogSum,
  LogSumExp
};
} // namespace

/// True for the reductions that only make sense on floats.
static bool isFloatOnly(ReduceKind kind) {
  return kind == ReduceKind::Mean || kind == ReduceKind::L2 ||
         kind == ReduceKind::LogSum || kind == ReduceKind::LogSumExp;
}

/// How the elements are combined: the sums of mapped elements (L1, L2,
/// SumSquare, LogSum, LogSumExp) are sums.
static ReduceKind getCombineKind(ReduceKind kind) {
  switch (kind) {
  case ReduceKind::L1:
  case ReduceKind::L2:
  case ReduceKind::SumSquare:
  case ReduceKind::LogSum:
  case ReduceKind::LogSumExp:
    return ReduceKind::Sum;
  default:
    return kind;
  }
}

/// One elementwise generic applying `fn` to every element of `input`.
static Value mapElements(OpBuilder &builder, Location loc, Value input,
                         function_ref<Value(OpBuilder &, Location, Value)> fn) {
  return buildBroadcastGeneric(
      builder, loc, input, tensor::getMixedSizes(builder, loc, input),
      cast<RankedTensorType>(input.getType()).getElementType(),
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return fn(b, bodyLoc, args[0]);
      });
}

/// The elements as `kind` sums them: |x| (L1), x * x (L2, SumSquare),
/// exp(x) (LogSumExp), else `input` itself.
static Value mapBeforeReduce(OpBuilder &builder, Location loc, Value input,
                             ReduceKind kind) {
  switch (kind) {
  case ReduceKind::L1:
    return mapElements(builder, loc, input,
                       [](OpBuilder &b, Location l, Value x) -> Value {
                         if (isa<FloatType>(x.getType()))
                           return math::AbsFOp::create(b, l, x);
                         return math::AbsIOp::create(b, l, x);
                       });
  case ReduceKind::L2:
  case ReduceKind::SumSquare:
    return mapElements(builder, loc, input,
                       [](OpBuilder &b, Location l, Value x) -> Value {
                         if (isa<FloatType>(x.getType()))
                           return arith::MulFOp::create(b, l, x, x);
                         return arith::MulIOp::create(b, l, x, x);
                       });
  case ReduceKind::LogSumExp:
    return mapElements(builder, loc, input,
                       [](OpBuilder &b, Location l, Value x) -> Value {
                         return math::ExpOp::create(b, l, x);
                       });
  default:
    return input;
  }
}

/// The reduced values as `kind` finishes them: sqrt (L2), log (LogSum,
/// LogSumExp); a Mean's division is done apart.
static Value mapAfterReduce(OpBuilder &builder, Location loc, Value reduced,
                            ReduceKind kind) {
  switch (kind) {
  case ReduceKind::L2:
    return mapElements(builder, loc, reduced,
                       [](OpBuilder &b, Location l, Value x) -> Value {
                         return math::SqrtOp::create(b, l, x);
                       });
  case ReduceKind::LogSum:
  case ReduceKind::LogSumExp:
    return mapElements(builder, loc, reduced,
                       [](OpBuilder &b, Location l, Value x) -> Value {
                         return math::LogOp::create(b, l, x);
                       });
  default:
    return reduced;
  }
}

/// The reduction of `input` over the sorted `axes` by `kind` (a Sum, Mean,
/// Max, Min or Prod combine kind; a Mean's sum, not yet divided), without
/// the reduced dimensions.
static Value buildReduce(OpBuilder &builder, Location loc, Value input,
                         ArrayRef<int64_t> axes, ReduceKind kind) {
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  bool isFloat = isa<FloatType>(element);
  TypedAttr init =
      kind == ReduceKind::Max ? getLowestAttr(element) : getZeroAttr(element);
  if (kind == ReduceKind::Prod)
    init = isFloat ? TypedAttr(FloatAttr::get(element, 1.0))
                   : TypedAttr(IntegerAttr::get(element, 1));
  if (kind == ReduceKind::Min) {
    init =
        isFloat
            ? TypedAttr(FloatAttr::get(
                  element, APFloat::getInf(
                               cast<FloatType>(element).getFloatSemantics())))
            : TypedAttr(IntegerAttr::get(
                  element,
                  APInt::getSignedMaxValue(element.getIntOrFloatBitWidth())));
  }
  return buildReduction(
      builder, loc, input, axes, init,
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        switch (kind) {
        case ReduceKind::Sum:
        case ReduceKind::Mean:
          if (isFloat)
            return arith::AddFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::AddIOp::create(b, bodyLoc, args[0], args[1]);
        case ReduceKind::Max:
          if (isFloat)
            return arith::MaximumFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::MaxSIOp::create(b, bodyLoc, args[0], args[1]);
        case ReduceKind::Min:
          if (isFloat)
            return arith::MinimumFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::MinSIOp::create(b, bodyLoc, args[0], args[1]);
        case ReduceKind::Prod:
          if (isFloat)
            return arith::MulFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::MulIOp::create(b, bodyLoc, args[0], args[1]);
        default:
          break;
        }
        llvm_unreachable("not a combine kind");
      });
}

/// A reduction over axes read at run time (a non-empty 1-D tensor of
/// static length, as in ONNX's conformance tests). Dimension by dimension:
/// the reduction over d (kept as a unit dimension) when d is an axis, else
/// the tensor as it was, chosen inside one generic whose size at d is 1 or
/// the input's. Without keepdims, a reshape drops the reduced dimensions.
static LogicalResult lowerRuntimeReduce(tvc_onnx::NodeOp node,
                                        PatternRewriter &rewriter,
                                        ReduceKind kind) {
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  Value axesInput = node.getInputs()[1];
  int64_t numAxes = getRankedType(axesInput).getDimSize(0);
  bool keepDims = getIntAttr(node, "keepdims", 1) != 0;
  int64_t resultRank = keepDims ? rank : rank - numAxes;
  if (resultRank < 0)
    return rewriter.notifyMatchFailure(node, "more axes than dimensions");
  auto resultType = getResultType(node, 0, resultRank);
  if (resultType.getRank() != resultRank ||
      resultType.getElementType() != inputType.getElementType())
    return rewriter.notifyMatchFailure(node, "unexpected result type");

  Location loc = node.getLoc();
  Type element = inputType.getElementType();
  SmallVector<Value> axes = readRuntimeAxes(rewriter, loc, axesInput, rank);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  SmallVector<Value> inputSizes;
  for (OpFoldResult size : tensor::getMixedSizes(rewriter, loc, input))
    inputSizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, size));
  SmallVector<Value> reduced;
  Value count = one;
  Value current = mapBeforeReduce(rewriter, loc, input, kind);
  for (int64_t dim = 0; dim < rank; ++dim) {
    Value position = arith::ConstantIndexOp::create(rewriter, loc, dim);
    Value isAxis = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
    for (Value axis : axes)
      isAxis = arith::OrIOp::create(
          rewriter, loc, isAxis,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, axis,
                                position));
    reduced.push_back(isAxis);
    count = arith::MulIOp::create(
        rewriter, loc, count,
        arith::SelectOp::create(rewriter, loc, isAxis, inputSizes[dim], one));
    Value folded = insertUnitDims(
        rewriter, loc,
        buildReduce(rewriter, loc, current, {dim}, getCombineKind(kind)),
        {dim});
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, current);
    sizes[dim] =
        arith::SelectOp::create(rewriter, loc, isAxis, one, inputSizes[dim])
            .getResult();
    // `current` is read where the size is 1 or its own; `folded` (a static
    // unit at dim) at index 0 there.
    current = buildBroadcastGeneric(
        rewriter, loc, ValueRange{folded, current}, sizes, element,
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
          return arith::SelectOp::create(b, bodyLoc, isAxis, args[0], args[1]);
        });
  }
  if (kind == ReduceKind::Mean) {
    Value countValue = convertScalar(
        rewriter, loc,
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), count),
        element);
    current = buildBroadcastGeneric(
        rewriter, loc, current, tensor::getMixedSizes(rewriter, loc, current),
        element, [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          return arith::DivFOp::create(b, bodyLoc, args[0], countValue);
        });
  }
  current = mapAfterReduce(rewriter, loc, current, kind);
  if (!keepDims) {
    // Output dimension j is the j-th dimension that was not reduced.
    SmallVector<Value> sizes =
        getSizesWithoutDropped(rewriter, loc, inputSizes, reduced, resultRank);
    Value shape = tensor::FromElementsOp::create(
        rewriter, loc,
        RankedTensorType::get({resultRank}, rewriter.getIndexType()), sizes);
    current = tensor::ReshapeOp::create(
        rewriter, loc,
        RankedTensorType::get(
            SmallVector<int64_t>(resultRank, ShapedType::kDynamic), element),
        current, shape);
  }
  replaceNodeWithCasts(node, rewriter, current);
  return success();
}

/// ReduceX over the given axes (all when none are given, unless
/// `noop_with_empty_axes`): the elements mapped (|x|, x * x, exp x), the
/// combination, the result finished (mean, sqrt, log).
static LogicalResult lowerReduce(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter, ReduceKind kind,
                                 bool axesFromInput) {
  if (failed(checkUnary(node, rewriter, axesFromInput ? 2 : 1,
                        isFloatOnly(kind))))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  std::optional<SmallVector<int64_t>> axes =
      getAxes(node, axesFromInput, 1, "axes", rank);
  Value axesInput = axesFromInput ? getOptionalInput(node, 1) : Value();
  // Axes read at run time: an empty list behaves as no axes, whatever its
  // (absent) values.
  if (!axes && isRuntimeAxes(axesInput) &&
      getRankedType(axesInput).getDimSize(0) == 0)
    axes = SmallVector<int64_t>();
  if (!axes && isRuntimeAxes(axesInput))
    return lowerRuntimeReduce(node, rewriter, kind);
  if (!axes)
    return rewriter.notifyMatchFailure(node, "axes are not constant or valid");
  if (axes->empty()) {
    if (getIntAttr(node, "noop_with_empty_axes", 0)) {
      replaceNodeWithCasts(node, rewriter, input);
      return success();
    }
    for (int64_t dim = 0; dim < rank; ++dim)
      axes->push_back(dim);
  }
  bool keepDims = getIntAttr(node, "keepdims", 1) != 0;
  int64_t resultRank = keepDims ? rank : rank - axes->size();
  auto resultType = getResultType(node, 0, resultRank);
  if (resultType.getRank() != resultRank ||
      resultType.getElementType() != inputType.getElementType())
    return rewriter.notifyMatchFailure(node, "unexpected result type");

  Location loc = node.getLoc();
  Value result =
      buildReduce(rewriter, loc, mapBeforeReduce(rewriter, loc, input, kind),
                  *axes, getCombineKind(kind));
  if (kind == ReduceKind::Mean)
    result = divideByCount(rewriter, loc, result, input, *axes);
  result = mapAfterReduce(rewriter, loc, result, kind);
  if (keepDims)
    result = insertUnitDims(rewriter, loc, result, *axes);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Softmax (or LogSoftmax with `log`): the max over the axes, the sum of
/// `exp(x - max)`, then `exp(x - max) / sum` (or `x - max - log(sum)`).
/// Before opset 13 the input is treated as 2-D at `axis` (default 1), so all
/// dimensions from the axis on are reduced; from 13 only `axis` (default
/// -1).
static LogicalResult lowerSoftmax(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter, bool log,
                                  bool singleAxis) {
  if (failed(checkUnary(node, rewriter, 1, /*floatOnly=*/true)))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  if (getResultType(node, 0, rank).getRank() != rank || rank == 0)
    return rewriter.notifyMatchFailure(node, "unexpected ranks");
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", singleAxis ? -1 : 1), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  SmallVector<int64_t> axes{*axis};
  if (!singleAxis)
    for (int64_t dim = *axis + 1; dim < rank; ++dim)
      axes.push_back(dim);

  Location loc = node.getLoc();
  Type element = inputType.getElementType();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  Value max = buildReduction(
      rewriter, loc, input, axes, getLowestAttr(element),
      [](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return arith::MaximumFOp::create(b, bodyLoc, args[0], args[1]);
      });
  max = insertUnitDims(rewriter, loc, max, axes);
  Value exp = buildBroadcastGeneric(
      rewriter, loc, ValueRange{input, max}, sizes, element,
      [](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return math::ExpOp::create(
            b, bodyLoc, arith::SubFOp::create(b, bodyLoc, args[0], args[1]));
      });
  Value sum = buildReduction(
      rewriter, loc, exp, axes, getZeroAttr(element),
      [](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return arith::AddFOp::create(b, bodyLoc, args[0], args[1]);
      });
  sum = insertUnitDims(rewriter, loc, sum, axes);
  Value result;
  if (log)
    result = buildBroadcastGeneric(
        rewriter, loc, ValueRange{input, max, sum}, sizes, element,
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value shifted = arith::SubFOp::create(b, bodyLoc, args[0], args[1]);
          return arith::SubFOp::create(
              b, bodyLoc, shifted, math::LogOp::create(b, bodyLoc, args[2]));
        });
  else
    result = buildBroadcastGeneric(
        rewriter, loc, ValueRange{exp, sum}, sizes, element,
        [](OpBuilder &b, Location bodyLoc, ValueRange args) {
          return arith::DivFOp::create(b, bodyLoc, args[0], args[1]);
        });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormalization
//===----------------------------------------------------------------------===//

/// LayerNormalization (opset 17) over the dimensions from `axis` on: the
/// mean, the mean of squared deviations, then
/// `(x - mean) / sqrt(var + epsilon) * scale + bias` with scale and bias
/// broadcast. The optional Mean and InvStdDev results are the statistics
/// with the normalized dimensions kept as units.
static LogicalResult lowerLayerNormalization(tvc_onnx::NodeOp node,
                                             PatternRewriter &rewriter) {
  unsigned numInputs = node.getInputs().size();
  unsigned numResults = node.getNumResults();
  if (numInputs < 2 || numInputs > 3 || numResults < 1 || numResults > 3)
    return rewriter.notifyMatchFailure(node, "unexpected number of operands");
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  if (!inputType || !isa<FloatType>(inputType.getElementType()))
    return rewriter.notifyMatchFailure(node, "input is not a float tensor");
  Type element = inputType.getElementType();
  int64_t rank = inputType.getRank();
  SmallVector<Value> operands{input};
  for (unsigned i = 1; i < numInputs; ++i) {
    Value operand = getOptionalInput(node, i);
    if (!operand)
      continue;
    RankedTensorType type = getRankedType(operand);
    if (!type || type.getElementType() != element)
      return rewriter.notifyMatchFailure(node, "scale or bias of another type");
    operands.push_back(operand);
  }
  if (operands.size() < 2)
    return rewriter.notifyMatchFailure(node, "scale is omitted");
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", -1), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  auto resultType = getResultType(node, 0, rank);
  if (resultType.getRank() != rank || resultType.getElementType() != element)
    return rewriter.notifyMatchFailure(node, "unexpected result type");
  for (unsigned i = 1; i < numResults; ++i) {
    auto statType = getResultType(node, i, rank);
    if (!statType || statType.getRank() != rank ||
        statType.getElementType() != element)
      return rewriter.notifyMatchFailure(node, "unexpected statistics type");
  }
  if (std::optional<std::string> reason =
          getBroadcastFailure(operands, resultType))
    return rewriter.notifyMatchFailure(node, *reason);

  Location loc = node.getLoc();
  SmallVector<int64_t> axes;
  for (int64_t dim = *axis; dim < rank; ++dim)
    axes.push_back(dim);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  auto add = [](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
    return arith::AddFOp::create(b, bodyLoc, args[0], args[1]);
  };
  Value sum =
      buildReduction(rewriter, loc, input, axes, getZeroAttr(element), add);
  Value mean = insertUnitDims(
      rewriter, loc, divideByCount(rewriter, loc, sum, input, axes), axes);
  Value centered = buildBroadcastGeneric(
      rewriter, loc, ValueRange{input, mean}, sizes, element,
      [](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        return arith::SubFOp::create(b, bodyLoc, args[0], args[1]);
      });
  Value squares = buildReduction(
      rewriter, loc, centered, axes, getZeroAttr(element),
      [](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        Value square = arith::MulFOp::create(b, bodyLoc, args[0], args[0]);
        return arith::AddFOp::create(b, bodyLoc, square, args[1]);
      });
  Value variance = divideByCount(rewriter, loc, squares, input, axes);
  double epsilon = getFloatAttr(node, "epsilon", 1e-5);
  Value invStdDev = buildBroadcastGeneric(
      rewriter, loc, variance, tensor::getMixedSizes(rewriter, loc, variance),
      element, [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        Value eps = arith::ConstantOp::create(b, bodyLoc,
                                              b.getFloatAttr(element, epsilon));
        Value one =
            arith::ConstantOp::create(b, bodyLoc, b.getFloatAttr(element, 1.0));
        Value shifted = arith::AddFOp::create(b, bodyLoc, args[0], eps);
        return arith::DivFOp::create(b, bodyLoc, one,
                                     math::SqrtOp::create(b, bodyLoc, shifted));
      });
  invStdDev = insertUnitDims(rewriter, loc, invStdDev, axes);
  SmallVector<Value> normalizeInputs{centered, invStdDev};
  llvm::append_range(normalizeInputs, ArrayRef(operands).drop_front());
  Value result = buildBroadcastGeneric(
      rewriter, loc, normalizeInputs, sizes, element,
      [](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        Value normalized = arith::MulFOp::create(b, bodyLoc, args[0], args[1]);
        Value scaled = arith::MulFOp::create(b, bodyLoc, normalized, args[2]);
        if (args.size() == 3)
          return scaled;
        return arith::AddFOp::create(b, bodyLoc, scaled, args[3]);
      });
  SmallVector<Value> results{result, mean, invStdDev};
  results.resize(numResults);
  replaceNodeWithCasts(node, rewriter, results);
  return success();
}

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin
//===----------------------------------------------------------------------===//

/// ArgMax (or ArgMin with `min`) along `axis`: one reduction carrying the
/// best value and its i64 index. Ties keep the first index, or the last
/// with `select_last_index`; a NaN counts as the best value (its first
/// occurrence wins, as in NumPy).
static LogicalResult lowerArgExtremum(tvc_onnx::NodeOp node,
                                      PatternRewriter &rewriter, bool min) {
  if (failed(checkUnary(node, rewriter, 1, /*floatOnly=*/false)))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", 0), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  bool keepDims = getIntAttr(node, "keepdims", 1) != 0;
  bool last = getIntAttr(node, "select_last_index", 0) != 0;
  auto resultType = getResultType(node, 0, keepDims ? rank : rank - 1);
  if (resultType.getRank() != (keepDims ? rank : rank - 1) ||
      !resultType.getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(node, "unexpected result type");

  Location loc = node.getLoc();
  MLIRContext *context = rewriter.getContext();
  Type element = inputType.getElementType();
  bool isFloat = isa<FloatType>(element);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<OpFoldResult> keptSizes;
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t dim = 0; dim < rank; ++dim) {
    bool reduced = dim == *axis;
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (reduced)
      continue;
    keptSizes.push_back(sizes[dim]);
    keptExprs.push_back(getAffineDimExpr(dim, context));
  }
  // The first element of each row replaces these (anything beats them, or
  // the strict comparison below is false only for equal -inf/INT_MIN rows,
  // whose index 0 is then right).
  TypedAttr worst;
  if (!min)
    worst = getLowestAttr(element);
  else if (isFloat)
    worst = FloatAttr::get(
        element, APFloat::getInf(cast<FloatType>(element).getFloatSemantics()));
  else
    worst = IntegerAttr::get(
        element, APInt::getSignedMaxValue(element.getIntOrFloatBitWidth()));
  Value values = createFilled(rewriter, loc, keptSizes, worst);
  Value indices =
      createFilled(rewriter, loc, keptSizes, rewriter.getI64IntegerAttr(0));
  AffineMap kept = AffineMap::get(rank, 0, keptExprs, context);
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, context),
                              kept, kept};
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{values.getType(), indices.getType()}, input,
      ValueRange{values, indices}, maps, iterators,
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        Value x = args[0], best = args[1], bestIndex = args[2];
        Value better;
        if (isFloat) {
          using P = arith::CmpFPredicate;
          P predicate =
              min ? (last ? P::OLE : P::OLT) : (last ? P::OGE : P::OGT);
          better = arith::CmpFOp::create(b, bodyLoc, predicate, x, best);
          // The first NaN wins and stays.
          Value xIsNan = arith::CmpFOp::create(b, bodyLoc, P::UNO, x, x);
          Value bestIsNan =
              arith::CmpFOp::create(b, bodyLoc, P::UNO, best, best);
          Value bestIsNumber = arith::XOrIOp::create(
              b, bodyLoc, bestIsNan,
              arith::ConstantOp::create(b, bodyLoc, b.getBoolAttr(true)));
          better = arith::OrIOp::create(
              b, bodyLoc, better,
              arith::AndIOp::create(b, bodyLoc, xIsNan, bestIsNumber));
        } else {
          using P = arith::CmpIPredicate;
          P predicate =
              min ? (last ? P::sle : P::slt) : (last ? P::sge : P::sgt);
          better = arith::CmpIOp::create(b, bodyLoc, predicate, x, best);
        }
        Value index = arith::IndexCastOp::create(
            b, bodyLoc, b.getI64Type(),
            linalg::IndexOp::create(b, bodyLoc, *axis));
        linalg::YieldOp::create(
            b, bodyLoc,
            ValueRange{
                arith::SelectOp::create(b, bodyLoc, better, x, best),
                arith::SelectOp::create(b, bodyLoc, better, index, bestIndex)});
      });
  Value result = generic.getResult(1);
  if (keepDims)
    result = insertUnitDims(rewriter, loc, result, {*axis});
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void mlir::tvc::registerOnnxReductionToLinalgHandlers(OnnxHandlerTable &table) {
  struct Reduce {
    const char *name;
    ReduceKind kind;
    int64_t axesInputSince;
  };
  static const Reduce kReductions[] = {
      {"ReduceSum", ReduceKind::Sum, 13},
      {"ReduceMean", ReduceKind::Mean, 18},
      {"ReduceMax", ReduceKind::Max, 18},
      {"ReduceMin", ReduceKind::Min, 18},
      {"ReduceProd", ReduceKind::Prod, 18},
      {"ReduceL1", ReduceKind::L1, 18},
      {"ReduceL2", ReduceKind::L2, 18},
      {"ReduceSumSquare", ReduceKind::SumSquare, 18},
      {"ReduceLogSum", ReduceKind::LogSum, 18},
      {"ReduceLogSumExp", ReduceKind::LogSumExp, 18},
  };
  for (const Reduce &reduce : kReductions) {
    ReduceKind kind = reduce.kind;
    table.onOp(reduce.name, 1, "reduction generic; axes attribute, keepdims",
               [kind](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
                 return lowerReduce(node, rewriter, kind,
                                    /*axesFromInput=*/false);
               });
    table.onOp(reduce.name, reduce.axesInputSince,
               "reduction generic; constant axes input (or read at run "
               "time: one reduction per dimension, selected), keepdims, "
               "noop_with_empty_axes",
               [kind](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
                 return lowerReduce(node, rewriter, kind,
                                    /*axesFromInput=*/true);
               });
  }
  for (bool log : {false, true}) {
    const char *name = log ? "LogSoftmax" : "Softmax";
    table.onOp(name, 1, "max, sum of exp, quotient over the dims from axis on",
               [log](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
                 return lowerSoftmax(node, rewriter, log,
                                     /*singleAxis=*/false);
               });
    table.onOp(name, 13, "max, sum of exp, quotient over one axis",
               [log](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
                 return lowerSoftmax(node, rewriter, log,
                                     /*singleAxis=*/true);
               });
  }
  table.onOp("LayerNormalization", 17,
             "mean, variance, normalize with scale and bias (Mean and "
             "InvStdDev results too)",
             lowerLayerNormalization);
  table.onOp("ArgMax", 1, "reduction carrying value and i64 index",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerArgExtremum(node, rewriter, /*min=*/false);
             });
  table.onOp("ArgMin", 1, "reduction carrying value and i64 index",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerArgExtremum(node, rewriter, /*min=*/true);
             });
}
