//===- Gemv.cpp - One-row fully connected layer (decode) ------------------===//
//
// Hand-written because the libraries' one-row paths stream the weights at
// half the bandwidth two cores reach (docs/Blas.md). Both layouts read each
// weight once, in address order within long runs, and split the work into a
// few tasks per thread of the runtime's pool:
//
//   [n,k] ("out_in"): y[j] = bias[j] + dot(x, W[j,:]); a task takes a range
//     of output rows j and reads them one after the other.
//   Block-diagonal (tvc_kernel_block_diagonal_f32): as [n,k], over the
//     stacked blocks' rows, each dotted with its block's slice of x.
//   Low-rank (tvc_kernel_low_rank_f32): t = V x, then y = U t + bias, both
//     as [n,k], in one loop of the pool: the tasks of t come first and each
//     task of y first waits until every task of t has finished. The pool
//     hands tasks out in order, so by then each task of t has been taken
//     by a thread that is running it, and the wait ends without a barrier
//     that every thread would have to reach (a thread may take no task at
//     all). t, r floats, is written and read while still in cache.
//   [k,n] ("in_out"): y[c0:c1] += x[l] * W[l,c0:c1] over l; a task takes a
//     block of at most kColumnBlock columns (its partial sums stay in L1)
//     and a range of rows l. When the columns alone give too few tasks, the
//     rows are split into parts too: part 0 accumulates into y, the others
//     into a scratch row each, added to y at the end.
//
// The loops use 8-lane vector types (the compiler's vector extension) and
// are compiled twice: for AVX2 with FMA, chosen at run time where the CPU
// has them, and for the baseline.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Gemv.h"

#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/cpu/CpuFeatures.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

typedef float Vec __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

/// Columns of a [k,n] weight one task accumulates (16 KiB of partial sums,
/// in L1; shorter runs of each row measured slower).
constexpr int64_t kColumnBlock = 4096;
/// Tasks per thread: enough for the pool to even out a thread that was
/// descheduled, few enough that each runs long stretches of addresses.
constexpr int64_t kTasksPerThread = 4;
/// Fewest rows in one part of a split [k,n] weight.
constexpr int64_t kMinRowsPerPart = 64;
/// Below this many weights one thread does it all: waking the pool costs
/// about as much as reading them.
constexpr int64_t kMinParallelWeights = int64_t(1) << 15;

/// How far ahead (floats, 2 KiB) the [n,k] loop asks for its row's next
/// lines: one row at a time with this measured 1.2-1.4x faster from memory
/// than four interleaved rows with 256-byte prefetch (the 2:4 kernel found
/// the same).
constexpr int64_t kPrefetch = 512;
#define TVC_GEMV_INLINE inline __attribute__((always_inline))

TVC_GEMV_INLINE Vec load(const float *from) {
  Vec value;
  std::memcpy(&value, from, sizeof(Vec));
  return value;
}

TVC_GEMV_INLINE void store(float *to, Vec value) {
  std::memcpy(to, &value, sizeof(Vec));
}

TVC_GEMV_INLINE Vec splat(float value) {
  return Vec{value, value, value, value, value, value, value, value};
}

TVC_GEMV_INLINE float sumLanes(Vec value) {
  float sum = 0;
  for (int lane = 0; lane < kLanes; ++lane)
    sum += value[lane];
  return sum;
}

/// acc[0:cols] += sum over l < rows of x[l] * w[l*ldw + 0:cols], eight rows
/// per pass over acc (four measured slower: acc's loads and stores) and the
/// products summed as a tree rather than one chain of dependent FMAs.
TVC_GEMV_INLINE void accumulateRows(const float *x, const float *w, int64_t ldw,
                                    int64_t rows, int64_t cols, float *acc) {
  int64_t l = 0;
  for (; l + 8 <= rows; l += 8) {
    const float *w0 = w + l * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw,
                *w3 = w2 + ldw, *w4 = w3 + ldw, *w5 = w4 + ldw, *w6 = w5 + ldw,
                *w7 = w6 + ldw;
    Vec x0 = splat(x[l]), x1 = splat(x[l + 1]), x2 = splat(x[l + 2]),
        x3 = splat(x[l + 3]), x4 = splat(x[l + 4]), x5 = splat(x[l + 5]),
        x6 = splat(x[l + 6]), x7 = splat(x[l + 7]);
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      Vec t0 = x0 * load(w0 + j);
      Vec t1 = x2 * load(w2 + j);
      Vec t2 = x4 * load(w4 + j);
      Vec t3 = x6 * load(w6 + j);
      t0 = t0 + x1 * load(w1 + j);
      t1 = t1 + x3 * load(w3 + j);
      t2 = t2 + x5 * load(w5 + j);
      t3 = t3 + x7 * load(w7 + j);
      store(acc + j, load(acc + j) + ((t0 + t1) + (t2 + t3)));
    }
    for (; j < cols; ++j)
      acc[j] += x[l] * w0[j] + x[l + 1] * w1[j] + x[l + 2] * w2[j] +
                x[l + 3] * w3[j] + x[l + 4] * w4[j] + x[l + 5] * w5[j] +
                x[l + 6] * w6[j] + x[l + 7] * w7[j];
  }
  for (; l + 4 <= rows; l += 4) {
    const float *w0 = w + l * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw,
                *w3 = w2 + ldw;
    Vec x0 = splat(x[l]), x1 = splat(x[l + 1]), x2 = splat(x[l + 2]),
        x3 = splat(x[l + 3]);
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      Vec t0 = x0 * load(w0 + j);
      Vec t1 = x2 * load(w2 + j);
      t0 = t0 + x1 * load(w1 + j);
      t1 = t1 + x3 * load(w3 + j);
      store(acc + j, load(acc + j) + (t0 + t1));
    }
    for (; j < cols; ++j)
      acc[j] +=
          x[l] * w0[j] + x[l + 1] * w1[j] + x[l + 2] * w2[j] + x[l + 3] * w3[j];
  }
  for (; l < rows; ++l) {
    const float *row = w + l * ldw;
    Vec xl = splat(x[l]);
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      store(acc + j, load(acc + j) + xl * load(row + j));
    for (; j < cols; ++j)
      acc[j] += x[l] * row[j];
  }
}

