//===- Pipelines.h - tvc pass pipelines -------------------------*- C++ -*-===//
//
// Pipelines are C++ builders with one line of "why" per step, registered so
// `tvc-opt --tvc-cpu-pipeline` runs the same steps as tvc-compile/tvc-run.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_PIPELINES_PIPELINES_H
#define TVC_LIB_PIPELINES_PIPELINES_H

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
namespace tvc {

/// tvc dialect (tensors, weights as tvc.global) -> LLVM dialect for the host
/// CPU. Heavy ops become runtime kernel calls, the rest linalg -> loops;
/// weights are read from a trailing `memref<?xi8>` argument of each entry
/// point; `tvc.global` ops (the weights layout) stay in the module for the
/// artifact writer, which removes them before translation to LLVM IR.
void buildCpuLoweringPipeline(OpPassManager &pm);

/// The first steps of buildCpuLoweringPipeline, up to and including
/// tvc-plan-memory: bufferized code whose entry points carry
/// `tvc.arena_bytes`. tvc-compile runs it on a copy of the module to know
/// the arenas before it plans the offload.
void buildCpuMemoryPlanPipeline(OpPassManager &pm);

/// buildCudaLoweringPipeline's first steps, up to and including
/// tvc-plan-memory (low-rank linears expanded, as the CUDA runtime has no
/// fused kernel): what tvc-compile measures the device arenas on.
void buildCudaMemoryPlanPipeline(OpPassManager &pm);

/// What the CUDA target's pipeline is asked for.
struct CudaPipelineOptions {
  /// The GPU architecture the kernels are compiled for (sm_80, sm_90, ...).
  std::string chip = "sm_90";
  /// gpu-module-to-binary's format: isa (PTX text), bin (cubin), fatbin.
  std::string format = "fatbin";
  /// The CUDA toolkit (libdevice, ptxas, fatbinary); empty: the one tvc
  /// was built with (/usr/local/cuda without one).
  std::string toolkit;
  /// Threads per block of the generated kernels.
  int64_t threads = 256;
  /// GEMM math of the linear maps: fp32 or tf32.
  std::string precision = "fp32";
};

/// tvc dialect -> LLVM dialect host code with the kernels embedded as
/// gpu.binary ops: the CPU pipeline's steps down to bufferized,
/// memory-planned code, then heavy ops to the runtime's CUDA entries and
/// the generated code to GPU kernels (docs/CudaTarget.md). Entry points
/// take device memory everywhere but rank-0 arguments (host scalars).
void buildCudaLoweringPipeline(OpPassManager &pm,
                               const CudaPipelineOptions &options);

/// Registers `tvc-cpu-pipeline` and `tvc-cuda-pipeline`.
void registerTvcPipelines();

} // namespace tvc
} // namespace mlir

#endif // TVC_LIB_PIPELINES_PIPELINES_H
