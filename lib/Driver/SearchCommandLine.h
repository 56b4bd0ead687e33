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

/// What a search tool works on once its options are checked: the context
/// (with the tool's dialects), the parsed model, its validation set, where
/// its weight files are and the tolerance.
struct SearchSession {
  explicit SearchSession(const DialectRegistry &registry) : context(registry) {
    context.loadAllAvailableDialects();
  }
  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics{sourceMgr, &context};
  OwningOpRef<ModuleOp> module;
  SearchData data;
  std::string baseDir;
  double maxDrop = 0;
};

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

  /// Checks -o (given, not the input) and --max-drop, loads the
  /// validation set, parses the model and finds its entry point, and
  /// applies --num-threads, into `session`; an error names the option or
  /// file at fault.
  llvm::Error open(SearchSession &session) const;

private:
  std::string result, maxDropDefault, maxDropDecimal;
};

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_SEARCHCOMMANDLINE_H
