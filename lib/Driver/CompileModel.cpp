//===- CompileModel.cpp - Ahead-of-time compilation for the CPU -----------===//
//
// The tvc-compile flow, step by step; every step but the last two is a pass
// or a library call tested on its own.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/CompileModel.h"

#include "lib/Driver/DiagnosticCollector.h"
#include "lib/Driver/EntryPoints.h"
#include "lib/Driver/OffloadPlanning.h"
#include "lib/Pipelines/Pipelines.h"
#include "lib/Target/LLVMEmitter.h"
#include "passes/Analysis/OffloadPlan.h"
#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <set>

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// The role of entry point `name`: prefill, decode or forward.
std::string dimsText(RankedTensorType type) {
  if (type.getRank() == 0)
    return "-";
  std::string text;
  for (int64_t dim : type.getShape())
    text += (text.empty() ? "" : ",") +
            std::to_string(ShapedType::isDynamic(dim) ? -1 : dim);
  return text;
}

/// The offload plan's lines of the manifest (runtime/tools/Manifest.h):
/// every laid-out weight, in blob order, with its placement; nothing
/// without a plan.
std::string offloadManifest(ModuleOp module, const WeightsLayout &layout) {
  auto config = module->getAttrOfType<DictionaryAttr>("tvc.offload");
  if (!config)
    return "";
  auto budget = config.getAs<IntegerAttr>("budget");
  // The pool of the slots tvc-materialize-offload assigned, if it did.
  auto pool = config.getAs<IntegerAttr>("pool_bytes");
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "offload " << (budget ? budget.getValue().getZExtValue() : 0) << " "
     << layout.entries.size();
  if (pool)
    os << " " << pool.getValue().getZExtValue();
  os << "\n";
  for (auto [index, entry] : llvm::enumerate(layout.entries)) {
    GlobalOp global = entry.global;
    auto placement = global->getAttrOfType<StringAttr>("tvc.placement");
    os << "offload-item " << index << " " << entry.offset << " " << entry.bytes
       << " " << (placement ? placement.getValue() : "resident");
    if (auto slot = global->getAttrOfType<IntegerAttr>("tvc.slot_offset");
        slot && pool)
      os << " " << slot.getValue().getZExtValue();
    os << "\n";
  }
  return text;
}

/// The offload-kv lines `kvLines` (written before lowering) with the slot
/// of each streamed cache appended, as tvc-materialize-offload recorded
/// them in the lowered module's `tvc.offload` (`kv_slot_offsets`, -1 for
/// none).
std::string withKvSlots(ModuleOp module, llvm::StringRef kvLines) {
  auto config = module->getAttrOfType<DictionaryAttr>("tvc.offload");
  auto slots =
      config ? config.getAs<DenseI64ArrayAttr>("kv_slot_offsets") : nullptr;
  if (!slots || !config.getAs<IntegerAttr>("pool_bytes"))
    return kvLines.str();
  std::string text;
  SmallVector<llvm::StringRef> lines;
  kvLines.split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (auto [index, line] : llvm::enumerate(lines)) {
    text += line.str();
    if (static_cast<int64_t>(index) < slots.size() && slots[index] >= 0)
      text += " " + std::to_string(slots[index]);
    text += "\n";
  }
  return text;
}

} // namespace

