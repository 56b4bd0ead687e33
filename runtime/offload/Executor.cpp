//===- Executor.cpp - Weights and KV-cache offload executor (CPU) ---------===//
//
// The executor of runtime/api/tvc_offload.h. One contiguous range of
// address space is reserved at open: the weights file mapped privately and
// writably (the blob starting on a 2 MiB boundary), then, from the blob's
// size rounded up to 2 MiB, the streamed items' pool: anonymous memory of
// transparent huge pages, faulted in once at open, then the spill file of
// the streamed KV caches mapped shared (each cache's *home*). Every byte of
// the blob is file-backed (demand paged) unless read explicitly. Resident
// items are read at open into anonymous memory over their range. A
// streamed item's range is never replaced: it is read into a slot, one
// contiguous run of pool pages, and tvc_offload_wait tells the compiled
// code where the slot is (its offset from the blob); evict gives the run
// back. Slots are the compiler's when it gives them (options.pool_bytes:
// one fixed run per item, chosen so that items held at once never share
// pages), else the executor's. So a read neither faults, frees nor moves a
// page, and the item's own range, still file-backed, holds correct bytes to
// fall back on when the pool has no room or a read fails. A streamed KV cache
// takes a slot from the same pool: its valid rows are read from the spill file
// into it and its new rows written back at its evict; its home, the spill file
// mapped shared, is what the compiled code reads and writes when the pool
// has no room.
// One I/O thread serves prefetches from a ring preallocated at open (an
// item or cache is in it at most once), so the calls compiled code makes
// allocate nothing.
// With no CPU executor open, the entry points hand over to the CUDA
// executor (CudaExecutor.cpp) when that one is open.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_offload.h"
#include "runtime/offload/CudaExecutor.h"
#include "runtime/offload/PlanChecks.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using tvc::runtime::offload::mib;
using tvc::runtime::offload::readFully;
using tvc::runtime::offload::roundUpToPage;

constexpr uint64_t kPage = tvc::runtime::offload::kPageBytes;
/// The weights file's header: the blob starts at this file offset.
constexpr uint64_t kHeaderBytes = 4096;

/// Pages of a transparent huge page (2 MiB).
constexpr uint64_t kHugePages = 512;
constexpr uint64_t kHugeBytes = kHugePages * kPage;

uint64_t roundUpToHuge(uint64_t bytes) {
  return (bytes + kHugeBytes - 1) & ~(kHugeBytes - 1);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/// Pages [start, start + pages) of the pool.
struct Run {
  uint64_t start = 0;
  uint64_t pages = 0;
};

enum class State : uint8_t {
  FileBacked, // nothing read (never prefetched, evicted, or a failed read)
  Queued,     // a slot taken, waiting in the ring for the I/O thread
  Reading,    // being read into its slot (by the I/O thread or a wait)
  Resident,   // its slot holds the bytes
  Fallback,   // no slot was free at its wait: its own range (home) used
  Writing,    // a KV cache's new rows being written back by its evict
};

/// What a weight item and a KV cache streamed through the pool share.
struct Slotted {
  uint64_t span = 0; // the page-rounded bytes
  int32_t placement = TVC_OFFLOAD_RESIDENT;
  State state = State::FileBacked;
  bool inRing = false; // a Queued item evicted before its read stays there
  /// Its slot while Queued, Reading, Resident or Writing.
  Run slot;
  /// Its fixed slot: the compiler's, or its own when the pool holds every
  /// streamed item (fixedSlots).
  Run fixedSlot;
};

/// A weight: a range of the blob.
struct Item : Slotted {
  uint64_t offset = 0;
  uint64_t readBytes = 0; // the span, clipped at the end of the file
};

/// A KV cache, [batch, rows, rowBytes]. A streamed one lives in the spill
/// file at fileOffset, mapped shared at blob offset `home`.
struct KvItem : Slotted {
  uint64_t batch = 0;
  uint64_t rows = 0;
  uint64_t rowBytes = 0;
  uint64_t fileOffset = 0;
  uint64_t home = 0;
  /// Rows [0, queuedRows) of every batch: what its queued read reads.
  uint64_t queuedRows = 0;
  /// Rows [0, slotRows) of every batch are in its slot (Resident).
  uint64_t slotRows = 0;
  /// A wait returned its slot: the slot is the cache until the evict, which
  /// writes its new rows back (a slot only prefetched holds nothing new).
  bool handedOut = false;
};

struct Executor {
  int fd = -1;
  char *base = nullptr; // the reservation: header + blob, pool, spill file
  size_t reservedBytes = 0;
  char *blob = nullptr;
  tvc_offload_options_t options{};
  std::vector<Item> items;
  std::vector<KvItem> kvItems;
  /// Per KV cache: has_slot and slot_offset as given (checked once the
  /// pool's size is known).
  std::vector<std::pair<int32_t, uint64_t>> kvSlots;
  /// Entries: an item's index, or items.size() + a KV cache's index.
  std::vector<int64_t> ring; // capacity: one entry per item and cache
  size_t ringHead = 0, ringCount = 0;

  std::mutex mutex;
  std::condition_variable work; // the I/O thread: ring not empty, or stop
  std::condition_variable done; // waiters: a read finished
  bool stop = false;
  tvc_offload_stats_t stats{};
  std::thread io;

  /// The pool of streamed items' slots, at blob + poolOffset (2 MiB
  /// aligned); its free runs sorted by start, coalesced, with capacity for
  /// the most there can be.
  char *pool = nullptr;
  uint64_t poolOffset = 0;
  uint64_t poolBytes = 0;
  /// Each streamed item has a fixed slot: the compiler's (pool_bytes), or
  /// its own when the pool holds all streamed items at once (no allocation,
  /// no fragmentation); else slots are allocated from freeRuns.
  bool fixedSlots = false;
  std::vector<Run> freeRuns;

  /// The streamed KV caches' spill file (unlinked), mapped shared at blob +
  /// spillOffset, right after the pool.
  int spillFd = -1;
  uint64_t spillOffset = 0;
  uint64_t spillBytes = 0;
};

std::atomic<Executor *> openExecutor{nullptr};
/// open's failure or the open executor's first failed read.
std::mutex errorMutex;
char lastError[512] = "";

void setError(const std::string &message) {
  std::lock_guard<std::mutex> lock(errorMutex);
  std::snprintf(lastError, sizeof(lastError), "%s", message.c_str());
}

/// Records the first failed read of an open executor.
void setErrorOnce(const std::string &message) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (lastError[0] == '\0')
    std::snprintf(lastError, sizeof(lastError), "%s", message.c_str());
}

