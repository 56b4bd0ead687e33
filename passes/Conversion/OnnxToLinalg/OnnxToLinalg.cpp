//===- OnnxToLinalg.cpp - convert-onnx-to-linalg --------------------------===//
//
// The pass lowering the ONNX nodes that stay generic after import to linalg
// on tensors, the pattern dispatching each node to its handler, and the
// helpers the op families share.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"
#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTONNXTOLINALG
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Handler table
//===----------------------------------------------------------------------===//

void mlir::tvc::registerAllOnnxToLinalgHandlers(OnnxHandlerTable &table) {
  registerOnnxElementwiseToLinalgHandlers(table);
  registerOnnxShapeToLinalgHandlers(table);
  registerOnnxReductionToLinalgHandlers(table);
  registerOnnxMatmulToLinalgHandlers(table);
}

const OnnxHandlerTable &mlir::tvc::getOnnxToLinalgHandlerTable() {
  static const OnnxHandlerTable table = [] {
    OnnxHandlerTable table;
    registerAllOnnxToLinalgHandlers(table);
    return table;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// Operands and attributes
//===----------------------------------------------------------------------===//

Value mlir::tvc::getOptionalInput(tvc_onnx::NodeOp node, unsigned index) {
  if (index >= node.getInputs().size())
    return {};
  Value input = node.getInputs()[index];
  if (isa<NoneType>(input.getType()))
    return {};
  return input;
}

RankedTensorType mlir::tvc::getRankedType(Value value) {
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

RankedTensorType mlir::tvc::getResultType(tvc_onnx::NodeOp node, unsigned index,
                                          int64_t rank) {
  auto type = dyn_cast<TensorType>(node.getResult(index).getType());
  if (!type)
    return {};
  if (auto ranked = dyn_cast<RankedTensorType>(type))
    return ranked;
  return RankedTensorType::get(SmallVector<int64_t>(rank, ShapedType::kDynamic),
                               type.getElementType());
}

bool mlir::tvc::isSupportedElementType(Type type) {
  return isa<FloatType>(type) || type.isSignlessInteger();
}

std::optional<SmallVector<int64_t>>
mlir::tvc::getIntsAttr(tvc_onnx::NodeOp node, StringRef name) {
  auto array = dyn_cast_or_null<ArrayAttr>(node.getAttrs().get(name));
  if (!array)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (Attribute element : array) {
    auto integer = dyn_cast<IntegerAttr>(element);
    if (!integer)
      return std::nullopt;
    values.push_back(integer.getInt());
  }
  return values;
}

/// A dense attribute of `values` (one per element of `elementType`) shaped
/// as `type` when it has as many elements, else as a 1-D or 0-D tensor.
template <typename T>
static ElementsAttr makeElements(RankedTensorType type, Type elementType,
                                 ArrayRef<T> values, bool scalar) {
  SmallVector<int64_t> shape;
  if (!scalar)
    shape.push_back(values.size());
  auto attrType = RankedTensorType::get(shape, elementType);
  if (type && type.hasStaticShape() &&
      type.getNumElements() == static_cast<int64_t>(values.size()) &&
      type.getElementType() == elementType)
    attrType = type;
  return DenseElementsAttr::get(attrType, values);
}

ElementsAttr mlir::tvc::getConstantNodeValue(tvc_onnx::NodeOp node) {
  if (node.getNumResults() != 1)
    return {};
  auto type = dyn_cast<RankedTensorType>(node.getResult(0).getType());
  DictionaryAttr attrs = node.getAttrs();
  if (auto value = dyn_cast_or_null<ElementsAttr>(attrs.get("value"))) {
    auto dense = dyn_cast<DenseElementsAttr>(value);
    // Shape inference may have given the result a shape of the same size
    // (a 1-element list read as a scalar): keep the result's shape.
    if (dense && type && type.hasStaticShape() && dense.getType() != type &&
        type.getElementType() == dense.getElementType() &&
        type.getNumElements() == dense.getNumElements())
      return dense.reshape(type);
    return value;
  }
  Builder builder(node.getContext());
  if (auto value = dyn_cast_or_null<FloatAttr>(attrs.get("value_float")))
    return makeElements<float>(type, builder.getF32Type(),
                               {static_cast<float>(value.getValueAsDouble())},
                               /*scalar=*/true);
  if (auto value = dyn_cast_or_null<IntegerAttr>(attrs.get("value_int")))
    return makeElements<int64_t>(type, builder.getI64Type(), {value.getInt()},
                                 /*scalar=*/true);
  if (std::optional<SmallVector<int64_t>> values =
          getIntsAttr(node, "value_ints"))
    return makeElements<int64_t>(type, builder.getI64Type(), *values,
                                 /*scalar=*/false);
  if (auto array = dyn_cast_or_null<ArrayAttr>(attrs.get("value_floats"))) {
    SmallVector<float> values;
    for (Attribute element : array) {
      auto value = dyn_cast<FloatAttr>(element);
      if (!value)
        return {};
      values.push_back(static_cast<float>(value.getValueAsDouble()));
    }
    return makeElements<float>(type, builder.getF32Type(), values,
                               /*scalar=*/false);
  }
  return {};
}

ElementsAttr mlir::tvc::getConstantElements(Value value) {
  if (!value)
    return {};
  ElementsAttr elements;
  if (matchPattern(value, m_Constant(&elements)))
    return elements;
  if (tvc_onnx::NodeOp node = getDefiningNode(value, "Constant"))
    return getConstantNodeValue(node);
  return {};
}

std::optional<SmallVector<int64_t>> mlir::tvc::getConstantInts(Value value) {
  auto elements =
      dyn_cast_or_null<DenseElementsAttr>(getConstantElements(value));
  if (!elements || !elements.getElementType().isSignlessInteger())
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &element : elements.getValues<APInt>())
    values.push_back(element.getSExtValue());
  return values;
}

std::optional<int64_t> mlir::tvc::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::optional<SmallVector<int64_t>>
mlir::tvc::getAxes(tvc_onnx::NodeOp node, bool fromInput, unsigned index,
                   StringRef name, int64_t rank) {
  std::optional<SmallVector<int64_t>> raw;
  if (fromInput) {
    Value input = getOptionalInput(node, index);
    if (!input)
      return SmallVector<int64_t>();
    raw = getConstantInts(input);
  } else {
    if (!node.getAttrs().get(name))
      return SmallVector<int64_t>();
    raw = getIntsAttr(node, name);
  }
  if (!raw)
    return std::nullopt;
  SmallVector<int64_t> axes;
  for (int64_t axis : *raw) {
    std::optional<int64_t> normalized = normalizeAxis(axis, rank);
    if (!normalized)
      return std::nullopt;
    axes.push_back(*normalized);
  }
  llvm::sort(axes);
  // ONNX forbids repeated axes; a model that repeats one is malformed.
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return std::nullopt;
  return axes;
}

bool mlir::tvc::isRuntimeAxes(Value axes) {
  RankedTensorType type = getRankedType(axes);
  return type && type.getRank() == 1 && !type.isDynamicDim(0) &&
         type.getElementType().isSignlessInteger() &&
         !type.getElementType().isInteger(1) && !getConstantElements(axes);
}

SmallVector<Value> mlir::tvc::readRuntimeAxes(OpBuilder &builder, Location loc,
                                              Value axes, int64_t rank) {
  auto type = cast<RankedTensorType>(axes.getType());
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value rankValue = arith::ConstantIndexOp::create(builder, loc, rank);
  SmallVector<Value> values;
  for (int64_t k = 0; k < type.getDimSize(0); ++k) {
    Value position = arith::ConstantIndexOp::create(builder, loc, k);
    Value element = tensor::ExtractOp::create(builder, loc, axes, position);
    Value axis = arith::IndexCastOp::create(builder, loc,
                                            builder.getIndexType(), element);
    Value negative = arith::CmpIOp::create(
        builder, loc, arith::CmpIPredicate::slt, axis, zero);
    values.push_back(arith::SelectOp::create(
        builder, loc, negative,
        arith::AddIOp::create(builder, loc, axis, rankValue), axis));
  }
  return values;
}

SmallVector<Value> mlir::tvc::getSizesWithoutDropped(
    OpBuilder &builder, Location loc, ArrayRef<Value> sizes,
    ArrayRef<Value> dropped, int64_t resultRank) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value yes = arith::ConstantIntOp::create(builder, loc, 1, 1);
  // Each input dimension's output position: how many before it are kept.
  SmallVector<Value> positions;
  Value count = zero;
  for (Value isDropped : dropped) {
    positions.push_back(count);
    count = arith::AddIOp::create(
        builder, loc, count,
        arith::SelectOp::create(builder, loc, isDropped, zero, one));
  }
  SmallVector<Value> result;
  for (int64_t out = 0; out < resultRank; ++out) {
    Value target = arith::ConstantIndexOp::create(builder, loc, out);
    Value size = one;
    for (auto [dim, isDropped] : llvm::enumerate(dropped)) {
      Value here = arith::AndIOp::create(
          builder, loc,
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                positions[dim], target),
          arith::XOrIOp::create(builder, loc, isDropped, yes));
      size = arith::SelectOp::create(builder, loc, here, sizes[dim], size);
    }
    result.push_back(size);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

Value mlir::tvc::castTo(OpBuilder &builder, Location loc, Value value,
                        Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(builder, loc, type, value);
}

void mlir::tvc::replaceNodeWithCasts(tvc_onnx::NodeOp node,
                                     PatternRewriter &rewriter,
                                     ValueRange replacements) {
  for (auto [result, replacement] :
       llvm::zip_equal(node.getResults(), replacements)) {
    Value cast;
    for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
      if (isa<tvc_onnx::NodeOp>(use.getOwner()) ||
          result.getType() == replacement.getType()) {
        Value direct = replacement;
        rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(direct); });
        continue;
      }
      if (!cast)
        cast = castTo(rewriter, node.getLoc(), replacement, result.getType());
      rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(cast); });
    }
  }
  rewriter.eraseOp(node);
}

