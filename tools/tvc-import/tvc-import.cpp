//===- tvc-import.cpp - Import models into tvc IR -------------------------===//
//
// tvc-import <hf-checkpoint-dir | model.onnx | model.onnxtext> -o model.mlir
//            [--lora <adapter-dir>] [--emit-bytecode] [--input-shape=...]
//            [--quiet]
//
// A Hugging Face checkpoint directory (config.json + safetensors) becomes a
// tvc module whose weights reference the checkpoint's files in place; with
// --lora, a PEFT LoRA adapter is read onto it (#tvc.lora linears whose
// factors reference the adapter's file in place). An
// ONNX model is imported into generic tvc_onnx IR and raised by
// convert-onnx-to-tvc (unless --no-raise); its float initializers go to a
// safetensors file beside the output. Every
// output is written whole or not at all (a temporary file renamed into
// place) and never over one of the inputs. A summary goes to stderr.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/HfImporter.h"
#ifdef TVC_HAVE_ONNX
#include "frontends/onnx/OnnxImporter.h"
#endif
#include "passes/Conversion/OnnxToLinalg/OnnxToLinalg.h"
#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"
#include "passes/Conversion/Passes.h"
#include "dialects/onnx/IR/TvcOnnxOps.h"
#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/WeightStore.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using namespace mlir;

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-import options");

static cl::opt<std::string>
    inputPath(cl::Positional, cl::Optional,
              cl::desc("<hf-checkpoint-dir | model.onnx | model.onnxtext>"),
              cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("Output file ('-' for stdout)"),
               cl::value_desc("file"), cl::init("-"), cl::cat(category));
static cl::opt<std::string> loraAdapter(
    "lora",
    cl::desc("Hugging Face: a PEFT LoRA adapter directory "
             "(adapter_config.json + adapter_model.safetensors) to read onto "
             "the checkpoint; each targeted linear becomes a #tvc.lora linear "
             "whose factors reference the adapter file in place (llama, "
             "mistral, qwen2, gpt2)"),
    cl::value_desc("adapter-dir"), cl::cat(category));
static cl::opt<bool> emitBytecode("emit-bytecode",
                                  cl::desc("Write MLIR bytecode, not text"),
                                  cl::cat(category));
static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Hugging Face: BxT of input_ids and positions (default 1x?). "
             "ONNX: name=D0xD1x... for a graph input (repeatable). '?' "
             "keeps a size dynamic"),
    cl::value_desc("BxT | name=shape"), cl::cat(category));
static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("ONNX: safetensors file for the float initializers (default: "
             "<output stem>.weights.safetensors beside the output)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<bool> inlineWeights(
    "inline-weights",
    cl::desc("ONNX: keep float initializers inline in the IR (small models; "
             "the default when writing to stdout)"),
    cl::cat(category));
static cl::opt<bool> listOnnxOps(
    "list-onnx-ops",
    cl::desc("Print the ONNX ops convert-onnx-to-tvc raises (Markdown) and "
             "exit"),
    cl::cat(category));
static cl::opt<bool> listSupportedOps(
    "list-supported-onnx-ops",
    cl::desc("Print the ai.onnx op types tvc lowers (a handler in "
             "convert-onnx-to-tvc or convert-onnx-to-linalg), one per line, "
             "and exit"),
    cl::cat(category));
static cl::opt<bool> noRaise(
    "no-raise",
    cl::desc("ONNX: keep the generic tvc_onnx form (do not run "
             "convert-onnx-to-tvc)"),
    cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Print no progress or summary"),
                           cl::cat(category));

/// Reports an error the way the tools do and returns a failing exit code.
static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-import") << message << "\n";
  return 1;
}

/// Parses "D0xD1x..." where each size is a non-negative integer or '?'.
static bool parseShape(StringRef text, SmallVectorImpl<int64_t> &shape) {
  SmallVector<StringRef> parts;
  text.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t size;
    if (part == "?")
      size = ShapedType::kDynamic;
    else if (part.getAsInteger(10, size) || size < 0)
      return false;
    shape.push_back(size);
  }
  return !text.empty();
}

