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

#include "lib/Driver/SparsifySearch.h"
#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Registration/Registration.h"
#include "runtime/api/tvc_kernels.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tvc;
namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-sparsify-search options");
static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("Where to write the sparsified model"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> weightsDir(
    "weights-dir",
    cl::desc("Directory the model's relative weight files are in (default: "
             "the model's directory)"),
    cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string> maxDropText(
    "max-drop",
    cl::desc("Tolerance: perplexity may grow by this fraction, accuracy may "
             "fall by this much ('1%' or '0.01')"),
    cl::value_desc("fraction"), cl::init("1%"), cl::cat(category));
static cl::opt<std::string> metricName(
    "metric",
    cl::desc("perplexity (with --eval-tokens), exact-match or token-accuracy "
             "(with --eval-inputs; default exact-match)"),
    cl::value_desc("name"), cl::cat(category));
static cl::list<std::string> candidates(
    "candidate",
    cl::desc("A mask to try, as tvc-sparsify-attention options without "
             "layers (repeat; sparsest first; default: windows of 4, 8, 16, "
             "... shorter than the evaluated sequences)"),
    cl::value_desc("'kind=K ...'"), cl::cat(category));
static cl::opt<std::string> entryName(
    "entry", cl::desc("The full-sequence entry point (default: the only "
                      "public function)"),
    cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string> evalTokens(
    "eval-tokens",
    cl::desc("Validation tokens for perplexity (.npy ids or bytes)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<int64_t> evalContext("eval-context",
                                    cl::desc("Perplexity window length"),
                                    cl::init(0), cl::cat(category));
static cl::opt<int64_t> evalStride("eval-stride",
                                   cl::desc("Perplexity window stride"),
                                   cl::init(0), cl::cat(category));
static cl::opt<std::string>
    evalInputs("eval-inputs", cl::desc("Validation prompts [N, T] (.npy)"),
               cl::value_desc("X.npy"), cl::cat(category));
static cl::opt<std::string>
    evalAnswers("eval-answers", cl::desc("Their answers [N, A] (.npy)"),
                cl::value_desc("Y.npy"), cl::cat(category));
static cl::opt<int> numThreads("num-threads",
                               cl::desc("Threads of the runtime (0: default)"),
                               cl::init(0), cl::cat(category));
static cl::opt<bool> printJson("json",
                               cl::desc("Print the report as one JSON object"),
                               cl::cat(category));

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

  // Check every option before any work.
  if (outputPath.empty())
    return fail("-o FILE is required (where the sparsified model goes)");
  if (outputPath == inputPath)
    return fail("-o must not be the input: the input is never overwritten");
  std::optional<double> maxDrop = parseSearchFraction(maxDropText);
  if (!maxDrop)
    return fail("--max-drop expects a non-negative fraction ('1%' or "
                "'0.01'), got '" +
                maxDropText + "'");
  llvm::Expected<SearchData> loaded = loadSearchData(
      evalTokens, evalContext, evalStride, evalInputs, evalAnswers, metricName);
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  SearchData data = std::move(*loaded);

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  auto buffer = llvm::MemoryBuffer::getFile(inputPath);
  if (!buffer)
    return fail("cannot read '" + inputPath +
                "': " + buffer.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse '" + inputPath + "'");
  std::string baseDir = weightsDir;
  if (baseDir.empty())
    baseDir = llvm::sys::path::parent_path(inputPath).str();
  llvm::Expected<std::string> entry = findSearchEntry(*module, entryName);
  if (!entry)
    return fail(llvm::toString(entry.takeError()));
  data.entry = *entry;
  int64_t layers = 0;
  module->walk([&](LayerOp) { ++layers; });
  if (layers == 0)
    return fail("the model has no tvc.layer to choose masks for (import it "
                "with tvc-import, or use tvc-sparsify-attention directly)");
  std::vector<SparsityRung> ladder;
  for (const std::string &candidate : candidates)
    ladder.push_back({candidate});
  if (ladder.empty()) {
    llvm::Expected<int64_t> length =
        searchSequenceLength(*module, data, baseDir);
    if (!length)
      return fail(llvm::toString(length.takeError()));
    ladder = defaultSparsityLadder(*length);
    if (ladder.empty())
      return fail("sequences of " + llvm::Twine(*length) +
                  " tokens are too short for the default windows (4 and "
                  "up); give --candidate masks");
  }
  if (llvm::Error error = checkSparsityLadder(*module, ladder))
    return fail(llvm::toString(std::move(error)));

  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  SparsifySearchOptions options;
  options.maxDrop = *maxDrop;
  options.baseDir = baseDir;
  llvm::errs() << llvm::formatv("tvc-sparsify-search: {0} layers, {1} "
                                "candidates, {2}, tolerance {3}\n",
                                layers, ladder.size(),
                                getSearchMetricName(data.metric), maxDropText);
  auto progress = [&](const SearchTrial &trial) {
    printSearchProgress(trial, data.metric, "dense", llvm::errs());
  };
  llvm::Expected<SparsifySearchResult> result =
      searchSparsity(*module, data, ladder, options, progress);
  if (!result)
    return fail(llvm::toString(result.takeError()));
  if (llvm::Error error =
          writeSearchResult(*result->module, outputPath, baseDir, ""))
    return fail(llvm::toString(std::move(error)));

  if (printJson)
    llvm::outs() << llvm::formatv("{0:2}", sparsifySearchReportToJson(*result))
                 << "\n";
  else
    printSparsifySearchReport(*result, llvm::outs());
  return 0;
}
