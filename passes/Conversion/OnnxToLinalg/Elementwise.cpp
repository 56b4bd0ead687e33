//===- Elementwise.cpp - ONNX elementwise nodes to linalg -----------------===//
//
// Unary, binary, variadic and select nodes (Add ... Where), each one
// parallel linalg.generic over the node's result shape reading every input
// with ONNX's multidirectional (numpy) broadcasting. One table lists each
// op's opset, arity, the element types it accepts and its scalar formula;
// one handler serves them all. Trilu, a select on the element's position,
// is lowered the same way.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// The element types an op accepts for its data operands.
enum TypeClass : unsigned {
  kFloat = 1,
  kInt = 2,
  kBool = 4,
  kNumeric = kFloat | kInt,
  kAny = kFloat | kInt | kBool,
};

/// How the result's element type relates to the data operands'.
enum class ResultKind {
  /// The data type (Add, Exp, Where, ...).
  Same,
  /// i1 (Equal, Less, ...).
  Bool,
};

/// Builds the scalar result from the data elements (for Where, the
/// condition first), all of one data type.
using ScalarFn = Value (*)(OpBuilder &, Location, ValueRange);

/// One elementwise ONNX op.
struct ElementwiseOp {
  const char *name;
  /// The opset from which the semantics below hold (numpy broadcasting,
  /// the types accepted).
  int64_t since;
  unsigned minInputs, maxInputs;
  unsigned types;
  ResultKind result;
  ScalarFn build;
  /// Where: the first input is an i1 condition, not data.
  bool condition = false;
  /// Pow: the exponent may have its own type (converted to the base's).
  bool mixedExponent = false;
};

} // namespace

//===----------------------------------------------------------------------===//
// Scalar formulas
//===----------------------------------------------------------------------===//

static bool isFloat(Value value) { return isa<FloatType>(value.getType()); }

static Value constantLike(OpBuilder &b, Location loc, Value like,
                          double value) {
  Type type = like.getType();
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

/// `fold` applied left to right over all arguments (variadic Max, Min, Sum).
template <typename FloatOp, typename IntOp>
static Value buildFold(OpBuilder &b, Location loc, ValueRange args) {
  Value acc = args.front();
  for (Value arg : args.drop_front()) {
    if (isFloat(acc))
      acc = FloatOp::create(b, loc, acc, arg);
    else
      acc = IntOp::create(b, loc, acc, arg);
  }
  return acc;
}

template <typename FloatOp, typename IntOp>
static Value buildBinary(OpBuilder &b, Location loc, ValueRange args) {
  if (isFloat(args[0]))
    return FloatOp::create(b, loc, args[0], args[1]);
  return IntOp::create(b, loc, args[0], args[1]);
}

template <typename FloatOp>
static Value buildFloatUnary(OpBuilder &b, Location loc, ValueRange args) {
  return FloatOp::create(b, loc, args[0]);
}

template <typename IntOp>
static Value buildIntBinary(OpBuilder &b, Location loc, ValueRange args) {
  return IntOp::create(b, loc, args[0], args[1]);
}

template <arith::CmpFPredicate FloatPredicate,
          arith::CmpIPredicate IntPredicate>
static Value buildCompare(OpBuilder &b, Location loc, ValueRange args) {
  if (isFloat(args[0]))
    return arith::CmpFOp::create(b, loc, FloatPredicate, args[0], args[1]);
  return arith::CmpIOp::create(b, loc, IntPredicate, args[0], args[1]);
}

/// A base to any numeric exponent. A float base takes the exponent in its
/// type; an integer base is raised in f64 and truncated back, as ONNX's
/// reference does (`pow(x, y).astype(x.dtype)`; exact for the integer
/// powers f64 represents, i.e. below 2^53).
static Value buildPow(OpBuilder &b, Location loc, ValueRange args) {
  Type baseType = args[0].getType();
  Type computeType = isFloat(args[0]) ? baseType : b.getF64Type();
  Value base = convertScalar(b, loc, args[0], computeType);
  Value exponent = convertScalar(b, loc, args[1], computeType);
  Value power = math::PowFOp::create(b, loc, base, exponent);
  return convertScalar(b, loc, power, baseType);
}

static Value buildNeg(OpBuilder &b, Location loc, ValueRange args) {
  if (isFloat(args[0]))
    return arith::NegFOp::create(b, loc, args[0]);
  return arith::SubIOp::create(b, loc, constantLike(b, loc, args[0], 0),
                               args[0]);
}

static Value buildAbs(OpBuilder &b, Location loc, ValueRange args) {
  if (isFloat(args[0]))
    return math::AbsFOp::create(b, loc, args[0]);
  return math::AbsIOp::create(b, loc, args[0]);
}

/// `max(x, 0)`, propagating NaN.
static Value buildRelu(OpBuilder &b, Location loc, ValueRange args) {
  Value zero = constantLike(b, loc, args[0], 0);
  if (isFloat(args[0]))
    return arith::MaximumFOp::create(b, loc, args[0], zero);
  return arith::MaxSIOp::create(b, loc, args[0], zero);
}

static Value buildReciprocal(OpBuilder &b, Location loc, ValueRange args) {
  return arith::DivFOp::create(b, loc, constantLike(b, loc, args[0], 1),
                               args[0]);
}

/// `1 / (1 + exp(-x))`.
static Value buildSigmoid(OpBuilder &b, Location loc, ValueRange args) {
  Value one = constantLike(b, loc, args[0], 1);
  Value expNeg =
      math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, args[0]));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, expNeg));
}

