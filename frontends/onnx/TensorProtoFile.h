//===- TensorProtoFile.h - ONNX TensorProto files, without LLVM -*- C++ -*-===//
//
// The protobuf side of TensorProtoIO with no LLVM dependency, so that the
// executables tvc-compile emits can read and write ONNX test-data files
// (`input_0.pb`, `output_0.pb`) too. Reading checks every size before
// copying; writing goes to a temporary that is renamed into place.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_FRONTENDS_ONNX_TENSORPROTOFILE_H
#define TVC_FRONTENDS_ONNX_TENSORPROTOFILE_H

#include "lib/Support/HostTensor.h"

#include <cstddef>
#include <string>

namespace mlir::tvc {

/// Parses a serialized TensorProto (raw_data or the typed repeated fields).
/// On failure returns false with a message (no path) in `error`.
bool parseTensorProto(const void *data, size_t size, HostTensor &out,
                      std::string &error);

/// Serializes `tensor` as a TensorProto with raw_data.
bool serializeTensorProto(const HostTensor &tensor, std::string &out);

/// Reads the TensorProto file `path`; errors are prefixed with the path.
bool readTensorProtoFile(const std::string &path, HostTensor &out,
                         std::string &error);

/// Writes `tensor` to `path` whole or not at all (a temporary beside it,
/// then rename); errors are prefixed with the path.
bool writeTensorProtoFile(const std::string &path, const HostTensor &tensor,
                          std::string &error);

} // namespace mlir::tvc

#endif // TVC_FRONTENDS_ONNX_TENSORPROTOFILE_H
