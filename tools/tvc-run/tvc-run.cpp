//===- tvc-run.cpp - JIT-run a tvc model ----------------------------------===//
//
// tvc-run model.mlir --inputs DIR [--outputs DIR] [--expected DIR]
//         [--entry NAME] [--decode-steps N] [--prefill-chunk K]
//         [--max-seq-len C]
//
// Lowers a tvc module with the CPU pipeline, JIT-compiles it and evaluates
// its entry point once on the tensors of DIR/input_N.pb (ONNX TensorProto,
// in argument order), writing DIR/output_N.pb for every result: the layout
// of ONNX's conformance data and exported test sets. With --expected, the
// results are compared with DIR/output_N.pb (numbers within tolerance,
// integers exactly) and the exit status says whether all matched. With
// --decode-steps N the model's KV-cached entry points are derived
// (tvc-derive-decode) and the sequence is run as a prefill of T - N tokens
// followed by N one-token decode steps fed from the inputs (with
// --prefill-chunk K the prefill goes K tokens per call, each after the
// cached ones); the logits of all steps are concatenated, so they compare
// with the full-sequence result. Nothing is written next to the model.
//
// tvc-run model.mlir --bench [--prefill-tokens T,...] [--past P,...]
//         [--repeat N] [--json] [--max-seq-len C] [--num-threads N]
//
// derives the KV-cached entry points, JIT-compiles them with kernel
// profiling and times, on synthetic token ids, a prefill of T tokens and
// one decode step with P tokens in the cache (medians of N runs after a
// warm-up); it prints a table, or with --json one JSON object
// (lib/Driver/Bench.h). No --inputs are read. Progress (benchmark runs,
// decode steps) is drawn on stderr only when it is a terminal.
//
// tvc-run model.mlir --eval [--eval-tokens FILE [--eval-context N]
//         [--eval-stride S]] [--eval-inputs X.npy --eval-answers Y.npy]
//         [--json]
//
// evaluates the model's full-sequence entry point (lib/Driver/Eval.h):
// perplexity on a token file (a 1-D int64/int32 .npy, or any other file
// read as bytes = token ids 0..255) in windows of N tokens every S, and
// teacher-forced task accuracy on prompts X [N, T] whose last A positions
// are the answers Y [N, A]. It prints a table, or with --json one JSON
// object; a progress bar is drawn on stderr when it is a terminal.
//
// tvc-run libmodel.so --inputs DIR [--outputs DIR] [--expected DIR]
//
// loads a library made by `tvc-compile --emit=lib` instead of compiling:
// its forward entry point runs once on the inputs, the same way an emitted
// executable's `--inputs` does (runtime/tools/Evaluate.h); the weights are
// embedded or in libmodel.so.weights, which a library with an offload plan
// reads through its own executor (tvc_model_offload_open) unless
// --no-offload (--offload-stats prints the executor's counters).
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"
#include "frontends/onnx/TensorProtoIO.h"
#include "lib/Driver/Bench.h"
#include "lib/Driver/CompileModel.h"
#include "lib/Driver/Eval.h"
#include "lib/Driver/JitModel.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/SafeTensors.h"
#include "lib/Support/TensorCompare.h"
#include "passes/Transforms/Passes.h"
#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_offload.h"
#include "runtime/tools/Evaluate.h"
#include "runtime/tools/WeightsFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>

using namespace mlir;
using namespace mlir::tvc;

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-run options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir | model.mlirbc | "
                                               "libmodel.so>"),
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

static cl::opt<std::string> precision(
    "precision",
    cl::desc("Convert the model first, as tvc-compile does "
             "(tvc-convert-precision, docs/Precision.md): fp32, bf16 or fp16 "
             "matrices, or keep them as stored; activations become fp32. "
             "Default: run the module as typed"),
    cl::cat(category));

static cl::opt<std::string> expectedDir(
    "expected",
    cl::desc("Directory of expected output_N.pb to compare the results with"),
    cl::value_desc("dir"), cl::cat(category));
static cl::opt<double> relativeTolerance(
    "rtol",
    cl::desc("Relative tolerance per element: |got - want| <= atol + "
             "rtol * |want| (default 1e-3, as ONNX's backend tests)"),
    cl::init(1e-3), cl::cat(category));
static cl::opt<double>
    absoluteTolerance("atol",
                      cl::desc("Absolute tolerance per element "
                               "(default 1e-7)"),
                      cl::init(1e-7), cl::cat(category));
static cl::opt<double> scaledTolerance(
    "max-error-scale",
    cl::desc("Instead of rtol/atol: max |got - want| <= S * max |want| per "
             "output (e.g. 1e-4 for logits)"),
    cl::value_desc("S"), cl::init(0), cl::cat(category));

