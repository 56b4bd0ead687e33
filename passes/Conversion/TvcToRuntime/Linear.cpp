//===- Linear.cpp - tvc.linear and tvc.lm_head to the runtime -------------===//
//
// Both become tvc_kernel_linear_f32: y[m, n] = x[m, k] W^T (+ bias), where m
// is the product of the input's leading dims. Its params struct is
// {x, w, bias, y, m, n, k, flags}; without a bias the weight is passed in
// the bias slot and flags says to ignore it. A bf16 or f16 dense weight (f32
// activations) calls tvc_kernel_linear_bf16w_f32 / _f16w_f32 instead, with
// the same operands. A linear with a 2:4
// `#tvc.sparse_nm` weight becomes tvc_kernel_linear_2to4_f32 instead,
// {x, values, indices, bias, y, m, n, k, flags}. A `#tvc.block_dense` linear
// becomes two calls: tvc_kernel_block_diagonal_f32 {x, B, B, h, m, blocks,
// r / blocks, in / blocks, 0} for the block-diagonal map into h [..., r]
// (the stacked blocks fill the unused bias slot), then
// tvc_kernel_linear_f32 of h by L with the bias. A `#tvc.block_shuffle`
// linear becomes tvc_kernel_block_diagonal_f32 by B1 into z [..., k q], the
// shuffle as tensor.expand_shape to [..., k, q], linalg.transpose to
// [..., q, k] and tensor.collapse_shape back (one pass over z; the reshapes
// are views), then tvc_kernel_block_diagonal_f32 by B2 with the bias. A
// `#tvc.low_rank` linear (which the CPU pipeline no longer expands) becomes
// one tvc_kernel_low_rank_f32 call {x, V, U, bias, y, m, n, k, r, flags},
// V in the bias slot without a bias.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToRuntime/TvcToRuntime.h"

#include "llvm/Support/FormatVariadic.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "runtime/api/tvc_kernels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tvc;
using namespace mlir::tvc::runtime_lowering;

namespace {

// Flag bits of tvc_linear_f32_params_t: the runtime's ABI.
constexpr int64_t kHasBias = TVC_LINEAR_HAS_BIAS;
constexpr int64_t kWeightInOut = TVC_LINEAR_WEIGHT_IN_OUT;

bool isF32Tensor(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType().isF32();
}

/// The dense kernel for weight matrix `weight`: f32, or 16-bit weights
/// widened into f32 activations; empty for other element types.
StringRef getDenseKernel(Value weight) {
  Type type = cast<RankedTensorType>(weight.getType()).getElementType();
  if (type.isF32())
    return "tvc_kernel_linear_f32";
  if (type.isBF16())
    return "tvc_kernel_linear_bf16w_f32";
  if (type.isF16())
    return "tvc_kernel_linear_f16w_f32";
  return "";
}

/// Emits the call of `kernel` computing `result` (a [..., n] tensor) from
/// `input` and the weight operands `weights` (the bias, or the first weight
/// in its place, follows them).
Value createLinearCall(PatternRewriter &rewriter, Location loc,
                       StringRef kernel, Value input, ValueRange weights,
                       Value bias, RankedTensorType resultType,
                       int64_t layoutFlags) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  Value m = leadingDimsProduct(rewriter, loc, input, rank - 1);
  Value k = dimAsI64(rewriter, loc, input, rank - 1);
  Value n = i64Constant(rewriter, loc, resultType.getDimSize(rank - 1));
  int64_t flags = (bias ? kHasBias : 0) | layoutFlags;
  Value init = emptyLike(rewriter, loc, resultType, input);
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, weights);
  inputs.push_back(bias ? bias : weights.front());
  auto call = KernelCallOp::create(
      rewriter, loc, TypeRange{resultType}, rewriter.getStringAttr(kernel),
      inputs, ValueRange{init},
      ValueRange{m, n, k, i64Constant(rewriter, loc, flags)});
  return call.getResult(0);
}

/// The call of tvc_kernel_block_diagonal_f32 computing `input` [..., k bk]
/// by the stacked `blocks` [k, bn, bk] into [..., k bn] (+ `bias`; without
/// one the blocks fill its slot and flags = 0).
Value createBlockDiagonalCall(PatternRewriter &rewriter, Location loc,
                              Value input, Value blocks, Value bias) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto blocksType = cast<RankedTensorType>(blocks.getType());
  int64_t rank = inputType.getRank();
  int64_t count = blocksType.getDimSize(0), blockN = blocksType.getDimSize(1),
          blockK = blocksType.getDimSize(2);
  SmallVector<int64_t> resultShape(inputType.getShape());
  resultShape.back() = count * blockN;
  auto resultType =
      RankedTensorType::get(resultShape, inputType.getElementType());
  Value m = leadingDimsProduct(rewriter, loc, input, rank - 1);
  Value init = emptyLike(rewriter, loc, resultType, input);
  auto call = KernelCallOp::create(
      rewriter, loc, TypeRange{resultType},
      rewriter.getStringAttr("tvc_kernel_block_diagonal_f32"),
      ValueRange{input, blocks, bias ? bias : blocks}, ValueRange{init},
      ValueRange{m, i64Constant(rewriter, loc, count),
                 i64Constant(rewriter, loc, blockN),
                 i64Constant(rewriter, loc, blockK),
                 i64Constant(rewriter, loc, bias ? kHasBias : 0)});
  return call.getResult(0);
}

