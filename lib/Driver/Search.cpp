//===- Search.cpp - What accuracy-driven searches share -------------------===//

#include "lib/Driver/Search.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

llvm::StringRef mlir::tvc::getSearchMetricName(SearchMetric metric) {
  switch (metric) {
  case SearchMetric::Perplexity:
    return "perplexity";
  case SearchMetric::ExactMatch:
    return "exact-match";
  case SearchMetric::TokenAccuracy:
    return "token-accuracy";
  }
  llvm_unreachable("unknown metric");
}

static llvm::Error searchError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<SearchData>
mlir::tvc::loadSearchData(llvm::StringRef tokensPath, int64_t context,
                          int64_t stride, llvm::StringRef inputsPath,
                          llvm::StringRef answersPath,
                          llvm::StringRef metricName) {
  if (tokensPath.empty() == inputsPath.empty())
    return searchError("give one validation set: --eval-tokens FILE "
                       "(perplexity) or --eval-inputs X.npy --eval-answers "
                       "Y.npy (accuracy)");
  if (inputsPath.empty() != answersPath.empty())
    return searchError("--eval-inputs and --eval-answers go together");
  SearchData data;
  if (!tokensPath.empty()) {
    if (!metricName.empty() && metricName != "perplexity")
      return searchError("--eval-tokens measures perplexity; --metric " +
                         metricName + " needs --eval-inputs/--eval-answers");
    data.metric = SearchMetric::Perplexity;
    auto file = readTokenFile(tokensPath);
    if (!file)
      return file.takeError();
    data.tokens = std::move(file->ids);
    data.tokensPath = tokensPath.str();
    data.context = context;
    data.stride = stride;
    return data;
  }
  if (metricName.empty() || metricName == "exact-match")
    data.metric = SearchMetric::ExactMatch;
  else if (metricName == "token-accuracy")
    data.metric = SearchMetric::TokenAccuracy;
  else
    return searchError("--metric expects perplexity, exact-match or "
                       "token-accuracy, got '" +
                       metricName + "'");
  auto x = readIdMatrix(inputsPath);
  if (!x)
    return x.takeError();
  auto y = readIdMatrix(answersPath);
  if (!y)
    return y.takeError();
  data.inputs = std::move(*x);
  data.answers = std::move(*y);
  data.inputsPath = inputsPath.str();
  data.answersPath = answersPath.str();
  return data;
}

llvm::Expected<std::string> mlir::tvc::findSearchEntry(ModuleOp module,
                                                       llvm::StringRef name) {
  func::FuncOp function;
  int publicFunctions = 0;
  for (auto candidate : module.getOps<func::FuncOp>()) {
    if (candidate.isExternal() || candidate.isPrivate())
      continue;
    ++publicFunctions;
    if (name.empty() ? !function : candidate.getSymName() == name)
      function = candidate;
  }
  if (!function || (name.empty() && publicFunctions != 1))
    return searchError(name.empty()
                           ? "the model has " + llvm::Twine(publicFunctions) +
                                 " public functions; choose one with --entry"
                           : "the model has no public function @" + name);
  return function.getSymName().str();
}

llvm::Expected<double> mlir::tvc::measureSearchMetric(ModuleOp module,
                                                      const SearchData &data,
                                                      llvm::StringRef baseDir) {
  llvm::Expected<CompiledEvalModel> compiled =
      compileForEval(module.clone(), data.entry, baseDir);
  if (!compiled)
    return compiled.takeError();
  if (data.metric == SearchMetric::Perplexity) {
    llvm::Expected<int64_t> context =
        resolveEvalContext(*compiled, data.context);
    if (!context)
      return context.takeError();
    int64_t stride = data.stride ? data.stride : *context;
    auto result = evaluatePerplexity(*compiled->model, compiled->eval,
                                     data.tokens, *context, stride,
                                     data.tokensPath);
    if (!result)
      return result.takeError();
    return result->perplexity;
  }
  auto result = evaluateAccuracy(*compiled->model, compiled->eval,
                                 *data.inputs, *data.answers, data.inputsPath,
                                 data.answersPath);
  if (!result)
    return result.takeError();
  return data.metric == SearchMetric::ExactMatch ? result->exactMatch
                                                 : result->tokenAccuracy;
}

bool SearchTolerance::within(double value) const {
  return metric == SearchMetric::Perplexity ? value <= baseline * (1 + maxDrop)
                                            : value >= baseline - maxDrop;
}

bool SearchTolerance::better(double a, double b) const {
  return metric == SearchMetric::Perplexity ? a < b : a > b;
}