Value mlir::tvc::createEmpty(OpBuilder &builder, Location loc,
                             ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(builder, loc, sizes, elementType);
}

Value mlir::tvc::createFilled(OpBuilder &builder, Location loc,
                              ArrayRef<OpFoldResult> sizes, TypedAttr value) {
  Value empty = createEmpty(builder, loc, sizes, value.getType());
  Value scalar = arith::ConstantOp::create(builder, loc, value);
  return linalg::FillOp::create(builder, loc, scalar, empty).getResult(0);
}

Value mlir::tvc::convertScalar(OpBuilder &builder, Location loc, Value value,
                               Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  if (to.isInteger(1)) {
    // ONNX: any nonzero value (NaN included) is true.
    if (isa<FloatType>(from)) {
      Value zero = arith::ConstantOp::create(builder, loc,
                                             builder.getFloatAttr(from, 0.0));
      return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNE,
                                   value, zero);
    }
    Value zero = arith::ConstantOp::create(builder, loc,
                                           builder.getIntegerAttr(from, 0));
    return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ne, value,
                                 zero);
  }
  if (auto fromFloat = dyn_cast<FloatType>(from)) {
    if (auto toFloat = dyn_cast<FloatType>(to)) {
      // f16 and bf16 have one width but no direct conversion.
      if (fromFloat.getWidth() == toFloat.getWidth()) {
        value =
            arith::ExtFOp::create(builder, loc, builder.getF32Type(), value);
        return arith::TruncFOp::create(builder, loc, to, value);
      }
      if (fromFloat.getWidth() < toFloat.getWidth())
        return arith::ExtFOp::create(builder, loc, to, value);
      return arith::TruncFOp::create(builder, loc, to, value);
    }
    return arith::FPToSIOp::create(builder, loc, to, value);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  if (isa<FloatType>(to)) {
    if (fromWidth == 1)
      return arith::UIToFPOp::create(builder, loc, to, value);
    return arith::SIToFPOp::create(builder, loc, to, value);
  }
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth == 1)
    return arith::ExtUIOp::create(builder, loc, to, value);
  if (fromWidth < toWidth)
    return arith::ExtSIOp::create(builder, loc, to, value);
  return arith::TruncIOp::create(builder, loc, to, value);
}

