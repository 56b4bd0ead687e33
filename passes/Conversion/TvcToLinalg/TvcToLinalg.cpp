//===- TvcToLinalg.cpp - convert-tvc-to-linalg ----------------------------===//
//
// The pass lowering light tvc ops to linalg on tensors, the conversion
// target it uses, and the helpers the op families share.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToLinalg/TvcToLinalg.h"
#include "passes/Conversion/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTTVCTOLINALG
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// True for the ops this conversion lowers.
static bool isLoweredOp(Operation *op) {
  return isa<EmbeddingOp, LearnedPositionsOp, RopeOp, LayerNormOp, RmsNormOp,
             GeluOp, SiluOp, ReluOp, AddOp, GluOp, SplitOp, SoftmaxOp,
             ArgmaxOp>(op);
}

std::optional<std::string> mlir::tvc::getUnsupportedReason(Operation *op) {
  // The generated bodies use f32 arithmetic and f32 constant tables; an
  // embedding only copies rows, so it also gathers a 16-bit table's rows
  // (which tvc-convert-precision then widens).
  for (Type type :
       llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !isa<FloatType>(tensor.getElementType()) ||
        tensor.getElementType().isF32() ||
        (isa<EmbeddingOp>(op) &&
         (tensor.getElementType().isBF16() || tensor.getElementType().isF16())))
      continue;
    std::string message;
    llvm::raw_string_ostream os(message);
    os << "expects f32 tensors, got " << type;
    return message;
  }
  if (auto rope = dyn_cast<RopeOp>(op))
    // The per-channel frequency tables are built at compile time.
    if (ShapedType::isDynamic(rope.getInput().getType().getDimSize(2)))
      return std::string("expects a static width (heads * head_dim)");
  return std::nullopt;
}

SmallVector<OpFoldResult> mlir::tvc::getSizes(OpBuilder &builder, Location loc,
                                              Value tensor) {
  return tensor::getMixedSizes(builder, loc, tensor);
}

Value mlir::tvc::createEmptyTensor(OpBuilder &builder, Location loc,
                                   ArrayRef<OpFoldResult> sizes,
                                   Type elementType) {
  return tensor::EmptyOp::create(builder, loc, sizes, elementType);
}

Value mlir::tvc::createFilledTensor(OpBuilder &builder, Location loc,
                                    ArrayRef<OpFoldResult> sizes,
                                    TypedAttr value) {
  Value empty = createEmptyTensor(builder, loc, sizes, value.getType());
  Value scalar = arith::ConstantOp::create(builder, loc, value);
  return linalg::FillOp::create(builder, loc, scalar, empty).getResult(0);
}

Value mlir::tvc::createF32Constant(OpBuilder &builder, Location loc,
                                   double value) {
  return arith::ConstantOp::create(builder, loc,
                                   builder.getF32FloatAttr(value));
}

Value mlir::tvc::getDimAsF32(OpBuilder &builder, Location loc, Value tensor,
                             int64_t dim) {
  OpFoldResult size = tensor::getMixedSize(builder, loc, tensor, dim);
  if (std::optional<int64_t> known = getConstantIntValue(size))
    return createF32Constant(builder, loc, static_cast<double>(*known));
  Value asInt = arith::IndexCastUIOp::create(builder, loc, builder.getI64Type(),
                                             cast<Value>(size));
  return arith::UIToFPOp::create(builder, loc, builder.getF32Type(), asInt);
}

Value mlir::tvc::getLastIndex(OpBuilder &builder, Location loc, Value tensor,
                              int64_t dim) {
  Value size = tensor::DimOp::create(builder, loc, tensor, dim);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  return arith::SubIOp::create(builder, loc, size, one);
}

Value mlir::tvc::clampIdToIndex(OpBuilder &builder, Location loc, Value id,
                                Value lastIndex) {
  Value index =
      arith::IndexCastOp::create(builder, loc, builder.getIndexType(), id);
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value atLeastZero = arith::MaxSIOp::create(builder, loc, index, zero);
  return arith::MinSIOp::create(builder, loc, atLeastZero, lastIndex);
}

AffineMap mlir::tvc::getIdentityMap(MLIRContext *context, int64_t rank) {
  return AffineMap::getMultiDimIdentityMap(rank, context);
}

AffineMap mlir::tvc::getLeadingDimsMap(MLIRContext *context, int64_t rank) {
  // Built from expressions: getMajorSubMap(0) of a rank-1 map is null, not
  // the `(d0) -> ()` a vector's reduction needs.
  SmallVector<AffineExpr> leading;
  for (int64_t dim = 0; dim + 1 < rank; ++dim)
    leading.push_back(getAffineDimExpr(dim, context));
  return AffineMap::get(rank, 0, leading, context);
}

AffineMap mlir::tvc::getLastDimMap(MLIRContext *context, int64_t rank) {
  return AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, context));
}

SmallVector<utils::IteratorType> mlir::tvc::getIterators(int64_t rank,
                                                         bool reduceLast) {
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  if (reduceLast && rank > 0)
    iterators.back() = utils::IteratorType::reduction;
  return iterators;
}

//===----------------------------------------------------------------------===//
// Patterns and target
//===----------------------------------------------------------------------===//

void mlir::tvc::populateTvcToLinalgPatterns(RewritePatternSet &patterns) {
  populateTvcElementwiseToLinalgPatterns(patterns);
  populateTvcNormalizationToLinalgPatterns(patterns);
  populateTvcEmbeddingToLinalgPatterns(patterns);
  populateTvcShapeToLinalgPatterns(patterns);
}

void mlir::tvc::configureTvcToLinalgTarget(ConversionTarget &target) {
  target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                         math::MathDialect, tensor::TensorDialect>();
  target.addIllegalOp<EmbeddingOp, LearnedPositionsOp, RopeOp, LayerNormOp,
                      RmsNormOp, GeluOp, SiluOp, ReluOp, AddOp, GluOp, SplitOp,
                      SoftmaxOp, ArgmaxOp>();
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertTvcToLinalgPass
    : mlir::tvc::impl::ConvertTvcToLinalgBase<ConvertTvcToLinalgPass> {
  void runOnOperation() override {
    // Report every op the patterns would refuse, with the reason, before
    // converting anything (the conversion alone would only say "failed to
    // legalize").
    bool unsupported = false;
    getOperation()->walk([&](Operation *op) {
      if (!isLoweredOp(op))
        return;
      if (std::optional<std::string> reason = getUnsupportedReason(op)) {
        InFlightDiagnostic diag =
            op->emitOpError("cannot be lowered to linalg: ") << *reason;
        diag.attachNote() << "convert-tvc-to-linalg lowers f32 tensors (and "
                             "RoPE with a static width)";
        unsupported = true;
      }
    });
    if (unsupported)
      return signalPassFailure();

    ConversionTarget target(getContext());
    configureTvcToLinalgTarget(target);
    RewritePatternSet patterns(&getContext());
    populateTvcToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
