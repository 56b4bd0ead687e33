//===- tvc-run.cpp - JIT-run a tvc model ----------------------------------===//
//
// tvc-run model.mlir --inputs DIR [--outputs DIR] [--expected DIR]
//         [--entry NAME]
//
// Lowers a tvc module with the CPU pipeline, JIT-compiles it and evaluates
// its entry point once on the tensors of DIR/input_N.pb (ONNX TensorProto,
// in argument order), writing DIR/output_N.pb for every result: the layout
// of ONNX's conformance data and exported test sets. With --expected, the
// results are compared with DIR/output_N.pb (numbers within tolerance,
// integers exactly) and the exit status says whether all matched. Nothing
// is written next to the model.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/TensorProtoIO.h"
#include "lib/Driver/JitModel.h"
#include "lib/Registration/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-run options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir | model.mlirbc>"),
                                      cl::cat(category));
static cl::opt<std::string>
    inputsDir("inputs",
              cl::desc("Directory of input_N.pb tensors (ONNX TensorProto), "
                       "one per entry-point argument"),
              cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string>
    outputsDir("outputs",
               cl::desc("Directory to write output_N.pb into (created if "
                        "missing)"),
               cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Function to run (default: the only public one)"),
              cl::value_desc("name"), cl::cat(category));
static cl::opt<std::string> weightsDir(
    "weights-dir",
    cl::desc("Directory relative weight files resolve against (default: the "
             "model's directory)"),
    cl::value_desc("dir"), cl::cat(category));

static cl::opt<std::string> expectedDir(
    "expected",
    cl::desc("Directory of expected output_N.pb to compare the results with"),
    cl::value_desc("dir"), cl::cat(category));
static cl::opt<double>
    relativeTolerance("rtol",
         cl::desc("Relative tolerance per element: |got - want| <= atol + "
                  "rtol * |want| (default 1e-3, as ONNX's backend tests)"),
         cl::init(1e-3), cl::cat(category));
static cl::opt<double> absoluteTolerance("atol",
                            cl::desc("Absolute tolerance per element "
                                     "(default 1e-7)"),
                            cl::init(1e-7), cl::cat(category));
static cl::opt<double> scaledTolerance(
    "max-error-scale",
    cl::desc("Instead of rtol/atol: max |got - want| <= S * max |want| per "
             "output (e.g. 1e-4 for logits)"),
    cl::value_desc("S"), cl::init(0), cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-run") << message << "\n";
  return 1;
}

namespace {

struct ComparisonResult {
  bool ok;
  std::string message;
};

/// Elements of a float tensor as doubles (f32 and f64; others empty).
std::vector<double> asDoubles(const HostTensor &tensor) {
  std::vector<double> values(tensor.getNumElements());
  if (tensor.elementType == static_cast<int32_t>(OnnxElementType::Float)) {
    const auto *data = reinterpret_cast<const float *>(tensor.bytes.data());
    std::copy(data, data + values.size(), values.begin());
  } else if (tensor.elementType ==
             static_cast<int32_t>(OnnxElementType::Double)) {
    const auto *data = reinterpret_cast<const double *>(tensor.bytes.data());
    std::copy(data, data + values.size(), values.begin());
  } else {
    values.clear();
  }
  return values;
}

ComparisonResult compareTensors(const HostTensor &got, const HostTensor &want) {
  if (got.elementType != want.elementType || got.shape != want.shape) {
    std::string gotShape, wantShape;
    llvm::raw_string_ostream gotOs(gotShape), wantOs(wantShape);
    llvm::interleave(got.shape, gotOs, "x");
    llvm::interleave(want.shape, wantOs, "x");
    return {false, llvm::formatv("MISMATCH: got {0} [{1}], expected {2} [{3}]",
                                 getElementTypeName(got.elementType), gotShape,
                                 getElementTypeName(want.elementType), wantShape)
                       .str()};
  }
  std::vector<double> gotValues = asDoubles(got), wantValues = asDoubles(want);
  if (gotValues.empty() && got.getNumElements() != 0) {
    bool equal = got.bytes == want.bytes;
    return {equal, equal ? "ok (exact)" : "MISMATCH: values differ"};
  }
  double maxError = 0, maxWant = 0;
  int64_t bad = 0;
  for (size_t i = 0; i < gotValues.size(); ++i) {
    double error = std::fabs(gotValues[i] - wantValues[i]);
    if (std::isnan(gotValues[i]) != std::isnan(wantValues[i]))
      error = INFINITY;
    else if (std::isnan(gotValues[i]))
      error = 0;
    maxError = std::max(maxError, error);
    maxWant = std::max(maxWant, std::fabs(wantValues[i]));
    if (error > absoluteTolerance + relativeTolerance * std::fabs(wantValues[i]))
      ++bad;
  }
  bool ok = scaledTolerance > 0 ? maxError <= scaledTolerance * maxWant
                                : bad == 0;
  std::string message = llvm::formatv(
      "{0}: max abs error {1:e} (max |expected| {2:e}", ok ? "ok" : "MISMATCH",
      maxError, maxWant);
  if (scaledTolerance > 0)
    message += llvm::formatv(", limit {0:e})", scaledTolerance * maxWant).str();
  else
    message += llvm::formatv(", {0} of {1} elements outside tolerance)", bad,
                             gotValues.size())
                   .str();
  return {ok, message};
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-run: JIT-compile a tvc model for the host CPU and evaluate it\n\n"
      "  tvc-run model.mlir --inputs DIR --outputs DIR\n\n"
      "reads DIR/input_0.pb, input_1.pb, ... (ONNX TensorProto, in the "
      "entry point's\nargument order) and writes output_0.pb, ... for every "
      "result.\n");
  if (inputsDir.empty())
    return fail("--inputs DIR is required (the tensors to evaluate on)");
  if (relativeTolerance < 0 || absoluteTolerance < 0 || scaledTolerance < 0)
    return fail("tolerances must not be negative");

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  std::string includedFile;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputPath);
  if (!buffer)
    return fail("cannot read '" + inputPath + "': " +
                buffer.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse '" + inputPath + "'");

  std::string baseDir = weightsDir;
  if (baseDir.empty())
    baseDir = llvm::sys::path::parent_path(inputPath).str();

  auto model = JitModel::compile(std::move(module), entryName, baseDir);
  if (!model)
    return fail(llvm::toString(model.takeError()));

  const EntrySignature &signature = (*model)->getSignature();
  std::vector<HostTensor> inputs;
  for (size_t index = 0; index < signature.inputs.size(); ++index) {
    llvm::SmallString<256> path(inputsDir);
    llvm::sys::path::append(path, "input_" + std::to_string(index) + ".pb");
    auto tensor = readTensorProto(path);
    if (!tensor)
      return fail(llvm::toString(tensor.takeError()) + " (input #" +
                  llvm::Twine(index) + " '" + signature.inputNames[index] +
                  "' of @" + signature.name + ")");
    inputs.push_back(std::move(*tensor));
  }

  auto outputs = (*model)->run(inputs);
  if (!outputs)
    return fail(llvm::toString(outputs.takeError()));

  bool mismatch = false;
  if (!expectedDir.empty()) {
    for (auto [index, output] : llvm::enumerate(*outputs)) {
      llvm::SmallString<256> path(expectedDir);
      llvm::sys::path::append(path, "output_" + std::to_string(index) + ".pb");
      auto expected = readTensorProto(path);
      if (!expected)
        return fail(llvm::toString(expected.takeError()));
      ComparisonResult result = compareTensors(output, *expected);
      llvm::outs() << "output_" << index << ": " << result.message << "\n";
      mismatch |= !result.ok;
    }
  }

  if (outputsDir.empty() && expectedDir.empty()) {
    for (const HostTensor &output : *outputs) {
      llvm::outs() << output.name << ": " << getElementTypeName(output.elementType)
                   << " [";
      llvm::interleave(output.shape, llvm::outs(), "x");
      llvm::outs() << "]\n";
    }
    return 0;
  }
  if (outputsDir.empty())
    return mismatch ? 1 : 0;
  if (std::error_code error = llvm::sys::fs::create_directories(outputsDir))
    return fail("cannot create '" + outputsDir + "': " + error.message());
  for (auto [index, output] : llvm::enumerate(*outputs)) {
    llvm::SmallString<256> path(outputsDir);
    llvm::sys::path::append(path, "output_" + std::to_string(index) + ".pb");
    if (llvm::Error error = writeTensorProto(path, output))
      return fail(llvm::toString(std::move(error)));
  }
  return mismatch ? 1 : 0;
}
