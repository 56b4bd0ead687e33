//===- TvcKernelsToLLVM.cpp - convert-tvc-kernels-to-llvm -----------------===//
//
// Lowers memref-form tvc.kernel_call ops into C calls taking one pointer to
// a params struct {buffer pointers..., scalars...}. The struct is built with
// LLVM dialect ops and stored to a stack slot allocated once per callee
// signature in the function's entry block (so calls in loops do not grow
// the stack). The buffers are contiguous after bufferization, so their
// aligned pointer is where the data starts. The call's status is tested:
// a non-zero one is reported to tvc_runtime_kernel_failed with the
// kernel's name (one string constant per kernel), and execution goes on.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"
#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

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

/// The runtime function that records a failed kernel call.
constexpr llvm::StringLiteral kFailureReporter = "tvc_runtime_kernel_failed";

/// Declares `@tvc_runtime_kernel_failed(!llvm.ptr, i32)` unless present.
FailureOr<func::FuncOp> declareFailureReporter(ModuleOp module, Location loc) {
  MLIRContext *context = module.getContext();
  auto type = FunctionType::get(
      context,
      {LLVM::LLVMPointerType::get(context), IntegerType::get(context, 32)}, {});
  if (auto existing = module.lookupSymbol<func::FuncOp>(kFailureReporter)) {
    if (existing.getFunctionType() != type)
      return existing.emitOpError()
             << "is the runtime's failure reporter, expected of type " << type;
    return existing;
  }
  if (Operation *other = module.lookupSymbol(kFailureReporter))
    return other->emitOpError()
           << "takes the name of the runtime's failure reporter";
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto func = func::FuncOp::create(builder, loc, kFailureReporter, type);
  func.setPrivate();
  return func;
}

/// The NUL-terminated name of `callee` as a private constant global,
/// created on first use and shared by every call of that kernel.
FailureOr<LLVM::GlobalOp> getKernelName(ModuleOp module, KernelCallOp call) {
  std::string symbol = ("__tvc_kernel_name." + call.getCallee()).str();
  std::string text = call.getCallee().str();
  text.push_back('\0');
  if (auto existing = module.lookupSymbol<LLVM::GlobalOp>(symbol)) {
    auto value = dyn_cast_or_null<StringAttr>(existing.getValueOrNull());
    if (!value || value.getValue() != text)
      return call.emitOpError() << "needs the symbol '" << symbol
                                << "' for its name, which holds another value";
    return existing;
  }
  if (module.lookupSymbol(symbol))
    return call.emitOpError() << "needs the symbol '" << symbol
                              << "' for its name, which is taken";
  MLIRContext *context = module.getContext();
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto type =
      LLVM::LLVMArrayType::get(IntegerType::get(context, 8), text.size());
  return LLVM::GlobalOp::create(builder, call.getLoc(), type,
                                /*isConstant=*/true, LLVM::Linkage::Private,
                                symbol, builder.getStringAttr(text));
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
        if (!isContiguousFromStart(cast<MemRefType>(buffer.getType()))) {
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
      Value status =
          func::CallOp::create(builder, loc, *callee, ValueRange{slot})
              .getResult(0);

      // One compare and a branch per call; the report is off the hot path.
      FailureOr<func::FuncOp> reporter = declareFailureReporter(module, loc);
      FailureOr<LLVM::GlobalOp> name = getKernelName(module, call);
      if (failed(reporter) || failed(name))
        return signalPassFailure();
      Value zero =
          arith::ConstantOp::create(builder, loc, builder.getI32IntegerAttr(0));
      Value failedCall = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::ne, status, zero);
      auto ifFailed = scf::IfOp::create(builder, loc, failedCall,
                                        /*withElseRegion=*/false);
      OpBuilder report = ifFailed.getThenBodyBuilder();
      Value text = LLVM::AddressOfOp::create(report, loc, *name);
      func::CallOp::create(report, loc, *reporter, ValueRange{text, status});
      call.erase();
    }
  }
};

} // namespace
