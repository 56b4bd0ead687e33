//===- Shape.cpp - tvc tensor plumbing to tensor ops ----------------------===//
//
// split: each piece is a tensor.extract_slice of the last dimension at the
// running sum of the sizes (bufferization turns the slices into views).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToLinalg/TvcToLinalg.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// Piece `i` is `input[..., offset_i : offset_i + sizes[i]]`.
struct SplitToSlices : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));

    SmallVector<Value> pieces;
    int64_t offset = 0;
    for (auto [size, piece] : llvm::zip_equal(op.getSizes(), op.getPieces())) {
      offsets.back() = rewriter.getIndexAttr(offset);
      sizes.back() = rewriter.getIndexAttr(size);
      pieces.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, cast<RankedTensorType>(piece.getType()), input,
          offsets, sizes, strides));
      offset += size;
    }
    rewriter.replaceOp(op, pieces);
    return success();
  }
};

} // namespace

void mlir::tvc::populateTvcShapeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SplitToSlices>(patterns.getContext());
}
