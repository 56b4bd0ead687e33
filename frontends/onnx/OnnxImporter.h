//===- OnnxImporter.h - ONNX models to generic tvc_onnx IR -----*- C++ -*-===//
//
// Loads an ONNX model (binary protobuf `.onnx`, or textual `.onnxtext`
// through ONNX's own parser), runs ONNX's version converter and shape
// inference, and imports it node by node into `tvc_onnx.node` ops inside a
// `func.func @main_graph`. Float initializers of more than one element
// become `tvc.global` weights; others (scalars, integer shapes) become
// `arith.constant`. Raising to semantic tvc ops is the job of
// the `convert-onnx-to-tvc` pass, not of the importer.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_FRONTENDS_ONNX_ONNXIMPORTER_H
#define TVC_FRONTENDS_ONNX_ONNXIMPORTER_H

#include "lib/Support/SafeTensors.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace mlir::tvc {

struct OnnxImportOptions {
  /// Shapes that replace an input's declared shape (dynamic dims included),
  /// by input name; ShapedType::kDynamic keeps a size dynamic.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Where float initializers go: when non-empty, the file name (as written
  /// into #tvc.external) of the safetensors file the caller writes from
  /// OnnxImportResult::weights; when empty, they are inlined.
  std::string weightsFileName;
};

/// The imported module and the weights the caller must write.
struct OnnxImportResult {
  OwningOpRef<ModuleOp> module;
  /// Float initializers to write to options.weightsFileName.
  std::vector<TensorToWrite> weights;
  /// Owns the bytes `weights` point to.
  std::vector<std::unique_ptr<std::string>> weightBytes;
  /// Node counts by "domain::op_type" (domain empty for ai.onnx).
  std::map<std::string, int64_t> nodeCounts;
  /// External data files the model's initializers were read from (inputs
  /// the caller must not overwrite).
  std::set<std::string> externalFiles;
  int64_t defaultOpset = 0;
};

/// Imports the model at `path`. Every problem found (unsupported constructs
/// of all nodes, not only the first) is reported in one error.
llvm::Expected<OnnxImportResult> importOnnx(MLIRContext &context,
                                            llvm::StringRef path,
                                            const OnnxImportOptions &options);

} // namespace mlir::tvc

#endif // TVC_FRONTENDS_ONNX_ONNXIMPORTER_H
