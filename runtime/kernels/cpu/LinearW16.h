//===- LinearW16.h - Fully connected layer with 16-bit weights --*- C++ -*-===//
//
// The two paths of tvc_kernel_linear_bf16w_f32 and tvc_kernel_linear_f16w_f32
// (16-bit weights, fp32 activations; tvc_kernels.h): up to kW16MaxGemvRows
// rows through a hand-written kernel that reads every weight once for all
// rows and widens it in registers, more rows through oneDNN's sgemm on tiles
// of weights widened into a per-thread buffer. Exposed so that tests reach
// every compiled copy and both paths on any m, and tvc-kernel-bench can time
// each.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_LINEARW16_H
#define TVC_RUNTIME_KERNELS_CPU_LINEARW16_H

#include "runtime/api/tvc_kernels.h"

namespace tvc::runtime {

/// The 16-bit format of the weights.
enum class W16Type { BF16, F16 };

/// Which compiled copy of the loops runs: the best the CPU allows (AVX-512,
/// else AVX2 with FMA and F16C, else the baseline), AVX2 at most, or the
/// baseline (so tests reach every copy the CPU can run).
enum class W16Code { Detected, Avx2, Baseline };

/// The entries take the few-rows path up to this many rows (decode and small
/// decode batches), the GEMM path above (docs/Blas.md, "16-bit weights").
constexpr int64_t kW16MaxGemvRows = 8;

/// y = x * W^T + bias for validated parameters with m, n, k >= 1 and any m
/// (the entries use it for m <= kW16MaxGemvRows): each weight is read from
/// memory once for up to eight rows of x, widened in registers, on the
/// runtime's pool. For a [k,n] weight split into row parts it keeps partial
/// sums in a per-thread buffer that only grows; allocates nothing else.
void gemvW16F32(W16Type type, const tvc_linear_w16_f32_params_t &params,
                W16Code code = W16Code::Detected);

/// y = x * W^T + bias for validated parameters with m, n, k >= 1: slices of
/// output columns on the pool, each widened tile by tile into a per-thread
/// buffer that only grows and multiplied by one single-threaded dnnl_sgemm
/// call per tile. TVC_INTERNAL when oneDNN reports an error.
tvc_status_t gemmW16F32(W16Type type, const tvc_linear_w16_f32_params_t &params,
                        W16Code code = W16Code::Detected);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_LINEARW16_H
