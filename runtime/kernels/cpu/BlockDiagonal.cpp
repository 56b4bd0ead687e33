//===- BlockDiagonal.cpp - Block-diagonal linear on the CPU ---------------===//
//
// tvc_kernel_block_diagonal_f32: y_b = x_b W_b^T (+ bias_b) for the blocks
// of a #tvc.block_dense map, each block an ordinary [block_n, block_k]
// linear on its slice of x. One row (decode) goes to the hand-written GEMV
// (Gemv.cpp), which reads the stacked blocks as one [blocks*block_n,
// block_k] weight. More rows make one single-threaded dnnl_sgemm call per
// task (sgemmSerial, as tvc_kernel_linear_f32 does), x, W_b and y addressed
// in place through their leading dimensions: the tasks are the blocks, cut
// into column slices and row tiles when there are fewer blocks than the
// pool wants tasks, so a single block parallelises as a dense linear does.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cpu/Gemv.h"
#include "runtime/kernels/cpu/Linear.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace {

/// Tasks per thread of the pool, as the dense GEMM.
constexpr int64_t kTasksPerThread = 2;
/// Output columns per slice are a multiple of this (whole GEMM panels).
constexpr int64_t kColumnAlign = 16;
/// Narrowest column slice worth its own call.
constexpr int64_t kMinSliceColumns = 64;
/// Fewest rows of x in one tile (oneDNN packs W_b once per call).
constexpr int64_t kMinTileRows = 32;
/// Below this many multiply-adds one thread does it all: waking the workers
/// costs about as much.
constexpr double kMinParallelWork = double(1 << 20);

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct BlockDiagonalJob {
  const tvc_block_diagonal_f32_params_t *params;
  /// The task grid: blocks x slices x tiles, tiles varying fastest.
  int64_t slices, sliceColumns;
  int64_t tiles, tileRows;
  /// Set by any task whose call failed.
  std::atomic<bool> failed;
};

/// Columns [c0, c1) of block `block` for rows [r0, r1) of x: one
/// dnnl_sgemm call on the calling thread; false when oneDNN fails.
bool blockTile(const tvc_block_diagonal_f32_params_t &p, int64_t block,
               int64_t c0, int64_t c1, int64_t r0, int64_t r1) {
  int64_t in = p.blocks * p.block_k, out = p.blocks * p.block_n;
  int64_t columns = c1 - c0, rows = r1 - r0;
  int64_t first = block * p.block_n + c0;
  float *y = p.y + r0 * out + first;
  float beta = 0.0f;
  if (p.flags & TVC_LINEAR_HAS_BIAS) {
    for (int64_t row = 0; row < rows; ++row)
      std::memcpy(y + row * out, p.bias + first, columns * sizeof(float));
    beta = 1.0f;
  }
  if (p.block_k == 0) {
    if (beta == 0.0f)
      for (int64_t row = 0; row < rows; ++row)
        std::memset(y + row * out, 0, columns * sizeof(float));
    return true;
  }
  return tvc::runtime::sgemmSerial(
      'T', rows, columns, p.block_k, p.x + r0 * in + block * p.block_k, in,
      p.w + first * p.block_k, p.block_k, beta, y, out);
}

void blockDiagonalTasks(void *context, int64_t begin, int64_t end) {
  BlockDiagonalJob &job = *static_cast<BlockDiagonalJob *>(context);
  const tvc_block_diagonal_f32_params_t &p = *job.params;
  for (int64_t task = begin; task < end; ++task) {
    int64_t tile = task % job.tiles;
    int64_t slice = task / job.tiles % job.slices;
    int64_t block = task / job.tiles / job.slices;
    int64_t c0 = slice * job.sliceColumns, r0 = tile * job.tileRows;
    if (!blockTile(p, block, c0, std::min(p.block_n, c0 + job.sliceColumns), r0,
                   std::min(p.m, r0 + job.tileRows)))
      job.failed.store(true, std::memory_order_relaxed);
  }
}

/// All m rows through per-block GEMMs on the pool.
tvc_status_t blockDiagonalGemm(const tvc_block_diagonal_f32_params_t &p) {
  tvc::runtime::ThreadPool &pool = tvc::runtime::ThreadPool::global();
  double work =
      double(p.m) * double(p.blocks) * double(p.block_n) * double(p.block_k);
  int64_t wanted = 1;
  if (work >= kMinParallelWork && pool.numThreads() > 1)
    wanted = kTasksPerThread * pool.numThreads();
  // Blocks first; then each block's columns, as the dense GEMM splits them;
  // then its rows.
  int64_t perBlock = ceilDiv(wanted, p.blocks);
  BlockDiagonalJob job{&p, 1, p.block_n, 1, p.m, {false}};
  int64_t slices =
      std::clamp<int64_t>(perBlock, 1, ceilDiv(p.block_n, kMinSliceColumns));
  if (slices > 1) {
    int64_t columns = ceilDiv(p.block_n, slices);
    job.sliceColumns = ceilDiv(columns, kColumnAlign) * kColumnAlign;
    job.slices = ceilDiv(p.block_n, job.sliceColumns);
  }
  int64_t tiles = std::clamp<int64_t>(ceilDiv(perBlock, job.slices), 1,
                                      std::max<int64_t>(1, p.m / kMinTileRows));
  if (tiles > 1) {
    job.tileRows = ceilDiv(p.m, tiles);
    job.tiles = ceilDiv(p.m, job.tileRows);
  }
  pool.parallelFor(p.blocks * job.slices * job.tiles, 1, blockDiagonalTasks,
                   &job);
  return job.failed ? TVC_INTERNAL : TVC_OK;
}

} // namespace

extern "C" tvc_status_t
tvc_kernel_block_diagonal_f32(const tvc_block_diagonal_f32_params_t *params) {
  if (!tvc::runtime::validBlockDiagonalArguments(params, TVC_LINEAR_HAS_BIAS))
    return TVC_INVALID_ARGUMENT;
  const tvc_block_diagonal_f32_params_t &p = *params;
  if (p.m == 0 || p.blocks * p.block_n == 0)
    return TVC_OK;
  if (p.m == 1 && p.block_k > 0) {
    tvc::runtime::gemvBlockDiagonalF32(p);
    return TVC_OK;
  }
  return blockDiagonalGemm(p);
}
