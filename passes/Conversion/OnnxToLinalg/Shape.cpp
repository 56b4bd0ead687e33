//===- Shape.cpp - ONNX shape, layout and data movement nodes to linalg ---===//
//
// Shape, Reshape, Unsqueeze, Squeeze, Flatten, Transpose, Concat, Slice,
// Expand, Gather, Split, Range, ConstantOfShape, Constant, Identity, Cast
// and CastLike. Reshapes are tensor.collapse_shape/expand_shape (sizes
// computed with tensor.dim and folded where static; tensor.reshape when
// several sizes are dynamic), slices tensor.extract_slice, transposes
// linalg.transpose, and gathers and ranges linalg.generic ops computing
// their indices. What decides the result's layout (axes, perm, Slice's
// steps) must be constant; sizes and bounds (Reshape's shape, Slice's
// starts and ends, Split's sizes, Expand's and ConstantOfShape's shapes)
// may also be read at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Fails unless `node` has `inputs` inputs (at least `minInputs`), all
/// ranked tensors but omitted optional inputs, and `results` tensor results
/// (ranked or not: see getResultType).
static LogicalResult checkArity(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter, unsigned minInputs,
                                unsigned maxInputs, unsigned results = 1) {
  unsigned numInputs = node.getInputs().size();
  if (numInputs < minInputs || numInputs > maxInputs ||
      node.getNumResults() != results)
    return rewriter.notifyMatchFailure(node, "unexpected number of operands");
  for (unsigned i = 0; i < numInputs; ++i) {
    Value input = getOptionalInput(node, i);
    if (!input && i < minInputs)
      return rewriter.notifyMatchFailure(node, "a required input is omitted");
    if (input && !getRankedType(input))
      return rewriter.notifyMatchFailure(node, "an input is not ranked");
  }
  for (Value result : node.getResults())
    if (!isa<TensorType>(result.getType()))
      return rewriter.notifyMatchFailure(node, "a result is not a tensor");
  return success();
}

/// True when a dimension of `value`'s type is a static 0.
static bool hasZeroSize(Value value) {
  return llvm::is_contained(cast<RankedTensorType>(value.getType()).getShape(),
                            0);
}

/// The 1-D tensor holding all elements of `input` in row-major order.
static Value flatten(OpBuilder &b, Location loc, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getRank() == 1)
    return input;
  auto flatType = RankedTensorType::get(
      {type.hasStaticShape() ? type.getNumElements() : ShapedType::kDynamic},
      type.getElementType());
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(
        b, loc, flatType, input, ArrayRef<ReassociationIndices>{},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  ReassociationIndices all;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    all.push_back(dim);
  return tensor::CollapseShapeOp::create(b, loc, flatType, input,
                                         ArrayRef<ReassociationIndices>{all});
}

/// `input` reshaped in row-major order to `sizes` (whose product is its
/// number of elements).
static Value reshapeTo(OpBuilder &b, Location loc, Value input,
                       ArrayRef<OpFoldResult> sizes) {
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  SmallVector<int64_t> shape = getStaticShape(sizes);
  auto resultType = RankedTensorType::get(shape, element);
  // Several dynamic sizes in one expand_shape group are valid IR, but
  // expand-strided-metadata crashes on the buffer form (LLVM 22): such
  // shapes take tensor.reshape with a shape tensor instead.
  if (llvm::count_if(shape, ShapedType::isDynamic) > 1) {
    SmallVector<Value> values;
    for (OpFoldResult size : sizes)
      values.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
    Value shapeTensor = tensor::FromElementsOp::create(b, loc, values);
    return tensor::ReshapeOp::create(b, loc, resultType, input, shapeTensor);
  }
  Value flat = flatten(b, loc, input);
  if (shape.size() == 1)
    return castTo(b, loc, flat, resultType);
  if (shape.empty()) {
    flat = castTo(b, loc, flat, RankedTensorType::get({1}, element));
    return tensor::CollapseShapeOp::create(b, loc, resultType, flat,
                                           ArrayRef<ReassociationIndices>{});
  }
  // The flat size is static exactly when every target size is.
  int64_t flatSize = resultType.hasStaticShape() ? resultType.getNumElements()
                                                 : ShapedType::kDynamic;
  flat = castTo(b, loc, flat, RankedTensorType::get({flatSize}, element));
  ReassociationIndices all;
  for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim)
    all.push_back(dim);
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, flat, ArrayRef<ReassociationIndices>{all}, sizes);
}

/// `sizes` with each dimension the result type knows replaced by its static
/// size (the importer's shape inference may know more than the lowering).
static void refineSizes(OpBuilder &b, MutableArrayRef<OpFoldResult> sizes,
                        RankedTensorType resultType) {
  for (auto [size, known] : llvm::zip_equal(sizes, resultType.getShape()))
    if (!ShapedType::isDynamic(known))
      size = b.getIndexAttr(known);
}

/// The scalar of a 0-D or one-element 1-D tensor.
static Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

/// True for a 0-D tensor or a 1-D tensor of one element.
static bool isScalarTensor(Value value) {
  RankedTensorType type = getRankedType(value);
  return type && (type.getRank() == 0 ||
                  (type.getRank() == 1 && type.getDimSize(0) == 1));
}

/// An integer attribute of `node` or of its constant input `index`
/// (opsets that moved an attribute to an input).
static std::optional<SmallVector<int64_t>> getIntsOperand(tvc_onnx::NodeOp node,
                                                          bool fromInput,
                                                          unsigned index,
                                                          StringRef name) {
  if (fromInput) {
    Value input = getOptionalInput(node, index);
    if (!input)
      return SmallVector<int64_t>();
    return getConstantInts(input);
  }
  if (!node.getAttrs().get(name))
    return SmallVector<int64_t>();
  return getIntsAttr(node, name);
}

namespace {
/// A list of integers read from an attribute or a constant, or from a 1-D
/// integer tensor of static length at run time.
struct IntList {
  SmallVector<int64_t> constant;
  /// The tensor read at run time (null for a constant list).
  Value tensor;
  size_t length = 0;

  bool empty() const { return length == 0; }
  bool isConstant() const { return !tensor; }

  /// Element `i` as an index: a constant, or read and cast at run time.
  OpFoldResult get(OpBuilder &b, Location loc, size_t i) const {
    if (!tensor)
      return b.getIndexAttr(constant[i]);
    Value position = arith::ConstantIndexOp::create(b, loc, i);
    Value element = tensor::ExtractOp::create(b, loc, tensor, position);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), element)
        .getResult();
  }
};
} // namespace

/// The integers of attribute `name` (`fromInput` false) or input `index`:
/// a constant, or with `allowRuntime` a 1-D integer tensor of static
/// length (or of `knownLength` when the caller knows it from a result
/// type). Empty when absent; nullopt when not readable.
static std::optional<IntList> getIntList(tvc_onnx::NodeOp node, bool fromInput,
                                         unsigned index, StringRef name,
                                         bool allowRuntime,
                                         int64_t knownLength = -1) {
  IntList list;
  std::optional<SmallVector<int64_t>> constant =
      getIntsOperand(node, fromInput, index, name);
  if (constant) {
    list.constant = *constant;
    list.length = constant->size();
    return list;
  }
  Value input = fromInput ? getOptionalInput(node, index) : Value();
  RankedTensorType type = getRankedType(input);
  if (!allowRuntime || !type || type.getRank() != 1 ||
      !type.getElementType().isSignlessInteger() ||
      type.getElementType().isInteger(1))
    return std::nullopt;
  int64_t length = type.getDimSize(0);
  if (ShapedType::isDynamic(length))
    length = knownLength;
  if (length < 0)
    return std::nullopt;
  list.tensor = input;
  list.length = length;
  return list;
}

