//===- PremergeCalibration.cpp - Measure the premerge cost model ----------===//
//
// The measurements behind tvc-calibrate. Every time is the median of calls
// repeated for a fixed budget after a warm-up; alternatives compared with
// each other (a dense matrix and its low-rank pair) are called in turn so
// both see the same load on a shared machine. Every call but the lone
// warm one reads its weights from memory (a pool twice the last-level
// cache, a different window each call), as a model's successive layers
// do, at decode and at prefill alike.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/PremergeCalibration.h"

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/BenchUtils.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include <unistd.h>

using namespace mlir::tvc;
using premerge::CpuCosts;

namespace {

/// How long each measurement runs.
struct Budget {
  double warmupUs, minUs;
  int minCalls;
};

/// Median microseconds of each of `calls`, called in turn for `budget`.
std::vector<double> medianUs(const std::vector<std::function<void()>> &calls,
                             const Budget &budget) {
  std::vector<double> medians = ::tvc::bench::medianMsInterleaved(
      calls, budget.minCalls, budget.minUs / 1e3, /*rotate=*/false,
      budget.warmupUs / 1e3);
  for (double &median : medians)
    median *= 1e3;
  return medians;
}

/// The first failing kernel status of a calibration run.
struct KernelStatus {
  tvc_status_t first = TVC_OK;
  void note(tvc_status_t status) {
    if (first == TVC_OK)
      first = status;
  }
};

/// Weights no cache holds: windows of a buffer larger than the caches,
/// taken in turn, so that every call reads its weights from memory, as a
/// model's successive layers do.
class ColdPool {
public:
  explicit ColdPool(int64_t bytes)
      : data(::tvc::bench::distinctFloats(bytes / 4)) {}
  /// The next `elements` floats (64-byte aligned offsets; wraps around).
  const float *take(int64_t elements) {
    // Larger than the pool: the pool grows (windows are read at once).
    if (elements > int64_t(data.size()))
      data.resize(elements);
    if (next + elements > int64_t(data.size()))
      next = 0;
    const float *window = data.data() + next;
    next += (elements + 15) / 16 * 16;
    return window;
  }

private:
  std::vector<float> data;
  int64_t next = 0;
};

/// y[m, n] = x[m, k] W^T through tvc_kernel_linear_f32; W from `pool`
/// (cold), or one copy reused (warm) without one.
struct Linear {
  int64_t m, n, k;
  ColdPool *pool;
  std::vector<float> w, x, y;
  KernelStatus *status;
  Linear(int64_t m, int64_t n, int64_t k, ColdPool *pool, KernelStatus &status)
      : m(m), n(n), k(k), pool(pool), w(pool ? 0 : n * k),
        x(::tvc::bench::distinctFloats(m * k)), y(m * n), status(&status) {}
  void run(const float *input) {
    const float *weights = pool ? pool->take(n * k) : w.data();
    tvc_linear_f32_params_t p = {input, weights, weights, y.data(), m, n, k, 0};
    status->note(tvc_kernel_linear_f32(&p));
  }
  void run() { run(x.data()); }
};

/// The shapes each step measures.
struct Plan {
  Budget budget, pairBudget;
  /// The cold pool: twice the last-level cache, at least 64 MiB.
  int64_t coldBytes;
  int64_t gemvOut, gemvIn;
  std::vector<int64_t> rows, out, in;
  /// Pairs: [4 d x d] at ranks d / 16, d / 4, d / 2, 3 d / 4, at decode
  /// and at `prefillRows`.
  std::vector<int64_t> pairWidths;
  int64_t prefillRows;
  int64_t blockRows, blocks, blockOut, blockIn;
};

/// Twice the last-level cache as the C library reports it, at least
/// 64 MiB and at most 4 GiB.
int64_t coldPoolBytes() {
  int64_t cache = 0;
  for (int name :
       {_SC_LEVEL4_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE})
    if (cache <= 0)
      cache = sysconf(name);
  return std::clamp<int64_t>(2 * cache, int64_t(64) << 20, int64_t(4) << 30);
}

Plan planFor(bool quick) {
  if (quick)
    return {{500, 2000, 3},
            {500, 2000, 3},
            int64_t(1) << 20,
            64,
            64,
            {1, 8},
            {16, 32},
            {16, 32},
            {16},
            8,
            8,
            2,
            4,
            8};
  // GPT-2-sized shapes from 256 to 3072 wide; one row (a decode
  // step's arithmetic: the model prices its cold weights by the
  // bandwidth) and prefills from a short prompt to a long one.
  return {{20e3, 100e3, 5},
          {20e3, 180e3, 9},
          coldPoolBytes(),
          3072,
          768,
          {1, 16, 128, 512},
          {256, 768, 3072},
          {256, 768, 3072},
          {32, 64, 256, 768},
          128,
          128,
          4,
          96,
          192};
}

} // namespace