/// pwrite of exactly `bytes` (retrying short writes and EINTR).
bool writeFully(int fd, const char *src, uint64_t bytes, uint64_t fileOffset,
                std::string &error) {
  while (bytes > 0) {
    ssize_t put = pwrite(fd, src, bytes, static_cast<off_t>(fileOffset));
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0) {
      error = put < 0 ? std::strerror(errno) : "nothing written";
      return false;
    }
    src += put;
    bytes -= static_cast<uint64_t>(put);
    fileOffset += static_cast<uint64_t>(put);
  }
  return true;
}

/// Reads `item`'s bytes from the file into `dst` (its span: zeros past the
/// end of the file, as the file mapping reads there).
bool readInto(Executor &executor, const Item &item, char *dst,
              std::string &error) {
  uint64_t fileOffset = kHeaderBytes + item.offset;
  if (!readFully(executor.fd, dst, item.readBytes, fileOffset, error))
    return false;
  if (item.readBytes < item.span)
    std::memset(dst + item.readBytes, 0, item.span - item.readBytes);
  if (executor.options.drop_page_cache)
    posix_fadvise(executor.fd, static_cast<off_t>(fileOffset),
                  static_cast<off_t>(item.readBytes), POSIX_FADV_DONTNEED);
  return true;
}

/// Replaces a resident item's range with anonymous memory and reads it
/// there (at open: nothing reads the range meanwhile).
bool loadResident(Executor &executor, const Item &item, std::string &error) {
  char *target = executor.blob + item.offset;
  if (mmap(target, item.span, PROT_READ | PROT_WRITE,
           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
    error = std::string("cannot allocate memory: ") + std::strerror(errno);
    return false;
  }
  madvise(target, item.span, MADV_HUGEPAGE);
  return readInto(executor, item, target, error);
}

/// Takes one run of `item.span` of pool pages for its slot: for an item of
/// a huge page or more, first one starting on a huge page; else the first
/// free run long enough. False, taking nothing, when no run is. The mutex
/// is held.
bool allocateSlot(Executor &executor, Slotted &item) {
  if (executor.fixedSlots) {
    item.slot = item.fixedSlot;
    return true;
  }
  uint64_t need = item.span / kPage;
  std::vector<Run> &free = executor.freeRuns;
  if (need == 0)
    return false;
  if (need >= kHugePages) {
    // The pool starts on a huge page: pool page p is on one when
    // p % kHugePages == 0.
    for (size_t at = 0; at < free.size(); ++at) {
      Run run = free[at];
      uint64_t start = (run.start + kHugePages - 1) / kHugePages * kHugePages;
      if (start + need > run.start + run.pages)
        continue;
      item.slot = {start, need};
      Run after = {start + need, run.start + run.pages - start - need};
      if (start > run.start) {
        free[at].pages = start - run.start;
        if (after.pages) // within the capacity reserved at open
          free.insert(free.begin() + static_cast<ptrdiff_t>(at) + 1, after);
      } else if (after.pages) {
        free[at] = after;
      } else {
        free.erase(free.begin() + static_cast<ptrdiff_t>(at));
      }
      return true;
    }
  }
  for (size_t at = 0; at < free.size(); ++at) {
    if (free[at].pages < need)
      continue;
    item.slot = {free[at].start, need};
    free[at].start += need;
    free[at].pages -= need;
    if (free[at].pages == 0)
      free.erase(free.begin() + static_cast<ptrdiff_t>(at));
    return true;
  }
  return false;
}

/// Gives `item`'s slot back (coalescing it with its neighbours). The mutex
/// is held.
void freeSlot(Executor &executor, Slotted &item) {
  std::vector<Run> &free = executor.freeRuns;
  Run run = item.slot;
  item.slot = {};
  if (executor.fixedSlots || run.pages == 0)
    return;
  auto next = std::lower_bound(
      free.begin(), free.end(), run,
      [](const Run &lhs, const Run &rhs) { return lhs.start < rhs.start; });
  bool joinsPrevious =
      next != free.begin() &&
      std::prev(next)->start + std::prev(next)->pages == run.start;
  bool joinsNext = next != free.end() && run.start + run.pages == next->start;
  if (joinsPrevious && joinsNext) {
    std::prev(next)->pages += run.pages + next->pages;
    free.erase(next);
  } else if (joinsPrevious) {
    std::prev(next)->pages += run.pages;
  } else if (joinsNext) {
    next->start = run.start;
    next->pages += run.pages;
  } else {
    free.insert(next, run); // within the capacity reserved at open
  }
}

/// The offset from the blob of `item`'s slot.
int64_t slotOffset(const Executor &executor, const Slotted &item) {
  return static_cast<int64_t>(executor.poolOffset + item.slot.start * kPage);
}

/// Counts `item`'s pages as resident (from the issue of its read).
void addResident(Executor &executor, const Slotted &item) {
  tvc_offload_stats_t &stats = executor.stats;
  stats.resident_bytes += item.span;
  stats.peak_resident_bytes =
      std::max(stats.peak_resident_bytes, stats.resident_bytes);
  if (executor.options.budget_bytes &&
      stats.resident_bytes > executor.options.budget_bytes)
    ++stats.budget_violations;
}

/// Reads item `index`, whose state the caller set to Reading (its slot
/// taken), with the mutex held by `lock` (released during the read).
void readItem(Executor &executor, int64_t index,
              std::unique_lock<std::mutex> &lock) {
  Item &item = executor.items[index];
  char *slot = executor.pool + item.slot.start * kPage;
  lock.unlock();
  std::string error;
  bool ok = readInto(executor, item, slot, error);
  lock.lock();
  if (ok) {
    item.state = State::Resident;
    executor.stats.bytes_read += item.readBytes;
    ++executor.stats.reads;
  } else {
    // Its own range is file-backed: the wait sends the compiled code there.
    freeSlot(executor, item);
    item.state = State::FileBacked;
    executor.stats.resident_bytes -= item.span;
    ++executor.stats.io_errors;
    setErrorOnce("cannot read offload item " + std::to_string(index) +
                 " (blob offset " + std::to_string(item.offset) +
                 "): " + error);
  }
  executor.done.notify_all();
}

/// Moves rows [firstRow, endRow) of every batch of KV cache `kv` between
/// its slot and the spill file: one pread or pwrite per batch.
bool transferRows(Executor &executor, const KvItem &kv, uint64_t firstRow,
                  uint64_t endRow, bool write, std::string &error) {
  char *slot = executor.pool + kv.slot.start * kPage;
  uint64_t batchBytes = kv.rows * kv.rowBytes;
  uint64_t bytes = (endRow - firstRow) * kv.rowBytes;
  for (uint64_t batch = 0; batch < kv.batch && bytes; ++batch) {
    uint64_t at = batch * batchBytes + firstRow * kv.rowBytes;
    bool ok = write ? writeFully(executor.spillFd, slot + at, bytes,
                                 kv.fileOffset + at, error)
                    : readFully(executor.spillFd, slot + at, bytes,
                                kv.fileOffset + at, error);
    if (!ok)
      return false;
    // Read: the pages are clean, dropped now. Written: starts their
    // write-back; they are dropped after it, by a later read's advice.
    if (executor.options.drop_page_cache)
      posix_fadvise(executor.spillFd, static_cast<off_t>(kv.fileOffset + at),
                    static_cast<off_t>(bytes), POSIX_FADV_DONTNEED);
  }
  return true;
}

/// Reads rows [firstRow, endRow) of every batch of KV cache `index`, whose
/// state the caller set to Reading (its slot taken, rows [0, firstRow)
/// already there), with the mutex held by `lock` (released during the
/// read). A failed read frees the slot: the cache is at its home then.
void readKv(Executor &executor, int64_t index, uint64_t firstRow,
            uint64_t endRow, std::unique_lock<std::mutex> &lock) {
  KvItem &kv = executor.kvItems[index];
  lock.unlock();
  std::string error;
  bool ok = transferRows(executor, kv, firstRow, endRow, false, error);
  lock.lock();
  if (ok) {
    kv.state = State::Resident;
    kv.slotRows = endRow;
    executor.stats.kv_bytes_read +=
        kv.batch * (endRow - firstRow) * kv.rowBytes;
  } else {
    freeSlot(executor, kv);
    kv.state = State::FileBacked;
    kv.slotRows = 0;
    executor.stats.resident_bytes -= kv.span;
    ++executor.stats.io_errors;
    setErrorOnce("cannot read rows [" + std::to_string(firstRow) + ", " +
                 std::to_string(endRow) + ") of KV cache " +
                 std::to_string(index) + " from its spill file: " + error);
  }
  executor.done.notify_all();
}

/// Queues the read of item or cache `entry` (a ring entry) unless it is in
/// the ring already. The mutex is held.
void enqueue(Executor &executor, int64_t entry, Slotted &item) {
  if (item.inRing)
    return;
  size_t tail = (executor.ringHead + executor.ringCount) % executor.ring.size();
  executor.ring[tail] = entry;
  ++executor.ringCount;
  item.inRing = true;
}

void ioThread(Executor *executor) {
  std::unique_lock<std::mutex> lock(executor->mutex);
  while (true) {
    executor->work.wait(
        lock, [&] { return executor->stop || executor->ringCount > 0; });
    if (executor->stop)
      return;
    int64_t index = executor->ring[executor->ringHead];
    executor->ringHead = (executor->ringHead + 1) % executor->ring.size();
    --executor->ringCount;
    int64_t numItems = static_cast<int64_t>(executor->items.size());
    if (index >= numItems) {
      KvItem &kv = executor->kvItems[index - numItems];
      kv.inRing = false;
      // Evicted or taken by a wait since it was queued.
      if (kv.state != State::Queued)
        continue;
      kv.state = State::Reading;
      readKv(*executor, index - numItems, 0, kv.queuedRows, lock);
      continue;
    }
    Item &item = executor->items[index];
    item.inRing = false;
    // Evicted or taken by a wait since it was queued.
    if (item.state != State::Queued)
      continue;
    item.state = State::Reading;
    readItem(*executor, index, lock);
  }
}
/// The bytes of MemAvailable in /proc/meminfo, or 0 when unknown.
uint64_t availableMemory() {
  FILE *file = std::fopen("/proc/meminfo", "r");
  if (!file)
    return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof(line), file))
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
      break;
  std::fclose(file);
  return static_cast<uint64_t>(kib) * 1024;
}