/// The MLIR element type of an ONNX TensorProto data type, or null for
/// types this lowering does not compute with.
static Type getOnnxElementType(Builder &b, int64_t dataType) {
  switch (dataType) {
  case 1:
    return b.getF32Type();
  case 3:
    return b.getI8Type();
  case 5:
    return b.getI16Type();
  case 6:
    return b.getI32Type();
  case 7:
    return b.getI64Type();
  case 9:
    return b.getI1Type();
  case 10:
    return b.getF16Type();
  case 11:
    return b.getF64Type();
  case 16:
    return b.getBF16Type();
  default:
    return {};
  }
}

//===----------------------------------------------------------------------===//
// Constant, Identity, Cast, Shape
//===----------------------------------------------------------------------===//

/// Constant -> arith.constant of its value.
static LogicalResult lowerConstant(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter) {
  if (!node.getInputs().empty() || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects one result");
  ElementsAttr value = getConstantNodeValue(node);
  if (!value)
    return rewriter.notifyMatchFailure(
        node, "holds no value, value_float(s) or value_int(s) attribute");
  if (!isSupportedElementType(value.getElementType()))
    return rewriter.notifyMatchFailure(node, "unsupported element type");
  auto resultType = dyn_cast<TensorType>(node.getResult(0).getType());
  if (!resultType ||
      !tensor::CastOp::areCastCompatible(value.getType(), resultType))
    return rewriter.notifyMatchFailure(node,
                                       "value does not match the result type");
  Value constant = arith::ConstantOp::create(rewriter, node.getLoc(), value);
  replaceNodeWithCasts(node, rewriter, constant);
  return success();
}

/// Identity -> its input.
static LogicalResult lowerIdentity(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter) {
  if (node.getInputs().size() != 1 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects one input");
  Value input = node.getInputs()[0];
  if (!tensor::CastOp::areCastCompatible(input.getType(),
                                         node.getResult(0).getType()))
    return rewriter.notifyMatchFailure(node, "input and result types differ");
  replaceNodeWithCasts(node, rewriter, input);
  return success();
}

/// Cast -> an elementwise generic converting each element.
/// With `like` (CastLike), the target type is the second input's element
/// type.
static LogicalResult lowerCast(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
                               bool like) {
  if (failed(checkArity(node, rewriter, like ? 2 : 1, like ? 2 : 1)))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  auto resultType = getResultType(node, 0, inputType.getRank());
  Type to = like ? getRankedType(node.getInputs()[1]).getElementType()
                 : getOnnxElementType(rewriter, getIntAttr(node, "to", 0));
  if (!to || !isSupportedElementType(to) ||
      !isSupportedElementType(inputType.getElementType()))
    return rewriter.notifyMatchFailure(node, "unsupported element types");
  if (to != resultType.getElementType())
    return rewriter.notifyMatchFailure(node,
                                       "'to' disagrees with the result type");
  if (inputType.getRank() != resultType.getRank())
    return rewriter.notifyMatchFailure(node, "input and result ranks differ");
  // A cast to the same type (torch exports i64 -> i64) is its input.
  if (to == inputType.getElementType()) {
    replaceNodeWithCasts(node, rewriter, input);
    return success();
  }
  Location loc = node.getLoc();
  SmallVector<OpFoldResult> sizes =
      getBroadcastSizes(rewriter, loc, input, resultType);
  Value result = buildBroadcastGeneric(
      rewriter, loc, input, sizes, to,
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return convertScalar(b, bodyLoc, args[0], to);
      });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Shape -> tensor.from_elements of the (static or tensor.dim) sizes in
/// `[start, end)`.
/// Size: the number of elements as a 0-D i64 tensor.
static LogicalResult lowerSize(tvc_onnx::NodeOp node,
                               PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 1, 1)))
    return failure();
  Value input = node.getInputs()[0];
  auto resultType = getResultType(node, 0, 0);
  if (resultType.getRank() != 0 || !resultType.getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(node, "result is not a 0-D i64 tensor");
  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  OpFoldResult count = rewriter.getIndexAttr(1);
  for (OpFoldResult size : tensor::getMixedSizes(rewriter, loc, input))
    count = math.mul(count, size);
  Value value = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                           math.value(count));
  Value result = tensor::FromElementsOp::create(
      rewriter, loc, RankedTensorType::get({}, rewriter.getI64Type()), value);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

static LogicalResult lowerShape(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 1, 1)))
    return failure();
  Value input = node.getInputs()[0];
  int64_t rank = getRankedType(input).getRank();
  auto resultType = getResultType(node, 0, 1);
  if (resultType.getRank() != 1 || !resultType.getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(node, "result is not a 1-D i64 tensor");
  // Opset 15 slices the shape; out-of-range bounds are clamped.
  auto clampBound = [&](int64_t bound) {
    if (bound < 0)
      bound += rank;
    return std::clamp<int64_t>(bound, 0, rank);
  };
  int64_t start = clampBound(getIntAttr(node, "start", 0));
  int64_t end = clampBound(getIntAttr(node, "end", rank));
  Location loc = node.getLoc();
  SmallVector<Value> dims;
  for (int64_t dim = start; dim < end; ++dim) {
    OpFoldResult size = tensor::getMixedSize(rewriter, loc, input, dim);
    if (std::optional<int64_t> known = getConstantIntValue(size)) {
      dims.push_back(arith::ConstantOp::create(
          rewriter, loc, rewriter.getI64IntegerAttr(*known)));
      continue;
    }
    dims.push_back(arith::IndexCastOp::create(
        rewriter, loc, rewriter.getI64Type(), cast<Value>(size)));
  }
  Value result;
  if (dims.empty())
    result = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({0}, rewriter.getI64Type()),
            ArrayRef<int64_t>{}));
  else
    result = tensor::FromElementsOp::create(rewriter, loc, dims);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

