//===- FuseLinearActivation.cpp - tvc-fuse-linear-activation --------------===//
//
// Folds an activation that only a dense linear kernel call feeds into that
// call's flags (bits 3-5, runtime/api/tvc_kernels.h), one pattern per
// activation op, so the kernel applies it while writing its output.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "runtime/api/tvc_kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCFUSELINEARACTIVATION
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

// The activation field of the linear kernels' flags: the runtime's ABI.
constexpr int64_t kActivationMask = TVC_LINEAR_ACTIVATION_MASK;
constexpr int64_t kRelu = TVC_LINEAR_RELU;
constexpr int64_t kGelu = TVC_LINEAR_GELU;
constexpr int64_t kGeluTanh = TVC_LINEAR_GELU_TANH;
constexpr int64_t kSilu = TVC_LINEAR_SILU;

/// The scalars of the dense linear kernels: m, n, k, flags.
constexpr unsigned kFlagsScalar = 3;

/// The entries that accept an activation (their CUDA versions too, which
/// tvc-gpu-select-kernels picks later by these names).
bool acceptsActivation(StringRef callee) {
  return callee == "tvc_kernel_linear_f32" ||
         callee == "tvc_kernel_linear_bf16w_f32" ||
         callee == "tvc_kernel_linear_f16w_f32";
}

int64_t activationFlags(GeluOp op) {
  return op.getApproximate() == GeluApproximation::Tanh ? kGeluTanh : kGelu;
}
int64_t activationFlags(SiluOp) { return kSilu; }
int64_t activationFlags(ReluOp) { return kRelu; }

/// The flags of `value`'s defining dense linear call when the activation
/// can go into them: the call's only result, used once, constant flags
/// without an activation. Null otherwise.
KernelCallOp getFusableCall(Value value, APInt &flags) {
  auto call = value.getDefiningOp<KernelCallOp>();
  if (!call || !acceptsActivation(call.getCallee()) ||
      call->getNumResults() != 1 || !value.hasOneUse() ||
      call.getScalars().size() <= kFlagsScalar ||
      !matchPattern(call.getScalars()[kFlagsScalar], m_ConstantInt(&flags)) ||
      (flags.getSExtValue() & kActivationMask))
    return nullptr;
  return call;
}

/// activation(kernel_call linear) -> kernel_call linear with the activation
/// in its flags, when the activation is the call's only user. Also through
/// a tensor.concat of such calls (the row chunks of tvc-chunk-weights), so
/// a chunked linear computes what the whole one does, bit for bit.
template <typename ActivationOp>
struct FoldIntoLinearCall : public OpRewritePattern<ActivationOp> {
  using OpRewritePattern<ActivationOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> producers{op.getInput()};
    auto concat = op.getInput().template getDefiningOp<tensor::ConcatOp>();
    if (concat) {
      if (!concat->getResult(0).hasOneUse())
        return rewriter.notifyMatchFailure(op, "the concat has other users");
      producers.assign(concat.getInputs().begin(), concat.getInputs().end());
    }
    SmallVector<std::pair<KernelCallOp, int64_t>> calls;
    for (Value producer : producers) {
      APInt flags;
      KernelCallOp call = getFusableCall(producer, flags);
      if (!call)
        return rewriter.notifyMatchFailure(
            op, "not fed by dense linear calls that take an activation");
      calls.push_back({call, flags.getSExtValue()});
    }
    for (auto [callOp, flags] : calls) {
      KernelCallOp call = callOp;
      rewriter.setInsertionPoint(call);
      Value fused = arith::ConstantIntOp::create(rewriter, call.getLoc(),
                                                 rewriter.getI64Type(),
                                                 flags | activationFlags(op));
      rewriter.modifyOpInPlace(
          call, [&] { call.getScalarsMutable()[kFlagsScalar].set(fused); });
    }
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

struct FuseLinearActivationPass
    : public tvc::impl::TvcFuseLinearActivationBase<FuseLinearActivationPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoLinearCall<GeluOp>, FoldIntoLinearCall<SiluOp>,
                 FoldIntoLinearCall<ReluOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
