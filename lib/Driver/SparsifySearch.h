//===- SparsifySearch.h - Accuracy-driven attention sparsity ----*- C++ -*-===//
//
// The accuracy-driven strategy of tvc-sparsify-attention: given a
// validation set, a metric, a tolerance and a ladder of sparse masks from
// the most to the least wanted (the sparsest first), choose for each
// tvc.layer the first rung of the ladder that keeps the metric within the
// tolerance of the dense model, on top of the choices made for the other
// layers. Every trial is a real run: tvc-sparsify-attention rewrites a copy
// of the module, the JIT compiles it and lib/Driver/Eval measures it.
//
// Rounds: every undecided layer tries its current rung on top of what was
// accepted; a rung over the tolerance is dropped for that layer (the next,
// denser one is tried next round, and a layer with no rung left stays
// dense); of the trials within the tolerance the one highest on the ladder
// (then the best metric) is accepted and its layer decided. The others
// keep their rung and are measured again next round, on top of the new
// choice. The search ends when every layer is decided.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_SPARSIFYSEARCH_H
#define TVC_LIB_DRIVER_SPARSIFYSEARCH_H

#include "lib/Driver/Search.h"

#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir::tvc {

/// One rung of the ladder: tvc-sparsify-attention's options for one kind,
/// without `layers`/`full-layers` (e.g. "kind=window window=8").
struct SparsityRung {
  std::string options;
};

/// The default ladder: windows of 4, 8, 16, ... keys, shorter than
/// `sequenceLength` (a window at least as long as the sequence is the dense
/// mask under another name).
std::vector<SparsityRung> defaultSparsityLadder(int64_t sequenceLength);

/// The longest sequence the evaluation of `data` runs: the perplexity
/// window (the model's bound when `data.context` is 0, which compiles
/// `module` once to find it) or the prompt plus answer columns.
llvm::Expected<int64_t> searchSequenceLength(ModuleOp module,
                                             const SearchData &data,
                                             llvm::StringRef baseDir);

/// Checks that every rung is a valid tvc-sparsify-attention option string
/// that sets a mask, by running it on a copy of `module`; the error names
/// the rung and what the pass said.
llvm::Error checkSparsityLadder(ModuleOp module,
                                llvm::ArrayRef<SparsityRung> ladder);

struct SparsifySearchOptions {
  /// Perplexity: the largest relative increase; accuracy: the largest drop.
  double maxDrop = 0.005;
  /// Relative weight files resolve against it.
  std::string baseDir;
};

struct SparsifySearchResult {
  SearchMetric metric = SearchMetric::Perplexity;
  double maxDrop = 0;
  double baseline = 0, final = 0;
  /// Per tvc.layer index, in order: the accepted rung's options ("" when
  /// the layer stays dense) and the metric after its acceptance.
  std::vector<std::pair<int64_t, std::string>> choices;
  std::vector<double> metricAfter;
  /// Per layer, the step (1, 2, ...) that accepted its choice; 0 if none.
  std::vector<int64_t> step;
  std::vector<SearchTrial> trials;
  double seconds = 0;
  /// The sparsified module.
  OwningOpRef<ModuleOp> module;
};

/// Runs the search on a copy of `module` (which must have tvc.layer ops).
llvm::Expected<SparsifySearchResult>
searchSparsity(ModuleOp module, const SearchData &data,
               llvm::ArrayRef<SparsityRung> ladder,
               const SparsifySearchOptions &options,
               const SearchProgress &progress = {});

/// The search as a small human-readable report / one JSON object.
void printSparsifySearchReport(const SparsifySearchResult &result,
                               llvm::raw_ostream &os);
llvm::json::Value sparsifySearchReportToJson(const SparsifySearchResult &result);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_SPARSIFYSEARCH_H
