//===- CublasLibrary.h - cuBLAS, loaded on first use -------------*- C++ -*-===//
//
// The few cuBLAS entry points the CUDA kernels call, resolved with dlopen
// the first time a kernel needs a handle. Linking libcublas into the
// runtime made every binary pay for it at start-up, CPU-only ones included:
// loading it takes ~210 MiB of resident memory and ~0.14 s on the build
// machine (its static initialisers), before main runs. Host code only.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_CUBLASLIBRARY_H
#define TVC_RUNTIME_KERNELS_CUDA_CUBLASLIBRARY_H

#include <cublas_v2.h>

namespace tvc::runtime::cuda {

struct CublasLibrary {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) setStream = nullptr;
  decltype(&cublasSetWorkspace_v2) setWorkspace = nullptr;
  decltype(&cublasGemmEx_64) gemmEx = nullptr;
  decltype(&cublasGemmStridedBatchedEx_64) gemmStridedBatchedEx = nullptr;
};

/// cuBLAS, loaded once (thread-safe): libcublas.so.<major> by its soname,
/// else the toolkit's library the runtime was built against. Null when
/// neither loads or an entry point is missing; the reason is printed once
/// to stderr and kept for cublasLoadError().
const CublasLibrary *cublasLibrary();

/// Why cublasLibrary() returned null (call it after that): "" when it
/// did not.
const char *cublasLoadError();

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_CUBLASLIBRARY_H
