//===- Pipelines.cpp - tvc pass pipelines ---------------------------------===//
//
// The CPU lowering pipeline, step by step. Each step is a pass testable on
// its own with tvc-opt.
//
//===----------------------------------------------------------------------===//

#include "lib/Pipelines/Pipelines.h"

#include "passes/Conversion/Passes.h"
#include "passes/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::tvc::buildCpuLoweringPipeline(OpPassManager &pm) {
  // One flat schedule: layer-level decisions are made by now.
  pm.addPass(createTvcInlineLayers());
  // Low-rank and LoRA linears the pre-merge left factored run as chains of
  // dense linears: the runtime has kernels for those (and one for
  // BlockDense, which convert-tvc-to-runtime calls directly).
  pm.addPass(createTvcExpandStructuredLinear());
  // Heavy ops (linear, lm_head, attention) to runtime kernel calls.
  pm.addPass(createConvertTvcToRuntime());
  // Everything else to linalg on tensors, and the ONNX nodes the importer
  // kept generic (shape arithmetic, position ids, ...); `strict` so that a
  // node nothing can lower is an error here, not a crash later.
  pm.addPass(createConvertTvcToLinalg());
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

void mlir::tvc::registerTvcPipelines() {
  PassPipelineRegistration<>(
      "tvc-cpu-pipeline",
      "Lower a tvc module to the LLVM dialect for the host CPU",
      [](OpPassManager &pm) { buildCpuLoweringPipeline(pm); });
}
