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

#include "lib/Driver/EntryPoints.h"
#include "lib/Support/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::tvc {

/// How JitModel::compile builds the model.
struct JitOptions {
  /// Route the compiled code's calls of the runtime kernels and memrefCopy
  /// through timing wrappers, and its malloc calls through a counting one
  /// (see KernelProfile). Costs two clock reads per kernel call.
  bool profileKernels = false;
  /// Route the dense linear kernel through a wrapper that adds up, per
  /// weight, the square of every input channel over all rows it multiplies
  /// (see takeLinearInputStats): the calibration data of activation-aware
  /// pruning. Costs a pass over each linear's input.
  bool recordLinearInputs = false;
};

/// What the dense linears reading one weight saw, for calibration:
/// sumSquares[i] = sum over the rows of x[row, i]^2, i < the input width.
struct LinearInputStats {
  /// The tvc.global of the weight.
  std::string weight;
  std::vector<double> sumSquares;
  uint64_t rows = 0;
};

/// What the compiled code of models built with `profileKernels` spent in
/// runtime calls since the last takeKernelProfile(), over all such models
/// of the process. Time outside these calls is generated code.
struct KernelProfile {
  uint64_t linearNs = 0, linearCalls = 0;
  uint64_t attentionNs = 0, attentionCalls = 0;
  /// memrefCopy: strided copies the lowering could not inline.
  uint64_t copyNs = 0, copyCalls = 0;
  /// malloc calls of the compiled code and the bytes they asked for.
  uint64_t allocations = 0, allocatedBytes = 0;
};

class JitModel {
public:
  ~JitModel();

  /// Lowers `module` (consumed) and JIT-compiles every public function (all
  /// machine code is generated here, not on the first run). Relative weight
  /// files resolve against `weightsDir`.
  static llvm::Expected<std::unique_ptr<JitModel>>
  compile(OwningOpRef<ModuleOp> module, llvm::StringRef weightsDir,
          const JitOptions &options = {});

  /// Returns the counters of profiled models and resets them to zero.
  static KernelProfile takeKernelProfile();

  /// The statistics recorded for this model's weights since the last call
  /// (models built with `recordLinearInputs`), sorted by weight name, and
  /// resets them.
  std::vector<LinearInputStats> takeLinearInputStats();

  /// The public functions, in module order.
  llvm::ArrayRef<EntrySignature> getEntryPoints() const { return entries; }
  /// The entry point `name`; empty picks the only one, or the one that no
  /// other was derived from (`f` among `f`, `f_prefill`, `f_decode`).
  llvm::Expected<const EntrySignature *> findEntry(llvm::StringRef name) const;
  uint64_t getWeightsBytes() const;
  /// Bytes of the scratch arena the entry points share (0 when nothing
  /// was planned).
  uint64_t getArenaBytes() const;

  /// Runs entry point `name`. Input element types and static dims must
  /// match its signature; dynamic dims are taken from the inputs. Results
  /// that update an input in place (KV caches) are written into that input
  /// and left out of the returned list. A runtime kernel that failed
  /// during the call makes it an error naming the kernel and its status
  /// (the caches it was to update may then be half-written).
  llvm::Expected<std::vector<HostTensor>> run(llvm::StringRef name,
                                              std::vector<HostTensor> &inputs);

private:
  struct Impl;
  explicit JitModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
  std::vector<EntrySignature> entries;
};

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_JITMODEL_H
