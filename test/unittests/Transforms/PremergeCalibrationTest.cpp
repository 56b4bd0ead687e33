//===- PremergeCalibrationTest.cpp - Calibrated premerge costs ------------===//
//
// The calibration side of passes/Transforms/PremergeCostModel.h: the GEMM
// rate interpolated on a grid (exact at its points, linear in log2 of each
// size between them, clamped beyond), the built-in constants when there is
// no grid, calibration files read back as written, every malformed file
// refused with the field named, decisions that follow the file, and
// tvc-calibrate's fit of the per-call overhead (lib/Driver/
// PremergeCalibration.h).
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/PremergeCalibration.h"
#include "passes/Transforms/PremergeCostModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

using namespace mlir::tvc::premerge;

namespace {

/// A calibration file's text: valid fields, `overrides` replacing or
/// adding some, and the `gemm` object as JSON text.
std::string calibrationText(llvm::json::Object overrides = {},
                            llvm::StringRef gemm =
                                R"({"rows": [128], "out": [768], "in": [768],
                                    "flops_per_us": [[[156000]]]})") {
  llvm::json::Object root{{"version", 1},
                          {"target", "cpu"},
                          {"threads", 2},
                          {"call_overhead_us", 0.4},
                          {"bytes_per_us", 22000},
                          {"block_diagonal_flops_per_us", 150000},
                          {"gemm", llvm::cantFail(llvm::json::parse(gemm))}};
  for (auto &[key, value] : overrides)
    root[key] = value;
  return llvm::formatv("{0}", llvm::json::Value(std::move(root))).str();
}

std::string errorOf(const std::string &text) {
  llvm::Expected<CpuCosts> costs = parseCpuCosts(text, "test.json");
  if (costs)
    return "";
  return llvm::toString(costs.takeError());
}

GemmGrid twoByTwoByTwo() {
  // rate = 1000 (1 + r + 2 o + 4 i) at corner (r, o, i).
  GemmGrid grid{{16, 256}, {64, 1024}, {32, 512}, {}};
  for (int r = 0; r < 2; ++r)
    for (int o = 0; o < 2; ++o)
      for (int i = 0; i < 2; ++i)
        grid.flopsPerUs.push_back(1000.0 * (1 + r + 2 * o + 4 * i));
  return grid;
}

TEST(PremergeCalibration, BuiltInConstantsWithoutGrid) {
  CpuCosts costs;
  EXPECT_TRUE(costs.gemm.empty());
  EXPECT_EQ(costs.gemmFlopsPerUs(1, 8, 8), costs.flopsPerUs);
  EXPECT_EQ(costs.gemmFlopsPerUs(512, 3072, 768), costs.flopsPerUs);
  // 2 128 768 768 FLOPs at 156 GFLOP/s, compute-bound.
  EXPECT_NEAR(linearCallUs(costs, 128, 768, 768),
              0.4 + 2.0 * 128 * 768 * 768 / 156e3, 1e-9);
}

TEST(PremergeCalibration, ExactAtGridPoints) {
  GemmGrid grid = twoByTwoByTwo();
  EXPECT_DOUBLE_EQ(grid.interpolate(16, 64, 32), 1000);
  EXPECT_DOUBLE_EQ(grid.interpolate(256, 64, 32), 2000);
  EXPECT_DOUBLE_EQ(grid.interpolate(16, 1024, 32), 3000);
  EXPECT_DOUBLE_EQ(grid.interpolate(16, 64, 512), 5000);
  EXPECT_DOUBLE_EQ(grid.interpolate(256, 1024, 512), 8000);
}

TEST(PremergeCalibration, LinearInLog2BetweenPoints) {
  GemmGrid grid = twoByTwoByTwo();
  // 64 rows: 2 of the 4 doublings from 16 to 256.
  EXPECT_DOUBLE_EQ(grid.interpolate(64, 64, 32), 1500);
  // 32 rows: a quarter of the way.
  EXPECT_DOUBLE_EQ(grid.interpolate(32, 64, 32), 1250);
  // The centre of the cube in log2: the mean of its corners.
  EXPECT_DOUBLE_EQ(grid.interpolate(64, 256, 128), 4500);
  // One axis between, two at points.
  EXPECT_DOUBLE_EQ(grid.interpolate(256, 256, 512), 7000);
}

TEST(PremergeCalibration, ClampedBeyondTheGrid) {
  GemmGrid grid = twoByTwoByTwo();
  EXPECT_DOUBLE_EQ(grid.interpolate(1, 64, 32), 1000);
  EXPECT_DOUBLE_EQ(grid.interpolate(4096, 8192, 4096), 8000);
  EXPECT_DOUBLE_EQ(grid.interpolate(0, 1, 1), 1000);
  EXPECT_DOUBLE_EQ(grid.interpolate(64, 1, 100000), 1000 * (1.5 + 4));
}

