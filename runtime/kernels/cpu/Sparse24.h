//===- Sparse24.h - Fully connected layer with 2:4 sparse weights -*- C++
//-*-===//
//
// The two paths of tvc_kernel_linear_2to4_f32 (tvc_kernels.h has the
// compressed format): one row (decode) through a hand-written GEMV that reads
// the compressed weights once, every other m through oneDNN on rows
// decompressed slice by slice. Exposed so that tests can reach the baseline
// GEMV on any CPU and tvc-kernel-bench can time each path.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_SPARSE24_H
#define TVC_RUNTIME_KERNELS_CPU_SPARSE24_H

#include "runtime/api/tvc_kernels.h"

namespace tvc::runtime {

/// Which compiled copy of the GEMV runs: the best the CPU allows (AVX-512,
/// else AVX2 with FMA, else the baseline), AVX2 at most, or the baseline (so
/// tests reach every copy the CPU can run).
enum class Sparse24Code { Detected, Avx2, Baseline };

/// y[n] = x[k] * W^T + bias for validated parameters with m == 1, n >= 1 and
/// k >= 4, on the runtime's thread pool; allocates nothing.
void gemv2to4F32(const tvc_linear_2to4_f32_params_t &params,
                 Sparse24Code code = Sparse24Code::Detected);

/// y = x * W^T + bias for validated parameters with m >= 1, n >= 1 and
/// k >= 4: slices of output rows on the pool, each decompressed into a
/// per-thread buffer (with AVX2 where the CPU has it and `code` allows) and
/// multiplied by one single-threaded dnnl_sgemm call. TVC_INTERNAL when
/// oneDNN reports an error.
tvc_status_t gemm2to4F32(const tvc_linear_2to4_f32_params_t &params,
                         Sparse24Code code = Sparse24Code::Detected);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_SPARSE24_H
