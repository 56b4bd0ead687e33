//===- Executor.cpp - Weights offload executor (CPU) ----------------------===//
//
// The executor of runtime/api/tvc_offload.h. The weights file is mapped
// once, privately and writably, so every byte of the blob is file-backed
// (demand paged) unless read explicitly. Resident items are read at open
// into fresh anonymous pages moved over their range (mremap). Streamed
// items are read into a page pool reserved (and faulted in) once at open:
// a read takes page runs from the pool, preads into them and moves them
// over the item's range; evicting moves them back to the pool and maps the
// file over the range again. So no page is faulted or freed per read, and
// the range holds correct bytes at every moment, before, during and after a
// read, and also when a read fails. The pool is made of transparent huge
// pages, and an item of 2 MiB or more takes pool pages at its range's
// offset within a huge page, so mremap moves whole huge pages. When the
// pool has no room (the plan is exceeded) a read falls back to fresh
// anonymous pages, freed by its evict.
// One I/O thread serves prefetches from a ring preallocated at open (an item
// is in it at most once), so the calls compiled code makes allocate
// nothing.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_offload.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
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

constexpr uint64_t kPage = 4096;
/// The weights file's header: the blob starts at this file offset.
constexpr uint64_t kHeaderBytes = 4096;

uint64_t roundUpToPage(uint64_t bytes) {
  return (bytes + kPage - 1) & ~(kPage - 1);
}

/// Pages of a transparent huge page (2 MiB).
constexpr uint64_t kHugePages = 512;
constexpr uint64_t kHugeBytes = kHugePages * kPage;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/// Pool page runs an item's read may take (more: the fallback path).
constexpr int kMaxRuns = 16;

/// Pages [start, start + pages) of the pool.
struct Run {
  uint64_t start = 0;
  uint64_t pages = 0;
};

enum class State : uint8_t {
  FileBacked, // the file mapping's pages (never read explicitly, or evicted)
  Queued,     // waiting in the ring for the I/O thread
  Reading,    // being read (by the I/O thread or a wait)
  Resident,   // anonymous pages holding the bytes
};

struct Item {
  uint64_t offset = 0;
  uint64_t span = 0;      // the page-rounded range
  uint64_t readBytes = 0; // the span, clipped at the end of the file
  int32_t placement = TVC_OFFLOAD_RESIDENT;
  State state = State::FileBacked;
  bool inRing = false; // a Queued item evicted before its read stays there
  /// The pool runs holding its pages, in range order (Reading or Resident
  /// from the pool); 0 when file-backed or read by the fallback path.
  int runCount = 0;
  Run runs[kMaxRuns];
};

struct Executor {
  int fd = -1;
  char *base = nullptr; // the file mapping (header + blob)
  size_t mappedBytes = 0;
  char *blob = nullptr;
  tvc_offload_options_t options{};
  std::vector<Item> items;
  std::vector<int64_t> ring; // capacity: one slot per item
  size_t ringHead = 0, ringCount = 0;

  std::mutex mutex;
  std::condition_variable work; // the I/O thread: ring not empty, or stop
  std::condition_variable done; // waiters: a read finished
  bool stop = false;
  tvc_offload_stats_t stats{};
  std::thread io;

