//===- TvcToLinalg.h - Lowering light tvc ops to linalg ---------*- C++ -*-===//
//
// The patterns of convert-tvc-to-linalg, one registration function per op
// family (Elementwise.cpp, Normalization.cpp, Embedding.cpp, Shape.cpp), and
// the helpers the families share to build linalg on tensors: shapes read
// with tensor.dim, affine maps over the last dimension, f32 constants and
// the check of what the lowering supports.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_CONVERSION_TVCTOLINALG_TVCTOLINALG_H
#define TVC_PASSES_CONVERSION_TVCTOLINALG_TVCTOLINALG_H

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace mlir {
class ConversionTarget;
} // namespace mlir

namespace mlir::tvc {

/// Adds the patterns lowering every light tvc op (embedding, positions,
/// RoPE, norms, activations, add, glu, split, softmax, argmax) to linalg,
/// tensor, arith and math on tensors.
void populateTvcToLinalgPatterns(RewritePatternSet &patterns);

/// Marks the ops those patterns lower illegal (all other ops stay legal).
void configureTvcToLinalgTarget(ConversionTarget &target);

/// The families' registration functions (one file each).
void populateTvcElementwiseToLinalgPatterns(RewritePatternSet &patterns);
void populateTvcNormalizationToLinalgPatterns(RewritePatternSet &patterns);
void populateTvcEmbeddingToLinalgPatterns(RewritePatternSet &patterns);
void populateTvcShapeToLinalgPatterns(RewritePatternSet &patterns);

//===----------------------------------------------------------------------===//
// Helpers for patterns
//===----------------------------------------------------------------------===//

/// Why `op` (one of the ops lowered here) cannot be lowered, or nullopt when
/// it can: every float tensor must be f32, RoPE needs a static width.
std::optional<std::string> getUnsupportedReason(Operation *op);

/// The sizes of `tensor`, dynamic ones read with tensor.dim.
SmallVector<OpFoldResult> getSizes(OpBuilder &builder, Location loc,
                                   Value tensor);

/// `tensor.empty` of `sizes` and `elementType`.
Value createEmptyTensor(OpBuilder &builder, Location loc,
                        ArrayRef<OpFoldResult> sizes, Type elementType);

/// A tensor of `sizes` filled with `value` (linalg.fill of tensor.empty).
Value createFilledTensor(OpBuilder &builder, Location loc,
                         ArrayRef<OpFoldResult> sizes, TypedAttr value);

/// An f32 `arith.constant`.
Value createF32Constant(OpBuilder &builder, Location loc, double value);

/// Dimension `dim` of `tensor` as an f32 (the count a mean divides by).
Value getDimAsF32(OpBuilder &builder, Location loc, Value tensor, int64_t dim);

/// The last valid index of dimension `dim` of `tensor` (its size - 1).
Value getLastIndex(OpBuilder &builder, Location loc, Value tensor, int64_t dim);

/// An integer id read from a tensor, as an index clamped to
/// `[0, lastIndex]`: ids outside the table are undefined behaviour by the
/// op's contract, and clamping keeps the generated code from reading
/// outside the buffer.
Value clampIdToIndex(OpBuilder &builder, Location loc, Value id,
                     Value lastIndex);

/// Identity map over `rank` loops.
AffineMap getIdentityMap(MLIRContext *context, int64_t rank);
/// Map over `rank` loops that drops the last one (a per-row value).
AffineMap getLeadingDimsMap(MLIRContext *context, int64_t rank);
/// Map over `rank` loops that keeps only the last one (a per-channel
/// vector such as a norm's scale).
AffineMap getLastDimMap(MLIRContext *context, int64_t rank);

/// `rank` iterators, all parallel or with the last one a reduction.
SmallVector<utils::IteratorType> getIterators(int64_t rank,
                                              bool reduceLast = false);

} // namespace mlir::tvc

#endif // TVC_PASSES_CONVERSION_TVCTOLINALG_TVCTOLINALG_H
