//===- tvc-import.cpp - Import models into tvc IR -------------------------===//
//
// tvc-import <hf-checkpoint-dir> -o model.mlir [--emit-bytecode]
//            [--input-shape=BxT] [--quiet]
//
// Reads a Hugging Face checkpoint directory (config.json + safetensors) and
// writes a tvc module whose weights reference the checkpoint's files in
// place. The output is written whole or not at all (a temporary file
// renamed into place) and never over one of the inputs. A summary of what
// was recognised goes to stderr.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/HfImporter.h"
#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Registration/Registration.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-import options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<hf-checkpoint-dir>"),
                                      cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("Output file ('-' for stdout)"),
               cl::value_desc("file"), cl::init("-"), cl::cat(category));
static cl::opt<bool> emitBytecode("emit-bytecode",
                                  cl::desc("Write MLIR bytecode, not text"),
                                  cl::cat(category));
static cl::opt<std::string> inputShape(
    "input-shape",
    cl::desc("Batch x sequence of input_ids and positions, e.g. 1x128; "
             "'?' keeps a size dynamic (default 1x?)"),
    cl::value_desc("BxT"), cl::init("1x?"), cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Print no progress or summary"),
                           cl::cat(category));

/// Reports an error the way the tools do and returns a failing exit code.
static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-import") << message << "\n";
  return 1;
}

/// Parses "BxT" where each size is a positive integer or '?'.
static bool parseInputShape(StringRef text, int64_t &batch, int64_t &seq) {
  auto [first, second] = text.split('x');
  auto parse = [](StringRef size, int64_t &out) {
    if (size == "?") {
      out = ShapedType::kDynamic;
      return true;
    }
    return !size.getAsInteger(10, out) && out > 0;
  };
  return !second.empty() && parse(first, batch) && parse(second, seq);
}

/// True when `output` names the same file as `input` or one inside the
/// checkpoint directory that the importer reads.
static bool isInputFile(StringRef output, StringRef inputDir) {
  if (output == "-")
    return false;
  SmallString<256> outDir(output);
  llvm::sys::path::remove_filename(outDir);
  if (outDir.empty())
    outDir = ".";
  if (!llvm::sys::fs::equivalent(outDir, inputDir))
    return false;
  StringRef name = llvm::sys::path::filename(output);
  return name == "config.json" || name.ends_with(".safetensors") ||
         name == "model.safetensors.index.json";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-import: turn a Hugging Face checkpoint (config.json + safetensors; "
      "GPT-2, LLaMA, Mistral, Qwen2) into tvc IR\n");

  tvc::HfImportOptions options;
  if (!parseInputShape(inputShape, options.batch, options.sequence))
    return fail("--input-shape expects BxT with positive sizes or '?', got '" +
                inputShape + "'");

  if (!llvm::sys::fs::is_directory(inputPath)) {
    StringRef ext = llvm::sys::path::extension(inputPath);
    if (ext == ".onnx" || ext == ".onnxtext")
      return fail(inputPath + ": ONNX import is not implemented yet; "
                              "tvc-import reads Hugging Face checkpoint "
                              "directories");
    return fail(inputPath + ": not a checkpoint directory (expected a "
                            "directory with config.json)");
  }
  if (isInputFile(outputPath, inputPath))
    return fail("refusing to write the output over an input file: " +
                outputPath);

  DialectRegistry registry;
  tvc::registerAllDialects(registry);
  MLIRContext context(registry);
  if (!quiet && llvm::errs().is_displayed())
    options.onLayer = [](int64_t index, int64_t total) {
      llvm::errs() << "\rtvc-import: layer " << (index + 1) << "/" << total;
      if (index + 1 == total)
        llvm::errs() << "\n";
    };

  tvc::HfImportSummary summary;
  auto module = tvc::importHuggingFace(context, inputPath, options, summary);
  if (!module)
    return fail(llvm::toString(module.takeError()));

  // Written to a temporary file and renamed: whole or not at all.
  llvm::Error written = llvm::writeToOutput(
      outputPath, [&](llvm::raw_ostream &os) -> llvm::Error {
        if (emitBytecode) {
          if (failed(writeBytecodeToFile(module->get(), os)))
            return llvm::createStringError("failed to write bytecode");
          return llvm::Error::success();
        }
        module->get()->print(os);
        return llvm::Error::success();
      });
  if (written)
    return fail(outputPath + ": " + llvm::toString(std::move(written)));

  if (!quiet) {
    std::map<std::string, int64_t> counts;
    module->get()->walk([&](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "tvc" &&
          !isa<tvc::GlobalOp, tvc::WeightOp, tvc::YieldOp>(op))
        ++counts[op->getName().stripDialect().str()];
    });
    llvm::errs() << "tvc-import: " << summary.modelType << ", "
                 << summary.numLayers << " layers: ";
    bool first = true;
    for (const auto &[name, count] : counts) {
      llvm::errs() << (first ? "" : ", ") << count << " " << name;
      first = false;
    }
    llvm::errs() << "; 0 unsupported";
    if (summary.numIgnoredTensors)
      llvm::errs() << "; " << summary.numIgnoredTensors
                   << " buffer tensors ignored";
    llvm::errs() << "\n";
  }
  return 0;
}