llvm::Expected<std::string>
mlir::tvc::getKvOffloadManifest(ModuleOp module, bool hostAttention) {
  if (!module->hasAttr("tvc.offload"))
    return "";
  func::FuncOp prefill, decode;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || function.isPrivate())
      continue;
    if (getEntryRole(function.getSymName()) == "prefill")
      prefill = function;
    else if (getEntryRole(function.getSymName()) == "decode")
      decode = function;
  }
  // The caches of one entry point, in argument order, with their
  // placements (null where the plan gave none).
  struct Cache {
    unsigned argument;
    RankedTensorType type;
    StringAttr placement;
    IntegerAttr item;
  };
  auto cachesOf = [](func::FuncOp function) {
    SmallVector<Cache> caches;
    if (!function)
      return caches;
    for (auto [index, type] : llvm::enumerate(function.getArgumentTypes()))
      if (function.getArgAttr(index, "tvc.kv_cache"))
        caches.push_back(
            {static_cast<unsigned>(index), dyn_cast<RankedTensorType>(type),
             function.getArgAttrOfType<StringAttr>(index, "tvc.kv_placement"),
             function.getArgAttrOfType<IntegerAttr>(index, "tvc.kv_item")});
    return caches;
  };
  SmallVector<Cache> caches = cachesOf(prefill);
  SmallVector<Cache> decodeCaches = cachesOf(decode);
  bool planned = false;
  for (const Cache &cache : llvm::concat<const Cache>(caches, decodeCaches))
    planned |= cache.placement != nullptr;
  if (!planned)
    return ""; // A plan of the weights only.

  auto fail = [&](func::FuncOp function, const Cache &cache,
                  const llvm::Twine &why) {
    return llvm::createStringError(
        llvm::formatv("KV cache argument #{0} of @{1}: {2}", cache.argument,
                      function.getSymName(), why.str())
            .str());
  };
  // Decode reads the caches prefill wrote: the same items, placed alike.
  for (auto [function, list] : {std::make_pair(prefill, &caches),
                                std::make_pair(decode, &decodeCaches)})
    for (auto [ordinal, cache] : llvm::enumerate(*list)) {
      if (!cache.placement || !cache.item)
        return fail(function, cache,
                    "the offload plan places some KV caches but not this one "
                    "(tvc.kv_placement and tvc.kv_item)");
      if (cache.item.getInt() != static_cast<int64_t>(ordinal))
        return fail(function, cache,
                    llvm::formatv("tvc.kv_item is {0}, expected its ordinal "
                                  "among the caches, {1}",
                                  cache.item.getInt(), ordinal)
                        .str());
      llvm::StringRef placement = cache.placement.getValue();
      if (placement == "host_attention" && !hostAttention)
        return fail(function, cache,
                    "placed 'host_attention': attention offload runs on the "
                    "CUDA target only (--target=cuda)");
      if (placement != "resident" && placement != "streamed" &&
          placement != "host_attention")
        return fail(function, cache,
                    "unknown tvc.kv_placement '" + placement +
                        "' (resident, streamed or host_attention)");
      if (!cache.type || cache.type.getRank() < 2 ||
          !cache.type.hasStaticShape() ||
          !cache.type.getElementType().isIntOrFloat())
        return fail(function, cache,
                    llvm::formatv("an offloaded cache has a static shape "
                                  "[batch, rows, ...] of numbers, got {0}",
                                  function.getArgumentTypes()[cache.argument])
                        .str());
    }
  if (!prefill)
    return llvm::createStringError(
        "the offload plan places KV caches of a module without a _prefill "
        "entry point");
  if (decode) {
    if (decodeCaches.size() != caches.size())
      return llvm::createStringError(
          llvm::formatv("@{0} has {1} KV caches and @{2} {3}; the offload plan "
                        "needs the same caches in both",
                        prefill.getSymName(), caches.size(),
                        decode.getSymName(), decodeCaches.size())
              .str());
    for (auto [ours, theirs] : llvm::zip(caches, decodeCaches))
      if (ours.type != theirs.type ||
          ours.placement.getValue() != theirs.placement.getValue())
        return fail(decode, theirs,
                    llvm::formatv("{0} placed '{1}', but the cache it "
                                  "continues (argument #{2} of @{3}) is {4} "
                                  "placed '{5}'",
                                  theirs.type, theirs.placement.getValue(),
                                  ours.argument, prefill.getSymName(),
                                  ours.type, ours.placement.getValue())
                        .str());
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  for (auto [index, cache] : llvm::enumerate(caches)) {
    ArrayRef<int64_t> shape = cache.type.getShape();
    uint64_t rowBytes =
        llvm::divideCeil(cache.type.getElementTypeBitWidth(), 8);
    for (int64_t dim : shape.drop_front(2))
      rowBytes *= static_cast<uint64_t>(dim);
    os << "offload-kv " << index << " " << shape[0] << " " << shape[1] << " "
       << rowBytes << " " << cache.placement.getValue() << "\n";
  }
  return text;
}