SmallVector<int64_t> mlir::tvc::getStaticShape(ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return shape;
}

/// Folds `fold` when both sizes are constants, else emits `OpTy`.
template <typename OpTy>
static OpFoldResult foldOrCreate(OpBuilder &builder, Location loc,
                                 OpFoldResult lhs, OpFoldResult rhs,
                                 function_ref<int64_t(int64_t, int64_t)> fold) {
  std::optional<int64_t> a = getConstantIntValue(lhs);
  std::optional<int64_t> b = getConstantIntValue(rhs);
  if (a && b)
    return builder.getIndexAttr(fold(*a, *b));
  return OpTy::create(builder, loc,
                      getValueOrCreateConstantIndexOp(builder, loc, lhs),
                      getValueOrCreateConstantIndexOp(builder, loc, rhs))
      .getResult();
}

OpFoldResult IndexMath::add(OpFoldResult lhs, OpFoldResult rhs) {
  if (isConstantIntValue(rhs, 0))
    return lhs;
  if (isConstantIntValue(lhs, 0))
    return rhs;
  return foldOrCreate<arith::AddIOp>(
      builder, loc, lhs, rhs, [](int64_t a, int64_t b) { return a + b; });
}

OpFoldResult IndexMath::sub(OpFoldResult lhs, OpFoldResult rhs) {
  if (isConstantIntValue(rhs, 0))
    return lhs;
  return foldOrCreate<arith::SubIOp>(
      builder, loc, lhs, rhs, [](int64_t a, int64_t b) { return a - b; });
}

