//===- SparsifySearch.cpp - Accuracy-driven attention sparsity ------------===//

#include "lib/Driver/SparsifySearch.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "passes/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>

using namespace mlir;
using namespace mlir::tvc;

std::vector<SparsityRung>
mlir::tvc::defaultSparsityLadder(int64_t sequenceLength) {
  std::vector<SparsityRung> ladder;
  for (int64_t window = 4; window < sequenceLength; window *= 2)
    ladder.push_back({llvm::formatv("kind=window window={0}", window).str()});
  return ladder;
}

llvm::Expected<int64_t>
mlir::tvc::searchSequenceLength(ModuleOp module, const SearchData &data,
                                llvm::StringRef baseDir) {
  if (data.metric != SearchMetric::Perplexity)
    return data.inputs->columns + data.answers->columns;
  if (data.context > 0)
    return data.context;
  llvm::Expected<CompiledEvalModel> compiled =
      compileForEval(module.clone(), data.entry, baseDir);
  if (!compiled)
    return compiled.takeError();
  return resolveEvalContext(*compiled, 0);
}

namespace {

/// Runs tvc-sparsify-attention with `options` on `module`; on failure
/// returns what the pass (or its option parser) said.
std::optional<std::string> sparsify(ModuleOp module, llvm::StringRef options) {
  std::string messages;
  auto note = [&](const llvm::Twine &message) {
    messages += (messages.empty() ? "" : "; ") + message.str();
  };
  std::unique_ptr<Pass> pass = createTvcSparsifyAttention();
  if (failed(pass->initializeOptions(options, [&](const llvm::Twine &message) {
        note(message);
        return failure();
      })))
    return messages.empty() ? std::string("invalid options") : messages;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      note(diag.str());
    // Warnings and remarks (a layer left alone) are the search's business.
    return success();
  });
  PassManager manager(module.getContext());
  manager.addPass(std::move(pass));
  if (succeeded(manager.run(module)))
    return std::nullopt;
  return messages.empty() ? std::string("tvc-sparsify-attention failed")
                          : messages;
}

std::string rungOptions(const SparsityRung &rung, int64_t layer) {
  return llvm::formatv("layers={0} {1}", layer, rung.options).str();
}

} // namespace

llvm::Error mlir::tvc::checkSparsityLadder(ModuleOp module,
                                           llvm::ArrayRef<SparsityRung> ladder) {
  if (ladder.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the ladder of sparse masks is empty");
  for (const SparsityRung &rung : ladder) {
    if (llvm::StringRef(rung.options).contains("layers"))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "candidate '" + rung.options +
              "': the search chooses the layers; give a kind and its "
              "options only");
    OwningOpRef<ModuleOp> copy = module.clone();
    if (std::optional<std::string> why = sparsify(*copy, rung.options))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "candidate '" + rung.options +
                                         "': " + *why);
  }
  return llvm::Error::success();
}

