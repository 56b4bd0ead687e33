//===- Passes.h - tvc conversion passes ---------------------------*- C++ -*-===//
//
// Declarations (generated from Passes.td) and registration of the tvc
// conversion passes.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_CONVERSION_PASSES_H
#define TVC_PASSES_CONVERSION_PASSES_H

#include "dialects/tvc/IR/TvcDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tvc {

#define GEN_PASS_DECL
#include "passes/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Conversion/Passes.h.inc"

} // namespace mlir::tvc

#endif // TVC_PASSES_CONVERSION_PASSES_H
