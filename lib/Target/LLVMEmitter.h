//===- LLVMEmitter.h - LLVM-dialect modules to LLVM IR and objects -*- C++ -*-===//
//
// The last steps of the CPU target: a target machine for the host (or a
// named CPU such as x86-64-v3), translation of a lowered module to LLVM IR
// with that machine's data layout, LLVM's O3 pipeline, and object emission.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_TARGET_LLVMEMITTER_H
#define TVC_LIB_TARGET_LLVMEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace mlir::tvc {

/// A target machine for the host triple. `cpu` empty or "native" detects
/// the host CPU and its features; otherwise it names an LLVM CPU
/// ("x86-64-v3", "znver3", ...) and that CPU's default features.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createCpuTargetMachine(llvm::StringRef cpu);

/// Translates `module` (LLVM dialect only) to LLVM IR for `machine` and
/// optimizes it at O3.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                     llvm::TargetMachine &machine);

/// The object file of `module` for `machine`, in memory.
llvm::Expected<std::string> emitObject(llvm::Module &module,
                                       llvm::TargetMachine &machine);

} // namespace mlir::tvc

#endif // TVC_LIB_TARGET_LLVMEMITTER_H