/// y[j] = bias[j] + dot(x, w[j*k + 0:k]) for j in [j0, j1); bias may be null.
/// One row after the other, so each thread reads one address stream, with
/// four accumulators and software prefetch kPrefetch floats ahead.
TVC_GEMV_INLINE void dotRows(const float *x, const float *w, int64_t k,
                             const float *bias, int64_t j0, int64_t j1,
                             float *y) {
  for (int64_t j = j0; j < j1; ++j) {
    const float *row = w + j * k;
    Vec a = {}, b = {}, c = {}, d = {};
    int64_t l = 0;
    for (; l + 4 * kLanes <= k; l += 4 * kLanes) {
      // Every 64-byte line of the step: one prefetch per step left three
      // lines of four (AVX-512) to the hardware prefetcher. Medians of 3
      // (2 threads, cold weights): 3072x768 0.383 -> 0.338 ms, 768x768
      // 0.098 -> 0.091 ms; the LM head 5.8 -> 5.5 ms, within its noise.
      for (int64_t line = 0; line < 4 * kLanes; line += 16)
        __builtin_prefetch(row + l + kPrefetch + line);
      a = a + load(x + l) * load(row + l);
      b = b + load(x + l + kLanes) * load(row + l + kLanes);
      c = c + load(x + l + 2 * kLanes) * load(row + l + 2 * kLanes);
      d = d + load(x + l + 3 * kLanes) * load(row + l + 3 * kLanes);
    }
    for (; l + kLanes <= k; l += kLanes)
      a = a + load(x + l) * load(row + l);
    float sum = sumLanes((a + b) + (c + d));
    for (; l < k; ++l)
      sum += x[l] * row[l];
    y[j] = bias ? sum + bias[j] : sum;
  }
}

struct GemvJob {
  const tvc_linear_f32_params_t *params;
  const float *bias;
  /// [n,k]: output rows per task.
  int64_t rowsPerTask;
  /// [k,n]: the task grid is columnBlocks x rowParts.
  int64_t columnBlock, columnBlocks;
  int64_t rowsPerPart;
  /// [k,n] with rowParts > 1: (rowParts - 1) rows of n partial sums.
  float *scratch;
};

TVC_GEMV_INLINE void outInTasks(void *context, int64_t begin, int64_t end) {
  const GemvJob &job = *static_cast<const GemvJob *>(context);
  const tvc_linear_f32_params_t &p = *job.params;
  int64_t j0 = begin * job.rowsPerTask;
  int64_t j1 = std::min(p.n, end * job.rowsPerTask);
  dotRows(p.x, p.w, p.k, job.bias, j0, j1, p.y);
}

TVC_GEMV_INLINE void inOutTasks(void *context, int64_t begin, int64_t end) {
  const GemvJob &job = *static_cast<const GemvJob *>(context);
  const tvc_linear_f32_params_t &p = *job.params;
  for (int64_t task = begin; task < end; ++task) {
    int64_t block = task % job.columnBlocks, part = task / job.columnBlocks;
    int64_t c0 = block * job.columnBlock;
    int64_t cols = std::min(p.n, c0 + job.columnBlock) - c0;
    int64_t l0 = part * job.rowsPerPart;
    int64_t rows = std::min(p.k, l0 + job.rowsPerPart) - l0;
    float *acc = part == 0 ? p.y + c0 : job.scratch + (part - 1) * p.n + c0;
    if (part == 0 && job.bias)
      std::memcpy(acc, job.bias + c0, cols * sizeof(float));
    else
      std::memset(acc, 0, cols * sizeof(float));
    accumulateRows(p.x + l0, p.w + l0 * p.n + c0, p.n, rows, cols, acc);
  }
}

