//===- PruneSearch.cpp - Accuracy-driven pruning search -------------------===//

#include "lib/Driver/PruneSearch.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

std::vector<PruneCandidate>
mlir::tvc::makePruneCandidates(ModuleOp module, bool layers, bool heads,
                               bool channels, double amount,
                               llvm::StringRef score,
                               llvm::StringRef calibration,
                               llvm::StringRef baseDir) {
  std::vector<PruneCandidate> candidates;
  std::string percent = llvm::formatv("{0} %", amount * 100).str();
  if (std::fmod(amount * 100, 1.0) == 0)
    percent = llvm::formatv("{0} %", int64_t(amount * 100)).str();
  module.walk([&](LayerOp layer) {
    int64_t index = layer.getIndex();
    auto base = [&](StringRef strategy) {
      TvcPruneOptions options;
      options.strategy = strategy.str();
      options.layers = {index};
      options.amount = amount;
      options.score = score.str();
      options.calibration = calibration.str();
      options.baseDir = baseDir.str();
      return options;
    };
    if (layers)
      candidates.push_back({llvm::formatv("layer {0}", index).str(), index,
                            /*wholeLayer=*/true, base("layers")});
    if (heads)
      candidates.push_back(
          {llvm::formatv("{0} of the heads of layer {1}", percent, index)
               .str(),
           index, false, base("heads")});
    if (channels)
      candidates.push_back(
          {llvm::formatv("{0} of the FFN channels of layer {1}", percent, index)
               .str(),
           index, false, base("channels")});
  });
  return candidates;
}

namespace {

int64_t weightBytes(ModuleOp module) {
  int64_t bytes = 0;
  for (GlobalOp global : module.getOps<GlobalOp>())
    bytes += global.getByteSize();
  return bytes;
}

/// Runs tvc-prune with `options` on `module`; on failure returns what the
/// pass said.
std::optional<std::string> apply(ModuleOp module,
                                 const TvcPruneOptions &options) {
  std::string messages;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      messages += (messages.empty() ? "" : "; ") + diag.str();
    return success();
  });
  PassManager manager(module.getContext());
  manager.addPass(createTvcPrune(options));
  if (succeeded(manager.run(module)))
    return std::nullopt;
  return messages.empty() ? std::string("tvc-prune failed") : messages;
}

} // namespace

