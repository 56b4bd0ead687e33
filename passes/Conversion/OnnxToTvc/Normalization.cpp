//===- Normalization.cpp - ONNX LayerNormalization to tvc.layer_norm ------===//
//
// LayerNormalization over the last axis with a 1-D scale (and bias), whose
// mean and inverse-deviation outputs are unused.
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

void mlir::tvc::registerOnnxNormalizationHandlers(OnnxHandlerTable &table) {
  table.onOp("LayerNormalization", 17, convertLayerNorm);
}