static Value buildNot(OpBuilder &b, Location loc, ValueRange args) {
  return arith::XOrIOp::create(b, loc, args[0],
                               constantLike(b, loc, args[0], 1));
}

static Value buildWhere(OpBuilder &b, Location loc, ValueRange args) {
  return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

using CmpF = arith::CmpFPredicate;
using CmpI = arith::CmpIPredicate;

/// Integer Div rounds toward zero (as ONNX Runtime does).
static const ElementwiseOp kElementwiseOps[] = {
    {"Add", 7, 2, 2, kNumeric, ResultKind::Same,
     buildBinary<arith::AddFOp, arith::AddIOp>},
    {"Sub", 7, 2, 2, kNumeric, ResultKind::Same,
     buildBinary<arith::SubFOp, arith::SubIOp>},
    {"Mul", 7, 2, 2, kNumeric, ResultKind::Same,
     buildBinary<arith::MulFOp, arith::MulIOp>},
    {"Div", 7, 2, 2, kNumeric, ResultKind::Same,
     buildBinary<arith::DivFOp, arith::DivSIOp>},
    {"Pow", 7, 2, 2, kNumeric, ResultKind::Same, buildPow, false, true},
    {"Max", 8, 1, 64, kNumeric, ResultKind::Same,
     buildFold<arith::MaximumFOp, arith::MaxSIOp>},
    {"Min", 8, 1, 64, kNumeric, ResultKind::Same,
     buildFold<arith::MinimumFOp, arith::MinSIOp>},
    {"Sum", 8, 1, 64, kNumeric, ResultKind::Same,
     buildFold<arith::AddFOp, arith::AddIOp>},
    {"Sqrt", 6, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::SqrtOp>},
    {"Exp", 6, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::ExpOp>},
    {"Log", 6, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::LogOp>},
    {"Tanh", 6, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::TanhOp>},
    {"Erf", 9, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::ErfOp>},
    {"Sin", 7, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::SinOp>},
    {"Cos", 7, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::CosOp>},
    {"Tan", 7, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::TanOp>},
    {"Sinh", 9, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::SinhOp>},
    {"Cosh", 9, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::CoshOp>},
    {"Floor", 6, 1, 1, kFloat, ResultKind::Same,
     buildFloatUnary<math::FloorOp>},
    {"Ceil", 6, 1, 1, kFloat, ResultKind::Same, buildFloatUnary<math::CeilOp>},
    {"Neg", 6, 1, 1, kNumeric, ResultKind::Same, buildNeg},
    {"Abs", 6, 1, 1, kNumeric, ResultKind::Same, buildAbs},
    {"Reciprocal", 6, 1, 1, kFloat, ResultKind::Same, buildReciprocal},
    {"Sigmoid", 6, 1, 1, kFloat, ResultKind::Same, buildSigmoid},
    {"Relu", 6, 1, 1, kNumeric, ResultKind::Same, buildRelu},
    {"Equal", 7, 2, 2, kAny, ResultKind::Bool,
     buildCompare<CmpF::OEQ, CmpI::eq>},
    {"Less", 7, 2, 2, kNumeric, ResultKind::Bool,
     buildCompare<CmpF::OLT, CmpI::slt>},
    {"LessOrEqual", 12, 2, 2, kNumeric, ResultKind::Bool,
     buildCompare<CmpF::OLE, CmpI::sle>},
    {"Greater", 7, 2, 2, kNumeric, ResultKind::Bool,
     buildCompare<CmpF::OGT, CmpI::sgt>},
    {"GreaterOrEqual", 12, 2, 2, kNumeric, ResultKind::Bool,
     buildCompare<CmpF::OGE, CmpI::sge>},
    {"Not", 1, 1, 1, kBool, ResultKind::Same, buildNot},
    {"And", 7, 2, 2, kBool, ResultKind::Same, buildIntBinary<arith::AndIOp>},
    {"Or", 7, 2, 2, kBool, ResultKind::Same, buildIntBinary<arith::OrIOp>},
    {"Xor", 7, 2, 2, kBool, ResultKind::Same, buildIntBinary<arith::XOrIOp>},
    {"Where", 9, 3, 3, kAny, ResultKind::Same, buildWhere, true},
};

//===----------------------------------------------------------------------===//
// Handler
//===----------------------------------------------------------------------===//

/// The class of an element type.
static unsigned getTypeClass(Type type) {
  if (isa<FloatType>(type))
    return kFloat;
  if (type.isInteger(1))
    return kBool;
  return kInt;
}

/// Lowers `node` as `op`: checks arity and types, then builds one
/// broadcasting generic.
static LogicalResult lowerElementwise(const ElementwiseOp &op,
                                      tvc_onnx::NodeOp node,
                                      PatternRewriter &rewriter) {
  unsigned numInputs = node.getInputs().size();
  if (numInputs < op.minInputs || numInputs > op.maxInputs ||
      node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(
        node, llvm::formatv("expects {0} to {1} inputs and one result",
                            op.minInputs, op.maxInputs));
  int64_t rank = 0;
  for (Value input : node.getInputs()) {
    RankedTensorType type = getRankedType(input);
    if (!type)
      return rewriter.notifyMatchFailure(node, "expects ranked tensors");
    if (!isSupportedElementType(type.getElementType()))
      return rewriter.notifyMatchFailure(node, [&](Diagnostic &diag) {
        diag << "unsupported element type " << type.getElementType()
             << " (floats, signless integers and bool are computed with)";
      });
    rank = std::max(rank, type.getRank());
  }
  RankedTensorType resultType = getResultType(node, 0, rank);
  if (!resultType)
    return rewriter.notifyMatchFailure(node, "result is not a tensor");

  // The data operands share one type; Where's condition is i1; Pow's
  // exponent may differ.
  ValueRange inputs = node.getInputs();
  if (op.condition && !getRankedType(inputs[0]).getElementType().isInteger(1))
    return rewriter.notifyMatchFailure(node, "condition is not bool");
  ValueRange data = op.condition ? inputs.drop_front() : inputs;
  Type dataType = getRankedType(data[0]).getElementType();
  for (auto [i, input] : llvm::enumerate(data)) {
    Type type = getRankedType(input).getElementType();
    if (op.mixedExponent && i == 1) {
      if (!(getTypeClass(type) & kNumeric))
        return rewriter.notifyMatchFailure(node, "exponent is not numeric");
      continue;
    }
    if (type != dataType)
      return rewriter.notifyMatchFailure(node, "operand types differ");
  }
  if (!(getTypeClass(dataType) & op.types))
    return rewriter.notifyMatchFailure(node,
                                       "element type not supported by this op");
  Type resultElement =
      op.result == ResultKind::Bool ? Type(rewriter.getI1Type()) : dataType;
  if (resultType.getElementType() != resultElement)
    return rewriter.notifyMatchFailure(node,
                                       "result element type is unexpected");
  if (std::optional<std::string> reason =
          getBroadcastFailure(inputs, resultType))
    return rewriter.notifyMatchFailure(node, *reason);

  Location loc = node.getLoc();
  SmallVector<OpFoldResult> sizes =
      getBroadcastSizes(rewriter, loc, inputs, resultType);
  Value result = buildBroadcastGeneric(
      rewriter, loc, inputs, sizes, resultElement,
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        return op.build(b, bodyLoc, args);
      });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Trilu: the upper (or lower) triangle of the last two dimensions from
/// diagonal `k` (an optional scalar input, constant or read at run time),
/// zeros elsewhere.
static LogicalResult lowerTrilu(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) {
  unsigned numInputs = node.getInputs().size();
  if (numInputs < 1 || numInputs > 2 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects one or two inputs");
  Value input = node.getInputs()[0];
  RankedTensorType type = getRankedType(input);
  if (!type || type.getRank() < 2 ||
      !isSupportedElementType(type.getElementType()))
    return rewriter.notifyMatchFailure(node, "input is not a ranked matrix");
  Value k = getOptionalInput(node, 1);
  RankedTensorType kType = getRankedType(k);
  if (k && (!kType || kType.getNumElements() != 1 ||
            !kType.getElementType().isInteger(64)))
    return rewriter.notifyMatchFailure(node, "k is not one i64");
  RankedTensorType resultType = getResultType(node, 0, type.getRank());
  if (!resultType || resultType.getRank() != type.getRank() ||
      resultType.getElementType() != type.getElementType())
    return rewriter.notifyMatchFailure(node, "unexpected result type");
  bool upper = getIntAttr(node, "upper", 1) != 0;

  Location loc = node.getLoc();
  int64_t rank = type.getRank();
  Value diagonal = arith::ConstantIndexOp::create(rewriter, loc, 0);
  if (k) {
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    SmallVector<Value> indices(kType.getRank(), zero);
    Value value = tensor::ExtractOp::create(rewriter, loc, k, indices);
    diagonal = arith::IndexCastOp::create(rewriter, loc,
                                          rewriter.getIndexType(), value);
  }
  Value result = buildBroadcastGeneric(
      rewriter, loc, input, tensor::getMixedSizes(rewriter, loc, input),
      type.getElementType(),
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) -> Value {
        // Element (i, j) is kept when j - i >= k (upper) or <= k (lower).
        Value i = linalg::IndexOp::create(b, bodyLoc, rank - 2);
        Value j = linalg::IndexOp::create(b, bodyLoc, rank - 1);
        Value offset = arith::SubIOp::create(b, bodyLoc, j, i);
        Value keep = arith::CmpIOp::create(b, bodyLoc,
                                           upper ? arith::CmpIPredicate::sge
                                                 : arith::CmpIPredicate::sle,
                                           offset, diagonal);
        Value zero = arith::ConstantOp::create(
            b, bodyLoc, getZeroAttr(type.getElementType()));
        return arith::SelectOp::create(b, bodyLoc, keep, args[0], zero);
      });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Clip: `min(max(x, low), high)` with the bounds from attributes (before
/// opset 11, floats) or optional scalar inputs (constant or read at run
/// time); an absent bound does not clip.
static LogicalResult lowerClip(tvc_onnx::NodeOp node,
                               PatternRewriter &rewriter, bool fromInputs) {
  unsigned numInputs = node.getInputs().size();
  if (numInputs < 1 || numInputs > (fromInputs ? 3u : 1u) ||
      node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "unexpected number of operands");
  Value input = node.getInputs()[0];
  RankedTensorType type = getRankedType(input);
  if (!type)
    return rewriter.notifyMatchFailure(node, "expects a ranked tensor");
  Type element = type.getElementType();
  if (!isSupportedElementType(element) || element.isInteger(1) ||
      (!fromInputs && !isa<FloatType>(element)))
    return rewriter.notifyMatchFailure(node, [&](Diagnostic &diag) {
      diag << "unsupported element type " << element;
    });
  SmallVector<Value> bounds;
  SmallVector<bool> isLow;
  Location loc = node.getLoc();
  for (unsigned index : {1u, 2u}) {
    if (fromInputs) {
      Value bound = getOptionalInput(node, index);
      if (!bound)
        continue;
      RankedTensorType boundType = getRankedType(bound);
      if (!boundType || boundType.getNumElements() != 1 ||
          boundType.getElementType() != element)
        return rewriter.notifyMatchFailure(
            node, "bounds are not one element of the input's type");
      bounds.push_back(bound);
      isLow.push_back(index == 1);
      continue;
    }
    auto attr = dyn_cast_or_null<FloatAttr>(
        node.getAttrs().get(index == 1 ? "min" : "max"));
    if (!attr)
      continue;
    bounds.push_back(arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({}, element),
            ArrayRef<Attribute>{
                FloatAttr::get(element, attr.getValueAsDouble())})));
    isLow.push_back(index == 1);
  }
  RankedTensorType resultType = getResultType(node, 0, type.getRank());
  if (resultType.getRank() != type.getRank() ||
      resultType.getElementType() != element)
    return rewriter.notifyMatchFailure(node, "unexpected result type");
  // A one-element bound of any rank reads as a 0-D tensor.
  SmallVector<Value> inputs{input};
  for (Value bound : bounds) {
    auto boundType = cast<RankedTensorType>(bound.getType());
    SmallVector<int64_t> all;
    for (int64_t dim = 0; dim < boundType.getRank(); ++dim)
      all.push_back(dim);
    inputs.push_back(dropUnitDims(rewriter, loc, bound, all));
  }
  bool isFloat = isa<FloatType>(element);
  Value result = buildBroadcastGeneric(
      rewriter, loc, inputs, tensor::getMixedSizes(rewriter, loc, input),
      element, [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        Value value = args[0];
        for (auto [bound, low] : llvm::zip(args.drop_front(), isLow)) {
          if (isFloat)
            value = low ? Value(arith::MaximumFOp::create(b, bodyLoc, value,
                                                          bound))
                        : Value(arith::MinimumFOp::create(b, bodyLoc, value,
                                                          bound));
          else
            value = low ? Value(arith::MaxSIOp::create(b, bodyLoc, value,
                                                       bound))
                        : Value(arith::MinSIOp::create(b, bodyLoc, value,
                                                       bound));
        }
        return value;
      });
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

void mlir::tvc::registerOnnxElementwiseToLinalgHandlers(
    OnnxHandlerTable &table) {
  table.onOp("Clip", 6, "elementwise max/min; min and max attributes",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerClip(node, rewriter, /*fromInputs=*/false);
             });
  table.onOp("Clip", 11,
             "elementwise max/min; optional scalar min and max inputs",
             [](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return lowerClip(node, rewriter, /*fromInputs=*/true);
             });
  table.onOp("Trilu", 14, "generic keeping one triangle (k constant or not)",
             lowerTrilu);
  for (const ElementwiseOp &op : kElementwiseOps) {
    std::string what = op.maxInputs == 1
                           ? "elementwise generic"
                           : "elementwise generic with numpy broadcasting";
    table.onOp(op.name, op.since, what,
               [&op](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
                 return lowerElementwise(op, node, rewriter);
               });
  }
}
