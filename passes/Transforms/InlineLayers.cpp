//===- InlineLayers.cpp - tvc-inline-layers -------------------------------===//
//
// Flattens tvc.layer regions into their enclosing block so that lowering
// sees one schedule of ops. Inner layers are inlined before outer ones.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCINLINELAYERS
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

void mlir::tvc::inlineAllLayers(Operation *root) {
  SmallVector<LayerOp> layers;
  // Post-order: nested layers come before the layers that hold them.
  root->walk([&](LayerOp layer) { layers.push_back(layer); });
  IRRewriter rewriter(root->getContext());
  for (LayerOp layer : layers) {
    Block &body = layer.getBody().front();
    // Inline with the terminator, so yielded block arguments are already
    // remapped to the layer's inputs when the yield is read.
    auto yield = cast<YieldOp>(body.getTerminator());
    rewriter.inlineBlockBefore(&body, layer, layer.getInputs());
    SmallVector<Value> results(yield.getValues());
    rewriter.eraseOp(yield);
    rewriter.replaceOp(layer, results);
  }
}

namespace {

struct InlineLayersPass
    : public tvc::impl::TvcInlineLayersBase<InlineLayersPass> {
  void runOnOperation() override { inlineAllLayers(getOperation()); }
};

} // namespace
