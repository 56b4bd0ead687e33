//===- PremergeCostModel.h - Factored or merged, on a target -----*- C++
//-*-===//
//
// tvc-premerge-ffn policy=cost asks this model, per structured linear,
// whether the factored form (as the CPU pipeline runs it: one kernel call
// per factor) or the merged dense matrix is faster for the workload the
// model will mostly run.
//
// CPU model: every kernel call costs a fixed overhead plus the larger of its
// memory time (weight and activation bytes over the bandwidth) and its
// compute time (2 FLOPs per multiply-add over the GEMM rate):
//
//   t(call) = overhead + max(bytes / bandwidth, flops / rate)
//
// Decode (one row) is memory-bound, so a rank-r pair reads 4 r (in + out)
// bytes against 4 in out; prefill (`tokens` rows) is compute-bound, so
// 2 T r (in + out) FLOPs against 2 T in out. A LoRA linear in factored form
// runs the base matrix plus the adapter plus an elementwise scale-and-add,
// so it never beats its merged matrix. BlockDense's block-diagonal map is
// one tvc_kernel_block_diagonal_f32 call, priced like a linear call with
// its own (measured) GEMM rate. Where the CPU pipeline runs a low-rank pair
// through the fused tvc_kernel_low_rank_f32 (estimateFusedLowRank), a
// decode row is one call: one overhead fewer than the two calls; more rows
// make the same two GEMMs inside the call, priced as two calls.
//
// The constants were measured with `tvc-premerge-bench 1`
// (runtime/kernels/cpu/PremergeBench.cpp, one thread, busy 2-core Zen 3,
// 2026-11-30, three runs; docs/StructuredFfn.md): a cold 3072x768 GEMV
// (bandwidth), a 128x768x768 GEMM (rate), and dense against low-rank pairs
// at decode, to which the per-call overhead is fitted; the block-diagonal
// rate from a 128-row call on GPT-2's BlockDense shape (4 x [96 x 192]).
// `tvc-calibrate` measures them all again on the target, the GEMM rate on a
// grid of shapes, into a JSON file that loadCpuCosts reads
// (PremergeCostModel.cpp; docs/StructuredFfn.md, "Calibration").
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_TRANSFORMS_PREMERGECOSTMODEL_H
#define TVC_PASSES_TRANSFORMS_PREMERGECOSTMODEL_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace mlir::tvc::premerge {

/// Measured GEMM rates on a grid of shapes: every combination of `rows` x
/// `out` x `in` (each axis strictly increasing), rate [r][o][i] in FLOPs
/// per microsecond. Between grid points the rate is interpolated linearly
/// along each axis in log2 of the size (trilinear); beyond an axis' ends it
/// is that end's rate.
struct GemmGrid {
  std::vector<int64_t> rows, out, in;
  /// rows.size() * out.size() * in.size() rates, `in` fastest.
  std::vector<double> flopsPerUs;
  bool empty() const { return flopsPerUs.empty(); }
  double at(size_t r, size_t o, size_t i) const {
    return flopsPerUs[(r * out.size() + o) * in.size() + i];
  }
  /// The interpolated rate of a [rows x in] x [in x out] GEMM.
  double interpolate(int64_t rows, int64_t out, int64_t in) const;
};

/// The measured CPU constants.
struct CpuCosts {
  /// Fixed cost of one tvc_kernel_linear_f32 call on cold operands, in
  /// microseconds: fitted to the measured decode times of 16 dense/low-rank
  /// pairs (0.3-0.5 predict 29 of 32 pairs' order; a warm call costs 0.08).
  double callOverheadUs = 0.4;
  /// Bytes per microsecond read by a decode GEMV from memory (22 GB/s;
  /// measured 17.6-23.1).
  double bytesPerUs = 22e3;
  /// FLOPs per microsecond of a prefill GEMM (156 GFLOP/s; measured
  /// 152-173).
  double flopsPerUs = 156e3;
  /// FLOPs per microsecond of tvc_kernel_block_diagonal_f32 at prefill
  /// (150 GFLOP/s; measured 146-164 in two runs on 128 x 4 x [96 x 192],
  /// one oneDNN call per block, about the dense rate). The generated scalar
  /// loops it replaced ran at 0.4.
  double blockDiagonalFlopsPerUs = 150e3;
  /// Calibrated GEMM rates by shape; empty: `flopsPerUs` for every shape.
  /// (A calibration file also sets `flopsPerUs`, to the grid's rate at
  /// 128 x 768 x 768.)
  GemmGrid gemm;

  /// FLOPs per microsecond of a [rows x in] x [in x out] linear call.
  double gemmFlopsPerUs(int64_t rows, int64_t out, int64_t in) const {
    return gemm.empty() ? flopsPerUs : gemm.interpolate(rows, out, in);
  }
};

/// The format version of calibration files this tvc reads and writes.
constexpr int64_t kCalibrationVersion = 1;

/// Costs from the JSON text of a calibration file; errors name `source`
/// and the offending field.
llvm::Expected<CpuCosts> parseCpuCosts(llvm::StringRef json,
                                       llvm::StringRef source);

/// Costs from the calibration file at `path`.
llvm::Expected<CpuCosts> loadCpuCosts(llvm::StringRef path);

