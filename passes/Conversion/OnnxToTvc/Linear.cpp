//===- Linear.cpp - ONNX linear maps, embeddings and splits to tvc --------===//
//
// MatMul by a weight (stored [in, out], or [out, in] behind a Transpose),
// Gemm with transB and a 1-D bias, and an Add of a 1-D bias after a linear
// all become tvc.linear, whose weight layout says how the matrix is stored.
// Gather of weight rows by ids is an embedding; a Split of a fused
// projection's last axis is tvc.split.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::tvc;

/// A rank-2 float weight read with tvc.weight, if `value` is one.
static TypedValue<RankedTensorType> getMatrixWeight(Value value) {
  auto weight = value.getDefiningOp<WeightOp>();
  if (!weight || weight.getType().getRank() != 2)
    return {};
  return weight.getResult();
}

/// The weight and its layout that a MatMul's right operand reads: a weight
/// stored [in, out] directly, or an [out, in] weight behind Transpose.
static std::optional<std::pair<Value, WeightLayout>>
matchRightOperand(Value rhs) {
  if (Value weight = getMatrixWeight(rhs))
    return std::make_pair(weight, WeightLayout::InOut);
  tvc_onnx::NodeOp transpose = getDefiningNode(rhs, "Transpose");
  if (!transpose || transpose.getInputs().size() != 1)
    return std::nullopt;
  auto perm = dyn_cast_or_null<ArrayAttr>(transpose.getAttrs().get("perm"));
  bool swaps =
      !perm || (perm.size() == 2 && cast<IntegerAttr>(perm[0]).getInt() == 1 &&
                cast<IntegerAttr>(perm[1]).getInt() == 0);
  if (!swaps)
    return std::nullopt;
  if (Value weight = getMatrixWeight(transpose.getInputs()[0]))
    return std::make_pair(weight, WeightLayout::OutIn);
  return std::nullopt;
}

/// Replaces `node` by a linear of `input` when the result types agree.
static LogicalResult replaceWithLinear(tvc_onnx::NodeOp node,
                                       PatternRewriter &rewriter, Value input,
                                       Value weight, Value bias,
                                       WeightLayout layout) {
  auto structure = DenseStructureAttr::get(rewriter.getContext(), layout);
  SmallVector<Type> inferred;
  LinearOp::Adaptor adaptor({input, weight}, {}, {}, {});
  auto inputType = cast<RankedTensorType>(input.getType());
  auto weightType = cast<RankedTensorType>(weight.getType());
  SmallVector<int64_t> shape(inputType.getShape());
  shape.back() = structure.getOutFeatures(TypeRange{weightType});
  auto resultType = RankedTensorType::get(shape, inputType.getElementType());
  if (resultType != node.getResult(0).getType())
    return rewriter.notifyMatchFailure(node, "result type differs");
  if (failed(structure.verifyWeights(
          [&] { return node.emitError(); }, TypeRange{weightType},
          inputType.getShape().back(), inputType.getElementType())))
    return failure();
  rewriter.replaceOpWithNewOp<LinearOp>(node, resultType, input,
                                        ValueRange{weight}, bias, structure);
  return success();
}

/// MatMul(x, W) -> linear.
static LogicalResult convertMatMul(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects two inputs");
  Value lhs = node.getInputs()[0];
  if (!isRankedFloat(lhs) ||
      cast<RankedTensorType>(lhs.getType()).getRank() < 2)
    return rewriter.notifyMatchFailure(node, "left operand is not a ranked "
                                             "float tensor of rank >= 2");
  auto rhs = matchRightOperand(node.getInputs()[1]);
  if (!rhs)
    return rewriter.notifyMatchFailure(node, "right operand is no weight");
  return replaceWithLinear(node, rewriter, lhs, rhs->first, Value(),
                           rhs->second);
}

