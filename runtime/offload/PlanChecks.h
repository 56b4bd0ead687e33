//===- PlanChecks.h - What both offload executors check and share -*- C++
//-*-===//
//
// The CPU executor (Executor.cpp) and the CUDA executor (CudaExecutor.cpp)
// open the same plans: the same item and KV-cache lists
// (runtime/api/tvc_offload.h), checked by the same rules with the same
// messages, and read from the weights file the same way.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_OFFLOAD_PLANCHECKS_H
#define TVC_RUNTIME_OFFLOAD_PLANCHECKS_H

#include "runtime/api/tvc_offload.h"

#include <cstdint>
#include <string>

namespace tvc::runtime::offload {

constexpr uint64_t kPageBytes = 4096;

inline uint64_t roundUpToPage(uint64_t bytes) {
  return (bytes + kPageBytes - 1) / kPageBytes * kPageBytes;
}

/// pread of exactly `bytes` at `fileOffset` (retrying short reads and
/// EINTR); false with `error` (the errno text or "unexpected end of file").
bool readFully(int fd, char *dst, uint64_t bytes, uint64_t fileOffset,
               std::string &error);

/// "12.3 MiB".
std::string mib(uint64_t bytes);

/// tvc_offload_open's rules for an item list of a blob of `blobBytes`:
/// known placements, page-aligned offsets, bytes inside the blob, no two
/// items overlapping; false with `error` naming the item(s).
bool checkItemList(uint64_t blobBytes, const tvc_offload_item_t *items,
                   int64_t count, std::string &error);

/// tvc_offload_open's rules for KV cache `index`: placement resident or
/// streamed (or, with `hostAttention`, TVC_OFFLOAD_HOST_ATTENTION); batch,
/// rows and row_bytes of at least 1; its bytes, added to `*total` (the
/// page-rounded bytes of the caches before it), below 2^62. Returns its
/// page-rounded bytes and adds them to `*total`; 0 with `error` when a rule
/// is broken.
uint64_t checkKvCache(int64_t index, const tvc_offload_kv_item_t &given,
                      bool hostAttention, uint64_t *total, std::string &error);

} // namespace tvc::runtime::offload

#endif // TVC_RUNTIME_OFFLOAD_PLANCHECKS_H
