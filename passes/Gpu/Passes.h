//===- Passes.h - tvc passes of the CUDA target -------------------*- C++ -*-===//
//
// Declarations (generated from Passes.td) and registration of the passes
// that take bufferized tvc modules to host code plus GPU kernels.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_GPU_PASSES_H
#define TVC_PASSES_GPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir::tvc {

#define GEN_PASS_DECL
#include "passes/Gpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Gpu/Passes.h.inc"

} // namespace mlir::tvc

#endif // TVC_PASSES_GPU_PASSES_H
