//===- Bench.h - Time a KV-cached model's prefill and decode ----*- C++ -*-===//
//
// What `tvc-run --bench` measures on a JitModel holding the prefill and
// decode entry points of tvc-derive-decode: the median time of a prefill of
// T synthetic tokens, and the median time of one decode step with P tokens
// already in the cache, plus where the time went (runtime kernels versus
// generated code) when the model was compiled with kernel profiling. The
// report prints as a table or as one JSON object.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_BENCH_H
#define TVC_LIB_DRIVER_BENCH_H

#include "lib/Driver/JitModel.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir::tvc {

/// One input of the model function before derivation (input ids,
/// positions, ...), which the benchmark fills with synthetic values.
struct BenchInput {
  std::string name;
  /// The tensor type; dim 1 is the sequence.
  RankedTensorType type;
};

struct BenchOptions {
  /// The derived entry points are `<base>_prefill` and `<base>_decode`.
  std::string base;
  /// The model function's inputs, in order (before past_len and caches).
  std::vector<BenchInput> inputs;
  /// Token ids are drawn uniformly from [0, vocab).
  int64_t vocab = 0;
  /// Prompt lengths T to time prefill at, and cache fills P to time decode
  /// at (one entry each at least).
  std::vector<int64_t> prefillTokens;
  std::vector<int64_t> pastLengths;
  /// Timed runs per measurement, after one warm-up run.
  int64_t repeat = 10;
  /// Seed of the synthetic token ids.
  uint64_t seed = 0;
  /// Whether the model was compiled with JitOptions::profileKernels.
  bool profiled = false;
  /// Called before every run with (runs done, runs in all, what runs next).
  std::function<void(int64_t, int64_t, llvm::StringRef)> progress;
};

/// The per-run average of a KernelProfile over a measurement.
struct BenchShares {
  double totalMs = 0, linearMs = 0, attentionMs = 0, copyMs = 0;
  double allocations = 0, allocatedBytes = 0;
};

/// One measurement: prefill of `length` tokens, or one decode step after
/// `length` cached tokens.
struct BenchMeasurement {
  int64_t length = 0;
  std::vector<double> runsMs;
  double medianMs = 0;
  BenchShares shares;
};

struct BenchReport {
  std::string base;
  int64_t cacheCapacity = 0;
  int64_t repeat = 0;
  int threads = 0;
  bool profiled = false;
  double compileMs = 0;
  uint64_t weightsBytes = 0;
  /// ru_maxrss: the process's peak resident set, compilation included.
  uint64_t peakRssBytes = 0;
  /// The resident set after the runs (/proc/self/statm; 0 if unknown).
  uint64_t rssBytes = 0;
  std::vector<BenchMeasurement> prefill, decode;
};

/// Runs the measurements of `options` on `model` (whose compile time,
/// weights, threads and capacity the caller fills in). Caches come from the
/// prefill entry point's signature.
llvm::Expected<BenchReport> runBench(JitModel &model,
                                     const BenchOptions &options);

/// The report as a human-readable table.
void printBenchTable(const BenchReport &report, llvm::raw_ostream &os);

/// The report as one JSON object (times in ms, sizes in bytes).
llvm::json::Value benchReportToJson(const BenchReport &report);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_BENCH_H
