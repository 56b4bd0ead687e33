//===- ThreadPool.h - Persistent worker pool of the CPU kernels -*- C++ -*-===//
//
// A fixed set of std::thread workers, started once (on first use, sized to
// std::thread::hardware_concurrency()) and resized only through
// tvc_runtime_set_num_threads, that share the indices of one parallel loop
// with the calling thread. A loop allocates nothing and creates no thread.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_BASE_THREADPOOL_H
#define TVC_RUNTIME_BASE_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tvc::runtime {

/// Runs parallel loops on a fixed set of worker threads plus the caller.
class ThreadPool {
public:
  /// The body of a parallel loop: handles indices [begin, end).
  using Body = void (*)(void *context, int64_t begin, int64_t end);

  /// The process-wide pool the kernels share, started on first use.
  static ThreadPool &global();

  /// Starts `numThreads - 1` workers (the caller is the last thread).
  explicit ThreadPool(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Runs `body` over [0, count) in chunks of `grain` indices handed out in
  /// order to whichever thread is free, and returns when all are done. Runs
  /// everything on the caller when the pool is busy with another loop (a
  /// second host thread, or a loop nested in a loop), so it never deadlocks.
  void parallelFor(int64_t count, int64_t grain, Body body, void *context);

  /// Threads a loop may use, the caller included.
  int numThreads() const { return static_cast<int>(workers.size()) + 1; }

  /// Stops the workers and starts `numThreads - 1` new ones; waits for a
  /// loop in progress.
  void resize(int numThreads);

  /// std::thread::hardware_concurrency(), or 1 when unknown.
  static int defaultNumThreads();

private:
  void start(int numThreads);
  void stopWorkers();
  void workerLoop(int index, uint64_t seenGeneration);
  void runChunks();

  /// Held by the thread that owns the current loop (or a resize).
  std::mutex submitMutex;
  /// Guards generation, stopping, participants and pending (the two atomics
  /// are written under it too, and read without it only to spin).
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  std::atomic<uint64_t> generation{0};
  bool stopping = false;
  /// Workers with an index below this take part in the current loop.
  int participants = 0;
  /// Participating workers that have not finished the current loop.
  std::atomic<int> pending{0};

  // The current loop; written before generation is bumped.
  Body body = nullptr;
  void *context = nullptr;
  int64_t count = 0;
  int64_t grain = 1;
  std::atomic<int64_t> next{0};

  std::vector<std::thread> workers;
};

} // namespace tvc::runtime

#endif // TVC_RUNTIME_BASE_THREADPOOL_H