struct BlockDiagonalJob {
  const tvc_block_diagonal_f32_params_t *params;
  const float *bias;
  /// Rows of the stacked [blocks*block_n, block_k] weight per task.
  int64_t rowsPerTask;
};

/// Rows [j0, j1) of the stacked blocks, cut at block boundaries so that each
/// piece is one dotRows over its block's slice of x.
TVC_GEMV_INLINE void blockDiagonalTasks(void *context, int64_t begin,
                                        int64_t end) {
  const BlockDiagonalJob &job = *static_cast<const BlockDiagonalJob *>(context);
  const tvc_block_diagonal_f32_params_t &p = *job.params;
  int64_t total = p.blocks * p.block_n;
  int64_t j0 = begin * job.rowsPerTask;
  int64_t j1 = std::min(total, end * job.rowsPerTask);
  while (j0 < j1) {
    int64_t block = j0 / p.block_n, first = block * p.block_n;
    int64_t stop = std::min(j1, first + p.block_n);
    dotRows(p.x + block * p.block_k, p.w + first * p.block_k, p.block_k,
            job.bias ? job.bias + first : nullptr, j0 - first, stop - first,
            p.y + first);
    j0 = stop;
  }
}

struct LowRankJob {
  const tvc_low_rank_f32_params_t *params;
  const float *bias;
  /// t = V x, r floats.
  float *t;
  /// Tasks [0, firstTasks) compute t, firstRows rows of V each; the rest
  /// compute y, secondRows rows of U each.
  int64_t firstTasks, firstRows, secondRows;
  /// Tasks of t that have finished.
  std::atomic<int64_t> firstDone;
};

