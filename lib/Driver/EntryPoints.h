//===- EntryPoints.h - The tensor ABI of a compiled module -----*- C++ -*-===//
//
// What callers of a compiled tvc module need to know about each public
// function: its tensor inputs and results before lowering, which results are
// KV caches updated in place, and, after lowering, whether those results
// were dropped and whether the function takes the weights blob. The JIT
// (tvc-run) and the artifact writer (tvc-compile, whose manifest the
// runtime reads) share it.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_ENTRYPOINTS_H
#define TVC_LIB_DRIVER_ENTRYPOINTS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::tvc {

/// The tensor signature of an entry point.
struct EntrySignature {
  std::string name;
  std::vector<RankedTensorType> inputs;
  std::vector<std::string> inputNames;
  /// Inputs marked `tvc.kv_cache`.
  std::vector<bool> inputIsCache;
  std::vector<RankedTensorType> results;
  /// For each result, the input it updates in place (`tvc.updates_arg`),
  /// or -1. Such results are written into that input, not returned.
  std::vector<int> resultUpdatesInput;
  /// Whether bufferization dropped the in-place results from the compiled
  /// function (they were written straight into the input's buffer).
  bool inPlaceResultsDropped = false;
  /// Per input, the largest shape it may have (`tvc.max_shape`: the
  /// memory plan sized buffers for it), or empty when unbounded.
  std::vector<std::vector<int64_t>> inputMaxShapes;
  /// Whether the compiled function takes the weights blob after the inputs.
  bool takesWeights = false;
  /// Whether it takes a scratch arena last (tvc-plan-memory), and its size.
  bool takesArena = false;
  int64_t arenaBytes = 0;
};

/// Why `shape` is not a valid value for input `index` of `entry` (element
/// types aside): a wrong rank, a static dim that differs, or a dim above
/// the input's bound. Empty when it is valid.
std::string checkInputShape(const EntrySignature &entry, size_t index,
                            llvm::ArrayRef<int64_t> shape);

/// The ONNX element type code of an MLIR element type, or 0.
int32_t getOnnxElementType(Type elementType);

/// The public functions of `module` (before lowering), in module order;
/// marks each with `llvm.emit_c_interface`. Errors for non-tensor
/// signatures or functions that return nothing.
llvm::Expected<std::vector<EntrySignature>>
collectEntryPoints(ModuleOp module);

/// Fills in what lowering decided (dropped in-place results, the weights
/// argument) from the lowered LLVM-dialect `module`.
llvm::Error resolveLoweredEntryPoints(ModuleOp module,
                                      std::vector<EntrySignature> &entries);

/// The indices of the results the compiled function returns.
std::vector<size_t> getReturnedResults(const EntrySignature &entry);

/// What an entry point is by its name (tvc-derive-decode's suffixes):
/// "prefill", "decode" or "forward".
std::string getEntryRole(llvm::StringRef name);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_ENTRYPOINTS_H