namespace {

/// The model's context: the KV-cache capacity of its prefill entry point
/// (`tvc.kv_cache_capacity`, tvc-derive-decode), or 0 when it has none.
int64_t getModelContext(ModuleOp module) {
  for (auto function : module.getOps<func::FuncOp>())
    if (getEntryRole(function.getSymName()) == "prefill")
      if (auto capacity =
              function->getAttrOfType<IntegerAttr>("tvc.kv_cache_capacity"))
        return capacity.getInt();
  return 0;
}

std::string buildManifest(llvm::ArrayRef<EntrySignature> entries,
                          uint64_t weightsBytes, int64_t context,
                          llvm::StringRef offload,
                          const CompileOptions &options) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "tvc-model 2\n";
  if (options.target == TargetKind::Cuda)
    os << "target cuda " << options.cudaChip << "\n";
  os << "weights " << weightsBytes << "\n";
  if (context > 0)
    os << "context " << context << "\n";
  os << offload;
  for (const EntrySignature &entry : entries) {
    os << "entry " << getEntryRole(entry.name) << " " << entry.name << " "
       << entry.takesWeights << " " << entry.inPlaceResultsDropped << " "
       << entry.arenaBytes << "\n";
    for (size_t i = 0; i < entry.inputs.size(); ++i) {
      os << "input " << entry.inputNames[i] << " "
         << getOnnxElementType(entry.inputs[i].getElementType()) << " "
         << entry.inputIsCache[i] << " " << dimsText(entry.inputs[i]) << " ";
      const std::vector<int64_t> &bound = entry.inputMaxShapes[i];
      if (bound.empty())
        os << "-";
      llvm::interleave(bound, os, ",");
      os << "\n";
    }
    for (size_t i = 0; i < entry.results.size(); ++i)
      os << "result " << getOnnxElementType(entry.results[i].getElementType())
         << " " << entry.resultUpdatesInput[i] << " "
         << dimsText(entry.results[i]) << "\n";
  }
  os << "end\n";
  return text;
}

/// Defines `exported` as a function of `type` (one argument) that calls the
/// runtime's `target` with its argument and returns what it returns.
static void addForwarder(ModuleOp module, OpBuilder &builder,
                         llvm::StringRef exported, llvm::StringRef target,
                         LLVM::LLVMFunctionType type) {
  Location loc = module.getLoc();
  auto callee = module.lookupSymbol<LLVM::LLVMFuncOp>(target);
  if (!callee)
    callee = LLVM::LLVMFuncOp::create(builder, loc, target, type);
  auto function = LLVM::LLVMFuncOp::create(builder, loc, exported, type);
  Block *body = function.addEntryBlock(builder);
  OpBuilder inner = OpBuilder::atBlockBegin(body);
  auto result = LLVM::CallOp::create(inner, loc, callee,
                                     ValueRange{body->getArgument(0)});
  LLVM::ReturnOp::create(inner, loc, result.getResult());
}

/// Adds `tvc_model_<role>(ptr args)`, which calls the C interface of each
/// entry with args[0..n), and the manifest string.
LogicalResult addArtifactInterface(ModuleOp module,
                                   llvm::ArrayRef<EntrySignature> entries,
                                   llvm::StringRef manifest) {
  MLIRContext *context = module.getContext();
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(context);
  std::set<std::string> roles;
  for (const EntrySignature &entry : entries) {
    std::string role = getEntryRole(entry.name);
    if (!roles.insert(role).second)
      return module.emitError() << "has two " << role
                                << " entry points; an artifact has one of each";
    auto wrapper =
        module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_ciface_" + entry.name);
    auto function = LLVM::LLVMFuncOp::create(
        builder, loc, "tvc_model_" + role,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {ptr}));
    Block *body = function.addEntryBlock(builder);
    OpBuilder inner = OpBuilder::atBlockBegin(body);
    SmallVector<Value> arguments;
    for (unsigned i = 0; i < wrapper.getNumArguments(); ++i) {
      Value slot =
          LLVM::GEPOp::create(inner, loc, ptr, ptr, body->getArgument(0),
                              ArrayRef<LLVM::GEPArg>{int32_t(i)});
      arguments.push_back(LLVM::LoadOp::create(inner, loc, ptr, slot));
    }
    LLVM::CallOp::create(inner, loc, wrapper, arguments);
    LLVM::ReturnOp::create(inner, loc, ValueRange());
  }
  // The runtime linked into a library keeps its symbols local, so its
  // callers reach these two through exported one-argument forwarders:
  // tvc_model_set_num_threads(n) (the kernel threads) and
  // tvc_model_kernel_error(const char **) (the first kernel failure on the
  // calling thread, read and cleared by the host after each entry call).
  auto i32 = IntegerType::get(context, 32);
  addForwarder(module, builder, "tvc_model_set_num_threads",
               "tvc_runtime_set_num_threads",
               LLVM::LLVMFunctionType::get(i32, {i32}));
  addForwarder(module, builder, "tvc_model_kernel_error",
               "tvc_runtime_kernel_error",
               LLVM::LLVMFunctionType::get(i32, {ptr}));

  std::string text = manifest.str();
  text.push_back('\0');
  auto type =
      LLVM::LLVMArrayType::get(IntegerType::get(context, 8), text.size());
  LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true,
                         LLVM::Linkage::External, "tvc_model_manifest",
                         builder.getStringAttr(text));
  return success();
}

