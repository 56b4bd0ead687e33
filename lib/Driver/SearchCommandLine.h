//===- SearchCommandLine.h - Options of the search tools ---------*- C++ -*-===//
//
// The command-line options and steps tvc-prune-search and
// tvc-sparsify-search share: the model and where the result goes, the
// tolerance, the validation set and metric, the entry point, threads and
// --json. A tool declares one SearchCommandLine in its option category
// (before cl::ParseCommandLineOptions runs) next to its own options.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_SEARCHCOMMANDLINE_H
#define TVC_LIB_DRIVER_SEARCHCOMMANDLINE_H

#include "lib/Driver/Search.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

#include <string>

namespace mlir::tvc {

struct SearchCommandLine {
  /// `result` names what -o receives ("pruned model"); `maxDropDefault`
  /// is the default tolerance as a percentage ("0.5%") and `maxDropDecimal`
  /// the same as a fraction ("0.005"), for messages.
  SearchCommandLine(llvm::cl::OptionCategory &category, llvm::StringRef result,
                    llvm::StringRef maxDropDefault,
                    llvm::StringRef maxDropDecimal);

  llvm::cl::opt<std::string> inputPath, outputPath, weightsDir, maxDropText,
      metricName, entryName, evalTokens;
  llvm::cl::opt<int64_t> evalContext, evalStride;
  llvm::cl::opt<std::string> evalInputs, evalAnswers;
  llvm::cl::opt<int> numThreads;
  llvm::cl::opt<bool> printJson;

  /// Checks -o (given, not the input) and --max-drop; the tolerance, or an
  /// error that names the option.
  llvm::Expected<double> checkOutputAndTolerance() const;

  /// The validation set (loadSearchData on these options).
  llvm::Expected<SearchData> loadData() const;

  /// The directory relative weight files resolve against: --weights-dir,
  /// else the model's.
  std::string baseDir() const;

  /// Parses the model (diagnostics through `sourceMgr`), finds its entry
  /// point into `data.entry` and applies --num-threads.
  llvm::Expected<OwningOpRef<ModuleOp>>
  loadModel(MLIRContext &context, llvm::SourceMgr &sourceMgr,
            SearchData &data) const;

private:
  std::string result, maxDropDefault, maxDropDecimal;
};

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_SEARCHCOMMANDLINE_H
