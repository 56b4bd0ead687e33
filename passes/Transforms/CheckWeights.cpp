//===- CheckWeights.cpp - tvc-check-weights --------------------------------===//
//
// Checks every tvc.global's bytes through the weight store: external
// tensors exist in their safetensors file with the declared dtype and shape,
// inline values have a readable layout. Reports all bad globals, then fails.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/WeightStore.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCCHECKWEIGHTS
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

struct CheckWeightsPass
    : public tvc::impl::TvcCheckWeightsBase<CheckWeightsPass> {
  using TvcCheckWeightsBase::TvcCheckWeightsBase;

  void runOnOperation() override {
    WeightStore store(baseDir);
    bool failed = false;
    for (GlobalOp global : getOperation().getOps<GlobalOp>()) {
      llvm::Expected<WeightView> view = store.read(global);
      if (view)
        continue;
      global.emitError() << llvm::toString(view.takeError());
      failed = true;
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
