//===- TvcOps.h - tvc operations ---------------------------------*- C++ -*-===//
//
// The ops of the tvc dialect (generated from TvcOps.td) and the dialect,
// attributes and interfaces they use.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_DIALECTS_TVC_IR_TVCOPS_H
#define TVC_DIALECTS_TVC_IR_TVCOPS_H

#include "dialects/tvc/IR/TvcAttrs.h"
#include "dialects/tvc/IR/TvcDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/tvc/IR/TvcOps.h.inc"

namespace mlir::tvc {

/// Whether a buffer of `type` is one run of row-major elements starting at
/// its aligned pointer, as the runtime kernels take their arrays: the
/// identity layout, or a strided one with offset 0 whose strides are those
/// of the packed shape except at unit dimensions (e.g. the first rows of a
/// [1, capacity, width] cache).
bool isContiguousFromStart(MemRefType type);

} // namespace mlir::tvc

#endif // TVC_DIALECTS_TVC_IR_TVCOPS_H