TEST(PremergeCalibration, ReadsAFile) {
  llvm::Expected<CpuCosts> costs = parseCpuCosts(
      calibrationText({}, R"({"rows": [16, 256], "out": [64, 1024],
                              "in": [32, 512],
                              "flops_per_us": [[[1000, 5000], [3000, 7000]],
                                               [[2000, 6000], [4000, 8000]]]})"),
      "test.json");
  ASSERT_TRUE(bool(costs)) << llvm::toString(costs.takeError());
  EXPECT_EQ(costs->callOverheadUs, 0.4);
  EXPECT_EQ(costs->bytesPerUs, 22000);
  EXPECT_EQ(costs->blockDiagonalFlopsPerUs, 150000);
  GemmGrid expected = twoByTwoByTwo();
  EXPECT_EQ(costs->gemm.rows, expected.rows);
  EXPECT_EQ(costs->gemm.out, expected.out);
  EXPECT_EQ(costs->gemm.in, expected.in);
  EXPECT_EQ(costs->gemm.flopsPerUs, expected.flopsPerUs);
  // The shapeless rate: the grid's at 128 x 768 x 768 (3 of 4 doublings
  // to 256 rows, log2(12) of 4 to 1024 out, clamped to 512 in).
  EXPECT_NEAR(costs->flopsPerUs,
              1000 * (1 + 0.75 + 2 * std::log2(12.0) / 4 + 4), 1e-9);
  EXPECT_DOUBLE_EQ(costs->gemmFlopsPerUs(64, 64, 32), 1500);
}

TEST(PremergeCalibration, WritesWhatItReads) {
  CpuCosts costs;
  costs.callOverheadUs = 0.7;
  costs.bytesPerUs = 12345.5;
  costs.blockDiagonalFlopsPerUs = 99e3;
  costs.gemm = twoByTwoByTwo();
  std::string text =
      llvm::formatv("{0}", cpuCostsToJson(costs, /*threads=*/2)).str();
  llvm::Expected<CpuCosts> read = parseCpuCosts(text, "round-trip");
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->callOverheadUs, 0.7);
  EXPECT_EQ(read->bytesPerUs, 12345.5);
  EXPECT_EQ(read->blockDiagonalFlopsPerUs, 99e3);
  EXPECT_EQ(read->gemm.flopsPerUs, costs.gemm.flopsPerUs);
  EXPECT_EQ(read->gemm.rows, costs.gemm.rows);

  // The built-in constants: a one-point grid at today's rate.
  llvm::Expected<CpuCosts> builtIn = parseCpuCosts(
      llvm::formatv("{0}", cpuCostsToJson(CpuCosts(), 1)).str(), "built-in");
  ASSERT_TRUE(bool(builtIn)) << llvm::toString(builtIn.takeError());
  for (auto [rows, out, in] : {std::tuple{1, 8, 8}, std::tuple{128, 768, 768},
                               std::tuple{512, 3072, 768}})
    EXPECT_EQ(linearCallUs(*builtIn, rows, out, in),
              linearCallUs(CpuCosts(), rows, out, in));
}

TEST(PremergeCalibration, RefusesBadFiles) {
  EXPECT_EQ(errorOf(calibrationText()), "");
  auto expectError = [](const std::string &text, const std::string &what) {
    std::string error = errorOf(text);
    EXPECT_NE(error.find("calibration file 'test.json': " + what),
              std::string::npos)
        << "got: " << error;
  };
  expectError("{\"version\": 1,", "invalid JSON");
  expectError("[1, 2]", "expects a JSON object");
  expectError(R"({"target": "cpu"})", "missing integer 'version'");
  expectError(calibrationText(llvm::json::Object{{"version", 2}}),
              "unknown version 2");
  expectError(calibrationText(llvm::json::Object{{"target", "cuda"}}),
              "expects target 'cpu', got 'cuda'");
  expectError(calibrationText(llvm::json::Object{{"threads", 0}}),
              "'threads' must be a positive integer");
  expectError(calibrationText(llvm::json::Object{{"bytes_per_us", -3}}),
              "'bytes_per_us' must be a positive number, got -3");
  expectError(calibrationText(llvm::json::Object{{"call_overhead_us", "fast"}}),
              "'call_overhead_us' must be a positive number, got \"fast\"");
  expectError(
      calibrationText(llvm::json::Object{{"block_diagonal_flops_per_us", 0}}),
      "'block_diagonal_flops_per_us' must be a positive number");
  expectError(R"({"version": 1, "target": "cpu", "bytes_per_us": 1,
                  "block_diagonal_flops_per_us": 1, "gemm": {}})",
              "missing 'call_overhead_us'");
  expectError(calibrationText({}, "7"), "missing object 'gemm'");
  expectError(calibrationText({}, R"({"out": [1], "in": [1],
                                      "flops_per_us": [[[1]]]})"),
              "missing array 'gemm.rows'");
  expectError(calibrationText({}, R"({"rows": [], "out": [1], "in": [1],
                                      "flops_per_us": []})"),
              "'gemm.rows' is empty");
  expectError(calibrationText({}, R"({"rows": [1], "out": [8, 8], "in": [1],
                                      "flops_per_us": [[[1], [1]]]})"),
              "'gemm.out' must hold strictly increasing positive integers");
  expectError(calibrationText({}, R"({"rows": [1], "out": [1], "in": [0.5],
                                      "flops_per_us": [[[1]]]})"),
              "'gemm.in' must hold strictly increasing positive integers");
  expectError(calibrationText({}, R"({"rows": [1], "out": [1], "in": [1]})"),
              "missing array 'gemm.flops_per_us'");
  for (const char *rates : {"[[[1, 2]]]", "[[1]]", "[[[1]], [[1]]]", "[[[0]]]",
                            "[[[-1]]]", "[[[\"x\"]]]"})
    expectError(calibrationText({}, std::string(R"({"rows": [1], "out": [1],
                                                    "in": [1], "flops_per_us": )") +
                                        rates + "}"),
                "'gemm.flops_per_us' must be a 1 x 1 x 1 array (rows, out, "
                "in) of positive numbers");
}

