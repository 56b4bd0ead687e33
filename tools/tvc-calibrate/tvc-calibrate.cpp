//===- tvc-calibrate.cpp - Measure the premerge cost model on a target ----===//
//
// tvc-calibrate -o target-costs.json [--num-threads N] [--quick]
//
// Measures the constants of tvc-premerge-ffn's CPU cost model on this
// machine (lib/Driver/PremergeCalibration.h: decode bandwidth, per-call
// overhead, GEMM rates on a grid of shapes, the block-diagonal kernel's
// rate; 12-20 s), prints progress to stderr and a table to stdout, and
// writes the calibration file that `tvc-premerge-ffn calibration=FILE` and
// `tvc-compile --premerge-calibration=FILE` read. The file is checked by
// the same reader before it is written, and written whole or not at all.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/PremergeCalibration.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-calibrate options");
static cl::opt<std::string>
    outputPath("o", cl::desc("The calibration file to write (JSON)"),
               cl::value_desc("file"), cl::Required, cl::cat(category));
static cl::opt<int>
    threads("num-threads",
            cl::desc("Threads the kernels run on, as the compiled model will "
                     "(default 0: one per hardware thread)"),
            cl::init(0), cl::cat(category));
static cl::opt<bool>
    quick("quick",
          cl::desc("Tiny shapes, milliseconds per measurement: checks the "
                   "command, its figures mean nothing"),
          cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-calibrate") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-calibrate: measure tvc-premerge-ffn's CPU cost model on this "
      "machine\n");

  if (threads < 0)
    return fail("--num-threads expects a count >= 0, got " +
                llvm::Twine(int(threads)));
  // Fail before ten seconds of measuring, not after.
  llvm::StringRef parent = llvm::sys::path::parent_path(outputPath);
  if (llvm::sys::fs::is_directory(outputPath))
    return fail("-o " + outputPath + ": is a directory");
  if (!parent.empty() && !llvm::sys::fs::is_directory(parent))
    return fail("-o " + outputPath + ": no directory " + parent);

  mlir::tvc::CalibrationOptions options;
  options.threads = threads;
  options.quick = quick;
  llvm::Expected<mlir::tvc::CalibrationResult> result =
      mlir::tvc::calibratePremergeCosts(options, llvm::errs());
  if (!result)
    return fail(llvm::toString(result.takeError()));
  mlir::tvc::printCalibration(*result, llvm::outs());

  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", mlir::tvc::premerge::cpuCostsToJson(
                                   result->costs, result->threads));
  os << "\n";
  // What the pass would say about the file, before it exists.
  if (llvm::Expected<mlir::tvc::premerge::CpuCosts> check =
          mlir::tvc::premerge::parseCpuCosts(text, outputPath);
      !check)
    return fail(llvm::toString(check.takeError()));
  if (llvm::Error error =
          llvm::writeToOutput(outputPath, [&](llvm::raw_ostream &file) {
            file << text;
            return llvm::Error::success();
          }))
    return fail("cannot write " + outputPath + ": " +
                llvm::toString(std::move(error)));
  llvm::errs() << "wrote " << outputPath << "\n";
  return 0;
}