OpFoldResult IndexMath::mul(OpFoldResult lhs, OpFoldResult rhs) {
  if (isConstantIntValue(rhs, 1))
    return lhs;
  if (isConstantIntValue(lhs, 1))
    return rhs;
  return foldOrCreate<arith::MulIOp>(
      builder, loc, lhs, rhs, [](int64_t a, int64_t b) { return a * b; });
}

OpFoldResult IndexMath::ceilDiv(OpFoldResult lhs, OpFoldResult rhs) {
  if (isConstantIntValue(rhs, 1))
    return lhs;
  return foldOrCreate<arith::CeilDivSIOp>(
      builder, loc, lhs, rhs, [](int64_t a, int64_t b) {
        int64_t quotient = a / b;
        return quotient + ((a % b != 0) && ((a < 0) == (b < 0)) ? 1 : 0);
      });
}

OpFoldResult IndexMath::div(OpFoldResult lhs, OpFoldResult rhs) {
  if (isConstantIntValue(rhs, 1))
    return lhs;
  return foldOrCreate<arith::DivSIOp>(
      builder, loc, lhs, rhs, [](int64_t a, int64_t b) { return a / b; });
}

OpFoldResult IndexMath::min(OpFoldResult lhs, OpFoldResult rhs) {
  return foldOrCreate<arith::MinSIOp>(
      builder, loc, lhs, rhs,
      [](int64_t a, int64_t b) { return std::min(a, b); });
}

OpFoldResult IndexMath::max(OpFoldResult lhs, OpFoldResult rhs) {
  return foldOrCreate<arith::MaxSIOp>(
      builder, loc, lhs, rhs,
      [](int64_t a, int64_t b) { return std::max(a, b); });
}

Value IndexMath::value(OpFoldResult size) {
  return getValueOrCreateConstantIndexOp(builder, loc, size);
}