/// Checks the items against the blob; fills `executor.items`.
bool checkItems(Executor &executor, uint64_t blobBytes,
                const tvc_offload_item_t *items, int64_t count,
                std::string &error) {
  if (!tvc::runtime::offload::checkItemList(blobBytes, items, count, error))
    return false;
  executor.items.resize(static_cast<size_t>(count));
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_item_t &given = items[index];
    Item &item = executor.items[index];
    item.offset = given.offset;
    item.span = roundUpToPage(given.bytes);
    item.readBytes = std::min(item.span, blobBytes - given.offset);
    item.placement = given.placement;
  }
  return true;
}

/// Checks the KV caches of the options; fills `executor.kvItems` and lays
/// the streamed ones out in the spill file (page-aligned, in order).
bool checkKvItems(Executor &executor, const tvc_offload_kv_item_t *items,
                  int64_t count, std::string &error) {
  if (count < 0 || (count > 0 && !items)) {
    error = "tvc_offload_open: a null KV cache list or a negative KV cache "
            "count";
    return false;
  }
  executor.kvItems.resize(static_cast<size_t>(count));
  uint64_t total = 0;
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_kv_item_t &given = items[index];
    uint64_t span = tvc::runtime::offload::checkKvCache(index, given,
                                                        /*hostAttention=*/false,
                                                        &total, error);
    if (span == 0)
      return false;
    executor.kvSlots.push_back({given.has_slot, given.slot_offset});
    KvItem &kv = executor.kvItems[index];
    kv.batch = static_cast<uint64_t>(given.batch);
    kv.rows = static_cast<uint64_t>(given.rows);
    kv.rowBytes = given.row_bytes;
    kv.span = span;
    kv.placement = given.placement;
    if (kv.placement == TVC_OFFLOAD_STREAMED) {
      kv.fileOffset = executor.spillBytes;
      executor.spillBytes += kv.span;
    }
  }
  // Nothing keeps the caller's list after open.
  executor.options.kv_items = nullptr;
  executor.options.num_kv_items = 0;
  return true;
}

