//===- Bench.cpp - Time a KV-cached model's prefill and decode ------------===//
//
// Every measurement starts from zeroed caches, runs once untimed (warm-up:
// page faults of fresh buffers, the worker pool, caches), then times
// `repeat` runs with a steady clock around JitModel::run alone; the inputs
// are built before the clock starts. Decode at past P first fills the cache
// with an untimed prefill of P tokens, then runs the same one-token step at
// past_len = P again and again (each overwrites cache row P), so every
// timed step sees exactly P cached tokens.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/Bench.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include <sys/resource.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tvc;

namespace {

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle]
                           : (values[middle - 1] + values[middle]) / 2;
}

uint64_t getPeakRssBytes() {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  // Linux reports kilobytes.
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

uint64_t getRssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident))
    return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

HostTensor makeScalarI64(llvm::StringRef name, int64_t value) {
  HostTensor tensor;
  tensor.name = name.str();
  tensor.elementType = static_cast<int32_t>(OnnxElementType::Int64);
  tensor.bytes.resize(sizeof(int64_t));
  std::memcpy(tensor.bytes.data(), &value, sizeof(int64_t));
  return tensor;
}

/// Runs the prefill and decode entry points on synthetic inputs.
class Runner {
public:
  Runner(JitModel &model, const BenchOptions &options)
      : model(model), options(options), random(options.seed) {}

  /// Zeroed caches of the shapes the prefill entry point takes.
  llvm::Expected<std::vector<HostTensor>> makeCaches() {
    llvm::Expected<const EntrySignature *> prefill =
        model.findEntry(options.base + "_prefill");
    if (!prefill)
      return prefill.takeError();
    const EntrySignature &signature = **prefill;
    std::vector<HostTensor> caches;
    for (size_t index = options.inputs.size() + 1;
         index < signature.inputs.size(); ++index) {
      RankedTensorType type = signature.inputs[index];
      if (!type.hasStaticShape())
        return llvm::createStringError(
            llvm::formatv("cache argument #{0} of @{1} has no static shape",
                          index, signature.name)
                .str());
      HostTensor cache;
      cache.name = signature.inputNames[index];
      cache.elementType = getOnnxElementType(type.getElementType());
      cache.shape.assign(type.getShape().begin(), type.getShape().end());
      cache.bytes.assign(
          cache.getNumElements() * getElementSize(cache.elementType), 0);
      caches.push_back(std::move(cache));
    }
    return caches;
  }

  /// The model's inputs for `length` new tokens after `past` cached ones:
  /// positions count from `past`, masks are ones, other integer inputs are
  /// token ids drawn from [0, vocab).
  llvm::Expected<std::vector<HostTensor>> makeInputs(int64_t length,
                                                     int64_t past) {
    std::vector<HostTensor> tensors;
    for (const BenchInput &input : options.inputs) {
      HostTensor tensor;
      tensor.name = input.name;
      tensor.elementType = getOnnxElementType(input.type.getElementType());
      Type element = input.type.getElementType();
      if (!element.isInteger(64) && !element.isInteger(32))
        return llvm::createStringError(
            llvm::formatv("cannot synthesize input '{0}' of type {1}: the "
                          "benchmark fills integer token ids, positions and "
                          "masks",
                          input.name, input.type)
                .str());
      for (int64_t dim = 0; dim < input.type.getRank(); ++dim)
        tensor.shape.push_back(dim == 1 ? length
                               : input.type.isDynamicDim(dim)
                                   ? 1
                                   : input.type.getDimSize(dim));
      int64_t count = tensor.getNumElements();
      llvm::StringRef name = input.name;
      std::vector<int64_t> values(count);
      std::uniform_int_distribution<int64_t> token(0, options.vocab - 1);
      for (int64_t index = 0; index < count; ++index)
        values[index] = name.contains_insensitive("position")
                            ? past + index % length
                        : name.contains_insensitive("mask") ? 1
                                                            : token(random);
      size_t elementSize = getElementSize(tensor.elementType);
      tensor.bytes.resize(count * elementSize);
      for (int64_t index = 0; index < count; ++index) {
        if (elementSize == 8) {
          std::memcpy(tensor.bytes.data() + index * 8, &values[index], 8);
        } else {
          auto narrow = static_cast<int32_t>(values[index]);
          std::memcpy(tensor.bytes.data() + index * 4, &narrow, 4);
        }
      }
      tensors.push_back(std::move(tensor));
    }
    return tensors;
  }