/// Spins until every task of t has finished: a pause per poll, and after a
/// while a yield per poll, so that on more threads than cores the thread
/// still computing t gets the core.
inline void waitForFirstPhase(const LowRankJob &job) {
  for (int polls = 0;
       job.firstDone.load(std::memory_order_acquire) < job.firstTasks;
       ++polls) {
    if (polls < 4096) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

TVC_GEMV_INLINE void lowRankTasks(void *context, int64_t begin, int64_t end) {
  LowRankJob &job = *static_cast<LowRankJob *>(context);
  const tvc_low_rank_f32_params_t &p = *job.params;
  for (int64_t task = begin; task < end; ++task) {
    if (task < job.firstTasks) {
      int64_t j0 = task * job.firstRows;
      dotRows(p.x, p.v, p.k, nullptr, j0, std::min(p.r, j0 + job.firstRows),
              job.t);
      job.firstDone.fetch_add(1, std::memory_order_release);
      continue;
    }
    waitForFirstPhase(job);
    int64_t j0 = (task - job.firstTasks) * job.secondRows;
    dotRows(job.t, p.u, p.r, job.bias, j0, std::min(p.n, j0 + job.secondRows),
            p.y);
  }
}

__attribute__((target("avx2,fma"))) void
lowRankTasksAvx2(void *context, int64_t begin, int64_t end) {
  lowRankTasks(context, begin, end);
}

void lowRankTasksBaseline(void *context, int64_t begin, int64_t end) {
  lowRankTasks(context, begin, end);
}

__attribute__((target("avx2,fma"))) void
blockDiagonalTasksAvx2(void *context, int64_t begin, int64_t end) {
  blockDiagonalTasks(context, begin, end);
}

void blockDiagonalTasksBaseline(void *context, int64_t begin, int64_t end) {
  blockDiagonalTasks(context, begin, end);
}

__attribute__((target("avx2,fma"))) void
outInTasksAvx2(void *context, int64_t begin, int64_t end) {
  outInTasks(context, begin, end);
}

__attribute__((target("avx2,fma"))) void
inOutTasksAvx2(void *context, int64_t begin, int64_t end) {
  inOutTasks(context, begin, end);
}

void outInTasksBaseline(void *context, int64_t begin, int64_t end) {
  outInTasks(context, begin, end);
}

void inOutTasksBaseline(void *context, int64_t begin, int64_t end) {
  inOutTasks(context, begin, end);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace

void tvc::runtime::gemvF32(const tvc_linear_f32_params_t &p, GemvCode code) {
  ThreadPool &pool = ThreadPool::global();
  int64_t tasks = 1;
  if (p.n * p.k >= kMinParallelWeights && pool.numThreads() > 1)
    tasks = kTasksPerThread * pool.numThreads();
  GemvJob job = {};
  job.params = &p;
  job.bias = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr;
  bool avx2 = code == GemvCode::Detected && cpuHasAvx2Fma();

  if (!(p.flags & TVC_LINEAR_WEIGHT_IN_OUT)) {
    job.rowsPerTask = std::max<int64_t>(4, ceilDiv(ceilDiv(p.n, tasks), 4) * 4);
    pool.parallelFor(ceilDiv(p.n, job.rowsPerTask), 1,
                     avx2 ? outInTasksAvx2 : outInTasksBaseline, &job);
    return;
  }

  // Balanced column blocks of whole vectors, then as many row parts as it
  // takes to reach the task count.
  job.columnBlocks = ceilDiv(p.n, kColumnBlock);
  job.columnBlock = ceilDiv(ceilDiv(p.n, job.columnBlocks), kLanes) * kLanes;
  job.columnBlocks = ceilDiv(p.n, job.columnBlock);
  int64_t rowParts =
      std::clamp<int64_t>(ceilDiv(tasks, job.columnBlocks), 1,
                          std::max<int64_t>(1, p.k / kMinRowsPerPart));
  job.rowsPerPart = ceilDiv(ceilDiv(p.k, rowParts), 4) * 4;
  rowParts = ceilDiv(p.k, job.rowsPerPart);
  // Partial sums of the extra row parts live in a per-thread scratch that
  // only grows, so steady decoding allocates nothing.
  thread_local std::vector<float> scratch;
  if (rowParts > 1) {
    size_t needed = size_t(rowParts - 1) * size_t(p.n);
    if (scratch.size() < needed)
      scratch.resize(needed);
    job.scratch = scratch.data();
  }
  pool.parallelFor(job.columnBlocks * rowParts, 1,
                   avx2 ? inOutTasksAvx2 : inOutTasksBaseline, &job);
  for (int64_t part = 1; part < rowParts; ++part) {
    const float *partial = job.scratch + (part - 1) * p.n;
    for (int64_t j = 0; j < p.n; ++j)
      p.y[j] += partial[j];
  }
}

void tvc::runtime::gemvBlockDiagonalF32(
    const tvc_block_diagonal_f32_params_t &p, GemvCode code) {
  ThreadPool &pool = ThreadPool::global();
  int64_t total = p.blocks * p.block_n;
  int64_t tasks = 1;
  if (total * p.block_k >= kMinParallelWeights && pool.numThreads() > 1)
    tasks = kTasksPerThread * pool.numThreads();
  BlockDiagonalJob job = {};
  job.params = &p;
  job.bias = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr;
  job.rowsPerTask = std::max<int64_t>(4, ceilDiv(ceilDiv(total, tasks), 4) * 4);
  bool avx2 = code == GemvCode::Detected && cpuHasAvx2Fma();
  pool.parallelFor(ceilDiv(total, job.rowsPerTask), 1,
                   avx2 ? blockDiagonalTasksAvx2 : blockDiagonalTasksBaseline,
                   &job);
}

void tvc::runtime::gemvLowRankF32(const tvc_low_rank_f32_params_t &p,
                                  GemvCode code) {
  ThreadPool &pool = ThreadPool::global();
  int64_t firstWeights = p.r * p.k, secondWeights = p.n * p.r;
  int64_t tasks = 1;
  if (firstWeights + secondWeights >= kMinParallelWeights &&
      pool.numThreads() > 1)
    tasks = kTasksPerThread * pool.numThreads();
  // The tasks shared in proportion to the weights each phase reads, at
  // least one each, whole groups of four rows.
  double share = double(firstWeights) / double(firstWeights + secondWeights);
  int64_t first = std::clamp<int64_t>(int64_t(share * double(tasks) + 0.5), 1,
                                      std::max<int64_t>(1, tasks - 1));
  int64_t second = std::max<int64_t>(1, tasks - first);
  thread_local std::vector<float> t;
  if (t.size() < size_t(p.r))
    t.resize(p.r);
  LowRankJob job;
  job.params = &p;
  job.bias = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr;
  job.t = t.data();
  job.firstRows = std::max<int64_t>(4, ceilDiv(ceilDiv(p.r, first), 4) * 4);
  job.firstTasks = ceilDiv(p.r, job.firstRows);
  job.secondRows = std::max<int64_t>(4, ceilDiv(ceilDiv(p.n, second), 4) * 4);
  job.firstDone.store(0, std::memory_order_relaxed);
  int64_t count = job.firstTasks + ceilDiv(p.n, job.secondRows);
  bool avx2 = code == GemvCode::Detected && cpuHasAvx2Fma();
  ThreadPool::Body body = avx2 ? lowRankTasksAvx2 : lowRankTasksBaseline;
  // One task each: no thread to wake.
  if (tasks == 1)
    body(&job, 0, count);
  else
    pool.parallelFor(count, 1, body, &job);
}
