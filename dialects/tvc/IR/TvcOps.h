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

#endif // TVC_DIALECTS_TVC_IR_TVCOPS_H
