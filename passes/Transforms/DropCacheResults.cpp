//===- DropCacheResults.cpp - tvc-drop-cache-results ----------------------===//
//
// Removes KV-cache results that bufferization wrote in place into the
// caller's argument, so nothing copies them on return.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCDROPCACHERESULTS
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

struct DropCacheResultsPass
    : public tvc::impl::TvcDropCacheResultsBase<DropCacheResultsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal() ||
          !SymbolTable::symbolKnownUseEmpty(function, module))
        continue;
      SmallVector<func::ReturnOp> returns;
      function.walk([&](func::ReturnOp op) { returns.push_back(op); });
      llvm::BitVector drop(function.getNumResults());
      for (unsigned index = 0; index < function.getNumResults(); ++index) {
        auto updates =
            function.getResultAttrOfType<IntegerAttr>(index, "tvc.updates_arg");
        if (!updates || updates.getInt() < 0 ||
            updates.getInt() >= function.getNumArguments())
          continue;
        Value argument = function.getArgument(updates.getInt());
        drop[index] = llvm::all_of(returns, [&](func::ReturnOp op) {
          return op.getOperand(index) == argument;
        });
      }
      if (drop.none())
        continue;
      for (func::ReturnOp op : returns) {
        SmallVector<Value> kept;
        for (auto [index, value] : llvm::enumerate(op.getOperands()))
          if (!drop[index])
            kept.push_back(value);
        op->setOperands(kept);
      }
      if (failed(function.eraseResults(drop)))
        return signalPassFailure();
    }
  }
};

} // namespace