/// Adds the blob as `tvc_model_weights`: constant (a read-only section),
/// 64-byte aligned like the offsets the lowering recorded.
void embedWeights(llvm::Module &module, AlignedBuffer &weights) {
  llvm::Constant *data = llvm::ConstantDataArray::getRaw(
      llvm::StringRef(weights.data(), weights.size()), weights.size(),
      llvm::Type::getInt8Ty(module.getContext()));
  auto *global = new llvm::GlobalVariable(
      module, data->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, data, "tvc_model_weights");
  global->setAlignment(llvm::Align(64));
}

} // namespace

std::optional<std::string>
mlir::tvc::getWeightPrecision(llvm::StringRef precision) {
  return llvm::StringSwitch<std::optional<std::string>>(precision)
      .Cases({"", "keep"}, std::string("keep"))
      .Cases({"fp32", "tf32"}, std::string("f32"))
      .Case("bf16", std::string("bf16"))
      .Case("fp16", std::string("f16"))
      .Default(std::nullopt);
}

llvm::Expected<std::string>
mlir::tvc::convertPrecision(ModuleOp module, llvm::StringRef weights,
                            llvm::StringRef weightsDir) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);
  std::string summary;
  ScopedDiagnosticHandler remarks(context, [&](Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() != DiagnosticSeverity::Remark)
      return failure(); // to the collector
    std::string text = diagnostic.str();
    // Said when it changed something.
    if (!llvm::StringRef(text).contains("weights converted: none"))
      summary = llvm::StringRef(text)
                    .drop_front(std::strlen("tvc-convert-precision: "))
                    .str();
    return success();
  });
  PassManager pm(context);
  TvcConvertPrecisionOptions precision;
  precision.weights = weights.str();
  precision.baseDir = weightsDir.str();
  precision.report = true;
  pm.addPass(createTvcConvertPrecision(precision));
  if (failed(pm.run(module)))
    return errors.error("cannot convert the model's precision");
  return summary;
}

