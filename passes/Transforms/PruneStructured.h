//===- PruneStructured.h - tvc-prune's structured strategies -----*- C++ -*-===//
//
// Attention-head and FFN-channel pruning for tvc-prune (Prune.cpp owns the
// pass and its options; this is its structured half, kept apart so each
// file stays about one thing). Removed heads and channels shrink the real
// weight shapes, so the dense kernels do less work.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_TRANSFORMS_PRUNESTRUCTURED_H
#define TVC_PASSES_TRANSFORMS_PRUNESTRUCTURED_H

#include "lib/Support/SafeTensors.h"
#include "lib/Support/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::tvc::prune {

/// What is removed, and how it is chosen.
struct StructuredOptions {
  /// Attention heads (whole key/value groups under GQA), else FFN channels.
  bool heads = true;
  /// Fraction of the heads (groups) or channels of each block to remove.
  double amount = 0.25;
  /// tvc.layer indices to act on; every block when empty.
  ArrayRef<int64_t> layers;
  /// Input-channel norms per weight global (score=activation), or null for
  /// magnitude scores.
  const SafeTensorsFile *norms = nullptr;
  /// Zero the removed part's output-projection columns instead of shrinking.
  bool masked = false;
  /// Emit a remark per block and a summary.
  bool report = false;
};

/// Prunes every attention block (heads) or FFN block (channels) of
/// `module` that qualifies; blocks that do not are left alone (with a
/// remark under `report`). New weights go through `writer`, which the
/// caller commits. Fails, having emitted an error, when a weight cannot be
/// read or calibration norms are missing.
LogicalResult pruneStructured(ModuleOp module, const StructuredOptions &options,
                              WeightStore &store, WeightWriter &writer);

/// The calibration norms of weight `name` in `file`: an f32 vector of `in`
/// values (one per input channel).
llvm::Expected<std::vector<float>>
readChannelNorms(const SafeTensorsFile &file, StringRef name, int64_t in);

/// `value` as printf's %g writes it (0.25, not 2.500000e-01).
std::string shortNumber(double value);

} // namespace mlir::tvc::prune

#endif // TVC_PASSES_TRANSFORMS_PRUNESTRUCTURED_H