/// Creates the unlinked spill file of `bytes` (zeros, its blocks allocated
/// where the file system can) in `dir`.
tvc_status_t createSpillFile(Executor &executor, const std::string &dir,
                             uint64_t bytes, std::string &error) {
  std::string where = "'" + dir + "'";
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  // File systems without O_TMPFILE: a named file, unlinked at once.
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string name = dir + "/tvc-kv-XXXXXX";
    std::vector<char> path(name.begin(), name.end());
    path.push_back('\0');
    fd = mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0)
      unlink(path.data());
  }
  if (fd < 0) {
    error = "cannot create the KV-cache spill file in " + where + ": " +
            std::strerror(errno);
    return TVC_NOT_FOUND;
  }
  executor.spillFd = fd;
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    error = "cannot size the KV-cache spill file in " + where + " to " +
            mib(bytes) + ": " + std::strerror(errno);
    return TVC_UNAVAILABLE;
  }
  // Its blocks allocated now, so that no write to it (the home's shared
  // mapping included, where a failure would be a SIGBUS) runs out of room.
  if (fallocate(fd, 0, 0, static_cast<off_t>(bytes)) != 0 &&
      errno != EOPNOTSUPP && errno != ENOSYS) {
    error = "cannot allocate the " + mib(bytes) + " KV-cache spill file in " +
            where + ": " + std::strerror(errno);
    return TVC_UNAVAILABLE;
  }
  executor.stats.kv_spill_bytes = bytes;
  return TVC_OK;
}

