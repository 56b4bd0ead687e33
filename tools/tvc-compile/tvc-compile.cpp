//===- tvc-compile.cpp - Compile a tvc model to a native artifact ---------===//
//
// tvc-compile model.mlir --target=cpu [--cpu=x86-64-v3] -o model
//             [--emit=exe|lib|obj|llvm|mlir] [--max-seq-len=N]
//             [--max-prefill-tokens=K] [--embed-weights]
//
// Derives KV-cached prefill/decode entry points, lowers for the CPU, and
// writes an executable linked with the tvc runtime (default), a shared
// library with the C ABI of runtime/api/tvc_model.h (--emit=lib), an object
// file, LLVM IR or the lowered MLIR. The weights go to `<output>.weights`
// beside the artifact (mapped at run time), or into the artifact itself
// with --embed-weights. Every output is written whole or not at all, and
// never over the input.
//
//===----------------------------------------------------------------------===//

#include "tools/tvc-compile/LinkConfig.h"

#include "lib/Driver/CompileModel.h"
#include "lib/Registration/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tvc;

namespace cl = llvm::cl;

static cl::OptionCategory category("tvc-compile options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir | model.mlirbc>"),
                                      cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output file"),
                                       cl::value_desc("file"),
                                       cl::cat(category));
static cl::opt<std::string> target(
    "target",
    cl::desc("Target: cpu (default) or cuda (host code for this machine's "
             "CPU, kernels for an NVIDIA GPU; see docs/CudaTarget.md)"),
    cl::init("cpu"), cl::cat(category));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("Numeric precision: fp32 (matrices in fp32), tf32 (CUDA: fp32 "
             "matrices, GEMM inputs rounded to TF32 on tensor cores), bf16 or "
             "fp16 (linear, LM-head and embedding matrices stored in 16 bits, "
             "half the bytes; everything computes in fp32). Default: matrices "
             "as the checkpoint stores them (a bf16 checkpoint stays bf16)"),
    cl::init(""), cl::cat(category));
static cl::opt<int> sm("sm",
                       cl::desc("CUDA: the GPU architecture, as sm_XX "
                                "(80: A100, 90: H100/H200; default 90)"),
                       cl::init(90), cl::cat(category));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to compile for: native (default, the host's CPU and "
                 "features), x86-64-v2, x86-64-v3, x86-64-v4, znver3, ..."),
        cl::init("native"), cl::cat(category));
static cl::opt<std::string> emit(
    "emit",
    cl::desc(
        "What to write: exe (an executable, default), lib (a "
        "shared library), obj, llvm, mlir (the lowered module), ptx (CUDA: the "
        "kernels' PTX)"),
    cl::init("exe"), cl::cat(category));
static cl::opt<int64_t>
    maxSeqLen("max-seq-len",
              cl::desc("KV cache capacity (default: the model's learned "
                       "positions table)"),
              cl::init(0), cl::cat(category));
static cl::opt<int64_t> maxPrefillTokens(
    "max-prefill-tokens",
    cl::desc("Most prompt tokens one prefill call takes, which sizes its "
             "activation arena (default: the KV cache capacity); a longer "
             "prompt runs in chunks of at most this many"),
    cl::init(0), cl::cat(category));
