//===- TvcToRuntime.h - heavy tvc ops to runtime kernel calls ---*- C++ -*-===//
//
// Patterns that rewrite heavy tvc ops into tvc.kernel_call, one file per op
// family (Linear.cpp, Attention.cpp), and the helpers they share. Each
// family also says why an op cannot be lowered, so the pass reports a
// precise error instead of a bare legalization failure.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_CONVERSION_TVCTORUNTIME_TVCTORUNTIME_H
#define TVC_PASSES_CONVERSION_TVCTORUNTIME_TVCTORUNTIME_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace mlir::tvc {

/// Adds the linear-family patterns (tvc.linear, tvc.lm_head).
void populateTvcLinearToRuntimePatterns(RewritePatternSet &patterns);
/// Adds the attention-family patterns (tvc.attention).
void populateTvcAttentionToRuntimePatterns(RewritePatternSet &patterns);
/// Adds every pattern of convert-tvc-to-runtime.
void populateTvcToRuntimePatterns(RewritePatternSet &patterns);

/// Why `op` (a heavy op) has no runtime kernel, or nullopt when it has one.
/// Returns nullopt as well for ops that are not heavy.
std::optional<std::string> whyNoLinearKernel(Operation *op);
std::optional<std::string> whyNoAttentionKernel(Operation *op);

namespace runtime_lowering {
/// `tensor.dim` of `value` at `dim` as an i64.
Value dimAsI64(OpBuilder &b, Location loc, Value value, int64_t dim);
/// The product of dims [0, end) of `value` as an i64.
Value leadingDimsProduct(OpBuilder &b, Location loc, Value value, int64_t end);
/// An i64 / f64 constant.
Value i64Constant(OpBuilder &b, Location loc, int64_t value);
Value f64Constant(OpBuilder &b, Location loc, double value);
/// A `tensor.empty` of `type` whose dynamic dims are those of `like` at the
/// same positions (`like` has at least `type`'s rank - 1 leading dims that
/// match it).
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, Value like);
} // namespace runtime_lowering

} // namespace mlir::tvc

#endif // TVC_PASSES_CONVERSION_TVCTORUNTIME_TVCTORUNTIME_H