  /// The page pool of streamed items (one anonymous mapping); its free runs
  /// sorted by start, coalesced, with capacity for the most there can be.
  char *pool = nullptr;
  uint64_t poolBytes = 0;
  std::vector<Run> freeRuns;
  uint64_t freePages = 0;
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

/// pread of exactly `bytes` (retrying short reads and EINTR).
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

/// Reads `item` into fresh anonymous pages and moves them over its range.
/// On failure the range keeps its file-backed pages.
bool loadItem(Executor &executor, const Item &item, std::string &error) {
  void *pages = mmap(nullptr, item.span, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) {
    error = std::string("cannot allocate memory: ") + std::strerror(errno);
    return false;
  }
  uint64_t fileOffset = kHeaderBytes + item.offset;
  if (!readFully(executor.fd, static_cast<char *>(pages), item.readBytes,
                 fileOffset, error)) {
    munmap(pages, item.span);
    return false;
  }
  void *target = executor.blob + item.offset;
  if (mremap(pages, item.span, item.span, MREMAP_MAYMOVE | MREMAP_FIXED,
             target) == MAP_FAILED) {
    error = std::string("cannot move the read pages: ") + std::strerror(errno);
    munmap(pages, item.span);
    return false;
  }
  if (executor.options.drop_page_cache)
    posix_fadvise(executor.fd, static_cast<off_t>(fileOffset),
                  static_cast<off_t>(item.readBytes), POSIX_FADV_DONTNEED);
  return true;
}

/// Moves the pages of [from, from + bytes) to [to, to + bytes). mremap
/// moves within one mapping (VMA) only: a range the kernel keeps as several
/// is moved in parts.
bool movePages(char *from, char *to, uint64_t bytes) {
  if (mremap(from, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to) !=
      MAP_FAILED)
    return true;
  if (errno != EFAULT || bytes <= kPage)
    return false;
  uint64_t half = bytes / kPage / 2 * kPage;
  return movePages(from, to, half) &&
         movePages(from + half, to + half, bytes - half);
}

/// Reserves pool pages moved away: nothing else may be mapped there before
/// they come back.
bool reservePoolHole(char *at, uint64_t bytes) {
  return mmap(at, bytes, PROT_NONE,
              MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
              0) != MAP_FAILED;
}

/// Fresh (faulted-in) pages for pool pages lost on an error path.
void repopulatePool(char *at, uint64_t bytes) {
  mmap(at, bytes, PROT_READ | PROT_WRITE,
       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
}

/// Takes `item.span` of pool pages for `item` (first fit; several runs when
/// no single free run is long enough). False, taking nothing, when the pool
/// has no room. The mutex is held.
bool allocateRuns(Executor &executor, Item &item) {
  uint64_t need = item.span / kPage;
  std::vector<Run> &free = executor.freeRuns;
  if (need == 0 || need > executor.freePages)
    return false;
  // An item of a huge page or more: pool pages at the same offset within a
  // huge page as its range, so mremap moves whole huge pages (a page table
  // entry per 2 MiB; 4 KiB pages moved cost a fault each on first touch).
  if (need >= kHugePages) {
    uint64_t phase = reinterpret_cast<uintptr_t>(executor.blob + item.offset) /
                     kPage % kHugePages;
    for (size_t at = 0; at < free.size(); ++at) {
      Run run = free[at];
      uint64_t start =
          run.start +
          (phase + kHugePages - run.start % kHugePages) % kHugePages;
      if (start + need > run.start + run.pages)
        continue;
      item.runs[0] = {start, need};
      item.runCount = 1;
      executor.freePages -= need;
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
    item.runs[0] = {free[at].start, need};
    item.runCount = 1;
    free[at].start += need;
    free[at].pages -= need;
    if (free[at].pages == 0)
      free.erase(free.begin() + static_cast<ptrdiff_t>(at));
    executor.freePages -= need;
    return true;
  }
  // Fragmented: the first runs, in pool order, the last one split.
  uint64_t covered = 0;
  size_t taken = 0;
  while (covered < need) {
    if (taken == static_cast<size_t>(kMaxRuns))
      return false;
    covered += free[taken++].pages;
  }
  uint64_t left = need;
  for (size_t at = 0; at < taken; ++at) {
    uint64_t pages = std::min(left, free[at].pages);
    item.runs[at] = {free[at].start, pages};
    left -= pages;
  }
  item.runCount = static_cast<int>(taken);
  Run &last = free[taken - 1];
  uint64_t lastTaken = item.runs[taken - 1].pages;
  last.start += lastTaken;
  last.pages -= lastTaken;
  free.erase(free.begin(), free.begin() + static_cast<ptrdiff_t>(
                                              last.pages ? taken - 1 : taken));
  executor.freePages -= need;
  return true;
}

/// Gives `item`'s pool runs back (coalescing with their neighbours); the
/// pages must be in the pool again. The mutex is held.
void freeRuns(Executor &executor, Item &item) {
  std::vector<Run> &free = executor.freeRuns;
  for (int index = 0; index < item.runCount; ++index) {
    Run run = item.runs[index];
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
    executor.freePages += run.pages;
  }
  item.runCount = 0;
}

/// Reads `item` into its pool runs and moves them over its range, in
/// order. On failure the range is file-backed again and the runs' pages
/// are back in the pool.
bool loadItemFromPool(Executor &executor, const Item &item,
                      std::string &error) {
  uint64_t fileOffset = kHeaderBytes + item.offset;
  uint64_t at = 0;
  for (int index = 0; index < item.runCount; ++index) {
    char *pages = executor.pool + item.runs[index].start * kPage;
    uint64_t bytes = item.runs[index].pages * kPage;
    uint64_t read =
        at < item.readBytes ? std::min(bytes, item.readBytes - at) : 0;
    if (read && !readFully(executor.fd, pages, read, fileOffset + at, error))
      return false;
    // Past the end of the file: zeros, as the file mapping reads there.
    if (read < bytes)
      std::memset(pages + read, 0, bytes - read);
    at += bytes;
  }
  char *target = executor.blob + item.offset;
  at = 0;
  for (int index = 0; index < item.runCount; ++index) {
    char *pages = executor.pool + item.runs[index].start * kPage;
    uint64_t bytes = item.runs[index].pages * kPage;
    if (!movePages(pages, target + at, bytes) ||
        !reservePoolHole(pages, bytes)) {
      error =
          std::string("cannot move the read pages: ") + std::strerror(errno);
      // Back to the file; the pool gets fresh pages for what it lent.
      mmap(target, item.span, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE,
           executor.fd, static_cast<off_t>(fileOffset));
      for (int lent = 0; lent <= index; ++lent)
        repopulatePool(executor.pool + item.runs[lent].start * kPage,
                       item.runs[lent].pages * kPage);
      return false;
    }
    at += bytes;
  }
  if (executor.options.drop_page_cache)
    posix_fadvise(executor.fd, static_cast<off_t>(fileOffset),
                  static_cast<off_t>(item.readBytes), POSIX_FADV_DONTNEED);
  return true;
}

/// Maps the item's file range over it again (its anonymous pages are freed).
bool restoreFileMapping(Executor &executor, const Item &item) {
  return mmap(executor.blob + item.offset, item.span, PROT_READ | PROT_WRITE,
              MAP_FIXED | MAP_PRIVATE, executor.fd,
              static_cast<off_t>(kHeaderBytes + item.offset)) != MAP_FAILED;
}

/// Moves a pool-read item's pages back to its runs and maps the file over
/// its range again. False, with the pages over the range again (or, failing
/// that, the file mapped there), when the file cannot be mapped.
bool returnToPool(Executor &executor, const Item &item) {
  char *target = executor.blob + item.offset;
  uint32_t moved = 0; // a bit per run
  uint64_t at = 0;
  for (int index = 0; index < item.runCount; ++index) {
    char *pages = executor.pool + item.runs[index].start * kPage;
    uint64_t bytes = item.runs[index].pages * kPage;
    if (movePages(target + at, pages, bytes))
      moved |= 1u << index;
    at += bytes;
  }
  if (restoreFileMapping(executor, item)) {
    // The file mapping freed the pages that did not move: fresh ones.
    for (int index = 0; index < item.runCount; ++index)
      if (!(moved & (1u << index)))
        repopulatePool(executor.pool + item.runs[index].start * kPage,
                       item.runs[index].pages * kPage);
    return true;
  }
  int error = errno;
  at = 0;
  for (int index = 0; index < item.runCount; ++index) {
    char *pages = executor.pool + item.runs[index].start * kPage;
    uint64_t bytes = item.runs[index].pages * kPage;
    if ((moved & (1u << index)) && movePages(pages, target + at, bytes))
      reservePoolHole(pages, bytes);
    at += bytes;
  }
  errno = error;
  return false;
}

/// Counts `item`'s pages as resident (from the issue of its read).
void addResident(Executor &executor, const Item &item) {
  tvc_offload_stats_t &stats = executor.stats;
  stats.resident_bytes += item.span;
  stats.peak_resident_bytes =
      std::max(stats.peak_resident_bytes, stats.resident_bytes);
  if (executor.options.budget_bytes &&
      stats.resident_bytes > executor.options.budget_bytes)
    ++stats.budget_violations;
}

/// Reads item `index`, whose state the caller set to Reading, with the
/// mutex held by `lock` (released during the read).
void readItem(Executor &executor, int64_t index,
              std::unique_lock<std::mutex> &lock) {
  Item &item = executor.items[index];
  bool pooled = allocateRuns(executor, item);
  if (!pooled)
    ++executor.stats.pool_fallbacks;
  lock.unlock();
  std::string error;
  bool ok = pooled ? loadItemFromPool(executor, item, error)
                   : loadItem(executor, item, error);
  lock.lock();
  if (!ok && pooled)
    freeRuns(executor, item);
  if (ok) {
    item.state = State::Resident;
    executor.stats.bytes_read += item.readBytes;
    ++executor.stats.reads;
  } else {
    // The range is still file-backed, so the data stays correct.
    item.state = State::FileBacked;
    executor.stats.resident_bytes -= item.span;
    ++executor.stats.io_errors;
    setErrorOnce("cannot read offload item " + std::to_string(index) +
                 " (blob offset " + std::to_string(item.offset) +
                 "): " + error);
  }
  executor.done.notify_all();
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

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", bytes / 1048576.0);
  return text;
}

/// Checks the items against the blob; fills `executor.items`.
bool checkItems(Executor &executor, uint64_t blobBytes,
                const tvc_offload_item_t *items, int64_t count,
                std::string &error) {
  executor.items.resize(static_cast<size_t>(count));
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_item_t &given = items[index];
    std::string name = "offload item " + std::to_string(index);
    if (given.placement < TVC_OFFLOAD_RESIDENT ||
        given.placement > TVC_OFFLOAD_PAGED) {
      error = name + ": unknown placement " + std::to_string(given.placement);
      return false;
    }
    if (given.offset % kPage != 0) {
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
    Item &item = executor.items[index];
    item.offset = given.offset;
    item.span = roundUpToPage(given.bytes);
    item.readBytes = std::min(item.span, blobBytes - given.offset);
    item.placement = given.placement;
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

/// Opens and maps the file, checks the plan and reads the resident items.
tvc_status_t openExecutorOn(Executor &executor, const char *path,
                            uint64_t blobBytes, const tvc_offload_item_t *items,
                            int64_t count, std::string &error) {
  std::string name = std::string("'") + path + "'";
  if (!checkItems(executor, blobBytes, items, count, error))
    return TVC_INVALID_ARGUMENT;
  uint64_t budget = executor.options.budget_bytes;
  if (budget) {
    uint64_t available = availableMemory();
    if (available && budget > available) {
      error = "the offload plan needs " + mib(budget) +
              " of memory for weights; this machine has " + mib(available) +
              " available";
      return TVC_OUT_OF_MEMORY;
    }
  }
  // The pool of streamed items: what the budget leaves after the resident
  // items, at least the largest streamed item, at most all of them.
  uint64_t residentSpans = 0, streamedSpans = 0, largestStreamed = 0;
  for (const Item &item : executor.items) {
    if (item.placement == TVC_OFFLOAD_RESIDENT)
      residentSpans += item.span;
    if (item.placement == TVC_OFFLOAD_STREAMED) {
      streamedSpans += item.span;
      largestStreamed = std::max(largestStreamed, item.span);
    }
  }
  uint64_t poolBytes = streamedSpans;
  if (budget && streamedSpans) {
    if (budget < residentSpans + largestStreamed) {
      error = "the offload budget of " + std::to_string(budget) +
              " bytes is below the " +
              std::to_string(residentSpans + largestStreamed) +
              " bytes the plan needs (resident items " +
              std::to_string(residentSpans) +
              " bytes + the largest streamed item " +
              std::to_string(largestStreamed) + " bytes)";
      return TVC_INVALID_ARGUMENT;
    }
    poolBytes =
        std::min((budget - residentSpans) & ~(kPage - 1), streamedSpans);
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
  // The blob starts on a huge page boundary: items the compiler places on
  // one move as whole huge pages from the pool.
  char *reserved = reserveAligned(size, kHeaderBytes);
  void *mapped = reserved ? mmap(reserved, size, PROT_READ | PROT_WRITE,
                                 MAP_FIXED | MAP_PRIVATE, executor.fd, 0)
                          : MAP_FAILED;
  if (mapped == MAP_FAILED) {
    error = "cannot map " + name + ": " + std::strerror(errno);
    if (reserved)
      munmap(reserved, size);
    return TVC_OUT_OF_MEMORY;
  }
  executor.base = static_cast<char *>(mapped);
  executor.mappedBytes = size;
  executor.blob = executor.base + kHeaderBytes;

  for (size_t index = 0; index < executor.items.size(); ++index) {
    Item &item = executor.items[index];
    if (item.placement != TVC_OFFLOAD_RESIDENT || item.span == 0)
      continue;
    if (!loadItem(executor, item, readError)) {
      error = "cannot read offload item " + std::to_string(index) + " of " +
              name + ": " + readError;
      return TVC_INTERNAL;
    }
    item.state = State::Resident;
    addResident(executor, item);
    executor.stats.bytes_read += item.readBytes;
    ++executor.stats.reads;
  }
  if (poolBytes) {
    // Huge-page aligned, transparent huge pages asked for, and faulted in
    // once, here: reads reuse these pages.
    char *pool = reserveAligned(poolBytes, 0);
    if (!pool ||
        mmap(pool, poolBytes, PROT_READ | PROT_WRITE,
             MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
      error = "cannot allocate the offload page pool of " + mib(poolBytes) +
              ": " + std::strerror(errno);
      if (pool)
        munmap(pool, poolBytes);
      return TVC_OUT_OF_MEMORY;
    }
    executor.pool = pool;
    executor.poolBytes = poolBytes;
    madvise(pool, poolBytes, MADV_HUGEPAGE);
    if (madvise(pool, poolBytes, MADV_POPULATE_WRITE) != 0)
      for (uint64_t at = 0; at < poolBytes; at += kPage)
        pool[at] = 0; // kernels before 5.14
    // Free runs are separated by taken ones: at most kMaxRuns per item.
    executor.freeRuns.reserve(executor.items.size() * kMaxRuns + 1);
    executor.freeRuns.push_back({0, poolBytes / kPage});
    executor.freePages = poolBytes / kPage;
    executor.stats.pool_bytes = poolBytes;
  }
  executor.ring.assign(std::max<size_t>(executor.items.size(), 1), -1);
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
    munmap(executor->base, executor->mappedBytes);
  if (executor->pool)
    munmap(executor->pool, executor->poolBytes);
  if (executor->fd >= 0)
    close(executor->fd);
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

} // namespace

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
}

tvc_status_t tvc_offload_get_stats(tvc_offload_stats_t *out_stats) {
  if (!out_stats)
    return TVC_INVALID_ARGUMENT;
  *out_stats = tvc_offload_stats_t{};
  Executor *executor = openExecutor.load();
  if (!executor)
    return TVC_NOT_FOUND;
  std::lock_guard<std::mutex> lock(executor->mutex);
  *out_stats = executor->stats;
  return TVC_OK;
}

const char *tvc_offload_last_error(void) { return lastError; }

void tvc_offload_prefetch(void *, void *, int64_t, int64_t, int64_t,
                          int64_t index) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return;
  {
    std::lock_guard<std::mutex> lock(executor->mutex);
    if (item->state != State::FileBacked)
      return;
    item->state = State::Queued;
    addResident(*executor, *item);
    if (!item->inRing) {
      size_t tail =
          (executor->ringHead + executor->ringCount) % executor->ring.size();
      executor->ring[tail] = index;
      ++executor->ringCount;
      item->inRing = true;
    }
  }
  executor->work.notify_one();
}

void tvc_offload_wait(void *, void *, int64_t, int64_t, int64_t,
                      int64_t index) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return;
  std::unique_lock<std::mutex> lock(executor->mutex);
  if (item->state == State::Resident)
    return;
  auto start = std::chrono::steady_clock::now();
  if (item->state == State::FileBacked || item->state == State::Queued) {
    // Not prefetched, or not started yet: read it here rather than wait
    // behind the reads queued before it.
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
}

void tvc_offload_evict(void *, void *, int64_t, int64_t, int64_t,
                       int64_t index) {
  Executor *executor = openExecutor.load(std::memory_order_acquire);
  if (Item *item = findItem(executor, index, TVC_OFFLOAD_PAGED)) {
    // Private file pages that were only read: dropping them loses nothing.
    madvise(executor->blob + item->offset, item->span, MADV_DONTNEED);
    return;
  }
  Item *item = findItem(executor, index, TVC_OFFLOAD_STREAMED);
  if (!item)
    return;
  std::unique_lock<std::mutex> lock(executor->mutex);
  // A read in progress finishes first; one still queued is skipped.
  executor->done.wait(lock, [&] { return item->state != State::Reading; });
  if (item->state == State::FileBacked)
    return;
  if (item->state == State::Resident && item->runCount > 0) {
    if (!returnToPool(*executor, *item)) {
      // The pages are back over the range with the right bytes.
      int error = errno;
      ++executor->stats.io_errors;
      setErrorOnce("cannot map offload item " + std::to_string(index) +
                   " back to the weights file: " + std::strerror(error));
      return;
    }
    freeRuns(*executor, *item);
  } else if (item->state == State::Resident &&
             !restoreFileMapping(*executor, *item)) {
    // The anonymous pages still hold the right bytes; keep counting them.
    int error = errno;
    ++executor->stats.io_errors;
    setErrorOnce("cannot map offload item " + std::to_string(index) +
                 " back to the weights file: " + std::strerror(error));
    return;
  }
  item->state = State::FileBacked;
  executor->stats.resident_bytes -= item->span;
}

} // extern "C"