/// Gemm(A, B, C) with alpha = beta = 1 and transA = 0 -> linear.
static LogicalResult convertGemm(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (node.getInputs().size() < 2 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects two or three inputs");
  if (getFloatAttr(node, "alpha", 1.0) != 1.0 ||
      getFloatAttr(node, "beta", 1.0) != 1.0 ||
      getIntAttr(node, "transA", 0) != 0)
    return rewriter.notifyMatchFailure(node, "scaled or transposed A");
  Value lhs = node.getInputs()[0];
  Value weight = getMatrixWeight(node.getInputs()[1]);
  if (!isRankedFloat(lhs) || !weight)
    return rewriter.notifyMatchFailure(node, "B is no weight");
  WeightLayout layout =
      getIntAttr(node, "transB", 0) ? WeightLayout::OutIn : WeightLayout::InOut;
  Value bias;
  if (node.getInputs().size() == 3 &&
      !isa<NoneType>(node.getInputs()[2].getType())) {
    bias = node.getInputs()[2];
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    if (!biasType || biasType.getRank() != 1)
      return rewriter.notifyMatchFailure(node, "C is not a 1-D bias");
  }
  return replaceWithLinear(node, rewriter, lhs, weight, bias, layout);
}

/// Add(linear(x), b) with a 1-D b of the output width -> linear with bias.
static LogicalResult convertBiasAdd(tvc_onnx::NodeOp node,
                                    PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects two inputs");
  for (unsigned i = 0; i < 2; ++i) {
    auto linear = node.getInputs()[i].getDefiningOp<LinearOp>();
    Value bias = node.getInputs()[1 - i];
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    if (!linear || linear.getBias() || !linear->hasOneUse() || !biasType ||
        biasType.getRank() != 1 ||
        biasType.getDimSize(0) != linear.getType().getShape().back() ||
        biasType.getElementType() != linear.getType().getElementType() ||
        linear.getType() != node.getResult(0).getType())
      continue;
    rewriter.replaceOpWithNewOp<LinearOp>(
        node, linear.getType(), linear.getInput(), linear.getWeights(), bias,
        linear.getStructure());
    rewriter.eraseOp(linear);
    return success();
  }
  return rewriter.notifyMatchFailure(node, "not a bias added to a linear");
}

/// Gather(table, ids) along axis 0 of a rank-2 weight -> embedding.
static LogicalResult convertEmbedding(tvc_onnx::NodeOp node,
                                      PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2 || getIntAttr(node, "axis", 0) != 0)
    return rewriter.notifyMatchFailure(node, "expects Gather on axis 0");
  Value table = getMatrixWeight(node.getInputs()[0]);
  auto ids = dyn_cast<RankedTensorType>(node.getInputs()[1].getType());
  if (!table || !ids || !isa<IntegerType>(ids.getElementType()) ||
      ids.getRank() == 0)
    return rewriter.notifyMatchFailure(node, "not a weight gathered by ids");
  auto embedding =
      EmbeddingOp::create(rewriter, node.getLoc(), table, node.getInputs()[1]);
  if (embedding.getType() != node.getResult(0).getType()) {
    rewriter.eraseOp(embedding);
    return rewriter.notifyMatchFailure(node, "result type differs");
  }
  rewriter.replaceOp(node, embedding.getResult());
  return success();
}

/// Split of the last axis into constant sizes -> split.
static LogicalResult convertSplit(tvc_onnx::NodeOp node,
                                  PatternRewriter &rewriter) {
  if (node.getInputs().size() != 2 || !isRankedFloat(node.getInputs()[0]))
    return rewriter.notifyMatchFailure(node, "expects data and split sizes");
  Value input = node.getInputs()[0];
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  int64_t axis = getIntAttr(node, "axis", 0);
  if (axis != -1 && axis != rank - 1)
    return rewriter.notifyMatchFailure(node, "not the last axis");
  auto sizesAttr =
      dyn_cast_or_null<DenseElementsAttr>(getConstantAttr(node.getInputs()[1]));
  if (!sizesAttr || !sizesAttr.getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(node, "split sizes are not constant");
  SmallVector<int64_t> sizes;
  for (const APInt &size : sizesAttr.getValues<APInt>())
    sizes.push_back(size.getSExtValue());
  if (sizes.size() != node.getNumResults())
    return rewriter.notifyMatchFailure(node, "one size per output expected");
  auto split = SplitOp::create(rewriter, node.getLoc(), input,
                               rewriter.getDenseI64ArrayAttr(sizes));
  if (split.getResultTypes() != node.getResultTypes()) {
    rewriter.eraseOp(split);
    return rewriter.notifyMatchFailure(node, "result types differ");
  }
  rewriter.replaceOp(node, split.getResults());
  return success();
}

// Since-versions: the earliest opset with today's semantics (later versions
// only add types); Gemm's C became optional in 11.
void mlir::tvc::registerOnnxLinearHandlers(OnnxHandlerTable &table) {
  table.onOp("MatMul", 1, "by a weight (or a transposed weight) -> linear",
             convertMatMul);
  table.onOp("Gemm", 11, "alpha = beta = 1, no transA -> linear (+ bias)",
             convertGemm);
  table.onOp("Add", 7, "1-D bias after a linear -> its bias", convertBiasAdd);
  table.onOp("Gather", 1, "rows of a weight by integer ids -> embedding",
             convertEmbedding);
  table.onOp("Split", 13, "last axis into constant sizes -> split",
             convertSplit);
}
