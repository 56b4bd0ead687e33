//===- Reference.h - Reference versions of the CPU kernels ------*- C++ -*-===//
//
// The simplest correct code for each kernel of tvc_kernels.h, taking the same
// params struct: triple loops in double precision, an explicit score matrix
// and an explicit mask; and the exact distribution tvc_sample draws from. Tests
// compare the fast kernels against these; they allocate and are slow, so
// nothing on a per-token path calls them. They assume arguments the fast kernel
// accepts.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_REFERENCE_H
#define TVC_RUNTIME_KERNELS_CPU_REFERENCE_H

#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_sampling.h"

#include <cstdint>
#include <vector>

namespace tvc::runtime::reference {

/// The activation `activation` (TVC_LINEAR_RELU, ..., 0 for none) of a
/// linear kernel's flags at y, exactly (libm's erf, tanh and exp in double).
double activation(int64_t activation, double y);

/// y = x * W^T (+ bias), then the activation of the flags, as
/// tvc_kernel_linear_f32 defines it.
void linearF32(const tvc_linear_f32_params_t &params);

/// The value of a bf16 bit pattern (the high half of a binary32).
float widenBf16(uint16_t bits);

/// The value of an IEEE binary16 bit pattern, from the format's definition:
/// (-1)^s * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m, e = 31 infinity or NaN.
float widenF16(uint16_t bits);

/// y = x * W^T (+ bias) as tvc_kernel_linear_f16w_f32 (`f16`) or
/// tvc_kernel_linear_bf16w_f32 defines it: every weight widened, then
/// linearF32.
void linearW16F32(const tvc_linear_w16_f32_params_t &params, bool f16);

/// y = x * W^T (+ bias) as tvc_kernel_linear_2to4_f32 defines it: every kept
/// value times the x its position names, straight from the compressed form.
void linear2to4F32(const tvc_linear_2to4_f32_params_t &params);

/// y = x * blockdiag(W_b)^T (+ bias) as tvc_kernel_block_diagonal_f32 defines
/// it: every block a plain linear over its slice of x.
void blockDiagonalF32(const tvc_block_diagonal_f32_params_t &params);

/// y = U (V x) (+ bias) as tvc_kernel_low_rank_f32 defines it, the
/// intermediate V x kept in double.
void lowRankF32(const tvc_low_rank_f32_params_t &params);

/// True when the query at absolute position `pos` may attend to key `key`
/// under the mask of `params` (kv_len bounds not included).
bool attentionAllows(const tvc_attention_f32_params_t &params, int64_t pos,
                     int64_t key);

/// Attention as tvc_kernel_attention_f32 defines it.
void attentionF32(const tvc_attention_f32_params_t &params);

/// The probability tvc_sample gives each of the `vocab` tokens under
/// `params`, in double precision, from a full sort: one-hot at the argmax for
/// temperature 0.
std::vector<double> samplingProbabilities(const float *logits, int64_t vocab,
                                          const tvc_sampling_params_t &params);

} // namespace tvc::runtime::reference

#endif // TVC_RUNTIME_KERNELS_CPU_REFERENCE_H
