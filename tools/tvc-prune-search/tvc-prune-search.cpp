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

#include "lib/Driver/PruneSearch.h"
#include "lib/Driver/SearchCommandLine.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/WeightStore.h"
#include "runtime/api/tvc_kernels.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tvc;
namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-prune-search options");
static SearchCommandLine common(category, "pruned model", "0.5%", "0.005");
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Safetensors file, next to -o, for the new weights (default: "
             "inline in the IR)"),
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

  DialectRegistry registry;
  registerAllDialects(registry);
  SearchSession session(registry);
  if (llvm::Error error = common.open(session))
    return fail(llvm::toString(std::move(error)));
  SearchData &data = session.data;
  ModuleOp module = *session.module;
  const std::string &baseDir = session.baseDir;

  std::vector<PruneCandidate> candidates =
      makePruneCandidates(module, layers, heads, channels, amount, score,
                          calibration, baseDir);
  if (candidates.empty())
    return fail("the model has no tvc.layer to prune (import it with "
                "tvc-import from a Hugging Face checkpoint, or mark layers)");

  PruneSearchOptions options;
  options.maxDrop = session.maxDrop;
  options.maxSteps = maxSteps;
  options.baseDir = baseDir;
  llvm::StringRef metric = getSearchMetricName(data.metric);
  llvm::errs() << llvm::formatv("tvc-prune-search: {0} candidates, {1}, "
                                "tolerance {2}\n",
                                candidates.size(), metric, common.maxDropText);
  auto progress = [&](const SearchTrial &trial) {
    printSearchProgress(trial, data.metric, "unpruned", llvm::errs());
  };
  llvm::Expected<PruneSearchResult> result =
      searchPruning(module, data, std::move(candidates), options, progress);
  if (!result)
    return fail(llvm::toString(result.takeError()));

  // The pruned model: weight files anchored for its new place, new
  // weights inline or moved into --weights-file, written whole.
  if (llvm::Error error = writeSearchResult(
          *result->module, common.outputPath, baseDir, weightsFile))
    return fail(llvm::toString(std::move(error)));

  if (common.printJson)
    llvm::outs() << llvm::formatv("{0:2}", searchReportToJson(*result))
                 << "\n";
  else
    printSearchReport(*result, llvm::outs());
  return 0;
}