static cl::opt<bool> ringWindows(
    "kv-ring-windows",
    cl::desc("Sliding-window (and window + global) layers keep a ring of "
             "`window` (+ `global`) KV-cache rows instead of the whole "
             "context (default on)"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> kvRecompute(
    "kv-recompute",
    cl::desc("Cache each attention's input instead of its keys and values "
             "and recompute them every call (tvc-recompute-kv; GPT-2-style "
             "attention: half the cache bytes): none (default), all, or "
             "auto (with --offload-budget: when the offload plan predicts a "
             "faster decode step with it, or only it fits the budget)"),
    cl::value_desc("none|all|auto"), cl::cat(category));
static cl::opt<bool> embedWeights(
    "embed-weights",
    cl::desc("Put the weights in the artifact (a read-only section) instead "
             "of <output>.weights"),
    cl::cat(category));
static cl::opt<std::string> weightsDir(
    "weights-dir",
    cl::desc("Directory relative weight files resolve against (default: the "
             "model's directory)"),
    cl::value_desc("dir"), cl::cat(category));

static cl::opt<std::string> premerge(
    "premerge",
    cl::desc("Structured linears (low-rank, BlockDense, LoRA): keep the "
             "factors, merge them, or cost (each entry point the form the "
             "CPU cost model predicts faster; tvc-premerge-ffn "
             "workload=auto). Default: as the model has them"),
    cl::value_desc("keep|merge|cost"), cl::cat(category));
static cl::opt<std::string> premergeCalibration(
    "premerge-calibration",
    cl::desc("With --premerge=cost: the target's costs from this file "
             "(written by tvc-calibrate on the target) instead of the "
             "built-in constants"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> offloadBudget(
    "offload-budget",
    cl::desc("Plan offload under this budget for the weights and KV caches "
             "(N, N{KiB,MiB,GiB,KB,MB,GB} or P% of them; tvc-plan-offload): "
             "the executable streams the weights that do not fit from its "
             "weights file and the KV caches from a spill file (CUDA: the "
             "budget is device memory; streamed weights and KV caches are "
             "copied from pinned host memory)"),
    cl::value_desc("bytes"), cl::cat(category));
static cl::opt<std::string>
    offloadPlanner("offload-planner", cl::desc("cost (default) or reference"),
                   cl::init("cost"), cl::cat(category));
static cl::opt<std::string> offloadKv(
    "offload-kv",
    cl::desc("With --offload-budget: plan (default: the planner places the "
             "KV caches too) or resident (they stay in memory, counted in "
             "the budget)"),
    cl::init("plan"), cl::cat(category));
static cl::opt<bool> offloadAttention(
    "offload-attention",
    cl::desc("With --offload-budget and --target=cuda: the planner may keep "
             "a KV cache in host memory and run its attention on the host "
             "CPU while the GPU runs the rest (attention offload)"),
    cl::init(false), cl::cat(category));
static cl::opt<std::string> offloadChunk(
    "offload-chunk",
    cl::desc("With --offload-budget: split matrices larger than this into "
             "row chunks (tvc-chunk-weights; default a quarter of the "
             "budget, 0 never)"),
    cl::value_desc("bytes"), cl::cat(category));
static cl::opt<double> offloadReadBandwidth(
    "offload-read-bandwidth",
    cl::desc("Bytes per second the executor reads from the weights file, "
             "for the planner's predictions (default 2e9; measure with the "
             "executable's --offload-calibrate)"),
    cl::init(0), cl::cat(category));
static cl::opt<int64_t> offloadKvPosition(
    "offload-kv-position",
    cl::desc("With --offload-budget: the context length (valid KV-cache "
             "rows) the planner predicts calls at (default: a full cache); "
             "what streaming or recomputing a cache costs grows with it"),
    cl::init(0), cl::cat(category));
static cl::opt<double> offloadReadOverhead(
    "offload-read-overhead",
    cl::desc("Seconds each read costs besides its bytes (default 5e-5)"),
    cl::init(-1), cl::cat(category));
static cl::opt<std::string>
    offloadReport("offload-report",
                  cl::desc("Write the offload plan as JSON to this file"),
                  cl::value_desc("file"), cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tvc-compile") << message << "\n";
  return 1;
}

/// Whether `a` and `b` name the same existing file.
static bool sameFile(llvm::StringRef a, llvm::StringRef b) {
  llvm::sys::fs::UniqueID first, second;
  return !llvm::sys::fs::getUniqueID(a, first) &&
         !llvm::sys::fs::getUniqueID(b, second) && first == second;
}

static llvm::Error writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << bytes;
    return llvm::Error::success();
  });
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tvc-compile: compile a tvc model to a native artifact\n\n"
      "  tvc-compile model.mlir -o model && ./model --prompt-ids 1,2,3\n");
  if (target != "cpu" && target != "cuda")
    return fail("--target=" + target + ": expected cpu or cuda");
  bool cuda = target == "cuda";
  if (sm.getNumOccurrences() && !cuda)
    return fail("--sm needs --target=cuda");
  if (!precision.empty() && precision != "fp32" && precision != "tf32" &&
      precision != "bf16" && precision != "fp16")
    return fail("--precision=" + precision +
                ": expected fp32, tf32, bf16 or fp16");
  if (precision == "tf32" && !cuda)
    return fail("--precision=tf32 needs --target=cuda (TF32 is a tensor-core "
                "format; the CPU computes in fp32)");
  // CUDA 13's ptxas dropped everything before sm_75; tvc's kernels are
  // built and tested for 80 and newer.
  if (cuda && (sm < 80 || sm > 121))
    return fail("--sm=" + std::to_string(sm) +
                ": expected a CUDA architecture from 80 to 121 (e.g. 80, 90)");
  EmitKind kind;
  bool link = emit == "exe" || emit == "lib";
  if (link || emit == "obj")
    kind = EmitKind::Object;
  else if (emit == "llvm")
    kind = EmitKind::Llvm;
  else if (emit == "mlir")
    kind = EmitKind::Mlir;
  else if (emit == "ptx" && cuda)
    kind = EmitKind::Ptx;
  else if (emit == "ptx")
    return fail("--emit=ptx needs --target=cuda");
  else
    return fail("--emit=" + emit +
                ": expected exe, lib, obj, llvm, mlir or (CUDA) ptx");
  if (embedWeights && (kind == EmitKind::Mlir || kind == EmitKind::Ptx))
    return fail("--embed-weights needs --emit=exe, lib, obj or llvm");
  if (maxSeqLen < 0)
    return fail("--max-seq-len must not be negative");
  if (maxPrefillTokens < 0)
    return fail("--max-prefill-tokens must not be negative");
  std::string weightsPath = outputPath + ".weights";
  if (sameFile(inputPath, outputPath) || sameFile(inputPath, weightsPath))
    return fail("the output would overwrite the input '" + inputPath + "'");

  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputPath);
  if (!buffer)
    return fail("cannot read '" + inputPath +
                "': " + buffer.getError().message());
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse '" + inputPath + "'");

  CompileOptions options;
  if (cuda) {
    options.target = TargetKind::Cuda;
    options.cudaChip = "sm_" + std::to_string(sm);
    options.cudaPrecision = precision == "tf32" ? "tf32" : "fp32";
  }
  // tvc-convert-precision's element type of the weight matrices.
  options.weightPrecision = *getWeightPrecision(precision);
  options.cpu = cpu;
  options.emit = kind;
  options.maxSeqLen = maxSeqLen;
  options.maxPrefillTokens = maxPrefillTokens;
  options.ringWindows = ringWindows;
  options.kvRecompute = kvRecompute;
  options.embedWeights = embedWeights;
  options.weightsDir = weightsDir.empty()
                           ? llvm::sys::path::parent_path(inputPath).str()
                           : weightsDir.getValue();
  if (!premerge.empty() && premerge != "keep" && premerge != "merge" &&
      premerge != "cost")
    return fail("--premerge=" + premerge + ": expected keep, merge or cost");
  if (premerge != "keep")
    options.premergePolicy = premerge;
  if (!premergeCalibration.empty() && premerge != "cost")
    return fail("--premerge-calibration needs --premerge=cost");
  options.premergeCalibration = premergeCalibration;
  options.offloadBudget = offloadBudget;
  options.offloadPlanner = offloadPlanner;
  options.offloadKv = offloadKv;
  options.offloadAttention = offloadAttention;
  options.offloadReport = offloadReport;
  options.offloadChunk = offloadChunk;
  options.offloadReadBandwidth = offloadReadBandwidth;
  options.offloadReadOverhead = offloadReadOverhead;
  options.offloadKvPosition = offloadKvPosition;
  if (offloadBudget.empty() &&
      (offloadPlanner.getNumOccurrences() || offloadKv.getNumOccurrences() ||
       offloadAttention.getNumOccurrences() || !offloadReport.empty() ||
       !offloadChunk.empty() || offloadReadBandwidth.getNumOccurrences() ||
       offloadReadOverhead.getNumOccurrences() ||
       offloadKvPosition.getNumOccurrences()))
    return fail("--offload-planner, --offload-kv, --offload-attention, "
                "--offload-chunk, "
                "--offload-read-bandwidth, "
                "--offload-read-overhead, --offload-kv-position and "
                "--offload-report need --offload-budget");
  if (offloadKvPosition.getNumOccurrences() && offloadKvPosition <= 0)
    return fail("--offload-kv-position must be positive");
  if (offloadReadBandwidth.getNumOccurrences() && !(offloadReadBandwidth > 0))
    return fail("--offload-read-bandwidth must be positive");
  if (offloadReadOverhead.getNumOccurrences() && !(offloadReadOverhead >= 0))
    return fail("--offload-read-overhead must not be negative");
  llvm::Expected<Artifact> artifact = compileModel(std::move(module), options);
  if (!artifact)
    return fail(llvm::toString(artifact.takeError()));
  for (llvm::StringRef line : llvm::split(artifact->summary, '\n'))
    if (!line.empty())
      llvm::errs() << "tvc-compile: " << line << "\n";

  if (!link) {
    if (llvm::Error error = writeFile(outputPath, artifact->text))
      return fail(llvm::toString(std::move(error)));
  } else {
    // Link the object with the runtime (and, for an executable, its main)
    // into a temporary, then move it into place.
    llvm::SmallString<128> object, linked;
    if (llvm::sys::fs::createTemporaryFile("tvc-model", "o", object) ||
        llvm::sys::fs::createUniqueFile(outputPath + ".tmp-%%%%%%", linked))
      return fail("cannot create temporary files");
    llvm::FileRemover removeObject(object), removeLinked(linked);
    if (llvm::Error error = writeFile(object, artifact->text))
      return fail(llvm::toString(std::move(error)));
    std::vector<std::string> command{TVC_LINKER, object.str().str(), "-o",
                                     linked.str().str()};
    std::string linkArguments =
        emit == "lib" ? TVC_LIB_LINK_ARGUMENTS : TVC_EXE_LINK_ARGUMENTS;
    // A library with an offload plan exports the calls that open its
    // executor (tvc_model_offload_open, runtime/api/tvc_model.h).
    if (emit == "lib" &&
        llvm::StringRef(artifact->manifest).contains("\noffload "))
      linkArguments =
          std::string(TVC_LIB_OFFLOAD_LINK_ARGUMENTS) + ";" + linkArguments;
    for (llvm::StringRef item : llvm::split(linkArguments, ';'))
      if (!item.empty())
        command.push_back(item.str());
    std::vector<llvm::StringRef> arguments(command.begin(), command.end());
    std::string message;
    int status = llvm::sys::ExecuteAndWait(TVC_LINKER, arguments, std::nullopt,
                                           {}, 0, 0, &message);
    if (status != 0)
      return fail("linking with " + llvm::Twine(TVC_LINKER) + " failed" +
                  (message.empty() ? "" : ": " + message));
    if (std::error_code error = llvm::sys::fs::rename(linked, outputPath))
      return fail("cannot write '" + outputPath + "': " + error.message());
    removeLinked.releaseFile();
  }
  if (artifact->weights) {
    if (llvm::Error error = writeWeightsFile(weightsPath, *artifact->weights))
      return fail(llvm::toString(std::move(error)));
  }
  return 0;
}
