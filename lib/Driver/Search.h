//===- Search.h - What accuracy-driven searches share ------------*- C++ -*-===//
//
// The accuracy-driven searches (tvc-prune-search, tvc-sparsify-search) try
// rewrites of a model and keep those whose metric stays within a tolerance
// of the original. This is what they share: the validation data and
// metric, one measured trial, the tolerance test, and the tool-side steps
// of loading a model and its validation data and writing the result.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_SEARCH_H
#define TVC_LIB_DRIVER_SEARCH_H

#include "lib/Driver/Eval.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tvc {

enum class SearchMetric { Perplexity, ExactMatch, TokenAccuracy };

/// The name the tools and reports use ("perplexity", ...).
llvm::StringRef getSearchMetricName(SearchMetric metric);

/// What every trial is measured on.
struct SearchData {
  /// The full-sequence entry point to evaluate.
  std::string entry;
  /// Perplexity: token ids, windows of `context` every `stride`.
  std::vector<int64_t> tokens;
  std::string tokensPath;
  int64_t context = 0, stride = 0;
  /// Task accuracy: prompts and answers.
  std::optional<IdMatrix> inputs, answers;
  std::string inputsPath, answersPath;
  SearchMetric metric = SearchMetric::Perplexity;
};

/// Loads the validation set a search tool was given: `tokensPath` (with
/// `context`, `stride`) for perplexity, or `inputsPath` and `answersPath`
/// for `metricName` (exact-match by default, or token-accuracy). Exactly
/// one set must be given; errors say which option is wrong.
llvm::Expected<SearchData> loadSearchData(llvm::StringRef tokensPath,
                                          int64_t context, int64_t stride,
                                          llvm::StringRef inputsPath,
                                          llvm::StringRef answersPath,
                                          llvm::StringRef metricName);

/// The public function of `module` named `name`, or its only one when
/// `name` is empty; an error otherwise.
llvm::Expected<std::string> findSearchEntry(ModuleOp module,
                                            llvm::StringRef name);

/// Compiles a copy of `module` through the JIT and measures `data.metric`
/// on it; relative weight files resolve against `baseDir`.
llvm::Expected<double> measureSearchMetric(ModuleOp module,
                                           const SearchData &data,
                                           llvm::StringRef baseDir);

/// The tolerance around a baseline: perplexity may grow by the fraction
/// `maxDrop`, accuracy may fall by `maxDrop` (absolute).
struct SearchTolerance {
  SearchMetric metric = SearchMetric::Perplexity;
  double baseline = 0, maxDrop = 0;
  bool within(double value) const;
  /// True when `a` is a better value of the metric than `b`.
  bool better(double a, double b) const;
  /// "+1.23 %" (perplexity) or "-0.0100" (accuracy) from the baseline.
  std::string change(double value) const;
  /// "+0.5 %" or "-0.01".
  std::string describe() const;
};

/// "0.5%" -> 0.005, "0.005" -> 0.005; std::nullopt when not a
/// non-negative number.
std::optional<double> parseSearchFraction(llvm::StringRef text);

/// One trial of a search.
struct SearchTrial {
  int64_t round = 0;
  std::string candidate;
  double metric = 0;
  bool withinTolerance = false;
  bool accepted = false;
  /// Why the candidate was dropped without a measurement, if it was.
  std::string skipped;
};

/// Called after every trial (and once for the baseline, with round 0).
using SearchProgress = std::function<void(const SearchTrial &)>;

/// Measures the unchanged `module` as trial 0 (named `name`, e.g. "dense
/// model"), appends it to `trials` and reports it to `progress`.
llvm::Expected<double> measureSearchBaseline(ModuleOp module,
                                             const SearchData &data,
                                             llvm::StringRef baseDir,
                                             llvm::StringRef name,
                                             std::vector<SearchTrial> &trials,
                                             const SearchProgress &progress);

/// Prints a trial as the search tools show progress on stderr.
void printSearchProgress(const SearchTrial &trial, SearchMetric metric,
                         llvm::StringRef baselineName, llvm::raw_ostream &os);

/// The trials as the JSON array of the search reports.
llvm::json::Array searchTrialsToJson(llvm::ArrayRef<SearchTrial> trials);

/// Writes `module` to `outputPath` whole or not at all. Relative external
/// weight files are made absolute when the output goes to another
/// directory than `baseDir`; with `weightsFile`, weights held inline move
/// into that safetensors file next to the output.
llvm::Error writeSearchResult(ModuleOp module, llvm::StringRef outputPath,
                              llvm::StringRef baseDir,
                              llvm::StringRef weightsFile);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_SEARCH_H
