//===- Activations.cpp - ONNX activations and elementwise ops to tvc ------===//
//
// Relu, Add of equal types (residuals), Softmax over the last axis, SiLU
// and gated products, and GELU: the Gelu op (opset 20, com.microsoft
// Gelu/FastGelu) and the written-out forms exporters emit,
// x * 0.5 * (1 + erf(x / sqrt 2)) and
// x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), matched at their
// last Mul in any grouping and operand order.
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

/// The factors of a product of ONNX Mul nodes, flattened (at most 4).
static SmallVector<Value> getProductFactors(Value value, unsigned depth = 0) {
  tvc_onnx::NodeOp mul = getDefiningNode(value, "Mul");
  if (!mul || mul.getInputs().size() != 2 || depth > 2)
    return {value};
  SmallVector<Value> factors = getProductFactors(mul.getInputs()[0], depth + 1);
  llvm::append_range(factors, getProductFactors(mul.getInputs()[1], depth + 1));
  return factors;
}

/// The x of `tanh(sqrt(2/pi) * (x + 0.044715 * x^3))`.
static Value matchTanhOfCubic(Value value) {
  tvc_onnx::NodeOp tanh = getDefiningNode(value, "Tanh");
  if (!tanh || tanh.getInputs().size() != 1)
    return {};
  SmallVector<Value> outer = getProductFactors(tanh.getInputs()[0]);
  if (outer.size() != 2)
    return {};
  for (auto [c, sum] : {std::make_pair(outer[0], outer[1]),
                        std::make_pair(outer[1], outer[0])}) {
    if (!isConstant(c, std::sqrt(2.0 / M_PI)))
      continue;
    for (auto [x, cubic] : getOperandOrders(sum, "Add")) {
      SmallVector<Value> terms = getProductFactors(cubic);
      if (terms.size() != 2)
        continue;
      for (auto [k, pow] : {std::make_pair(terms[0], terms[1]),
                            std::make_pair(terms[1], terms[0])}) {
        tvc_onnx::NodeOp power = getDefiningNode(pow, "Pow");
        if (isConstant(k, 0.044715) && power &&
            power.getInputs().size() == 2 && power.getInputs()[0] == x &&
            isConstant(power.getInputs()[1], 3.0))
          return x;
      }
    }
  }
  return {};
}

/// GELU written out, rooted at its last Mul: the product (in any grouping
/// and order) of x, 0.5 and 1 + erf(x / sqrt 2) (exact) or
/// 1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)) (tanh approximation).
static LogicalResult convertGeluChain(tvc_onnx::NodeOp node,
                                      PatternRewriter &rewriter) {
  SmallVector<Value> factors = getProductFactors(node.getResult(0));
  if (factors.size() != 3)
    return rewriter.notifyMatchFailure(node, "not a product of three");
  for (unsigned half = 0; half < 3; ++half) {
    if (!isConstant(factors[half], 0.5))
      continue;
    for (unsigned sum = 0; sum < 3; ++sum) {
      if (sum == half)
        continue;
      Value x = factors[3 - half - sum];
      for (auto [curve, one] : getOperandOrders(factors[sum], "Add")) {
        if (!isConstant(one, 1.0))
          continue;
        if (matchErfOfScaledInput(curve) == x)
          return replaceUnary<GeluOp>(node, rewriter, x,
                                      GeluApproximation::None);
        if (matchTanhOfCubic(curve) == x)
          return replaceUnary<GeluOp>(node, rewriter, x,
                                      GeluApproximation::Tanh);
      }
    }
  }
  return rewriter.notifyMatchFailure(node, "not a written-out GELU");
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
  table.onOp("Mul", 7,
             "root of written-out GELU (erf or tanh form) -> gelu",
             convertGeluChain);
  table.onOp("Mul", 7, "x * sigmoid(x) -> silu", convertSilu);
  table.onOp("Mul", 7, "activation(gate) * up -> glu", convertGlu);
  table.onOp("Gelu", 1, "-> gelu", convertGeluOp, "com.microsoft");
  table.onOp("FastGelu", 1, "without bias -> gelu (tanh)", convertFastGelu,
             "com.microsoft");
}
