//===- PremergeCalibration.h - Measure the premerge cost model --*- C++ -*-===//
//
// What `tvc-calibrate` measures on the machine it runs on, through the
// runtime's CPU kernels, for the structured-FFN cost model
// (passes/Transforms/PremergeCostModel.h): the decode bandwidth (a GEMV on
// weights not in any cache), dense GEMM rates on a grid of shapes, the
// block-diagonal kernel's rate, and the per-call overhead fitted to dense
// against low-rank pairs at decode; then the table of what it found.
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

/// One decode measurement of a low-rank pair against its dense matrix.
struct CalibrationPair {
  int64_t out, in, rank;
  double denseUs, factoredUs;
};

struct CalibrationResult {
  premerge::CpuCosts costs;
  /// The threads the kernels ran on.
  int threads = 0;
  /// A lone warm 1 x 8 x 8 linear call: the least a call costs.
  double warmCallUs = 0;
  /// The decode pairs the overhead was fitted to.
  std::vector<CalibrationPair> pairs;
  /// Of `pairs`, those whose faster form the fitted model predicts.
  int pairsPredicted = 0;
  double seconds = 0;
};

/// Measures the cost model's constants, a line on `progress` per step.
llvm::Expected<CalibrationResult>
calibratePremergeCosts(const CalibrationOptions &options,
                       llvm::raw_ostream &progress);

/// The constants and the GEMM grid as a table.
void printCalibration(const CalibrationResult &result, llvm::raw_ostream &os);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_PREMERGECALIBRATION_H