/// Reshape with a constant shape: 0 copies the input's size (unless
/// `allowzero`), -1 takes what remains.
static LogicalResult lowerReshape(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 2, 2)))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  // A shape tensor of unknown length has the result's rank (when shape
  // inference knew it).
  auto rankedResult = getRankedType(node.getResult(0));
  std::optional<IntList> shape =
      getIntList(node, /*fromInput=*/true, 1, "", /*allowRuntime=*/true,
                 rankedResult ? rankedResult.getRank() : -1);
  if (!shape)
    return rewriter.notifyMatchFailure(
        node, "shape is neither constant nor a 1-D tensor of known length");
  auto resultType = getResultType(node, 0, shape->length);
  if (static_cast<int64_t>(shape->length) != resultType.getRank())
    return rewriter.notifyMatchFailure(node, "shape length is not the rank");
  bool allowZero = getIntAttr(node, "allowzero", 0) != 0;
  int64_t inferred = -1;
  for (auto [dim, size] : llvm::enumerate(shape->constant)) {
    if (size < -1)
      return rewriter.notifyMatchFailure(node, "negative size in shape");
    if (size == -1) {
      if (inferred >= 0)
        return rewriter.notifyMatchFailure(node, "more than one -1 in shape");
      inferred = dim;
    }
    if (size == 0 && !allowZero &&
        static_cast<int64_t>(dim) >= inputType.getRank())
      return rewriter.notifyMatchFailure(
          node, "0 copies a dimension the input lacks");
  }

  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  SmallVector<OpFoldResult> inputSizes =
      tensor::getMixedSizes(rewriter, loc, input);
  OpFoldResult total = rewriter.getIndexAttr(1);
  for (OpFoldResult size : inputSizes)
    total = math.mul(total, size);
  SmallVector<OpFoldResult> sizes;
  if (shape->isConstant()) {
    OpFoldResult known = rewriter.getIndexAttr(1);
    for (auto [dim, size] : llvm::enumerate(shape->constant)) {
      OpFoldResult value = size == 0 && !allowZero
                               ? inputSizes[dim]
                               : rewriter.getIndexAttr(size);
      sizes.push_back(value);
      if (static_cast<int64_t>(dim) != inferred)
        known = math.mul(known, value);
    }
    if (inferred >= 0) {
      if (isConstantIntValue(known, 0))
        return rewriter.notifyMatchFailure(node,
                                           "-1 with a zero-sized dimension");
      sizes[inferred] = math.div(total, known);
    }
  } else {
    // The same rules evaluated at run time: 0 copies the input's size, the
    // -1 (if any) is the element count over the product of the others.
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value minusOne = arith::ConstantIndexOp::create(rewriter, loc, -1);
    auto equals = [&](Value lhs, Value rhs) {
      return arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, lhs,
                                   rhs);
    };
    SmallVector<Value> requested;
    Value known = one;
    for (size_t dim = 0; dim < shape->length; ++dim) {
      Value size = math.value(shape->get(rewriter, loc, dim));
      if (!allowZero && static_cast<int64_t>(dim) < inputType.getRank())
        size = arith::SelectOp::create(rewriter, loc, equals(size, zero),
                                       math.value(inputSizes[dim]), size);
      requested.push_back(size);
      Value factor = arith::SelectOp::create(rewriter, loc,
                                             equals(size, minusOne), one, size);
      known = arith::MulIOp::create(rewriter, loc, known, factor);
    }
    // A zero-sized known part cannot leave a -1 to infer; avoid dividing
    // by zero.
    Value divisor = arith::MaxSIOp::create(rewriter, loc, known, one);
    Value rest =
        arith::DivSIOp::create(rewriter, loc, math.value(total), divisor);
    for (Value size : requested)
      sizes.push_back(arith::SelectOp::create(
                          rewriter, loc, equals(size, minusOne), rest, size)
                          .getResult());
  }
  refineSizes(rewriter, sizes, resultType);
  replaceNodeWithCasts(node, rewriter, reshapeTo(rewriter, loc, input, sizes));
  return success();
}

/// Flatten -> a 2-D reshape at `axis`.
static LogicalResult lowerFlatten(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 1, 1)))
    return failure();
  Value input = node.getInputs()[0];
  int64_t rank = getRankedType(input).getRank();
  auto resultType = getResultType(node, 0, 2);
  int64_t axis = getIntAttr(node, "axis", 1);
  // Flatten's axis ranges over [-rank, rank].
  if (axis < -rank || axis > rank)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  if (axis < 0)
    axis += rank;
  if (resultType.getRank() != 2)
    return rewriter.notifyMatchFailure(node, "result is not 2-D");
  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  SmallVector<OpFoldResult> inputSizes =
      tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<OpFoldResult> sizes(2, rewriter.getIndexAttr(1));
  for (int64_t dim = 0; dim < rank; ++dim)
    sizes[dim < axis ? 0 : 1] =
        math.mul(sizes[dim < axis ? 0 : 1], inputSizes[dim]);
  refineSizes(rewriter, sizes, resultType);
  replaceNodeWithCasts(node, rewriter, reshapeTo(rewriter, loc, input, sizes));
  return success();
}

/// The 1-D axes input of `node` when it is read at run time (a tensor of
/// static length, as in ONNX's conformance tests), normalized against
/// `rank`; nullopt otherwise.
static std::optional<SmallVector<Value>>
getRuntimeAxes(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
               int64_t rank) {
  Value axes = getOptionalInput(node, 1);
  if (!isRuntimeAxes(axes) || getRankedType(axes).getDimSize(0) == 0)
    return std::nullopt;
  return readRuntimeAxes(rewriter, node.getLoc(), axes, rank);
}

/// `candidates[index]` for an index known at run time only, `fallback`
/// when it is out of range (a chain of selects).
static Value selectByIndex(OpBuilder &b, Location loc,
                           ArrayRef<Value> candidates, Value index,
                           Value fallback) {
  Value result = fallback;
  for (auto [i, candidate] : llvm::enumerate(candidates)) {
    Value position = arith::ConstantIndexOp::create(b, loc, i);
    Value match = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        index, position);
    result = arith::SelectOp::create(b, loc, match, candidate, result);
  }
  return result;
}

/// The sizes of `input` as index values.
static SmallVector<Value> getSizeValues(OpBuilder &b, Location loc,
                                        Value input) {
  SmallVector<Value> sizes;
  for (OpFoldResult size : tensor::getMixedSizes(b, loc, input))
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  return sizes;
}

/// Unsqueeze with axes read at run time: output dimension j is 1 when it
/// is an axis, else input dimension j - (number of axes before j); a
/// reshape to those sizes.
static LogicalResult lowerRuntimeUnsqueeze(tvc_onnx::NodeOp node,
                                           PatternRewriter &rewriter) {
  Value input = node.getInputs()[0];
  int64_t inputRank = getRankedType(input).getRank();
  auto axesType = getRankedType(node.getInputs()[1]);
  if (!axesType || axesType.getRank() != 1 || axesType.isDynamicDim(0))
    return rewriter.notifyMatchFailure(
        node, "axes are neither constant nor a 1-D tensor of static length");
  int64_t rank = inputRank + axesType.getDimSize(0);
  RankedTensorType resultType = getResultType(node, 0, rank);
  if (resultType.getRank() != rank)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");
  std::optional<SmallVector<Value>> axes =
      getRuntimeAxes(node, rewriter, rank);
  if (!axes)
    return rewriter.notifyMatchFailure(
        node, "axes are neither constant nor a 1-D tensor of static length");
  Location loc = node.getLoc();
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  SmallVector<Value> inputSizes = getSizeValues(rewriter, loc, input);
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim = 0; dim < rank; ++dim) {
    Value position = arith::ConstantIndexOp::create(rewriter, loc, dim);
    Value isAxis = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
    Value before = zero;
    for (Value axis : *axes) {
      isAxis = arith::OrIOp::create(
          rewriter, loc, isAxis,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, axis,
                                position));
      Value less = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::slt, axis, position);
      before = arith::AddIOp::create(
          rewriter, loc, before,
          arith::SelectOp::create(rewriter, loc, less, one, zero));
    }
    Value source = arith::SubIOp::create(rewriter, loc, position, before);
    Value size = selectByIndex(rewriter, loc, inputSizes, source, one);
    sizes.push_back(
        arith::SelectOp::create(rewriter, loc, isAxis, one, size).getResult());
  }
  refineSizes(rewriter, sizes, resultType);
  replaceNodeWithCasts(node, rewriter, reshapeTo(rewriter, loc, input, sizes));
  return success();
}