llvm::Expected<SparsifySearchResult>
mlir::tvc::searchSparsity(ModuleOp module, const SearchData &data,
                          llvm::ArrayRef<SparsityRung> ladder,
                          const SparsifySearchOptions &options,
                          const SearchProgress &progress) {
  auto start = std::chrono::steady_clock::now();
  SparsifySearchResult result;
  result.metric = data.metric;
  result.maxDrop = options.maxDrop;
  result.module = module.clone();

  llvm::Expected<double> baseline =
      measureSearchBaseline(*result.module, data, options.baseDir,
                            "dense model", result.trials, progress);
  if (!baseline)
    return baseline.takeError();
  result.baseline = result.final = *baseline;
  SearchTolerance tolerance{data.metric, result.baseline, options.maxDrop};

  // Each layer's current rung; decided layers are gone from the map.
  llvm::MapVector<int64_t, size_t> rungOf;
  result.module->walk([&](LayerOp layer) {
    rungOf.insert({layer.getIndex(), 0});
    result.choices.push_back({layer.getIndex(), ""});
  });
  result.metricAfter.assign(result.choices.size(), result.baseline);
  result.step.assign(result.choices.size(), 0);
  int64_t steps = 0;
  auto choiceOf = [&](int64_t layer) {
    for (size_t i = 0; i < result.choices.size(); ++i)
      if (result.choices[i].first == layer)
        return i;
    llvm_unreachable("a layer without a choice");
  };

  for (int64_t round = 1; !rungOf.empty(); ++round) {
    struct Best {
      int64_t layer;
      size_t rung;
      double metric;
      size_t trial;
      OwningOpRef<ModuleOp> module;
    };
    std::optional<Best> best;
    std::vector<int64_t> decided;
    OperationFingerPrint current(*result.module);
    for (auto &[layer, rung] : rungOf) {
      SearchTrial trial;
      trial.round = round;
      trial.candidate = llvm::formatv("layer {0}: {1}", layer,
                                      ladder[rung].options)
                            .str();
      OwningOpRef<ModuleOp> sparse = result.module->clone();
      if (std::optional<std::string> why =
              sparsify(*sparse, rungOptions(ladder[rung], layer))) {
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       trial.candidate + ": " + *why);
      }
      if (OperationFingerPrint(*sparse) == current) {
        // No dense causal attention in this layer: nothing to choose.
        trial.skipped = "it changes nothing (no dense causal attention)";
        decided.push_back(layer);
      } else {
        llvm::Expected<double> metric =
            measureSearchMetric(*sparse, data, options.baseDir);
        if (!metric)
          return metric.takeError();
        trial.metric = *metric;
        trial.withinTolerance = tolerance.within(*metric);
        if (!trial.withinTolerance) {
          // A sparser mask would not do better: try the next rung.
          if (++rung == ladder.size())
            decided.push_back(layer);
        } else if (!best || rung < best->rung ||
                   (rung == best->rung &&
                    tolerance.better(*metric, best->metric))) {
          best = Best{layer, rung, *metric, result.trials.size(),
                      std::move(sparse)};
        }
      }
      result.trials.push_back(trial);
      if (progress)
        progress(trial);
    }
    if (best) {
      result.trials[best->trial].accepted = true;
      result.module = std::move(best->module);
      result.final = best->metric;
      size_t index = choiceOf(best->layer);
      result.choices[index].second = ladder[best->rung].options;
      result.metricAfter[index] = best->metric;
      result.step[index] = ++steps;
      decided.push_back(best->layer);
    }
    for (int64_t layer : decided)
      rungOf.erase(layer);
  }
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return result;
}

void mlir::tvc::printSparsifySearchReport(const SparsifySearchResult &result,
                                          llvm::raw_ostream &os) {
  SearchTolerance tolerance{result.metric, result.baseline, result.maxDrop};
  os << llvm::formatv("accuracy-driven attention sparsity: {0}, tolerance "
                      "{1}\n",
                      getSearchMetricName(result.metric),
                      tolerance.describe());
  os << llvm::formatv("  dense           {0:F4}\n", result.baseline);
  for (auto [i, choice] : llvm::enumerate(result.choices)) {
    if (choice.second.empty())
      os << llvm::formatv("  layer {0,-9} dense (causal)\n", choice.first);
    else
      os << llvm::formatv("  layer {0,-9} {1,-36} {2:F4} ({3}, step {4})\n",
                          choice.first, choice.second, result.metricAfter[i],
                          tolerance.change(result.metricAfter[i]),
                          result.step[i]);
  }
  os << llvm::formatv("  final           {0:F4} ({1})\n", result.final,
                      tolerance.change(result.final));
  int64_t measured = 0;
  for (const SearchTrial &trial : result.trials)
    measured += trial.skipped.empty() && trial.round > 0;
  os << llvm::formatv("  {0} trials measured in {1:F1} s\n", measured,
                      result.seconds);
}

llvm::json::Value
mlir::tvc::sparsifySearchReportToJson(const SparsifySearchResult &result) {
  llvm::json::Array layers;
  for (auto [i, choice] : llvm::enumerate(result.choices)) {
    llvm::json::Object object{{"layer", choice.first}};
    if (choice.second.empty()) {
      object["choice"] = nullptr;
    } else {
      object["choice"] = choice.second;
      object["metric"] = result.metricAfter[i];
      object["step"] = result.step[i];
    }
    layers.push_back(std::move(object));
  }
  return llvm::json::Object{
      {"metric", getSearchMetricName(result.metric)},
      {"max_drop", result.maxDrop},
      {"baseline", result.baseline},
      {"final", result.final},
      {"layers", std::move(layers)},
      {"trials", searchTrialsToJson(result.trials)},
      {"seconds", result.seconds},
  };
}
