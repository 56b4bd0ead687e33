//===- SearchCommandLine.cpp - Options of the search tools ----------------===//

#include "lib/Driver/SearchCommandLine.h"

#include "runtime/api/tvc_kernels.h"

#include "mlir/Parser/Parser.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tvc;
namespace cl = llvm::cl;

static llvm::Error commandLineError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

SearchCommandLine::SearchCommandLine(cl::OptionCategory &category,
                                     llvm::StringRef result,
                                     llvm::StringRef maxDropDefault,
                                     llvm::StringRef maxDropDecimal)
    : inputPath(cl::Positional, cl::desc("<model.mlir>"), cl::Required,
                cl::cat(category)),
      outputPath("o", cl::desc("Where to write the " + result.str()),
                 cl::value_desc("file"), cl::cat(category)),
      weightsDir("weights-dir",
                 cl::desc("Directory the model's relative weight files are "
                          "in (default: the model's directory)"),
                 cl::value_desc("dir"), cl::cat(category)),
      maxDropText("max-drop",
                  cl::desc("Tolerance: perplexity may grow by this fraction, "
                           "accuracy may fall by this much ('" +
                           maxDropDefault.str() + "' or '" +
                           maxDropDecimal.str() + "')"),
                  cl::value_desc("fraction"), cl::init(maxDropDefault.str()),
                  cl::cat(category)),
      metricName("metric",
                 cl::desc("perplexity (with --eval-tokens), exact-match or "
                          "token-accuracy (with --eval-inputs; default "
                          "exact-match)"),
                 cl::value_desc("name"), cl::cat(category)),
      entryName("entry",
                cl::desc("The full-sequence entry point (default: the only "
                         "public function)"),
                cl::value_desc("name"), cl::cat(category)),
      evalTokens("eval-tokens",
                 cl::desc("Validation tokens for perplexity (.npy ids or "
                          "bytes)"),
                 cl::value_desc("file"), cl::cat(category)),
      evalContext("eval-context", cl::desc("Perplexity window length"),
                  cl::init(0), cl::cat(category)),
      evalStride("eval-stride", cl::desc("Perplexity window stride"),
                 cl::init(0), cl::cat(category)),
      evalInputs("eval-inputs", cl::desc("Validation prompts [N, T] (.npy)"),
                 cl::value_desc("X.npy"), cl::cat(category)),
      evalAnswers("eval-answers", cl::desc("Their answers [N, A] (.npy)"),
                  cl::value_desc("Y.npy"), cl::cat(category)),
      numThreads("num-threads", cl::desc("Threads of the runtime (0: default)"),
                 cl::init(0), cl::cat(category)),
      printJson("json", cl::desc("Print the report as one JSON object"),
                cl::cat(category)),
      result(result.str()), maxDropDefault(maxDropDefault.str()),
      maxDropDecimal(maxDropDecimal.str()) {}

llvm::Error SearchCommandLine::open(SearchSession &session) const {
  if (outputPath.empty())
    return commandLineError("-o FILE is required (where the " + result +
                            " goes)");
  if (outputPath == inputPath)
    return commandLineError(
        "-o must not be the input: the input is never overwritten");
  std::optional<double> maxDrop = parseSearchFraction(maxDropText);
  if (!maxDrop)
    return commandLineError("--max-drop expects a non-negative fraction ('" +
                            maxDropDefault + "' or '" + maxDropDecimal +
                            "'), got '" + maxDropText + "'");
  session.maxDrop = *maxDrop;
  llvm::Expected<SearchData> data =
      loadSearchData(evalTokens, evalContext, evalStride, evalInputs,
                     evalAnswers, metricName);
  if (!data)
    return data.takeError();
  session.data = std::move(*data);

  auto buffer = llvm::MemoryBuffer::getFile(inputPath);
  if (!buffer)
    return commandLineError("cannot read '" + inputPath +
                            "': " + buffer.getError().message());
  session.sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  session.module =
      parseSourceFile<ModuleOp>(session.sourceMgr, &session.context);
  if (!session.module)
    return commandLineError("cannot parse '" + inputPath + "'");
  session.baseDir = weightsDir.empty()
                        ? llvm::sys::path::parent_path(inputPath).str()
                        : weightsDir.getValue();
  llvm::Expected<std::string> entry =
      findSearchEntry(*session.module, entryName);
  if (!entry)
    return entry.takeError();
  session.data.entry = *entry;
  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return commandLineError("cannot use " + llvm::Twine(numThreads.getValue()) +
                            " threads");
  return llvm::Error::success();
}
