//===- Executor.cpp - Weights offload executor (CPU) ----------------------===//
//
// The executor of runtime/api/tvc_offload.h. The weights file is mapped
// once, privately and writably, so every byte of the blob is file-backed
// (demand paged) unless read explicitly. Reading an item fills fresh
// anonymous pages and moves them over the item's range (mremap), so the
// range holds correct bytes at every moment, before, during and after a
// read, and also when a read fails. Evicting a streamed item maps its file
// range over it again, which frees the anonymous pages. One I/O thread
// serves prefetches from a ring preallocated at open (an item is in it at
// most once), so the calls compiled code makes allocate nothing.
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

/// Maps the item's file range over it again (its anonymous pages are freed).
bool restoreFileMapping(Executor &executor, const Item &item) {
  return mmap(executor.blob + item.offset, item.span, PROT_READ | PROT_WRITE,
              MAP_FIXED | MAP_PRIVATE, executor.fd,
              static_cast<off_t>(kHeaderBytes + item.offset)) != MAP_FAILED;
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
  lock.unlock();
  std::string error;
  bool ok = loadItem(executor, item, error);
  lock.lock();
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
  void *mapped =
      mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, executor.fd, 0);
  if (mapped == MAP_FAILED) {
    error = "cannot map " + name + ": " + std::strerror(errno);
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
  if (item->state == State::Resident && !restoreFileMapping(*executor, *item)) {
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
