//===- tvc-sparsify-search.cpp - Accuracy-driven attention sparsity -------===//
//
// tvc-sparsify-search model.mlir -o sparse.mlir --max-drop 1%
//     (--eval-tokens FILE [--eval-context N] [--eval-stride S]
//      | --eval-inputs X.npy --eval-answers Y.npy [--metric M])
//     [--candidate "kind=window window=8"]... [--json]
//
// The accuracy-driven strategy of tvc-sparsify-attention
// (lib/Driver/SparsifySearch.h): for each tvc.layer, the first candidate
// mask of the ladder (given sparsest first; default windows of 4, 8, ...
// shorter than the evaluated sequences)
// that keeps the metric within the tolerance of the dense model, every
// trial compiled by the JIT and measured. Progress goes to stderr, the
// report to stdout, the sparsified model to -o (written whole or not at
// all; the input is never overwritten).
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Driver/SearchCommandLine.h"
#include "lib/Driver/SparsifySearch.h"
#include "lib/Registration/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tvc;
namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-sparsify-search options");
static SearchCommandLine common(category, "sparsified model", "1%", "0.01");
static cl::list<std::string> candidates(
    "candidate",
    cl::desc("A mask to try, as tvc-sparsify-attention options without "
             "layers (repeat; sparsest first; default: windows of 4, 8, 16, "
             "... shorter than the evaluated sequences)"),
    cl::value_desc("'kind=K ...'"), cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-sparsify-search")
      << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-sparsify-search: accuracy-driven attention sparsity (measured "
      "through the JIT)\n\n"
      "  tvc-sparsify-search model.mlir -o sparse.mlir --max-drop 1% "
      "--eval-tokens valid.txt\n"
      "  tvc-sparsify-search task.mlir -o sparse.mlir --max-drop 0.01 \\\n"
      "      --eval-inputs X.npy --eval-answers Y.npy \\\n"
      "      --candidate 'kind=top-k k=4' --candidate 'kind=window window=8'\n\n"
      "gives each layer the first candidate mask (sparsest first) that keeps "
      "the\nmetric within the tolerance of the dense model.\n");

  DialectRegistry registry;
  registerAllDialects(registry);
  SearchSession session(registry);
  if (llvm::Error error = common.open(session))
    return fail(llvm::toString(std::move(error)));
  SearchData &data = session.data;
  ModuleOp module = *session.module;
  const std::string &baseDir = session.baseDir;
  int64_t layers = 0;
  module.walk([&](LayerOp) { ++layers; });
  if (layers == 0)
    return fail("the model has no tvc.layer to choose masks for (import it "
                "with tvc-import, or use tvc-sparsify-attention directly)");
  std::vector<SparsityRung> ladder;
  for (const std::string &candidate : candidates)
    ladder.push_back({candidate});
  if (ladder.empty()) {
    llvm::Expected<int64_t> length =
        searchSequenceLength(module, data, baseDir);
    if (!length)
      return fail(llvm::toString(length.takeError()));
    ladder = defaultSparsityLadder(*length);
    if (ladder.empty())
      return fail("sequences of " + llvm::Twine(*length) +
                  " tokens are too short for the default windows (4 and "
                  "up); give --candidate masks");
  }
  if (llvm::Error error = checkSparsityLadder(module, ladder))
    return fail(llvm::toString(std::move(error)));

  SparsifySearchOptions options;
  options.maxDrop = session.maxDrop;
  options.baseDir = baseDir;
  llvm::errs() << llvm::formatv("tvc-sparsify-search: {0} layers, {1} "
                                "candidates, {2}, tolerance {3}\n",
                                layers, ladder.size(),
                                getSearchMetricName(data.metric),
                                common.maxDropText);
  auto progress = [&](const SearchTrial &trial) {
    printSearchProgress(trial, data.metric, "dense", llvm::errs());
  };
  llvm::Expected<SparsifySearchResult> result =
      searchSparsity(module, data, ladder, options, progress);
  if (!result)
    return fail(llvm::toString(result.takeError()));
  if (llvm::Error error =
          writeSearchResult(*result->module, common.outputPath, baseDir, ""))
    return fail(llvm::toString(std::move(error)));

  if (common.printJson)
    llvm::outs() << llvm::formatv("{0:2}", sparsifySearchReportToJson(*result))
                 << "\n";
  else
    printSparsifySearchReport(*result, llvm::outs());
  return 0;
}
