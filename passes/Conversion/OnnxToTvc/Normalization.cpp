//===- Normalization.cpp - ONNX normalizations to tvc ---------------------===//
//
// LayerNormalization over the last axis (its statistics outputs unused);
// the decomposed layer norm torch exports below opset 17,
//   (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * scale + bias,
// matched at its final Add; and the hand-written RMS norm of LLaMA code,
//   scale * (x * rsqrt(mean(x^2) + eps)),
// matched at its final Mul. Means are ReduceMean over the last axis with
// keepdims; operand order of commutative ops does not matter.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

using namespace mlir;
using namespace mlir::tvc;

static LogicalResult convertLayerNorm(tvc_onnx::NodeOp node,
                                      PatternRewriter &rewriter) {
  if (node.getInputs().size() < 2)
    return rewriter.notifyMatchFailure(node, "expects X and Scale");
  Value input = node.getInputs()[0];
  if (!isRankedFloat(input))
    return rewriter.notifyMatchFailure(node, "X is not a ranked float tensor");
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t axis = getIntAttr(node, "axis", -1);
  if (axis != -1 && axis != inputType.getRank() - 1)
    return rewriter.notifyMatchFailure(node, "not over the last axis");
  for (Value extra : node.getResults().drop_front())
    if (!extra.use_empty())
      return rewriter.notifyMatchFailure(node, "mean or inv-std is used");
  if (node.getResult(0).getType() != inputType)
    return rewriter.notifyMatchFailure(node, "result type differs");
  Value scale = node.getInputs()[1];
  Value bias;
  if (node.getInputs().size() > 2 &&
      !isa<NoneType>(node.getInputs()[2].getType()))
    bias = node.getInputs()[2];
  for (Value param : {scale, bias}) {
    auto type = param ? dyn_cast<RankedTensorType>(param.getType())
                      : RankedTensorType();
    if (param && (!type || type.getRank() != 1 ||
                  type.getElementType() != inputType.getElementType()))
      return rewriter.notifyMatchFailure(node, "scale or bias is not 1-D");
  }
  auto replacement = LayerNormOp::create(
      rewriter, node.getLoc(), input, scale, bias,
      rewriter.getF64FloatAttr(getFloatAttr(node, "epsilon", 1e-5)));
  // The statistics outputs have no users (checked above).
  rewriter.replaceAllUsesWith(node.getResult(0), replacement);
  rewriter.eraseOp(node);
  return success();
}

/// The input of `ReduceMean(x, axes = [last], keepdims = 1)`, if `value`
/// is one.
static Value matchMeanOverLastAxis(Value value) {
  tvc_onnx::NodeOp mean = getDefiningNode(value, "ReduceMean");
  if (!mean || mean.getInputs().size() != 1 ||
      getIntAttr(mean, "keepdims", 1) != 1)
    return {};
  Value input = mean.getInputs()[0];
  auto type = dyn_cast<RankedTensorType>(input.getType());
  auto axes = dyn_cast_or_null<ArrayAttr>(mean.getAttrs().get("axes"));
  if (!type || !axes || axes.size() != 1)
    return {};
  int64_t axis = cast<IntegerAttr>(axes[0]).getInt();
  if (axis != -1 && axis != type.getRank() - 1)
    return {};
  return input;
}

/// The (variance input v, epsilon) of `sqrt(mean(v) + eps)`.
static std::optional<std::pair<Value, double>>
matchSqrtOfMeanPlusEps(Value value) {
  tvc_onnx::NodeOp sqrt = getDefiningNode(value, "Sqrt");
  if (!sqrt || sqrt.getInputs().size() != 1)
    return std::nullopt;
  for (auto [mean, eps] : getOperandOrders(sqrt.getInputs()[0], "Add")) {
    std::optional<double> epsilon = getScalarConstant(eps);
    if (Value input = matchMeanOverLastAxis(mean); input && epsilon)
      return std::make_pair(input, *epsilon);
  }
  return std::nullopt;
}

/// The base of `Pow(base, 2)`.
static Value matchSquare(Value value) {
  tvc_onnx::NodeOp pow = getDefiningNode(value, "Pow");
  if (!pow || pow.getInputs().size() != 2 || !isConstant(pow.getInputs()[1], 2))
    return {};
  return pow.getInputs()[0];
}

/// True when `param` is a 1-D vector of `input`'s width and element type.
static bool isChannelVector(Value param, Value input) {
  auto type = dyn_cast<RankedTensorType>(param.getType());
  auto inputType = cast<RankedTensorType>(input.getType());
  return type && type.getRank() == 1 &&
         type.getElementType() == inputType.getElementType() &&
         type.getDimSize(0) == inputType.getShape().back();
}

