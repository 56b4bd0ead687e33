//===- tvc-prune-search.cpp - Accuracy-driven pruning ---------------------===//
//
// tvc-prune-search model.mlir -o pruned.mlir --max-drop 0.5%
//     (--eval-tokens FILE [--eval-context N] [--eval-stride S]
//      | --eval-inputs X.npy --eval-answers Y.npy [--metric M])
//     [--candidates layers,heads,channels] [--amount 0.25]
//     [--score magnitude|activation --calibration NORMS]
//     [--weights-file NAME] [--max-steps K] [--json]
//
// The accuracy-driven strategy of tvc-prune (AxFormer's greedy search,
// lib/Driver/PruneSearch.h): every round tries each remaining candidate —
// a whole layer, `amount` of a layer's heads or of its FFN channels — on
// top of what was accepted so far, JIT-compiles and measures it, and
// accepts the least harmful one whose metric stays within the tolerance of
// the unpruned model: perplexity at most (1 + max-drop) times the
// baseline, or accuracy at most max-drop below it. It stops when no
// candidate fits. Progress goes to stderr, the report to stdout, the
// pruned model to -o (new weights inline, or into --weights-file next to
// it; both written whole or not at all).
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/Eval.h"
#include "lib/Driver/PruneSearch.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/WeightStore.h"
#include "runtime/api/tvc_kernels.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tvc;
namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-prune-search options");
static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("Where to write the pruned model"),
               cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> weightsDir(
    "weights-dir",
    cl::desc("Directory the model's relative weight files are in (default: "
             "the model's directory)"),
    cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Safetensors file, next to -o, for the new weights (default: "
             "inline in the IR)"),
    cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string> maxDropText(
    "max-drop",
    cl::desc("Tolerance: perplexity may grow by this fraction, accuracy may "
             "fall by this much ('0.5%' or '0.005')"),
    cl::value_desc("fraction"), cl::init("0.5%"), cl::cat(category));
static cl::opt<std::string> metricName(
    "metric",
    cl::desc("perplexity (with --eval-tokens), exact-match or token-accuracy "
             "(with --eval-inputs; default exact-match)"),
    cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string> candidateKinds(
    "candidates",
    cl::desc("What may be removed, per tvc.layer: layers, heads, channels"),
    cl::value_desc("list"), cl::init("layers,heads,channels"),
    cl::cat(category));
static cl::opt<double>
    amount("amount",
           cl::desc("Fraction of a layer's heads or FFN channels one "
                    "candidate removes"),
           cl::init(0.25), cl::cat(category));
static cl::opt<std::string>
    score("score", cl::desc("Head/channel scores: magnitude or activation"),
          cl::init("magnitude"), cl::cat(category));
static cl::opt<std::string> calibration(
    "calibration",
    cl::desc("Input-channel norms for --score activation (tvc-run "
             "--calibrate)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<int64_t>
    maxSteps("max-steps",
             cl::desc("Accept at most this many removals (0: no limit)"),
             cl::init(0), cl::cat(category));
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
  llvm::WithColor::error(llvm::errs(), "tvc-prune-search") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-prune-search: accuracy-driven pruning (greedy, measured through "
      "the JIT)\n\n"
      "  tvc-prune-search model.mlir -o pruned.mlir --max-drop 0.5% "
      "--eval-tokens valid.txt\n\n"
      "removes, one at a time, the layer, heads or FFN channels whose loss "
      "hurts the\nmetric least, while it stays within the tolerance of the "
      "unpruned model.\n");

  // Check every option before any work.
  if (outputPath.empty())
    return fail("-o FILE is required (where the pruned model goes)");
  if (outputPath == inputPath)
    return fail("-o must not be the input: the input is never overwritten");
  std::optional<double> maxDrop = parseSearchFraction(maxDropText);
  if (!maxDrop)
    return fail("--max-drop expects a non-negative fraction ('0.5%' or "
                "'0.005'), got '" +
                maxDropText + "'");
  bool layers = false, heads = false, channels = false;
  llvm::SmallVector<llvm::StringRef> kinds;
  llvm::StringRef(candidateKinds).split(kinds, ',', -1, false);
  for (llvm::StringRef kind : kinds) {
    kind = kind.trim();
    if (kind == "layers")
      layers = true;
    else if (kind == "heads")
      heads = true;
    else if (kind == "channels")
      channels = true;
    else
      return fail("--candidates expects layers, heads and/or channels, got '" +
                  kind + "'");
  }
  if (!layers && !heads && !channels)
    return fail("--candidates is empty");
  if (!(amount > 0 && amount < 1))
    return fail("--amount expects a fraction in (0, 1)");
  if (score != "magnitude" && score != "activation")
    return fail("--score expects magnitude or activation, got '" + score +
                "'");
  if ((score == "activation") != !calibration.empty())
    return fail("--score activation and --calibration FILE go together");

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

  std::vector<PruneCandidate> candidates =
      makePruneCandidates(*module, layers, heads, channels, amount, score,
                          calibration, baseDir);
  if (candidates.empty())
    return fail("the model has no tvc.layer to prune (import it with "
                "tvc-import from a Hugging Face checkpoint, or mark layers)");

  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  PruneSearchOptions options;
  options.maxDrop = *maxDrop;
  options.maxSteps = maxSteps;
  options.baseDir = baseDir;
  llvm::StringRef metric = getSearchMetricName(data.metric);
  llvm::errs() << llvm::formatv("tvc-prune-search: {0} candidates, {1}, "
                                "tolerance {2}\n",
                                candidates.size(), metric, maxDropText);
  auto progress = [&](const SearchTrial &trial) {
    printSearchProgress(trial, data.metric, "unpruned", llvm::errs());
  };
  llvm::Expected<PruneSearchResult> result =
      searchPruning(*module, data, std::move(candidates), options, progress);
  if (!result)
    return fail(llvm::toString(result.takeError()));

  // The pruned model: weight files anchored for its new place, new
  // weights inline or moved into --weights-file, written whole.
  if (llvm::Error error = writeSearchResult(*result->module, outputPath,
                                            baseDir, weightsFile))
    return fail(llvm::toString(std::move(error)));

  if (printJson)
    llvm::outs() << llvm::formatv("{0:2}", searchReportToJson(*result))
                 << "\n";
  else
    printSearchReport(*result, llvm::outs());
  return 0;
}
