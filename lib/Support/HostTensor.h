//===- HostTensor.h - A tensor in host memory -------------------*- C++ -*-===//
//
// The plain value tools exchange with compiled models: an ONNX element type
// code, a shape and row-major little-endian bytes. Readers and writers of
// files (ONNX TensorProto .pb, ...) and the JIT speak it; it has no MLIR or
// protobuf dependency.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_HOSTTENSOR_H
#define TVC_LIB_SUPPORT_HOSTTENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::tvc {

/// ONNX TensorProto.DataType codes of the element types tvc handles.
enum class OnnxElementType : int32_t {
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  BFloat16 = 16,
};

/// Bytes per element of `type`, 0 when tvc does not handle it.
size_t getElementSize(int32_t onnxType);
/// A short name ("float", "int64", ...) of `onnxType` for messages.
const char *getElementTypeName(int32_t onnxType);

struct HostTensor;
/// onnx 1.12 writes bfloat16 test data as uint16 bit patterns (data_type 4,
/// the same bytes). When `wantedType` is bfloat16 and `tensor` holds uint16,
/// relabels it bfloat16 and returns true; otherwise leaves it alone.
bool relabelBFloat16Bits(HostTensor &tensor, int32_t wantedType);

struct HostTensor {
  std::string name;
  int32_t elementType = static_cast<int32_t>(OnnxElementType::Float);
  std::vector<int64_t> shape;
  std::vector<char> bytes;

  int64_t getNumElements() const {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    return count;
  }
};

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_HOSTTENSOR_H