static cl::opt<int64_t> decodeSteps(
    "decode-steps",
    cl::desc("Run the last N positions as KV-cached decode steps after a "
             "prefill of the others (derives prefill/decode entry points)"),
    cl::value_desc("N"), cl::init(0), cl::cat(category));
static cl::opt<int64_t> prefillChunk(
    "prefill-chunk",
    cl::desc("Run the prefill K tokens per call, each after the cached ones "
             "(derives prefill/decode entry points; 0: one call)"),
    cl::value_desc("K"), cl::init(0), cl::cat(category));
static cl::opt<int64_t> maxSeqLen(
    "max-seq-len",
    cl::desc("KV cache capacity for --decode-steps (default: the input "
             "length)"),
    cl::value_desc("C"), cl::init(0), cl::cat(category));

static cl::opt<int> numThreads(
    "num-threads",
    cl::desc("Threads of the CPU kernels, the caller included (default: one "
             "per core)"),
    cl::value_desc("N"), cl::init(0), cl::cat(category));

static cl::opt<bool> noOffload(
    "no-offload",
    cl::desc("A library with an offload plan: map its whole weights file "
             "instead of opening its offload executor"),
    cl::cat(category));
static cl::opt<bool> offloadStats(
    "offload-stats",
    cl::desc("A library with an offload plan: print its executor's counters "
             "to stderr after the run"),
    cl::cat(category));

static cl::OptionCategory benchCategory("tvc-run --bench options");
static cl::opt<bool>
    bench("bench",
          cl::desc("Time prefill and decode on synthetic tokens instead of "
                   "evaluating --inputs (derives the KV-cached entry points)"),
          cl::cat(benchCategory));
static cl::list<int64_t>
    prefillTokens("prefill-tokens",
                  cl::desc("Prompt lengths to time prefill at (default 128)"),
                  cl::value_desc("T,..."), cl::CommaSeparated,
                  cl::cat(benchCategory));
static cl::list<int64_t> pastLengths(
    "past", cl::desc("Cached tokens to time a decode step at (default 128)"),
    cl::value_desc("P,..."), cl::CommaSeparated, cl::cat(benchCategory));
static cl::opt<int64_t>
    repeatCount("repeat",
                cl::desc("Timed runs per measurement, after one warm-up "
                         "(default 10)"),
                cl::value_desc("N"), cl::init(10), cl::cat(benchCategory));
static cl::opt<uint64_t>
    benchSeed("seed", cl::desc("Seed of the synthetic token ids (default 0)"),
              cl::value_desc("S"), cl::init(0), cl::cat(benchCategory));
static cl::opt<bool>
    printJson("json", cl::desc("With --bench or --eval: print one JSON object"),
              cl::cat(benchCategory));

static cl::OptionCategory evalCategory("tvc-run --eval options");
static cl::opt<bool> evalMode(
    "eval",
    cl::desc("Measure perplexity (--eval-tokens) and/or task accuracy "
             "(--eval-inputs, --eval-answers) instead of evaluating --inputs"),
    cl::cat(evalCategory));
static cl::opt<std::string> evalTokens(
    "eval-tokens",
    cl::desc("Token file for perplexity: a 1-D int64/int32 .npy array, or "
             "any other file read as bytes (ids 0..255)"),
    cl::value_desc("file"), cl::cat(evalCategory));
static cl::opt<int64_t> evalContext(
    "eval-context",
    cl::desc("Tokens per perplexity window (default: the longest sequence "
             "the model takes)"),
    cl::value_desc("N"), cl::init(0), cl::cat(evalCategory));
static cl::opt<int64_t> evalStride(
    "eval-stride",
    cl::desc("Tokens between window starts; each window scores only the "
             "tokens the previous one did not (default: the context)"),
    cl::value_desc("S"), cl::init(0), cl::cat(evalCategory));
static cl::opt<std::string> evalInputs(
    "eval-inputs",
    cl::desc("Task prompts X [N, T] (int64/int32 .npy), answers included"),
    cl::value_desc("X.npy"), cl::cat(evalCategory));
static cl::opt<std::string> calibrateOut(
    "calibrate",
    cl::desc("With --eval: also record the L2 norm of every input channel of "
             "each dense linear over the evaluated data and write them, one "
             "f32 vector per weight global, to this safetensors file (the "
             "calibration of tvc-prune score=activation)"),
    cl::value_desc("file"), cl::cat(evalCategory));
static cl::opt<std::string> evalAnswers(
    "eval-answers",
    cl::desc("Expected ids Y [N, A] of the last A positions of each prompt"),
    cl::value_desc("Y.npy"), cl::cat(evalCategory));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-run") << message << "\n";
  return 1;
}

