//===- PruneCostModel.h - When 2:4 pays on a target --------------*- C++ -*-===//
//
// tvc-prune format=auto asks this model, per weight matrix, whether the
// target's 2:4 kernel beats its dense kernel for the workload the model
// will mostly run; where it does not, the pruned matrix is stored dense
// (masked) and keeps the dense kernel.
//
// CPU (runtime/kernels/cpu, measured with `tvc-kernel-bench 1 2:4`,
// `2:4-warm`; docs/Pruning.md):
//  - decode (one row): the 2:4 GEMV reads 2.125 instead of 4 bytes per
//    weight but decodes two position bits per kept value; rows of 256
//    inputs and more gain 1.2-1.7x (cold or warm weights), rows of 128 or
//    fewer lose (0.88-0.96x: the per-row index work is not paid back);
//  - prefill (many rows): the kernel expands the weights and runs the same
//    GEMM, 0.85-0.97x: never faster.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_TRANSFORMS_PRUNECOSTMODEL_H
#define TVC_PASSES_TRANSFORMS_PRUNECOSTMODEL_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::tvc::prune {

/// What the pruned model will mostly run.
enum class Workload { Decode, Prefill };

inline std::optional<Workload> parseWorkload(llvm::StringRef name) {
  if (name == "decode")
    return Workload::Decode;
  if (name == "prefill")
    return Workload::Prefill;
  return std::nullopt;
}

/// The shortest input row (reduction length) at which the CPU 2:4 GEMV
/// beats the dense GEMV (measured crossover between 128 and 256).
constexpr int64_t kCpu2to4MinInputWidth = 256;

/// Whether the CPU 2:4 kernel is faster than the dense one for an
/// [out, in] matrix under `workload`.
inline bool cpuPrefers2to4(int64_t out, int64_t in, Workload workload) {
  (void)out;
  return workload == Workload::Decode && in >= kCpu2to4MinInputWidth;
}

} // namespace mlir::tvc::prune

#endif // TVC_PASSES_TRANSFORMS_PRUNECOSTMODEL_H
