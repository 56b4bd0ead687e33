//===- JitModel.cpp - Compile a tvc module in memory and run it -----------===//
//
// Entry points get `llvm.emit_c_interface`, so each is called through
// `_mlir_ciface_<name>(results*, inputs*..., weights*)` where every memref
// is a descriptor {allocated, aligned, offset, sizes[r], strides[r]} of
// 8-byte fields. Results are buffers the compiled code allocated; they are
// copied out and freed. A runtime kernel's failure during a call (recorded
// by tvc_runtime_kernel_failed) makes run() return its message as an error.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/JitModel.h"

#include "lib/Driver/DiagnosticCollector.h"
#include "runtime/base/MemrefDescriptor.h"

#include "lib/Pipelines/Pipelines.h"
#include "lib/Target/WeightsLayout.h"
#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_offload.h"
#include "runtime/api/tvc_runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

using namespace mlir;
using namespace mlir::tvc;

/// The copy hook of finalize-memref-to-llvm (runtime/base/MemrefCopy.cpp).
extern "C" void memrefCopy(int64_t, void *, void *);

namespace {

//===----------------------------------------------------------------------===//
// Kernel profiling (JitOptions::profileKernels)
//===----------------------------------------------------------------------===//

/// Process-wide counters of the profiling wrappers: compiled code calls
/// them through plain function pointers, so they cannot carry a model.
struct ProfileCounters {
  std::atomic<uint64_t> linearNs{0}, linearCalls{0};
  std::atomic<uint64_t> attentionNs{0}, attentionCalls{0};
  std::atomic<uint64_t> copyNs{0}, copyCalls{0};
  std::atomic<uint64_t> allocations{0}, allocatedBytes{0};
};
ProfileCounters profileCounters;

uint64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// A kernel entry point timed into one pair of counters (linear or
/// attention); compiled code calls it in place of the kernel.
template <typename Params, tvc_status_t (*Kernel)(const Params *),
          std::atomic<uint64_t> ProfileCounters::*Ns,
          std::atomic<uint64_t> ProfileCounters::*Calls>
tvc_status_t profiled(const Params *params) {
  uint64_t start = nowNs();
  tvc_status_t status = Kernel(params);
  profileCounters.*Ns += nowNs() - start;
  ++(profileCounters.*Calls);
  return status;
}

template <typename Params, tvc_status_t (*Kernel)(const Params *)>
constexpr auto profiledLinear =
    &profiled<Params, Kernel, &ProfileCounters::linearNs,
              &ProfileCounters::linearCalls>;
template <typename Params, tvc_status_t (*Kernel)(const Params *)>
constexpr auto profiledAttention =
    &profiled<Params, Kernel, &ProfileCounters::attentionNs,
              &ProfileCounters::attentionCalls>;

extern "C" void profiledMemrefCopy(int64_t elementSize, void *source,
                                   void *destination) {
  uint64_t start = nowNs();
  memrefCopy(elementSize, source, destination);
  profileCounters.copyNs += nowNs() - start;
  ++profileCounters.copyCalls;
}

extern "C" void *profiledMalloc(size_t bytes) {
  ++profileCounters.allocations;
  profileCounters.allocatedBytes += bytes;
  return std::malloc(bytes);
}

//===----------------------------------------------------------------------===//
// Linear input statistics (JitOptions::recordLinearInputs)
//===----------------------------------------------------------------------===//

/// Sums of squares per input channel, keyed by the weight pointer the
/// compiled code passed (a view into the model's weights blob).
struct InputRecorder {
  std::mutex mutex;
  std::map<const float *, LinearInputStats> byWeight;
};
InputRecorder inputRecorder;

extern "C" tvc_status_t recordedLinear(const tvc_linear_f32_params_t *params) {
  if (params && params->x && params->w && params->m > 0 && params->k > 0) {
    std::lock_guard<std::mutex> lock(inputRecorder.mutex);
    LinearInputStats &stats = inputRecorder.byWeight[params->w];
    if (stats.sumSquares.size() != static_cast<size_t>(params->k))
      stats.sumSquares.assign(params->k, 0.0);
    for (int64_t row = 0; row < params->m; ++row) {
      const float *x = params->x + row * params->k;
      for (int64_t i = 0; i < params->k; ++i)
        stats.sumSquares[i] += double(x[i]) * double(x[i]);
    }
    stats.rows += params->m;
  }
  return tvc_kernel_linear_f32(params);
}

/// A low-rank linear as the two dense linears it stands for, each through
/// recordedLinear, so that V and U get the statistics the expanded form
/// gave them (V: the linear's input; U: V x). Checks as the fused kernel;
/// allocates its intermediate (calibration runs only).
extern "C" tvc_status_t
recordedLowRank(const tvc_low_rank_f32_params_t *params) {
  // The fused kernel's argument checks, on a call that touches no memory.
  if (!params)
    return TVC_INVALID_ARGUMENT;
  tvc_low_rank_f32_params_t empty = *params;
  empty.m = 0;
  if (tvc_status_t status = tvc_kernel_low_rank_f32(&empty); status != TVC_OK)
    return status;
  const tvc_low_rank_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0 || p.k == 0 || p.r == 0)
    return tvc_kernel_low_rank_f32(params);
  std::vector<float> hidden(size_t(p.m) * size_t(p.r));
  tvc_linear_f32_params_t first = {p.x, p.v, nullptr, hidden.data(),
                                   p.m, p.r, p.k,     0};
  if (tvc_status_t status = recordedLinear(&first); status != TVC_OK)
    return status;
  tvc_linear_f32_params_t second = {hidden.data(), p.u, p.bias, p.y,
                                    p.m,           p.n, p.r,    p.flags};
  return recordedLinear(&second);
}

