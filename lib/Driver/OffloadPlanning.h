//===- OffloadPlanning.h - tvc-compile's offload plan -----------*- C++ -*-===//
//
// The steps tvc-compile runs for --offload-budget and --kv-recompute
// between the model's final entry points and its lowering: chunking the
// large matrices, reserving the activation arenas, planning, and with
// --kv-recompute=auto planning each form of the KV caches (cached, inputs
// cached for the sliding-window layers, inputs cached everywhere) under
// the same budget and keeping the fastest or the only one that fits.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_OFFLOADPLANNING_H
#define TVC_LIB_DRIVER_OFFLOADPLANNING_H

#include "lib/Driver/CompileModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::tvc {

/// Applies `options.kvRecompute` and, with `options.offloadBudget`, plans
/// the offload: `module` ends planned (tvc.offload attributes), replaced by
/// the recomputing form when that is chosen. The lines tvc-compile prints
/// are appended to `summary` (one per line).
llvm::Error planModelOffload(OwningOpRef<ModuleOp> &module,
                             const CompileOptions &options,
                             std::string &summary);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_OFFLOADPLANNING_H