/// `bytes` of address space (PROT_NONE, to be mapped over) starting `skew`
/// bytes before a huge page boundary, or null.
char *reserveAligned(uint64_t bytes, uint64_t skew) {
  uint64_t length = roundUpToPage(bytes) + kHugeBytes;
  void *raw = mmap(nullptr, length, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned =
      ((start + skew + kHugeBytes - 1) & ~(kHugeBytes - 1)) - skew;
  uintptr_t end = aligned + roundUpToPage(bytes);
  if (aligned > start)
    munmap(raw, aligned - start);
  if (start + length > end)
    munmap(reinterpret_cast<void *>(end), start + length - end);
  return reinterpret_cast<char *>(aligned);
}

/// Checks the compiler's slots (options.pool_bytes given): every streamed
/// item and KV cache has one, page-aligned and inside the pool, and the
/// pool fits what the budget leaves after `residentAll`; sets each one's
/// fixedSlot. Whether items sharing bytes are ever held at once is the
/// plan's to know.
bool checkPlannedSlots(Executor &executor, const tvc_offload_item_t *items,
                       uint64_t residentAll, std::string &error) {
  uint64_t pool = executor.options.pool_bytes;
  uint64_t budget = executor.options.budget_bytes;
  if (pool % kPage != 0) {
    error = "the offload page pool of " + std::to_string(pool) +
            " bytes is not a multiple of 4096";
    return false;
  }
  if (budget && (residentAll > budget || pool > budget - residentAll)) {
    error = "the offload page pool of " + std::to_string(pool) +
            " bytes and the resident items and KV caches (" +
            std::to_string(residentAll) + " bytes) exceed the budget of " +
            std::to_string(budget) + " bytes";
    return false;
  }
  auto check = [&](Slotted &item, int32_t hasSlot, uint64_t slot,
                   const std::string &name) {
    if (item.placement != TVC_OFFLOAD_STREAMED || item.span == 0)
      return true;
    if (!hasSlot) {
      error = name + " is streamed but has no slot, and pool_bytes asks for "
                     "the compiler's slots";
      return false;
    }
    if (slot % kPage != 0 || slot > pool || item.span > pool - slot) {
      error = name + ": slot [" + std::to_string(slot) + ", +" +
              std::to_string(item.span) +
              ") is not a page-aligned range of the " + std::to_string(pool) +
              "-byte pool";
      return false;
    }
    item.fixedSlot = {slot / kPage, item.span / kPage};
    return true;
  };
  for (size_t index = 0; index < executor.items.size(); ++index)
    if (!check(executor.items[index], items[index].has_slot,
               items[index].slot_offset,
               "offload item " + std::to_string(index)))
      return false;
  for (size_t index = 0; index < executor.kvItems.size(); ++index)
    if (!check(executor.kvItems[index], executor.kvSlots[index].first,
               executor.kvSlots[index].second,
               "KV cache " + std::to_string(index)))
      return false;
  return true;
}

/// Opens and maps the file, checks the plan, reads the resident items and
/// sets up the pool.
tvc_status_t openExecutorOn(Executor &executor, const char *path,
                            uint64_t blobBytes, const tvc_offload_item_t *items,
                            int64_t count, std::string &error) {
  std::string name = std::string("'") + path + "'";
  if (!checkItems(executor, blobBytes, items, count, error) ||
      !checkKvItems(executor, executor.options.kv_items,
                    executor.options.num_kv_items, error))
    return TVC_INVALID_ARGUMENT;
  uint64_t budget = executor.options.budget_bytes;
  if (budget) {
    uint64_t available = availableMemory();
    if (available && budget > available) {
      error = "the offload plan needs " + mib(budget) +
              " of memory for weights and KV caches; this machine has " +
              mib(available) + " available";
      return TVC_OUT_OF_MEMORY;
    }
  }
  // The pool of streamed items and KV caches: what the budget leaves after
  // the resident ones, at least the largest streamed one, at most all of
  // them.
  uint64_t residentSpans = 0, residentKvSpans = 0, streamedSpans = 0,
           largestStreamed = 0;
  std::vector<Slotted *> streamed; // weights, then KV caches
  for (Item &item : executor.items) {
    if (item.placement == TVC_OFFLOAD_RESIDENT)
      residentSpans += item.span;
    if (item.placement == TVC_OFFLOAD_STREAMED && item.span)
      streamed.push_back(&item);
  }
  for (KvItem &kv : executor.kvItems) {
    if (kv.placement == TVC_OFFLOAD_RESIDENT)
      residentKvSpans += kv.span;
    else
      streamed.push_back(&kv);
  }
  for (const Slotted *item : streamed) {
    streamedSpans += item->span;
    largestStreamed = std::max(largestStreamed, item->span);
  }
  uint64_t residentAll = residentSpans + residentKvSpans;
  uint64_t plannedPool = executor.options.pool_bytes;
  if (plannedPool && !checkPlannedSlots(executor, items, residentAll, error))
    return TVC_INVALID_ARGUMENT;
  // When the pool can hold them all, each streamed item gets its own slot,
  // an item of a huge page or more starting on one if the budget leaves
  // room for the padding.
  uint64_t paddedSpans = 0;
  for (const Slotted *item : streamed)
    paddedSpans =
        (item->span >= kHugeBytes ? roundUpToHuge(paddedSpans) : paddedSpans) +
        item->span;
  bool padded =
      !budget || paddedSpans <= budget - std::min(budget, residentAll);
  uint64_t poolBytes = plannedPool ? plannedPool
                       : padded    ? paddedSpans
                                   : streamedSpans;
  if (!plannedPool && budget && streamedSpans && !padded) {
    if (budget < residentAll + largestStreamed) {
      error = "the offload budget of " + std::to_string(budget) +
              " bytes is below the " +
              std::to_string(residentAll + largestStreamed) +
              " bytes the plan needs (resident items " +
              std::to_string(residentSpans) + " bytes + resident KV caches " +
              std::to_string(residentKvSpans) +
              " bytes + the largest streamed item or KV cache " +
              std::to_string(largestStreamed) + " bytes)";
      return TVC_INVALID_ARGUMENT;
    }
    poolBytes = std::min((budget - residentAll) & ~(kPage - 1), streamedSpans);
  }
  executor.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (executor.fd < 0) {
    error =
        "cannot open the weights file " + name + ": " + std::strerror(errno);
    return TVC_NOT_FOUND;
  }
  char magic[8] = {};
  std::string readError;
  struct stat info;
  if (fstat(executor.fd, &info) != 0 ||
      !readFully(executor.fd, magic, sizeof(magic), 0, readError)) {
    error = name + " is not a tvc weights file";
    return TVC_INVALID_ARGUMENT;
  }
  if (std::memcmp(magic, "TVCWGT01", 8) == 0) {
    error = name + " was written by an older tvc-compile; compile the model "
                   "again";
    return TVC_INVALID_ARGUMENT;
  }
  if (std::memcmp(magic, "TVCWGT02", 8) != 0) {
    error = name + " is not a tvc weights file";
    return TVC_INVALID_ARGUMENT;
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size != kHeaderBytes + blobBytes) {
    error = name + " holds " + std::to_string(size) +
            " bytes; this model needs " +
            std::to_string(kHeaderBytes + blobBytes) +
            " (a weights file of another model?)";
    return TVC_INVALID_ARGUMENT;
  }
  if (executor.spillBytes) {
    std::string dir = executor.options.kv_dir ? executor.options.kv_dir : "";
    if (dir.empty()) {
      const char *tmpdir = std::getenv("TMPDIR");
      dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
    }
    tvc_status_t status =
        createSpillFile(executor, dir, executor.spillBytes, error);
    if (status != TVC_OK)
      return status;
  }
  executor.options.kv_dir = nullptr;
  // One range: the header, the blob from a huge page boundary (items the
  // compiler places on one can use huge pages), then from the blob's size
  // rounded up to a huge page the pool, then the spill file, so a slot and
  // a KV cache's home are offsets from the blob like any item's.
  executor.poolOffset = roundUpToHuge(blobBytes);
  executor.spillOffset = executor.poolOffset + poolBytes;
  uint64_t reserved = kHeaderBytes + executor.spillOffset + executor.spillBytes;
  char *base = reserveAligned(reserved, kHeaderBytes);
  if (!base) {
    error = "cannot reserve " + mib(reserved) + " of address space for " +
            name + ": " + std::strerror(errno);
    return TVC_OUT_OF_MEMORY;
  }
  executor.base = base;
  executor.reservedBytes = roundUpToPage(reserved);
  if (mmap(base, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE,
           executor.fd, 0) == MAP_FAILED) {
    error = "cannot map " + name + ": " + std::strerror(errno);
    return TVC_OUT_OF_MEMORY;
  }
  executor.blob = base + kHeaderBytes;

  for (size_t index = 0; index < executor.items.size(); ++index) {
    Item &item = executor.items[index];
    if (item.placement != TVC_OFFLOAD_RESIDENT || item.span == 0)
      continue;
    if (!loadResident(executor, item, readError)) {
      error = "cannot read offload item " + std::to_string(index) + " of " +
              name + ": " + readError;
      return TVC_INTERNAL;
    }
    item.state = State::Resident;
    addResident(executor, item);
    executor.stats.bytes_read += item.readBytes;
    ++executor.stats.reads;
  }
  // The caller's buffers: only counted.
  for (KvItem &kv : executor.kvItems)
    if (kv.placement == TVC_OFFLOAD_RESIDENT)
      addResident(executor, kv);
  if (poolBytes) {
    // Transparent huge pages asked for, and faulted in once, here: every
    // read reuses these pages.
    char *pool = executor.blob + executor.poolOffset;
    if (mmap(pool, poolBytes, PROT_READ | PROT_WRITE,
             MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
      error = "cannot allocate the offload page pool of " + mib(poolBytes) +
              ": " + std::strerror(errno);
      return TVC_OUT_OF_MEMORY;
    }
    executor.pool = pool;
    executor.poolBytes = poolBytes;
    madvise(pool, poolBytes, MADV_HUGEPAGE);
    if (madvise(pool, poolBytes, MADV_POPULATE_WRITE) != 0)
      for (uint64_t at = 0; at < poolBytes; at += kPage)
        pool[at] = 0; // kernels before 5.14
    // The compiler's slots (set by checkPlannedSlots), else one per item
    // when the pool holds them all.
    executor.fixedSlots = plannedPool || poolBytes >= streamedSpans;
    uint64_t at = 0;
    for (Slotted *item : streamed) {
      if (!executor.fixedSlots || plannedPool)
        break;
      if (padded && item->span >= kHugeBytes)
        at = roundUpToHuge(at);
      item->fixedSlot = {at / kPage, item->span / kPage};
      at += item->span;
    }
    // A slot per streamed item at most, and the free runs between them.
    executor.freeRuns.reserve(streamed.size() + 2);
    executor.freeRuns.push_back({0, poolBytes / kPage});
    executor.stats.pool_bytes = poolBytes;
  }
  if (executor.spillBytes) {
    char *spill = executor.blob + executor.spillOffset;
    if (mmap(spill, executor.spillBytes, PROT_READ | PROT_WRITE,
             MAP_FIXED | MAP_SHARED, executor.spillFd, 0) == MAP_FAILED) {
      error = "cannot map the KV-cache spill file of " +
              mib(executor.spillBytes) + ": " + std::strerror(errno);
      return TVC_OUT_OF_MEMORY;
    }
    for (KvItem &kv : executor.kvItems)
      if (kv.placement == TVC_OFFLOAD_STREAMED)
        kv.home = executor.spillOffset + kv.fileOffset;
  }
  executor.ring.assign(
      std::max<size_t>(executor.items.size() + executor.kvItems.size(), 1), -1);
  executor.stats.bytes_read_at_open = executor.stats.bytes_read;
  return TVC_OK;
}

void destroy(Executor *executor) {
  if (executor->io.joinable()) {
    {
      std::lock_guard<std::mutex> lock(executor->mutex);
      executor->stop = true;
    }
    executor->work.notify_all();
    executor->io.join();
  }
  if (executor->base)
    munmap(executor->base, executor->reservedBytes);
  if (executor->fd >= 0)
    close(executor->fd);
  if (executor->spillFd >= 0)
    close(executor->spillFd);
  delete executor;
}

/// The open executor's item `index` if it has `placement`, else null.
Item *findItem(Executor *executor, int64_t index, int32_t placement) {
  if (!executor || index < 0 ||
      index >= static_cast<int64_t>(executor->items.size()))
    return nullptr;
  Item &item = executor->items[index];
  return item.placement == placement && item.span ? &item : nullptr;
}

/// The open executor's streamed KV cache `index`, or null.
KvItem *findStreamedKv(Executor *executor, int64_t index) {
  if (!executor || index < 0 ||
      index >= static_cast<int64_t>(executor->kvItems.size()))
    return nullptr;
  KvItem &kv = executor->kvItems[index];
  return kv.placement == TVC_OFFLOAD_STREAMED ? &kv : nullptr;
}

/// `row` clamped to [0, kv.rows].
uint64_t clampRow(const KvItem &kv, int64_t row) {
  return row <= 0 ? 0 : std::min(static_cast<uint64_t>(row), kv.rows);
}

} // namespace

namespace tvc::offload {
bool cpuExecutorIsOpen() { return openExecutor.load() != nullptr; }
void setLastError(const std::string &message) { setError(message); }
void setLastErrorOnce(const std::string &message) { setErrorOnce(message); }
} // namespace tvc::offload

using namespace tvc::offload;

extern "C" {

tvc_status_t tvc_offload_open(const char *weights_path, uint64_t blob_bytes,
                              const tvc_offload_item_t *items,
                              int64_t num_items,
                              const tvc_offload_options_t *options,
                              void **out_blob) {
  setError("");
  if (!weights_path || !out_blob || num_items < 0 ||
      (num_items > 0 && !items)) {
    setError("tvc_offload_open: a null path, blob or item list, or a "
             "negative item count");
    return TVC_INVALID_ARGUMENT;
  }
  *out_blob = nullptr;
  if (openExecutor.load()) {
    setError("an offload executor is already open");
    return TVC_UNAVAILABLE;
  }
  if (cudaExecutorIsOpen()) {
    setError("an offload executor is already open (the CUDA one)");
    return TVC_UNAVAILABLE;
  }
  // Items are mapped at 4096-byte granularity.
  if (sysconf(_SC_PAGESIZE) != static_cast<long>(kPage)) {
    setError("the offload executor needs 4096-byte pages");
    return TVC_UNAVAILABLE;
  }
  auto *executor = new Executor;
  if (options)
    executor->options = *options;
  std::string error;
  tvc_status_t status = openExecutorOn(*executor, weights_path, blob_bytes,
                                       items, num_items, error);
  if (status != TVC_OK) {
    destroy(executor);
    setError(error);
    return status;
  }
  executor->io = std::thread(ioThread, executor);
  openExecutor.store(executor);
  *out_blob = executor->blob;
  return TVC_OK;
}

void tvc_offload_close(void) {
  Executor *executor = openExecutor.exchange(nullptr);
  if (executor)
    destroy(executor);
  cudaExecutorClose();
}

tvc_status_t tvc_offload_get_stats(tvc_offload_stats_t *out_stats) {
  if (!out_stats)
    return TVC_INVALID_ARGUMENT;
  *out_stats = tvc_offload_stats_t{};
  Executor *executor = openExecutor.load();
  if (!executor)
    return cudaExecutorStats(*out_stats) ? TVC_OK : TVC_NOT_FOUND;
  std::lock_guard<std::mutex> lock(executor->mutex);
  *out_stats = executor->stats;
  return TVC_OK;
}

const char *tvc_offload_last_error(void) { return lastError; }

void tvc_offload_prefetch(void *, void *, int64_t, int64_t, int64_t,
                          int64_t index) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorPrefetch(index);
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return;
  {
    std::lock_guard<std::mutex> lock(executor->mutex);
    // No slot free: the wait reads it (or falls back).
    if (item->state != State::FileBacked || !allocateSlot(*executor, *item))
      return;
    item->state = State::Queued;
    addResident(*executor, *item);
    enqueue(*executor, index, *item);
  }
  executor->work.notify_one();
}

int64_t tvc_offload_wait(void *, void *, int64_t, int64_t, int64_t,
                         int64_t index, int64_t home) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorWait(index, home);
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return home;
  std::unique_lock<std::mutex> lock(executor->mutex);
  if (item->state == State::FileBacked && !allocateSlot(*executor, *item)) {
    // The pool has no room: its own range, file-backed, holds its bytes.
    item->state = State::Fallback;
    addResident(*executor, *item);
    ++executor->stats.pool_fallbacks;
    return home;
  }
  if (item->state == State::Resident)
    return slotOffset(*executor, *item);
  if (item->state == State::Fallback)
    return home;
  auto start = std::chrono::steady_clock::now();
  if (item->state == State::FileBacked || item->state == State::Queued) {
    // Not prefetched (its slot just taken), or not started yet: read it
    // here rather than wait behind the reads queued before it.
    if (item->state == State::FileBacked)
      addResident(*executor, *item);
    item->state = State::Reading;
    readItem(*executor, index, lock);
  } else {
    executor->done.wait(lock, [&] { return item->state != State::Reading; });
  }
  ++executor->stats.stalls;
  executor->stats.stall_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // FileBacked again after a failed read.
  return item->state == State::Resident ? slotOffset(*executor, *item) : home;
}

