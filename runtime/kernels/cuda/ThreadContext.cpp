//===- ThreadContext.cpp - Per-thread state of the CUDA kernels -----------===//
//
// The lazily made, per-thread cuBLAS handle, workspaces and stream ordering
// of ThreadContext.h. Host code only.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/ThreadContext.h"

#include "runtime/kernels/cuda/CublasLibrary.h"
#include "runtime/kernels/cuda/CublasLt.h"

namespace tvc::runtime::cuda {

namespace {
/// cuBLAS's recommended workspace: 32 MiB from Hopper on, 4 MiB before.
constexpr size_t kHopperWorkspace = size_t(32) << 20;
constexpr size_t kWorkspace = size_t(4) << 20;
/// Scratch grows in whole MiB, and at least doubles, so that a sequence of
/// slightly growing calls (decode with a growing cache) reallocates rarely.
constexpr size_t kScratchGranule = size_t(1) << 20;
} // namespace

tvc_status_t toStatus(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return TVC_OK;
  case cudaErrorMemoryAllocation:
    return TVC_OUT_OF_MEMORY;
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorInitializationError:
  case cudaErrorStubLibrary:
  case cudaErrorNoKernelImageForDevice:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

tvc_status_t toStatus(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return TVC_OK;
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return TVC_UNAVAILABLE;
  case CUBLAS_STATUS_ALLOC_FAILED:
    return TVC_OUT_OF_MEMORY;
  default:
    return TVC_INTERNAL;
  }
}

/// Owns the calling thread's context (its constructor is private).
struct ThreadContextHolder {
  ThreadContext context;
};

namespace {
thread_local ThreadContextHolder holder;
} // namespace

ThreadContext::~ThreadContext() { release(); }

void ThreadContext::release() {
  if (device < 0)
    return;
  // Resources belong to their device: free them there. Errors are ignored
  // (at process exit the CUDA runtime may already be gone).
  int current = -1;
  bool switched = cudaGetDevice(&current) == cudaSuccess && current != device &&
                  cudaSetDevice(device) == cudaSuccess;
  delete ltMatmuls;
  if (handle)
    cublasLibrary()->destroy(handle);
  // cudaFree waits for the device, so no queued work still uses these.
  if (cublasWorkspace)
    cudaFree(cublasWorkspace);
  if (scratchPointer)
    cudaFree(scratchPointer);
  if (lastUse)
    cudaEventDestroy(lastUse);
  if (switched)
    cudaSetDevice(current);
  device = -1;
  lastUse = nullptr;
  lastStream = nullptr;
  used = false;
  handle = nullptr;
  ltMatmuls = nullptr;
  ltUnavailable = false;
  cublasWorkspace = scratchPointer = nullptr;
  cublasWorkspaceBytes = scratchBytes = 0;
}

tvc_status_t ThreadContext::init(int newDevice) {
  release();
  tvc_status_t status = toStatus(cudaDeviceGetAttribute(
      &multiprocessorCount, cudaDevAttrMultiProcessorCount, newDevice));
  if (status == TVC_OK)
    status = toStatus(cudaDeviceGetAttribute(
        &computeMajor, cudaDevAttrComputeCapabilityMajor, newDevice));
  if (status == TVC_OK)
    status =
        toStatus(cudaEventCreateWithFlags(&lastUse, cudaEventDisableTiming));
  if (status != TVC_OK) {
    lastUse = nullptr;
    return status;
  }
  device = newDevice;
  return TVC_OK;
}

tvc_status_t ThreadContext::begin(cudaStream_t stream,
                                  ThreadContext **out_context) {
  *out_context = nullptr;
  int current = -1;
  tvc_status_t status = toStatus(cudaGetDevice(&current));
  if (status != TVC_OK)
    return status;
  ThreadContext &context = holder.context;
  if (context.device != current) {
    status = context.init(current);
    if (status != TVC_OK)
      return status;
  }
  // Waiting also when the stream looks unchanged: a destroyed stream's
  // address may come back as a new stream.
  if (context.used) {
    status = toStatus(cudaStreamWaitEvent(stream, context.lastUse, 0));
    if (status != TVC_OK)
      return status;
  }
  *out_context = &context;
  return TVC_OK;
}

tvc_status_t ThreadContext::end(cudaStream_t stream) {
  tvc_status_t status = toStatus(cudaEventRecord(lastUse, stream));
  if (status == TVC_OK) {
    lastStream = stream;
    used = true;
  }
  return status;
}

tvc_status_t ThreadContext::cublas(cudaStream_t stream,
                                   cublasHandle_t *out_handle) {
  *out_handle = nullptr;
  const CublasLibrary *library = cublasLibrary();
  if (!library)
    return TVC_UNAVAILABLE;
  if (!handle) {
    tvc_status_t status = ensureWorkspace();
    if (status != TVC_OK)
      return status;
    cublasHandle_t created = nullptr;
    status = toStatus(library->create(&created));
    if (status != TVC_OK)
      return status;
    handle = created;
  }
  // cublasSetStream resets the workspace to cuBLAS's default pool: set ours
  // after it, every call.
  tvc_status_t status = toStatus(library->setStream(handle, stream));
  if (status == TVC_OK)
    status = toStatus(library->setWorkspace(handle, cublasWorkspace,
                                            cublasWorkspaceBytes));
  if (status == TVC_OK)
    *out_handle = handle;
  return status;
}

tvc_status_t ThreadContext::ensureWorkspace() {
  if (cublasWorkspace)
    return TVC_OK;
  size_t bytes = computeMajor >= 9 ? kHopperWorkspace : kWorkspace;
  tvc_status_t status = toStatus(cudaMalloc(&cublasWorkspace, bytes));
  if (status != TVC_OK) {
    cublasWorkspace = nullptr;
    return status;
  }
  cublasWorkspaceBytes = bytes;
  return TVC_OK;
}

tvc_status_t ThreadContext::cublasLt(LtMatmuls **out_matmuls,
                                     void **out_workspace, size_t *out_bytes) {
  *out_matmuls = nullptr;
  *out_workspace = nullptr;
  *out_bytes = 0;
  if (ltUnavailable)
    return TVC_OK;
  if (!ltMatmuls) {
    if (!cublasLtLibrary()) {
      ltUnavailable = true;
      return TVC_OK;
    }
    tvc_status_t status = ensureWorkspace();
    if (status != TVC_OK)
      return status;
    auto *created = new LtMatmuls();
    status = created->init();
    if (status != TVC_OK) {
      delete created;
      // A handle that cannot be made here will not be made later either.
      ltUnavailable = status == TVC_UNAVAILABLE;
      return ltUnavailable ? TVC_OK : status;
    }
    ltMatmuls = created;
  }
  *out_matmuls = ltMatmuls;
  *out_workspace = cublasWorkspace;
  *out_bytes = cublasWorkspaceBytes;
  return TVC_OK;
}

tvc_status_t ThreadContext::scratch(size_t bytes, void **out_pointer) {
  *out_pointer = nullptr;
  if (bytes > scratchBytes) {
    size_t grown = bytes > 2 * scratchBytes ? bytes : 2 * scratchBytes;
    grown = (grown + kScratchGranule - 1) / kScratchGranule * kScratchGranule;
    if (scratchPointer) {
      // Synchronises with the device: earlier calls may still read it.
      cudaFree(scratchPointer);
      scratchPointer = nullptr;
      scratchBytes = 0;
    }
    void *pointer = nullptr;
    tvc_status_t status = toStatus(cudaMalloc(&pointer, grown));
    if (status != TVC_OK)
      return status;
    scratchPointer = pointer;
    scratchBytes = grown;
  }
  *out_pointer = scratchPointer;
  return TVC_OK;
}

} // namespace tvc::runtime::cuda
