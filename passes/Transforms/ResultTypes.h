//===- ResultTypes.h - Re-inferring result types in place -------*- C++ -*-===//
//
// Passes that change the types of a function's values (tvc-derive-decode's
// one-token shapes, tvc-convert-precision's f32 activations) walk the body
// in order and let each op recompute its result types from its operands.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_TRANSFORMS_RESULTTYPES_H
#define TVC_PASSES_TRANSFORMS_RESULTTYPES_H

#include "mlir/IR/Operation.h"

namespace mlir::tvc {

enum class Reinferred {
  /// The results took the types the op infers from its operands.
  Done,
  /// The op has no type inference (nor SameOperandsAndResultType); its
  /// results are unchanged.
  NotInferable,
  /// Inference failed for these operands.
  Failed,
};

/// Sets `op`'s result types from its current operands: through
/// InferTypeOpInterface, or to the first operand's type for an op with
/// SameOperandsAndResultType.
Reinferred reinferResultTypes(Operation *op);

} // namespace mlir::tvc

#endif // TVC_PASSES_TRANSFORMS_RESULTTYPES_H