/// Squeeze with axes read at run time: output dimension j is the j-th input
/// dimension that is not an axis; a reshape to those sizes.
static LogicalResult lowerRuntimeSqueeze(tvc_onnx::NodeOp node,
                                         PatternRewriter &rewriter) {
  Value input = node.getInputs()[0];
  int64_t inputRank = getRankedType(input).getRank();
  auto axesType = getRankedType(node.getInputs()[1]);
  if (!axesType || axesType.getRank() != 1 || axesType.isDynamicDim(0) ||
      axesType.getDimSize(0) > inputRank)
    return rewriter.notifyMatchFailure(node, "axes are not constant or valid");
  int64_t rank = inputRank - axesType.getDimSize(0);
  RankedTensorType resultType = getResultType(node, 0, rank);
  if (resultType.getRank() != rank)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");
  std::optional<SmallVector<Value>> axes =
      getRuntimeAxes(node, rewriter, inputRank);
  if (!axes)
    return rewriter.notifyMatchFailure(node, "axes are not constant or valid");
  Location loc = node.getLoc();
  SmallVector<Value> inputSizes = getSizeValues(rewriter, loc, input);
  // For each input dimension: whether it is one of the axes (squeezed).
  SmallVector<Value> squeezed;
  for (int64_t dim = 0; dim < inputRank; ++dim) {
    Value position = arith::ConstantIndexOp::create(rewriter, loc, dim);
    Value isAxis = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
    for (Value axis : *axes)
      isAxis = arith::OrIOp::create(
          rewriter, loc, isAxis,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, axis,
                                position));
    squeezed.push_back(isAxis);
  }
  SmallVector<OpFoldResult> sizes = getAsOpFoldResult(
      getSizesWithoutDropped(rewriter, loc, inputSizes, squeezed, rank));
  refineSizes(rewriter, sizes, resultType);
  replaceNodeWithCasts(node, rewriter, reshapeTo(rewriter, loc, input, sizes));
  return success();
}

/// Unsqueeze -> expand_shape inserting unit dimensions (a reshape when the
/// axes are read at run time).
static LogicalResult lowerUnsqueeze(tvc_onnx::NodeOp node,
                                    PatternRewriter &rewriter,
                                    bool axesFromInput) {
  if (failed(checkArity(node, rewriter, 1, 2)))
    return failure();
  Value input = node.getInputs()[0];
  std::optional<SmallVector<int64_t>> raw =
      getIntsOperand(node, axesFromInput, 1, "axes");
  if (!raw && axesFromInput)
    return lowerRuntimeUnsqueeze(node, rewriter);
  if (!raw || raw->empty())
    return rewriter.notifyMatchFailure(node, "axes are not constant");
  int64_t rank = getRankedType(input).getRank() + raw->size();
  SmallVector<int64_t> axes;
  for (int64_t axis : *raw) {
    std::optional<int64_t> normalized = normalizeAxis(axis, rank);
    if (!normalized || llvm::is_contained(axes, *normalized))
      return rewriter.notifyMatchFailure(node, "axes out of range or repeated");
    axes.push_back(*normalized);
  }
  llvm::sort(axes);
  if (getResultType(node, 0, rank).getRank() != rank)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");
  replaceNodeWithCasts(node, rewriter,
                       insertUnitDims(rewriter, node.getLoc(), input, axes));
  return success();
}

/// Squeeze -> collapse_shape dropping unit dimensions (all static ones
/// when no axes are given).
static LogicalResult lowerSqueeze(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter,
                                  bool axesFromInput) {
  if (failed(checkArity(node, rewriter, 1, 2)))
    return failure();
  Value input = node.getInputs()[0];
  auto type = getRankedType(input);
  std::optional<SmallVector<int64_t>> axes =
      axesFromInput ? getAxes(node, true, 1, "", type.getRank())
                    : getAxes(node, false, 0, "axes", type.getRank());
  if (!axes && axesFromInput && !getConstantElements(node.getInputs()[1]))
    return lowerRuntimeSqueeze(node, rewriter);
  if (!axes)
    return rewriter.notifyMatchFailure(node, "axes are not constant or valid");
  if (axes->empty()) {
    for (auto [dim, size] : llvm::enumerate(type.getShape())) {
      // Without axes, a dynamic dimension might or might not be 1.
      if (ShapedType::isDynamic(size))
        return rewriter.notifyMatchFailure(node,
                                           "no axes and a dynamic dimension");
      if (size == 1)
        axes->push_back(dim);
    }
  }
  for (int64_t axis : *axes)
    if (!ShapedType::isDynamic(type.getDimSize(axis)) &&
        type.getDimSize(axis) != 1)
      return rewriter.notifyMatchFailure(node, "squeezes a non-unit dimension");
  int64_t resultRank = type.getRank() - static_cast<int64_t>(axes->size());
  if (getResultType(node, 0, resultRank).getRank() != resultRank)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");
  replaceNodeWithCasts(node, rewriter,
                       dropUnitDims(rewriter, node.getLoc(), input, *axes));
  return success();
}

//===----------------------------------------------------------------------===//
// Transpose, Concat, Split, Slice
//===----------------------------------------------------------------------===//

/// Transpose -> linalg.transpose (perm defaults to reversing the dims).
static LogicalResult lowerTranspose(tvc_onnx::NodeOp node,
                                    PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 1, 1)))
    return failure();
  Value input = node.getInputs()[0];
  int64_t rank = getRankedType(input).getRank();
  SmallVector<int64_t> perm;
  if (std::optional<SmallVector<int64_t>> attr = getIntsAttr(node, "perm"))
    perm = *attr;
  else if (node.getAttrs().get("perm"))
    return rewriter.notifyMatchFailure(node, "perm is not a list of ints");
  else
    for (int64_t dim = rank - 1; dim >= 0; --dim)
      perm.push_back(dim);
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  if (static_cast<int64_t>(perm.size()) != rank ||
      !llvm::equal(sorted, llvm::seq<int64_t>(0, rank)))
    return rewriter.notifyMatchFailure(node, "perm is not a permutation");
  Location loc = node.getLoc();
  SmallVector<OpFoldResult> inputSizes =
      tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim : perm)
    sizes.push_back(inputSizes[dim]);
  Value init =
      createEmpty(rewriter, loc, sizes, getRankedType(input).getElementType());
  Value result = linalg::TransposeOp::create(rewriter, loc, input, init, perm)
                     .getResult()[0];
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Concat -> tensor.empty and one tensor.insert_slice per input.
static LogicalResult lowerConcat(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (failed(
          checkArity(node, rewriter, 1, std::numeric_limits<unsigned>::max())))
    return failure();
  auto resultType =
      getResultType(node, 0, getRankedType(node.getInputs()[0]).getRank());
  int64_t rank = resultType.getRank();
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", 0), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  for (Value input : node.getInputs()) {
    auto type = getRankedType(input);
    if (type.getRank() != rank ||
        type.getElementType() != resultType.getElementType())
      return rewriter.notifyMatchFailure(node, "inputs differ in rank or type");
  }
  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  // Sizes off the axis from the first input that knows them statically.
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, node.getInputs()[0]);
  for (Value input : node.getInputs().drop_front())
    for (auto [dim, size] : llvm::enumerate(getRankedType(input).getShape()))
      if (static_cast<int64_t>(dim) != *axis && !ShapedType::isDynamic(size))
        sizes[dim] = rewriter.getIndexAttr(size);
  SmallVector<OpFoldResult> offsets;
  OpFoldResult total = rewriter.getIndexAttr(0);
  for (Value input : node.getInputs()) {
    offsets.push_back(total);
    total = math.add(total, tensor::getMixedSize(rewriter, loc, input, *axis));
  }
  sizes[*axis] = total;
  Value result = createEmpty(rewriter, loc, sizes, resultType.getElementType());
  for (auto [input, offset] : llvm::zip_equal(node.getInputs(), offsets)) {
    // An empty input adds nothing (and insert_slice rejects offsets into a
    // static zero size).
    if (hasZeroSize(input) || hasZeroSize(result))
      continue;
    SmallVector<OpFoldResult> inputOffsets(rank, rewriter.getIndexAttr(0));
    inputOffsets[*axis] = offset;
    SmallVector<OpFoldResult> inputSizes =
        tensor::getMixedSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    result = tensor::InsertSliceOp::create(rewriter, loc, input, result,
                                           inputOffsets, inputSizes, strides);
  }
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Split -> one tensor.extract_slice per output, of the sizes given or of
/// equal sizes (the last one smaller, as opset 18 allows).
static LogicalResult lowerSplit(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter,
                                bool splitFromInput) {
  unsigned numResults = node.getNumResults();
  if (numResults == 0 || failed(checkArity(node, rewriter, 1, 2, numResults)))
    return failure();
  Value input = node.getInputs()[0];
  int64_t rank = getRankedType(input).getRank();
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", 0), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  std::optional<IntList> split = getIntList(node, splitFromInput, 1, "split",
                                            /*allowRuntime=*/true);
  if (!split)
    return rewriter.notifyMatchFailure(node, "split is not readable");
  if (!split->empty() && split->length != numResults)
    return rewriter.notifyMatchFailure(node, "split has the wrong length");
  if (llvm::any_of(split->constant, [](int64_t size) { return size < 0; }))
    return rewriter.notifyMatchFailure(node, "negative split size");
  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  OpFoldResult dimSize = tensor::getMixedSize(rewriter, loc, input, *axis);
  SmallVector<OpFoldResult> pieces;
  if (split->empty()) {
    OpFoldResult chunk =
        math.ceilDiv(dimSize, rewriter.getIndexAttr(numResults));
    pieces.assign(numResults - 1, chunk);
    pieces.push_back(math.sub(
        dimSize, math.mul(chunk, rewriter.getIndexAttr(numResults - 1))));
  } else {
    for (size_t i = 0; i < split->length; ++i)
      pieces.push_back(split->get(rewriter, loc, i));
  }
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
  Type element = getRankedType(input).getElementType();
  SmallVector<Value> results;
  for (OpFoldResult piece : pieces) {
    sizes[*axis] = piece;
    // Slices of an empty tensor are empty tensors (extract_slice rejects
    // any offset into a static zero size).
    if (hasZeroSize(input))
      results.push_back(createEmpty(rewriter, loc, sizes, element));
    else
      results.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, input, offsets, sizes, strides));
    offsets[*axis] = math.add(offsets[*axis], piece);
  }
  replaceNodeWithCasts(node, rewriter, results);
  return success();
}

