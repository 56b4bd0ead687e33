//===- PremergeCalibration.h - Measure the premerge cost model --*- C++ -*-===//
//
// What `tvc-calibrate` measures on the machine it runs on, through the
// runtime's CPU kernels, for the structured-FFN cost model
// (passes/Transforms/PremergeCostModel.h): the decode bandwidth (a GEMV on
// weights not in any cache), dense GEMM rates on a grid of shapes, the
// block-diagonal kernel's rate, and the per-call overhead fitted to dense
// against low-rank pairs at decode; then, as a check, the same pairs at
// prefill; and the table of what it found.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_PREMERGECALIBRATION_H
#define TVC_LIB_DRIVER_PREMERGECALIBRATION_H

#include "passes/Transforms/PremergeCostModel.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::tvc {

struct CalibrationOptions {
  /// Threads of the CPU kernels, the calling one included; 0: the
  /// runtime's default (one per hardware thread).
  int threads = 0;
  /// Tiny shapes and a few milliseconds per measurement: checks the
  /// command end to end (tests), its figures mean nothing.
  bool quick = false;
};

/// One measurement of a low-rank pair against its dense matrix.
struct CalibrationPair {
  int64_t rows, out, in, rank;
  double denseUs, factoredUs;
};

struct CalibrationResult {
  premerge::CpuCosts costs;
  /// The threads the kernels ran on.
  int threads = 0;
  /// A lone warm 1 x 8 x 8 linear call: the least a call costs.
  double warmCallUs = 0;
  /// Decode pairs (weights cold), which the overhead is fitted to, and
  /// prefill pairs (weights warm), a check of the GEMM grid.
  std::vector<CalibrationPair> decodePairs, prefillPairs;
  /// Of each, those whose faster form the calibrated model predicts; of
  /// the prefill pairs, also those the model with one GEMM rate (the
  /// grid's at 128 x 768 x 768) predicts.
  int decodePredicted = 0, prefillPredicted = 0, prefillPredictedOneRate = 0;
  double seconds = 0;
};

/// Measures the cost model's constants, a line on `progress` per step.
llvm::Expected<CalibrationResult>
calibratePremergeCosts(const CalibrationOptions &options,
                       llvm::raw_ostream &progress);

/// Of `pairs`, those whose faster form the model with `costs` predicts.
int countPredictedPairs(const premerge::CpuCosts &costs,
                        const std::vector<CalibrationPair> &pairs);

/// The per-call overhead fitted to decode `pairs`: of the candidates from
/// `warmCallUs` up in steps of 2^(1/4) (to 1024 times it), those that
/// predict the faster form of the most pairs, and of these the one nearest
/// (in log) the least-squares fit of the times themselves (each time t of
/// c calls predicted as c x overhead + the model's time without overhead
/// under `measured`, relative errors squared). The order is what the
/// overhead decides; the times pick a value within the range that gets it
/// right.
double fitCallOverhead(const premerge::CpuCosts &measured,
                       const std::vector<CalibrationPair> &pairs,
                       double warmCallUs);

/// The constants and the GEMM grid as a table.
void printCalibration(const CalibrationResult &result, llvm::raw_ostream &os);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_PREMERGECALIBRATION_H