int mlir::tvc::countPredictedPairs(const CpuCosts &costs,
                                   const std::vector<CalibrationPair> &pairs) {
  int predicted = 0;
  for (const CalibrationPair &pair : pairs)
    predicted += premerge::estimateLowRank(costs, pair.rows, pair.out, pair.in,
                                           pair.rank)
                     .preferMerged() == (pair.denseUs < pair.factoredUs);
  return predicted;
}

double mlir::tvc::fitCallOverhead(const CpuCosts &measured,
                                  const std::vector<CalibrationPair> &pairs,
                                  double warmCallUs) {
  CpuCosts costs = measured;
  costs.callOverheadUs = 0;
  double num = 0, den = 0;
  auto addTerm = [&](double time, int calls, double withoutOverhead) {
    num += calls * (time - withoutOverhead) / (time * time);
    den += double(calls) * calls / (time * time);
  };
  for (const CalibrationPair &pair : pairs) {
    premerge::Estimate estimate = premerge::estimateLowRank(
        costs, pair.rows, pair.out, pair.in, pair.rank);
    addTerm(pair.denseUs, 1, estimate.mergedUs);
    addTerm(pair.factoredUs, 2, estimate.factoredUs);
  }
  double leastSquares = den > 0 ? std::max(warmCallUs, num / den) : warmCallUs;
  double best = warmCallUs;
  int bestCount = -1;
  for (int step = 0; step <= 40; ++step) {
    costs.callOverheadUs = warmCallUs * std::exp2(step / 4.0);
    int count = countPredictedPairs(costs, pairs);
    double distance = std::abs(std::log(costs.callOverheadUs / leastSquares));
    if (count > bestCount ||
        (count == bestCount &&
         distance < std::abs(std::log(best / leastSquares)))) {
      best = costs.callOverheadUs;
      bestCount = count;
    }
  }
  return best;
}