std::optional<std::string>
mlir::tvc::getBroadcastFailure(ValueRange inputs, RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  SmallVector<int64_t> known(resultType.getShape());
  for (Value input : inputs) {
    RankedTensorType type = getRankedType(input);
    if (!type)
      return std::string("expects ranked tensor operands");
    if (type.getRank() > rank)
      return llvm::formatv("operand of rank {0} exceeds the result rank {1}",
                           type.getRank(), rank)
          .str();
    int64_t offset = rank - type.getRank();
    for (auto [dim, size] : llvm::enumerate(type.getShape())) {
      if (ShapedType::isDynamic(size) || size == 1)
        continue;
      int64_t &expected = known[dim + offset];
      if (ShapedType::isDynamic(expected)) {
        expected = size;
        continue;
      }
      if (expected != size)
        return llvm::formatv("dimension {0} of size {1} does not broadcast "
                             "to {2}",
                             dim + offset, size, expected)
            .str();
    }
  }
  return std::nullopt;
}

SmallVector<OpFoldResult>
mlir::tvc::getBroadcastSizes(OpBuilder &builder, Location loc,
                             ValueRange inputs, RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> sizes;
  for (int64_t dim = 0; dim < rank; ++dim) {
    int64_t size = resultType.getDimSize(dim);
    Value dynamicSource;
    int64_t dynamicDim = 0;
    for (Value input : inputs) {
      auto type = cast<RankedTensorType>(input.getType());
      int64_t inputDim = dim - (rank - type.getRank());
      if (inputDim < 0)
        continue;
      int64_t inputSize = type.getDimSize(inputDim);
      if (ShapedType::isDynamic(inputSize)) {
        if (!dynamicSource) {
          dynamicSource = input;
          dynamicDim = inputDim;
        }
      } else if (inputSize != 1 && ShapedType::isDynamic(size)) {
        size = inputSize;
      }
    }
    if (!ShapedType::isDynamic(size))
      sizes.push_back(builder.getIndexAttr(size));
    else if (dynamicSource)
      sizes.push_back(
          tensor::DimOp::create(builder, loc, dynamicSource, dynamicDim)
              .getResult());
    else
      sizes.push_back(builder.getIndexAttr(1));
  }
  return sizes;
}

Value mlir::tvc::buildBroadcastGeneric(OpBuilder &builder, Location loc,
                                       ValueRange inputs,
                                       ArrayRef<OpFoldResult> sizes,
                                       Type elementType, ScalarBodyFn body) {
  int64_t rank = sizes.size();
  MLIRContext *context = builder.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    auto type = cast<RankedTensorType>(input.getType());
    int64_t offset = rank - type.getRank();
    SmallVector<AffineExpr> exprs;
    for (auto [dim, size] : llvm::enumerate(type.getShape())) {
      // A static unit dimension is read at index 0 whatever the loop.
      bool stretched = size == 1 && !isConstantIntValue(sizes[dim + offset], 1);
      exprs.push_back(stretched ? getAffineConstantExpr(0, context)
                                : getAffineDimExpr(dim + offset, context));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, context));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
  Value init = createEmpty(builder, loc, sizes, elementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, init.getType(), inputs, init, maps, iterators,
             [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(b, bodyLoc,
                                       body(b, bodyLoc, args.drop_back()));
             })
      .getResult(0);
}

/// The reassociation of a reshape between `rank` kept dimensions and the
/// same dimensions with unit dimensions at the sorted positions `units`
/// among `rank + units.size()`: each kept dimension groups with the unit
/// dimensions after it, the first also with those before it.
static SmallVector<ReassociationIndices>
getUnitDimReassociation(int64_t rank, ArrayRef<int64_t> units) {
  int64_t total = rank + units.size();
  SmallVector<int64_t> kept;
  for (int64_t dim = 0; dim < total; ++dim)
    if (!llvm::is_contained(units, dim))
      kept.push_back(dim);
  SmallVector<ReassociationIndices> groups;
  for (auto [i, position] : llvm::enumerate(kept)) {
    int64_t begin = i == 0 ? 0 : position;
    int64_t end = i + 1 == kept.size() ? total : kept[i + 1];
    ReassociationIndices group;
    for (int64_t dim = begin; dim < end; ++dim)
      group.push_back(dim);
    groups.push_back(group);
  }
  return groups;
}

