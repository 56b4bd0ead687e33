//===- BlasBench.cpp - sgemm timings of one BLAS library ------------------===//
//
// Times C[m,n] = A[m,k] * B[n,k]^T (the transformer weight layout [out,in],
// transB) for the decode and prefill shapes of GPT-2-sized models through one
// library loaded with dlopen, so one binary measures every library and
// run.sh can interleave them process by process. Modes: "lib" lets the
// library thread itself (OPENBLAS_NUM_THREADS / BLIS_NUM_THREADS /
// OMP_NUM_THREADS set by the caller); "split" calls a serial library from a
// persistent pool of --threads threads, each taking a slice of n (what
// TvcRuntime would do with single-threaded BLAS). Prints one line per shape:
// `op m n k median_ms`.
//
//===----------------------------------------------------------------------===//

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float *,
                         int, const float *, int, float, float *, int);
using SgemvFn = void (*)(int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
using DnnlSgemmFn = int (*)(char, char, int64_t, int64_t, int64_t, float,
                            const float *, int64_t, const float *, int64_t,
                            float, float *, int64_t);
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

/// A persistent pool: workers wait on a condition variable for a generation
/// bump, run their slice, and report back; the caller runs slice 0.
class SplitPool {
public:
  explicit SplitPool(int threads) : threads(threads) {
    for (int t = 1; t < threads; ++t)
      workers.emplace_back([this, t] { workerLoop(t); });
  }
  ~SplitPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
      ++generation;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
  }
  void run(const std::function<void(int, int)> &task) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      current = &task;
      pending = threads - 1;
      ++generation;
    }
    wake.notify_all();
    task(0, threads);
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return pending == 0; });
  }

private:
  void workerLoop(int index) {
    uint64_t seen = 0;
    while (true) {
      const std::function<void(int, int)> *task;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return generation != seen; });
        seen = generation;
        if (stop)
          return;
        task = current;
      }
      (*task)(index, threads);
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0)
        done.notify_one();
    }
  }
  int threads;
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  uint64_t generation = 0;
  int pending = 0;
  bool stop = false;
  const std::function<void(int, int)> *current = nullptr;
};

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median milliseconds of `call` after warm-up (at least one call and a
/// quarter of the budget), repeating for about `budgetMs` (at least 3 and at
/// most 500 timed calls).
double medianMs(const std::function<void()> &call, double budgetMs) {
  double warmStart = nowMs();
  for (int i = 0; i < 1 || nowMs() - warmStart < budgetMs / 4; ++i)
    call();
  std::vector<double> times;
  double start = nowMs();
  while (times.size() < 3 ||
         (times.size() < 500 && nowMs() - start < budgetMs)) {
    double t0 = nowMs();
    call();
    times.push_back(nowMs() - t0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: blas-bench --lib PATH --api cblas|dnnl "
                       "[--mode lib|split] [--threads N] [--budget-ms MS]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  std::string libPath, api = "cblas", mode = "lib";
  int threads = 2;
  double budgetMs = 300;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      usage();
    if (arg == "--lib")
      libPath = argv[++i];
    else if (arg == "--api")
      api = argv[++i];
    else if (arg == "--mode")
      mode = argv[++i];
    else if (arg == "--threads")
      threads = std::atoi(argv[++i]);
    else if (arg == "--budget-ms")
      budgetMs = std::atof(argv[++i]);
    else
      usage();
  }
  if (libPath.empty() || threads < 1)
    usage();
  void *lib = dlopen(libPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
  auto sgemv = reinterpret_cast<SgemvFn>(dlsym(lib, "cblas_sgemv"));
  auto dnnlSgemm = reinterpret_cast<DnnlSgemmFn>(dlsym(lib, "dnnl_sgemm"));
  if (api == "cblas" ? !sgemm || !sgemv : !dnnlSgemm) {
    std::fprintf(stderr, "%s lacks the %s entry points\n", libPath.c_str(),
                 api.c_str());
    return 1;
  }
  int libThreads = mode == "split" ? 1 : threads;
  if (auto set = reinterpret_cast<void (*)(int)>(
          dlsym(lib, "openblas_set_num_threads")))
    set(libThreads);
  if (auto set = reinterpret_cast<void (*)(int64_t)>(
          dlsym(lib, "bli_thread_set_num_threads")))
    set(libThreads);
  if (auto core =
          reinterpret_cast<char *(*)()>(dlsym(lib, "openblas_get_corename")))
    std::printf("# openblas core %s\n", core());

  const int64_t shapesNK[][2] = {
      {768, 768}, {3072, 768}, {768, 3072}, {50257, 768}};
  const int64_t ms[] = {1, 128, 512};
  int64_t maxNK = 0, maxMK = 0, maxMN = 0;
  for (auto &nk : shapesNK)
    for (int64_t m : ms) {
      maxNK = std::max(maxNK, nk[0] * nk[1]);
      maxMK = std::max(maxMK, m * nk[1]);
      maxMN = std::max(maxMN, m * nk[0]);
    }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> a(maxMK), b(maxNK), c(maxMN);
  for (float &value : a)
    value = dist(rng);
  for (float &value : b)
    value = dist(rng);

  SplitPool pool(mode == "split" ? threads : 1);
  for (int64_t m : ms) {
    for (auto &nk : shapesNK) {
      int n = nk[0], k = nk[1];
      // One call computing columns [n0, n1) of C (rows of B).
      auto slice = [&](int n0, int n1) {
        if (api == "dnnl")
          dnnlSgemm('N', 'T', m, n1 - n0, k, 1.f, a.data(), k,
                    b.data() + int64_t(n0) * k, k, 0.f, c.data() + n0, n);
        else
          sgemm(RowMajor, NoTrans, Trans, m, n1 - n0, k, 1.f, a.data(), k,
                b.data() + int64_t(n0) * k, k, 0.f, c.data() + n0, n);
      };
      auto gemvSlice = [&](int n0, int n1) {
        sgemv(RowMajor, NoTrans, n1 - n0, k, 1.f, b.data() + int64_t(n0) * k, k,
              a.data(), 1, 0.f, c.data() + n0, 1);
      };
      auto runSplit = [&](const std::function<void(int, int)> &body) {
        if (mode != "split")
          return body(0, n);
        // Slices are multiples of 16 columns so kernels see aligned panels.
        pool.run([&](int t, int count) {
          int64_t per = (n + count - 1) / count;
          per = (per + 15) / 16 * 16;
          int n0 = std::min<int64_t>(n, t * per);
          int n1 = std::min<int64_t>(n, n0 + per);
          if (n0 < n1)
            body(n0, n1);
        });
      };
      double gemmMs = medianMs([&] { runSplit(slice); }, budgetMs);
      // Check one element against a plain dot product.
      double expect = 0;
      for (int i = 0; i < k; ++i)
        expect += double(a[i]) * b[int64_t(n - 1) * k + i];
      if (std::fabs(expect - c[n - 1]) > 1e-3 * std::sqrt(double(k))) {
        std::fprintf(stderr, "wrong result for m=%d n=%d k=%d\n", int(m), n, k);
        return 1;
      }
      std::printf("gemm %d %d %d %.4f\n", int(m), n, k, gemmMs);
      if (m == 1 && api == "cblas")
        std::printf("gemv %d %d %d %.4f\n", int(m), n, k,
                    medianMs([&] { runSplit(gemvSlice); }, budgetMs));
      std::fflush(stdout);
    }
  }
  return 0;
}