llvm::Expected<PruneSearchResult>
mlir::tvc::searchPruning(ModuleOp module, const SearchData &data,
                         std::vector<PruneCandidate> candidates,
                         const PruneSearchOptions &options,
                         const SearchProgress &progress) {
  auto start = std::chrono::steady_clock::now();
  PruneSearchResult result;
  result.metric = data.metric;
  result.maxDrop = options.maxDrop;
  result.weightBytesBefore = weightBytes(module);
  result.module = module.clone();

  llvm::Expected<double> baseline =
      measureSearchBaseline(*result.module, data, options.baseDir,
                            "unpruned model", result.trials, progress);
  if (!baseline)
    return baseline.takeError();
  result.baseline = result.final = *baseline;

  SearchTolerance tolerance{data.metric, result.baseline, options.maxDrop};

  for (int64_t round = 1; !candidates.empty(); ++round) {
    if (options.maxSteps > 0 &&
        int64_t(result.accepted.size()) >= options.maxSteps)
      break;
    std::optional<size_t> best;
    OwningOpRef<ModuleOp> bestModule;
    double bestMetric = 0;
    size_t bestTrial = 0;
    std::vector<size_t> dropped;
    OperationFingerPrint current(*result.module);
    for (size_t i = 0; i < candidates.size(); ++i) {
      SearchTrial trial;
      trial.round = round;
      trial.candidate = candidates[i].description;
      OwningOpRef<ModuleOp> pruned = result.module->clone();
      if (std::optional<std::string> why =
              apply(*pruned, candidates[i].options)) {
        trial.skipped = *why;
      } else if (OperationFingerPrint(*pruned) == current) {
        trial.skipped = "it changes nothing";
      } else {
        llvm::Expected<double> metric =
            measureSearchMetric(*pruned, data, options.baseDir);
        if (!metric)
          return metric.takeError();
        trial.metric = *metric;
        trial.withinTolerance = tolerance.within(*metric);
      }
      // A candidate over the tolerance now will not come back under it
      // with more removed: it is not tried again (nor one that failed).
      if (!trial.withinTolerance)
        dropped.push_back(i);
      else if (!best || tolerance.better(trial.metric, bestMetric)) {
        best = i;
        bestMetric = trial.metric;
        bestModule = std::move(pruned);
        bestTrial = result.trials.size();
      }
      result.trials.push_back(trial);
      if (progress)
        progress(trial);
    }
    if (!best)
      break;
    result.trials[bestTrial].accepted = true;
    result.module = std::move(bestModule);
    result.final = bestMetric;
    // A candidate taken before says so: it removes a share of what is left.
    int64_t times = 1;
    for (const auto &step : result.accepted)
      times += step.first.rfind(candidates[*best].description, 0) == 0;
    result.accepted.push_back(
        {times == 1 ? candidates[*best].description
                    : llvm::formatv("{0} (repeat {1})",
                                    candidates[*best].description, times)
                          .str(),
         bestMetric});
    // Drop those over the tolerance and, when a whole layer went, the
    // layer's other candidates. An accepted heads/channels candidate stays:
    // taken again, it removes `amount` of what is left of its block.
    const PruneCandidate taken = candidates[*best];
    std::vector<PruneCandidate> remaining;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if ((i == *best && taken.wholeLayer) || llvm::is_contained(dropped, i))
        continue;
      if (taken.wholeLayer && candidates[i].layer == taken.layer)
        continue;
      remaining.push_back(candidates[i]);
    }
    candidates = std::move(remaining);
  }
  result.weightBytesAfter = weightBytes(*result.module);
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return result;
}

void mlir::tvc::printSearchReport(const PruneSearchResult &result,
                                  llvm::raw_ostream &os) {
  SearchTolerance tolerance{result.metric, result.baseline, result.maxDrop};
  os << llvm::formatv("accuracy-driven pruning: {0}, tolerance {1}\n",
                      getSearchMetricName(result.metric),
                      tolerance.describe());
  os << llvm::formatv("  unpruned        {0:F4}\n", result.baseline);
  for (auto [i, step] : llvm::enumerate(result.accepted))
    os << llvm::formatv("  step {0,-2} {1,-52} {2:F4} ({3})\n", i + 1,
                        step.first, step.second, tolerance.change(step.second));
  if (result.accepted.empty())
    os << "  nothing could be removed within the tolerance\n";
  int64_t measured = 0;
  for (const SearchTrial &trial : result.trials)
    measured += trial.skipped.empty() && trial.round > 0;
  os << llvm::formatv("  weights         {0:F2} MB -> {1:F2} MB ({2:F1} % "
                      "smaller)\n",
                      result.weightBytesBefore / 1e6,
                      result.weightBytesAfter / 1e6,
                      100.0 * (result.weightBytesBefore -
                               result.weightBytesAfter) /
                          std::max<int64_t>(result.weightBytesBefore, 1));
  os << llvm::formatv("  {0} trials measured in {1:F1} s\n", measured,
                      result.seconds);
}

llvm::json::Value mlir::tvc::searchReportToJson(const PruneSearchResult &result) {
  llvm::json::Array accepted;
  for (const auto &[candidate, metric] : result.accepted)
    accepted.push_back(
        llvm::json::Object{{"candidate", candidate}, {"metric", metric}});
  return llvm::json::Object{
      {"metric", getSearchMetricName(result.metric)},
      {"max_drop", result.maxDrop},
      {"baseline", result.baseline},
      {"final", result.final},
      {"accepted", std::move(accepted)},
      {"trials", searchTrialsToJson(result.trials)},
      {"weight_bytes_before", result.weightBytesBefore},
      {"weight_bytes_after", result.weightBytesAfter},
      {"seconds", result.seconds},
  };
}
