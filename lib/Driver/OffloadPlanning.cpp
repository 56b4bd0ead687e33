//===- OffloadPlanning.cpp - tvc-compile's offload plan -------------------===//
//
// See OffloadPlanning.h. The passes do the work (tvc-chunk-weights,
// tvc-recompute-kv, tvc-plan-offload); this drives them on copies of the
// module and compares what the plans predict.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/OffloadPlanning.h"

#include "lib/Driver/DiagnosticCollector.h"
#include "lib/Driver/EntryPoints.h"
#include "lib/Pipelines/Pipelines.h"
#include "passes/Analysis/OffloadPlan.h"
#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// The CUDA planner's defaults: pinned host memory to the device over
/// PCIe (about half of a Gen5 x16 link's 64 GB/s, conservatively), the
/// fixed cost of queueing one copy, and the rate kernels read weights from
/// device memory (an H100/H200's HBM at about 3 TB/s).
constexpr double kCudaHostToDeviceBandwidth = 2.5e10;
constexpr double kCudaCopyOverhead = 1e-5;
constexpr double kCudaDeviceBandwidth = 3e12;
/// FP32 GEMM rate of a data-centre GPU through cuBLAS (H100/H200 class,
/// without TF32): what recomputed keys and values cost.
constexpr double kCudaDeviceFlops = 5e13;

/// The activation arenas a run of the executable allocates, which the
/// offload budget holds besides what the plan places: the prefill and
/// decode entries' arenas for a generation run, the forward entry's for a
/// run on --inputs; the larger, each arena page-rounded. Measured on a
/// copy of `module` lowered up to tvc-plan-memory, which records each
/// entry point's `tvc.arena_bytes`. `breakdown` says which arenas count.
llvm::Expected<uint64_t> measureArenas(ModuleOp module, bool cuda,
                                       std::string &breakdown,
                                       DiagnosticCollector &errors) {
  MLIRContext *context = module->getContext();
  OwningOpRef<ModuleOp> copy = module.clone();
  {
    // The memory plan's remarks describe a copy: not the compile's.
    ScopedDiagnosticHandler quiet(context, [](Diagnostic &diagnostic) {
      return success(diagnostic.getSeverity() == DiagnosticSeverity::Remark);
    });
    PassManager pm(context);
    if (cuda)
      buildCudaMemoryPlanPipeline(pm);
    else
      buildCpuMemoryPlanPipeline(pm);
    if (failed(pm.run(*copy)))
      return errors.error(
          "cannot lower a copy of the model to measure its activation arenas");
  }
  uint64_t generation = 0, forward = 0;
  std::string generationText, forwardText;
  for (auto function : copy->getOps<func::FuncOp>()) {
    if (function.isExternal() || !function.isPublic())
      continue;
    auto arena = function->getAttrOfType<IntegerAttr>("tvc.arena_bytes");
    uint64_t bytes =
        arena ? offload::pageRound(arena.getValue().getZExtValue()) : 0;
    std::string role = getEntryRole(function.getSymName());
    uint64_t &total = role == "forward" ? forward : generation;
    std::string &text = role == "forward" ? forwardText : generationText;
    total += bytes;
    text += llvm::formatv("{0}{1} {2}", text.empty() ? "" : " + ", role, bytes)
                .str();
  }
  bool byGeneration = generation >= forward && !generationText.empty();
  breakdown = byGeneration ? generationText : forwardText;
  return byGeneration ? generation : forward;
}

/// KV-cache arguments of `module`'s functions.
unsigned countKvCaches(ModuleOp module) {
  unsigned count = 0;
  for (auto function : module.getOps<func::FuncOp>())
    for (unsigned index = 0; index < function.getNumArguments(); ++index)
      count += function.getArgAttr(index, "tvc.kv_cache") != nullptr;
  return count;
}

/// Runs tvc-recompute-kv (only on sliding-window layers' caches with
/// `windowedOnly`); `summary` gets its report. True when it replaced some
/// key/value cache pairs.
llvm::Expected<bool> recomputeKvCaches(ModuleOp module, bool windowedOnly,
                                       std::string &summary) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);
  summary.clear();
  RemarkLines remarks(context, summary);
  unsigned before = countKvCaches(module);
  PassManager pm(context);
  TvcRecomputeKvOptions recompute;
  recompute.report = true;
  recompute.windowedOnly = windowedOnly;
  pm.addPass(createTvcRecomputeKv(recompute));
  if (failed(pm.run(module)))
    return errors.error("cannot recompute the KV caches");
  return countKvCaches(module) < before;
}

