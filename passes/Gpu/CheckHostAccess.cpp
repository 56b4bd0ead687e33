//===- CheckHostAccess.cpp - tvc-gpu-check-host-access --------------------===//
//
// The host code of a CUDA artifact may only touch rank-0 arguments' memory.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUCHECKHOSTACCESS
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

/// True if `value` is a rank-0 memref argument of a function (or a view
/// of one): host memory by the CUDA target's calling convention.
bool isHostScalar(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  auto argument = dyn_cast<BlockArgument>(value);
  auto type = dyn_cast<MemRefType>(value.getType());
  return argument && type && type.getRank() == 0 &&
         isa<FunctionOpInterface>(argument.getOwner()->getParentOp());
}

struct CheckHostAccessPass
    : public tvc::impl::TvcGpuCheckHostAccessBase<CheckHostAccessPass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      // Device-side operations and calls whose callee reads the memory on
      // the device (the runtime's CUDA kernel entries) are fine.
      if (op->getDialect() &&
          op->getDialect()->getNamespace() ==
              gpu::GPUDialect::getDialectNamespace())
        return WalkResult::advance();
      if (auto call = dyn_cast<tvc::KernelCallOp>(op))
        if (call.getCallee().starts_with("tvc_cuda_kernel_"))
          return WalkResult::advance();
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      if (!effects)
        return WalkResult::advance();
      SmallVector<MemoryEffects::EffectInstance> instances;
      effects.getEffects(instances);
      for (const MemoryEffects::EffectInstance &effect : instances) {
        if (!isa<MemoryEffects::Read, MemoryEffects::Write>(effect.getEffect()))
          continue;
        Value value = effect.getValue();
        if (!value || !isa<MemRefType>(value.getType()) ||
            isHostScalar(value))
          continue;
        op->emitOpError()
            << "reads or writes device memory on the host in a CUDA "
               "artifact (only rank-0 arguments are host memory); this op "
               "must run in a kernel";
        failed = true;
        break;
      }
      return WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
