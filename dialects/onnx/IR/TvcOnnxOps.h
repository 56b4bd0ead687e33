//===- TvcOnnxOps.h - generic ONNX nodes -------------------------*- C++ -*-===//
//
// The tvc_onnx dialect: ONNX nodes recorded verbatim by the importer.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_DIALECTS_ONNX_IR_TVCONNXOPS_H
#define TVC_DIALECTS_ONNX_IR_TVCONNXOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/onnx/IR/TvcOnnxDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/onnx/IR/TvcOnnxOps.h.inc"

#endif // TVC_DIALECTS_ONNX_IR_TVCONNXOPS_H
