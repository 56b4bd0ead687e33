//===- PlanChecks.cpp - What both offload executors check and share -------===//
//
// See PlanChecks.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/offload/PlanChecks.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>

namespace tvc::runtime::offload {

bool readFully(int fd, char *dst, uint64_t bytes, uint64_t fileOffset,
               std::string &error) {
  while (bytes > 0) {
    ssize_t got = pread(fd, dst, bytes, static_cast<off_t>(fileOffset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = got < 0 ? std::strerror(errno) : "unexpected end of file";
      return false;
    }
    dst += got;
    bytes -= static_cast<uint64_t>(got);
    fileOffset += static_cast<uint64_t>(got);
  }
  return true;
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", bytes / 1048576.0);
  return text;
}

bool checkItemList(uint64_t blobBytes, const tvc_offload_item_t *items,
                   int64_t count, std::string &error) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_item_t &given = items[index];
    std::string name = "offload item " + std::to_string(index);
    if (given.placement < TVC_OFFLOAD_RESIDENT ||
        given.placement > TVC_OFFLOAD_PAGED) {
      error = name + ": unknown placement " + std::to_string(given.placement);
      return false;
    }
    if (given.offset % kPageBytes != 0) {
      error = name + ": offset " + std::to_string(given.offset) +
              " is not a multiple of 4096";
      return false;
    }
    if (given.offset > blobBytes || given.bytes > blobBytes - given.offset) {
      error = name + ": bytes [" + std::to_string(given.offset) + ", " +
              std::to_string(given.offset + given.bytes) +
              ") run past the blob's " + std::to_string(blobBytes);
      return false;
    }
    order[index] = index;
  }
  std::sort(order.begin(), order.end(), [&](int64_t lhs, int64_t rhs) {
    return items[lhs].offset < items[rhs].offset;
  });
  for (size_t i = 1; i < order.size(); ++i) {
    const tvc_offload_item_t &before = items[order[i - 1]];
    const tvc_offload_item_t &after = items[order[i]];
    if (before.offset + before.bytes > after.offset) {
      error = "offload items " + std::to_string(order[i - 1]) + " and " +
              std::to_string(order[i]) + " overlap (at blob offset " +
              std::to_string(after.offset) + ")";
      return false;
    }
  }
  return true;
}

uint64_t checkKvCache(int64_t index, const tvc_offload_kv_item_t &given,
                      bool hostAttention, uint64_t *total, std::string &error) {
  // Totals stay below 2^62, so that no offset computed from them overflows.
  constexpr uint64_t kMaxTotal = uint64_t{1} << 62;
  std::string name = "KV cache " + std::to_string(index);
  if (given.placement != TVC_OFFLOAD_RESIDENT &&
      given.placement != TVC_OFFLOAD_STREAMED &&
      !(hostAttention && given.placement == TVC_OFFLOAD_HOST_ATTENTION)) {
    error = name + ": placement " + std::to_string(given.placement) +
            (hostAttention ? " is neither resident (0), streamed (1) nor host "
                             "attention (3)"
                           : " is neither resident (0) nor streamed (1)");
    return 0;
  }
  if (given.batch < 1 || given.rows < 1 || given.row_bytes < 1) {
    error = name + ": expects batch, rows and row_bytes of at least 1, got " +
            std::to_string(given.batch) + ", " + std::to_string(given.rows) +
            ", " + std::to_string(given.row_bytes);
    return 0;
  }
  uint64_t batchRows = 0, bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(given.batch),
                             static_cast<uint64_t>(given.rows), &batchRows) ||
      __builtin_mul_overflow(batchRows, given.row_bytes, &bytes) ||
      bytes > kMaxTotal - *total - kPageBytes) {
    error = name + ": " + std::to_string(given.batch) + " x " +
            std::to_string(given.rows) + " rows of " +
            std::to_string(given.row_bytes) +
            " bytes (with the caches before it) are too many bytes";
    return 0;
  }
  uint64_t span = roundUpToPage(bytes);
  *total += span;
  return span;
}

} // namespace tvc::runtime::offload