llvm::Expected<CalibrationResult>
mlir::tvc::calibratePremergeCosts(const CalibrationOptions &options,
                                  llvm::raw_ostream &progress) {
  if (options.threads < 0 ||
      tvc_runtime_set_num_threads(options.threads) != TVC_OK)
    return llvm::createStringError(
        llvm::formatv("cannot run the kernels on {0} threads", options.threads)
            .str());
  CalibrationResult result;
  if (tvc_runtime_get_num_threads(&result.threads) != TVC_OK)
    return llvm::createStringError("cannot read the runtime's thread count");
  double start = ::tvc::bench::nowMs();
  Plan plan = planFor(options.quick);
  KernelStatus status;
  ColdPool pool(plan.coldBytes);
  CpuCosts &costs = result.costs;
  progress << llvm::formatv("calibrating on {0} thread{1}{2}\n", result.threads,
                            result.threads == 1 ? "" : "s",
                            options.quick ? " (quick: tiny shapes)" : "");

  {
    Linear tiny(1, 8, 8, nullptr, status);
    result.warmCallUs = medianUs({[&] { tiny.run(); }}, plan.budget)[0];
    Linear gemv(1, plan.gemvOut, plan.gemvIn, &pool, status);
    double us = medianUs({[&] { gemv.run(); }}, plan.budget)[0];
    costs.bytesPerUs = 4.0 * plan.gemvOut * plan.gemvIn / us;
    progress << llvm::formatv("  warm 1 x 8 x 8 call: {0:f3} us; cold "
                              "[{1} x {2}] GEMV: {3:f1} GB/s\n",
                              result.warmCallUs, plan.gemvOut, plan.gemvIn,
                              costs.bytesPerUs / 1e3);
  }

  premerge::GemmGrid &grid = costs.gemm;
  grid.rows = plan.rows;
  grid.out = plan.out;
  grid.in = plan.in;
  for (int64_t rows : plan.rows) {
    for (int64_t out : plan.out)
      for (int64_t in : plan.in) {
        Linear gemm(rows, out, in, &pool, status);
        double us = medianUs({[&] { gemm.run(); }}, plan.budget)[0];
        grid.flopsPerUs.push_back(2.0 * rows * out * in / us);
      }
    progress << llvm::formatv("  GEMM rates at {0} rows measured\n", rows);
  }
  costs.flopsPerUs = grid.interpolate(128, 768, 768);

  {
    int64_t weights = plan.blocks * plan.blockOut * plan.blockIn;
    std::vector<float> x = ::tvc::bench::distinctFloats(
                           plan.blockRows * plan.blocks * plan.blockIn),
                       y(plan.blockRows * plan.blocks * plan.blockOut);
    auto run = [&] {
      const float *w = pool.take(weights);
      tvc_block_diagonal_f32_params_t p = {x.data(),
                                           w,
                                           w,
                                           y.data(),
                                           plan.blockRows,
                                           plan.blocks,
                                           plan.blockOut,
                                           plan.blockIn,
                                           0};
      status.note(tvc_kernel_block_diagonal_f32(&p));
    };
    double us = medianUs({run}, plan.budget)[0];
    costs.blockDiagonalFlopsPerUs = 2.0 * plan.blockRows * weights / us;
    progress << llvm::formatv(
        "  block-diagonal {0} x {1} x [{2} x {3}]: {4:f1} GFLOP/s\n",
        plan.blockRows, plan.blocks, plan.blockOut, plan.blockIn,
        costs.blockDiagonalFlopsPerUs / 1e3);
  }

  // Pairs: the dense call against the low-rank pair, at decode and at
  // prefill.
  for (int64_t rows : {int64_t(1), plan.prefillRows})
    for (int64_t d : plan.pairWidths)
      for (int64_t rank : {d / 16, d / 4, d / 2, 3 * d / 4}) {
        int64_t out = 4 * d, in = d;
        Linear dense(rows, out, in, &pool, status),
            v(rows, rank, in, &pool, status), u(rows, out, rank, &pool, status);
        std::vector<double> us =
            medianUs({[&] { dense.run(); },
                      [&] {
                        v.run();
                        u.run(v.y.data());
                      }},
                     rows == 1 ? plan.pairBudget : plan.budget);
        (rows == 1 ? result.decodePairs : result.prefillPairs)
            .push_back({rows, out, in, rank, us[0], us[1]});
      }
  costs.callOverheadUs =
      fitCallOverhead(costs, result.decodePairs, result.warmCallUs);
  result.decodePredicted = countPredictedPairs(costs, result.decodePairs);
  result.prefillPredicted = countPredictedPairs(costs, result.prefillPairs);
  CpuCosts oneRate = costs;
  oneRate.gemm = {};
  result.prefillPredictedOneRate =
      countPredictedPairs(oneRate, result.prefillPairs);
  progress << llvm::formatv("  per-call overhead fitted to {0} decode "
                            "pairs: {1:f3} us\n",
                            result.decodePairs.size(), costs.callOverheadUs);

  if (status.first != TVC_OK)
    return llvm::createStringError(
        llvm::formatv("a kernel call failed (status {0})", int(status.first))
            .str());
  result.seconds = (::tvc::bench::nowMs() - start) / 1e3;
  return result;
}