Value mlir::tvc::insertUnitDims(OpBuilder &builder, Location loc, Value input,
                                ArrayRef<int64_t> axes) {
  if (axes.empty())
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> inputSizes =
      tensor::getMixedSizes(builder, loc, input);
  SmallVector<OpFoldResult> sizes;
  int64_t next = 0;
  for (int64_t dim = 0, e = type.getRank() + axes.size(); dim < e; ++dim)
    sizes.push_back(llvm::is_contained(axes, dim) ? builder.getIndexAttr(1)
                                                  : inputSizes[next++]);
  auto resultType =
      RankedTensorType::get(getStaticShape(sizes), type.getElementType());
  return tensor::ExpandShapeOp::create(
      builder, loc, resultType, input,
      getUnitDimReassociation(type.getRank(), axes), sizes);
}

Value mlir::tvc::dropUnitDims(OpBuilder &builder, Location loc, Value input,
                              ArrayRef<int64_t> axes) {
  if (axes.empty())
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  // The dropped dimensions become static units first, so that each group
  // of the collapse has the kept dimension's size.
  SmallVector<int64_t> unitShape(type.getShape());
  SmallVector<int64_t> resultShape;
  for (auto [dim, size] : llvm::enumerate(type.getShape())) {
    if (llvm::is_contained(axes, static_cast<int64_t>(dim)))
      unitShape[dim] = 1;
    else
      resultShape.push_back(size);
  }
  input = castTo(builder, loc, input,
                 RankedTensorType::get(unitShape, type.getElementType()));
  auto resultType = RankedTensorType::get(resultShape, type.getElementType());
  return tensor::CollapseShapeOp::create(
      builder, loc, resultType, input,
      getUnitDimReassociation(resultShape.size(), axes));
}

Value mlir::tvc::buildReduction(OpBuilder &builder, Location loc, Value input,
                                ArrayRef<int64_t> axes, TypedAttr init,
                                ScalarBodyFn combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  MLIRContext *context = builder.getContext();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, input);
  SmallVector<OpFoldResult> keptSizes;
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (llvm::is_contained(axes, dim)) {
      iterators.push_back(utils::IteratorType::reduction);
      continue;
    }
    iterators.push_back(utils::IteratorType::parallel);
    keptSizes.push_back(sizes[dim]);
    keptExprs.push_back(getAffineDimExpr(dim, context));
  }
  Value acc = createFilled(builder, loc, keptSizes, init);
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(rank, context),
                              AffineMap::get(rank, 0, keptExprs, context)};
  return linalg::GenericOp::create(
             builder, loc, acc.getType(), input, acc, maps, iterators,
             [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(b, bodyLoc, combine(b, bodyLoc, args));
             })
      .getResult(0);
}

TypedAttr mlir::tvc::getZeroAttr(Type type) {
  if (isa<FloatType>(type))
    return FloatAttr::get(type, 0.0);
  return IntegerAttr::get(type, 0);
}

TypedAttr mlir::tvc::getLowestAttr(Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return FloatAttr::get(type, APFloat::getInf(floatType.getFloatSemantics(),
                                                /*Negative=*/true));
  return IntegerAttr::get(
      type, APInt::getSignedMinValue(type.getIntOrFloatBitWidth()));
}

//===----------------------------------------------------------------------===//
// Pattern and pass
//===----------------------------------------------------------------------===//

namespace {

/// Lowers a default-domain node through its handler.
struct OnnxNodeToLinalgPattern : OpRewritePattern<tvc_onnx::NodeOp> {
  OnnxNodeToLinalgPattern(MLIRContext *context, const OnnxHandlerTable &table)
      : OpRewritePattern(context), table(table) {}

