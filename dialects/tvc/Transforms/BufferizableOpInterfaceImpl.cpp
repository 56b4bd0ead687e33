//===- BufferizableOpInterfaceImpl.cpp - tvc ops in one-shot bufferize ----===//
//
// tvc.kernel_call is destination-passing style: its outputs are written in
// place and alias its results, its inputs are only read. Kernels take plain
// contiguous buffers, so a strided view (a slice of a wider tensor) is
// copied into a fresh contiguous buffer before the call, and an output
// that landed in a strided view is written through a contiguous temporary.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/Transforms/BufferizableOpInterfaceImpl.h"

#include "dialects/tvc/IR/TvcDialect.h"
#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// A contiguous (identity-layout) buffer of `buffer`'s shape, allocated
/// with the dynamic sizes read from `buffer`.
Value allocateContiguousLike(RewriterBase &rewriter, Location loc,
                             Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, buffer, dim));
  auto contiguous = MemRefType::get(type.getShape(), type.getElementType(),
                                    MemRefLayoutAttrInterface(),
                                    type.getMemorySpace());
  return memref::AllocOp::create(rewriter, loc, contiguous, dynamicSizes);
}

/// What the kernels can take as it is (tvc::isContiguousFromStart): the
/// first rows of a cache are a view, not a copy.
bool isContiguous(Value buffer) {
  return tvc::isContiguousFromStart(cast<MemRefType>(buffer.getType()));
}

struct KernelCallOpInterface
    : public DstBufferizableOpInterfaceExternalModel<KernelCallOpInterface,
                                                     tvc::KernelCallOp> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto call = cast<tvc::KernelCallOp>(op);
    Location loc = call.getLoc();
    rewriter.setInsertionPoint(call);

    SmallVector<Value> inputs;
    for (Value input : call.getInputs()) {
      FailureOr<Value> buffer = getBuffer(rewriter, input, options, state);
      if (failed(buffer))
        return failure();
      Value value = *buffer;
      if (!isContiguous(value)) {
        Value copy = allocateContiguousLike(rewriter, loc, value);
        memref::CopyOp::create(rewriter, loc, value, copy);
        value = copy;
      }
      inputs.push_back(value);
    }

    SmallVector<Value> outputs, results;
    SmallVector<std::pair<Value, Value>> writeBacks;
    for (Value output : call.getOutputs()) {
      FailureOr<Value> buffer = getBuffer(rewriter, output, options, state);
      if (failed(buffer))
        return failure();
      results.push_back(*buffer);
      Value value = *buffer;
      if (!isContiguous(value)) {
        Value temporary = allocateContiguousLike(rewriter, loc, value);
        memref::CopyOp::create(rewriter, loc, value, temporary);
        writeBacks.push_back({temporary, value});
        value = temporary;
      }
      outputs.push_back(value);
    }

    tvc::KernelCallOp::create(rewriter, loc, TypeRange(), call.getCalleeAttr(),
                              inputs, outputs, call.getScalars());
    for (auto [temporary, destination] : writeBacks)
      memref::CopyOp::create(rewriter, loc, temporary, destination);
    replaceOpWithBufferizedValues(rewriter, op, results);
    return success();
  }
};

} // namespace

void mlir::tvc::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, tvc::TvcDialect *) {
    tvc::KernelCallOp::attachInterface<KernelCallOpInterface>(*context);
  });
}
