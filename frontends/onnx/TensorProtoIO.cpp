//===- TensorProtoIO.cpp - ONNX TensorProto files -------------------------===//
//
// TensorProto <-> HostTensor. Typed repeated fields (float_data, int64_data,
// int32_data, double_data) are accepted as well as raw_data; external data
// is not (conformance tensors are always inline).
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/TensorProtoIO.h"

#include <onnx/onnx_pb.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir::tvc;

namespace {

llvm::Error fail(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

template <typename Repeated>
void copyRepeated(const Repeated &values, size_t elementSize,
                  std::vector<char> &bytes) {
  bytes.resize(static_cast<size_t>(values.size()) * elementSize);
  for (int i = 0; i < values.size(); ++i) {
    auto value = values.Get(i);
    std::memcpy(bytes.data() + i * elementSize, &value, elementSize);
  }
}

} // namespace

llvm::Expected<HostTensor> mlir::tvc::readTensorProto(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  onnx::TensorProto proto;
  if ((*buffer)->getBufferSize() > static_cast<size_t>(INT32_MAX) ||
      !proto.ParseFromArray((*buffer)->getBufferStart(),
                            static_cast<int>((*buffer)->getBufferSize())))
    return fail(path, "is not an ONNX TensorProto");

  HostTensor tensor;
  tensor.name = proto.name();
  tensor.elementType = proto.data_type();
  size_t elementSize = getElementSize(tensor.elementType);
  if (elementSize == 0)
    return fail(path, "has unsupported element type code " +
                          llvm::Twine(tensor.elementType));
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return fail(path, "uses external data, which is not supported");
  uint64_t count = 1;
  for (int64_t dim : proto.dims()) {
    if (dim < 0 || (dim != 0 && count > (uint64_t{1} << 40) / dim))
      return fail(path, "has an invalid or too large shape");
    count *= static_cast<uint64_t>(dim);
    tensor.shape.push_back(dim);
  }

  using OT = OnnxElementType;
  auto type = static_cast<OT>(tensor.elementType);
  if (proto.has_raw_data()) {
    tensor.bytes.assign(proto.raw_data().begin(), proto.raw_data().end());
  } else if (type == OT::Float) {
    copyRepeated(proto.float_data(), elementSize, tensor.bytes);
  } else if (type == OT::Double) {
    copyRepeated(proto.double_data(), elementSize, tensor.bytes);
  } else if (type == OT::Int64) {
    copyRepeated(proto.int64_data(), elementSize, tensor.bytes);
  } else {
    // int32_data also carries int8, uint8, bool, float16 and bfloat16.
    const auto &values = proto.int32_data();
    tensor.bytes.resize(static_cast<size_t>(values.size()) * elementSize);
    for (int i = 0; i < values.size(); ++i) {
      int32_t value = values.Get(i);
      std::memcpy(tensor.bytes.data() + i * elementSize, &value, elementSize);
    }
  }
  if (tensor.bytes.size() != count * elementSize)
    return fail(path, "holds " + llvm::Twine(tensor.bytes.size()) +
                          " bytes of data, its shape needs " +
                          llvm::Twine(count * elementSize));
  return tensor;
}

llvm::Error mlir::tvc::writeTensorProto(llvm::StringRef path,
                                        const HostTensor &tensor) {
  onnx::TensorProto proto;
  proto.set_name(tensor.name);
  proto.set_data_type(tensor.elementType);
  for (int64_t dim : tensor.shape)
    proto.add_dims(dim);
  proto.set_raw_data(tensor.bytes.data(), tensor.bytes.size());
  std::string serialized;
  if (!proto.SerializeToString(&serialized))
    return fail(path, "cannot serialize the tensor");
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << serialized;
    return llvm::Error::success();
  });
}
