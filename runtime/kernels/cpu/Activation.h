//===- Activation.h - Activations fused into the linear kernels -*- C++ -*-===//
//
// The activation field of a dense linear kernel's flags (bits 3-5 of
// tvc_linear_f32_params_t::flags), applied to outputs the kernel has just
// written: by each GEMM slice to its own columns while they are in cache,
// and after the GEMV paths (a row or a few) in one pass over y.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_ACTIVATION_H
#define TVC_RUNTIME_KERNELS_CPU_ACTIVATION_H

#include <cstdint>

namespace tvc::runtime {

/// The activation of `flags` (TVC_LINEAR_RELU, ..., or 0 for none).
int64_t linearActivation(int64_t flags);

/// y[r * ldy + c] = act(y[r * ldy + c]) for r < rows, c < columns, on the
/// calling thread; nothing for activation 0.
void applyActivation(int64_t activation, float *y, int64_t rows, int64_t ldy,
                     int64_t columns);

/// The same over a whole [m, n] y, split over the runtime's pool when it is
/// large enough to be worth waking the workers.
void applyActivationParallel(int64_t activation, float *y, int64_t m,
                             int64_t n);

/// One value, as applyActivation computes it (for tests and references).
float activationValue(int64_t activation, float value);

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_ACTIVATION_H
