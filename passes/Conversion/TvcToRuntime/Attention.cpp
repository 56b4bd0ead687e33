//===- Attention.cpp - tvc.attention to the runtime -----------------------===//
//
// tvc.attention becomes tvc_kernel_attention_f32, whose params struct is
// {q, k, v, out, batch, q_len, kv_len, kv_capacity, heads, kv_heads,
// head_dim, mask_kind, window, scale}. Without a KV cache the key/value
// buffers hold exactly kv_len rows (kv_capacity = kv_len); with `kv_len`
// they are a cache whose capacity is their row count.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToRuntime/TvcToRuntime.h"

#include "llvm/Support/FormatVariadic.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::tvc;
using namespace mlir::tvc::runtime_lowering;

namespace {

// Mask kinds of tvc_attention_f32_params_t (runtime/api/tvc_kernels.h).
constexpr int64_t kMaskFull = 0;
constexpr int64_t kMaskCausal = 1;
constexpr int64_t kMaskSlidingWindow = 2;

/// The runtime's mask kind and window for `mask`, if it has one.
std::optional<std::pair<int64_t, int64_t>> runtimeMask(Attribute mask) {
  if (isa<FullMaskAttr>(mask))
    return std::make_pair(kMaskFull, int64_t{0});
  if (isa<CausalMaskAttr>(mask))
    return std::make_pair(kMaskCausal, int64_t{0});
  if (auto window = dyn_cast<SlidingWindowMaskAttr>(mask))
    return std::make_pair(kMaskSlidingWindow, window.getWindow());
  return std::nullopt;
}

struct AttentionToRuntime : public OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (std::optional<std::string> why = whyNoAttentionKernel(op))
      return rewriter.notifyMatchFailure(op, *why);
    Location loc = op.getLoc();
    auto [maskKind, window] = *runtimeMask(op.getMask());
    Value query = op.getQuery(), key = op.getKey(), value = op.getValue();
    // Without a cache the keys fill the key tensor; with one, kv_len says
    // how many of its rows are keys.
    Value capacity = dimAsI64(rewriter, loc, key, 1);
    Value kvLen = capacity;
    if (Value length = op.getKvLen())
      kvLen = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                         length);
    SmallVector<Value> scalars{
        dimAsI64(rewriter, loc, query, 0),
        dimAsI64(rewriter, loc, query, 1),
        kvLen,
        capacity,
        i64Constant(rewriter, loc, op.getHeads()),
        i64Constant(rewriter, loc, op.getKvHeads()),
        i64Constant(rewriter, loc, op.getHeadDim()),
        i64Constant(rewriter, loc, maskKind),
        i64Constant(rewriter, loc, window),
        f64Constant(rewriter, loc, op.getScaleOrDefault()),
    };
    RankedTensorType resultType = op.getResult().getType();
    Value init = emptyLike(rewriter, loc, resultType, query);
    auto call = KernelCallOp::create(
        rewriter, loc, TypeRange{resultType},
        rewriter.getStringAttr("tvc_kernel_attention_f32"),
        ValueRange{query, key, value}, ValueRange{init}, scalars);
    rewriter.replaceOp(op, call.getResult(0));
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::tvc::whyNoAttentionKernel(Operation *op) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention)
    return std::nullopt;
  if (!runtimeMask(attention.getMask()))
    return "the runtime has no attention kernel for mask " +
           llvm::formatv("{0}", attention.getMask()).str();
  for (Value operand :
       {attention.getQuery(), attention.getKey(), attention.getValue()})
    if (!cast<RankedTensorType>(operand.getType()).getElementType().isF32())
      return std::string("only f32 operands are supported");
  auto query = attention.getQuery().getType();
  auto value = attention.getValue().getType();
  if (query.isDynamicDim(2) || value.isDynamicDim(2))
    return std::string("head widths must be static");
  int64_t valueHeadDim = value.getDimSize(2) / attention.getKvHeads();
  if (valueHeadDim != attention.getHeadDim())
    return llvm::formatv("value heads ({0} wide) must be as wide as query "
                         "heads ({1})",
                         valueHeadDim, attention.getHeadDim())
        .str();
  return std::nullopt;
}

void mlir::tvc::populateTvcAttentionToRuntimePatterns(
    RewritePatternSet &patterns) {
  patterns.add<AttentionToRuntime>(patterns.getContext());
}
