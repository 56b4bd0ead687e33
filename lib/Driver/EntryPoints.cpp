//===- EntryPoints.cpp - The tensor ABI of a compiled module ---------------===//
//
// Collecting entry-point signatures before lowering and resolving what
// lowering decided about them.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/EntryPoints.h"

#include "lib/Support/HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tvc;

int32_t mlir::tvc::getOnnxElementType(Type type) {
  using OT = OnnxElementType;
  OT result;
  if (type.isF32())
    result = OT::Float;
  else if (type.isF64())
    result = OT::Double;
  else if (type.isF16())
    result = OT::Float16;
  else if (type.isBF16())
    result = OT::BFloat16;
  else if (type.isInteger(64))
    result = OT::Int64;
  else if (type.isInteger(32))
    result = OT::Int32;
  else if (type.isInteger(16))
    result = OT::Int16;
  else if (type.isInteger(8))
    result = OT::Int8;
  else if (type.isInteger(1))
    result = OT::Bool;
  else
    return 0;
  return static_cast<int32_t>(result);
}


llvm::Expected<std::vector<EntrySignature>>
mlir::tvc::collectEntryPoints(ModuleOp module) {
  MLIRContext *context = module.getContext();
  std::vector<EntrySignature> entries;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || function.isPrivate())
      continue;
    EntrySignature signature;
    signature.name = function.getSymName().str();
    for (auto [index, type] : llvm::enumerate(function.getArgumentTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || !getOnnxElementType(tensor.getElementType()))
        return llvm::createStringError(
            llvm::formatv("argument #{0} of @{1} has type {2}; entry points "
                          "take ranked tensors of numbers",
                          index, signature.name, type)
                .str());
      signature.inputs.push_back(tensor);
      auto name = function.getArgAttrOfType<StringAttr>(index, "tvc.name");
      signature.inputNames.push_back(name ? name.str()
                                          : "input_" + std::to_string(index));
      signature.inputIsCache.push_back(
          function.getArgAttr(index, "tvc.kv_cache") != nullptr);
      auto maxShape =
          function.getArgAttrOfType<DenseI64ArrayAttr>(index, "tvc.max_shape");
      signature.inputMaxShapes.push_back(
          maxShape ? std::vector<int64_t>(maxShape.asArrayRef())
                   : std::vector<int64_t>());
    }
    for (auto [index, type] : llvm::enumerate(function.getResultTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || !getOnnxElementType(tensor.getElementType()))
        return llvm::createStringError(
            llvm::formatv("@{0} returns {1}; entry points return ranked "
                          "tensors of numbers",
                          signature.name, type)
                .str());
      signature.results.push_back(tensor);
      auto updates =
          function.getResultAttrOfType<IntegerAttr>(index, "tvc.updates_arg");
      signature.resultUpdatesInput.push_back(updates ? updates.getInt() : -1);
    }
    if (signature.results.empty())
      return llvm::createStringError("@" + signature.name +
                                     " returns nothing to compute");
    function->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(context));
    entries.push_back(std::move(signature));
  }

  if (entries.empty())
    return llvm::createStringError("the module has no public function");
  return entries;
}

llvm::Error
mlir::tvc::resolveLoweredEntryPoints(ModuleOp module,
                                     std::vector<EntrySignature> &entries) {
  for (EntrySignature &signature : entries) {
    // Bufferization drops results equivalent to an argument (caches written
    // in place); count what the compiled function still returns.
    auto function = module.lookupSymbol<LLVM::LLVMFuncOp>(signature.name);
    if (!function)
      return llvm::createStringError("lowering lost @" + signature.name);
    Type returned = function.getFunctionType().getReturnType();
    size_t kept = 0;
    if (auto structType = dyn_cast<LLVM::LLVMStructType>(returned))
      kept = isa<LLVM::LLVMStructType>(structType.getBody().front())
                 ? structType.getBody().size()
                 : 1;
    size_t inPlace = llvm::count_if(signature.resultUpdatesInput,
                                    [](int input) { return input >= 0; });
    if (kept == signature.results.size() - inPlace && inPlace > 0)
      signature.inPlaceResultsDropped = true;
    else if (kept != signature.results.size())
      return llvm::createStringError(
          llvm::formatv("@{0} returns {1} values after lowering, expected "
                        "{2}",
                        signature.name, kept, signature.results.size())
              .str());
      // The C wrapper takes the results' pointer, one descriptor pointer per
    // input and, when the function reads weights, the blob's.
    auto wrapper = module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_ciface_" +
                                                        signature.name);
    if (!wrapper)
      return llvm::createStringError("lowering lost the C interface of @" +
                                     signature.name);
    // ... and, when tvc-plan-memory placed buffers, the arena's last.
    auto buffers = function->getAttrOfType<IntegerAttr>("tvc.arena_buffers");
    auto arenaBytes = function->getAttrOfType<IntegerAttr>("tvc.arena_bytes");
    signature.takesArena = buffers && buffers.getInt() > 0;
    signature.arenaBytes =
        signature.takesArena && arenaBytes ? arenaBytes.getInt() : 0;
    unsigned arguments = wrapper.getNumArguments();
    size_t fixed = 1 + signature.inputs.size() + signature.takesArena;
    if (arguments != fixed && arguments != fixed + 1)
      return llvm::createStringError(
          llvm::formatv("@{0} takes {1} arguments after lowering, expected "
                        "{2} or {3}",
                        signature.name, arguments, fixed, fixed + 1)
              .str());
    signature.takesWeights = arguments == fixed + 1;
  }
  return llvm::Error::success();
}

std::string mlir::tvc::checkInputShape(const EntrySignature &entry,
                                       size_t index,
                                       llvm::ArrayRef<int64_t> shape) {
  RankedTensorType expected = entry.inputs[index];
  auto describe = [](llvm::ArrayRef<int64_t> dims) {
    std::string text;
    for (int64_t dim : dims)
      text += (text.empty() ? "" : "x") +
              (ShapedType::isDynamic(dim) ? std::string("?")
                                          : std::to_string(dim));
    return "[" + text + "]";
  };
  if (shape.size() != static_cast<size_t>(expected.getRank()))
    return "has shape " + describe(shape) + ", expected rank " +
           std::to_string(expected.getRank()) + " " +
           describe(expected.getShape());
  for (int64_t dim = 0; dim < expected.getRank(); ++dim)
    if (!expected.isDynamicDim(dim) && expected.getDimSize(dim) != shape[dim])
      return "has shape " + describe(shape) + ", expected " +
             describe(expected.getShape());
  const std::vector<int64_t> &bound = entry.inputMaxShapes[index];
  for (size_t dim = 0; dim < bound.size() && dim < shape.size(); ++dim)
    if (shape[dim] > bound[dim])
      return "has shape " + describe(shape) + ", above the compiled bound " +
             describe(bound) +
             " (the KV cache capacity, or a prefill's "
             "--max-prefill-tokens; recompile with a larger one)";
  return "";
}

std::vector<size_t> mlir::tvc::getReturnedResults(const EntrySignature &entry) {
  std::vector<size_t> returned;
  for (size_t index = 0; index < entry.results.size(); ++index)
    if (!entry.inPlaceResultsDropped || entry.resultUpdatesInput[index] < 0)
      returned.push_back(index);
  return returned;
}

std::string mlir::tvc::getEntryRole(llvm::StringRef name) {
  if (name.ends_with("_prefill"))
    return "prefill";
  if (name.ends_with("_decode"))
    return "decode";
  return "forward";
}
