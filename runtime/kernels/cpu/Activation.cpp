//===- Activation.cpp - Activations fused into the linear kernels ---------===//
//
// ReLU, GELU (erf and tanh forms) and SiLU over rows of floats, written by
// hand so that the loops vectorize: every function is branch-free float
// arithmetic (selects, not calls into libm), compiled for the x86-64
// baseline and again for AVX2+FMA, chosen at run time.
//
// exp(x) = 2^n exp(r) with n = round(x / ln 2) (the 1.5 * 2^23 rounding
// trick, no rint call) and r = x - n ln 2 split in two constants (Cody and
// Waite), exp(r) on |r| <= ln 2 / 2 by its degree-6 Taylor polynomial
// (truncation below 2e-7 relative), 2^n built in the exponent bits.
// The tanh form of GELU is y * sigmoid(2u), which equals
// 0.5 y (1 + tanh(u)) exactly and has no cancellation in the tails; SiLU
// is y * sigmoid(y). The erf form uses Phi(y) = 0.5 erfc(-y / sqrt 2) with
// erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), P of degree 9 (the
// Chebyshev fit of Numerical Recipes' erfcc, fractional error below 1.2e-7
// for every z >= 0), taken for |y| so that the small side keeps its
// relative accuracy in the tail.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Activation.h"
#include "runtime/api/tvc_kernels.h"
#include "runtime/base/ThreadPool.h"
#include "runtime/kernels/cpu/CpuFeatures.h"

#include <algorithm>
#include <cstring>

namespace {

#define TVC_ACT_INLINE inline __attribute__((always_inline))

TVC_ACT_INLINE float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// exp(x): 0 below -87.33 (no subnormals), inf above 88.37, NaN for NaN.
TVC_ACT_INLINE float expApprox(float x) {
  constexpr float kLow = -87.33f, kHigh = 88.37f;
  // NaN compares false: it takes the low bound here and is restored below.
  float c = x > kLow ? (x < kHigh ? x : kHigh) : kLow;
  constexpr float kRound = 12582912.0f; // 1.5 * 2^23
  float n = (c * 1.44269504f + kRound) - kRound;
  float r = c - n * 0.693145752f;
  r = r - n * 1.42860677e-6f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  float scale = bitsToFloat(uint32_t(int32_t(n) + 127) << 23);
  float result = p * scale;
  result = x > kHigh ? __builtin_inff() : result;
  result = x < kLow ? 0.0f : result;
  return x != x ? x : result;
}

TVC_ACT_INLINE float relu(float y) { return y > 0.0f || y != y ? y : 0.0f; }

/// y * sigmoid(a) = y / (1 + exp(-a)); a -> -inf gives y / inf = +-0.
TVC_ACT_INLINE float timesSigmoid(float y, float a) {
  return y / (1.0f + expApprox(-a));
}

TVC_ACT_INLINE float silu(float y) { return timesSigmoid(y, y); }

TVC_ACT_INLINE float geluTanh(float y) {
  // 2u = 2 sqrt(2 / pi) (y + 0.044715 y^3).
  float twiceU = 1.59576912f * (y + 0.044715f * y * y * y);
  return timesSigmoid(y, twiceU);
}

TVC_ACT_INLINE float geluErf(float y) {
  float z = (y < 0.0f ? -y : y) * 0.707106781f;
  float t = 1.0f / (1.0f + 0.5f * z);
  float poly = 0.17087277f;
  poly = poly * t - 0.82215223f;
  poly = poly * t + 1.48851587f;
  poly = poly * t - 1.13520398f;
  poly = poly * t + 0.27886807f;
  poly = poly * t - 0.18628806f;
  poly = poly * t + 0.09678418f;
  poly = poly * t + 0.37409196f;
  poly = poly * t + 1.00002368f;
  poly = poly * t - 1.26551223f;
  // erfc(z) for z >= 0 (an infinite z gives t = 0 and exp = 0).
  float erfc = t * expApprox(poly - z * z);
  float phi = y < 0.0f ? 0.5f * erfc : 1.0f - 0.5f * erfc;
  return y * phi;
}

template <float (*Function)(float)>
TVC_ACT_INLINE void applyRows(float *y, int64_t rows, int64_t ldy,
                              int64_t columns) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = y + r * ldy;
    for (int64_t c = 0; c < columns; ++c)
      row[c] = Function(row[c]);
  }
}

TVC_ACT_INLINE void applyBody(int64_t activation, float *y, int64_t rows,
                              int64_t ldy, int64_t columns) {
  switch (activation) {
  case TVC_LINEAR_RELU:
    return applyRows<relu>(y, rows, ldy, columns);
  case TVC_LINEAR_GELU:
    return applyRows<geluErf>(y, rows, ldy, columns);
  case TVC_LINEAR_GELU_TANH:
    return applyRows<geluTanh>(y, rows, ldy, columns);
  case TVC_LINEAR_SILU:
    return applyRows<silu>(y, rows, ldy, columns);
  default:
    return;
  }
}

__attribute__((target("avx2,fma"))) void applyAvx2(int64_t activation, float *y,
                                                   int64_t rows, int64_t ldy,
                                                   int64_t columns) {
  applyBody(activation, y, rows, ldy, columns);
}

void applyBaseline(int64_t activation, float *y, int64_t rows, int64_t ldy,
                   int64_t columns) {
  applyBody(activation, y, rows, ldy, columns);
}

/// Elements per task of applyActivationParallel, and the count from which
/// it uses the pool.
constexpr int64_t kElementsPerTask = int64_t(1) << 14;

struct ParallelJob {
  int64_t activation;
  float *y;
  int64_t count;
};

void applyTasks(void *context, int64_t begin, int64_t end) {
  const ParallelJob &job = *static_cast<const ParallelJob *>(context);
  int64_t first = begin * kElementsPerTask;
  int64_t last = std::min(job.count, end * kElementsPerTask);
  tvc::runtime::applyActivation(job.activation, job.y + first, 1, 0,
                                last - first);
}

} // namespace

int64_t tvc::runtime::linearActivation(int64_t flags) {
  return flags & TVC_LINEAR_ACTIVATION_MASK;
}

void tvc::runtime::applyActivation(int64_t activation, float *y, int64_t rows,
                                   int64_t ldy, int64_t columns) {
  if (activation == 0 || rows <= 0 || columns <= 0)
    return;
  if (cpuHasAvx2Fma())
    applyAvx2(activation, y, rows, ldy, columns);
  else
    applyBaseline(activation, y, rows, ldy, columns);
}

void tvc::runtime::applyActivationParallel(int64_t activation, float *y,
                                           int64_t m, int64_t n) {
  if (activation == 0 || m <= 0 || n <= 0)
    return;
  int64_t count = m * n;
  ThreadPool &pool = ThreadPool::global();
  if (count < 2 * kElementsPerTask || pool.numThreads() == 1) {
    applyActivation(activation, y, 1, 0, count);
    return;
  }
  ParallelJob job{activation, y, count};
  pool.parallelFor((count + kElementsPerTask - 1) / kElementsPerTask, 1,
                   applyTasks, &job);
}

float tvc::runtime::activationValue(int64_t activation, float value) {
  applyActivation(activation, &value, 1, 1, 1);
  return value;
}
