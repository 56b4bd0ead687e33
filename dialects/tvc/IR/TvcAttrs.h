//===- TvcAttrs.h - tvc attributes, enums and interfaces --------*- C++ -*-===//
//
// Attention mask kinds, linear-weight structures, RoPE scaling and external
// weight references, with the interfaces passes query them through.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_DIALECTS_TVC_IR_TVCATTRS_H
#define TVC_DIALECTS_TVC_IR_TVCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeRange.h"

#include <optional>

#include "dialects/tvc/IR/TvcEnums.h.inc"

#include "dialects/tvc/IR/TvcAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tvc/IR/TvcAttrs.h.inc"

namespace mlir::tvc {

/// Whether a dense matrix (a `#tvc.dense` linear weight or an LM-head
/// weight) of element type `weight` may multiply activations of element
/// type `activation`: the same type, or 16-bit float weights (bf16, f16)
/// with f32 activations (each weight widened exactly; the product computes
/// in f32).
bool isMatrixElementTypeAllowed(Type weight, Type activation);

} // namespace mlir::tvc

#endif // TVC_DIALECTS_TVC_IR_TVCATTRS_H
