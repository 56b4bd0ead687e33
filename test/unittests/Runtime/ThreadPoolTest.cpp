//===- ThreadPoolTest.cpp - The CPU kernels' worker pool ------------------===//
//
// Every index runs exactly once whatever the thread count and grain, nested
// and concurrent loops fall back to the caller instead of deadlocking, and
// the C API rejects bad thread counts.
//
//===----------------------------------------------------------------------===//

#include "runtime/base/ThreadPool.h"
#include "runtime/api/tvc_kernels.h"

#include "gtest/gtest.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using tvc::runtime::ThreadPool;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(n) {}
};

void countIndices(void *context, int64_t begin, int64_t end) {
  Counts &counts = *static_cast<Counts *>(context);
  for (int64_t i = begin; i < end; ++i)
    counts.hits[i].fetch_add(1);
}

/// Every index of [0, count) runs once for several pool sizes and grains.
TEST(ThreadPool, EveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.numThreads(), threads);
    for (int64_t grain : {1, 3, 64})
      for (int64_t count : {0, 1, 5, 1000}) {
        Counts counts(count);
        for (int repeat = 0; repeat < 20; ++repeat)
          pool.parallelFor(count, grain, countIndices, &counts);
        for (int64_t i = 0; i < count; ++i)
          ASSERT_EQ(counts.hits[i].load(), 20)
              << "threads " << threads << " grain " << grain << " index " << i;
      }
  }
}

struct Nested {
  ThreadPool *pool;
  Counts *counts;
};

/// A loop started from inside a loop runs on its caller.
TEST(ThreadPool, NestedLoopRunsInline) {
  ThreadPool pool(3);
  Counts counts(8 * 16);
  Nested nested{&pool, &counts};
  pool.parallelFor(
      8, 1,
      [](void *context, int64_t begin, int64_t end) {
        Nested &n = *static_cast<Nested *>(context);
        for (int64_t outer = begin; outer < end; ++outer) {
          Counts *slice = n.counts;
          // Each outer index counts its own 16 entries via an inner loop.
          struct Inner {
            Counts *counts;
            int64_t base;
          } inner{slice, outer * 16};
          n.pool->parallelFor(
              16, 1,
              [](void *context, int64_t begin, int64_t end) {
                Inner &in = *static_cast<Inner *>(context);
                for (int64_t i = begin; i < end; ++i)
                  in.counts->hits[in.base + i].fetch_add(1);
              },
              &inner);
        }
      },
      &nested);
  for (auto &hit : counts.hits)
    EXPECT_EQ(hit.load(), 1);
}

/// Loops from several host threads at once all complete.
TEST(ThreadPool, ConcurrentCallers) {
  ThreadPool pool(2);
  std::vector<Counts *> all;
  std::vector<std::thread> callers;
  std::vector<std::unique_ptr<Counts>> counts;
  for (int t = 0; t < 4; ++t)
    counts.push_back(std::make_unique<Counts>(500));
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int repeat = 0; repeat < 50; ++repeat)
        pool.parallelFor(500, 7, countIndices, counts[t].get());
    });
  for (std::thread &caller : callers)
    caller.join();
  for (auto &c : counts)
    for (auto &hit : c->hits)
      EXPECT_EQ(hit.load(), 50);
}

/// Resizing between loops keeps them correct.
TEST(ThreadPool, Resize) {
  ThreadPool pool(4);
  for (int threads : {1, 6, 2, 2}) {
    pool.resize(threads);
    EXPECT_EQ(pool.numThreads(), threads);
    Counts counts(300);
    pool.parallelFor(300, 1, countIndices, &counts);
    for (auto &hit : counts.hits)
      EXPECT_EQ(hit.load(), 1);
  }
}

/// The C API: 0 is the default, out-of-range counts are rejected.
TEST(ThreadPool, RuntimeNumThreads) {
  int threads = -1;
  ASSERT_EQ(tvc_runtime_set_num_threads(3), TVC_OK);
  ASSERT_EQ(tvc_runtime_get_num_threads(&threads), TVC_OK);
  EXPECT_EQ(threads, 3);
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
  ASSERT_EQ(tvc_runtime_get_num_threads(&threads), TVC_OK);
  EXPECT_EQ(threads, ThreadPool::defaultNumThreads());
  EXPECT_EQ(tvc_runtime_set_num_threads(-1), TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_runtime_set_num_threads(1025), TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_runtime_get_num_threads(nullptr), TVC_INVALID_ARGUMENT);
  ASSERT_EQ(tvc_runtime_get_num_threads(&threads), TVC_OK);
  EXPECT_EQ(threads, ThreadPool::defaultNumThreads());
}

} // namespace