/// `costs` as a calibration file's JSON (`threads`: how many the kernels
/// ran on while measuring, recorded for the reader).
llvm::json::Value cpuCostsToJson(const CpuCosts &costs, int64_t threads);

/// Predicted microseconds of one f32 linear call y[rows, out] = x[rows, in]
/// W^T.
inline double linearCallUs(const CpuCosts &costs, int64_t rows, int64_t out,
                           int64_t in) {
  double bytes = 4.0 * (double(out) * in + double(rows) * (in + out));
  double flops = 2.0 * double(rows) * out * in;
  return costs.callOverheadUs +
         std::max(bytes / costs.bytesPerUs,
                  flops / costs.gemmFlopsPerUs(rows, out, in));
}

/// Predicted microseconds of an elementwise pass over `elements` floats
/// reading `inputs` operands and writing one result.
inline double elementwiseUs(const CpuCosts &costs, int64_t elements,
                            int inputs) {
  return costs.callOverheadUs +
         4.0 * double(elements) * (inputs + 1) / costs.bytesPerUs;
}

/// The two predictions for one structured linear.
struct Estimate {
  double factoredUs;
  double mergedUs;
  bool preferMerged() const { return mergedUs < factoredUs; }
};

/// Low-rank V [rank, in], U [out, rank] against one dense [out, in].
inline Estimate estimateLowRank(const CpuCosts &costs, int64_t rows,
                                int64_t out, int64_t in, int64_t rank) {
  return {linearCallUs(costs, rows, rank, in) +
              linearCallUs(costs, rows, out, rank),
          linearCallUs(costs, rows, out, in)};
}

/// Low-rank V [rank, in], U [out, rank] through tvc_kernel_low_rank_f32
/// against one dense [out, in]: at one row the kernel is one dispatch that
/// reads what the two calls read (V x stays in cache), so one call overhead
/// fewer; at more rows it makes the two GEMMs of the two calls.
inline Estimate estimateFusedLowRank(const CpuCosts &costs, int64_t rows,
                                     int64_t out, int64_t in, int64_t rank) {
  Estimate estimate = estimateLowRank(costs, rows, out, in, rank);
  if (rows == 1)
    estimate.factoredUs -= costs.callOverheadUs;
  return estimate;
}

/// BlockDense B [k, rank / k, in / k], L [out, rank] against one dense
/// [out, in]. The block-diagonal map is one kernel call reading the blocks
/// (rank x in / k weights) at `blockDiagonalFlopsPerUs`.
inline Estimate estimateBlockDense(const CpuCosts &costs, int64_t rows,
                                   int64_t out, int64_t in, int64_t rank,
                                   int64_t blocks) {
  double weights = double(rank) * in / blocks;
  double bytes = 4.0 * (weights + double(rows) * (in + rank));
  double blockUs = costs.callOverheadUs +
                   std::max(bytes / costs.bytesPerUs,
                            2.0 * rows * weights / costs.blockDiagonalFlopsPerUs);
  return {blockUs + linearCallUs(costs, rows, out, rank),
          linearCallUs(costs, rows, out, in)};
}

/// Predicted microseconds of one tvc_kernel_block_diagonal_f32 call of
/// `rows` rows, `in` inputs and `out` outputs a row, `weights` block weights
/// in all (read at the bandwidth, multiplied at `blockDiagonalFlopsPerUs`).
inline double blockDiagonalCallUs(const CpuCosts &costs, int64_t rows,
                                  double weights, int64_t in, int64_t out) {
  double bytes = 4.0 * (weights + double(rows) * (in + out));
  return costs.callOverheadUs +
         std::max(bytes / costs.bytesPerUs,
                  2.0 * rows * weights / costs.blockDiagonalFlopsPerUs);
}

/// Block-shuffle (Monarch) B1 [k, mid / k, in / k], B2 [l, out / l, mid / l]
/// against one dense [out, in]: two block-diagonal calls and, between them,
/// the transpose of the [rows, mid] intermediate, generated code priced by
/// its bytes (read once, written once; none when the grid is one row or
/// one column).
inline Estimate estimateBlockShuffle(const CpuCosts &costs, int64_t rows,
                                     int64_t out, int64_t in, int64_t mid,
                                     int64_t blocks, int64_t outBlocks) {
  bool transposes = blocks > 1 && mid / blocks > 1;
  double transposeUs =
      transposes ? 8.0 * double(rows) * mid / costs.bytesPerUs : 0.0;
  return {blockDiagonalCallUs(costs, rows, double(mid) * in / blocks, in, mid) +
              transposeUs +
              blockDiagonalCallUs(costs, rows, double(out) * mid / outBlocks,
                                  mid, out),
          linearCallUs(costs, rows, out, in)};
}

/// LoRA W [out, in] + A [rank, in], B [out, rank] (plus the scale-and-add
/// of the branch) against W' [out, in].
inline Estimate estimateLora(const CpuCosts &costs, int64_t rows, int64_t out,
                             int64_t in, int64_t rank) {
  return {linearCallUs(costs, rows, out, in) +
              linearCallUs(costs, rows, rank, in) +
              linearCallUs(costs, rows, out, rank) +
              elementwiseUs(costs, rows * out, 2),
          linearCallUs(costs, rows, out, in)};
}

} // namespace mlir::tvc::premerge

#endif // TVC_PASSES_TRANSFORMS_PREMERGECOSTMODEL_H
