//===- TvcOnnxOps.cpp - generic ONNX nodes ---------------------------------===//
//
// Registration of the tvc_onnx dialect; its ops need no custom C++.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/IR/TvcOnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::tvc_onnx;

#include "dialects/onnx/IR/TvcOnnxDialect.cpp.inc"

void TvcOnnxDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/onnx/IR/TvcOnnxOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "dialects/onnx/IR/TvcOnnxOps.cpp.inc"