std::string SearchTolerance::change(double value) const {
  bool perplexity = metric == SearchMetric::Perplexity;
  double delta = perplexity ? (value / baseline - 1) * 100 : value - baseline;
  std::string text =
      llvm::formatv(perplexity ? "{0:F2} %" : "{0:F4}", std::fabs(delta))
          .str();
  return (delta < 0 ? "-" : "+") + text;
}

std::string SearchTolerance::describe() const {
  return metric == SearchMetric::Perplexity
             ? llvm::formatv("+{0} %", maxDrop * 100).str()
             : llvm::formatv("-{0}", maxDrop).str();
}

std::optional<double> mlir::tvc::parseSearchFraction(llvm::StringRef text) {
  text = text.trim();
  bool percent = text.consume_back("%");
  double value;
  if (text.trim().getAsDouble(value) || !(value >= 0))
    return std::nullopt;
  return percent ? value / 100 : value;
}

llvm::Expected<double> mlir::tvc::measureSearchBaseline(
    ModuleOp module, const SearchData &data, llvm::StringRef baseDir,
    llvm::StringRef name, std::vector<SearchTrial> &trials,
    const SearchProgress &progress) {
  llvm::Expected<double> baseline = measureSearchMetric(module, data, baseDir);
  if (!baseline)
    return baseline.takeError();
  trials.push_back(SearchTrial{0, name.str(), *baseline, true, true, ""});
  if (progress)
    progress(trials.back());
  return *baseline;
}

void mlir::tvc::printSearchProgress(const SearchTrial &trial,
                                    SearchMetric metric,
                                    llvm::StringRef baselineName,
                                    llvm::raw_ostream &os) {
  if (trial.round == 0) {
    os << llvm::formatv("  {0}: {1} {2:F4}\n", baselineName,
                        getSearchMetricName(metric), trial.metric);
    return;
  }
  os << llvm::formatv("  round {0}: {1,-40} ", trial.round, trial.candidate);
  if (!trial.skipped.empty())
    os << "skipped: " << trial.skipped << "\n";
  else
    os << llvm::formatv("{0:F4} ({1})\n", trial.metric,
                        trial.withinTolerance ? "within tolerance" : "over");
}

llvm::json::Array
mlir::tvc::searchTrialsToJson(llvm::ArrayRef<SearchTrial> trials) {
  llvm::json::Array array;
  for (const SearchTrial &trial : trials) {
    llvm::json::Object object{{"round", trial.round},
                              {"candidate", trial.candidate},
                              {"accepted", trial.accepted}};
    if (trial.skipped.empty()) {
      object["metric"] = trial.metric;
      object["within_tolerance"] = trial.withinTolerance;
    } else {
      object["skipped"] = trial.skipped;
    }
    array.push_back(std::move(object));
  }
  return array;
}

/// Relative external weight files of `module` made absolute (the result may
/// be written elsewhere than the model it came from).
static void anchorWeightFiles(ModuleOp module, llvm::StringRef baseDir) {
  for (GlobalOp global : module.getOps<GlobalOp>()) {
    auto external = dyn_cast<ExternalWeightAttr>(global.getValue());
    if (!external || llvm::sys::path::is_absolute(external.getFile()))
      continue;
    llvm::SmallString<256> path(baseDir);
    llvm::sys::path::append(path, external.getFile());
    llvm::sys::fs::make_absolute(path);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    global.setValueAttr(ExternalWeightAttr::get(
        module.getContext(), path.str(), external.getKey()));
  }
}

llvm::Error mlir::tvc::writeSearchResult(ModuleOp module,
                                         llvm::StringRef outputPath,
                                         llvm::StringRef baseDir,
                                         llvm::StringRef weightsFile) {
  llvm::StringRef outputDir = llvm::sys::path::parent_path(outputPath);
  if (!llvm::sys::fs::equivalent(outputDir.empty() ? "." : outputDir,
                                 baseDir.empty() ? "." : baseDir))
    anchorWeightFiles(module, baseDir);
  if (!weightsFile.empty()) {
    WeightStore store(baseDir.str());
    WeightWriter writer(module, weightsFile.str(), outputDir.str());
    for (GlobalOp global : module.getOps<GlobalOp>()) {
      if (!isa<DenseResourceElementsAttr>(global.getValue()))
        continue;
      llvm::Expected<WeightView> view = store.read(global);
      if (!view)
        return view.takeError();
      writer.moveToFile(global, view->bytes);
    }
    if (llvm::Error error = writer.commit())
      return error;
  }
  if (llvm::Error error = llvm::writeToOutput(
          outputPath, [&](llvm::raw_ostream &os) -> llvm::Error {
            module.print(os);
            os << "\n";
            return llvm::Error::success();
          }))
    return searchError("cannot write '" + outputPath +
                       "': " + llvm::toString(std::move(error)));
  return llvm::Error::success();
}