/// `input[offsets[d] + i * strides[d]]` for every index i of `sizes`: a
/// generic reading with any (also negative) strides.
static Value buildStridedGather(OpBuilder &builder, Location loc, Value input,
                                ArrayRef<OpFoldResult> offsets,
                                ArrayRef<OpFoldResult> sizes,
                                ArrayRef<OpFoldResult> strides) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  MLIRContext *context = builder.getContext();
  IndexMath math{builder, loc};
  Value init = createEmpty(builder, loc, sizes, inputType.getElementType());
  SmallVector<Value> offsetValues, strideValues;
  for (int64_t dim = 0; dim < rank; ++dim) {
    offsetValues.push_back(math.value(offsets[dim]));
    strideValues.push_back(math.value(strides[dim]));
  }
  return linalg::GenericOp::create(
             builder, loc, init.getType(), ValueRange{}, init,
             ArrayRef<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(rank, context)},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &b, Location bodyLoc, ValueRange) {
               SmallVector<Value> indices;
               for (int64_t dim = 0; dim < rank; ++dim) {
                 Value i = linalg::IndexOp::create(b, bodyLoc, dim);
                 Value scaled =
                     arith::MulIOp::create(b, bodyLoc, i, strideValues[dim]);
                 indices.push_back(arith::AddIOp::create(b, bodyLoc, scaled,
                                                         offsetValues[dim]));
               }
               Value element =
                   tensor::ExtractOp::create(b, bodyLoc, input, indices);
               linalg::YieldOp::create(b, bodyLoc, element);
             })
      .getResult(0);
}

