//===- Pipelines.cpp - tvc pass pipelines ---------------------------------===//
//
// The lowering pipelines, step by step: one shared part down to bufferized,
// memory-planned code, then a tail per target. Each step is a pass testable
// on its own with tvc-opt.
//
//===----------------------------------------------------------------------===//

#include "lib/Pipelines/Pipelines.h"

#include "passes/Conversion/Passes.h"
#include "passes/Gpu/Passes.h"
#include "passes/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tvc;

/// The steps every target shares: tvc ops to runtime kernel calls and
/// fused linalg on tensors, bufferized, temporaries placed in one arena.
/// `fusedLowRank`: the target has tvc_kernel_low_rank_f32 (the CPU), so
/// low-rank linears stay whole for convert-tvc-to-runtime.
static void buildBufferizedPipeline(OpPassManager &pm, bool fusedLowRank) {
  // One flat schedule: layer-level decisions are made by now.
  pm.addPass(createTvcInlineLayers());
  // LoRA linears the pre-merge left factored, and low-rank ones where the
  // target has no fused kernel, run as chains of dense linears: the
  // runtime has kernels for those (and one for BlockDense, which
  // convert-tvc-to-runtime calls directly).
  TvcExpandStructuredLinearOptions expand;
  expand.expandLowRank = !fusedLowRank;
  pm.addPass(createTvcExpandStructuredLinear(expand));
  // Heavy ops (linear, lm_head, attention) to runtime kernel calls.
  pm.addPass(createConvertTvcToRuntime());
  // A GELU, SiLU or ReLU fed only by a dense linear: applied by its kernel
  // (flags) instead of a separate pass over the tensor or launch.
  pm.addPass(createTvcFuseLinearActivation());
  // Everything else to linalg on tensors, and the ONNX nodes the importer
  // kept generic (shape arithmetic, position ids, ...); `strict` so that a
  // node nothing can lower is an error here, not a crash later.
  pm.addPass(createConvertTvcToLinalg());
  // arith ops on tensors (tvc-convert-precision widens the gathered rows of
  // a 16-bit embedding table with arith.extf) to linalg.generic.
  pm.addPass(createConvertElementwiseToLinalgPass());
  ConvertOnnxToLinalgOptions onnx;
  onnx.strict = true;
  pm.addPass(createConvertOnnxToLinalg(onnx));
  // Weights become views of one blob passed to each entry point.
  pm.addPass(createConvertTvcWeightsToMemref());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Fuse chains of elementwise linalg ops (bias-free epilogues, norms'
  // elementwise tails) so each chain is one loop nest.
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  // Tensors to buffers across function boundaries; contiguous layouts at
  // entry points so callers pass plain arrays.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // KV caches written in place need not be returned: callers own them.
  pm.addPass(createTvcDropCacheResults());
  // Frees for every temporary, copies for results that are not the
  // function's own (e.g. a returned argument).
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Temporaries and results to views of one arena argument, placed by
  // liveness (sizes folded first so that bounds are visible); their frees
  // go. What has no size bound stays on the heap with its frees.
  pm.addPass(createCanonicalizerPass());
  TvcPlanMemoryOptions plan;
  plan.results = true;
  pm.addPass(createTvcPlanMemory(plan));
}

void mlir::tvc::buildCpuMemoryPlanPipeline(OpPassManager &pm) {
  buildBufferizedPipeline(pm, /*fusedLowRank=*/true);
}

void mlir::tvc::buildCpuLoweringPipeline(OpPassManager &pm) {
  buildCpuMemoryPlanPipeline(pm);
  // The offload plan's prefetch/wait/evict calls, placed by the final op
  // order (nothing without tvc-plan-offload).
  pm.addPass(createTvcMaterializeOffload());
  // Kernel calls to C calls with a params struct.
  pm.addPass(createConvertTvcKernelsToLLVM());
  // The rest down to LLVM.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // tanh, erf, exp, log as polynomials the loop vectorizer can widen.
  pm.addPass(createTvcApproximateMath());
  // What is left without an LLVM intrinsic becomes libm calls.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::tvc::buildCudaMemoryPlanPipeline(OpPassManager &pm) {
  // The CUDA runtime has no low-rank kernel: two cuBLAS linears.
  buildBufferizedPipeline(pm, /*fusedLowRank=*/false);
}

void mlir::tvc::buildCudaLoweringPipeline(OpPassManager &pm,
                                          const CudaPipelineOptions &options) {
  buildCudaMemoryPlanPipeline(pm);
  // The offload plan's prefetch/wait/evict calls, on the host side, where
  // the CUDA executor queues copies and makes the stream wait for them
  // (nothing without tvc-plan-offload). Attention over a host_attention
  // cache runs on the host (tvc-gpu-select-kernels).
  TvcMaterializeOffloadOptions materialize;
  materialize.hostAttention = true;
  pm.addPass(createTvcMaterializeOffload(materialize));
  // Heavy ops: the runtime's CUDA entries (cuBLAS, attention kernels),
  // which take the same params structs with device pointers.
  TvcGpuSelectKernelsOptions select;
  select.precision = options.precision;
  pm.addPass(createTvcGpuSelectKernels(select));
  // Copies become kernels; unplanned buffers device allocations.
  pm.addPass(createTvcGpuPrepareBuffers());
  // The generated code: parallel loops, tiled into blocks of threads and
  // mapped (innermost dimension to x), then kernels outlined into
  // gpu.modules with launches in the host code.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  TvcGpuMapLoopsOptions map;
  map.threads = options.threads;
  pm.addNestedPass<func::FuncOp>(createTvcGpuMapLoops(map));
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  // One module for all kernels: one PTX compilation, one load.
  pm.addPass(createTvcGpuMergeModules());
  // One stream per entry point, one wait at its end.
  pm.addPass(createTvcGpuAsyncLaunches());
  // Nothing left on the host may touch device memory.
  pm.addPass(createTvcGpuCheckHostAccess());
  pm.addPass(createConvertTvcKernelsToLLVM());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Kernels to NVVM for the chosen chip (math through libdevice).
  GpuNVVMAttachTargetOptions attach;
  attach.chip = options.chip;
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  // Host code to LLVM: launches to the mgpu* calls tvc's runtime provides.
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Kernels to PTX (isa) or a fat binary, embedded as gpu.binary ops.
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath =
      options.toolkit.empty() ? TVC_CUDA_TOOLKIT_DIR : options.toolkit;
  binary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

namespace {
struct CudaPipelineCommandLine
    : public PassPipelineOptions<CudaPipelineCommandLine> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_80, sm_90)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Kernel binary format: isa (PTX), bin (cubin) or fatbin"),
      llvm::cl::init("fatbin")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit directory (default: tvc's build's)")};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("Threads per block"),
                          llvm::cl::init(256)};
  Option<std::string> precision{
      *this, "precision", llvm::cl::desc("GEMM math: fp32 or tf32"),
      llvm::cl::init("fp32")};
};
} // namespace

void mlir::tvc::registerTvcPipelines() {
  PassPipelineRegistration<>(
      "tvc-cpu-pipeline",
      "Lower a tvc module to the LLVM dialect for the host CPU",
      [](OpPassManager &pm) { buildCpuLoweringPipeline(pm); });
  PassPipelineRegistration<CudaPipelineCommandLine>(
      "tvc-cuda-pipeline",
      "Lower a tvc module to LLVM-dialect host code with embedded CUDA "
      "kernels",
      [](OpPassManager &pm, const CudaPipelineCommandLine &commandLine) {
        CudaPipelineOptions options;
        options.chip = commandLine.chip;
        options.format = commandLine.format;
        options.toolkit = commandLine.toolkit;
        options.threads = commandLine.threads;
        options.precision = commandLine.precision;
        buildCudaLoweringPipeline(pm, options);
      });
}
