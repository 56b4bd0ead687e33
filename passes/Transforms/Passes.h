//===- Passes.h - tvc transformation passes ----------------------*- C++ -*-===//
//
// Declarations (generated from Passes.td) and registration of the tvc
// transformation and analysis passes.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_TRANSFORMS_PASSES_H
#define TVC_PASSES_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::tvc {

#define GEN_PASS_DECL
#include "passes/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Transforms/Passes.h.inc"

/// The bytes of the weights the public functions of `module` read, each
/// counted once (rows of a global that is read themselves are part of it):
/// what a budget of P% refers to.
uint64_t modelWeightBytes(ModuleOp module);

/// Replaces every tvc.layer under `root` by the ops of its body (what
/// tvc-inline-layers does).
void inlineAllLayers(Operation *root);

/// The rewrites of tvc-expand-structured-linear: #tvc.lora linears, and
/// #tvc.low_rank ones when `expandLowRank`, to chains of dense tvc.linear
/// ops.
void populateTvcExpandStructuredLinearPatterns(RewritePatternSet &patterns,
                                               bool expandLowRank = true);

} // namespace mlir::tvc

#endif // TVC_PASSES_TRANSFORMS_PASSES_H