/// Slice whose axes or steps are read at run time (1-D tensors of the
/// starts' static length, as in ONNX's conformance tests): each
/// dimension's start, end and step are picked at run time (0, its size and
/// 1 when no axis names it) and clamped as ONNX specifies; a strided
/// gather reads the result.
static LogicalResult lowerRuntimeSlice(tvc_onnx::NodeOp node,
                                       PatternRewriter &rewriter,
                                       const IntList &starts,
                                       const IntList &ends) {
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  size_t count = starts.length;
  Value axesInput = getOptionalInput(node, 3);
  Value stepsInput = getOptionalInput(node, 4);
  std::optional<SmallVector<int64_t>> constantAxes =
      getIntsOperand(node, true, 3, "");
  std::optional<SmallVector<int64_t>> constantSteps =
      getIntsOperand(node, true, 4, "");
  auto hasCountElements = [&](Value value) {
    RankedTensorType type = getRankedType(value);
    return type && type.getRank() == 1 &&
           type.getDimSize(0) == static_cast<int64_t>(count);
  };
  if (ends.length != count ||
      (!constantAxes && !(isRuntimeAxes(axesInput) &&
                          hasCountElements(axesInput))) ||
      (!constantSteps && !(isRuntimeAxes(stepsInput) &&
                           hasCountElements(stepsInput))) ||
      (constantAxes && !constantAxes->empty() && constantAxes->size() != count) ||
      (constantSteps && !constantSteps->empty() &&
       constantSteps->size() != count))
    return rewriter.notifyMatchFailure(
        node, "starts, ends, axes and steps must be constants or 1-D "
              "tensors of one static length");
  if (getResultType(node, 0, rank).getRank() != rank)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");

  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  auto index = [&](int64_t value) {
    return arith::ConstantIndexOp::create(rewriter, loc, value).getResult();
  };
  auto cmp = [&](arith::CmpIPredicate predicate, Value lhs, Value rhs) {
    return arith::CmpIOp::create(rewriter, loc, predicate, lhs, rhs)
        .getResult();
  };
  auto select = [&](Value condition, Value yes, Value no) {
    return arith::SelectOp::create(rewriter, loc, condition, yes, no)
        .getResult();
  };
  using Pred = arith::CmpIPredicate;
  // Axis k as a normalized index, and step k, both as values.
  SmallVector<Value> axes, steps;
  if (constantAxes) {
    for (size_t k = 0; k < count; ++k) {
      int64_t axis = constantAxes->empty() ? k : (*constantAxes)[k];
      axes.push_back(index(axis < 0 ? axis + rank : axis));
    }
  } else {
    axes = readRuntimeAxes(rewriter, loc, axesInput, rank);
  }
  for (size_t k = 0; k < count; ++k) {
    if (constantSteps) {
      steps.push_back(
          index(constantSteps->empty() ? 1 : (*constantSteps)[k]));
      continue;
    }
    Value element =
        tensor::ExtractOp::create(rewriter, loc, stepsInput, index(k));
    steps.push_back(arith::IndexCastOp::create(rewriter, loc,
                                               rewriter.getIndexType(), element)
                        .getResult());
  }

  SmallVector<OpFoldResult> offsets, sizes, strides;
  Value zero = index(0), one = index(1);
  for (int64_t dim = 0; dim < rank; ++dim) {
    Value dimSize = math.value(tensor::getMixedSize(rewriter, loc, input, dim));
    Value position = index(dim);
    Value start = zero, end = dimSize, step = one;
    for (size_t k = 0; k < count; ++k) {
      Value here = cmp(Pred::eq, axes[k], position);
      start = select(here, math.value(starts.get(rewriter, loc, k)), start);
      end = select(here, math.value(ends.get(rewriter, loc, k)), end);
      step = select(here, steps[k], step);
    }
    // Clamp into [0, size] going forwards, [-1, size - 1] backwards.
    Value forwards = cmp(Pred::sgt, step, zero);
    Value low = select(forwards, zero, index(-1));
    Value high =
        select(forwards, dimSize, arith::SubIOp::create(rewriter, loc, dimSize, one));
    auto clamp = [&](Value bound) {
      Value wrapped = arith::MaxSIOp::create(
          rewriter, loc, low,
          arith::AddIOp::create(rewriter, loc, dimSize, bound));
      Value capped = arith::MinSIOp::create(rewriter, loc, bound, high);
      return select(cmp(Pred::slt, bound, zero), wrapped, capped);
    };
    Value first = clamp(start), last = clamp(end);
    Value span = select(forwards,
                        arith::SubIOp::create(rewriter, loc, last, first),
                        arith::SubIOp::create(rewriter, loc, first, last));
    Value magnitude = select(forwards, step,
                             arith::SubIOp::create(rewriter, loc, zero, step));
    Value size = arith::MaxSIOp::create(
        rewriter, loc, zero,
        arith::CeilDivSIOp::create(rewriter, loc, span, magnitude));
    offsets.push_back(first);
    sizes.push_back(size);
    strides.push_back(step);
  }
  Value result =
      hasZeroSize(input)
          ? createEmpty(rewriter, loc, sizes, inputType.getElementType())
          : buildStridedGather(rewriter, loc, input, offsets, sizes, strides);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Slice with constant axes and steps and constant or run-time starts and
/// ends: bounds are clamped as ONNX specifies (negative ones count from the
/// end, INT64_MAX means the end); positive steps give a
/// tensor.extract_slice, a negative step a generic reading backwards.
/// Axes or steps read at run time take lowerRuntimeSlice.
static LogicalResult lowerSlice(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter, bool fromInputs) {
  if (failed(
          checkArity(node, rewriter, fromInputs ? 3 : 1, fromInputs ? 5 : 1)))
    return failure();
  Value input = node.getInputs()[0];
  auto inputType = getRankedType(input);
  int64_t rank = inputType.getRank();
  std::optional<IntList> starts =
      getIntList(node, fromInputs, 1, "starts", /*allowRuntime=*/true);
  std::optional<IntList> ends =
      getIntList(node, fromInputs, 2, "ends", /*allowRuntime=*/true);
  std::optional<SmallVector<int64_t>> axes =
      getIntsOperand(node, fromInputs, 3, "axes");
  std::optional<SmallVector<int64_t>> steps =
      fromInputs ? getIntsOperand(node, true, 4, "") : SmallVector<int64_t>();
  if (starts && ends && fromInputs && (!axes || !steps))
    return lowerRuntimeSlice(node, rewriter, *starts, *ends);
  if (!starts || !ends || !axes || !steps)
    return rewriter.notifyMatchFailure(
        node, "axes and steps must be constants, starts and ends constants "
              "or 1-D tensors of static length");
  size_t count = starts->length;
  if (axes->empty())
    for (size_t i = 0; i < count; ++i)
      axes->push_back(i);
  if (steps->empty())
    steps->assign(count, 1);
  if (ends->length != count || axes->size() != count || steps->size() != count)
    return rewriter.notifyMatchFailure(node,
                                       "slice parameters differ in length");

  // Per sliced dimension: its position in starts/ends, and its step.
  SmallVector<std::optional<std::pair<size_t, int64_t>>> bounds(rank);
  for (size_t i = 0; i < count; ++i) {
    std::optional<int64_t> axis = normalizeAxis((*axes)[i], rank);
    if (!axis || bounds[*axis])
      return rewriter.notifyMatchFailure(node, "axes out of range or repeated");
    // Step 0 is invalid; INT64_MIN has no positive counterpart.
    if ((*steps)[i] == 0 || (*steps)[i] == std::numeric_limits<int64_t>::min())
      return rewriter.notifyMatchFailure(node, "step 0 or INT64_MIN");
    bounds[*axis] = std::make_pair(i, (*steps)[i]);
  }

  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  SmallVector<OpFoldResult> offsets, sizes, strides;
  bool backwards = false;
  for (int64_t dim = 0; dim < rank; ++dim) {
    OpFoldResult dimSize = tensor::getMixedSize(rewriter, loc, input, dim);
    if (!bounds[dim]) {
      offsets.push_back(rewriter.getIndexAttr(0));
      sizes.push_back(dimSize);
      strides.push_back(rewriter.getIndexAttr(1));
      continue;
    }
    // Named copies: the lambdas below capture step (C++17 cannot capture
    // structured bindings).
    size_t position = bounds[dim]->first;
    int64_t step = bounds[dim]->second;
    // Clamp into [0, size] going forwards, [-1, size - 1] backwards.
    OpFoldResult low = rewriter.getIndexAttr(step > 0 ? 0 : -1);
    OpFoldResult high =
        step > 0 ? dimSize : math.sub(dimSize, rewriter.getIndexAttr(1));
    auto clampBound = [&](OpFoldResult bound) -> OpFoldResult {
      auto wrapped = [&] { return math.max(low, math.add(dimSize, bound)); };
      auto capped = [&] { return math.min(bound, high); };
      if (std::optional<int64_t> known = getConstantIntValue(bound)) {
        // Sizes are never negative: a forward slice from 0 starts at 0.
        if (*known == 0 && step > 0)
          return bound;
        return *known < 0 ? wrapped() : capped();
      }
      // A bound read at run time: its sign picks the clamp.
      Value negative = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::slt, math.value(bound),
          math.value(rewriter.getIndexAttr(0)));
      return arith::SelectOp::create(rewriter, loc, negative,
                                     math.value(wrapped()),
                                     math.value(capped()))
          .getResult();
    };
    OpFoldResult first = clampBound(starts->get(rewriter, loc, position));
    OpFoldResult last = clampBound(ends->get(rewriter, loc, position));
    OpFoldResult span =
        step > 0 ? math.sub(last, first) : math.sub(first, last);
    OpFoldResult size =
        math.max(rewriter.getIndexAttr(0),
                 math.ceilDiv(span, rewriter.getIndexAttr(std::abs(step))));
    offsets.push_back(first);
    sizes.push_back(size);
    strides.push_back(rewriter.getIndexAttr(step));
    backwards |= step < 0;
  }

  Value result;
  if (hasZeroSize(input)) {
    // Nothing to read (and extract_slice rejects offsets into a zero size).
    result = createEmpty(rewriter, loc, sizes, inputType.getElementType());
  } else if (!backwards) {
    result = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets,
                                            sizes, strides);
  } else {
    // Element i of each dimension reads offset + i * stride.
    result = buildStridedGather(rewriter, loc, input, offsets, sizes, strides);
  }
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Expand, ConstantOfShape, Range
//===----------------------------------------------------------------------===//

/// The size a 1-D i64 shape tensor holds at `index`, as an index.
static OpFoldResult getShapeElement(OpBuilder &b, Location loc, Value shape,
                                    ArrayRef<int64_t> constant, int64_t index) {
  if (!constant.empty())
    return b.getIndexAttr(constant[index]);
  Value position = arith::ConstantIndexOp::create(b, loc, index);
  Value element = tensor::ExtractOp::create(b, loc, shape, position);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), element)
      .getResult();
}

