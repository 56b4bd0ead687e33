//===- LowRank.cpp - Low-rank linear on the CPU ---------------------------===//
//
// tvc_kernel_low_rank_f32: y = U (V x) + bias for a #tvc.low_rank linear in
// one call. One row (decode) goes to the hand-written GEMV (Gemv.cpp), which
// computes t = V x and y = U t in one loop of the pool with t kept in cache.
// More rows make the two GEMMs of tvc_kernel_linear_f32 (gemmF32, oneDNN
// over the pool) through a [m, r] scratch of the calling thread: there the
// GEMMs are compute-bound and the second call costs well under a percent
// (docs/StructuredFfn.md, "The fused low-rank kernel").
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cpu/Gemv.h"
#include "runtime/kernels/cpu/Linear.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

/// t = x V^T into a scratch of the calling thread, then y = t U^T + bias,
/// each through gemmF32 (m, n, r >= 1).
tvc_status_t lowRankGemm(const tvc_low_rank_f32_params_t &p) {
  thread_local std::vector<float> scratch;
  size_t needed = size_t(p.m) * size_t(p.r);
  if (scratch.size() < needed)
    scratch.resize(needed);
  tvc_linear_f32_params_t first = {p.x, p.v, nullptr, scratch.data(),
                                   p.m, p.r, p.k,     0};
  if (tvc_status_t status = tvc::runtime::gemmF32(first); status != TVC_OK)
    return status;
  tvc_linear_f32_params_t second = {
      scratch.data(), p.u, p.bias, p.y, p.m, p.n, p.r, p.flags};
  return tvc::runtime::gemmF32(second);
}

} // namespace

extern "C" tvc_status_t
tvc_kernel_low_rank_f32(const tvc_low_rank_f32_params_t *params) {
  if (!tvc::runtime::validLowRankArguments(params))
    return TVC_INVALID_ARGUMENT;
  const tvc_low_rank_f32_params_t &p = *params;
  if (p.m == 0 || p.n == 0)
    return TVC_OK;
  // An empty product: y = bias, or zeros.
  if (p.k == 0 || p.r == 0) {
    tvc::runtime::fillWithBias(
        p.y, p.m, p.n, (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias : nullptr);
    return TVC_OK;
  }
  if (p.m == 1) {
    tvc::runtime::gemvLowRankF32(p);
    return TVC_OK;
  }
  return lowRankGemm(p);
}
