//===- Matmul.cpp - ONNX MatMul and Gemm to linalg ------------------------===//
//
// MatMul with numpy semantics (batch dimensions broadcast, a 1-D operand
// promoted to a matrix and its unit dimension dropped again) and Gemm
// (`alpha * A' B' + beta * C`, C broadcast to the result). Both are one
// linalg.generic with loops `[batch..., m, n, k]` accumulating into a
// zero-filled result; Gemm's scaling and bias are one more elementwise
// generic.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::tvc;

/// `acc + a * b` in the element type.
static Value buildMultiplyAdd(OpBuilder &b, Location loc, Value lhs, Value rhs,
                              Value acc) {
  if (isa<FloatType>(acc.getType()))
    return arith::AddFOp::create(b, loc, acc,
                                 arith::MulFOp::create(b, loc, lhs, rhs));
  return arith::AddIOp::create(b, loc, acc,
                               arith::MulIOp::create(b, loc, lhs, rhs));
}

/// The contraction `sum_k lhs[lhsExprs] * rhs[rhsExprs]` over loops of
/// `loopSizes` (the last one `k`), written to a zero-filled tensor of
/// `resultSizes` indexed by the loops `resultExprs`.
static Value buildContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                              ArrayRef<AffineExpr> lhsExprs,
                              ArrayRef<AffineExpr> rhsExprs,
                              ArrayRef<AffineExpr> resultExprs,
                              ArrayRef<OpFoldResult> resultSizes,
                              int64_t numLoops, Type element) {
  MLIRContext *context = b.getContext();
  Value acc = createFilled(b, loc, resultSizes, getZeroAttr(element));
  SmallVector<AffineMap> maps{
      AffineMap::get(numLoops, 0, lhsExprs, context),
      AffineMap::get(numLoops, 0, rhsExprs, context),
      AffineMap::get(numLoops, 0, resultExprs, context)};
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, acc.getType(), ValueRange{lhs, rhs}, acc, maps, iterators,
             [](OpBuilder &nested, Location bodyLoc, ValueRange args) {
               linalg::YieldOp::create(nested, bodyLoc,
                                       buildMultiplyAdd(nested, bodyLoc,
                                                        args[0], args[1],
                                                        args[2]));
             })
      .getResult(0);
}

/// Checks the inputs (ranked) and the result (a tensor) of a MatMul or
/// Gemm: one supported numeric element type.
static LogicalResult checkOperands(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter, unsigned minIn,
                                   unsigned maxIn) {
  unsigned numInputs = node.getInputs().size();
  if (numInputs < minIn || numInputs > maxIn || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "unexpected number of operands");
  auto resultType = dyn_cast<TensorType>(node.getResult(0).getType());
  if (!resultType)
    return rewriter.notifyMatchFailure(node, "result is not a tensor");
  Type element = resultType.getElementType();
  if (!isSupportedElementType(element) || element.isInteger(1))
    return rewriter.notifyMatchFailure(node, "unsupported element type");
  for (unsigned i = 0; i < numInputs; ++i) {
    Value input = getOptionalInput(node, i);
    if (!input)
      continue;
    RankedTensorType type = getRankedType(input);
    if (!type || type.getElementType() != element)
      return rewriter.notifyMatchFailure(
          node, "operands are not ranked tensors of the result's type");
  }
  return success();
}