/// Expand -> a broadcasting copy to the broadcast of the input's shape and
/// `shape` (which may be computed at run time).
static LogicalResult lowerExpand(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 2, 2)))
    return failure();
  Value input = node.getInputs()[0];
  Value shape = node.getInputs()[1];
  auto inputType = getRankedType(input);
  auto shapeType = getRankedType(shape);
  if (shapeType.getRank() != 1 || !shapeType.hasStaticShape() ||
      !shapeType.getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(node,
                                       "shape is not a 1-D i64 static tensor");
  int64_t length = shapeType.getDimSize(0);
  auto resultType =
      getResultType(node, 0, std::max(length, inputType.getRank()));
  int64_t rank = resultType.getRank();
  if (rank != std::max(length, inputType.getRank()) ||
      resultType.getElementType() != inputType.getElementType())
    return rewriter.notifyMatchFailure(node, "unexpected result type");
  SmallVector<int64_t> constant;
  if (std::optional<SmallVector<int64_t>> values = getConstantInts(shape))
    constant = *values;
  if (std::optional<std::string> reason =
          getBroadcastFailure(input, resultType))
    return rewriter.notifyMatchFailure(node, *reason);

  Location loc = node.getLoc();
  IndexMath math{rewriter, loc};
  SmallVector<OpFoldResult> inputSizes =
      tensor::getMixedSizes(rewriter, loc, input);
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim = 0; dim < rank; ++dim) {
    int64_t known = resultType.getDimSize(dim);
    int64_t inputDim = dim - (rank - inputType.getRank());
    int64_t shapeDim = dim - (rank - length);
    std::optional<int64_t> inputSize =
        inputDim >= 0 ? std::optional(inputType.getDimSize(inputDim))
                      : std::nullopt;
    if (!ShapedType::isDynamic(known)) {
      sizes.push_back(rewriter.getIndexAttr(known));
    } else if (inputSize && !ShapedType::isDynamic(*inputSize) &&
               *inputSize != 1) {
      sizes.push_back(rewriter.getIndexAttr(*inputSize));
    } else if (shapeDim < 0) {
      sizes.push_back(inputSizes[inputDim]);
    } else {
      OpFoldResult requested =
          getShapeElement(rewriter, loc, shape, constant, shapeDim);
      // Either size may be the 1 that the other stretches.
      sizes.push_back(inputSize ? math.max(inputSizes[inputDim], requested)
                                : requested);
    }
  }
  Value result = buildBroadcastGeneric(
      rewriter, loc, input, sizes, inputType.getElementType(),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// ConstantOfShape -> linalg.fill of a tensor of the given (possibly run
/// time) shape.
static LogicalResult lowerConstantOfShape(tvc_onnx::NodeOp node,
                                          PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 1, 1)))
    return failure();
  Value shape = node.getInputs()[0];
  auto shapeType = getRankedType(shape);
  if (shapeType.getRank() != 1)
    return rewriter.notifyMatchFailure(node, "shape is not 1-D");
  auto resultType = getResultType(node, 0, shapeType.getDimSize(0));
  if (shapeType.getDimSize(0) != resultType.getRank())
    return rewriter.notifyMatchFailure(node, "shape length is not the rank");
  TypedAttr value = rewriter.getF32FloatAttr(0.0);
  if (Attribute attr = node.getAttrs().get("value")) {
    auto elements = dyn_cast<DenseElementsAttr>(attr);
    if (!elements || elements.getNumElements() != 1)
      return rewriter.notifyMatchFailure(node, "value is not one element");
    value = cast<TypedAttr>(*elements.getValues<Attribute>().begin());
  }
  if (value.getType() != resultType.getElementType() ||
      !isSupportedElementType(value.getType()))
    return rewriter.notifyMatchFailure(node, "value type is not the result's");
  SmallVector<int64_t> constant;
  if (std::optional<SmallVector<int64_t>> values = getConstantInts(shape))
    constant = *values;
  Location loc = node.getLoc();
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim = 0; dim < resultType.getRank(); ++dim) {
    int64_t known = resultType.getDimSize(dim);
    sizes.push_back(ShapedType::isDynamic(known)
                        ? getShapeElement(rewriter, loc, shape, constant, dim)
                        : rewriter.getIndexAttr(known));
  }
  replaceNodeWithCasts(node, rewriter,
                       createFilled(rewriter, loc, sizes, value));
  return success();
}

/// Range -> a generic writing `start + i * delta` for
/// `i < max(ceil((limit - start) / delta), 0)`.
static LogicalResult lowerRange(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 3, 3)))
    return failure();
  auto resultType = getResultType(node, 0, 1);
  Type element = resultType.getElementType();
  if (resultType.getRank() != 1 || !isSupportedElementType(element) ||
      element.isInteger(1))
    return rewriter.notifyMatchFailure(node, "result is not a 1-D numeric "
                                             "tensor");
  for (Value input : node.getInputs())
    if (!isScalarTensor(input) ||
        getRankedType(input).getElementType() != element)
      return rewriter.notifyMatchFailure(node, "inputs are not scalars of the "
                                               "result's type");
  Location loc = node.getLoc();
  bool isFloat = isa<FloatType>(element);
  Value start = extractScalar(rewriter, loc, node.getInputs()[0]);
  Value limit = extractScalar(rewriter, loc, node.getInputs()[1]);
  Value delta = extractScalar(rewriter, loc, node.getInputs()[2]);

  Value count;
  Type i64 = rewriter.getI64Type();
  if (isFloat) {
    Value quotient = arith::DivFOp::create(
        rewriter, loc, arith::SubFOp::create(rewriter, loc, limit, start),
        delta);
    Value rounded = arith::FPToSIOp::create(
        rewriter, loc, i64, math::CeilOp::create(rewriter, loc, quotient));
    count = rounded;
  } else {
    Value span = arith::SubIOp::create(rewriter, loc, limit, start);
    count = convertScalar(
        rewriter, loc, arith::CeilDivSIOp::create(rewriter, loc, span, delta),
        i64);
  }
  Value zero =
      arith::ConstantOp::create(rewriter, loc, rewriter.getI64IntegerAttr(0));
  count = arith::MaxSIOp::create(rewriter, loc, count, zero);
  Value size =
      arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), count);

  MLIRContext *context = rewriter.getContext();
  Value init = createEmpty(rewriter, loc, OpFoldResult(size), element);
  Value result =
      linalg::GenericOp::create(
          rewriter, loc, init.getType(), ValueRange{}, init,
          ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(1, context)},
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &b, Location bodyLoc, ValueRange) {
            Value i = arith::IndexCastOp::create(
                b, bodyLoc, b.getI64Type(),
                linalg::IndexOp::create(b, bodyLoc, 0));
            Value step = convertScalar(b, bodyLoc, i, element);
            Value value;
            if (isFloat)
              value = arith::AddFOp::create(
                  b, bodyLoc, start,
                  arith::MulFOp::create(b, bodyLoc, step, delta));
            else
              value = arith::AddIOp::create(
                  b, bodyLoc, start,
                  arith::MulIOp::create(b, bodyLoc, step, delta));
            linalg::YieldOp::create(b, bodyLoc, value);
          })
          .getResult(0);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

/// An index read from an integer id: negative ids count from the end of a
/// dimension of size `dimSize`; the result is clamped into the dimension
/// (ids outside it are invalid ONNX, and clamping keeps the generated code
/// from reading outside the buffer).
static Value normalizeIndex(OpBuilder &b, Location loc, Value id,
                            Value dimSize) {
  Value index = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  Value wrapped = arith::AddIOp::create(b, loc, index, dimSize);
  index = arith::SelectOp::create(b, loc, negative, wrapped, index);
  Value last = arith::SubIOp::create(b, loc, dimSize, one);
  index = arith::MaxSIOp::create(b, loc, index, zero);
  return arith::MinSIOp::create(b, loc, index, last);
}