std::vector<int64_t> makeDescriptor(const void *data,
                                    llvm::ArrayRef<int64_t> shape) {
  return ::tvc::makeMemrefDescriptor(data, shape.data(), shape.size());
}

} // namespace

struct JitModel::Impl {
  std::unique_ptr<ExecutionEngine> engine;
  std::optional<AlignedBuffer> weights;
  /// The scratch arena of the memory plan, shared by the entry points (one
  /// runs at a time): the largest plan's size, allocated once.
  std::optional<AlignedBuffer> arena;
  /// Offset in `weights` -> tvc.global name, for takeLinearInputStats.
  std::map<uint64_t, std::string> weightNames;
};

JitModel::JitModel(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
JitModel::~JitModel() = default;

uint64_t JitModel::getWeightsBytes() const {
  return impl->weights ? impl->weights->size() : 0;
}

uint64_t JitModel::getArenaBytes() const {
  return impl->arena ? impl->arena->size() : 0;
}

std::vector<LinearInputStats> JitModel::takeLinearInputStats() {
  std::vector<LinearInputStats> result;
  if (!impl->weights)
    return result;
  const char *base = impl->weights->data();
  uint64_t size = impl->weights->size();
  std::lock_guard<std::mutex> lock(inputRecorder.mutex);
  for (auto it = inputRecorder.byWeight.begin();
       it != inputRecorder.byWeight.end();) {
    const char *pointer = reinterpret_cast<const char *>(it->first);
    auto name = impl->weightNames.end();
    if (pointer >= base && pointer < base + size)
      name = impl->weightNames.find(uint64_t(pointer - base));
    if (name == impl->weightNames.end()) {
      ++it;
      continue;
    }
    result.push_back(std::move(it->second));
    result.back().weight = name->second;
    it = inputRecorder.byWeight.erase(it);
  }
  llvm::sort(result, [](const LinearInputStats &a, const LinearInputStats &b) {
    return a.weight < b.weight;
  });
  return result;
}

KernelProfile JitModel::takeKernelProfile() {
  KernelProfile profile;
  profile.linearNs = profileCounters.linearNs.exchange(0);
  profile.linearCalls = profileCounters.linearCalls.exchange(0);
  profile.attentionNs = profileCounters.attentionNs.exchange(0);
  profile.attentionCalls = profileCounters.attentionCalls.exchange(0);
  profile.copyNs = profileCounters.copyNs.exchange(0);
  profile.copyCalls = profileCounters.copyCalls.exchange(0);
  profile.allocations = profileCounters.allocations.exchange(0);
  profile.allocatedBytes = profileCounters.allocatedBytes.exchange(0);
  return profile;
}

llvm::Expected<std::unique_ptr<JitModel>>
JitModel::compile(OwningOpRef<ModuleOp> module, llvm::StringRef weightsDir,
                  const JitOptions &jitOptions) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);

  llvm::Expected<std::vector<EntrySignature>> collected =
      collectEntryPoints(*module);
  if (!collected)
    return collected.takeError();
  std::vector<EntrySignature> entries = std::move(*collected);

  PassManager pm(context);
  buildCpuLoweringPipeline(pm);
  if (failed(pm.run(*module)))
    return errors.error("lowering failed");

  if (llvm::Error error = resolveLoweredEntryPoints(*module, entries))
    return std::move(error);

  auto impl = std::make_unique<Impl>();
  if ((*module)->hasAttr("tvc.weights_bytes")) {
    llvm::Expected<WeightsLayout> layout = getWeightsLayout(*module);
    if (!layout)
      return layout.takeError();
    llvm::Expected<AlignedBuffer> blob =
        AlignedBuffer::allocate(layout->totalBytes);
    if (!blob)
      return blob.takeError();
    WeightStore store(weightsDir.str());
    if (llvm::Error error = packWeights(*layout, store, blob->data()))
      return std::move(error);
    impl->weights.emplace(std::move(*blob));
    for (const WeightsLayout::Entry &entry : layout->entries)
      impl->weightNames[entry.offset] =
          GlobalOp(entry.global).getSymName().str();
  }
  eraseWeightsLayout(*module);
  int64_t arenaBytes = 0;
  for (const EntrySignature &signature : entries)
    arenaBytes = std::max(arenaBytes, signature.arenaBytes);
  if (arenaBytes > 0) {
    llvm::Expected<AlignedBuffer> arena = AlignedBuffer::allocate(arenaBytes);
    if (!arena)
      return arena.takeError();
    impl->arena.emplace(std::move(*arena));
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerBuiltinDialectTranslation(*context);
  registerLLVMDialectTranslation(*context);
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return machineBuilder.takeError();
  auto machine = machineBuilder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  auto transformer = makeOptimizingTransformer(3, 0, machine->get());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(*module, options, std::move(*machine));
  if (!engine)
    return engine.takeError();
  bool profile = jitOptions.profileKernels;
  bool record = jitOptions.recordLinearInputs;
  (*engine)->registerSymbols([profile,
                              record](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](llvm::StringRef name, void *address) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("tvc_kernel_linear_f32",
        record ? reinterpret_cast<void *>(&recordedLinear)
        : profile
            ? reinterpret_cast<void *>(profiledLinear<tvc_linear_f32_params_t,
                                                      tvc_kernel_linear_f32>)
            : reinterpret_cast<void *>(&tvc_kernel_linear_f32));
    add("tvc_kernel_linear_2to4_f32",
        profile ? reinterpret_cast<void *>(
                      profiledLinear<tvc_linear_2to4_f32_params_t,
                                     tvc_kernel_linear_2to4_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_linear_2to4_f32));
    add("tvc_kernel_linear_bf16w_f32",
        profile ? reinterpret_cast<void *>(
                      profiledLinear<tvc_linear_w16_f32_params_t,
                                     tvc_kernel_linear_bf16w_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_linear_bf16w_f32));
    add("tvc_kernel_linear_f16w_f32",
        profile ? reinterpret_cast<void *>(
                      profiledLinear<tvc_linear_w16_f32_params_t,
                                     tvc_kernel_linear_f16w_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_linear_f16w_f32));
    add("tvc_kernel_block_diagonal_f32",
        profile ? reinterpret_cast<void *>(
                      profiledLinear<tvc_block_diagonal_f32_params_t,
                                     tvc_kernel_block_diagonal_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_block_diagonal_f32));
    add("tvc_kernel_low_rank_f32",
        record ? reinterpret_cast<void *>(&recordedLowRank)
        : profile
            ? reinterpret_cast<void *>(profiledLinear<tvc_low_rank_f32_params_t,
                                                      tvc_kernel_low_rank_f32>)
            : reinterpret_cast<void *>(&tvc_kernel_low_rank_f32));
    add("tvc_kernel_attention_f32",
        profile ? reinterpret_cast<void *>(
                      profiledAttention<tvc_attention_f32_params_t,
                                        tvc_kernel_attention_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_attention_f32));
    add("tvc_kernel_attention_state_f32",
        profile ? reinterpret_cast<void *>(
                      profiledAttention<tvc_attention_state_f32_params_t,
                                        tvc_kernel_attention_state_f32>)
                : reinterpret_cast<void *>(&tvc_kernel_attention_state_f32));
    // The offload executor (no-ops unless a caller opened it).
    add("tvc_offload_prefetch",
        reinterpret_cast<void *>(&tvc_offload_prefetch));
    add("tvc_offload_wait", reinterpret_cast<void *>(&tvc_offload_wait));
    // Where a kernel's non-zero status goes (convert-tvc-kernels-to-llvm).
    add("tvc_runtime_kernel_failed",
        reinterpret_cast<void *>(&tvc_runtime_kernel_failed));
    add("tvc_offload_evict", reinterpret_cast<void *>(&tvc_offload_evict));
    add("tvc_offload_kv_prefetch",
        reinterpret_cast<void *>(&tvc_offload_kv_prefetch));
    add("tvc_offload_kv_wait", reinterpret_cast<void *>(&tvc_offload_kv_wait));
    add("tvc_offload_kv_evict",
        reinterpret_cast<void *>(&tvc_offload_kv_evict));
    // The copy hook of finalize-memref-to-llvm (runtime/base/MemrefCopy.cpp).
    add("memrefCopy", profile ? reinterpret_cast<void *>(&profiledMemrefCopy)
                              : reinterpret_cast<void *>(&memrefCopy));
    // Defined symbols take precedence over the process's own malloc; the
    // buffers still come from std::malloc, so run() may free them.
    if (profile)
      add("malloc", reinterpret_cast<void *>(&profiledMalloc));
    return symbols;
  });
  impl->engine = std::move(*engine);
  // Generate the machine code now (ORC compiles a module on its first
  // lookup), so that compile time is spent here and not in the first run.
  for (const EntrySignature &signature : entries)
    if (auto symbol =
            impl->engine->lookupPacked("_mlir_ciface_" + signature.name);
        !symbol)
      return symbol.takeError();

  auto model = std::unique_ptr<JitModel>(new JitModel(std::move(impl)));
  model->entries = std::move(entries);
  return model;
}

