//===- HostTensor.cpp - A tensor in host memory ---------------------------===//
//
// Element sizes and names of the ONNX element types tvc handles, and the
// bfloat16 bit-pattern convention of onnx 1.12's test data.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/HostTensor.h"

using namespace mlir::tvc;

size_t mlir::tvc::getElementSize(int32_t onnxType) {
  switch (static_cast<OnnxElementType>(onnxType)) {
  case OnnxElementType::UInt8:
  case OnnxElementType::Int8:
  case OnnxElementType::Bool:
    return 1;
  case OnnxElementType::UInt16:
  case OnnxElementType::Int16:
  case OnnxElementType::Float16:
  case OnnxElementType::BFloat16:
    return 2;
  case OnnxElementType::Float:
  case OnnxElementType::Int32:
    return 4;
  case OnnxElementType::Int64:
  case OnnxElementType::Double:
    return 8;
  }
  return 0;
}

const char *mlir::tvc::getElementTypeName(int32_t onnxType) {
  switch (static_cast<OnnxElementType>(onnxType)) {
  case OnnxElementType::Float:
    return "float";
  case OnnxElementType::UInt8:
    return "uint8";
  case OnnxElementType::Int8:
    return "int8";
  case OnnxElementType::UInt16:
    return "uint16";
  case OnnxElementType::Int16:
    return "int16";
  case OnnxElementType::Int32:
    return "int32";
  case OnnxElementType::Int64:
    return "int64";
  case OnnxElementType::Bool:
    return "bool";
  case OnnxElementType::Float16:
    return "float16";
  case OnnxElementType::Double:
    return "double";
  case OnnxElementType::BFloat16:
    return "bfloat16";
  }
  return "unknown";
}

bool mlir::tvc::relabelBFloat16Bits(HostTensor &tensor, int32_t wantedType) {
  if (wantedType != static_cast<int32_t>(OnnxElementType::BFloat16) ||
      tensor.elementType != static_cast<int32_t>(OnnxElementType::UInt16))
    return false;
  tensor.elementType = wantedType;
  return true;
}