/// Gather along `axis`: a scalar index into a 1-D tensor (Shape -> Gather)
/// is one tensor.extract; otherwise a generic over the result reads each
/// index and extracts the element it selects.
static LogicalResult lowerGather(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (failed(checkArity(node, rewriter, 2, 2)))
    return failure();
  Value data = node.getInputs()[0];
  Value indices = node.getInputs()[1];
  auto dataType = getRankedType(data);
  auto indicesType = getRankedType(indices);
  int64_t rank = dataType.getRank();
  int64_t indexRank = indicesType.getRank();
  auto resultType = getResultType(node, 0, rank - 1 + indexRank);
  std::optional<int64_t> axis =
      normalizeAxis(getIntAttr(node, "axis", 0), rank);
  if (!axis)
    return rewriter.notifyMatchFailure(node, "axis out of range");
  if (!indicesType.getElementType().isSignlessInteger() ||
      indicesType.getElementType().isInteger(1))
    return rewriter.notifyMatchFailure(node, "indices are not integers");
  if (resultType.getRank() != rank - 1 + indexRank ||
      resultType.getElementType() != dataType.getElementType())
    return rewriter.notifyMatchFailure(node, "unexpected result type");

  Location loc = node.getLoc();
  // A constant in-range index needs no wrapping or clamping (and the
  // extract then folds through the Shape it reads).
  int64_t dimSize = dataType.getDimSize(*axis);
  std::optional<SmallVector<int64_t>> constant = getConstantInts(indices);
  if (rank == 1 && indexRank == 0 && constant) {
    int64_t index = (*constant)[0];
    if (!ShapedType::isDynamic(dimSize)) {
      if (index < -dimSize || index >= dimSize)
        return rewriter.notifyMatchFailure(node, "index out of range");
      if (index < 0)
        index += dimSize;
    }
    Value position;
    if (index >= 0) {
      position = arith::ConstantIndexOp::create(rewriter, loc, index);
    } else {
      IndexMath math{rewriter, loc};
      position =
          math.value(math.add(tensor::getMixedSize(rewriter, loc, data, 0),
                              rewriter.getIndexAttr(index)));
    }
    Value element = tensor::ExtractOp::create(rewriter, loc, data, position);
    Value result = tensor::FromElementsOp::create(
        rewriter, loc, RankedTensorType::get({}, dataType.getElementType()),
        element);
    replaceNodeWithCasts(node, rewriter, result);
    return success();
  }

  // Result dims: data[:axis], indices[...], data[axis + 1:].
  MLIRContext *context = rewriter.getContext();
  SmallVector<OpFoldResult> dataSizes =
      tensor::getMixedSizes(rewriter, loc, data);
  SmallVector<OpFoldResult> indexSizes =
      tensor::getMixedSizes(rewriter, loc, indices);
  SmallVector<OpFoldResult> sizes(ArrayRef(dataSizes).take_front(*axis));
  llvm::append_range(sizes, indexSizes);
  llvm::append_range(sizes, ArrayRef(dataSizes).drop_front(*axis + 1));
  refineSizes(rewriter, sizes, resultType);
  int64_t resultRank = sizes.size();
  SmallVector<AffineExpr> indexExprs;
  for (int64_t dim = 0; dim < indexRank; ++dim)
    indexExprs.push_back(getAffineDimExpr(*axis + dim, context));
  SmallVector<AffineMap> maps{
      AffineMap::get(resultRank, 0, indexExprs, context),
      AffineMap::getMultiDimIdentityMap(resultRank, context)};
  Value axisSize = IndexMath{rewriter, loc}.value(dataSizes[*axis]);
  Value init = createEmpty(rewriter, loc, sizes, dataType.getElementType());
  Value result =
      linalg::GenericOp::create(
          rewriter, loc, init.getType(), indices, init, maps,
          SmallVector<utils::IteratorType>(resultRank,
                                           utils::IteratorType::parallel),
          [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
            SmallVector<Value> position;
            for (int64_t dim = 0; dim < *axis; ++dim)
              position.push_back(linalg::IndexOp::create(b, bodyLoc, dim));
            position.push_back(normalizeIndex(b, bodyLoc, args[0], axisSize));
            for (int64_t dim = *axis + 1; dim < rank; ++dim)
              position.push_back(
                  linalg::IndexOp::create(b, bodyLoc, dim - 1 + indexRank));
            Value element =
                tensor::ExtractOp::create(b, bodyLoc, data, position);
            linalg::YieldOp::create(b, bodyLoc, element);
          })
          .getResult(0);
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void mlir::tvc::registerOnnxShapeToLinalgHandlers(OnnxHandlerTable &table) {
  table.onOp("Constant", 1,
             "arith.constant of value (or value_float(s), "
             "value_int(s))",
             lowerConstant);
  table.onOp("Identity", 1, "its input", lowerIdentity);
  table.onOp("Cast", 6,
             "elementwise conversion (f16/bf16/f32/f64, "
             "i8-i64, bool)",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerCast(node, rewriter, /*like=*/false);
             });
  table.onOp("CastLike", 15, "Cast to the second input's element type",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerCast(node, rewriter, /*like=*/true);
             });
  table.onOp("Shape", 1,
             "tensor.from_elements of the sizes (start/end of "
             "opset 15)",
             lowerShape);
  table.onOp("Reshape", 5,
             "collapse_shape + expand_shape; constant shape "
             "with 0, -1 and allowzero",
             lowerReshape);
  table.onOp("Flatten", 1, "2-D reshape at axis", lowerFlatten);
  table.onOp("Size", 1, "product of the sizes", lowerSize);
  table.onOp("Unsqueeze", 1, "expand_shape; axes attribute",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerUnsqueeze(node, rewriter, /*axesFromInput=*/false);
             });
  table.onOp("Unsqueeze", 13,
             "expand_shape; constant axes input (a reshape when read at run "
             "time)",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerUnsqueeze(node, rewriter, /*axesFromInput=*/true);
             });
  table.onOp("Squeeze", 1, "collapse_shape; axes attribute",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSqueeze(node, rewriter, /*axesFromInput=*/false);
             });
  table.onOp("Squeeze", 13,
             "collapse_shape; constant axes input (a reshape when read at "
             "run time)",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSqueeze(node, rewriter, /*axesFromInput=*/true);
             });
  table.onOp("Transpose", 1, "linalg.transpose", lowerTranspose);
  table.onOp("Concat", 4, "tensor.insert_slice per input", lowerConcat);
  table.onOp("Split", 2, "tensor.extract_slice per output; split attribute",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSplit(node, rewriter, /*splitFromInput=*/false);
             });
  table.onOp("Split", 13, "tensor.extract_slice per output; split input",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSplit(node, rewriter, /*splitFromInput=*/true);
             });
  table.onOp("Slice", 1, "tensor.extract_slice; attributes",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSlice(node, rewriter, /*fromInputs=*/false);
             });
  table.onOp("Slice", 10,
             "tensor.extract_slice (generic for negative "
             "steps); constant inputs (a strided gather when axes or steps "
             "are read at run time)",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerSlice(node, rewriter, /*fromInputs=*/true);
             });
  table.onOp("Expand", 8, "broadcasting generic", lowerExpand);
  table.onOp("Gather", 1,
             "tensor.extract, or a generic of tensor.extract "
             "(negative indices wrap)",
             lowerGather);
  table.onOp("Range", 11, "generic of start + i * delta", lowerRange);
  table.onOp("ConstantOfShape", 9, "linalg.fill", lowerConstantOfShape);
}
