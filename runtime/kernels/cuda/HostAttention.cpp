//===- HostAttention.cpp - Attention on the host for a CUDA model ---------===//
//
// tvc_cuda_kernel_host_attention_f32: attention over KV caches that live in
// pinned, device-mapped host memory (tvc_cuda_host_alloc), computed by the
// CPU entry tvc_kernel_attention_f32 while the GPU runs the rest of the
// model (Lamina-style offloading). q arrives on the device and out goes
// back to it through a pinned staging buffer of the calling thread: q is
// copied in on the current stream, the host waits for that stream once
// (which also completes every cache write queued before the call), runs the
// CPU kernel from the staging into the staging, and queues the copy of the
// result to the device without waiting for it.
//
// The staging buffer is reused by the thread's next call only after that
// call's synchronisation, and ThreadContext orders a call on another stream
// after the previous call's copy, so the pending result copy never races
// with the next call's writes. It grows when a call needs more than any
// before it on the thread (after a synchronisation, since the old buffer
// may still be the source of a queued copy) and is freed when the thread
// exits: a warm decode loop allocates nothing.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/ArgumentChecks.h"
#include "runtime/kernels/cuda/ThreadContext.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

using tvc::runtime::cuda::ThreadContext;
using tvc::runtime::cuda::toStatus;

namespace {

/// Byte alignment of the output region inside the staging buffer.
constexpr size_t kStagingAlignment = 256;
constexpr size_t kMiB = size_t(1) << 20;

/// The calling thread's pinned staging buffer: q, then out.
class HostStaging {
public:
  HostStaging() = default;
  HostStaging(const HostStaging &) = delete;
  HostStaging &operator=(const HostStaging &) = delete;
  ~HostStaging() {
    // At thread exit the thread's last result copy may still be queued (on
    // a stream this object no longer knows): wait for the device first.
    // Errors are ignored (at process exit the CUDA runtime may already be
    // gone).
    if (pointer) {
      cudaDeviceSynchronize();
      cudaFreeHost(pointer);
    }
  }

  /// At least `bytes` of staging. A growth first waits for `stream`, which
  /// ThreadContext has ordered after the thread's previous call, so no
  /// queued copy still reads the old buffer.
  tvc_status_t reserve(size_t bytes, cudaStream_t stream, void **out_pointer) {
    *out_pointer = nullptr;
    if (bytes > capacity) {
      tvc_status_t status = toStatus(cudaStreamSynchronize(stream));
      if (status != TVC_OK)
        return status;
      size_t oldCapacity = capacity;
      if (pointer) {
        status = toStatus(cudaFreeHost(pointer));
        pointer = nullptr;
        capacity = 0;
        if (status != TVC_OK)
          return status;
      }
      // As the device scratch does: at least twice the old size, rounded up
      // to MiB, so that a few growing calls do not each reallocate.
      size_t wanted =
          std::max(bytes, oldCapacity > SIZE_MAX / 2 ? bytes : 2 * oldCapacity);
      if (wanted <= SIZE_MAX - (kMiB - 1))
        wanted = (wanted + kMiB - 1) / kMiB * kMiB;
      void *grown = nullptr;
      status = toStatus(cudaHostAlloc(&grown, wanted, cudaHostAllocPortable));
      // Pinned memory is scarcer than the doubling assumes: retry with what
      // the call needs.
      if (status == TVC_OUT_OF_MEMORY && wanted > bytes) {
        wanted = bytes;
        status = toStatus(cudaHostAlloc(&grown, wanted, cudaHostAllocPortable));
      }
      if (status != TVC_OK)
        return status;
      pointer = grown;
      capacity = wanted;
    }
    *out_pointer = pointer;
    return TVC_OK;
  }

private:
  void *pointer = nullptr;
  size_t capacity = 0;
};

thread_local HostStaging staging;

} // namespace

extern "C" tvc_status_t
tvc_cuda_kernel_host_attention_f32(const tvc_attention_f32_params_t *params) {
  // The CPU entry's checks, every kind without state, before any CUDA call.
  if (!tvc::runtime::validAttentionArguments(params, TVC_MASK_ALISA,
                                             /*withState=*/false) ||
      !tvc::runtime::fitsAttentionKeyIndices(*params))
    return TVC_INVALID_ARGUMENT;
  const tvc_attention_f32_params_t &p = *params;
  if (p.batch == 0 || p.q_len == 0 || p.head_dim == 0)
    return TVC_OK;

  // validAttentionArguments bounds these bytes by INT64_MAX; the staging
  // holds q and out, each rounded up to the alignment.
  size_t rowBytes = size_t(p.batch) * size_t(p.q_len) * size_t(p.heads) *
                    size_t(p.head_dim) * sizeof(float);
  size_t regionBytes = (rowBytes + kStagingAlignment - 1) / kStagingAlignment *
                       kStagingAlignment;
  if (regionBytes < rowBytes || regionBytes > SIZE_MAX / 2)
    return TVC_INVALID_ARGUMENT;

  cudaStream_t stream = static_cast<cudaStream_t>(tvc_cuda_get_stream());
  return tvc::runtime::cuda::withThreadContext(stream, [&](ThreadContext &) {
    void *buffer = nullptr;
    tvc_status_t status = staging.reserve(2 * regionBytes, stream, &buffer);
    if (status != TVC_OK)
      return status;
    float *hostQ = static_cast<float *>(buffer);
    float *hostOut = reinterpret_cast<float *>(
        static_cast<unsigned char *>(buffer) + regionBytes);
    status = toStatus(
        cudaMemcpyAsync(hostQ, p.q, rowBytes, cudaMemcpyDeviceToHost, stream));
    if (status != TVC_OK)
      return status;
    // The one host wait of the call: q is staged and every cache row
    // written by work queued before this call is visible.
    status = toStatus(cudaStreamSynchronize(stream));
    if (status != TVC_OK)
      return status;
    tvc_attention_f32_params_t host = p;
    host.q = hostQ;
    host.out = hostOut;
    status = tvc_kernel_attention_f32(&host);
    if (status != TVC_OK)
      return status;
    return toStatus(cudaMemcpyAsync(p.out, hostOut, rowBytes,
                                    cudaMemcpyHostToDevice, stream));
  });
}