/// True when `output` names a file the import reads: the model file itself
/// or a checkpoint (or adapter) file in the input directory.
static bool isInputFile(StringRef output, StringRef input) {
  if (output == "-" || !llvm::sys::fs::exists(output))
    return false;
  if (!llvm::sys::fs::is_directory(input))
    return llvm::sys::fs::equivalent(output, input);
  StringRef inputDir = input;
  SmallString<256> outDir(output);
  llvm::sys::path::remove_filename(outDir);
  if (outDir.empty())
    outDir = ".";
  if (!llvm::sys::fs::equivalent(outDir, inputDir))
    return false;
  StringRef name = llvm::sys::path::filename(output);
  return name == "config.json" || name.ends_with(".safetensors") ||
         name == "model.safetensors.index.json" ||
         name == "adapter_config.json";
}

/// Writes `module` to `path` (text or bytecode), whole or not at all.
static llvm::Error writeModule(StringRef path, ModuleOp module) {
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) -> llvm::Error {
    if (emitBytecode) {
      if (failed(writeBytecodeToFile(module, os)))
        return llvm::createStringError("failed to write bytecode");
      return llvm::Error::success();
    }
    module->print(os);
    return llvm::Error::success();
  });
}

/// Prints "N name, M name, ..." from counts.
static void printCounts(const std::map<std::string, int64_t> &counts) {
  bool first = true;
  for (const auto &[name, count] : counts) {
    llvm::errs() << (first ? "" : ", ") << count << " " << name;
    first = false;
  }
}

/// Counts the tvc ops of `module` by name (weights, globals and yields
/// left out), writing the linears as "3 linear (1 low_rank, 1 lora)" when
/// some are structured.
static std::map<std::string, int64_t> countTvcOps(ModuleOp module) {
  std::map<std::string, int64_t> counts, structured;
  module->walk([&](Operation *op) {
    if (auto linear = dyn_cast<tvc::LinearOp>(op)) {
      StringRef structure =
          linear.getStructure().getAbstractAttribute().getName();
      if (!isa<tvc::DenseStructureAttr>(linear.getStructure()) &&
          structure.consume_front("tvc."))
        ++structured[structure.str()];
    }
    if (op->getDialect() && op->getDialect()->getNamespace() == "tvc" &&
        !isa<tvc::GlobalOp, tvc::WeightOp, tvc::YieldOp>(op))
      ++counts[op->getName().stripDialect().str()];
  });
  if (!structured.empty()) {
    std::string name = "linear (";
    for (const auto &[structure, count] : structured)
      name += (name.back() == '(' ? "" : ", ") + std::to_string(count) + " " +
              structure;
    counts[name + ")"] = counts["linear"];
    counts.erase("linear");
  }
  return counts;
}

static int importHf(MLIRContext &context) {
  tvc::HfImportOptions options;
  options.sequence = ShapedType::kDynamic;
  options.loraAdapter = loraAdapter;
  if (inputShapes.size() > 1)
    return fail("a Hugging Face import takes one --input-shape=BxT");
  if (!inputShapes.empty()) {
    SmallVector<int64_t> shape;
    if (!parseShape(inputShapes.front(), shape) || shape.size() != 2 ||
        shape[0] == 0 || shape[1] == 0)
      return fail("--input-shape expects BxT with positive sizes or '?', "
                  "got '" + inputShapes.front() + "'");
    options.batch = shape[0];
    options.sequence = shape[1];
  }
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
  if (llvm::Error error = writeModule(outputPath, module->get()))
    return fail(llvm::toString(std::move(error)));

  if (!quiet) {
    llvm::errs() << "tvc-import: " << summary.modelType << ", "
                 << summary.numLayers << " layers: ";
    printCounts(countTvcOps(module->get()));
    llvm::errs() << "; 0 unsupported";
    if (summary.numIgnoredTensors)
      llvm::errs() << "; " << summary.numIgnoredTensors
                   << " buffer tensors ignored";
    if (!loraAdapter.empty())
      llvm::errs() << "; LoRA adapter on " << summary.numLoraLinears
                   << " linears";
    llvm::errs() << "\n";
  }
  return 0;
}

