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
  std::vector<RankedTensorType> results;
};

class JitModel {
public:
  ~JitModel();

  /// Lowers `module` (consumed) and JIT-compiles it. `entry` names the
  /// function to run; empty picks the only public function. Relative
  /// weight files resolve against `weightsDir`.
  static llvm::Expected<std::unique_ptr<JitModel>>
  compile(OwningOpRef<ModuleOp> module, llvm::StringRef entry,
          llvm::StringRef weightsDir);

  const EntrySignature &getSignature() const { return signature; }
  uint64_t getWeightsBytes() const;

  /// Runs the entry point. Input element types and static dims must match
  /// the signature; dynamic dims are taken from the inputs.
  llvm::Expected<std::vector<HostTensor>>
  run(const std::vector<HostTensor> &inputs);

private:
  struct Impl;
  explicit JitModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
  EntrySignature signature;
};

/// The ONNX element type code of an MLIR element type, or 0.
int32_t getOnnxElementType(Type elementType);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_JITMODEL_H