namespace {

/// A one-line progress bar on stderr, redrawn in place; only when stderr
/// is a terminal, so that logs and tests see nothing.
void showProgress(int64_t done, int64_t total, llvm::StringRef what) {
  if (!llvm::sys::Process::StandardErrIsDisplayed())
    return;
  constexpr int64_t width = 24;
  int64_t filled = total > 0 ? width * done / total : width;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  llvm::errs() << "\r\033[K[" << bar << "] " << done << "/" << total;
  if (done < total)
    llvm::errs() << " " << what;
  else
    llvm::errs() << "\r\033[K";
  llvm::errs().flush();
}

/// Positions [begin, end) along dim 1 of a [B, T, ...] tensor.
HostTensor sliceSequence(const HostTensor &tensor, int64_t begin, int64_t end) {
  HostTensor slice = tensor;
  int64_t batch = tensor.shape[0], length = tensor.shape[1];
  size_t row = getElementSize(tensor.elementType);
  for (size_t dim = 2; dim < tensor.shape.size(); ++dim)
    row *= tensor.shape[dim];
  slice.shape[1] = end - begin;
  slice.bytes.resize(batch * (end - begin) * row);
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(slice.bytes.data() + b * (end - begin) * row,
                tensor.bytes.data() + (b * length + begin) * row,
                (end - begin) * row);
  return slice;
}

/// Appends `part` to `whole` along dim 1 (both [B, T, ...]).
void appendSequence(HostTensor &whole, const HostTensor &part) {
  if (whole.shape.empty()) {
    whole = part;
    return;
  }
  int64_t batch = whole.shape[0];
  size_t wholeRow = whole.bytes.size() / batch;
  size_t partRow = part.bytes.size() / batch;
  std::vector<char> bytes(whole.bytes.size() + part.bytes.size());
  for (int64_t b = 0; b < batch; ++b) {
    std::memcpy(bytes.data() + b * (wholeRow + partRow),
                whole.bytes.data() + b * wholeRow, wholeRow);
    std::memcpy(bytes.data() + b * (wholeRow + partRow) + wholeRow,
                part.bytes.data() + b * partRow, partRow);
  }
  whole.bytes = std::move(bytes);
  whole.shape[1] += part.shape[1];
}

/// Prefill of the first T - steps positions, then one decode step per
/// remaining position (teacher forcing); results concatenated along the
/// sequence.
llvm::Expected<std::vector<HostTensor>>
runPrefillAndDecode(JitModel &model, llvm::StringRef base,
                    const std::vector<HostTensor> &inputs, int64_t length,
                    int64_t steps, int64_t chunk) {
  std::string prefillName = (base + "_prefill").str();
  std::string decodeName = (base + "_decode").str();
  llvm::Expected<const EntrySignature *> prefill = model.findEntry(prefillName);
  if (!prefill)
    return prefill.takeError();
  // Arguments: the model's inputs, past_len, then the zeroed caches.
  const EntrySignature &signature = **prefill;
  std::vector<HostTensor> caches;
  for (size_t index = inputs.size() + 1; index < signature.inputs.size();
       ++index) {
    RankedTensorType type = signature.inputs[index];
    HostTensor cache;
    cache.name = signature.inputNames[index];
    cache.elementType = getOnnxElementType(type.getElementType());
    cache.shape.assign(type.getShape().begin(), type.getShape().end());
    cache.bytes.assign(
        cache.getNumElements() * getElementSize(cache.elementType), 0);
    caches.push_back(std::move(cache));
  }
  auto isSequence = [&](const HostTensor &tensor) {
    return tensor.shape.size() >= 2 && tensor.shape[1] == length;
  };
  std::vector<HostTensor> collected;
  int64_t prompt = length - steps;
  for (int64_t begin = 0; begin < length;) {
    bool prefilling = begin < prompt;
    int64_t end = !prefilling ? begin + 1
                  : chunk > 0 ? std::min(begin + chunk, prompt)
                              : prompt;
    std::vector<HostTensor> arguments;
    for (const HostTensor &input : inputs)
      arguments.push_back(isSequence(input) ? sliceSequence(input, begin, end)
                                            : input);
    HostTensor past;
    past.name = "past_len";
    past.elementType = static_cast<int32_t>(OnnxElementType::Int64);
    past.bytes.resize(sizeof(int64_t));
    std::memcpy(past.bytes.data(), &begin, sizeof(int64_t));
    arguments.push_back(std::move(past));
    for (HostTensor &cache : caches)
      arguments.push_back(std::move(cache));
    auto outputs = model.run(prefilling ? prefillName : decodeName, arguments);
    if (!outputs)
      return outputs.takeError();
    for (size_t index = 0; index < caches.size(); ++index)
      caches[index] = std::move(arguments[inputs.size() + 1 + index]);
    if (collected.empty())
      collected.resize(outputs->size());
    for (auto [index, output] : llvm::enumerate(*outputs)) {
      if (output.shape.size() >= 2)
        appendSequence(collected[index], output);
      else
        collected[index] = std::move(output);
    }
    begin = end;
    if (begin > prompt)
      showProgress(begin - prompt, steps, "decode steps");
  }
  return collected;
}

/// --bench: derive decode from `function`, compile with kernel profiling,
/// time prefill and decode, print the report.
int runBenchMode(OwningOpRef<ModuleOp> module, func::FuncOp function,
                 llvm::StringRef baseDir) {
  if (!function)
    return fail("--bench needs one public function to derive prefill and "
                "decode from; choose it with --entry");
  BenchOptions options;
  options.base = function.getSymName().str();
  options.repeat = repeatCount;
  options.seed = benchSeed;
  options.prefillTokens.assign(prefillTokens.begin(), prefillTokens.end());
  options.pastLengths.assign(pastLengths.begin(), pastLengths.end());
  if (options.prefillTokens.empty())
    options.prefillTokens = {128};
  if (options.pastLengths.empty())
    options.pastLengths = {128};
  if (options.repeat < 1)
    return fail("--repeat must be at least 1");
  for (int64_t tokens : options.prefillTokens)
    if (tokens < 1)
      return fail("--prefill-tokens must be at least 1, got " +
                  llvm::Twine(tokens));
  for (int64_t past : options.pastLengths)
    if (past < 0)
      return fail("--past must not be negative, got " + llvm::Twine(past));

  for (auto [index, type] : llvm::enumerate(function.getArgumentTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    auto name = function.getArgAttrOfType<StringAttr>(index, "tvc.name");
    std::string inputName =
        name ? name.str() : "input_" + std::to_string(index);
    if (!tensor || tensor.getRank() < 2 || !tensor.isDynamicDim(1))
      return fail("--bench: input '" + inputName + "' of @" + options.base +
                  " has no dynamic sequence dimension (dim 1)");
    options.inputs.push_back({inputName, tensor});
  }
  auto logits = function.getNumResults() > 0
                    ? dyn_cast<RankedTensorType>(function.getResultTypes()[0])
                    : RankedTensorType();
  if (!logits || logits.getRank() < 1 ||
      logits.isDynamicDim(logits.getRank() - 1))
    return fail("--bench: the first result of @" + options.base +
                " must be logits with a static vocabulary (last) dimension");
  options.vocab = logits.getDimSize(logits.getRank() - 1);

  // The cache holds the longest prompt, or P cached tokens plus the step.
  int64_t needed = 0;
  for (int64_t tokens : options.prefillTokens)
    needed = std::max(needed, tokens);
  for (int64_t past : options.pastLengths)
    needed = std::max(needed, past + 1);
  int64_t capacity = maxSeqLen > 0 ? maxSeqLen.getValue() : needed;
  if (capacity < needed)
    return fail("--max-seq-len " + llvm::Twine(capacity) +
                " is too small for the benchmark: it needs " +
                llvm::Twine(needed) + " positions");
  int64_t positionRows = 0;
  function.walk([&](LearnedPositionsOp op) {
    positionRows = op.getTable().getType().getDimSize(0);
  });
  if (positionRows > 0 && needed > positionRows)
    return fail("--bench needs " + llvm::Twine(needed) +
                " positions, more than the model's learned position table (" +
                llvm::Twine(positionRows) + ")");

  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  int threads = 0;
  tvc_runtime_get_num_threads(&threads);

  if (llvm::sys::Process::StandardErrIsDisplayed())
    llvm::errs() << "compiling @" << options.base << "_prefill and @"
                 << options.base << "_decode ...";
  auto start = std::chrono::steady_clock::now();
  auto derivedDecode =
      module->lookupSymbol<func::FuncOp>(options.base + "_decode");
  if (derivedDecode &&
      module->lookupSymbol<func::FuncOp>(options.base + "_prefill")) {
    // Derived already (e.g. before tvc-plan-offload): time them as they are.
    auto existing =
        derivedDecode->getAttrOfType<IntegerAttr>("tvc.kv_cache_capacity");
    if (existing && existing.getInt() < needed)
      return fail("--bench needs " + llvm::Twine(needed) +
                  " positions; the model's derived entry points hold " +
                  llvm::Twine(existing.getInt()));
    if (existing)
      capacity = existing.getInt();
  } else {
    PassManager pm(module->getContext());
    TvcDeriveDecodeOptions deriveOptions;
    deriveOptions.entry = options.base;
    deriveOptions.maxSeqLen = capacity;
    pm.addPass(createTvcDeriveDecode(deriveOptions));
    if (failed(pm.run(*module)))
      return fail("cannot derive the decode entry points");
  }
  // Only the derived entry points run: compile nothing else.
  function.erase();
  JitOptions jitOptions;
  jitOptions.profileKernels = true;
  auto model = JitModel::compile(std::move(module), baseDir, jitOptions);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  double compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();

  options.profiled = true;
  options.progress = showProgress;
  llvm::Expected<BenchReport> report = runBench(**model, options);
  if (!report)
    return fail(llvm::toString(report.takeError()));
  report->compileMs = compileMs;
  report->weightsBytes = (*model)->getWeightsBytes();
  report->threads = threads;
  report->cacheCapacity = capacity;
  if (printJson)
    llvm::outs() << llvm::formatv("{0:2}", benchReportToJson(*report)) << "\n";
  else
    printBenchTable(*report, llvm::outs());
  return 0;
}

/// --calibrate: the norms of every dense linear's input channels over what
/// --eval ran, one F32 [in] tensor per weight global, written atomically.
int writeCalibration(JitModel &model) {
  std::vector<LinearInputStats> stats = model.takeLinearInputStats();
  if (stats.empty())
    return fail("--calibrate: the model ran no dense linear with a weight "
                "global, so there is nothing to calibrate");
  std::vector<std::vector<float>> norms;
  std::vector<TensorToWrite> tensors;
  norms.reserve(stats.size());
  uint64_t rows = 0;
  for (const LinearInputStats &weight : stats) {
    std::vector<float> &norm = norms.emplace_back();
    for (double sum : weight.sumSquares)
      norm.push_back(static_cast<float>(std::sqrt(sum)));
    rows = std::max(rows, weight.rows);
    tensors.push_back({weight.weight,
                       DType::F32,
                       {static_cast<int64_t>(norm.size())},
                       {reinterpret_cast<const char *>(norm.data()),
                        norm.size() * sizeof(float)}});
  }
  if (llvm::Error error =
          writeSafeTensors(calibrateOut, tensors,
                           {{"tvc", "input-channel L2 norms per linear weight"},
                            {"rows", std::to_string(rows)}}))
    return fail("--calibrate: " + llvm::toString(std::move(error)));
  llvm::errs() << "tvc-run: calibration of " << stats.size() << " weights over "
               << rows << " rows written to " << calibrateOut << "\n";
  return 0;
}

/// --eval: compile the full-sequence entry point and measure perplexity
/// and/or task accuracy.
int runEvalMode(OwningOpRef<ModuleOp> module, func::FuncOp function,
                llvm::StringRef baseDir) {
  if (evalTokens.empty() && evalInputs.empty() && evalAnswers.empty())
    return fail("--eval needs --eval-tokens FILE (perplexity) or "
                "--eval-inputs X.npy --eval-answers Y.npy (accuracy)");
  if (evalInputs.empty() != evalAnswers.empty())
    return fail("--eval-inputs and --eval-answers go together");
  if (evalTokens.empty() && (evalContext != 0 || evalStride != 0))
    return fail("--eval-context and --eval-stride need --eval-tokens");
  if (!function)
    return fail("--eval needs one public function to evaluate; choose it "
                "with --entry");
  // Read the files first: a bad file should not wait for compilation.
  std::optional<TokenFile> tokens;
  if (!evalTokens.empty()) {
    auto file = readTokenFile(evalTokens);
    if (!file)
      return fail(llvm::toString(file.takeError()));
    tokens = std::move(*file);
  }
  std::optional<IdMatrix> prompts, answers;
  if (!evalInputs.empty()) {
    auto x = readIdMatrix(evalInputs);
    if (!x)
      return fail(llvm::toString(x.takeError()));
    auto y = readIdMatrix(evalAnswers);
    if (!y)
      return fail(llvm::toString(y.takeError()));
    prompts = std::move(*x);
    answers = std::move(*y);
  }
  std::string entryName = function.getSymName().str();
  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  EvalReport report;
  tvc_runtime_get_num_threads(&report.threads);
  JitOptions jitOptions;
  jitOptions.recordLinearInputs = !calibrateOut.empty();
  llvm::Expected<CompiledEvalModel> compiled =
      compileForEval(std::move(module), entryName, baseDir, jitOptions);
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));
  JitModel &model = *compiled->model;
  const EvalModel &eval = compiled->eval;
  report.compileMs = compiled->compileMs;
  report.model = inputPath;
  report.entry = entryName;
  report.vocab = eval.vocab;
  report.maxLength = eval.maxLength;

