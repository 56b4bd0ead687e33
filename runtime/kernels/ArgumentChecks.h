//===- ArgumentChecks.h - Kernel entries' argument checks -------*- C++ -*-===//
//
// The checks every target's kernel entry makes before touching memory, so
// the CPU and CUDA entries of one kernel accept and reject the same params
// structs (runtime/api/tvc_kernels.h states the rules). Header-only and free
// of host-only code, so nvcc-compiled entries include it too.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_ARGUMENTCHECKS_H
#define TVC_RUNTIME_KERNELS_ARGUMENTCHECKS_H

#include "runtime/api/tvc_kernels.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace tvc::runtime {

/// a * b floats fit in int64_t bytes.
inline bool fitsInMemory(int64_t a, int64_t b) {
  int64_t elements, bytes;
  return !__builtin_mul_overflow(a, b, &elements) &&
         !__builtin_mul_overflow(elements, int64_t(sizeof(float)), &bytes);
}

/// [batch, rows, heads * headDim] floats fit in int64_t bytes.
inline bool fitsInMemory(int64_t batch, int64_t rows, int64_t heads,
                         int64_t headDim) {
  int64_t elements;
  return !__builtin_mul_overflow(batch, rows, &elements) &&
         !__builtin_mul_overflow(elements, heads, &elements) &&
         fitsInMemory(elements, headDim);
}

/// tvc_kernel_linear_f32's rules, with the flag bits an entry accepts; also
/// those of the 16-bit-weight entries (tvc_linear_w16_f32_params_t has the
/// same fields).
template <typename LinearParams>
inline bool validLinearArguments(const LinearParams *params,
                                 int64_t acceptedFlags) {
  if (!params || !params->x || !params->w || !params->y)
    return false;
  const LinearParams &p = *params;
  if ((p.flags & ~acceptedFlags) || ((p.flags & TVC_LINEAR_HAS_BIAS) && !p.bias))
    return false;
  // The activation is a field: values above SiLU are unknown.
  if ((p.flags & TVC_LINEAR_ACTIVATION_MASK) > TVC_LINEAR_SILU)
    return false;
  return p.m >= 0 && p.n >= 0 && p.k >= 0 && fitsInMemory(p.m, p.k) &&
         fitsInMemory(p.n, p.k) && fitsInMemory(p.m, p.n);
}

/// tvc_kernel_low_rank_f32's rules.
inline bool validLowRankArguments(const tvc_low_rank_f32_params_t *params) {
  if (!params || !params->x || !params->v || !params->u || !params->y)
    return false;
  const tvc_low_rank_f32_params_t &p = *params;
  if ((p.flags & ~int64_t(TVC_LINEAR_HAS_BIAS)) ||
      ((p.flags & TVC_LINEAR_HAS_BIAS) && !p.bias))
    return false;
  return p.m >= 0 && p.n >= 0 && p.k >= 0 && p.r >= 0 &&
         fitsInMemory(p.m, p.k) && fitsInMemory(p.r, p.k) &&
         fitsInMemory(p.n, p.r) && fitsInMemory(p.m, p.r) &&
         fitsInMemory(p.m, p.n);
}

/// tvc_kernel_block_diagonal_f32's rules, with the flag bits an entry
/// accepts.
inline bool
validBlockDiagonalArguments(const tvc_block_diagonal_f32_params_t *params,
                            int64_t acceptedFlags) {
  if (!params || !params->x || !params->w || !params->y)
    return false;
  const tvc_block_diagonal_f32_params_t &p = *params;
  if ((p.flags & ~acceptedFlags) ||
      ((p.flags & TVC_LINEAR_HAS_BIAS) && !p.bias))
    return false;
  if (p.m < 0 || p.blocks < 0 || p.block_n < 0 || p.block_k < 0)
    return false;
  // The widths of x and y, then the three arrays.
  int64_t in, out;
  return !__builtin_mul_overflow(p.blocks, p.block_k, &in) &&
         !__builtin_mul_overflow(p.blocks, p.block_n, &out) &&
         fitsInMemory(p.m, in) && fitsInMemory(out, p.block_k) &&
         fitsInMemory(p.m, out);
}