#ifdef TVC_HAVE_ONNX
/// Raising transposes structured factors stored [in, out] into new inline
/// globals and drops the initializers nothing reads any more: rewrites the
/// weights file with the initializers still read plus the new globals (which
/// then name it), so a model keeps one weights file. `fileName` is the name
/// the globals record. Sets `numWeights` to the tensors the file holds.
static llvm::Error updateWeightsFile(ModuleOp module,
                                     tvc::OnnxImportResult &result,
                                     StringRef weightsFile, StringRef fileName,
                                     size_t &numWeights) {
  std::set<std::string> read;
  SmallVector<tvc::GlobalOp> added;
  module.walk([&](tvc::GlobalOp global) {
    if (auto external = dyn_cast<tvc::ExternalWeightAttr>(global.getValue()))
      read.insert(external.getKey().str());
    else if (isa<DenseResourceElementsAttr>(global.getValue()))
      added.push_back(global);
  });
  numWeights = result.weights.size();
  if (added.empty() && read.size() == result.weights.size())
    return llvm::Error::success();
  std::vector<tvc::TensorToWrite> tensors;
  for (const tvc::TensorToWrite &tensor : result.weights)
    if (read.count(tensor.name))
      tensors.push_back(tensor);
  tvc::WeightStore store;
  std::vector<std::vector<char>> owned;
  owned.reserve(added.size());
  for (tvc::GlobalOp global : added) {
    auto view = store.read(global);
    if (!view)
      return view.takeError();
    std::string key = global.getSymName().str();
    // Initializer names and symbols are distinct namespaces.
    for (int suffix = 1; read.count(key); ++suffix)
      key = (global.getSymName() + "_" + llvm::Twine(suffix)).str();
    read.insert(key);
    owned.emplace_back(view->bytes.begin(), view->bytes.end());
    tensors.push_back({key, view->dtype, view->shape, owned.back()});
    global.setValueAttr(
        tvc::ExternalWeightAttr::get(module.getContext(), fileName, key));
  }
  numWeights = tensors.size();
  return tvc::writeSafeTensors(weightsFile, tensors);
}

static int importOnnxModel(MLIRContext &context) {
  tvc::OnnxImportOptions options;
  for (StringRef spec : inputShapes) {
    auto [name, dims] = spec.split('=');
    SmallVector<int64_t> shape;
    if (name.empty() || dims.empty() || !parseShape(dims, shape))
      return fail("--input-shape expects name=D0xD1x... for an ONNX model, "
                  "got '" + spec + "'");
    options.inputShapes[name] = shape;
  }
  // Float initializers go to a safetensors file beside the output, named
  // relative to it (the weight store resolves names against the directory
  // of the .mlir file).
  std::string weightsFile;
  if (!inlineWeights && outputPath != "-") {
    weightsFile = weightsPath;
    if (weightsFile.empty()) {
      SmallString<256> path(outputPath);
      llvm::sys::path::replace_extension(path, "weights.safetensors");
      weightsFile = std::string(path);
    }
    if (isInputFile(weightsFile, inputPath))
      return fail("refusing to write the weights over an input file: " +
                  weightsFile);
    SmallString<256> outDir(outputPath), weightsDir(weightsFile);
    llvm::sys::path::remove_filename(outDir);
    llvm::sys::path::remove_filename(weightsDir);
    options.weightsFileName =
        outDir == weightsDir ? llvm::sys::path::filename(weightsFile).str()
                             : weightsFile;
  }

  if (!quiet && llvm::errs().is_displayed())
    llvm::errs() << "tvc-import: loading " << inputPath << "\r";
  auto result = tvc::importOnnx(context, inputPath, options);
  if (!result)
    return fail(llvm::toString(result.takeError()));
  // The model's external data files are inputs too.
  for (const std::string &file : result->externalFiles)
    for (StringRef output : {StringRef(outputPath), StringRef(weightsFile)})
      if (!output.empty() && output != "-" && llvm::sys::fs::exists(output) &&
          llvm::sys::fs::equivalent(output, file))
        return fail("refusing to write over the model's external data: " +
                    output);
  // The weights file is written first: raising reads constant masks from it.
  bool wroteWeights = false;
  if (!weightsFile.empty() && !result->weights.empty()) {
    if (llvm::Error error = tvc::writeSafeTensors(weightsFile, result->weights))
      return fail(weightsFile + ": " + llvm::toString(std::move(error)));
    wroteWeights = true;
  }
  auto discardWeights = [&] {
    if (wroteWeights)
      llvm::sys::fs::remove(weightsFile);
  };

  if (!noRaise) {
    SmallString<256> weightsDir(weightsFile);
    llvm::sys::path::remove_filename(weightsDir);
    PassManager pm(&context);
    tvc::ConvertOnnxToTvcOptions raiseOptions;
    raiseOptions.weightsDir = std::string(weightsDir);
    pm.addPass(tvc::createConvertOnnxToTvc(raiseOptions));
    pm.addPass(createCanonicalizerPass());
    if (failed(pm.run(result->module.get()))) {
      discardWeights();
      return fail("raising the ONNX graph to tvc failed (see above)");
    }
  }
  size_t numWeights = result->weights.size();
  if (!noRaise && !weightsFile.empty())
    if (llvm::Error error =
            updateWeightsFile(result->module.get(), *result, weightsFile,
                              options.weightsFileName, numWeights)) {
      discardWeights();
      return fail(weightsFile + ": " + llvm::toString(std::move(error)));
    }
  if (llvm::Error error = writeModule(outputPath, result->module.get())) {
    discardWeights();
    return fail(llvm::toString(std::move(error)));
  }

  if (!quiet) {
    int64_t nodes = 0;
    for (const auto &entry : result->nodeCounts)
      nodes += entry.second;
    llvm::errs() << "tvc-import: onnx opset " << result->defaultOpset << ", "
                 << nodes << " nodes, " << numWeights << " weights";
    if (noRaise) {
      llvm::errs() << " (";
      printCounts(result->nodeCounts);
      llvm::errs() << "); generic form, not raised\n";
      return 0;
    }
    std::map<std::string, int64_t> generic;
    result->module->walk(
        [&](tvc_onnx::NodeOp node) { ++generic[node.getOpType().str()]; });
    std::map<std::string, int64_t> raised = countTvcOps(result->module.get());
    int64_t unraised = 0;
    for (const auto &entry : generic)
      unraised += entry.second;
    llvm::errs() << ": ";
    printCounts(raised);
    llvm::errs() << "; " << unraised << " unsupported";
    if (unraised) {
      llvm::errs() << " (";
      printCounts(generic);
      llvm::errs() << ", kept generic)";
    }
    llvm::errs() << "\n";
  }
  return 0;
}