void tvc_offload_evict(void *, void *, int64_t, int64_t, int64_t,
                       int64_t index) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorEvict(index);
  if (Item *item = findItem(executor, index, TVC_OFFLOAD_PAGED)) {
    // Private file pages that were only read: dropping them loses nothing.
    madvise(executor->blob + item->offset, item->span, MADV_DONTNEED);
    return;
  }
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return;
  std::unique_lock<std::mutex> lock(executor->mutex);
  // A read in progress finishes first; one still queued is cancelled (the
  // I/O thread skips it).
  executor->done.wait(lock, [&] { return item->state != State::Reading; });
  if (item->state == State::FileBacked)
    return;
  if (item->state == State::Fallback)
    // Read from its own range: drop the touched file pages, as for PAGED.
    madvise(executor->blob + item->offset, item->span, MADV_DONTNEED);
  else
    freeSlot(*executor, *item);
  item->state = State::FileBacked;
  executor->stats.resident_bytes -= item->span;
}

void tvc_offload_kv_prefetch(void *, void *, int64_t, int64_t, int64_t,
                             int64_t index, int64_t valid_rows) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorKvPrefetch(index, valid_rows);
  KvItem *kv = findStreamedKv(executor, index);
  if (!kv)
    return;
  uint64_t rows = clampRow(*kv, valid_rows);
  {
    std::lock_guard<std::mutex> lock(executor->mutex);
    // Not started yet: it may as well read what was asked last.
    if (kv->state == State::Queued) {
      kv->queuedRows = std::max(kv->queuedRows, rows);
      return;
    }
    // No slot free: the wait reads it (or falls back to the home).
    if (kv->state != State::FileBacked || !allocateSlot(*executor, *kv))
      return;
    kv->state = State::Queued;
    kv->queuedRows = rows;
    addResident(*executor, *kv);
    enqueue(*executor, static_cast<int64_t>(executor->items.size()) + index,
            *kv);
  }
  executor->work.notify_one();
}

