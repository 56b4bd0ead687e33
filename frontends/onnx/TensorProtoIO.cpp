//===- TensorProtoIO.cpp - ONNX TensorProto files -------------------------===//
//
// llvm::Error wrappers over TensorProtoFile (which holds the protobuf code
// and has no LLVM dependency).
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/TensorProtoIO.h"

#include "frontends/onnx/TensorProtoFile.h"

using namespace mlir::tvc;

llvm::Expected<HostTensor> mlir::tvc::readTensorProto(llvm::StringRef path) {
  HostTensor tensor;
  std::string error;
  if (!readTensorProtoFile(path.str(), tensor, error))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return tensor;
}

llvm::Error mlir::tvc::writeTensorProto(llvm::StringRef path,
                                        const HostTensor &tensor) {
  std::string error;
  if (!writeTensorProtoFile(path.str(), tensor, error))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return llvm::Error::success();
}
