//===- Warp.cuh - Warp-level helpers of the CUDA kernels --------*- C++ -*-===//
//
// What the hand-written CUDA kernels (attention, sparse attention, the
// linear entries' GEMVs) share: the warp size, the full lane mask,
// butterfly sums and maxima over a warp, and the flattened (batch, head,
// query row) index of the attention kernels. For nvcc-compiled files only.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_WARP_CUH
#define TVC_RUNTIME_KERNELS_CUDA_WARP_CUH

#include <cstdint>

namespace tvc::runtime::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

/// Sum of `value` over the warp, in every lane.
__device__ __forceinline__ float warpSum(float value) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    value += __shfl_xor_sync(kFullMask, value, offset);
  return value;
}

/// Maximum of `value` over the warp, in every lane.
__device__ __forceinline__ float warpMax(float value) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    value = fmaxf(value, __shfl_xor_sync(kFullMask, value, offset));
  return value;
}

/// The query row, head and batch entry of a flattened (b, h, i) row index
/// with i fastest, for `qLen` rows and `heads` heads.
struct QueryRow {
  int64_t i, h, b;
};
__device__ inline QueryRow queryRow(int64_t row, int64_t qLen, int64_t heads) {
  return {row % qLen, row / qLen % heads, row / qLen / heads};
}

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_WARP_CUH