int64_t tvc_offload_kv_wait(void *, void *, int64_t, int64_t, int64_t,
                            int64_t index, int64_t valid_rows) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorKvWait(index, valid_rows);
  KvItem *kv = findStreamedKv(executor, index);
  if (!kv)
    return -1;
  uint64_t rows = clampRow(*kv, valid_rows);
  std::unique_lock<std::mutex> lock(executor->mutex);
  auto start = std::chrono::steady_clock::now();
  bool stalled = false;
  if (kv->state == State::Reading || kv->state == State::Writing) {
    stalled = true;
    executor->done.wait(lock, [&] {
      return kv->state != State::Reading && kv->state != State::Writing;
    });
  }
  if (kv->state == State::FileBacked) {
    if (!allocateSlot(*executor, *kv)) {
      // The pool has no room: the compiled code uses the home, the spill
      // file mapped shared, which holds every row written back.
      kv->state = State::Fallback;
      addResident(*executor, *kv);
      ++executor->stats.pool_fallbacks;
      return static_cast<int64_t>(kv->home);
    }
    addResident(*executor, *kv);
    kv->state = State::Queued;
    kv->queuedRows = 0;
  }
  if (kv->state == State::Queued) {
    // Not prefetched (its slot just taken), or not started yet: read it
    // here rather than wait behind the reads queued before it.
    stalled = true;
    kv->state = State::Reading;
    kv->handedOut = false;
    readKv(*executor, index, 0, std::max(kv->queuedRows, rows), lock);
  } else if (kv->state == State::Resident && !kv->handedOut &&
             kv->slotRows < rows) {
    // Prefetched with fewer valid rows: read the rest. (Once handed out,
    // the slot is the cache: the compiled code may have written those rows.)
    stalled = true;
    kv->state = State::Reading;
    readKv(*executor, index, kv->slotRows, rows, lock);
  }
  if (stalled) {
    ++executor->stats.stalls;
    executor->stats.stall_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  // Fallback, or FileBacked again after a failed read.
  if (kv->state != State::Resident)
    return static_cast<int64_t>(kv->home);
  kv->handedOut = true;
  return slotOffset(*executor, *kv);
}

