//===- JitModel.h - Compile a tvc module in memory and run it ---*- C++ -*-===//
//
// What tvc-run drives: a tvc module is lowered by the CPU pipeline, its
// weights packed into one aligned blob, and the LLVM IR JIT-compiled with
// MLIR's ExecutionEngine against the runtime's kernels. The entry point is
// then called on HostTensors; results come back as HostTensors.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_JITMODEL_H
#define TVC_LIB_DRIVER_JITMODEL_H

#include "lib/Support/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::tvc {

/// The tensor signature of an entry point before lowering.
struct EntrySignature {
  std::string name;
  std::vector<RankedTensorType> inputs;
  std::vector<std::string> inputNames;
  /// Inputs marked `tvc.kv_cache`.
  std::vector<bool> inputIsCache;
  std::vector<RankedTensorType> results;
  /// For each result, the input it updates in place (`tvc.updates_arg`),
  /// or -1. run() writes such results into that input and does not return
  /// them.
  std::vector<int> resultUpdatesInput;
  /// Whether bufferization dropped the in-place results from the compiled
  /// function (they were written straight into the input's buffer).
  bool inPlaceResultsDropped = false;
};

class JitModel {
public:
  ~JitModel();

  /// Lowers `module` (consumed) and JIT-compiles every public function.
  /// Relative weight files resolve against `weightsDir`.
  static llvm::Expected<std::unique_ptr<JitModel>>
  compile(OwningOpRef<ModuleOp> module, llvm::StringRef weightsDir);

  /// The public functions, in module order.
  llvm::ArrayRef<EntrySignature> getEntryPoints() const { return entries; }
  /// The entry point `name`; empty picks the only one, or the one that no
  /// other was derived from (`f` among `f`, `f_prefill`, `f_decode`).
  llvm::Expected<const EntrySignature *> findEntry(llvm::StringRef name) const;
  uint64_t getWeightsBytes() const;

  /// Runs entry point `name`. Input element types and static dims must
  /// match its signature; dynamic dims are taken from the inputs. Results
  /// that update an input in place (KV caches) are written into that input
  /// and left out of the returned list.
  llvm::Expected<std::vector<HostTensor>> run(llvm::StringRef name,
                                              std::vector<HostTensor> &inputs);

private:
  struct Impl;
  explicit JitModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
  std::vector<EntrySignature> entries;
};

/// The ONNX element type code of an MLIR element type, or 0.
int32_t getOnnxElementType(Type elementType);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_JITMODEL_H