/// tvc_kernel_linear_2to4_f32's rules, with the flag bits an entry accepts.
inline bool validLinear2to4Arguments(const tvc_linear_2to4_f32_params_t *params,
                                     int64_t acceptedFlags) {
  if (!params || !params->x || !params->values || !params->indices ||
      !params->y)
    return false;
  const tvc_linear_2to4_f32_params_t &p = *params;
  if ((p.flags & ~acceptedFlags) ||
      ((p.flags & TVC_LINEAR_HAS_BIAS) && !p.bias))
    return false;
  return p.m >= 0 && p.n >= 0 && p.k >= 0 && p.k % 4 == 0 &&
         fitsInMemory(p.m, p.k) && fitsInMemory(p.n, p.k) &&
         fitsInMemory(p.m, p.n);
}

/// tvc_kernel_attention_f32's rules for mask kinds 0..lastMaskKind (an
/// entry implementing fewer kinds rejects the others). `withState`: the
/// call carries ALISA's state (tvc_kernel_attention_state_f32), which lets
/// an ALISA call continue from earlier positions.
inline bool validAttentionArguments(const tvc_attention_f32_params_t *params,
                                    int64_t lastMaskKind, bool withState) {
  if (!params || !params->q || !params->k || !params->v || !params->out)
    return false;
  const tvc_attention_f32_params_t &a = *params;
  if (a.batch < 0 || a.q_len < 0 || a.kv_len < 0 || a.kv_capacity < 0 ||
      a.head_dim < 0 || a.heads < 1 || a.kv_heads < 1)
    return false;
  if (a.q_len > a.kv_len || a.kv_len > a.kv_capacity ||
      a.heads % a.kv_heads != 0 || a.head_dim > TVC_ATTENTION_MAX_HEAD_DIM)
    return false;
  if (a.mask_kind < TVC_MASK_FULL || a.mask_kind > lastMaskKind)
    return false;
  bool windowed = a.mask_kind == TVC_MASK_SLIDING_WINDOW ||
                  a.mask_kind == TVC_MASK_WINDOW_GLOBAL ||
                  a.mask_kind == TVC_MASK_BLOCK_LOCAL;
  if ((windowed && a.window < 1) ||
      (a.mask_kind == TVC_MASK_WINDOW_GLOBAL && a.global < 0) ||
      (a.mask_kind == TVC_MASK_BLOCK_LOCAL && (a.global < 0 || a.block < 1)) ||
      (a.mask_kind == TVC_MASK_TOP_K && a.top_k < 1) ||
      (a.mask_kind == TVC_MASK_BLOCK_TOP_K && (a.block < 1 || a.top_k < 1)) ||
      (a.mask_kind == TVC_MASK_VERTICAL_SLASH &&
       (a.vertical < 1 || a.slash < 1 || a.last_queries < 1)) ||
      (a.mask_kind == TVC_MASK_ALISA &&
       (a.window < 1 || a.top_k < 0 || (!withState && a.q_len != a.kv_len))))
    return false;
  // A scale that overflows float would turn every score into inf or NaN.
  if (!std::isfinite(a.scale) ||
      std::fabs(a.scale) > std::numeric_limits<float>::max())
    return false;
  return fitsInMemory(a.batch, a.q_len, a.heads, a.head_dim) &&
         fitsInMemory(a.batch, a.kv_capacity, a.kv_heads, a.head_dim);
}

/// The kernels' limit on top of validAttentionArguments: ALISA's key lists
/// and vertical-slash patterns index keys in 32 bits (every target's
/// kernels).
inline bool fitsAttentionKeyIndices(const tvc_attention_f32_params_t &a) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (a.mask_kind == TVC_MASK_ALISA &&
      (a.kv_len > kMax || a.top_k > kMax - a.window))
    return false;
  if (a.mask_kind == TVC_MASK_VERTICAL_SLASH &&
      (a.kv_len > kMax || a.vertical > kMax - a.slash))
    return false;
  return true;
}

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_ARGUMENTCHECKS_H