/// The predicted seconds of a planned module's decode call (of all its
/// entry points when it has none), from `tvc.offload`.
std::optional<double> predictedStepSeconds(ModuleOp module) {
  auto config = module->getAttrOfType<DictionaryAttr>("tvc.offload");
  auto predicted =
      config ? config.getAs<DictionaryAttr>("predicted_seconds") : nullptr;
  if (!predicted)
    return std::nullopt;
  double total = 0;
  for (NamedAttribute entry : predicted) {
    double seconds = cast<FloatAttr>(entry.getValue()).getValueAsDouble();
    if (entry.getName().getValue().ends_with("_decode"))
      return seconds;
    total += seconds;
  }
  return total;
}

llvm::Error planModule(ModuleOp module, const CompileOptions &options,
                       bool cuda, const std::string &report,
                       std::string &summary);

/// The bytes a percentage budget (`options.offloadBudget`) stands for in
/// `module`: of its weights, KV caches and activation arenas, as
/// tvc-plan-offload counts them (a plan at 100 % of a copy).
llvm::Expected<uint64_t> resolveBudget(ModuleOp module,
                                       const CompileOptions &options, bool cuda,
                                       const DiagnosticCollector &errors) {
  OwningOpRef<ModuleOp> copy = module.clone();
  CompileOptions whole = options;
  whole.offloadBudget = "100%";
  std::string ignored;
  if (llvm::Error error = planModule(*copy, whole, cuda, "", ignored))
    return error;
  auto config = (*copy)->getAttrOfType<DictionaryAttr>("tvc.offload");
  auto budget = config ? config.getAs<IntegerAttr>("budget") : nullptr;
  auto reserved = config ? config.getAs<IntegerAttr>("reserved") : nullptr;
  if (!budget || !reserved)
    return errors.error("cannot measure the model's footprint");
  std::string error;
  std::optional<uint64_t> bytes = offload::parseByteSize(
      options.offloadBudget,
      static_cast<uint64_t>(budget.getInt() + reserved.getInt()), error);
  if (!bytes)
    return llvm::createStringError("--offload-budget: " + error);
  return *bytes;
}

/// Reserves the activation arenas of `module` in the budget and runs
/// tvc-plan-offload on it (writing `report` when not empty); the lines to
/// print are appended to `summary`.
llvm::Error planModule(ModuleOp module, const CompileOptions &options,
                       bool cuda, const std::string &report,
                       std::string &summary) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);
  RemarkLines remarks(context, summary);
  // The activation arenas are held beside the plan's items: the budget
  // reserves them (chunked weights lowered as they will be).
  std::string arenas;
  llvm::Expected<uint64_t> reserved =
      measureArenas(module, cuda, arenas, errors);
  if (!reserved)
    return reserved.takeError();
  if (*reserved > 0) {
    if (!summary.empty())
      summary += "\n";
    summary += llvm::formatv("activation arenas: {0} bytes ({1}, "
                             "page-rounded), reserved in the budget",
                             *reserved, arenas);
  }
  TvcPlanOffloadOptions plan;
  plan.budget = options.offloadBudget;
  plan.reserved = *reserved;
  plan.planner = options.offloadPlanner;
  plan.kv = options.offloadKv;
  plan.report = report;
  if (cuda) {
    // The budget is device memory; the slower tier is pinned host memory
    // the executor copies weights and streamed KV caches from
    // (runtime/offload/CudaExecutor.cpp), and where, with
    // --offload-attention, a KV cache may stay while the host CPU runs
    // its attention. Device memory is not demand paged: gathered tables
    // are read whole.
    plan.paging = false;
    plan.attentionOffload = options.offloadAttention;
    plan.readBandwidth = kCudaHostToDeviceBandwidth;
    plan.readOverhead = kCudaCopyOverhead;
    plan.computeBandwidth = kCudaDeviceBandwidth;
    plan.computeFlops = kCudaDeviceFlops;
  }
  if (options.offloadReadBandwidth > 0)
    plan.readBandwidth = options.offloadReadBandwidth;
  if (options.offloadReadOverhead >= 0)
    plan.readOverhead = options.offloadReadOverhead;
  plan.kvPosition = options.offloadKvPosition;
  PassManager pm(context);
  pm.addPass(createTvcPlanOffload(plan));
  if (failed(pm.run(module)))
    return errors.error(
        *reserved == 0
            ? std::string("cannot plan the offload")
            : llvm::formatv("cannot plan the offload; the budget holds "
                            "{0} bytes of activation arenas ({1}) besides "
                            "the plan (a smaller --max-prefill-tokens makes "
                            "the prefill arena smaller)",
                            *reserved, arenas)
                  .str());
  return llvm::Error::success();
}

} // namespace

