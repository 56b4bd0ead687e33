//===- CublasLibrary.cpp - cuBLAS, loaded on first use --------------------===//
//
// See CublasLibrary.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/CublasLibrary.h"

#include <cstdio>
#include <dlfcn.h>
#include <mutex>
#include <string>

#ifndef TVC_CUBLAS_PATH
#define TVC_CUBLAS_PATH ""
#endif

namespace tvc::runtime::cuda {

namespace {

std::once_flag loadOnce;
CublasLibrary library;
bool loaded = false;
std::string loadError;

/// Resolves `name` into `slot`; false (naming it in loadError) when absent.
template <typename Function>
bool resolve(void *handle, const char *name, Function &slot) {
  slot = reinterpret_cast<Function>(dlsym(handle, name));
  if (!slot)
    loadError = std::string("libcublas has no ") + name;
  return slot != nullptr;
}

void load() {
  std::string soname = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void *handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  std::string first = handle ? "" : dlerror();
  if (!handle && TVC_CUBLAS_PATH[0] != '\0')
    handle = dlopen(TVC_CUBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    loadError = "cannot load cuBLAS (" + first +
                (TVC_CUBLAS_PATH[0] != '\0'
                     ? std::string("; ") + dlerror()
                     : std::string()) +
                ")";
  } else if (resolve(handle, "cublasCreate_v2", library.create) &&
             resolve(handle, "cublasDestroy_v2", library.destroy) &&
             resolve(handle, "cublasSetStream_v2", library.setStream) &&
             resolve(handle, "cublasSetWorkspace_v2", library.setWorkspace) &&
             resolve(handle, "cublasGemmEx_64", library.gemmEx) &&
             resolve(handle, "cublasGemmStridedBatchedEx_64",
                     library.gemmStridedBatchedEx)) {
    loaded = true;
    return;
  }
  std::fprintf(stderr, "tvc: %s; the CUDA linear maps cannot run\n",
               loadError.c_str());
}

} // namespace

const CublasLibrary *cublasLibrary() {
  std::call_once(loadOnce, load);
  return loaded ? &library : nullptr;
}

const char *cublasLoadError() { return loadError.c_str(); }

} // namespace tvc::runtime::cuda
