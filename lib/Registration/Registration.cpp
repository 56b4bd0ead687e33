//===- Registration.cpp - One register call per component ----------------===//
//
// Registers tvc's dialects and passes, and the upstream ones it relies on.
//
//===----------------------------------------------------------------------===//

#include "lib/Registration/Registration.h"

#include "dialects/onnx/IR/TvcOnnxOps.h"
#include "dialects/tvc/IR/TvcDialect.h"
#include "dialects/tvc/Transforms/BufferizableOpInterfaceImpl.h"
#include "lib/Pipelines/Pipelines.h"
#include "passes/Conversion/Passes.h"
#include "passes/Gpu/Passes.h"
#include "passes/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

void mlir::tvc::registerAllDialects(DialectRegistry &registry) {
  registry.insert<tvc::TvcDialect, tvc_onnx::TvcOnnxDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  memref::MemRefDialect, NVVM::NVVMDialect, scf::SCFDialect,
                  tensor::TensorDialect, vector::VectorDialect>();
  // Upstream dialects with their interface models (bufferization,
  // conversion to LLVM, ...), and the models of tvc's own ops, so pipelines run on any tool's context.
  mlir::registerAllDialects(registry);
  registerAllExtensions(registry);
  tvc::registerBufferizableOpInterfaceExternalModels(registry);
  // gpu-module-to-binary translates kernels to LLVM IR and on to PTX.
  registerAllToLLVMIRTranslations(registry);
}

void mlir::tvc::registerTvcPasses() {
  registerTvcTransformsPasses();
  registerTvcConversionPasses();
  registerTvcGpuPasses();
  registerTvcPipelines();
}

void mlir::tvc::registerUpstreamPasses() {
  // Every upstream pass and pipeline: tvc-opt is an opt tool, and lit tests
  // spell lowering pipelines out of upstream passes.
  mlir::registerAllPasses();
}
