//===- LLVMEmitter.cpp - LLVM-dialect modules to LLVM IR and objects ------===//
//
// Target machine creation, translation + O3, and object emission.
//
//===----------------------------------------------------------------------===//

#include "lib/Target/LLVMEmitter.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
mlir::tvc::createCpuTargetMachine(llvm::StringRef cpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for " + triple.str() +
                                   ": " + error);
  std::string cpuName = cpu.str();
  std::string features;
  if (cpuName.empty() || cpuName == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
    for (auto &feature : hostFeatures)
      features += (features.empty() ? "" : ",") +
                  std::string(feature.second ? "+" : "-") +
                  feature.first().str();
  } else {
    const llvm::MCSubtargetInfo *info = target->createMCSubtargetInfo(
        triple, cpuName, "");
    bool known = info && info->isCPUStringValid(cpuName);
    delete info;
    if (!known)
      return llvm::createStringError("unknown CPU '" + cpuName +
                                     "' for " + triple.str() +
                                     " (try x86-64-v2, x86-64-v3, "
                                     "x86-64-v4, znver3, native)");
  }
  llvm::TargetOptions options;
  // Global constructors (the CUDA target loads its kernel modules in one)
  // in .init_array, which is what glibc runs; .ctors sections are ignored
  // on modern Linux.
  options.UseInitArray = true;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return llvm::createStringError("cannot create a target machine for " +
                                   cpuName);
  return machine;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
mlir::tvc::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                                llvm::TargetMachine &machine) {
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "tvc-model");
  if (!llvmModule)
    return llvm::createStringError("cannot translate the module to LLVM IR");
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  auto optimize = makeOptimizingTransformer(3, 0, &machine);
  if (llvm::Error error = optimize(llvmModule.get()))
    return std::move(error);
  return std::move(llvmModule);
}

llvm::Expected<std::string> mlir::tvc::emitObject(llvm::Module &module,
                                                  llvm::TargetMachine &machine) {
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, stream, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  passes.run(module);
  return std::string(object.begin(), object.end());
}