/// The two calls of a `#tvc.block_dense` linear: blockdiag(B) x into
/// [..., r], then the dense linear by L with the bias.
Value createBlockDenseCalls(PatternRewriter &rewriter, Location loc,
                            LinearOp op) {
  Value hidden = createBlockDiagonalCall(rewriter, loc, op.getInput(),
                                         op.getWeights()[0], Value());
  return createLinearCall(rewriter, loc, "tvc_kernel_linear_f32", hidden,
                          op.getWeights()[1], op.getBias(),
                          op.getResult().getType(), 0);
}

/// The one call of a `#tvc.low_rank` linear: y = U (V x) + bias through
/// tvc_kernel_low_rank_f32, with n and r read from U and V.
Value createLowRankCall(PatternRewriter &rewriter, Location loc, LinearOp op) {
  Value input = op.getInput(), v = op.getWeights()[0], u = op.getWeights()[1];
  Value bias = op.getBias();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  Value m = leadingDimsProduct(rewriter, loc, input, rank - 1);
  Value k = dimAsI64(rewriter, loc, input, rank - 1);
  Value n = dimAsI64(rewriter, loc, u, 0);
  Value r = dimAsI64(rewriter, loc, v, 0);
  RankedTensorType resultType = op.getResult().getType();
  Value init = emptyLike(rewriter, loc, resultType, input);
  auto call = KernelCallOp::create(
      rewriter, loc, TypeRange{resultType},
      rewriter.getStringAttr("tvc_kernel_low_rank_f32"),
      ValueRange{input, v, u, bias ? bias : v}, ValueRange{init},
      ValueRange{m, n, k, r, i64Constant(rewriter, loc, bias ? kHasBias : 0)});
  return call.getResult(0);
}

/// `grid` [..., rows cols] read as a row-major [..., rows, cols] grid and
/// transposed: result[..., j rows + i] = grid[..., i cols + j].
Value transposeLastDim(PatternRewriter &rewriter, Location loc, Value grid,
                       int64_t rows, int64_t cols) {
  // A grid of one row or one column is its own transpose.
  if (rows == 1 || cols == 1)
    return grid;
  auto gridType = cast<RankedTensorType>(grid.getType());
  int64_t rank = gridType.getRank();
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t dim = 0; dim + 1 < rank; ++dim)
    reassociation.push_back({dim});
  reassociation.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, grid);
  sizes.pop_back();
  SmallVector<OpFoldResult> transposedSizes(sizes);
  sizes.append({rewriter.getIndexAttr(rows), rewriter.getIndexAttr(cols)});
  transposedSizes.append(
      {rewriter.getIndexAttr(cols), rewriter.getIndexAttr(rows)});
  SmallVector<int64_t> shape(gridType.getShape().drop_back());
  shape.append({rows, cols});
  auto expandedType = RankedTensorType::get(shape, gridType.getElementType());
  Value expanded = tensor::ExpandShapeOp::create(rewriter, loc, expandedType,
                                                 grid, reassociation, sizes);
  Value init = tensor::EmptyOp::create(rewriter, loc, transposedSizes,
                                       gridType.getElementType());
  SmallVector<int64_t> permutation =
      llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  permutation.append({rank, rank - 1});
  Value transposed =
      linalg::TransposeOp::create(rewriter, loc, expanded, init, permutation)
          .getResult()[0];
  return tensor::CollapseShapeOp::create(rewriter, loc, gridType, transposed,
                                         reassociation);
}

/// The calls of a `#tvc.block_shuffle` linear: blockdiag(B1) x into z
/// [..., k q], the transpose of z's (k, q) grid, blockdiag(B2) with the
/// bias.
Value createBlockShuffleCalls(PatternRewriter &rewriter, Location loc,
                              LinearOp op) {
  Value first = op.getWeights()[0], second = op.getWeights()[1];
  auto firstType = cast<RankedTensorType>(first.getType());
  Value grid =
      createBlockDiagonalCall(rewriter, loc, op.getInput(), first, Value());
  Value shuffled = transposeLastDim(
      rewriter, loc, grid, firstType.getDimSize(0), firstType.getDimSize(1));
  return createBlockDiagonalCall(rewriter, loc, shuffled, second, op.getBias());
}