  /// One call of `<base>_prefill` (length > 1 or past == 0) or
  /// `<base>_decode`; returns its time in milliseconds.
  llvm::Expected<double> step(int64_t length, int64_t past,
                              std::vector<HostTensor> &caches,
                              bool forcePrefill = false) {
    llvm::Expected<std::vector<HostTensor>> arguments =
        makeInputs(length, past);
    if (!arguments)
      return arguments.takeError();
    size_t firstCache = arguments->size() + 1;
    arguments->push_back(makeScalarI64("past_len", past));
    for (HostTensor &cache : caches)
      arguments->push_back(std::move(cache));
    std::string entry =
        options.base + (length == 1 && !forcePrefill ? "_decode" : "_prefill");
    auto start = std::chrono::steady_clock::now();
    llvm::Expected<std::vector<HostTensor>> outputs =
        model.run(entry, *arguments);
    auto stop = std::chrono::steady_clock::now();
    for (size_t index = 0; index < caches.size(); ++index)
      caches[index] = std::move((*arguments)[firstCache + index]);
    if (!outputs)
      return outputs.takeError();
    return std::chrono::duration<double, std::milli>(stop - start).count();
  }

private:
  JitModel &model;
  const BenchOptions &options;
  std::mt19937_64 random;
};

} // namespace