void mlir::tvc::printCalibration(const CalibrationResult &result,
                                 llvm::raw_ostream &os) {
  const CpuCosts &costs = result.costs;
  os << llvm::formatv("{0,-36} {1,12}\n", "quantity", "value");
  os << llvm::formatv("{0,-36} {1,12:f3} us\n", "per-call overhead (fitted)",
                      costs.callOverheadUs);
  os << llvm::formatv("{0,-36} {1,12:f3} us\n", "warm 1 x 8 x 8 call",
                      result.warmCallUs);
  os << llvm::formatv("{0,-36} {1,12:f1} GB/s\n", "decode bandwidth (cold)",
                      costs.bytesPerUs / 1e3);
  os << llvm::formatv("{0,-36} {1,12:f1} GFLOP/s\n", "block-diagonal rate",
                      costs.blockDiagonalFlopsPerUs / 1e3);
  auto ofPairs = [](int predicted, size_t pairs) {
    return std::to_string(predicted) + " of " + std::to_string(pairs);
  };
  os << llvm::formatv(
      "{0,-36} {1,12}\n", "decode pairs predicted",
      ofPairs(result.decodePredicted, result.decodePairs.size()));
  os << llvm::formatv(
      "{0,-36} {1,12}\n", "prefill pairs predicted",
      ofPairs(result.prefillPredicted, result.prefillPairs.size()));
  os << llvm::formatv(
      "{0,-36} {1,12}\n", "  with one GEMM rate",
      ofPairs(result.prefillPredictedOneRate, result.prefillPairs.size()));
  const premerge::GemmGrid &grid = costs.gemm;
  os << "\nGEMM GFLOP/s (rows x out x in)\n";
  os << llvm::formatv("{0,-16}", "rows, out");
  for (int64_t in : grid.in)
    os << llvm::formatv("{0,10}", "in=" + std::to_string(in));
  os << "\n";
  for (size_t r = 0; r < grid.rows.size(); ++r)
    for (size_t o = 0; o < grid.out.size(); ++o) {
      os << llvm::formatv("{0,-16}", std::to_string(grid.rows[r]) + ", " +
                                         std::to_string(grid.out[o]));
      for (size_t i = 0; i < grid.in.size(); ++i)
        os << llvm::formatv("{0,10:f1}", grid.at(r, o, i) / 1e3);
      os << "\n";
    }
  CpuCosts oneRate = costs;
  oneRate.gemm = {};
  for (const auto *pairs : {&result.decodePairs, &result.prefillPairs}) {
    bool decode = pairs == &result.decodePairs;
    os << (decode ? "\ndecode pairs (weights from memory)\n"
                  : "\nprefill pairs (weights from memory)\n");
    os << llvm::formatv("{0,-6}{1,-12}{2,6}{3,12}{4,12}{5,8}", "rows",
                        "[out x in]", "rank", "dense us", "pair us", "model")
       << (decode ? "\n" : "  one rate\n");
    for (const CalibrationPair &pair : *pairs) {
      auto choice = [&](const CpuCosts &model) {
        return premerge::estimateLowRank(model, pair.rows, pair.out, pair.in,
                                         pair.rank)
                       .preferMerged()
                   ? "merge"
                   : "keep";
      };
      os << llvm::formatv(
          "{0,-6}{1,-12}{2,6}{3,12:f2}{4,12:f2}{5,8}", pair.rows,
          std::to_string(pair.out) + " x " + std::to_string(pair.in), pair.rank,
          pair.denseUs, pair.factoredUs, choice(costs));
      if (!decode)
        os << llvm::formatv("{0,10}", choice(oneRate));
      os << "\n";
    }
  }
  os << llvm::formatv("\n{0:f1} s on {1} thread{2}\n", result.seconds,
                      result.threads, result.threads == 1 ? "" : "s");
}
