//===- NoCudaExecutor.cpp - The CUDA offload executor without CUDA --------===//
//
// A runtime built without CUDA has tvc_offload_open_cuda too: it reports
// TVC_UNAVAILABLE, and the CPU executor's entry points find no CUDA
// executor open (runtime/offload/CudaExecutor.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_offload.h"
#include "runtime/offload/CudaExecutor.h"

namespace tvc::offload {
bool cudaExecutorIsOpen() { return false; }
void cudaExecutorPrefetch(int64_t) {}
int64_t cudaExecutorWait(int64_t, int64_t home) { return home; }
void cudaExecutorEvict(int64_t) {}
void cudaExecutorKvPrefetch(int64_t, int64_t) {}
int64_t cudaExecutorKvWait(int64_t, int64_t) { return -1; }
void cudaExecutorKvEvict(int64_t, int64_t, int64_t) {}
void cudaExecutorClose() {}
bool cudaExecutorStats(tvc_offload_stats_t &) { return false; }
} // namespace tvc::offload

extern "C" tvc_status_t
tvc_offload_open_cuda(const char *, uint64_t, const tvc_offload_item_t *,
                      int64_t, const tvc_offload_options_t *, void **out_blob) {
  if (out_blob)
    *out_blob = nullptr;
  tvc::offload::setLastError(
      "tvc_offload_open_cuda: this tvc runtime was built without CUDA");
  return TVC_UNAVAILABLE;
}
