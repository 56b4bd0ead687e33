//===- BenchUtils.h - Timing and data of the kernel benchmarks -*- C++ -*-===//
//
// Shared by tvc-kernel-bench, tvc-premerge-bench and tvc-calibrate
// (lib/Driver/PremergeCalibration.cpp): interleaved median timing, so that
// the forms compared see the same load on a shared machine, and weight
// buffers that stay cold.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_BENCHUTILS_H
#define TVC_RUNTIME_KERNELS_CPU_BENCHUTILS_H

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace tvc::bench {

inline double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median milliseconds of each of `calls`, called in turn for `warmupMs`,
/// then over at least `minMs` and `minRuns` rounds. `rotate`: each round
/// starts one call later than the one before, so that no call always
/// follows the same one (with cold weights the call after the dense one
/// measured up to 1.3x faster than in the other places).
inline std::vector<double>
medianMsInterleaved(const std::vector<std::function<void()>> &calls,
                    size_t minRuns = 5, double minMs = 400, bool rotate = false,
                    double warmupMs = 50) {
  for (double start = nowMs(); nowMs() - start < warmupMs;)
    for (const auto &call : calls)
      call();
  std::vector<std::vector<double>> times(calls.size());
  size_t round = 0;
  for (double start = nowMs();
       times[0].size() < minRuns || nowMs() - start < minMs; ++round)
    for (size_t place = 0; place < calls.size(); ++place) {
      size_t i = rotate ? (place + round) % calls.size() : place;
      double t0 = nowMs();
      calls[i]();
      times[i].push_back(nowMs() - t0);
    }
  std::vector<double> medians;
  for (std::vector<double> &series : times) {
    std::nth_element(series.begin(), series.begin() + series.size() / 2,
                     series.end());
    medians.push_back(series[series.size() / 2]);
  }
  return medians;
}

/// `count` floats in [-0.5, 0.5), distinct on every page (cheap, not
/// mt19937 over 256 MiB): pages of one repeated value, or of a short
/// period, can be merged into one by the host of a virtual machine, and
/// then stay in cache, which would make "cold" weights warm.
inline std::vector<float> distinctFloats(int64_t count) {
  std::vector<float> values(count);
  uint32_t state = 1;
  for (float &value : values) {
    state = state * 1664525u + 1013904223u;
    value = float(state >> 8) * 0x1p-24f - 0.5f;
  }
  return values;
}

} // namespace tvc::bench

#endif // TVC_RUNTIME_KERNELS_CPU_BENCHUTILS_H