/// Decomposed layer norm, rooted at `Add(Mul(normalized, scale), bias)`.
static LogicalResult convertDecomposedLayerNorm(tvc_onnx::NodeOp node,
                                                PatternRewriter &rewriter) {
  for (auto [scaled, bias] : getOperandOrders(node.getResult(0), "Add")) {
    for (auto [normalized, scale] : getOperandOrders(scaled, "Mul")) {
      tvc_onnx::NodeOp div = getDefiningNode(normalized, "Div");
      if (!div || div.getInputs().size() != 2)
        continue;
      Value centered = div.getInputs()[0];
      tvc_onnx::NodeOp sub = getDefiningNode(centered, "Sub");
      if (!sub || sub.getInputs().size() != 2)
        continue;
      Value x = sub.getInputs()[0];
      if (matchMeanOverLastAxis(sub.getInputs()[1]) != x || !isRankedFloat(x))
        continue;
      auto deviation = matchSqrtOfMeanPlusEps(div.getInputs()[1]);
      if (!deviation)
        continue;
      // The variance squares the same centered value (or an identical Sub).
      Value squared = matchSquare(deviation->first);
      tvc_onnx::NodeOp otherSub = getDefiningNode(squared, "Sub");
      bool sameCentered =
          squared == centered ||
          (otherSub && otherSub.getInputs().size() == 2 &&
           otherSub.getInputs()[0] == x &&
           matchMeanOverLastAxis(otherSub.getInputs()[1]) == x);
      if (!sameCentered || !isChannelVector(scale, x) ||
          !isChannelVector(bias, x) || node.getResult(0).getType() != x.getType())
        continue;
      rewriter.replaceOpWithNewOp<LayerNormOp>(
          node, x, scale, bias, rewriter.getF64FloatAttr(deviation->second));
      return success();
    }
  }
  return rewriter.notifyMatchFailure(node, "not a decomposed layer norm");
}

/// Hand-written RMS norm, rooted at `Mul(scale, Mul(x, rsqrt(...)))` where
/// rsqrt is `Reciprocal(Sqrt(...))` or `Div(1, Sqrt(...))`.
static LogicalResult convertDecomposedRmsNorm(tvc_onnx::NodeOp node,
                                              PatternRewriter &rewriter) {
  auto matchRsqrt = [](Value value) -> std::optional<std::pair<Value, double>> {
    if (tvc_onnx::NodeOp recip = getDefiningNode(value, "Reciprocal"))
      if (recip.getInputs().size() == 1)
        return matchSqrtOfMeanPlusEps(recip.getInputs()[0]);
    if (tvc_onnx::NodeOp div = getDefiningNode(value, "Div"))
      if (div.getInputs().size() == 2 && isConstant(div.getInputs()[0], 1.0))
        return matchSqrtOfMeanPlusEps(div.getInputs()[1]);
    return std::nullopt;
  };
  for (auto [normalized, scale] : getOperandOrders(node.getResult(0), "Mul")) {
    for (auto [x, rsqrt] : getOperandOrders(normalized, "Mul")) {
      auto statistics = matchRsqrt(rsqrt);
      if (!statistics || !isRankedFloat(x) || matchSquare(statistics->first) != x ||
          !isChannelVector(scale, x) || node.getResult(0).getType() != x.getType())
        continue;
      rewriter.replaceOpWithNewOp<RmsNormOp>(
          node, x, scale, rewriter.getF64FloatAttr(statistics->second));
      return success();
    }
  }
  return rewriter.notifyMatchFailure(node, "not a decomposed RMS norm");
}

/// com.microsoft SkipLayerNormalization without bias: layer_norm(x + skip);
/// the sum output (index 3), when used, is the add.
static LogicalResult convertSkipLayerNorm(tvc_onnx::NodeOp node,
                                          PatternRewriter &rewriter) {
  ValueRange in = node.getInputs();
  if (in.size() < 3 || (in.size() > 4 && !isa<NoneType>(in[4].getType())))
    return rewriter.notifyMatchFailure(node, "bias input not supported");
  Value input = in[0], skip = in[1], scale = in[2];
  Value bias = in.size() > 3 && !isa<NoneType>(in[3].getType()) ? in[3]
                                                                : Value();
  if (!isRankedFloat(input) || input.getType() != skip.getType() ||
      !isChannelVector(scale, input) || (bias && !isChannelVector(bias, input)))
    return rewriter.notifyMatchFailure(node, "shapes do not match");
  for (unsigned i = 1; i < 3 && i < node.getNumResults(); ++i)
    if (!node.getResult(i).use_empty())
      return rewriter.notifyMatchFailure(node, "mean or inv-std is used");
  Location loc = node.getLoc();
  Value sum = AddOp::create(rewriter, loc, input, skip);
  Value normed = LayerNormOp::create(
      rewriter, loc, sum, scale, bias,
      rewriter.getF64FloatAttr(getFloatAttr(node, "epsilon", 1e-12)));
  SmallVector<Value> replacements = {normed, Value(), Value(), sum};
  replaceNodeResults(node, rewriter, replacements);
  return success();
}

void mlir::tvc::registerOnnxNormalizationHandlers(OnnxHandlerTable &table) {
  table.onOp("SkipLayerNormalization", 1,
             "without bias input -> add + layer_norm", convertSkipLayerNorm,
             "com.microsoft");
  table.onOp("LayerNormalization", 17, "over the last axis -> layer_norm",
             convertLayerNorm);
  table.onOp("Add", 7,
             "root of a decomposed layer norm (torch < opset 17) -> "
             "layer_norm",
             convertDecomposedLayerNorm);
  table.onOp("Mul", 7, "root of a hand-written RMS norm -> rms_norm",
             convertDecomposedRmsNorm);
}