TEST(PremergeCalibration, MissingFile) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("calibration", path));
  std::string file = (path + "/none.json").str();
  llvm::Expected<CpuCosts> costs = loadCpuCosts(file);
  ASSERT_FALSE(bool(costs));
  EXPECT_NE(llvm::toString(costs.takeError())
                .find("cannot read calibration file '" + file + "'"),
            std::string::npos);
  llvm::sys::fs::remove(path);
}

TEST(PremergeCalibration, DecisionsFollowTheFile) {
  // [512 x 256] rank 16 at decode: kept with the built-in 0.4 us per call,
  // merged where a call costs a millisecond (a launch-bound target).
  CpuCosts costs;
  EXPECT_FALSE(estimateLowRank(costs, 1, 512, 256, 16).preferMerged());
  costs.callOverheadUs = 1000;
  EXPECT_TRUE(estimateLowRank(costs, 1, 512, 256, 16).preferMerged());

  // At prefill the rate of each call's own shape decides: rank-16 calls
  // (16 wide) running 100x slower than the [512 x 256] GEMM make merging
  // pay, though the factors do only 9.4 % of its multiply-adds.
  costs = CpuCosts();
  EXPECT_FALSE(estimateLowRank(costs, 128, 512, 256, 16).preferMerged());
  costs.gemm = GemmGrid{{128}, {16, 512}, {16, 256}, {1e3, 1e3, 1e3, 1e5}};
  EXPECT_TRUE(estimateLowRank(costs, 128, 512, 256, 16).preferMerged());
  // And with the narrow shapes as fast as the wide one, kept again.
  costs.gemm.flopsPerUs = {1e5, 1e5, 1e5, 1e5};
  EXPECT_FALSE(estimateLowRank(costs, 128, 512, 256, 16).preferMerged());
}

/// Decode pairs timed exactly as the model with `costs` predicts them.
std::vector<mlir::tvc::CalibrationPair> modelPairs(const CpuCosts &costs) {
  std::vector<mlir::tvc::CalibrationPair> pairs;
  for (int64_t d : {32, 64, 256, 768})
    for (int64_t rank : {d / 16, d / 4, d / 2, 3 * d / 4}) {
      Estimate estimate = estimateLowRank(costs, 1, 4 * d, d, rank);
      pairs.push_back(
          {1, 4 * d, d, rank, estimate.mergedUs, estimate.factoredUs});
    }
  return pairs;
}

TEST(PremergeCalibration, FitRecoversTheOverhead) {
  CpuCosts truth;
  truth.callOverheadUs = 0.4;
  std::vector<mlir::tvc::CalibrationPair> pairs = modelPairs(truth);
  // 0.05 x 2^(12/4) = 0.4 is a candidate; the times say exactly 0.4.
  double fitted = mlir::tvc::fitCallOverhead(truth, pairs, 0.05);
  EXPECT_NEAR(fitted, 0.4, 1e-9);
  truth.callOverheadUs = fitted;
  EXPECT_EQ(mlir::tvc::countPredictedPairs(truth, pairs), int(pairs.size()));
}

TEST(PremergeCalibration, FitPrefersTheOrderOverTheTimes) {
  CpuCosts truth;
  truth.callOverheadUs = 2;
  std::vector<mlir::tvc::CalibrationPair> pairs = modelPairs(truth);
  // The large pairs 3x slower than the model says (say, memory contention)
  // pull the least-squares overhead far up; the candidates that predict
  // the order of all pairs are kept, and of those the nearest is chosen.
  for (mlir::tvc::CalibrationPair &pair : pairs)
    if (pair.in == 768) {
      pair.denseUs *= 3;
      pair.factoredUs *= 3;
    }
  double fitted = mlir::tvc::fitCallOverhead(truth, pairs, 0.05);
  truth.callOverheadUs = fitted;
  EXPECT_EQ(mlir::tvc::countPredictedPairs(truth, pairs), int(pairs.size()));
  // Never below a warm call, and without pairs exactly that.
  EXPECT_GE(fitted, 0.05);
  EXPECT_EQ(mlir::tvc::fitCallOverhead(truth, {}, 0.07), 0.07);
}

} // namespace
