//===- PruneSearch.h - Accuracy-driven pruning search ------------*- C++ -*-===//
//
// The accuracy-driven strategy of pruning (AxFormer's greedy search):
// given a validation set, a metric and a tolerance, remove components —
// whole layers, a fraction of a layer's attention heads or FFN channels —
// one at a time, each round taking the candidate that hurts the metric
// least, as long as the metric stays within the tolerance of the unpruned
// model. Every trial is a real run: tvc-prune rewrites a copy of the
// module, the JIT compiles it and lib/Driver/Eval measures it.
//
// It lives with the driver, not with the passes, because it compiles and
// runs models; the rewriting itself is tvc-prune's.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_PRUNESEARCH_H
#define TVC_LIB_DRIVER_PRUNESEARCH_H

#include "lib/Driver/Search.h"
#include "passes/Transforms/Passes.h"

#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir::tvc {

/// One removable component: a tvc-prune run.
struct PruneCandidate {
  /// "layer 3", "heads of layer 2 (25 %)", ...
  std::string description;
  /// The tvc.layer it belongs to.
  int64_t layer = 0;
  /// Removes the whole layer (then the layer's other candidates go too).
  bool wholeLayer = false;
  TvcPruneOptions options;
};

/// The candidates of every tvc.layer in `module`: the layer itself
/// (`layers`), `amount` of its heads (`heads`) and of its FFN channels
/// (`channels`), scored by `score` (with `calibration` for activation).
std::vector<PruneCandidate>
makePruneCandidates(ModuleOp module, bool layers, bool heads, bool channels,
                    double amount, llvm::StringRef score,
                    llvm::StringRef calibration, llvm::StringRef baseDir);

struct PruneSearchOptions {
  /// Perplexity: the largest relative increase (0.005 = 0.5 %); accuracy
  /// metrics: the largest drop in absolute terms (0.005 = 0.5 points).
  double maxDrop = 0.005;
  /// Stop after this many accepted steps (0: no limit).
  int64_t maxSteps = 0;
  /// Relative weight files resolve against it.
  std::string baseDir;
};

struct PruneSearchResult {
  SearchMetric metric = SearchMetric::Perplexity;
  double maxDrop = 0;
  double baseline = 0, final = 0;
  /// The accepted candidates in order, with the metric after each.
  std::vector<std::pair<std::string, double>> accepted;
  std::vector<SearchTrial> trials;
  /// Bytes of all weight globals before and after.
  int64_t weightBytesBefore = 0, weightBytesAfter = 0;
  double seconds = 0;
  /// The pruned module (new weights inline).
  OwningOpRef<ModuleOp> module;
};

/// Runs the greedy search over `candidates` on a copy of `module`.
llvm::Expected<PruneSearchResult>
searchPruning(ModuleOp module, const SearchData &data,
              std::vector<PruneCandidate> candidates,
              const PruneSearchOptions &options,
              const SearchProgress &progress = {});

/// The search as a small human-readable report / one JSON object.
void printSearchReport(const PruneSearchResult &result, llvm::raw_ostream &os);
llvm::json::Value searchReportToJson(const PruneSearchResult &result);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_PRUNESEARCH_H
