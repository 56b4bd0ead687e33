//===- TvcToRuntime.cpp - convert-tvc-to-runtime --------------------------===//
//
// The pass and the helpers the op-family patterns share. Heavy ops with no
// kernel are reported first (every one, with its reason); then the patterns
// rewrite the rest.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToRuntime/TvcToRuntime.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTTVCTORUNTIME
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

Value runtime_lowering::i64Constant(OpBuilder &b, Location loc,
                                    int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), value);
}

Value runtime_lowering::f64Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                        APFloat(value));
}

Value runtime_lowering::dimAsI64(OpBuilder &b, Location loc, Value value,
                                 int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return i64Constant(b, loc, type.getDimSize(dim));
  Value size = tensor::DimOp::create(b, loc, value, dim);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), size);
}

Value runtime_lowering::leadingDimsProduct(OpBuilder &b, Location loc,
                                           Value value, int64_t end) {
  Value product = i64Constant(b, loc, 1);
  for (int64_t dim = 0; dim < end; ++dim)
    product = arith::MulIOp::create(b, loc, product,
                                    dimAsI64(b, loc, value, dim));
  return product;
}

Value runtime_lowering::emptyLike(OpBuilder &b, Location loc,
                                  RankedTensorType type, Value like) {
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, like, dim));
  return tensor::EmptyOp::create(b, loc, type, dynamicSizes);
}

void mlir::tvc::populateTvcToRuntimePatterns(RewritePatternSet &patterns) {
  populateTvcLinearToRuntimePatterns(patterns);
  populateTvcAttentionToRuntimePatterns(patterns);
}

namespace {

struct ConvertTvcToRuntimePass
    : public tvc::impl::ConvertTvcToRuntimeBase<ConvertTvcToRuntimePass> {
  void runOnOperation() override {
    bool unsupported = false;
    getOperation().walk([&](Operation *op) {
      std::optional<std::string> why = whyNoLinearKernel(op);
      if (!why)
        why = whyNoAttentionKernel(op);
      if (!why)
        return;
      op->emitOpError() << "has no runtime kernel: " << *why;
      unsupported = true;
    });
    if (unsupported)
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateTvcToRuntimePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
