//===- Linear.cpp - Fully connected layer on the CPU through oneDNN -------===//
//
// tvc_kernel_linear_f32: y = x * W^T + bias through oneDNN's dnnl_sgemm
// (row-major, transB for the [n,k] layout), chosen by measurement over
// OpenBLAS and BLIS: docs/Blas.md. The runtime's thread pool splits the
// output columns into slices and each slice makes one single-threaded
// dnnl_sgemm call, so all kernels share one set of threads that
// tvc_runtime_set_num_threads sizes, and no OpenMP team spins beside it.
// The bias is copied into the slice of y right before the call that
// accumulates into it (beta = 1), and a fused activation is applied to the
// slice right after it (Activation.h). One row (decode) goes to the
// hand-written GEMV of Gemv.cpp instead, which streams the weights faster.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Linear.h"
#include "runtime/api/tvc_kernels.h"
#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/cpu/Activation.h"
#include "runtime/kernels/cpu/Gemv.h"

#include <dlfcn.h>
#include <dnnl.h>

#include <algorithm>
#include <atomic>
#include <cstring>

using tvc::runtime::fitsInMemory;

namespace {

/// Output columns per slice are a multiple of this (whole GEMM panels).
constexpr int64_t kColumnAlign = 16;
/// Narrowest slice worth its own call.
constexpr int64_t kMinSliceColumns = 64;
/// Below this many multiply-adds one thread does it all: waking the workers
/// costs about as much.
constexpr double kMinParallelWork = double(1 << 20);

/// OpenMP's per-thread team size. Debian builds oneDNN on OpenMP, and each
/// dnnl_sgemm call spreads over omp_get_max_threads() threads of the calling
/// thread; slices set it to 1 around their call and restore it, so the
/// caller's own OpenMP setting is untouched. Looked up at run time (libgomp
/// is loaded with oneDNN) so TvcRuntime links no OpenMP library itself;
/// absent with a oneDNN built on another threading runtime.
struct OpenMpThreads {
  int (*get)() = nullptr;
  void (*set)(int) = nullptr;
};

const OpenMpThreads &openMpThreads() {
  static const OpenMpThreads threads = [] {
    OpenMpThreads found;
    found.get =
        reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    found.set = reinterpret_cast<void (*)(int)>(
        dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    if (!found.get || !found.set)
      found = OpenMpThreads();
    return found;
  }();
  return threads;
}

struct LinearJob {
  const tvc_linear_f32_params_t *params;
  int64_t sliceColumns;
  /// Set by any slice whose call failed.
  std::atomic<bool> failed;
};

/// Computes columns [n0, n1) of y with one single-threaded dnnl_sgemm call,
/// then the activation of the flags; false when oneDNN reports an error.
bool linearColumns(const tvc_linear_f32_params_t &p, int64_t n0, int64_t n1) {
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  int64_t columns = n1 - n0;
  float *y = p.y + n0;
  float beta = tvc::runtime::copyBiasColumns(
      y, p.m, p.n, p.flags & TVC_LINEAR_HAS_BIAS ? p.bias : nullptr, n0,
      columns);
  if (p.k == 0) {
    if (beta == 0.0f)
      for (int64_t row = 0; row < p.m; ++row)
        std::memset(y + row * p.n, 0, columns * sizeof(float));
  } else {
    const float *w = inOut ? p.w + n0 : p.w + n0 * p.k;
    if (!tvc::runtime::sgemmSerial(inOut ? 'N' : 'T', p.m, columns, p.k, p.x,
                                   p.k, w, inOut ? p.n : p.k, beta, y, p.n))
      return false;
  }
  tvc::runtime::applyActivation(tvc::runtime::linearActivation(p.flags), y, p.m,
                                p.n, columns);
  return true;
}

void linearSlices(void *context, int64_t begin, int64_t end) {
  LinearJob &job = *static_cast<LinearJob *>(context);
  int64_t n = job.params->n;
  for (int64_t slice = begin; slice < end; ++slice) {
    int64_t n0 = slice * job.sliceColumns;
    if (!linearColumns(*job.params, n0, std::min(n, n0 + job.sliceColumns)))
      job.failed.store(true, std::memory_order_relaxed);
  }
}

} // namespace

extern "C" tvc_status_t
tvc_kernel_linear_f32(const tvc_linear_f32_params_t *params) {
  if (!tvc::runtime::validLinearArguments(
          params, TVC_LINEAR_HAS_BIAS | TVC_LINEAR_WEIGHT_IN_OUT |
                      TVC_LINEAR_ACTIVATION_MASK))
    return TVC_INVALID_ARGUMENT;
  const tvc_linear_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  if (p.m == 1 && p.k > 0) {
    tvc::runtime::gemvF32(p);
    tvc::runtime::applyActivationParallel(
        tvc::runtime::linearActivation(p.flags), p.y, p.m, p.n);
    return TVC_OK;
  }
  return tvc::runtime::gemmF32(p);
}

bool tvc::runtime::sgemmSerial(char transB, int64_t m, int64_t n, int64_t k,
                               const float *a, int64_t lda, const float *b,
                               int64_t ldb, float beta, float *c, int64_t ldc) {
  const OpenMpThreads &omp = openMpThreads();
  int saved = omp.get ? omp.get() : 1;
  if (omp.set && saved != 1)
    omp.set(1);
  dnnl_status_t status =
      dnnl_sgemm('N', transB, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (omp.set && saved != 1)
    omp.set(saved);
  return status == dnnl_success;
}

void tvc::runtime::fillWithBias(float *y, int64_t m, int64_t n,
                                const float *bias) {
  for (int64_t row = 0; row < m; ++row) {
    if (bias)
      std::memcpy(y + row * n, bias, n * sizeof(float));
    else
      std::memset(y + row * n, 0, n * sizeof(float));
  }
}

float tvc::runtime::copyBiasColumns(float *y, int64_t m, int64_t ldy,
                                    const float *bias, int64_t n0,
                                    int64_t columns) {
  if (!bias)
    return 0.0f;
  for (int64_t row = 0; row < m; ++row)
    std::memcpy(y + row * ldy, bias + n0, columns * sizeof(float));
  return 1.0f;
}

tvc_status_t tvc::runtime::gemmF32(const tvc_linear_f32_params_t &p) {
  ThreadPool &pool = ThreadPool::global();
  double work = double(p.m) * double(p.n) * double(p.k);
  int64_t slices = 1;
  if (work >= kMinParallelWork && pool.numThreads() > 1)
    slices = std::min<int64_t>(2 * pool.numThreads(),
                               (p.n + kMinSliceColumns - 1) / kMinSliceColumns);
  LinearJob job{&p, p.n, {false}};
  if (slices > 1) {
    int64_t columns = (p.n + slices - 1) / slices;
    job.sliceColumns =
        (columns + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
    slices = (p.n + job.sliceColumns - 1) / job.sliceColumns;
  }
  pool.parallelFor(slices, 1, linearSlices, &job);
  return job.failed ? TVC_INTERNAL : TVC_OK;
}
