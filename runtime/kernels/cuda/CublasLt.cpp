//===- CublasLt.cpp - cuBLASLt GEMMs with fused epilogues -----------------===//
//
// See CublasLt.h. A plan is made once per GEMM shape, epilogue, types and
// pointer alignments (the heuristic picks algorithms for the alignments it
// is told; cuBLASLt's default assumes 256-byte aligned buffers, which views
// of the weights blob and the arena need not be): a matmul descriptor with
// its transpose, epilogue and bias pointer, three matrix layouts and the
// heuristic's first algorithm. The 64 most recent plans are kept per
// thread.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/CublasLt.h"
#include "runtime/kernels/cuda/ThreadContext.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>

#ifndef TVC_CUBLASLT_PATH
#define TVC_CUBLASLT_PATH ""
#endif

namespace tvc::runtime::cuda {

namespace {

std::once_flag loadOnce;
CublasLtLibrary library;
bool loaded = false;

template <typename Function>
bool resolve(void *handle, const char *name, Function &slot,
             std::string &error) {
  slot = reinterpret_cast<Function>(dlsym(handle, name));
  if (!slot)
    error = std::string("libcublasLt has no ") + name;
  return slot != nullptr;
}

void load() {
  const char *setting = std::getenv("TVC_CUDA_CUBLASLT");
  if (setting && std::strcmp(setting, "0") == 0)
    return;
  std::string soname = "libcublasLt.so." + std::to_string(CUBLAS_VER_MAJOR);
  void *handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle && TVC_CUBLASLT_PATH[0] != '\0')
    handle = dlopen(TVC_CUBLASLT_PATH, RTLD_NOW | RTLD_LOCAL);
  std::string error;
  if (!handle) {
    error = std::string("cannot load cuBLASLt (") + dlerror() + ")";
  } else if (resolve(handle, "cublasLtCreate", library.create, error) &&
             resolve(handle, "cublasLtDestroy", library.destroy, error) &&
             resolve(handle, "cublasLtMatmulDescCreate", library.descCreate,
                     error) &&
             resolve(handle, "cublasLtMatmulDescDestroy", library.descDestroy,
                     error) &&
             resolve(handle, "cublasLtMatmulDescSetAttribute",
                     library.descSetAttribute, error) &&
             resolve(handle, "cublasLtMatrixLayoutCreate", library.layoutCreate,
                     error) &&
             resolve(handle, "cublasLtMatrixLayoutDestroy",
                     library.layoutDestroy, error) &&
             resolve(handle, "cublasLtMatmulPreferenceCreate",
                     library.preferenceCreate, error) &&
             resolve(handle, "cublasLtMatmulPreferenceDestroy",
                     library.preferenceDestroy, error) &&
             resolve(handle, "cublasLtMatmulPreferenceSetAttribute",
                     library.preferenceSetAttribute, error) &&
             resolve(handle, "cublasLtMatmulAlgoGetHeuristic",
                     library.algoGetHeuristic, error) &&
             resolve(handle, "cublasLtMatmul", library.matmul, error)) {
    loaded = true;
    return;
  }
  std::fprintf(stderr,
               "tvc: %s; CUDA linear maps run without fused epilogues\n",
               error.c_str());
}

/// The largest power of two up to 256 that divides the address (256 for
/// null: the pointer is not read).
uint32_t alignmentOf(const void *pointer) {
  uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0)
    alignment /= 2;
  return alignment;
}

constexpr size_t kMaxPlans = 64;

} // namespace

const CublasLtLibrary *cublasLtLibrary() {
  std::call_once(loadOnce, load);
  return loaded ? &library : nullptr;
}

struct LtMatmuls::Plan {
  LtGemm gemm;
  /// Of W, x, y and the bias.
  uint32_t alignments[4];
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
  bool supported = false;
};

LtMatmuls::~LtMatmuls() {
  for (Plan *plan : plans) {
    destroy(*plan);
    delete plan;
  }
  if (handle)
    cublasLtLibrary()->destroy(handle);
}

tvc_status_t LtMatmuls::init() {
  const CublasLtLibrary *lt = cublasLtLibrary();
  if (!lt)
    return TVC_UNAVAILABLE;
  return toStatus(lt->create(&handle));
}

void LtMatmuls::destroy(Plan &plan) {
  const CublasLtLibrary *lt = cublasLtLibrary();
  if (plan.a)
    lt->layoutDestroy(plan.a);
  if (plan.b)
    lt->layoutDestroy(plan.b);
  if (plan.c)
    lt->layoutDestroy(plan.c);
  if (plan.desc)
    lt->descDestroy(plan.desc);
  plan = Plan();
}