  if (tokens) {
    llvm::Expected<int64_t> context = resolveEvalContext(*compiled, evalContext);
    if (!context)
      return fail(llvm::toString(context.takeError()));
    int64_t stride = evalStride != 0 ? evalStride.getValue() : *context;
    report.tokensPath = evalTokens;
    report.tokensFormat = tokens->format;
    auto result = evaluatePerplexity(model, eval, tokens->ids, *context,
                                     stride, evalTokens, showProgress);
    if (!result)
      return fail(llvm::toString(result.takeError()));
    report.perplexity = *result;
  }
  if (prompts) {
    report.inputsPath = evalInputs;
    report.answersPath = evalAnswers;
    auto result = evaluateAccuracy(model, eval, *prompts, *answers,
                                   evalInputs, evalAnswers, showProgress);
    if (!result)
      return fail(llvm::toString(result.takeError()));
    report.accuracy = *result;
  }
  if (!calibrateOut.empty())
    if (int status = writeCalibration(model))
      return status;
  if (printJson)
    llvm::outs() << llvm::formatv("{0:2}", evalReportToJson(report)) << "\n";
  else
    printEvalTable(report, llvm::outs());
  return 0;
}

/// Whether `path` is an ELF file (a library from tvc-compile --emit=lib)
/// rather than MLIR.
bool isSharedLibrary(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFileSlice(path, 4, 0);
  return buffer && (*buffer)->getBuffer() == "\x7f"
                                             "ELF";
}

