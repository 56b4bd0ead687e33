//===- CublasLt.h - cuBLASLt GEMMs with fused epilogues ---------*- C++ -*-===//
//
// The CUDA linear entries' GEMM with the bias and, where cuBLASLt offers
// one, the activation fused into its epilogue (CUBLASLT_EPILOGUE_BIAS,
// RELU_BIAS, GELU_BIAS: the tanh form of GELU), so a linear map is one
// kernel instead of a bias broadcast, a GEMM and an activation kernel.
// cuBLASLt is loaded with dlopen on first use, like cuBLAS
// (CublasLibrary.h), and is optional: without it, or when it has no
// algorithm for a GEMM, the entries take their cuBLAS path. Host code only.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_CUBLASLT_H
#define TVC_RUNTIME_KERNELS_CUDA_CUBLASLT_H

#include "runtime/api/tvc_runtime.h"

#include <cublasLt.h>

#include <cstdint>
#include <vector>

namespace tvc::runtime::cuda {

struct CublasLtLibrary {
  decltype(&cublasLtCreate) create = nullptr;
  decltype(&cublasLtDestroy) destroy = nullptr;
  decltype(&cublasLtMatmulDescCreate) descCreate = nullptr;
  decltype(&cublasLtMatmulDescDestroy) descDestroy = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) descSetAttribute = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) layoutCreate = nullptr;
  decltype(&cublasLtMatrixLayoutDestroy) layoutDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) preferenceCreate = nullptr;
  decltype(&cublasLtMatmulPreferenceDestroy) preferenceDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) preferenceSetAttribute =
      nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) algoGetHeuristic = nullptr;
  decltype(&cublasLtMatmul) matmul = nullptr;
};

/// cuBLASLt, loaded once (thread-safe): libcublasLt.so.<major>, else the
/// toolkit's copy the runtime was built against. Null when neither loads,
/// an entry point is missing, or TVC_CUDA_CUBLASLT=0 is set (then every
/// GEMM takes the cuBLAS path); the reason is printed once to stderr
/// unless it was the environment.
const CublasLtLibrary *cublasLtLibrary();

/// One GEMM of a linear entry in cuBLAS's column-major view:
/// y^T[n,m] = epilogue(op(W) x^T + bias), W [n,k] row-major (out_in,
/// transposed) or [k,n] (in_out), x^T [k,m], y fp32.
struct LtGemm {
  cudaDataType abType;         // W's and x's element type
  cublasComputeType_t compute; // 32F or 32F_FAST_TF32
  cublasLtEpilogue_t epilogue; // DEFAULT, BIAS, RELU(_BIAS), GELU(_BIAS)
  bool inOut;
  int64_t m, n, k;
};

/// The cuBLASLt handle of one host thread and the plans (descriptors and
/// the heuristic's algorithm) of the GEMM shapes it has run, so a decode
/// loop asks the heuristic once per shape. Belongs to a ThreadContext.
class LtMatmuls {
public:
  LtMatmuls() = default;
  LtMatmuls(const LtMatmuls &) = delete;
  LtMatmuls &operator=(const LtMatmuls &) = delete;
  ~LtMatmuls();

  /// Creates the handle; TVC_UNAVAILABLE without cuBLASLt.
  tvc_status_t init();

  /// Queues the GEMM on `stream` with `workspace`. *ran is false (and the
  /// status TVC_OK) when cuBLASLt has no algorithm for it: the caller runs
  /// it another way.
  tvc_status_t run(const LtGemm &gemm, const void *w, const void *x,
                   const float *bias, float *y, void *workspace,
                   size_t workspaceBytes, cudaStream_t stream, bool *ran);

private:
  struct Plan;
  Plan *find(const LtGemm &gemm, uint32_t alignments[4]);
  void destroy(Plan &plan);

  cublasLtHandle_t handle = nullptr;
  std::vector<Plan *> plans;
  /// The next plan replaced once `plans` is full.
  size_t nextVictim = 0;
};

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_CUBLASLT_H
