//===- Attention.cpp - tvc.attention to the runtime -----------------------===//
//
// tvc.attention becomes tvc_kernel_attention_f32, whose params struct is
// {q, k, v, out, batch, q_len, kv_len, kv_capacity, heads, kv_heads,
// head_dim, mask_kind, window, scale, global, block, top_k}. Every mask
// passes all mask fields, zero where its kind does not read them; for
// #tvc.block_local the kernel's window is `local` (window and global count
// blocks there). Without a KV cache the key/value buffers hold exactly
// kv_len rows (kv_capacity = kv_len); with `kv_len` they are a cache whose
// capacity is their row count.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToRuntime/TvcToRuntime.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "runtime/api/tvc_kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::tvc;
using namespace mlir::tvc::runtime_lowering;

namespace {

// Mask kinds of tvc_attention_f32_params_t (runtime/api/tvc_kernels.h).
constexpr int64_t kMaskFull = TVC_MASK_FULL;
constexpr int64_t kMaskCausal = TVC_MASK_CAUSAL;
constexpr int64_t kMaskSlidingWindow = TVC_MASK_SLIDING_WINDOW;
constexpr int64_t kMaskWindowGlobal = TVC_MASK_WINDOW_GLOBAL;
constexpr int64_t kMaskBlockLocal = TVC_MASK_BLOCK_LOCAL;
constexpr int64_t kMaskTopK = TVC_MASK_TOP_K;
constexpr int64_t kMaskBlockTopK = TVC_MASK_BLOCK_TOP_K;
constexpr int64_t kMaskVerticalSlash = TVC_MASK_VERTICAL_SLASH;
constexpr int64_t kMaskAlisa = TVC_MASK_ALISA;

/// The mask fields of tvc_attention_f32_params_t; zero where a kind does not
/// read them.
struct RuntimeMask {
  int64_t kind = kMaskFull;
  int64_t window = 0;
  int64_t global = 0;
  int64_t block = 0;
  int64_t topK = 0;
  int64_t vertical = 0;
  int64_t slash = 0;
  int64_t lastQueries = 0;
};

/// The runtime's mask fields for `mask`, if the kernel has its kind.
std::optional<RuntimeMask> runtimeMask(Attribute mask) {
  return llvm::TypeSwitch<Attribute, std::optional<RuntimeMask>>(mask)
      .Case([](FullMaskAttr) { return RuntimeMask{kMaskFull}; })
      .Case([](CausalMaskAttr) { return RuntimeMask{kMaskCausal}; })
      .Case([](SlidingWindowMaskAttr window) {
        return RuntimeMask{kMaskSlidingWindow, window.getWindow()};
      })
      .Case([](WindowGlobalMaskAttr window) {
        return RuntimeMask{kMaskWindowGlobal, window.getWindow(),
                           window.getGlobal()};
      })
      // The kernel's window and global count blocks for this kind.
      .Case([](BlockLocalMaskAttr blocks) {
        return RuntimeMask{kMaskBlockLocal, blocks.getLocal(),
                           blocks.getGlobal(), blocks.getBlock()};
      })
      .Case([](TopKMaskAttr topK) {
        return RuntimeMask{kMaskTopK, 0, 0, 0, topK.getK()};
      })
      .Case([](BlockTopKMaskAttr blocks) {
        return RuntimeMask{kMaskBlockTopK, 0, 0, blocks.getBlock(),
                           blocks.getK()};
      })
      .Case([](VerticalSlashMaskAttr pattern) {
        return RuntimeMask{kMaskVerticalSlash,
                           0,
                           0,
                           0,
                           0,
                           pattern.getVertical(),
                           pattern.getSlash(),
                           pattern.getLast()};
      })
      .Case([](AlisaMaskAttr alisa) {
        return RuntimeMask{kMaskAlisa, alisa.getWindow(), 0, 0, alisa.getK()};
      })
      .Default([](Attribute) { return std::nullopt; });
}

struct AttentionToRuntime : public OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (std::optional<std::string> why = whyNoAttentionKernel(op))
      return rewriter.notifyMatchFailure(op, *why);
    Location loc = op.getLoc();
    RuntimeMask mask = *runtimeMask(op.getMask());
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
        i64Constant(rewriter, loc, mask.kind),
        i64Constant(rewriter, loc, mask.window),
        f64Constant(rewriter, loc, op.getScaleOrDefault()),
        i64Constant(rewriter, loc, mask.global),
        i64Constant(rewriter, loc, mask.block),
        i64Constant(rewriter, loc, mask.topK),
        i64Constant(rewriter, loc, mask.vertical),
        i64Constant(rewriter, loc, mask.slash),
        i64Constant(rewriter, loc, mask.lastQueries),
    };
    RankedTensorType resultType = op.getResult().getType();
    Value init = emptyLike(rewriter, loc, resultType, query);
    if (Value state = op.getState()) {
      // ALISA's carried state: the state entry point, whose params struct
      // has the state pointer after out (the second destination).
      auto call = KernelCallOp::create(
          rewriter, loc, TypeRange{resultType, state.getType()},
          rewriter.getStringAttr("tvc_kernel_attention_state_f32"),
          ValueRange{query, key, value}, ValueRange{init, state}, scalars);
      rewriter.replaceOp(op, call.getResults());
      return success();
    }
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
  if (isa<AlisaMaskAttr>(attention.getMask()) && attention.getKvLen() &&
      !attention.getState())
    return std::string("#tvc.alisa over a KV cache needs the state of the "
                       "earlier calls (tvc-derive-decode adds it)");
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