LtMatmuls::Plan *LtMatmuls::find(const LtGemm &gemm, uint32_t alignments[4]) {
  for (Plan *plan : plans) {
    const LtGemm &g = plan->gemm;
    if (g.abType == gemm.abType && g.compute == gemm.compute &&
        g.epilogue == gemm.epilogue && g.inOut == gemm.inOut && g.m == gemm.m &&
        g.n == gemm.n && g.k == gemm.k &&
        std::memcmp(plan->alignments, alignments, sizeof(plan->alignments)) ==
            0)
      return plan;
  }
  return nullptr;
}

tvc_status_t LtMatmuls::run(const LtGemm &gemm, const void *w, const void *x,
                            const float *bias, float *y, void *workspace,
                            size_t workspaceBytes, cudaStream_t stream,
                            bool *ran) {
  *ran = false;
  const CublasLtLibrary *lt = cublasLtLibrary();
  if (!lt || !handle)
    return TVC_OK;
  uint32_t alignments[4] = {alignmentOf(w), alignmentOf(x), alignmentOf(y),
                            alignmentOf(bias)};
  Plan *plan = find(gemm, alignments);
  if (!plan) {
    Plan made;
    made.gemm = gemm;
    std::memcpy(made.alignments, alignments, sizeof(alignments));
    cublasOperation_t transA = gemm.inOut ? CUBLAS_OP_N : CUBLAS_OP_T;
    uint32_t epilogue = gemm.epilogue;
    cublasStatus_t status =
        lt->descCreate(&made.desc, gemm.compute, CUDA_R_32F);
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->descSetAttribute(made.desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                    &transA, sizeof(transA));
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->descSetAttribute(made.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                    &epilogue, sizeof(epilogue));
    // The heuristic reads the bias pointer's alignment.
    if (status == CUBLAS_STATUS_SUCCESS && bias)
      status = lt->descSetAttribute(
          made.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias));
    // Column-major: op(A) = W^T ([k,n] as stored) or W ([n,k] as stored).
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->layoutCreate(
          &made.a, gemm.abType, gemm.inOut ? gemm.n : gemm.k,
          gemm.inOut ? gemm.k : gemm.n, gemm.inOut ? gemm.n : gemm.k);
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->layoutCreate(&made.b, gemm.abType, gemm.k, gemm.m, gemm.k);
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->layoutCreate(&made.c, CUDA_R_32F, gemm.n, gemm.m, gemm.n);
    cublasLtMatmulPreference_t preference = nullptr;
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->preferenceCreate(&preference);
    uint64_t maxWorkspace = workspaceBytes;
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt->preferenceSetAttribute(
          preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &maxWorkspace,
          sizeof(maxWorkspace));
    const cublasLtMatmulPreferenceAttributes_t alignmentAttributes[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && status == CUBLAS_STATUS_SUCCESS; ++i) {
      // C and D are both y.
      uint32_t alignment = alignments[i < 2 ? i : 2];
      status = lt->preferenceSetAttribute(preference, alignmentAttributes[i],
                                          &alignment, sizeof(alignment));
    }
    if (status == CUBLAS_STATUS_SUCCESS) {
      cublasLtMatmulHeuristicResult_t result;
      int count = 0;
      cublasStatus_t found =
          lt->algoGetHeuristic(handle, made.desc, made.a, made.b, made.c,
                               made.c, preference, 1, &result, &count);
      // No algorithm (or an unsupported combination) is not an error: the
      // caller takes its cuBLAS path, and the plan remembers it.
      made.supported = found == CUBLAS_STATUS_SUCCESS && count > 0 &&
                       result.state == CUBLAS_STATUS_SUCCESS;
      if (made.supported)
        made.algo = result.algo;
    }
    if (preference)
      lt->preferenceDestroy(preference);
    if (status != CUBLAS_STATUS_SUCCESS) {
      destroy(made);
      return toStatus(status);
    }
    if (plans.size() < kMaxPlans) {
      plans.push_back(new Plan(made));
      plan = plans.back();
    } else {
      plan = plans[nextVictim];
      destroy(*plan);
      *plan = made;
      nextVictim = (nextVictim + 1) % kMaxPlans;
    }
  }
  if (!plan->supported)
    return TVC_OK;
  if (bias) {
    tvc_status_t status = toStatus(lt->descSetAttribute(
        plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    if (status != TVC_OK)
      return status;
  }
  const float one = 1.0f, zero = 0.0f;
  cublasStatus_t status = lt->matmul(
      handle, plan->desc, &one, w, plan->a, x, plan->b, &zero, y, plan->c, y,
      plan->c, &plan->algo, workspace, workspaceBytes, stream);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
    // Checked before anything is queued: the caller's path runs instead,
    // for this shape from now on.
    plan->supported = false;
    return TVC_OK;
  }
  *ran = status == CUBLAS_STATUS_SUCCESS;
  return toStatus(status);
}

} // namespace tvc::runtime::cuda