void tvc_offload_kv_evict(void *, void *, int64_t, int64_t, int64_t,
                          int64_t index, int64_t first_row, int64_t end_row) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (!executor)
    return cudaExecutorKvEvict(index, first_row, end_row);
  KvItem *kv = findStreamedKv(executor, index);
  if (!kv)
    return;
  uint64_t firstRow = clampRow(*kv, first_row);
  uint64_t endRow = std::max(firstRow, clampRow(*kv, end_row));
  std::unique_lock<std::mutex> lock(executor->mutex);
  // A read in progress finishes first; one still queued is cancelled (the
  // I/O thread skips it).
  executor->done.wait(lock, [&] {
    return kv->state != State::Reading && kv->state != State::Writing;
  });
  if (kv->state == State::FileBacked)
    return;
  if (kv->state == State::Fallback) {
    // Written in place: unmapping the touched pages keeps their bytes (the
    // page cache holds them, dirty until written back).
    madvise(executor->blob + kv->home, kv->span, MADV_DONTNEED);
  } else if (kv->state == State::Resident && kv->handedOut &&
             endRow > firstRow) {
    kv->state = State::Writing;
    lock.unlock();
    std::string error;
    bool ok = transferRows(*executor, *kv, firstRow, endRow, true, error);
    lock.lock();
    if (ok) {
      executor->stats.kv_bytes_written +=
          kv->batch * (endRow - firstRow) * kv->rowBytes;
    } else {
      ++executor->stats.io_errors;
      setErrorOnce(
          "cannot write rows [" + std::to_string(firstRow) + ", " +
          std::to_string(endRow) + ") of KV cache " + std::to_string(index) +
          " back to its spill file (its later results are wrong): " + error);
    }
  }
  if (kv->state != State::Fallback)
    freeSlot(*executor, *kv);
  kv->state = State::FileBacked;
  kv->handedOut = false;
  kv->slotRows = 0;
  executor->stats.resident_bytes -= kv->span;
  executor->done.notify_all();
}

} // extern "C"
