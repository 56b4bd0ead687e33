//===- MergeModules.cpp - tvc-gpu-merge-modules ---------------------------===//
//
// One gpu.module for all outlined kernels: one PTX compilation and one
// module load instead of one per kernel.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUMERGEMODULES
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kMergedName = "tvc_kernels";

/// True if `module` holds nothing but kernel functions (what outlining
/// makes), so its contents can move.
bool onlyKernels(gpu::GPUModuleOp module) {
  // gpu.module has no terminator.
  return llvm::all_of(module.getBody()->getOperations(),
                      [](Operation &op) {
                        auto function = dyn_cast<gpu::GPUFuncOp>(op);
                        return function && function.isKernel();
                      });
}

struct MergeModulesPass
    : public tvc::impl::TvcGpuMergeModulesBase<MergeModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources;
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>())
      if (onlyKernels(gpuModule))
        sources.push_back(gpuModule);
    if (sources.size() < 2)
      return;
    if (module.lookupSymbol(kMergedName)) {
      module.emitError() << "tvc-gpu-merge-modules: the symbol '"
                         << kMergedName << "' is taken";
      return signalPassFailure();
    }

    OpBuilder builder(sources.front());
    auto merged = gpu::GPUModuleOp::create(builder, sources.front().getLoc(),
                                           kMergedName);
    if (ArrayAttr targets = sources.front().getTargetsAttr())
      merged.setTargetsAttr(targets);
    // Old symbol (module::kernel) -> new (tvc_kernels::module).
    DenseMap<Attribute, SymbolRefAttr> renamed;
    MLIRContext *context = &getContext();
    Block *body = merged.getBody();
    SymbolTable mergedSymbols(merged);
    for (gpu::GPUModuleOp source : sources) {
      bool single = llvm::hasSingleElement(source.getBody()->getOperations());
      for (Operation &op :
           llvm::make_early_inc_range(source.getBody()->getOperations())) {
        auto kernel = cast<gpu::GPUFuncOp>(op);
        // Outlining makes one kernel per module, and module names are
        // unique: the kernel takes its module's name.
        std::string name =
            single ? source.getName().str()
                   : (source.getName() + "_" + kernel.getName()).str();
        if (mergedSymbols.lookup(name)) {
          kernel.emitOpError() << "cannot move into @" << kMergedName
                               << ": the name '" << name << "' is taken";
          return signalPassFailure();
        }
        renamed[SymbolRefAttr::get(
            source.getNameAttr(),
            {FlatSymbolRefAttr::get(kernel.getNameAttr())})] =
            SymbolRefAttr::get(StringAttr::get(context, kMergedName),
                               {FlatSymbolRefAttr::get(context, name)});
        kernel->moveBefore(body, body->end());
        kernel.setName(name);
        mergedSymbols.insert(kernel);
      }
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find(launch.getKernelAttr());
      if (it == renamed.end())
        return;
      launch.setKernelAttr(it->second);
    });
    for (gpu::GPUModuleOp source : sources)
      source.erase();
  }
};

} // namespace