llvm::Expected<BenchReport> mlir::tvc::runBench(JitModel &model,
                                                const BenchOptions &options) {
  BenchReport report;
  report.base = options.base;
  report.repeat = options.repeat;
  report.profiled = options.profiled;
  if (options.repeat < 1)
    return llvm::createStringError("the benchmark needs at least one run");
  if (options.vocab < 1)
    return llvm::createStringError("the benchmark needs the vocabulary size");

  int64_t done = 0;
  int64_t total = options.prefillTokens.size() * (1 + options.repeat);
  for (int64_t past : options.pastLengths)
    total += (past > 0 ? 1 : 0) + 1 + options.repeat;
  auto progress = [&](const llvm::Twine &what) {
    if (options.progress)
      options.progress(done, total, what.str());
    ++done;
  };

  Runner runner(model, options);
  // Times `repeat` calls of `run` after one warm-up call.
  auto measure = [&](int64_t length, const llvm::Twine &what,
                     llvm::function_ref<llvm::Expected<double>()> run)
      -> llvm::Expected<BenchMeasurement> {
    BenchMeasurement measurement;
    measurement.length = length;
    progress(what + " (warm-up)");
    if (llvm::Expected<double> warmUp = run(); !warmUp)
      return warmUp.takeError();
    JitModel::takeKernelProfile();
    for (int64_t index = 0; index < options.repeat; ++index) {
      progress(what);
      llvm::Expected<double> time = run();
      if (!time)
        return time.takeError();
      measurement.runsMs.push_back(*time);
    }
    KernelProfile profile = JitModel::takeKernelProfile();
    double runs = static_cast<double>(options.repeat);
    BenchShares &shares = measurement.shares;
    for (double time : measurement.runsMs)
      shares.totalMs += time / runs;
    shares.linearMs = profile.linearNs / 1e6 / runs;
    shares.attentionMs = profile.attentionNs / 1e6 / runs;
    shares.copyMs = profile.copyNs / 1e6 / runs;
    shares.allocations = profile.allocations / runs;
    shares.allocatedBytes = profile.allocatedBytes / runs;
    measurement.medianMs = median(measurement.runsMs);
    return measurement;
  };

  for (int64_t tokens : options.prefillTokens) {
    auto caches = runner.makeCaches();
    if (!caches)
      return caches.takeError();
    auto measurement =
        measure(tokens, "prefill " + llvm::Twine(tokens) + " tokens", [&] {
          return runner.step(tokens, 0, *caches, /*forcePrefill=*/true);
        });
    if (!measurement)
      return measurement.takeError();
    report.prefill.push_back(std::move(*measurement));
  }

  for (int64_t past : options.pastLengths) {
    auto caches = runner.makeCaches();
    if (!caches)
      return caches.takeError();
    if (past > 0) {
      progress("fill the cache with " + llvm::Twine(past) + " tokens");
      if (auto fill = runner.step(past, 0, *caches, /*forcePrefill=*/true);
          !fill)
        return fill.takeError();
    }
    auto measurement = measure(past, "decode at past " + llvm::Twine(past),
                               [&] { return runner.step(1, past, *caches); });
    if (!measurement)
      return measurement.takeError();
    report.decode.push_back(std::move(*measurement));
  }
  if (options.progress)
    options.progress(total, total, "done");

  report.peakRssBytes = getPeakRssBytes();
  report.rssBytes = getRssBytes();
  return report;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

static std::string formatPercent(double part, double whole) {
  if (whole <= 0)
    return "-";
  return llvm::formatv("{0:f1}%", 100.0 * part / whole).str();
}

void mlir::tvc::printBenchTable(const BenchReport &report,
                                llvm::raw_ostream &os) {
  auto megabytes = [](uint64_t bytes) {
    return llvm::formatv("{0:f1} MB", bytes / 1e6).str();
  };
  os << "tvc-run --bench: @" << report.base << "_prefill / @" << report.base
     << "_decode, " << report.threads << " threads, KV cache capacity "
     << report.cacheCapacity << ", median of " << report.repeat
     << " runs after a warm-up\n";
  os << llvm::formatv("  compile         {0:f1} ms (lowering + LLVM JIT)\n",
                      report.compileMs);
  os << "  weights         " << megabytes(report.weightsBytes) << "\n";
  os << "  peak RSS        " << megabytes(report.peakRssBytes)
     << " (process, compilation included); " << megabytes(report.rssBytes)
     << " after the runs\n\n";

  os << llvm::formatv("{0,-8} {1,7} {2,6} {3,11} {4,10} {5,8} {6,10} "
                      "{7,8} {8,8} {9,11}\n",
                      "phase", "tokens", "past", "median ms", "tokens/s",
                      "linear", "attention", "copies", "other", "mallocs/run");
  auto row = [&](llvm::StringRef phase, int64_t tokens, int64_t past,
                 const BenchMeasurement &measurement) {
    const BenchShares &shares = measurement.shares;
    double other =
        shares.totalMs - shares.linearMs - shares.attentionMs - shares.copyMs;
    bool profiled = report.profiled;
    os << llvm::formatv(
        "{0,-8} {1,7} {2,6} {3,11:f2} {4,10:f1} {5,8} {6,10} {7,8} {8,8} "
        "{9,11}\n",
        phase, tokens, past, measurement.medianMs,
        measurement.medianMs > 0 ? 1000.0 * tokens / measurement.medianMs : 0.0,
        profiled ? formatPercent(shares.linearMs, shares.totalMs) : "-",
        profiled ? formatPercent(shares.attentionMs, shares.totalMs) : "-",
        profiled ? formatPercent(shares.copyMs, shares.totalMs) : "-",
        profiled ? formatPercent(other, shares.totalMs) : "-",
        profiled ? llvm::formatv("{0:f0}", shares.allocations).str() : "-");
  };
  for (const BenchMeasurement &measurement : report.prefill)
    row("prefill", measurement.length, 0, measurement);
  for (const BenchMeasurement &measurement : report.decode)
    row("decode", 1, measurement.length, measurement);
  if (report.profiled)
    os << "\nshares of the mean run time: linear = tvc_kernel_linear_f32, "
          "tvc_kernel_linear_2to4_f32, tvc_kernel_linear_bf16w_f32, "
          "tvc_kernel_linear_f16w_f32, tvc_kernel_block_diagonal_f32 and "
          "tvc_kernel_low_rank_f32, "
          "attention = tvc_kernel_attention_f32, copies = memrefCopy, other "
          "= generated code (elementwise, norms, embedding, cache writes, "
          "allocation) and the driver's copy of the results\n";
}

llvm::json::Value mlir::tvc::benchReportToJson(const BenchReport &report) {
  auto measurementToJson = [&](const BenchMeasurement &measurement,
                               bool decode) {
    const BenchShares &shares = measurement.shares;
    int64_t tokens = decode ? 1 : measurement.length;
    llvm::json::Object object{
        {"tokens", tokens},
        {"past", decode ? measurement.length : 0},
        {"median_ms", measurement.medianMs},
        {"tokens_per_s", measurement.medianMs > 0
                             ? 1000.0 * tokens / measurement.medianMs
                             : 0.0},
        {"runs_ms", llvm::json::Array(measurement.runsMs)},
    };
    if (report.profiled)
      object["kernels"] = llvm::json::Object{
          {"mean_ms", shares.totalMs},
          {"linear_ms", shares.linearMs},
          {"attention_ms", shares.attentionMs},
          {"copy_ms", shares.copyMs},
          {"other_ms", shares.totalMs - shares.linearMs - shares.attentionMs -
                           shares.copyMs},
          {"mallocs", shares.allocations},
          {"malloc_bytes", shares.allocatedBytes},
      };
    return object;
  };
  llvm::json::Array prefill, decode;
  for (const BenchMeasurement &measurement : report.prefill)
    prefill.push_back(measurementToJson(measurement, false));
  for (const BenchMeasurement &measurement : report.decode)
    decode.push_back(measurementToJson(measurement, true));
  return llvm::json::Object{
      {"entry", report.base},
      {"threads", report.threads},
      {"kv_cache_capacity", report.cacheCapacity},
      {"repeat", report.repeat},
      {"compile_ms", report.compileMs},
      {"weights_bytes", report.weightsBytes},
      {"peak_rss_bytes", report.peakRssBytes},
      {"rss_bytes", report.rssBytes},
      {"prefill", std::move(prefill)},
      {"decode", std::move(decode)},
  };
}
