//===- TensorProtoIO.h - ONNX TensorProto files -----------------*- C++ -*-===//
//
// Reads and writes single ONNX TensorProto messages (`input_0.pb`,
// `output_0.pb`), the layout of ONNX's conformance data and of exported
// test sets. Reading checks every size before copying; writing is atomic.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_FRONTENDS_ONNX_TENSORPROTOIO_H
#define TVC_FRONTENDS_ONNX_TENSORPROTOIO_H

#include "lib/Support/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mlir::tvc {

/// Parses the TensorProto in `path` (raw_data or the typed repeated fields).
llvm::Expected<HostTensor> readTensorProto(llvm::StringRef path);

/// Writes `tensor` as a TensorProto with raw_data to `path`, whole or not
/// at all.
llvm::Error writeTensorProto(llvm::StringRef path, const HostTensor &tensor);

} // namespace mlir::tvc

#endif // TVC_FRONTENDS_ONNX_TENSORPROTOIO_H
