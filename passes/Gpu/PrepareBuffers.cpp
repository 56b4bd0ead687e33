//===- PrepareBuffers.cpp - tvc-gpu-prepare-buffers -----------------------===//
//
// Copies become generated kernels; buffers the memory plan left on the heap
// become device allocations.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUPREPAREBUFFERS
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

struct PrepareBuffersPass
    : public tvc::impl::TvcGpuPrepareBuffersBase<PrepareBuffersPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    llvm::SmallPtrSet<Operation *, 4> remarked;
    getOperation().walk([&](Operation *op) {
      if (isa<memref::CopyOp, memref::AllocOp, memref::DeallocOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder builder(op);
      Location loc = op->getLoc();
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        linalg::CopyOp::create(builder, loc, copy.getSource(),
                               copy.getTarget());
      } else if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (!alloc.getSymbolOperands().empty()) {
          alloc.emitOpError() << "has symbol operands, which the CUDA target "
                                 "cannot allocate";
          return signalPassFailure();
        }
        if (remarked.insert(alloc->getParentOfType<func::FuncOp>()).second)
          alloc.emitRemark()
              << "buffers without a size bound are allocated in device "
                 "memory on every call of this function (give its inputs "
                 "a tvc.max_shape to plan them in the arena)";
        auto device = gpu::AllocOp::create(
            builder, loc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            /*symbolOperands=*/ValueRange(), /*hostShared=*/false);
        alloc.replaceAllUsesWith(device.getMemref());
      } else {
        auto dealloc = cast<memref::DeallocOp>(op);
        gpu::DeallocOp::create(builder, loc, /*asyncToken=*/Type(),
                               /*asyncDependencies=*/ValueRange(),
                               dealloc.getMemref());
      }
      op->erase();
    }
  }
};

} // namespace