  LogicalResult matchAndRewrite(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) const override {
    if (!node.getDomain().empty())
      return rewriter.notifyMatchFailure(node, "not in the default domain");
    const OnnxHandler *handler =
        table.lookup(node.getDomain(), node.getOpType(), node.getVersion());
    if (!handler)
      return rewriter.notifyMatchFailure(node,
                                         "no handler for this op and opset");
    return (*handler)(node, rewriter);
  }

  const OnnxHandlerTable &table;
};

/// Records the reason of the last match failure reported to it.
struct MatchFailureRecorder : RewriterBase::Listener {
  void notifyMatchFailure(
      Location loc, function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic diag(loc, DiagnosticSeverity::Remark);
    reasonCallback(diag);
    reason = diag.str();
  }
  std::string reason;
};

/// A rewriter that only collects match failures (handlers leave the IR
/// unchanged when they fail).
struct RecordingRewriter : PatternRewriter {
  explicit RecordingRewriter(MLIRContext *context) : PatternRewriter(context) {}
};

struct ConvertOnnxToLinalgPass
    : tvc::impl::ConvertOnnxToLinalgBase<ConvertOnnxToLinalgPass> {
  using ConvertOnnxToLinalgBase::ConvertOnnxToLinalgBase;

  /// Why `node`, left generic, was not lowered: its handler is run once
  /// more to hear its match failure (the pattern driver does not keep it).
  static std::string getFailureReason(tvc_onnx::NodeOp node) {
    if (!node.getDomain().empty())
      return "not in the default domain";
    const OnnxHandler *handler = getOnnxToLinalgHandlerTable().lookup(
        node.getDomain(), node.getOpType(), node.getVersion());
    if (!handler)
      return getOnnxToLinalgHandlerTable()
                     .lookup(node.getDomain(), node.getOpType(),
                             std::numeric_limits<int64_t>::max())
                 ? "unsupported opset version (no handler this old)"
                 : "unsupported op (no handler)";
    MatchFailureRecorder recorder;
    RecordingRewriter rewriter(node.getContext());
    rewriter.setListener(&recorder);
    rewriter.setInsertionPoint(node);
    if (succeeded((*handler)(node, rewriter)))
      return "lowered only on a second try (a bug)";
    return recorder.reason.empty() ? "the handler gave no reason"
                                   : recorder.reason;
  }

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateOnnxToLinalgPatterns(patterns, getOnnxToLinalgHandlerTable());
    // The driver folds as it goes (shape arithmetic on static sizes becomes
    // constants, Shape -> Gather -> Range reads tensor.dim directly);
    // control flow is none of this pass's business.
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config))) {
      getOperation().emitError("convert-onnx-to-linalg did not converge");
      return signalPassFailure();
    }
    if (!strict)
      return;
    // One message naming every node that stayed generic.
    SmallVector<tvc_onnx::NodeOp> remaining;
    getOperation().walk(
        [&](tvc_onnx::NodeOp node) { remaining.push_back(node); });
    if (remaining.empty())
      return;
    InFlightDiagnostic diag =
        getOperation().emitError()
        << remaining.size() << " ONNX node(s) could not be lowered to linalg:";
    for (tvc_onnx::NodeOp node : remaining) {
      diag << "\n  " << node.getOpType();
      if (!node.getDomain().empty())
        diag << " (domain '" << node.getDomain() << "')";
      diag << " opset " << node.getVersion() << " '"
           << (node.getNodeName().empty() ? StringRef("<unnamed>")
                                          : node.getNodeName())
           << "': " << getFailureReason(node);
    }
    signalPassFailure();
  }
};

} // namespace

void mlir::tvc::populateOnnxToLinalgPatterns(RewritePatternSet &patterns,
                                             const OnnxHandlerTable &table) {
  patterns.add<OnnxNodeToLinalgPattern>(patterns.getContext(), table);
}
