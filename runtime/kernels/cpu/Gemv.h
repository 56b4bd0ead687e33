//===- Gemv.h - One-row fully connected layer (decode) ----------*- C++ -*-===//
//
// The m = 1 case of tvc_kernel_linear_f32, written by hand: a decode step
// multiplies one token by every weight matrix, so the time is that of
// reading the weights once from memory, and a GEMM library's GEMV (built for
// reuse it cannot have here) reads them at well under the bandwidth the
// cores can draw. docs/Blas.md has the measurements.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_GEMV_H
#define TVC_RUNTIME_KERNELS_CPU_GEMV_H

#include "runtime/api/tvc_kernels.h"

namespace tvc::runtime {

/// Which compiled copy of the loops runs: the one the CPU allows (AVX2 with
/// FMA, or the baseline), or the baseline (so tests reach it everywhere).
enum class GemvCode { Detected, Baseline };

/// y[n] = x[k] * W^T + bias for validated parameters with m == 1, n >= 1 and
/// k >= 1, on the runtime's thread pool: every weight is read once, in long
/// runs of consecutive addresses (whole rows of a [n,k] weight; rows or row
/// pieces of a [k,n] one, 16 KiB and longer).
void gemvF32(const tvc_linear_f32_params_t &params,
             GemvCode code = GemvCode::Detected);

/// The m == 1 case of tvc_kernel_block_diagonal_f32 for validated parameters
/// with blocks, block_n, block_k >= 1: the stacked blocks are one
/// [blocks*block_n, block_k] weight read row after row as gemvF32 reads an
/// [n,k] one, output row j dotted with the slice of x of its block j/block_n.
void gemvBlockDiagonalF32(const tvc_block_diagonal_f32_params_t &params,
                          GemvCode code = GemvCode::Detected);

/// The m == 1 case of tvc_kernel_low_rank_f32 for validated parameters with
/// n, k, r >= 1: t = V x into a per-thread scratch of r floats that only
/// grows, then y = U t + bias, both read row after row as gemvF32 reads an
/// [n,k] weight, in one loop of the pool whose tasks of y wait for those
/// of t.
void gemvLowRankF32(const tvc_low_rank_f32_params_t &params,
                    GemvCode code = GemvCode::Detected);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_GEMV_H