/// tvc-run libmodel.so --inputs DIR ...: evaluates the library's forward
/// entry point.
int runArtifactMode(const std::string &path) {
  if (bench || evalMode || decodeSteps != 0 || prefillChunk != 0 ||
      !entryName.empty() || maxSeqLen != 0 || !weightsDir.empty())
    return fail("a compiled library runs with --inputs, --outputs, --expected, "
                "tolerances, --num-threads, --no-offload and --offload-stats "
                "only (--bench, --eval, "
                "--decode-steps, --prefill-chunk, --entry, --max-seq-len and "
                "--weights-dir need a .mlir model)");
  // dlopen searches the library path for names without a slash.
  std::string name = path.find('/') == std::string::npos ? "./" + path : path;
  void *library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail("cannot load '" + path + "': " + dlerror());
  auto *manifestText =
      static_cast<const char *>(dlsym(library, "tvc_model_manifest"));
  if (!manifestText)
    return fail("'" + path +
                "' is not a tvc model library (no tvc_model_manifest; build "
                "one with tvc-compile --emit=lib)");
  ::tvc::Manifest manifest;
  std::string error;
  if (!::tvc::parseManifest(manifestText, manifest, error))
    return fail(error);
  auto forward = reinterpret_cast<::tvc::EntryFunction>(
      dlsym(library, "tvc_model_forward"));
  // The library's kernels run on its own runtime's threads.
  auto setThreads = reinterpret_cast<int (*)(int)>(
      dlsym(library, "tvc_model_set_num_threads"));
  if (numThreads != 0 && (!setThreads || setThreads(numThreads) != TVC_OK))
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  // A library with an offload plan opens its executor on the weights file
  // and the forward graph reads the weights as the plan says; otherwise
  // (and with --no-offload) the whole file is mapped, and the library's
  // offload calls do nothing without an open executor.
  using OffloadOpen =
      tvc_status_t (*)(const char *, const char *, int, void **);
  auto offloadOpen =
      reinterpret_cast<OffloadOpen>(dlsym(library, "tvc_model_offload_open"));
  auto offloadStats = reinterpret_cast<tvc_status_t (*)(tvc_offload_stats_t *)>(
      dlsym(library, "tvc_model_offload_stats"));
  auto offloadError = reinterpret_cast<const char *(*)()>(
      dlsym(library, "tvc_model_offload_error"));
  auto offloadClose =
      reinterpret_cast<void (*)()>(dlsym(library, "tvc_model_offload_close"));
  bool offloading = manifest.hasOffload && !noOffload && offloadOpen &&
                    offloadStats && offloadError && offloadClose;
  ::tvc::WeightsBlob weights;
  const void *blob = nullptr;
  if (offloading) {
    // A CUDA library's executor backs the blob with device memory: check
    // for a GPU that runs it first (the clear message).
    if (manifest.target == "cuda" &&
        !::tvc::checkCudaDevice(manifest.cudaChip, error))
      return fail(error);
    void *opened = nullptr;
    if (offloadOpen((path + ".weights").c_str(), nullptr, 0, &opened) != TVC_OK)
      return fail(offloadError());
    blob = opened;
  } else {
    if (const void *embedded = dlsym(library, "tvc_model_weights"))
      weights.useEmbedded(embedded);
    else if (manifest.weightsBytes > 0 &&
             !weights.mapFile(path + ".weights", manifest.weightsBytes, error))
      return fail(error);
    blob = weights.data();
  }

  // A CUDA library's entry points take device memory: the weights go to
  // the device once, and evaluateForward stages the inputs and results
  // (the library's runtime and this program's share the device's primary
  // context, so either may allocate).
  ::tvc::DeviceBuffers deviceWeights;
  ::tvc::MemorySpace space = ::tvc::MemorySpace::Host;
  if (!::tvc::placeWeights(manifest, offloading, blob, deviceWeights, space,
                           error))
    return fail(error);

  ::tvc::EvaluateOptions options;
  options.space = space;
  options.inputsDir = inputsDir;
  options.outputsDir = outputsDir;
  options.expectedDir = expectedDir;
  options.tolerance = {relativeTolerance, absoluteTolerance, scaledTolerance};
  // The library's kernels report their failures to its own runtime.
  options.kernelErrors = reinterpret_cast<::tvc::KernelErrorQuery>(
      dlsym(library, "tvc_model_kernel_error"));
  if (!options.kernelErrors)
    return fail("'" + path +
                "' does not export tvc_model_kernel_error (built by an older "
                "tvc-compile; rebuild it)");
  ::tvc::EvaluateStatus status =
      ::tvc::evaluateForward(forward, manifest, blob, options, error);
  // A weight read that failed was served from the file mapping (the
  // results are right), but the run is not what the plan promised.
  tvc_offload_stats_t counters{};
  if (offloading && offloadStats(&counters) == TVC_OK &&
      counters.io_errors > 0 && status != ::tvc::EvaluateStatus::Error) {
    error = "the library's offload executor had " +
            std::to_string(counters.io_errors) +
            " failed reads: " + offloadError();
    status = ::tvc::EvaluateStatus::Error;
  }
  if (offloadStats) {
    if (offloading)
      llvm::errs() << llvm::formatv(
          "offload: read {0} bytes of weights in {1} reads; peak resident "
          "{2} of a {3}-byte budget; {4} budget violations; {5} read "
          "errors\n",
          counters.bytes_read, counters.reads, counters.peak_resident_bytes,
          manifest.offloadBudget, counters.budget_violations,
          counters.io_errors);
    else
      llvm::errs() << "offload: off\n";
  }
  if (offloading)
    offloadClose();
  // The library stays loaded: its thread pool may still be winding down.
  if (status == ::tvc::EvaluateStatus::Error)
    return fail(error);
  return status == ::tvc::EvaluateStatus::Mismatch ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Results the compiled code returns (a prefill's logits: ~100 MB) would
  // each get fresh pages from mmap and fault them in on every call; from
  // the heap they are reused.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  cl::HideUnrelatedOptions({&category, &benchCategory, &evalCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-run: JIT-compile a tvc model for the host CPU and evaluate it\n\n"
      "  tvc-run model.mlir --inputs DIR --outputs DIR\n\n"
      "reads DIR/input_0.pb, input_1.pb, ... (ONNX TensorProto, in the "
      "entry point's\nargument order) and writes output_0.pb, ... for every "
      "result.\n\n"
      "  tvc-run model.mlir --bench [--prefill-tokens T] [--past P] "
      "[--json]\n\n"
      "times a prefill of T synthetic tokens and a decode step after P "
      "cached ones.\n\n"
      "  tvc-run model.mlir --eval --eval-tokens FILE | --eval-inputs X.npy "
      "--eval-answers Y.npy\n\n"
      "measures perplexity on a token file and/or teacher-forced task "
      "accuracy.\n\n"
      "  tvc-run libmodel.so --inputs DIR --outputs DIR\n\n"
      "runs a library made by tvc-compile --emit=lib instead of compiling.\n");
  if (bench && evalMode)
    return fail("--bench and --eval are separate runs; choose one");
  if (!evalMode &&
      (!evalTokens.empty() || !evalInputs.empty() || !evalAnswers.empty() ||
       evalContext != 0 || evalStride != 0))
    return fail("--eval-tokens, --eval-inputs, --eval-answers, --eval-context "
                "and --eval-stride need --eval");
  if (!evalMode && !calibrateOut.empty())
    return fail("--calibrate needs --eval (the data the norms are taken over)");
  if (inputsDir.empty() && !bench && !evalMode)
    return fail("--inputs DIR is required (the tensors to evaluate on)");
  if (relativeTolerance < 0 || absoluteTolerance < 0 || scaledTolerance < 0)
    return fail("tolerances must not be negative");

  if (isSharedLibrary(inputPath))
    return runArtifactMode(inputPath);
  if (noOffload || offloadStats)
    return fail("--no-offload and --offload-stats apply to a library with an "
                "offload plan "
                "(tvc-run libmodel.so)");

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  std::string includedFile;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputPath);
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

  if (precision.getNumOccurrences()) {
    // TF32 is a CUDA GEMM mode; the JIT runs on the CPU.
    std::optional<std::string> weights = getWeightPrecision(precision);
    if (!weights || precision.getValue().empty() || precision == "tf32")
      return fail("--precision=" + precision +
                  ": expected keep, fp32, bf16 or fp16");
    if (llvm::Expected<std::string> converted =
            convertPrecision(*module, *weights, baseDir);
        !converted)
      return fail(llvm::toString(converted.takeError()));
  }

  // The inputs, in argument order of the entry point (known once parsed).
  func::FuncOp baseFunction;
  bool ambiguous = false;
  for (auto function : module->getOps<func::FuncOp>())
    if (!function.isExternal() && !function.isPrivate() &&
        (entryName.empty() || function.getSymName() == entryName.getValue())) {
      ambiguous |= static_cast<bool>(baseFunction);
      baseFunction = function;
    }
  if (ambiguous) {
    // Several public functions: a model whose prefill/decode entry points
    // are derived already has one base (X with X_prefill and X_decode).
    baseFunction = {};
    for (auto function : module->getOps<func::FuncOp>())
      if (module->lookupSymbol<func::FuncOp>(
              (function.getSymName() + "_prefill").str()) &&
          module->lookupSymbol<func::FuncOp>(
              (function.getSymName() + "_decode").str()))
        baseFunction = function;
  }
  if (bench)
    return runBenchMode(std::move(module), baseFunction, baseDir);
  if (evalMode)
    return runEvalMode(std::move(module), baseFunction, baseDir);

  if (numThreads > 0 && tvc_runtime_set_num_threads(numThreads) != TVC_OK)
    return fail("cannot use " + llvm::Twine(numThreads.getValue()) +
                " threads");
  std::vector<HostTensor> inputs;
  for (size_t index = 0; baseFunction && index < baseFunction.getNumArguments();
       ++index) {
    llvm::SmallString<256> path(inputsDir);
    llvm::sys::path::append(path, "input_" + std::to_string(index) + ".pb");
    auto tensor = readTensorProto(path);
    if (!tensor) {
      auto name = baseFunction.getArgAttrOfType<StringAttr>(index, "tvc.name");
      return fail(llvm::toString(tensor.takeError()) + " (input #" +
                  llvm::Twine(index) + " '" +
                  (name ? name.str() : "input_" + std::to_string(index)) +
                  "' of @" + baseFunction.getSymName() + ")");
    }
    auto argument =
        dyn_cast<RankedTensorType>(baseFunction.getArgumentTypes()[index]);
    if (argument)
      relabelBFloat16Bits(*tensor,
                          getOnnxElementType(argument.getElementType()));
    inputs.push_back(std::move(*tensor));
  }

  std::string entry = entryName;
  if (decodeSteps < 0)
    return fail("--decode-steps must not be negative");
  if (prefillChunk < 0)
    return fail("--prefill-chunk must not be negative");
  int64_t sequenceLength = 0;
  bool cached = decodeSteps > 0 || prefillChunk > 0;
  if (cached) {
    if (!baseFunction)
      return fail("--decode-steps and --prefill-chunk need one public "
                  "function to derive from; choose it with --entry");
    for (const HostTensor &input : inputs)
      if (input.shape.size() >= 2)
        sequenceLength = std::max(sequenceLength, input.shape[1]);
    if (sequenceLength == 0)
      return fail("--decode-steps and --prefill-chunk split a sequence, but "
                  "no input has one (a [batch, positions, ...] tensor)");
    if (decodeSteps >= sequenceLength)
      return fail("--decode-steps " + llvm::Twine(decodeSteps.getValue()) +
                  " leaves no prompt for the prefill: the inputs hold " +
                  llvm::Twine(sequenceLength) + " positions");
    PassManager pm(&context);
    TvcDeriveDecodeOptions options;
    options.entry = baseFunction.getSymName().str();
    options.maxSeqLen = maxSeqLen > 0 ? maxSeqLen.getValue() : sequenceLength;
    pm.addPass(createTvcDeriveDecode(options));
    if (failed(pm.run(*module)))
      return fail("cannot derive the decode entry points");
    entry = options.entry;
  }

  auto model = JitModel::compile(std::move(module), baseDir);
  if (!model)
    return fail(llvm::toString(model.takeError()));

  llvm::Expected<std::vector<HostTensor>> outputs =
      cached ? runPrefillAndDecode(**model, entry, inputs, sequenceLength,
                                   decodeSteps, prefillChunk)
             : (*model)->run(entry, inputs);
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
      relabelBFloat16Bits(*expected, output.elementType);
      ComparisonResult result = compareTensors(
          output, *expected,
          {relativeTolerance, absoluteTolerance, scaledTolerance});
      llvm::outs() << "output_" << index << ": " << result.message << "\n";
      mismatch |= !result.ok;
    }
  }

  if (outputsDir.empty() && expectedDir.empty()) {
    for (const HostTensor &output : *outputs) {
      llvm::outs() << output.name << ": "
                   << getElementTypeName(output.elementType) << " [";
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
