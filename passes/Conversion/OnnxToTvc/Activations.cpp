//===- Activations.cpp - ONNX activations and elementwise ops to tvc ------===//
//
// Relu, Add of equal types (residuals), Softmax over the last axis, and
// GELU: the Gelu op (opset 20,
// com.microsoft Gelu/FastGelu) and the erf form torch exports,
// `(x * (erf(x / sqrt 2) + 1)) * 0.5`, matched at its last Mul in any
// operand order.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

/// Replaces a one-input node by `OpTy(input)` (whose type is the input's)
/// when the node's result type is that type or an unranked version of it.
template <typename OpTy, typename... Args>
static LogicalResult replaceUnary(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter, Value input,
                                  Args... args) {
  Type resultType = node.getResult(0).getType();
  if (!isRankedFloat(input) ||
      (resultType != input.getType() &&
       resultType != UnrankedTensorType::get(
                         cast<ShapedType>(input.getType()).getElementType())))
    return rewriter.notifyMatchFailure(node, "not a ranked float tensor of "
                                             "the result's type");
  Value replacement = OpTy::create(rewriter, node.getLoc(), input, args...);
  replaceNode(node, rewriter, replacement);
  return success();
}

static LogicalResult convertRelu(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (node.getInputs().size() != 1)
    return rewriter.notifyMatchFailure(node, "expects one input");
  return replaceUnary<ReluOp>(node, rewriter, node.getInputs()[0]);
}

static LogicalResult convertSoftmax(tvc_onnx::NodeOp node,
                                    PatternRewriter &rewriter) {
  if (node.getInputs().size() != 1 || !isRankedFloat(node.getInputs()[0]))
    return rewriter.notifyMatchFailure(node, "expects one ranked input");
  int64_t rank =
      cast<RankedTensorType>(node.getInputs()[0].getType()).getRank();
  int64_t axis = getIntAttr(node, "axis", -1);
  if (axis != -1 && axis != rank - 1)
    return rewriter.notifyMatchFailure(node, "not over the last axis");
  return replaceUnary<SoftmaxOp>(node, rewriter, node.getInputs()[0]);
}

/// Gelu (opset 20: attribute approximate = "none" | "tanh").
static LogicalResult convertGeluOp(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter) {
  if (node.getInputs().size() != 1)
    return rewriter.notifyMatchFailure(node, "expects one input");
  auto approximate =
      dyn_cast_or_null<StringAttr>(node.getAttrs().get("approximate"));
  GeluApproximation kind = approximate && approximate.getValue() == "tanh"
                               ? GeluApproximation::Tanh
                               : GeluApproximation::None;
  return replaceUnary<GeluOp>(node, rewriter, node.getInputs()[0], kind);
}

/// com.microsoft FastGelu without bias: the tanh approximation.
static LogicalResult convertFastGelu(tvc_onnx::NodeOp node,
                                     PatternRewriter &rewriter) {
  if (node.getInputs().size() != 1)
    return rewriter.notifyMatchFailure(node, "bias input not supported");
  return replaceUnary<GeluOp>(node, rewriter, node.getInputs()[0],
                              GeluApproximation::Tanh);
}

/// The x of `erf(x / sqrt 2)` (or `erf(x * (1 / sqrt 2))`), if `value` is
/// one.
static Value matchErfOfScaledInput(Value value) {
  tvc_onnx::NodeOp erf = getDefiningNode(value, "Erf");
  if (!erf || erf.getInputs().size() != 1)
    return {};
  Value scaled = erf.getInputs()[0];
  if (tvc_onnx::NodeOp div = getDefiningNode(scaled, "Div"))
    if (div.getInputs().size() == 2 &&
        isConstant(div.getInputs()[1], std::sqrt(2.0)))
      return div.getInputs()[0];
  for (auto [x, c] : getOperandOrders(scaled, "Mul"))
    if (isConstant(c, 1.0 / std::sqrt(2.0)))
      return x;
  return {};
}