/// Fails unless the static sizes `a` and `b` (of one contracted dimension)
/// agree.
static bool sizesAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// MatMul: loops are the result's batch dimensions, then `m` (unless A is
/// 1-D), `n` (unless B is 1-D), then `k`.
static LogicalResult lowerMatMul(tvc_onnx::NodeOp node,
                                 PatternRewriter &rewriter) {
  if (failed(checkOperands(node, rewriter, 2, 2)))
    return failure();
  Value lhs = node.getInputs()[0], rhs = node.getInputs()[1];
  auto lhsType = getRankedType(lhs), rhsType = getRankedType(rhs);
  int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  if (lhsRank == 0 || rhsRank == 0)
    return rewriter.notifyMatchFailure(node, "scalar operand");
  bool hasM = lhsRank >= 2, hasN = rhsRank >= 2;
  int64_t lhsBatch = std::max<int64_t>(lhsRank - 2, 0);
  int64_t rhsBatch = std::max<int64_t>(rhsRank - 2, 0);
  int64_t batch = std::max(lhsBatch, rhsBatch);
  auto resultType = getResultType(node, 0, batch + hasM + hasN);
  if (resultType.getRank() != batch + hasM + hasN)
    return rewriter.notifyMatchFailure(node, "unexpected result rank");
  if (!sizesAgree(lhsType.getDimSize(lhsRank - 1),
                  rhsType.getDimSize(hasN ? rhsRank - 2 : 0)))
    return rewriter.notifyMatchFailure(node, "contracted sizes differ");

  Location loc = node.getLoc();
  MLIRContext *context = rewriter.getContext();
  // The batch dimensions broadcast like an elementwise op's operands: check
  // and size them as a broadcast of the two batch shapes.
  auto batchType = [&](RankedTensorType type, int64_t count) {
    return RankedTensorType::get(type.getShape().take_front(count),
                                 type.getElementType());
  };
  auto resultBatchType = batchType(resultType, batch);
  for (auto [type, count] :
       {std::pair(lhsType, lhsBatch), {rhsType, rhsBatch}}) {
    auto operandBatch = batchType(type, count);
    for (int64_t dim = 0; dim < count; ++dim) {
      int64_t size = operandBatch.getDimSize(dim);
      int64_t expected = resultBatchType.getDimSize(dim + batch - count);
      if (!ShapedType::isDynamic(size) && size != 1 &&
          !sizesAgree(size, expected))
        return rewriter.notifyMatchFailure(node,
                                           "batch dimensions do not broadcast");
    }
  }

  SmallVector<OpFoldResult> lhsSizes =
      tensor::getMixedSizes(rewriter, loc, lhs);
  SmallVector<OpFoldResult> rhsSizes =
      tensor::getMixedSizes(rewriter, loc, rhs);
  // Loop numbering: batch dims, m, n, k.
  int64_t numLoops = batch + hasM + hasN + 1;
  int64_t mLoop = batch, nLoop = batch + hasM, kLoop = numLoops - 1;
  SmallVector<OpFoldResult> resultSizes;
  for (int64_t dim = 0; dim < batch; ++dim) {
    OpFoldResult size = rewriter.getIndexAttr(1);
    int64_t known = resultType.getDimSize(dim);
    if (!ShapedType::isDynamic(known)) {
      size = rewriter.getIndexAttr(known);
    } else {
      // The operand size that is not a stretched static 1.
      for (auto [type, count, sizes] :
           {std::tuple(lhsType, lhsBatch, &lhsSizes),
            {rhsType, rhsBatch, &rhsSizes}}) {
        int64_t operandDim = dim - (batch - count);
        if (operandDim < 0 || type.getDimSize(operandDim) == 1)
          continue;
        size = (*sizes)[operandDim];
        break;
      }
    }
    resultSizes.push_back(size);
  }
  if (hasM)
    resultSizes.push_back(lhsSizes[lhsRank - 2]);
  if (hasN)
    resultSizes.push_back(rhsSizes[rhsRank - 1]);

  auto batchExprs = [&](RankedTensorType type, int64_t count) {
    SmallVector<AffineExpr> exprs;
    for (int64_t dim = 0; dim < count; ++dim) {
      int64_t loop = dim + batch - count;
      bool stretched = type.getDimSize(dim) == 1 &&
                       !isConstantIntValue(resultSizes[loop], 1);
      exprs.push_back(stretched ? getAffineConstantExpr(0, context)
                                : getAffineDimExpr(loop, context));
    }
    return exprs;
  };
  SmallVector<AffineExpr> lhsExprs = batchExprs(lhsType, lhsBatch);
  if (hasM)
    lhsExprs.push_back(getAffineDimExpr(mLoop, context));
  lhsExprs.push_back(getAffineDimExpr(kLoop, context));
  SmallVector<AffineExpr> rhsExprs = batchExprs(rhsType, rhsBatch);
  rhsExprs.push_back(getAffineDimExpr(kLoop, context));
  if (hasN)
    rhsExprs.push_back(getAffineDimExpr(nLoop, context));
  SmallVector<AffineExpr> resultExprs;
  for (int64_t loop = 0; loop < kLoop; ++loop)
    resultExprs.push_back(getAffineDimExpr(loop, context));

  Value result =
      buildContraction(rewriter, loc, lhs, rhs, lhsExprs, rhsExprs, resultExprs,
                       resultSizes, numLoops, resultType.getElementType());
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

/// Gemm: `alpha * A' B' + beta * C` with A' = A or A^T (transA), B' = B or
/// B^T (transB) and C (optional) broadcast to `[M, N]`.
static LogicalResult lowerGemm(tvc_onnx::NodeOp node,
                               PatternRewriter &rewriter) {
  if (failed(checkOperands(node, rewriter, 2, 3)))
    return failure();
  Value a = node.getInputs()[0], b = node.getInputs()[1];
  Value c = getOptionalInput(node, 2);
  auto aType = getRankedType(a), bType = getRankedType(b);
  auto resultType = getResultType(node, 0, 2);
  if (aType.getRank() != 2 || bType.getRank() != 2 || resultType.getRank() != 2)
    return rewriter.notifyMatchFailure(node, "operands are not matrices");
  bool transA = getIntAttr(node, "transA", 0) != 0;
  bool transB = getIntAttr(node, "transB", 0) != 0;
  if (!sizesAgree(aType.getDimSize(transA ? 0 : 1),
                  bType.getDimSize(transB ? 1 : 0)))
    return rewriter.notifyMatchFailure(node, "contracted sizes differ");
  Type element = resultType.getElementType();
  double alpha = getFloatAttr(node, "alpha", 1.0);
  double beta = getFloatAttr(node, "beta", 1.0);
  if (!isa<FloatType>(element) && (alpha != 1.0 || (c && beta != 1.0)))
    return rewriter.notifyMatchFailure(node,
                                       "integer Gemm with alpha or beta != 1");
  if (c)
    if (std::optional<std::string> reason = getBroadcastFailure(c, resultType))
      return rewriter.notifyMatchFailure(node, *reason);

  Location loc = node.getLoc();
  MLIRContext *context = rewriter.getContext();
  AffineExpr m = getAffineDimExpr(0, context), n = getAffineDimExpr(1, context),
             k = getAffineDimExpr(2, context);
  SmallVector<OpFoldResult> sizes{
      tensor::getMixedSize(rewriter, loc, a, transA ? 1 : 0),
      tensor::getMixedSize(rewriter, loc, b, transB ? 0 : 1)};
  SmallVector<AffineExpr> aExprs =
      transA ? SmallVector<AffineExpr>{k, m} : SmallVector<AffineExpr>{m, k};
  SmallVector<AffineExpr> bExprs =
      transB ? SmallVector<AffineExpr>{n, k} : SmallVector<AffineExpr>{k, n};
  Value result = buildContraction(rewriter, loc, a, b, aExprs, bExprs, {m, n},
                                  sizes, 3, element);
  if (alpha != 1.0 || c) {
    SmallVector<Value> inputs{result};
    if (c)
      inputs.push_back(c);
    result = buildBroadcastGeneric(
        rewriter, loc, inputs, sizes, element,
        [&](OpBuilder &builder, Location bodyLoc, ValueRange args) -> Value {
          auto scaled = [&](Value value, double factor) -> Value {
            if (factor == 1.0)
              return value;
            Value constant = arith::ConstantOp::create(
                builder, bodyLoc, builder.getFloatAttr(element, factor));
            return arith::MulFOp::create(builder, bodyLoc, value, constant);
          };
          Value product = scaled(args[0], alpha);
          if (args.size() == 1)
            return product;
          Value bias = scaled(args[1], beta);
          if (isa<FloatType>(element))
            return arith::AddFOp::create(builder, bodyLoc, product, bias);
          return arith::AddIOp::create(builder, bodyLoc, product, bias);
        });
  }
  replaceNodeWithCasts(node, rewriter, result);
  return success();
}

void mlir::tvc::registerOnnxMatmulToLinalgHandlers(OnnxHandlerTable &table) {
  table.onOp("MatMul", 1, "contraction generic with numpy batch broadcasting",
             lowerMatMul);
  table.onOp("Gemm", 7,
             "contraction generic (transA/transB), then "
             "alpha/beta/C elementwise",
             lowerGemm);
}