llvm::Expected<Artifact>
mlir::tvc::compileModel(OwningOpRef<ModuleOp> module,
                        const CompileOptions &options) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);

  // KV-cached entry points, for models with attention that lack them.
  bool hasAttention = false, hasDerived = false;
  module->walk([&](AttentionOp) { hasAttention = true; });
  for (auto function : module->getOps<func::FuncOp>())
    hasDerived |= function.getSymName().ends_with("_decode");
  if (hasAttention && !hasDerived) {
    PassManager pm(context);
    TvcDeriveDecodeOptions derive;
    derive.maxSeqLen = options.maxSeqLen;
    derive.maxPrefillTokens = options.maxPrefillTokens;
    derive.ringWindows = options.ringWindows;
    pm.addPass(createTvcDeriveDecode(derive));
    if (failed(pm.run(*module)))
      return errors.error("cannot derive the prefill/decode entry points");
  } else if (options.maxPrefillTokens > 0) {
    // The bound is set where the entry points are derived.
    return llvm::createStringError(
        hasDerived ? "--max-prefill-tokens applies when tvc-compile derives "
                     "the prefill/decode entry points; this module has them"
                   : "--max-prefill-tokens needs a model with attention "
                     "(prefill/decode entry points)");
  }

  // Structured linears: factored or merged, per entry point.
  if (!options.premergePolicy.empty()) {
    PassManager pm(context);
    TvcPremergeFfnOptions premerge;
    premerge.policy = options.premergePolicy;
    premerge.workload = "auto";
    premerge.baseDir = options.weightsDir;
    premerge.calibration = options.premergeCalibration;
    // Only the CPU pipeline runs low-rank pairs through the fused kernel.
    premerge.fusedLowRank = options.target != TargetKind::Cuda;
    pm.addPass(createTvcPremergeFfn(premerge));
    if (failed(pm.run(*module)))
      return errors.error("cannot pre-merge the structured linears");
  }

  // Precision: every activation f32, the matrices in the chosen type (the
  // merged weights of the pre-merge included), before the plan counts
  // their bytes.
  llvm::Expected<std::string> precisionSummary =
      convertPrecision(*module, options.weightPrecision, options.weightsDir);
  if (!precisionSummary)
    return precisionSummary.takeError();

  // The offload plan, on the model with its final entry points.
  bool cuda = options.target == TargetKind::Cuda;
  if (options.emit == EmitKind::Ptx && !cuda)
    return llvm::createStringError("PTX is emitted for the CUDA target only");
  std::string offloadSummary;
  if (!precisionSummary->empty())
    offloadSummary = "precision: " + *precisionSummary;
  if (llvm::Error error = planModelOffload(module, options, offloadSummary))
    return std::move(error);

  llvm::Expected<std::vector<EntrySignature>> entries =
      collectEntryPoints(*module);
  if (!entries)
    return entries.takeError();
  // The caches' placements, read before lowering rewrites the signatures.
  llvm::Expected<std::string> kvOffload =
      getKvOffloadManifest(*module, /*hostAttention=*/cuda);
  if (!kvOffload)
    return kvOffload.takeError();
  int64_t modelContext = getModelContext(*module);

  PassManager pm(context);
  if (cuda) {
    CudaPipelineOptions pipeline;
    pipeline.chip = options.cudaChip;
    pipeline.precision = options.cudaPrecision;
    // PTX text to print it; otherwise a fat binary (cubin for the chip plus
    // its PTX, which newer GPUs can JIT).
    pipeline.format = options.emit == EmitKind::Ptx ? "isa" : "fatbin";
    buildCudaLoweringPipeline(pm, pipeline);
  } else {
    buildCpuLoweringPipeline(pm);
  }
  if (failed(pm.run(*module)))
    return errors.error("lowering failed");
  if (options.emit == EmitKind::Ptx) {
    Artifact artifact;
    llvm::raw_string_ostream os(artifact.text);
    for (auto binary : module->getOps<gpu::BinaryOp>())
      for (Attribute object : binary.getObjects())
        os << "// kernel module @" << binary.getSymName() << "\n"
           << cast<gpu::ObjectAttr>(object).getObject().getValue() << "\n";
    return std::move(artifact);
  }
  if (llvm::Error error = resolveLoweredEntryPoints(*module, *entries))
    return std::move(error);

  Artifact artifact;
  artifact.summary = std::move(offloadSummary);
  uint64_t weightsBytes = 0;
  std::string offload;
  if ((*module)->hasAttr("tvc.weights_bytes")) {
    llvm::Expected<WeightsLayout> layout = getWeightsLayout(*module);
    if (!layout)
      return layout.takeError();
    weightsBytes = layout->totalBytes;
    offload = offloadManifest(*module, *layout);
    if (!offload.empty())
      offload += withKvSlots(*module, *kvOffload);
    if (!offload.empty() && options.embedWeights)
      return llvm::createStringError(
          "an offload plan reads the weights from a weights file; it cannot "
          "be combined with --embed-weights");
    if (weightsBytes > 0) {
      llvm::Expected<AlignedBuffer> blob =
          AlignedBuffer::allocate(weightsBytes);
      if (!blob)
        return blob.takeError();
      WeightStore store(options.weightsDir);
      if (llvm::Error error = packWeights(*layout, store, blob->data()))
        return std::move(error);
      artifact.weights.emplace(std::move(*blob));
    }
  }
  eraseWeightsLayout(*module);

  artifact.manifest =
      buildManifest(*entries, weightsBytes, modelContext, offload, options);
  if (failed(addArtifactInterface(*module, *entries, artifact.manifest)))
    return errors.error("cannot add the artifact's entry points");

  if (options.emit == EmitKind::Mlir) {
    if (options.embedWeights)
      return llvm::createStringError(
          "weights can be embedded in LLVM IR and objects, not in MLIR");
    llvm::raw_string_ostream os(artifact.text);
    module->print(os);
    return std::move(artifact);
  }
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createCpuTargetMachine(options.cpu);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  llvm::Expected<std::unique_ptr<llvm::Module>> llvmModule =
      translateAndOptimize(*module, llvmContext, **machine);
  if (!llvmModule)
    return llvmModule.takeError();
  if (options.embedWeights && artifact.weights) {
    embedWeights(**llvmModule, *artifact.weights);
    artifact.weights.reset();
  }
  if (options.emit == EmitKind::Llvm) {
    llvm::raw_string_ostream os(artifact.text);
    (*llvmModule)->print(os, nullptr);
    return std::move(artifact);
  }
  llvm::Expected<std::string> object = emitObject(**llvmModule, **machine);
  if (!object)
    return object.takeError();
  artifact.text = std::move(*object);
  return std::move(artifact);
}

llvm::Error mlir::tvc::writeWeightsFile(llvm::StringRef path,
                                        const AlignedBuffer &weights) {
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    // A page-sized header keeps blob offset X at file offset 4096 + X, so
    // the offload executor can map page-aligned blob ranges of the file.
    char header[4096] = {};
    std::memcpy(header, "TVCWGT02", 8);
    uint64_t size = weights.size();
    for (int byte = 0; byte < 8; ++byte)
      header[8 + byte] = static_cast<char>((size >> (8 * byte)) & 0xff);
    os.write(header, sizeof(header));
    os.write(const_cast<AlignedBuffer &>(weights).data(), size);
    return llvm::Error::success();
  });
}