struct LinearToRuntime : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (std::optional<std::string> why = whyNoLinearKernel(op))
      return rewriter.notifyMatchFailure(op, *why);
    Value result;
    if (auto dense = dyn_cast<DenseStructureAttr>(op.getStructure()))
      result = createLinearCall(
          rewriter, op.getLoc(), getDenseKernel(op.getWeights().front()),
          op.getInput(), op.getWeights(), op.getBias(),
          op.getResult().getType(),
          dense.getLayout() == WeightLayout::InOut ? kWeightInOut : 0);
    else if (isa<BlockDenseStructureAttr>(op.getStructure()))
      result = createBlockDenseCalls(rewriter, op.getLoc(), op);
    else if (isa<BlockShuffleStructureAttr>(op.getStructure()))
      result = createBlockShuffleCalls(rewriter, op.getLoc(), op);
    else if (isa<LowRankStructureAttr>(op.getStructure()))
      result = createLowRankCall(rewriter, op.getLoc(), op);
    else
      result = createLinearCall(
          rewriter, op.getLoc(), "tvc_kernel_linear_2to4_f32", op.getInput(),
          op.getWeights(), op.getBias(), op.getResult().getType(), 0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LmHeadToRuntime : public OpRewritePattern<LmHeadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LmHeadOp op,
                                PatternRewriter &rewriter) const override {
    if (std::optional<std::string> why = whyNoLinearKernel(op))
      return rewriter.notifyMatchFailure(op, *why);
    Value result = createLinearCall(
        rewriter, op.getLoc(), getDenseKernel(op.getWeight()), op.getHidden(),
        op.getWeight(), Value(), op.getResult().getType(), 0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::tvc::whyNoLinearKernel(Operation *op) {
  if (auto linear = dyn_cast<LinearOp>(op)) {
    auto sparse = dyn_cast<SparseNMStructureAttr>(linear.getStructure());
    bool twoFour = sparse && sparse.getN() == 2 && sparse.getM() == 4;
    bool blockDense = isa<BlockDenseStructureAttr>(linear.getStructure());
    bool blockShuffle = isa<BlockShuffleStructureAttr>(linear.getStructure());
    bool lowRank = isa<LowRankStructureAttr>(linear.getStructure());
    if (!isa<DenseStructureAttr>(linear.getStructure()) && !twoFour &&
        !blockDense && !blockShuffle && !lowRank)
      return "the runtime has no kernel for weight structure " +
             llvm::formatv("{0}", linear.getStructure()).str();
    // The kernel takes the block sizes as constants and trusts the input
    // to be blocks * block_k wide.
    RankedTensorType inputType = linear.getInput().getType();
    if (blockDense && (!cast<RankedTensorType>(linear.getWeights()[0].getType())
                            .hasStaticShape() ||
                       inputType.isDynamicDim(inputType.getRank() - 1)))
      return std::string("#tvc.block_dense needs static block sizes and a "
                         "static input width");
    if (blockShuffle &&
        (!cast<RankedTensorType>(linear.getWeights()[0].getType())
              .hasStaticShape() ||
         !cast<RankedTensorType>(linear.getWeights()[1].getType())
              .hasStaticShape() ||
         inputType.isDynamicDim(inputType.getRank() - 1)))
      return std::string("#tvc.block_shuffle needs static block sizes and a "
                         "static input width");
    bool twoWeights = blockDense || blockShuffle || lowRank;
    bool dense = isa<DenseStructureAttr>(linear.getStructure());
    bool supported =
        isF32Tensor(linear.getInput()) &&
        (dense ? !getDenseKernel(linear.getWeights().front()).empty()
               : isF32Tensor(linear.getWeights().front())) &&
        (!twoWeights || isF32Tensor(linear.getWeights()[1])) &&
        (!linear.getBias() || isF32Tensor(linear.getBias()));
    if (!supported)
      return std::string(
          "only f32 operands are supported (and bf16 or f16 dense weights)");
    return std::nullopt;
  }
  if (auto head = dyn_cast<LmHeadOp>(op)) {
    if (!isF32Tensor(head.getHidden()) ||
        getDenseKernel(head.getWeight()).empty())
      return std::string(
          "only f32 operands are supported (and bf16 or f16 weights)");
    return std::nullopt;
  }
  return std::nullopt;
}

void mlir::tvc::populateTvcLinearToRuntimePatterns(
    RewritePatternSet &patterns) {
  patterns.add<LinearToRuntime, LmHeadToRuntime>(patterns.getContext());
}