/// Erf-form GELU rooted at the outer Mul: (x * (erf(x/sqrt2) + 1)) * 0.5 or
/// (x * 0.5) * (erf(x/sqrt2) + 1).
static LogicalResult convertErfGelu(tvc_onnx::NodeOp node,
                                    PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2)
    return rewriter.notifyMatchFailure(node, "expects two inputs");
  // `onePlusErf` is erf(x/sqrt2) + 1 for some x; returns that x.
  auto matchOnePlusErf = [](Value onePlusErf) -> Value {
    for (auto [erf, one] : getOperandOrders(onePlusErf, "Add"))
      if (isConstant(one, 1.0))
        if (Value x = matchErfOfScaledInput(erf))
          return x;
    return {};
  };
  Value a = node.getInputs()[0], b = node.getInputs()[1];
  for (auto [inner, other] : {std::make_pair(a, b), std::make_pair(b, a)}) {
    // (x * (1 + erf)) * 0.5
    if (isConstant(other, 0.5))
      for (auto [x, onePlusErf] : getOperandOrders(inner, "Mul"))
        if (Value matched = matchOnePlusErf(onePlusErf); matched == x)
          return replaceUnary<GeluOp>(node, rewriter, x,
                                      GeluApproximation::None);
    // (x * 0.5) * (1 + erf)
    for (auto [x, half] : getOperandOrders(inner, "Mul"))
      if (isConstant(half, 0.5))
        if (Value matched = matchOnePlusErf(other); matched == x)
          return replaceUnary<GeluOp>(node, rewriter, x,
                                      GeluApproximation::None);
  }
  return rewriter.notifyMatchFailure(node, "not the erf form of GELU");
}

/// x * Sigmoid(x) -> silu.
static LogicalResult convertSilu(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  for (auto [x, sig] : getOperandOrders(node.getResult(0), "Mul"))
    if (tvc_onnx::NodeOp sigmoid = getDefiningNode(sig, "Sigmoid"))
      if (sigmoid.getInputs().size() == 1 && sigmoid.getInputs()[0] == x)
        return replaceUnary<SiluOp>(node, rewriter, x);
  return rewriter.notifyMatchFailure(node, "not x * sigmoid(x)");
}

/// act(gate) * up with a single-use tvc activation -> glu (SwiGLU, GeGLU,
/// ReGLU).
static LogicalResult convertGlu(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) {
  for (auto [act, up] : getOperandOrders(node.getResult(0), "Mul")) {
    Operation *producer = act.getDefiningOp();
    if (!producer || !act.hasOneUse() || act.getType() != up.getType() ||
        act.getType() != node.getResult(0).getType())
      continue;
    std::optional<Activation> kind;
    if (isa<SiluOp>(producer))
      kind = Activation::Silu;
    else if (isa<ReluOp>(producer))
      kind = Activation::Relu;
    else if (auto gelu = dyn_cast<GeluOp>(producer))
      kind = gelu.getApproximate() == GeluApproximation::Tanh
                 ? Activation::GeluTanh
                 : Activation::Gelu;
    if (!kind)
      continue;
    Value gate = producer->getOperand(0);
    rewriter.replaceOpWithNewOp<GluOp>(
        node, gate, up, ActivationAttr::get(rewriter.getContext(), *kind));
    rewriter.eraseOp(producer);
    return success();
  }
  return rewriter.notifyMatchFailure(node, "not act(gate) * up");
}

/// Add of two tensors of one type (residual connections) -> tvc.add.
static LogicalResult convertResidualAdd(tvc_onnx::NodeOp node,
                                        PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2)
    return rewriter.notifyMatchFailure(node, "expects two inputs");
  Value lhs = node.getInputs()[0], rhs = node.getInputs()[1];
  if (!isRankedFloat(lhs) || lhs.getType() != rhs.getType() ||
      lhs.getType() != node.getResult(0).getType())
    return rewriter.notifyMatchFailure(node, "operands broadcast");
  rewriter.replaceOpWithNewOp<AddOp>(node, lhs, rhs);
  return success();
}

// Since-versions: the earliest opset with today's semantics; Softmax
// changed from "flatten to 2-D" to "one axis" in 13.
void mlir::tvc::registerOnnxActivationHandlers(OnnxHandlerTable &table) {
  table.onOp("Relu", 6, "-> relu", convertRelu);
  table.onOp("Add", 7, "two tensors of one type -> add", convertResidualAdd);
  table.onOp("Softmax", 13, "over the last axis -> softmax", convertSoftmax);
  table.onOp("Gelu", 20, "-> gelu (exact or tanh)", convertGeluOp);
  table.onOp("Mul", 7, "root of erf-form GELU -> gelu", convertErfGelu);
  table.onOp("Mul", 7, "x * sigmoid(x) -> silu", convertSilu);
  table.onOp("Mul", 7, "activation(gate) * up -> glu", convertGlu);
  table.onOp("Gelu", 1, "-> gelu", convertGeluOp, "com.microsoft");
  table.onOp("FastGelu", 1, "without bias -> gelu (tanh)", convertFastGelu,
             "com.microsoft");
}
