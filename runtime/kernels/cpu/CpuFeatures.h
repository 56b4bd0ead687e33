//===- CpuFeatures.h - What the CPU the kernels run on can do ---*- C++ -*-===//
//
// The kernels are compiled for the x86-64 baseline with AVX2+FMA and
// AVX-512 copies of their hot loops; these checks (asked once, cached)
// choose among the copies at run time.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CPU_CPUFEATURES_H
#define TVC_RUNTIME_KERNELS_CPU_CPUFEATURES_H

namespace tvc::runtime {

/// AVX2 with FMA (x86-64-v3's vector part).
inline bool cpuHasAvx2Fma() {
  static const bool has = [] {
    // Safe even before the runtime's own CPU-model constructor has run.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}

/// AVX-512 F and VL, on top of AVX2 with FMA.
inline bool cpuHasAvx512() {
  static const bool has = cpuHasAvx2Fma() &&
                          __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}

} // namespace tvc::runtime

#endif // TVC_RUNTIME_KERNELS_CPU_CPUFEATURES_H
