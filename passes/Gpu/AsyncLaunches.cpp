//===- AsyncLaunches.cpp - tvc-gpu-async-launches -------------------------===//
//
// One stream per function, one wait per return: launches become
// asynchronous on the token of a `gpu.wait async` at the function's start.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUASYNCLAUNCHES
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

struct AsyncLaunchesPass
    : public tvc::impl::TvcGpuAsyncLaunchesBase<AsyncLaunchesPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    auto tokenType = gpu::AsyncTokenType::get(context);
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      SmallVector<Operation *> ops;
      function.walk([&](Operation *op) {
        if (auto async = dyn_cast<gpu::AsyncOpInterface>(op))
          if (!async.getAsyncToken() &&
              isa<gpu::LaunchFuncOp, gpu::AllocOp, gpu::DeallocOp>(op))
            ops.push_back(op);
      });
      if (ops.empty())
        continue;
      // Every launch depends on the function's one stream, so they all go
      // to it: the stream orders them (and the runtime kernel calls, which
      // use the same current stream), not a chain of tokens, which would
      // have to be threaded through any region holding a launch.
      OpBuilder builder = OpBuilder::atBlockBegin(&function.front());
      Value stream = gpu::WaitOp::create(builder, function.getLoc(), tokenType,
                                         ValueRange())
                         .getAsyncToken();
      for (Operation *op : ops) {
        builder.setInsertionPoint(op);
        // Device buffers the memory plan could not place: allocated and
        // freed in stream order too (upstream lowers only asynchronous ones).
        if (auto alloc = dyn_cast<gpu::AllocOp>(op)) {
          auto async = gpu::AllocOp::create(
              builder, alloc.getLoc(), alloc.getMemref().getType(), tokenType,
              ValueRange{stream}, alloc.getDynamicSizes(),
              alloc.getSymbolOperands(), alloc.getHostShared());
          alloc.getMemref().replaceAllUsesWith(async.getMemref());
          alloc.erase();
          continue;
        }
        if (auto dealloc = dyn_cast<gpu::DeallocOp>(op)) {
          gpu::DeallocOp::create(builder, dealloc.getLoc(), tokenType,
                                 ValueRange{stream}, dealloc.getMemref());
          dealloc.erase();
          continue;
        }
        auto launch = cast<gpu::LaunchFuncOp>(op);
        std::optional<gpu::KernelDim3> cluster;
        if (launch.hasClusterSize())
          cluster = launch.getClusterSizeOperandValues();
        gpu::LaunchFuncOp::create(
            builder, launch.getLoc(), launch.getKernelAttr(),
            launch.getGridSizeOperandValues(),
            launch.getBlockSizeOperandValues(),
            launch.getDynamicSharedMemorySize(), launch.getKernelOperands(),
            tokenType, ValueRange{stream}, cluster);
        launch.erase();
      }
      // The caller reads results when the call returns.
      function.walk([&](func::ReturnOp ret) {
        builder.setInsertionPoint(ret);
        gpu::WaitOp::create(builder, ret.getLoc(), Type(), ValueRange{stream});
      });
    }
  }
};

} // namespace
