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

namespace mlir::tvc {

#define GEN_PASS_DECL
#include "passes/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Transforms/Passes.h.inc"

/// Replaces every tvc.layer under `root` by the ops of its body (what
/// tvc-inline-layers does).
void inlineAllLayers(Operation *root);

} // namespace mlir::tvc

#endif // TVC_PASSES_TRANSFORMS_PASSES_H
