//===- TvcDialect.h - tvc dialect declaration -------------------*- C++ -*-===//
//
// Declares the tvc dialect class. Include TvcOps.h for ops and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_DIALECTS_TVC_IR_TVCDIALECT_H
#define TVC_DIALECTS_TVC_IR_TVCDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "dialects/tvc/IR/TvcDialect.h.inc"

#endif // TVC_DIALECTS_TVC_IR_TVCDIALECT_H