llvm::Error mlir::tvc::planModelOffload(OwningOpRef<ModuleOp> &module,
                                        const CompileOptions &options,
                                        std::string &summary) {
  MLIRContext *context = module->getContext();
  DiagnosticCollector errors(context);
  bool cuda = options.target == TargetKind::Cuda;
  // Keys and values recomputed from cached inputs: everywhere they can be
  // (all), where the offload plan predicts it pays (auto), or nowhere (the
  // default: on the CPU it has not been measured to pay, docs/Offload.md).
  std::string recompute =
      options.kvRecompute.empty() ? "none" : options.kvRecompute;
  if (recompute != "none" && recompute != "all" && recompute != "auto")
    return llvm::createStringError("--kv-recompute must be none, all or auto");
  if (recompute == "auto" && options.offloadBudget.empty())
    return llvm::createStringError(
        "--kv-recompute=auto needs --offload-budget (the plan decides)");
  if (recompute == "all" && options.offloadBudget.empty()) {
    std::string report;
    llvm::Expected<bool> rewrote =
        recomputeKvCaches(*module, /*windowedOnly=*/false, report);
    if (!rewrote)
      return rewrote.takeError();
    if (!summary.empty())
      summary += "\n";
    summary += report;
  }
  if (!options.offloadBudget.empty()) {
    if (cuda && options.offloadKv != "plan" && options.offloadKv != "resident")
      return llvm::createStringError("--offload-kv must be plan or resident");
    if (options.offloadAttention && !cuda)
      return llvm::createStringError(
          "--offload-attention needs --target=cuda (attention runs on the "
          "host CPU next to the GPU)");
    if (options.embedWeights)
      return llvm::createStringError(
          "an offload plan reads the weights from a weights file; it cannot "
          "be combined with --embed-weights");
    RemarkLines remarks(context, summary);
    PassManager pm(context);
    // Matrices over a quarter of the budget are split into row chunks, so
    // that no single read needs most of it.
    std::string chunkSize = options.offloadChunk;
    if (chunkSize.empty()) {
      llvm::StringRef budget = llvm::StringRef(options.offloadBudget).trim();
      double percent = 0;
      std::string ignored;
      if (budget.ends_with("%")) {
        if (!budget.drop_back().trim().getAsDouble(percent))
          chunkSize = llvm::formatv("{0}%", percent / 4).str();
      } else if (std::optional<uint64_t> bytes =
                     offload::parseByteSize(budget, std::nullopt, ignored)) {
        chunkSize = std::to_string(std::max<uint64_t>(1, *bytes / 4));
      }
    }
    if (!chunkSize.empty() && chunkSize != "0") {
      TvcChunkWeightsOptions chunk;
      chunk.maxBytes = chunkSize;
      pm.addPass(createTvcChunkWeights(chunk));
      if (failed(pm.run(*module)))
        return errors.error("cannot plan the offload");
      pm.clear();
    }
    // The attentions' inputs cached instead of their keys and values: the
    // only form (all), or one of the alternatives (auto): caching, the
    // sliding-window layers' caches recomputed (their window bounds the
    // work), every cache recomputed; the plan with the fastest predicted
    // decode step wins, or the only one that fits.
    struct Alternative {
      const char *what;
      OwningOpRef<ModuleOp> module;
      std::string recomputeSummary;
    };
    SmallVector<Alternative> alternatives;
    if (recompute != "none") {
      for (bool windowedOnly : {true, false}) {
        if (windowedOnly && recompute == "all")
          continue;
        Alternative alternative{windowedOnly ? "recomputing the sliding-window "
                                               "layers' keys and values"
                                             : "recomputing keys and values",
                                module->clone(), ""};
        llvm::Expected<bool> rewrote = recomputeKvCaches(
            *alternative.module, windowedOnly, alternative.recomputeSummary);
        if (!rewrote)
          return rewrote.takeError();
        unsigned caches = countKvCaches(*alternative.module);
        bool same = llvm::any_of(alternatives, [&](const Alternative &other) {
          return countKvCaches(*other.module) == caches;
        });
        if (*rewrote && !same)
          alternatives.push_back(std::move(alternative));
        else if (recompute == "all")
          summary += "\n" + alternative.recomputeSummary;
      }
    }
    // A percentage is of the model as given (its key and value caches),
    // so that every form gets the same bytes.
    CompileOptions planOptions = options;
    if (!alternatives.empty() &&
        llvm::StringRef(options.offloadBudget).trim().ends_with("%")) {
      llvm::Expected<uint64_t> bytes =
          resolveBudget(*module, options, cuda, errors);
      if (!bytes)
        return bytes.takeError();
      planOptions.offloadBudget = std::to_string(*bytes);
    }
    if (recompute == "all" && !alternatives.empty()) {
      module = std::move(alternatives.front().module);
      summary += "\n" + alternatives.front().recomputeSummary;
      alternatives.clear();
    }
    std::string cachedSummary = summary;
    llvm::Error cached = planModule(*module, planOptions, cuda,
                                    options.offloadReport, cachedSummary);
    if (alternatives.empty()) {
      if (cached)
        return cached;
      summary = cachedSummary;
    } else {
      // Each alternative planned under the same budget; its report (when
      // asked for) written beside the caching plan's, the chosen one moved
      // over it.
      std::optional<double> cachedSeconds;
      if (!cached)
        cachedSeconds = predictedStepSeconds(*module);
      SmallVector<std::string> predictions;
      std::optional<size_t> best;
      std::optional<double> bestSeconds = cachedSeconds;
      SmallVector<std::string> summaries, reports;
      for (auto [index, alternative] : llvm::enumerate(alternatives)) {
        std::string report =
            options.offloadReport.empty()
                ? ""
                : options.offloadReport + ".recompute" + std::to_string(index);
        std::string planned = summary;
        llvm::Error failed =
            planModule(*alternative.module, planOptions, cuda, report, planned);
        summaries.push_back(planned);
        reports.push_back(report);
        if (failed) {
          llvm::consumeError(std::move(failed));
          predictions.push_back(
              llvm::formatv("{0}: does not fit", alternative.what));
          continue;
        }
        double seconds = *predictedStepSeconds(*alternative.module);
        predictions.push_back(
            llvm::formatv("{0}: {1:f3} ms", alternative.what, seconds * 1e3));
        if (!bestSeconds || seconds < *bestSeconds) {
          best = index;
          bestSeconds = seconds;
        }
      }
      predictions.push_back(
          cachedSeconds
              ? llvm::formatv("caching them: {0:f3} ms", *cachedSeconds * 1e3)
                    .str()
              : std::string("caching them: does not fit"));
      std::string choice = "kv-recompute: predicted decode step, " +
                           llvm::join(predictions, "; ") + "; chosen: " +
                           (best            ? alternatives[*best].what
                            : cachedSeconds ? "caching them"
                                            : "none fits");
      for (auto [index, report] : llvm::enumerate(reports))
        if (!report.empty() && (!best || index != *best))
          llvm::sys::fs::remove(report);
      if (best) {
        llvm::consumeError(std::move(cached));
        Alternative &chosen = alternatives[*best];
        module = std::move(chosen.module);
        summary = summaries[*best] + "\n" + chosen.recomputeSummary;
        if (!reports[*best].empty() &&
            llvm::sys::fs::rename(reports[*best], options.offloadReport))
          return llvm::createStringError("cannot write '" +
                                         options.offloadReport + "'");
      } else {
        if (cached)
          return llvm::joinErrors(std::move(cached),
                                  llvm::createStringError(choice));
        summary = cachedSummary;
      }
      summary += "\n" + choice;
    }
  }

  return llvm::Error::success();
}