#else
static int importOnnxModel(MLIRContext &) {
  return fail(inputPath + ": this tvc-import was built without ONNX support "
                          "(TVC_ENABLE_ONNX=OFF)");
}
#endif

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-import: turn a Hugging Face checkpoint (config.json + safetensors; "
      "GPT-2, LLaMA, Mistral, Qwen2; optionally with a PEFT LoRA adapter) or "
      "an ONNX model into tvc IR\n");

  if (listOnnxOps) {
    llvm::outs() << "# ONNX ops raised to tvc\n\n"
                    "Generated by `tvc-import --list-onnx-ops`; a test fails "
                    "when this file\ndiffers. Each line is a handler of "
                    "`convert-onnx-to-tvc`: domain (empty\nfor ai.onnx), op "
                    "type, and the opset version it applies from. Nodes\n"
                    "without a handler stay generic `tvc_onnx.node` ops.\n\n";
    for (const std::string &line : tvc::getOnnxHandlerTable().describe())
      llvm::outs() << "- " << line << "\n";
    return 0;
  }
  if (listSupportedOps) {
    std::vector<std::string> opTypes = tvc::getOnnxHandlerTable().getOpTypes();
    for (std::string &opType : tvc::getOnnxToLinalgHandlerTable().getOpTypes())
      opTypes.push_back(std::move(opType));
    llvm::sort(opTypes);
    opTypes.erase(std::unique(opTypes.begin(), opTypes.end()), opTypes.end());
    for (const std::string &opType : opTypes)
      llvm::outs() << opType << "\n";
    return 0;
  }
  if (inputPath.empty())
    return fail("no input: give a checkpoint directory, a .onnx or a "
                ".onnxtext file (see --help)");
  if (!llvm::sys::fs::exists(inputPath))
    return fail(inputPath + ": no such file or directory");
  if (isInputFile(outputPath, inputPath) ||
      (!loraAdapter.empty() && isInputFile(outputPath, loraAdapter)))
    return fail("refusing to write the output over an input file: " +
                outputPath);
  if (!loraAdapter.empty() && !llvm::sys::fs::is_directory(inputPath))
    return fail("--lora applies to a Hugging Face checkpoint directory, not "
                "to " +
                inputPath);

  DialectRegistry registry;
  tvc::registerAllDialects(registry);
  MLIRContext context(registry);

  if (llvm::sys::fs::is_directory(inputPath))
    return importHf(context);
  StringRef ext = llvm::sys::path::extension(inputPath);
  if (ext == ".onnx" || ext == ".onnxtext")
    return importOnnxModel(context);
  return fail(inputPath + ": expected a checkpoint directory (with "
                          "config.json), a .onnx or a .onnxtext file");
}
