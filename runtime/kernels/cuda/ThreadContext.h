//===- ThreadContext.h - Per-thread state of the CUDA kernels ---*- C++ -*-===//
//
// What the CUDA kernel entries keep between calls, one set per host thread: a
// cuBLAS handle and cuBLASLt plans sharing one workspace (the linear entries'
// GEMMs) and a device
// scratch buffer that only grows (the split-KV partials of
// tvc_cuda_kernel_attention_f32 and the scores and selections of its
// data-dependent mask kinds; the 16-bit linear entries' activations rounded
// to 16 bits and their GEMV's split-k partial sums). Everything is made lazily
// on a thread's first call that needs it; the scratch is reallocated (cudaFree,
// which waits for the device, then cudaMalloc) only when a call needs more than
// any call before it on that thread, so a warm decode loop allocates nothing.
// Calls of one thread may move between streams: every use is bracketed by
// begin(), which makes the new stream wait (cudaStreamWaitEvent, no host
// synchronisation) for the thread's last use on another stream, and end(),
// which records that use. Resources are tied to the device current at creation;
// a call on another device rebuilds them there.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_THREADCONTEXT_H
#define TVC_RUNTIME_KERNELS_CUDA_THREADCONTEXT_H

#include "runtime/api/tvc_runtime.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>

namespace tvc::runtime::cuda {

class LtMatmuls;

/// Maps a CUDA runtime error to a status: no driver or device is
/// TVC_UNAVAILABLE, a failed allocation TVC_OUT_OF_MEMORY, anything else
/// TVC_INTERNAL.
tvc_status_t toStatus(cudaError_t error);

/// Maps a cuBLAS error: an uninitialisable library (no device) is
/// TVC_UNAVAILABLE, a failed allocation TVC_OUT_OF_MEMORY, anything else
/// TVC_INTERNAL.
tvc_status_t toStatus(cublasStatus_t status);

/// The calling thread's state for one kernel call on `stream`. Use:
///   ThreadContext *context; status = ThreadContext::begin(stream, &context);
///   ... queue work on stream ...; status = context->end(stream);
class ThreadContext {
public:
  /// The calling thread's context, created or rebuilt for the current
  /// device, with `stream` ordered after the thread's previous use of its
  /// resources on any other stream.
  static tvc_status_t begin(cudaStream_t stream, ThreadContext **out_context);

  /// Records the end of this call's work on `stream` (what the next call on
  /// another stream waits for).
  tvc_status_t end(cudaStream_t stream);

  /// The cuBLAS handle, bound to `stream` and to this thread's workspace.
  tvc_status_t cublas(cudaStream_t stream, cublasHandle_t *out_handle);

  /// The thread's cuBLASLt plans (CublasLt.h) and the workspace they share
  /// with the cuBLAS handle; *out_matmuls is null (TVC_OK) when cuBLASLt is
  /// not available, and the caller uses cuBLAS.
  tvc_status_t cublasLt(LtMatmuls **out_matmuls, void **out_workspace,
                        size_t *out_bytes);
  /// Device scratch of at least `bytes`, valid until the next call of this
  /// thread; grows (never shrinks) when a call needs more.
  tvc_status_t scratch(size_t bytes, void **out_pointer);

  /// Streaming multiprocessors of the context's device.
  int multiprocessors() const { return multiprocessorCount; }

  ~ThreadContext();

private:
  ThreadContext() = default;
  ThreadContext(const ThreadContext &) = delete;
  ThreadContext &operator=(const ThreadContext &) = delete;

  /// Makes the context for `device` (current), releasing an old one.
  tvc_status_t init(int device);
  /// Allocates the workspace of the cuBLAS handle and cuBLASLt once.
  tvc_status_t ensureWorkspace();
  void release();

  int device = -1;
  int multiprocessorCount = 0;
  int computeMajor = 0;
  cudaEvent_t lastUse = nullptr;
  cudaStream_t lastStream = nullptr;
  bool used = false;
  cublasHandle_t handle = nullptr;
  void *cublasWorkspace = nullptr;
  size_t cublasWorkspaceBytes = 0;
  LtMatmuls *ltMatmuls = nullptr;
  /// cuBLASLt could not be set up on this device: do not try again.
  bool ltUnavailable = false;
  void *scratchPointer = nullptr;
  size_t scratchBytes = 0;

  friend struct ThreadContextHolder;
};

/// Brackets `body(context)` (a tvc_status_t) by the calling thread's
/// ThreadContext::begin(stream) and end(stream): what every kernel entry
/// does around its work.
template <typename Body>
tvc_status_t withThreadContext(cudaStream_t stream, Body body) {
  ThreadContext *context;
  tvc_status_t status = ThreadContext::begin(stream, &context);
  if (status != TVC_OK)
    return status;
  status = body(*context);
  tvc_status_t ended = context->end(stream);
  return status != TVC_OK ? status : ended;
}

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_THREADCONTEXT_H