llvm::Expected<const EntrySignature *>
JitModel::findEntry(llvm::StringRef name) const {
  if (!name.empty()) {
    for (const EntrySignature &entry : entries)
      if (entry.name == name)
        return &entry;
    return llvm::createStringError("the module has no public function @" +
                                   name);
  }
  const EntrySignature *base = nullptr;
  for (const EntrySignature &entry : entries) {
    llvm::StringRef entryName = entry.name;
    if (entryName.ends_with("_prefill") || entryName.ends_with("_decode"))
      continue;
    if (base)
      return llvm::createStringError(
          "the module has several public functions; choose one with --entry");
    base = &entry;
  }
  if (!base)
    return llvm::createStringError("the module has no public function");
  return base;
}

llvm::Expected<std::vector<HostTensor>>
JitModel::run(llvm::StringRef name, std::vector<HostTensor> &inputs) {
  llvm::Expected<const EntrySignature *> found = findEntry(name);
  if (!found)
    return found.takeError();
  const EntrySignature &signature = **found;
  if (inputs.size() != signature.inputs.size())
    return llvm::createStringError(
        llvm::formatv("@{0} takes {1} inputs, got {2}", signature.name,
                      signature.inputs.size(), inputs.size())
            .str());
  std::vector<std::vector<int64_t>> descriptors;
  for (auto [index, input] : llvm::enumerate(inputs)) {
    RankedTensorType expected = signature.inputs[index];
    int32_t type = getOnnxElementType(expected.getElementType());
    std::string shapeError = checkInputShape(signature, index, input.shape);
    if (input.elementType == type && !shapeError.empty())
      return llvm::createStringError(
          llvm::formatv("input #{0} ('{1}') {2}", index,
                        signature.inputNames[index], shapeError)
              .str());
    if (input.elementType != type) {
      std::string shape;
      for (int64_t dim : input.shape)
        shape += (shape.empty() ? "" : "x") + std::to_string(dim);
      return llvm::createStringError(
          llvm::formatv("input #{0} ('{1}') must be {2}, got {3} [{4}]", index,
                        signature.inputNames[index], expected,
                        getElementTypeName(input.elementType), shape)
              .str());
    }
    descriptors.push_back(makeDescriptor(input.bytes.data(), input.shape));
  }
  if (signature.takesWeights && impl->weights)
    descriptors.push_back(makeDescriptor(
        impl->weights->data(), {static_cast<int64_t>(impl->weights->size())}));
  if (signature.takesArena)
    descriptors.push_back(makeDescriptor(
        impl->arena->data(), {static_cast<int64_t>(impl->arena->size())}));

  // The returned results' descriptors, back to back (one struct when there
  // are several results, which has the same layout).
  std::vector<size_t> returned = getReturnedResults(signature);
  size_t resultWords = 0;
  for (size_t index : returned)
    resultWords += 3 + 2 * signature.results[index].getRank();
  std::vector<int64_t> results(resultWords, 0);

  std::vector<void *> pointers;
  pointers.push_back(results.data());
  for (std::vector<int64_t> &descriptor : descriptors)
    pointers.push_back(descriptor.data());
  std::vector<void *> arguments;
  for (void *&pointer : pointers)
    arguments.push_back(&pointer);
  // A failure left over on this thread (by other compiled code) is not ours.
  tvc_runtime_kernel_error(nullptr);
  if (llvm::Error error = impl->engine->invokePacked(
          "_mlir_ciface_" + signature.name, arguments))
    return std::move(error);
  const char *kernelError = nullptr;
  bool kernelsOk = tvc_runtime_kernel_error(&kernelError) == TVC_OK;
  std::string kernelMessage = kernelsOk ? "" : kernelError;

  std::vector<HostTensor> outputs;
  llvm::SmallPtrSet<void *, 4> freed;
  size_t word = 0;
  for (size_t index : returned) {
    RankedTensorType type = signature.results[index];
    int64_t rank = type.getRank();
    auto *allocated = reinterpret_cast<char *>(results[word]);
    auto *aligned = reinterpret_cast<char *>(results[word + 1]);
    int64_t offset = results[word + 2];
    HostTensor output;
    output.name = "output_" + std::to_string(index);
    output.elementType = getOnnxElementType(type.getElementType());
    size_t elementSize = getElementSize(output.elementType);
    for (int64_t dim = 0; dim < rank; ++dim)
      output.shape.push_back(results[word + 3 + dim]);
    // Results are contiguous (identity layouts at function boundaries).
    size_t bytes = static_cast<size_t>(output.getNumElements()) * elementSize;
    // assign() copies into fresh storage without zero-filling it first (a
    // prefill's logits are ~100 MB at T=512).
    const char *source = aligned + offset * elementSize;
    output.bytes.assign(source, source + bytes);
    bool aliasesInput = false;
    for (const HostTensor &input : inputs)
      aliasesInput |= allocated == input.bytes.data();
    if (impl->weights)
      aliasesInput |= allocated == impl->weights->data();
    // Results placed in the arena (tvc-plan-memory) are borrowed.
    if (impl->arena)
      aliasesInput |= allocated == impl->arena->data();
    // Several results may share one buffer (a value returned twice, equal
    // zero-size tensors merged): free it once.
    if (!aliasesInput && freed.insert(allocated).second)
      std::free(allocated);
    word += 3 + 2 * rank;
    // A cache that came back as a copy replaces the input it updates.
    int updates = signature.resultUpdatesInput[index];
    if (updates >= 0) {
      inputs[updates].bytes = std::move(output.bytes);
      continue;
    }
    outputs.push_back(std::move(output));
  }
  // The results were freed above; a failed kernel left them garbage.
  if (!kernelsOk)
    return llvm::createStringError(kernelMessage + " in @" + signature.name);
  return outputs;
}
