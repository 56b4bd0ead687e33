//===- Pipelines.h - tvc pass pipelines -------------------------*- C++ -*-===//
//
// Pipelines are C++ builders with one line of "why" per step, registered so
// `tvc-opt --tvc-cpu-pipeline` runs the same steps as tvc-compile/tvc-run.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_PIPELINES_PIPELINES_H
#define TVC_LIB_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
namespace tvc {

/// tvc dialect (tensors, weights as tvc.global) -> LLVM dialect for the host
/// CPU. Heavy ops become runtime kernel calls, the rest linalg -> loops;
/// weights are read from a trailing `memref<?xi8>` argument of each entry
/// point; `tvc.global` ops (the weights layout) stay in the module for the
/// artifact writer, which removes them before translation to LLVM IR.
void buildCpuLoweringPipeline(OpPassManager &pm);

/// Registers `tvc-cpu-pipeline`.
void registerTvcPipelines();

} // namespace tvc
} // namespace mlir

#endif // TVC_LIB_PIPELINES_PIPELINES_H
