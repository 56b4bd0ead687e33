//===- TvcKernelsToLLVM.cpp - convert-tvc-kernels-to-llvm -----------------===//
//
// Lowers memref-form tvc.kernel_call ops into C calls taking one pointer to
// a params struct {buffer pointers..., scalars...}. The struct is built with
// LLVM dialect ops and stored to a stack slot allocated once per callee
// signature in the function's entry block (so calls in loops do not grow
// the stack). The buffers are contiguous after bufferization, so their
// aligned pointer is where the data starts.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"
#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTTVCKERNELSTOLLVM
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// Declares `callee` as `(!llvm.ptr) -> i32` in `module` unless present.
FailureOr<func::FuncOp> declareKernel(ModuleOp module, KernelCallOp call) {
  MLIRContext *context = module.getContext();
  auto type = FunctionType::get(context, {LLVM::LLVMPointerType::get(context)},
                                {IntegerType::get(context, 32)});
  if (auto existing = module.lookupSymbol<func::FuncOp>(call.getCallee())) {
    if (existing.getFunctionType() != type)
      return call.emitOpError() << "calls '" << call.getCallee()
                                << "', already declared with type "
                                << existing.getFunctionType();
    return existing;
  }
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto func = func::FuncOp::create(builder, call.getLoc(), call.getCallee(),
                                   type);
  func.setPrivate();
  return func;
}

struct ConvertTvcKernelsToLLVMPass
    : public tvc::impl::ConvertTvcKernelsToLLVMBase<
          ConvertTvcKernelsToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto ptrType = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);

    SmallVector<KernelCallOp> calls;
    module.walk([&](KernelCallOp call) { calls.push_back(call); });
    // One stack slot per (function, struct type).
    DenseMap<std::pair<Operation *, Type>, Value> slots;
    for (KernelCallOp call : calls) {
      if (call.getNumResults() != 0) {
        call.emitOpError() << "must be bufferized before "
                              "convert-tvc-kernels-to-llvm";
        return signalPassFailure();
      }
      FailureOr<func::FuncOp> callee = declareKernel(module, call);
      if (failed(callee))
        return signalPassFailure();

      SmallVector<Type> fields;
      SmallVector<Value> shaped(call.getInputs());
      llvm::append_range(shaped, call.getOutputs());
      fields.append(shaped.size(), ptrType);
      for (Value scalar : call.getScalars())
        fields.push_back(scalar.getType());
      auto structType = LLVM::LLVMStructType::getLiteral(context, fields);

      auto func = call->getParentOfType<FunctionOpInterface>();
      Value &slot = slots[{func.getOperation(), structType}];
      if (!slot) {
        OpBuilder entry(context);
        entry.setInsertionPointToStart(&func.getFunctionBody().front());
        Value one = LLVM::ConstantOp::create(entry, call.getLoc(), i64,
                                             entry.getI64IntegerAttr(1));
        slot = LLVM::AllocaOp::create(entry, call.getLoc(), ptrType,
                                      structType, one, /*alignment=*/8);
      }

      OpBuilder builder(call);
      Location loc = call.getLoc();
      Value params = LLVM::PoisonOp::create(builder, loc, structType);
      int64_t position = 0;
      for (Value buffer : shaped) {
        if (!cast<MemRefType>(buffer.getType()).getLayout().isIdentity()) {
          call.emitOpError() << "expects contiguous buffers, got "
                             << buffer.getType();
          return signalPassFailure();
        }
        Value address =
            memref::ExtractAlignedPointerAsIndexOp::create(builder, loc, buffer);
        Value asInt = arith::IndexCastOp::create(builder, loc, i64, address);
        Value pointer = LLVM::IntToPtrOp::create(builder, loc, ptrType, asInt);
        params = LLVM::InsertValueOp::create(builder, loc, params, pointer,
                                             position++);
      }
      for (Value scalar : call.getScalars())
        params = LLVM::InsertValueOp::create(builder, loc, params, scalar,
                                             position++);
      LLVM::StoreOp::create(builder, loc, params, slot);
      func::CallOp::create(builder, loc, *callee, ValueRange{slot});
      call.erase();
    }
  }
};

} // namespace
