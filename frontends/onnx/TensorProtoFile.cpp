//===- TensorProtoFile.cpp - ONNX TensorProto files, without LLVM ---------===//
//
// TensorProto <-> HostTensor through libonnx's generated protobuf classes.
// Typed repeated fields (float_data, int64_data, int32_data, double_data)
// are accepted as well as raw_data; external data is not (conformance
// tensors are always inline).
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/TensorProtoFile.h"

#include <onnx/onnx_pb.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace mlir::tvc;

namespace {

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

bool mlir::tvc::parseTensorProto(const void *data, size_t size,
                                 HostTensor &tensor, std::string &error) {
  onnx::TensorProto proto;
  if (size > static_cast<size_t>(INT_MAX) ||
      !proto.ParseFromArray(data, static_cast<int>(size))) {
    error = "is not an ONNX TensorProto";
    return false;
  }
  tensor = HostTensor();
  tensor.name = proto.name();
  tensor.elementType = proto.data_type();
  size_t elementSize = getElementSize(tensor.elementType);
  if (elementSize == 0) {
    error = "has unsupported element type code " +
            std::to_string(tensor.elementType);
    return false;
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    error = "uses external data, which is not supported";
    return false;
  }
  uint64_t count = 1;
  for (int64_t dim : proto.dims()) {
    if (dim < 0 || (dim != 0 && count > (uint64_t{1} << 40) / dim)) {
      error = "has an invalid or too large shape";
      return false;
    }
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
    // int32_data also carries int8, uint8, int16, uint16, bool, float16 and
    // bfloat16 (the low bytes of each value, little-endian).
    const auto &values = proto.int32_data();
    tensor.bytes.resize(static_cast<size_t>(values.size()) * elementSize);
    for (int i = 0; i < values.size(); ++i) {
      int32_t value = values.Get(i);
      std::memcpy(tensor.bytes.data() + i * elementSize, &value, elementSize);
    }
  }
  if (tensor.bytes.size() != count * elementSize) {
    error = "holds " + std::to_string(tensor.bytes.size()) +
            " bytes of data, its shape needs " +
            std::to_string(count * elementSize);
    return false;
  }
  return true;
}

bool mlir::tvc::serializeTensorProto(const HostTensor &tensor,
                                     std::string &out) {
  onnx::TensorProto proto;
  proto.set_name(tensor.name);
  proto.set_data_type(tensor.elementType);
  for (int64_t dim : tensor.shape)
    proto.add_dims(dim);
  proto.set_raw_data(tensor.bytes.data(), tensor.bytes.size());
  return proto.SerializeToString(&out);
}

bool mlir::tvc::readTensorProtoFile(const std::string &path, HostTensor &out,
                                    std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  if (file.bad()) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  if (!parseTensorProto(bytes.data(), bytes.size(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool mlir::tvc::writeTensorProtoFile(const std::string &path,
                                     const HostTensor &tensor,
                                     std::string &error) {
  std::string serialized;
  if (!serializeTensorProto(tensor, serialized)) {
    error = path + ": cannot serialize the tensor";
    return false;
  }
  // A reader never sees a half-written file: write a temporary, then rename.
  std::string temporary = path + ".tmp-" + std::to_string(getpid());
  FILE *file = std::fopen(temporary.c_str(), "wb");
  bool ok = file && std::fwrite(serialized.data(), 1, serialized.size(),
                                file) == serialized.size();
  int savedErrno = errno;
  if (file && std::fclose(file) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (ok && std::rename(temporary.c_str(), path.c_str()) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    std::remove(temporary.c_str());
    error = path + ": cannot write: " + std::strerror(savedErrno);
  }
  return ok;
}
