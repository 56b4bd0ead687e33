//===- OffloadExecutorTest.cpp - The weights offload executor -------------===//
//
// The executor of runtime/api/tvc_offload.h on small weights files with a
// known byte pattern: an item reads correctly where tvc_offload_wait says
// in every state (resident, prefetched, evicted, never prefetched) and its
// own range does too, the resident-bytes accounting and budget violations,
// a failed read that does not hang, bad files and plans, the calls without
// an executor, random sequences of calls against a model of the state, and
// the page pool of streamed items (slots reused without growing memory,
// huge-page slots, a slot per item when the pool holds them all, a pool too
// fragmented or too small: the fallback to the item's own range); and the
// KV caches: rows written through a slot read back at the next wait (batch
// 1 and 2), valid rows growing, the fallback to a cache's home in the
// spill file, resident caches in the budget, bad cache lists, a failed
// write-back, caches and weights sharing a small pool, random calls.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_offload.h"
#include "runtime/api/tvc_runtime.h"

#include "gtest/gtest.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr uint64_t kPage = 4096;

/// The byte at blob offset `at`: never zero, so a zero-filled page shows.
uint8_t pattern(uint64_t at) {
  return static_cast<uint8_t>(((at * 2654435761u) >> 11) | 1);
}

/// A weights file in a fresh temporary directory, removed at the end.
class WeightsFile {
public:
  /// Writes a file of the current format holding `blobBytes` of pattern;
  /// `magic` and `extraBytes` make bad files.
  explicit WeightsFile(uint64_t blobBytes, const char *magic = "TVCWGT02",
                       uint64_t extraBytes = 0) {
    char dirTemplate[] = "/tmp/tvc-offload-XXXXXX";
    dir = mkdtemp(dirTemplate);
    path = dir + "/model.weights";
    std::vector<char> bytes(kPage + blobBytes + extraBytes, 0);
    std::memcpy(bytes.data(), magic, 8);
    for (int byte = 0; byte < 8; ++byte)
      bytes[8 + byte] = static_cast<char>((blobBytes >> (8 * byte)) & 0xff);
    for (uint64_t at = 0; at < blobBytes; ++at)
      bytes[kPage + at] = static_cast<char>(pattern(at));
    FILE *file = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), file);
    std::fclose(file);
  }
  ~WeightsFile() {
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
  std::string dir, path;
};

/// The first blob offset in [offset, offset + bytes) that does not hold the
/// pattern, or -1.
int64_t firstWrongByte(const void *blob, uint64_t offset, uint64_t bytes) {
  const uint8_t *data = static_cast<const uint8_t *>(blob);
  for (uint64_t at = offset; at < offset + bytes; ++at)
    if (data[at] != pattern(at))
      return static_cast<int64_t>(at);
  return -1;
}

/// The first byte of `item` that does not hold the pattern when read at
/// blob offset `at` (where tvc_offload_wait said), or -1.
int64_t firstWrongByteAt(const void *blob, int64_t at,
                         const tvc_offload_item_t &item) {
  const uint8_t *data = static_cast<const uint8_t *>(blob) + at;
  for (uint64_t byte = 0; byte < item.bytes; ++byte)
    if (data[byte] != pattern(item.offset + byte))
      return static_cast<int64_t>(byte);
  return -1;
}

/// Every item held (a non-negative offset in `held`) reads as its own bytes
/// there.
template <typename Items>
void expectHeldItemsCorrect(const void *blob, const std::vector<int64_t> &held,
                            const Items &items, int64_t step) {
  for (size_t index = 0; index < held.size(); ++index)
    if (held[index] >= 0)
      ASSERT_EQ(firstWrongByteAt(blob, held[index], items[index]), -1)
          << "step " << step << ", item " << index;
}

void prefetchItem(void *blob, int64_t item) {
  tvc_offload_prefetch(blob, blob, 0, 0, 1, item);
}
/// tvc_offload_wait as compiled code calls it: `home` is the item's offset.
int64_t waitItem(void *blob, int64_t item, uint64_t home) {
  return tvc_offload_wait(blob, blob, 0, 0, 1, item,
                          static_cast<int64_t>(home));
}

/// Prefetches and waits for items[index]; checks its bytes where the wait
/// says and returns that offset.
int64_t prefetchWaitAndCheck(void *blob,
                             const std::vector<tvc_offload_item_t> &items,
                             int64_t index) {
  prefetchItem(blob, index);
  int64_t at = waitItem(blob, index, items[index].offset);
  EXPECT_EQ(firstWrongByteAt(blob, at, items[index]), -1) << "item " << index;
  return at;
}

void evictItem(void *blob, int64_t item) {
  tvc_offload_evict(blob, blob, 0, 0, 1, item);
}

tvc_offload_stats_t stats() {
  tvc_offload_stats_t out;
  EXPECT_EQ(tvc_offload_get_stats(&out), TVC_OK);
  return out;
}

uint64_t span(uint64_t bytes) { return (bytes + kPage - 1) / kPage * kPage; }

/// Mixed placements, odd sizes; the last item ends mid-page at the blob's
/// end.
const std::vector<tvc_offload_item_t> kItems = {
    {0, 100, TVC_OFFLOAD_RESIDENT, 0, 0},              // 0
    {4096, 5000, TVC_OFFLOAD_STREAMED, 0, 0},          // 1: 2 pages
    {12288, 3 * 4096, TVC_OFFLOAD_PAGED, 0, 0},        // 2
    {24576, 2 * 4096 + 7, TVC_OFFLOAD_STREAMED, 0, 0}, // 3: 3 pages
    {40960, 1, TVC_OFFLOAD_STREAMED, 0, 0},            // 4: the last byte
    {36864, 4000, TVC_OFFLOAD_RESIDENT, 0, 0},         // 5: out of order
};
constexpr uint64_t kBlobBytes = 40961;

struct Open {
  explicit Open(const WeightsFile &file,
                const std::vector<tvc_offload_item_t> &items = kItems,
                tvc_offload_options_t options = {},
                uint64_t blobBytes = kBlobBytes) {
    status =
        tvc_offload_open(file.path.c_str(), blobBytes, items.data(),
                         static_cast<int64_t>(items.size()), &options, &blob);
  }
  ~Open() { tvc_offload_close(); }
  tvc_status_t status;
  void *blob = nullptr;
};

void expectAllCorrect(const void *blob) {
  for (size_t index = 0; index < kItems.size(); ++index)
    EXPECT_EQ(firstWrongByte(blob, kItems[index].offset, kItems[index].bytes),
              -1)
        << "item " << index;
}

/// Waits for kItems[index] and checks its bytes where the wait says; a
/// streamed item's slot lies in the pool past the blob, page-aligned.
int64_t waitAndCheck(void *blob, int64_t index) {
  const tvc_offload_item_t &item = kItems[index];
  int64_t at = waitItem(blob, index, item.offset);
  EXPECT_EQ(firstWrongByteAt(blob, at, item), -1) << "item " << index;
  if (item.placement == TVC_OFFLOAD_STREAMED) {
    EXPECT_GE(at, static_cast<int64_t>(kBlobBytes)) << "item " << index;
    EXPECT_EQ(at % static_cast<int64_t>(kPage), 0) << "item " << index;
  } else {
    EXPECT_EQ(at, static_cast<int64_t>(item.offset)) << "item " << index;
  }
  return at;
}

/// Every item reads correctly where the wait says at open, after prefetch
/// and wait, and after evict; every item's own range reads correctly
/// throughout (streamed ones stay file-backed).
TEST(OffloadExecutor, BlobCorrectInEveryState) {
  WeightsFile file(kBlobBytes);
  Open open(file);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  ASSERT_NE(open.blob, nullptr);
  expectAllCorrect(open.blob);
  EXPECT_EQ(stats().resident_bytes, span(100) + span(4000));
  for (int64_t item : {1, 3, 4})
    prefetchItem(open.blob, item);
  std::vector<int64_t> slots;
  for (int64_t item = 0; item < 6; ++item)
    slots.push_back(waitAndCheck(open.blob, item));
  // Held at once: disjoint slots, each still correct.
  for (int64_t item : {1, 3, 4})
    EXPECT_EQ(firstWrongByteAt(open.blob, slots[item], kItems[item]), -1);
  EXPECT_NE(slots[1], slots[3]);
  EXPECT_NE(slots[3], slots[4]);
  expectAllCorrect(open.blob);
  for (int64_t item = 0; item < 6; ++item)
    evictItem(open.blob, item);
  expectAllCorrect(open.blob);
  // Again after the evictions.
  for (int64_t item : {1, 3, 4}) {
    prefetchItem(open.blob, item);
    waitAndCheck(open.blob, item);
  }
  expectAllCorrect(open.blob);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.reads, 2u + 6u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_STREQ(tvc_offload_last_error(), "");
}

/// A wait without a prefetch reads the item itself and counts a stall.
TEST(OffloadExecutor, WaitWithoutPrefetchStalls) {
  WeightsFile file(kBlobBytes);
  Open open(file);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().stalls, 0u);
  int64_t at = waitAndCheck(open.blob, 3);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.stalls, 1u);
  EXPECT_GE(now.stall_seconds, 0.0);
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000) + span(2 * 4096 + 7));
  // Read now: a second wait does not stall and says the same slot.
  EXPECT_EQ(waitAndCheck(open.blob, 3), at);
  EXPECT_EQ(stats().stalls, 1u);
}

/// resident_bytes counts from the prefetch to the evict, page-rounded; the
/// peak stays; a prefetch with no slot free does nothing and its wait falls
/// back to the item's own range, counted (over the budget: a violation).
TEST(OffloadExecutor, ResidentBytesAndBudget) {
  WeightsFile file(kBlobBytes);
  tvc_offload_options_t options{};
  uint64_t base = span(100) + span(4000);
  options.budget_bytes = base + 3 * kPage;
  Open open(file, kItems, options);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 3 * kPage);
  EXPECT_EQ(stats().resident_bytes, base);
  prefetchItem(open.blob, 1); // 2 pages: within the budget
  prefetchItem(open.blob, 1); // in flight or ready: nothing
  EXPECT_EQ(stats().resident_bytes, base + 2 * kPage);
  EXPECT_EQ(stats().budget_violations, 0u);
  prefetchItem(open.blob, 3); // 3 more pages: no slot, nothing
  EXPECT_EQ(stats().resident_bytes, base + 2 * kPage);
  EXPECT_EQ(stats().pool_fallbacks, 0u);
  EXPECT_EQ(waitItem(open.blob, 3, 24576), 24576); // its own range
  EXPECT_EQ(firstWrongByte(open.blob, 24576, 2 * 4096 + 7), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.resident_bytes, base + 5 * kPage);
  EXPECT_EQ(now.budget_violations, 1u);
  EXPECT_EQ(now.pool_fallbacks, 1u);
  EXPECT_EQ(waitItem(open.blob, 3, 24576), 24576); // still there
  EXPECT_EQ(stats().pool_fallbacks, 1u);
  waitAndCheck(open.blob, 1);
  evictItem(open.blob, 1);
  evictItem(open.blob, 3);
  evictItem(open.blob, 3); // already evicted: nothing
  now = stats();
  EXPECT_EQ(now.resident_bytes, base);
  EXPECT_EQ(now.peak_resident_bytes, base + 5 * kPage);
  // With item 1's slot free, item 3 gets one.
  prefetchItem(open.blob, 3);
  waitAndCheck(open.blob, 3);
  evictItem(open.blob, 3);
  // PAGED and RESIDENT items are not counted by prefetch or evict.
  prefetchItem(open.blob, 2);
  prefetchItem(open.blob, 0);
  evictItem(open.blob, 0);
  evictItem(open.blob, 2);
  EXPECT_EQ(stats().resident_bytes, base);
  EXPECT_EQ(stats().pool_fallbacks, 1u);
  expectAllCorrect(open.blob);
}

/// A read that fails (the file was cut short after open) is reported and
/// the wait returns the item's own offset.
TEST(OffloadExecutor, FailedReadDoesNotHang) {
  WeightsFile file(kBlobBytes);
  Open open(file);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  ASSERT_EQ(truncate(file.path.c_str(), kPage), 0);
  prefetchItem(open.blob, 3);
  EXPECT_EQ(waitItem(open.blob, 3, 24576), 24576);
  EXPECT_EQ(waitItem(open.blob, 1, 4096), 4096);
  tvc_offload_stats_t now = stats();
  EXPECT_GE(now.io_errors, 1u);
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000));
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_NE(
      std::string(tvc_offload_last_error()).find("cannot read offload item"),
      std::string::npos)
      << tvc_offload_last_error();
  // The failed reads gave their slots back; evicts do nothing.
  evictItem(open.blob, 3);
  evictItem(open.blob, 1);
  EXPECT_EQ(stats().resident_bytes, span(100) + span(4000));
  // (The blob's pages past the cut would raise SIGBUS; they are not read.)
}

/// Bad files and plans are refused with a message.
TEST(OffloadExecutor, BadInputs) {
  auto expectRefused = [](const WeightsFile &file,
                          std::vector<tvc_offload_item_t> items,
                          const char *message, uint64_t blobBytes = kBlobBytes,
                          tvc_offload_options_t options = {}) {
    Open open(file, items, options, blobBytes);
    EXPECT_NE(open.status, TVC_OK) << message;
    EXPECT_EQ(open.blob, nullptr);
    EXPECT_NE(std::string(tvc_offload_last_error()).find(message),
              std::string::npos)
        << tvc_offload_last_error();
  };
  WeightsFile good(kBlobBytes);
  WeightsFile wrongMagic(kBlobBytes, "GGUF0000");
  expectRefused(wrongMagic, kItems, "is not a tvc weights file");
  WeightsFile old(kBlobBytes, "TVCWGT01");
  expectRefused(old, kItems,
                "written by an older tvc-compile; compile the model again");
  WeightsFile longer(kBlobBytes, "TVCWGT02", 10);
  expectRefused(longer, kItems, "a weights file of another model?");
  expectRefused(good, {}, "a weights file of another model?", kBlobBytes - 1);
  expectRefused(good, {{100, 10, TVC_OFFLOAD_STREAMED, 0, 0}},
                "is not a multiple of 4096");
  expectRefused(good,
                {{0, 5000, TVC_OFFLOAD_STREAMED, 0, 0},
                 {4096, 10, TVC_OFFLOAD_RESIDENT, 0, 0}},
                "overlap");
  expectRefused(good, {{40960, 2, TVC_OFFLOAD_PAGED, 0, 0}},
                "run past the blob");
  expectRefused(good, {{45056, 0, TVC_OFFLOAD_PAGED, 0, 0}},
                "run past the blob");
  expectRefused(good, {{0, 1, 7, 0, 0}}, "unknown placement 7");
  tvc_offload_options_t huge{};
  huge.budget_bytes = uint64_t{1} << 62;
  expectRefused(good, kItems, "available", kBlobBytes, huge);
  WeightsFile missing(kBlobBytes);
  unlink(missing.path.c_str());
  expectRefused(missing, kItems, "cannot open the weights file");
  // A refused open leaves nothing open: the next one works.
  Open open(good);
  EXPECT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  // Only one executor at a time.
  void *blob = nullptr;
  EXPECT_EQ(tvc_offload_open(good.path.c_str(), kBlobBytes, kItems.data(),
                             static_cast<int64_t>(kItems.size()), nullptr,
                             &blob),
            TVC_UNAVAILABLE);
}

/// Without an open executor prefetch and evict do nothing and wait returns
/// the item's own offset (`home`); so do unknown items of an open one.
TEST(OffloadExecutor, CallsWithoutExecutor) {
  char bytes[16] = {};
  for (int64_t item : {-1, 0, 1, 1000}) {
    prefetchItem(bytes, item);
    EXPECT_EQ(waitItem(bytes, item, 8192 + item), 8192 + item);
    EXPECT_EQ(waitItem(bytes, item, 0), 0);
    evictItem(bytes, item);
  }
  tvc_offload_stats_t out;
  EXPECT_EQ(tvc_offload_get_stats(&out), TVC_NOT_FOUND);
  EXPECT_EQ(out.reads, 0u);
  tvc_offload_close(); // nothing open: nothing happens
  WeightsFile file(kBlobBytes);
  Open open(file);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  for (int64_t item : {-1, 6, 1000}) {
    prefetchItem(open.blob, item);
    EXPECT_EQ(waitItem(open.blob, item, 12288), 12288);
    evictItem(open.blob, item);
  }
  EXPECT_EQ(stats().reads, 2u);
}

/// Close and open again, several times, with the page cache dropped.
TEST(OffloadExecutor, ReopenAfterClose) {
  WeightsFile file(kBlobBytes);
  tvc_offload_options_t options{};
  options.drop_page_cache = 1;
  for (int round = 0; round < 3; ++round) {
    Open open(file, kItems, options);
    ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
    prefetchItem(open.blob, 1);
    waitAndCheck(open.blob, 1);
    expectAllCorrect(open.blob);
  }
}

/// Random prefetch / wait / evict against a model of which streamed items
/// are counted resident; every item read reads correctly where its wait
/// said until its evict, and the blob stays correct throughout.
TEST(OffloadExecutor, RandomSequence) {
  WeightsFile file(kBlobBytes);
  tvc_offload_options_t options{};
  options.budget_bytes = 1 << 20;
  Open open(file, kItems, options);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  std::mt19937 rng(7);
  std::vector<bool> counted(kItems.size(), false);
  std::vector<int64_t> held(kItems.size(), -1); // where the wait said
  uint64_t peak = 0;
  for (int step = 0; step < 2000; ++step) {
    int64_t item = static_cast<int64_t>(rng() % kItems.size());
    int op = static_cast<int>(rng() % 3);
    bool streamed = kItems[item].placement == TVC_OFFLOAD_STREAMED;
    if (op == 0) {
      prefetchItem(open.blob, item);
      counted[item] = counted[item] || streamed;
    } else if (op == 1) {
      int64_t at = waitItem(open.blob, item, kItems[item].offset);
      counted[item] = counted[item] || streamed;
      if (held[item] >= 0)
        ASSERT_EQ(at, held[item]) << "step " << step;
      held[item] = at;
    } else {
      evictItem(open.blob, item);
      if (streamed) {
        counted[item] = false;
        held[item] = -1;
      }
    }
    expectHeldItemsCorrect(open.blob, held, kItems, step);
    if (HasFatalFailure())
      return;
    uint64_t expected = 0;
    for (size_t index = 0; index < kItems.size(); ++index)
      if (kItems[index].placement == TVC_OFFLOAD_RESIDENT || counted[index])
        expected += span(kItems[index].bytes);
    peak = std::max(peak, expected);
    tvc_offload_stats_t now = stats();
    ASSERT_EQ(now.resident_bytes, expected) << "step " << step;
    ASSERT_EQ(now.peak_resident_bytes, peak) << "step " << step;
  }
  expectAllCorrect(open.blob);
  EXPECT_EQ(stats().io_errors, 0u);
  EXPECT_EQ(stats().budget_violations, 0u);
  // The budget covers all streamed items: every read came from the pool.
  EXPECT_EQ(stats().pool_bytes, span(5000) + span(2 * 4096 + 7) + span(1));
  EXPECT_EQ(stats().pool_fallbacks, 0u);
}

/// Random calls on many streamed items of mixed sizes with a pool of a
/// quarter of them (prefetches without a slot, fallbacks, cancelled
/// queued reads): every wait's offset reads the item until its evict, held
/// slots never overlap, and evicting everything frees the whole pool.
TEST(OffloadExecutor, RandomSequenceTightPool) {
  std::mt19937 rng(11);
  std::vector<tvc_offload_item_t> items;
  uint64_t offset = 0, largest = 0, total = 0;
  for (int index = 0; index < 24; ++index) {
    uint64_t bytes = (rng() % 40 + 1) * kPage - rng() % 4000;
    items.push_back({offset, bytes, TVC_OFFLOAD_STREAMED, 0, 0});
    largest = std::max(largest, span(bytes));
    total += span(bytes);
    offset += span(bytes) + (rng() % 2) * kPage;
  }
  uint64_t blobBytes = offset;
  WeightsFile file(blobBytes);
  tvc_offload_options_t options{};
  options.budget_bytes = std::max(largest, total / 4 / kPage * kPage);
  Open open(file, items, options, blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  uint64_t poolBytes = stats().pool_bytes;
  EXPECT_EQ(poolBytes, options.budget_bytes);
  int64_t poolStart = static_cast<int64_t>((blobBytes + (2 << 20) - 1) &
                                           ~uint64_t((2 << 20) - 1));
  std::vector<int64_t> held(items.size(), -1);
  for (int step = 0; step < 4000; ++step) {
    int64_t item = static_cast<int64_t>(rng() % items.size());
    int op = static_cast<int>(rng() % 3);
    if (op == 0) {
      prefetchItem(open.blob, item);
    } else if (op == 1) {
      int64_t at = waitItem(open.blob, item, items[item].offset);
      if (held[item] >= 0)
        ASSERT_EQ(at, held[item]) << "step " << step;
      if (at != static_cast<int64_t>(items[item].offset)) {
        ASSERT_GE(at, poolStart) << "step " << step;
        ASSERT_LE(at + static_cast<int64_t>(span(items[item].bytes)),
                  poolStart + static_cast<int64_t>(poolBytes))
            << "step " << step;
        ASSERT_EQ(at % static_cast<int64_t>(kPage), 0) << "step " << step;
      }
      held[item] = at;
    } else {
      evictItem(open.blob, item);
      held[item] = -1;
    }
    expectHeldItemsCorrect(open.blob, held, items, step);
    if (HasFatalFailure())
      return;
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_GT(now.pool_fallbacks, 0u);
  for (int64_t index = 0; index < static_cast<int64_t>(items.size()); ++index)
    evictItem(open.blob, index);
  EXPECT_EQ(stats().resident_bytes, 0u);
  // The whole pool is one free run again: the largest item that fits it
  // gets a slot at its start.
  prefetchItem(open.blob, 0);
  EXPECT_EQ(waitItem(open.blob, 0, items[0].offset), poolStart);
  for (const tvc_offload_item_t &item : items)
    EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
}

/// This process's resident bytes (/proc/self/statm).
uint64_t residentBytes() {
  FILE *file = std::fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0;
  if (!file)
    return 0;
  if (std::fscanf(file, "%llu %llu", &size, &resident) != 2)
    resident = 0;
  std::fclose(file);
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

/// A streamed 8 MiB item read many times reuses the pool (no page is
/// faulted or freed per read): its slot starts on a huge page right after
/// the blob; its own range stays file-backed and correct; a paged item's
/// touched pages are dropped.
TEST(OffloadExecutor, StreamedReadsReusePool) {
  constexpr uint64_t kBig = 8 << 20;
  WeightsFile file(kBig + kPage);
  std::vector<tvc_offload_item_t> items = {
      {0, kBig, TVC_OFFLOAD_STREAMED, 0, 0},
      {kBig, 10, TVC_OFFLOAD_PAGED, 0, 0}};
  Open open(file, items, {}, kBig + kPage);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  ASSERT_EQ(reinterpret_cast<uintptr_t>(open.blob) % (2 << 20), 0u);
  // No budget: a pool for all streamed items, faulted in at open.
  EXPECT_EQ(stats().pool_bytes, kBig);
  uint64_t opened = residentBytes();
  ASSERT_GT(opened, kBig);
  for (int round = 0; round < 3; ++round) {
    prefetchItem(open.blob, 0);
    int64_t at = waitItem(open.blob, 0, 0);
    // The blob's 8 MiB + 4 KiB rounded up to 2 MiB.
    EXPECT_EQ(at, static_cast<int64_t>(10 << 20));
    ASSERT_EQ(firstWrongByteAt(open.blob, at, items[0]), -1);
    evictItem(open.blob, 0);
    EXPECT_LE(residentBytes(), opened + kBig / 8) << "round " << round;
  }
  // Its own range reads the file (touching its pages).
  EXPECT_EQ(firstWrongByte(open.blob, 0, kBig), -1);
  EXPECT_EQ(firstWrongByte(open.blob, kBig, 10), -1);
  evictItem(open.blob, 1);
  EXPECT_EQ(firstWrongByte(open.blob, kBig, 10), -1);
  EXPECT_EQ(stats().pool_fallbacks, 0u);
}

/// Items of several sizes whose total is 4x the pool, streamed many times
/// (one ahead, as compiled code does): always correct where the wait says,
/// all from the pool, and the process's memory does not grow past resident
/// + pool.
TEST(OffloadExecutor, PoolReuse) {
  // Item i: i % 4 + 1 pages of 64 KiB units, odd tails; item 0 resident.
  constexpr uint64_t kUnit = 64 << 10;
  std::vector<tvc_offload_item_t> items;
  uint64_t offset = 0, largest = 0, total = 0;
  for (int index = 0; index < 17; ++index) {
    uint64_t bytes = (index % 4 + 1) * kUnit - 100 * index;
    items.push_back({offset, bytes,
                     index ? TVC_OFFLOAD_STREAMED : TVC_OFFLOAD_RESIDENT, 0,
                     0});
    if (index) {
      largest = std::max(largest, span(bytes));
      total += span(bytes);
    }
    offset += span(bytes);
  }
  uint64_t blobBytes = offset;
  WeightsFile file(blobBytes);
  tvc_offload_options_t options{};
  uint64_t pool = total / 4 / kPage * kPage;
  ASSERT_GE(pool, 2 * largest);
  options.budget_bytes = span(items[0].bytes) + pool;
  Open open(file, items, options, blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, pool);
  EXPECT_EQ(waitItem(open.blob, 0, 0), 0);
  uint64_t opened = residentBytes();
  for (int round = 0; round < 20; ++round) {
    for (int64_t index = 1; index < 17; ++index) {
      if (index == 1)
        prefetchItem(open.blob, index);
      if (index + 1 < 17)
        prefetchItem(open.blob, index + 1);
      int64_t at = waitItem(open.blob, index, items[index].offset);
      ASSERT_GE(at, static_cast<int64_t>(blobBytes));
      ASSERT_EQ(firstWrongByteAt(open.blob, at, items[index]), -1)
          << "round " << round << ", item " << index;
      evictItem(open.blob, index);
    }
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.reads, 1u + 20u * 16u);
  EXPECT_EQ(now.resident_bytes, span(items[0].bytes));
  // The pages read were the pool's; nothing new stays resident.
  EXPECT_LE(residentBytes(), opened + (1 << 20))
      << "resident " << opened << " bytes after open";
  for (const tvc_offload_item_t &item : items)
    EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
}

/// Items of more than a huge page (2 MiB), at offsets off the huge page
/// boundaries, get slots starting on a huge page while one is free; read
/// one ahead many times they stay correct, all from the pool.
TEST(OffloadExecutor, HugePageItems) {
  constexpr uint64_t kMiB = 1 << 20;
  std::vector<tvc_offload_item_t> items = {
      {0, 5 * kPage, TVC_OFFLOAD_RESIDENT, 0, 0},
      {5 * kPage, 5 * kMiB / 2, TVC_OFFLOAD_STREAMED, 0, 0},
      {5 * kPage + 5 * kMiB / 2, 3 * kMiB + 5, TVC_OFFLOAD_STREAMED, 0, 0},
      {6 * kPage + 11 * kMiB / 2, 4 * kMiB, TVC_OFFLOAD_STREAMED, 0, 0},
      {6 * kPage + 19 * kMiB / 2, kMiB, TVC_OFFLOAD_STREAMED, 0, 0},
  };
  uint64_t blobBytes = 6 * kPage + 21 * kMiB / 2;
  WeightsFile file(blobBytes);
  tvc_offload_options_t options{};
  options.budget_bytes = 5 * kPage + 8 * kMiB;
  Open open(file, items, options, blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 8 * kMiB);
  uintptr_t blob = reinterpret_cast<uintptr_t>(open.blob);
  for (int round = 0; round < 5; ++round) {
    for (int64_t index = 1; index < 5; ++index) {
      if (index == 1)
        prefetchItem(open.blob, index);
      if (index + 1 < 5)
        prefetchItem(open.blob, index + 1);
      int64_t at = waitItem(open.blob, index, items[index].offset);
      ASSERT_EQ(firstWrongByteAt(open.blob, at, items[index]), -1)
          << "round " << round << ", item " << index;
      if (items[index].bytes >= 2 * kMiB)
        EXPECT_EQ((blob + static_cast<uint64_t>(at)) % (2 * kMiB), 0u)
            << "round " << round << ", item " << index;
      evictItem(open.blob, index);
    }
  }
  for (const tvc_offload_item_t &item : items)
    EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
}

/// A slot is one run of pool pages: an item for which the free pages are
/// enough but not contiguous falls back to its own range (counted); evicts
/// coalesce the free runs again.
TEST(OffloadExecutor, FragmentedPool) {
  // A: 1 page, B: 2, C: 1, D: 2 (A's and C's pages: not contiguous),
  // E: 4 (all).
  std::vector<tvc_offload_item_t> items = {
      {0, 4096, TVC_OFFLOAD_STREAMED, 0, 0},             // A
      {4096, 2 * 4096, TVC_OFFLOAD_STREAMED, 0, 0},      // B
      {12288, 4000, TVC_OFFLOAD_STREAMED, 0, 0},         // C
      {16384, 2 * 4096 - 5, TVC_OFFLOAD_STREAMED, 0, 0}, // D
      {24576, 3 * 4096 + 1, TVC_OFFLOAD_STREAMED, 0, 0}, // E
  };
  constexpr uint64_t kBlob = 24576 + 3 * 4096 + 1;
  constexpr int64_t kPool = 2 << 20; // the blob rounded up to 2 MiB
  WeightsFile file(kBlob);
  tvc_offload_options_t options{};
  options.budget_bytes = 4 * kPage;
  Open open(file, items, options, kBlob);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 4 * kPage);
  auto load = [&](int64_t index) {
    return prefetchWaitAndCheck(open.blob, items, index);
  };
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(load(0), kPool);            // pool pages [0, 1)
    EXPECT_EQ(load(1), kPool + 4096);     // [1, 3)
    EXPECT_EQ(load(2), kPool + 3 * 4096); // [3, 4)
    evictItem(open.blob, 0);
    evictItem(open.blob, 2);
    EXPECT_EQ(load(3), 16384); // [0, 1) + [3, 4): its own range
    EXPECT_EQ(stats().pool_fallbacks, static_cast<uint64_t>(round) + 1);
    evictItem(open.blob, 3);
    evictItem(open.blob, 1); // coalesced: [0, 4)
    EXPECT_EQ(load(4), kPool);
    evictItem(open.blob, 4);
    for (const tvc_offload_item_t &item : items)
      EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 3u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.resident_bytes, 0u);
}

/// A pool that holds every streamed item gives each its own slot: random
/// calls never fall back, whatever the order. Without a budget (or one with
/// room for the padding) an item of 2 MiB or more starts on a huge page;
/// with a budget of exactly the streamed items the slots are packed.
TEST(OffloadExecutor, PoolForAllStreamedItems) {
  constexpr uint64_t kMiB = 1 << 20;
  std::vector<tvc_offload_item_t> items = {
      {0, 3 * kPage + 1, TVC_OFFLOAD_STREAMED, 0, 0},
      {4 * kPage, 3 * kMiB, TVC_OFFLOAD_STREAMED, 0, 0},
      {4 * kPage + 3 * kMiB, kPage, TVC_OFFLOAD_STREAMED, 0, 0},
      {5 * kPage + 3 * kMiB, 2 * kMiB + 9, TVC_OFFLOAD_STREAMED, 0, 0},
      {6 * kPage + 5 * kMiB, 5 * kPage, TVC_OFFLOAD_STREAMED, 0, 0},
  };
  uint64_t blobBytes = 11 * kPage + 5 * kMiB;
  uint64_t packed = 0;
  for (const tvc_offload_item_t &item : items)
    packed += span(item.bytes);
  WeightsFile file(blobBytes);
  for (uint64_t budget : {uint64_t{0}, packed}) {
    tvc_offload_options_t options{};
    options.budget_bytes = budget;
    Open open(file, items, options, blobBytes);
    ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
    // Padded: [0, 4) pages, 3 MiB at 2 MiB, 1 page, 2 MiB + 1 page at
    // 6 MiB, 5 pages.
    EXPECT_EQ(stats().pool_bytes,
              budget ? packed : 6 * kMiB + span(2 * kMiB + 9) + 5 * kPage);
    uintptr_t blob = reinterpret_cast<uintptr_t>(open.blob);
    std::mt19937 rng(5);
    std::vector<int64_t> held(items.size(), -1);
    for (int step = 0; step < 1000; ++step) {
      int64_t item = static_cast<int64_t>(rng() % items.size());
      int op = static_cast<int>(rng() % 3);
      if (op == 0) {
        prefetchItem(open.blob, item);
      } else if (op == 1) {
        int64_t at = waitItem(open.blob, item, items[item].offset);
        ASSERT_GE(at, static_cast<int64_t>(blobBytes)) << "step " << step;
        if (!budget && items[item].bytes >= 2 * kMiB)
          ASSERT_EQ((blob + static_cast<uint64_t>(at)) % (2 * kMiB), 0u);
        held[item] = at;
      } else {
        evictItem(open.blob, item);
        held[item] = -1;
      }
      expectHeldItemsCorrect(open.blob, held, items, step);
      if (HasFatalFailure())
        return;
    }
    tvc_offload_stats_t now = stats();
    EXPECT_EQ(now.pool_fallbacks, 0u);
    EXPECT_EQ(now.budget_violations, 0u);
    EXPECT_EQ(now.io_errors, 0u);
  }
}

/// A budget below the resident items plus the largest streamed one is
/// refused at open, naming the bytes needed.
TEST(OffloadExecutor, BudgetBelowLargestStreamedItem) {
  WeightsFile file(kBlobBytes);
  tvc_offload_options_t options{};
  uint64_t needed = span(100) + span(4000) + 3 * kPage; // + item 3
  options.budget_bytes = needed - 1;
  {
    Open open(file, kItems, options);
    EXPECT_EQ(open.status, TVC_INVALID_ARGUMENT);
    EXPECT_EQ(open.blob, nullptr);
    EXPECT_NE(std::string(tvc_offload_last_error())
                  .find("below the " + std::to_string(needed) + " bytes"),
              std::string::npos)
        << tvc_offload_last_error();
  }
  options.budget_bytes = needed;
  Open open(file, kItems, options);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 3 * kPage);
  // Two streamed items at once do not fit: the second falls back to its
  // own range, still correct, and counts a budget violation.
  prefetchItem(open.blob, 3);
  prefetchItem(open.blob, 1);
  waitAndCheck(open.blob, 3);
  EXPECT_EQ(waitItem(open.blob, 1, 4096), 4096);
  expectAllCorrect(open.blob);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 1u);
  EXPECT_EQ(now.budget_violations, 1u);
  evictItem(open.blob, 1);
  evictItem(open.blob, 3);
  expectAllCorrect(open.blob);
  EXPECT_EQ(stats().resident_bytes, span(100) + span(4000));
}

//===----------------------------------------------------------------------===//
// KV caches
//===----------------------------------------------------------------------===//

void kvPrefetch(void *blob, int64_t cache, int64_t validRows) {
  tvc_offload_kv_prefetch(blob, blob, 0, 0, 1, cache, validRows);
}
int64_t kvWait(void *blob, int64_t cache, int64_t validRows) {
  return tvc_offload_kv_wait(blob, blob, 0, 0, 1, cache, validRows);
}
void kvEvict(void *blob, int64_t cache, int64_t firstRow, int64_t endRow) {
  tvc_offload_kv_evict(blob, blob, 0, 0, 1, cache, firstRow, endRow);
}

/// Byte `byte` of row `row` of batch `batch` of cache `cache` as written in
/// round `round` (never zero); round 0: never written, the spill file's
/// zeros.
uint8_t kvPattern(int64_t cache, uint64_t batch, uint64_t row, uint64_t byte,
                  uint64_t round) {
  if (round == 0)
    return 0;
  return static_cast<uint8_t>(
      (cache * 131 + batch * 31 + row * 7 + byte * 3 + round * 101) % 251 + 1);
}

/// What a test expects of one KV cache: the round each row was last
/// written in.
struct KvModel {
  KvModel(int64_t cache, const tvc_offload_kv_item_t &item)
      : cache(cache), item(item),
        rounds(static_cast<size_t>(item.batch * item.rows), 0) {}

  /// Writes rows [first, end) of every batch at blob offset `at` in round
  /// `round`, and records it.
  void write(void *blob, int64_t at, uint64_t first, uint64_t end,
             uint64_t round) {
    uint8_t *data = static_cast<uint8_t *>(blob) + at;
    for (uint64_t batch = 0; batch < uint64_t(item.batch); ++batch)
      for (uint64_t row = first; row < end; ++row) {
        uint64_t index = batch * item.rows + row;
        for (uint64_t byte = 0; byte < item.row_bytes; ++byte)
          data[index * item.row_bytes + byte] =
              kvPattern(cache, batch, row, byte, round);
        rounds[index] = round;
      }
  }

  /// The first (batch * rows + row) of rows [0, valid) of every batch at
  /// blob offset `at` that does not hold what was last written, or -1.
  int64_t firstWrongRow(const void *blob, int64_t at, uint64_t valid) const {
    const uint8_t *data = static_cast<const uint8_t *>(blob) + at;
    for (uint64_t batch = 0; batch < uint64_t(item.batch); ++batch)
      for (uint64_t row = 0; row < valid; ++row) {
        uint64_t index = batch * item.rows + row;
        for (uint64_t byte = 0; byte < item.row_bytes; ++byte)
          if (data[index * item.row_bytes + byte] !=
              kvPattern(cache, batch, row, byte, rounds[index]))
            return static_cast<int64_t>(index);
      }
    return -1;
  }

  uint64_t rowBytes(uint64_t rows) const {
    return uint64_t(item.batch) * rows * item.row_bytes;
  }

  int64_t cache;
  tvc_offload_kv_item_t item;
  std::vector<uint64_t> rounds;
};

/// Streamed caches of batch 1 and 2 (rows of odd sizes), and a resident
/// one.
const std::vector<tvc_offload_kv_item_t> kKvItems = {
    {1, 9, 100, TVC_OFFLOAD_STREAMED, 0, 0},  // 0: 900 bytes, 1 page
    {2, 20, 300, TVC_OFFLOAD_STREAMED, 0, 0}, // 1: 12000 bytes, 3 pages
    {2, 6, 64, TVC_OFFLOAD_RESIDENT, 0, 0},   // 2: 768 bytes, 1 page
    {1, 40, 256, TVC_OFFLOAD_STREAMED, 0, 0}, // 3: 10240 bytes, 3 pages
};
/// kKvItems' streamed caches' offsets in the spill file.
const std::vector<uint64_t> kKvFileOffsets = {0, kPage, 0, 4 * kPage};
/// The pool of kItems and kKvItems (no padding): its start from the blob.
constexpr int64_t kPoolStart = 2 << 20;

tvc_offload_options_t
kvOptions(const std::vector<tvc_offload_kv_item_t> &kv = kKvItems,
          uint64_t budget = 0, const char *dir = nullptr) {
  tvc_offload_options_t options{};
  options.budget_bytes = budget;
  options.kv_items = kv.data();
  options.num_kv_items = static_cast<int64_t>(kv.size());
  options.kv_dir = dir;
  return options;
}

/// The names in `dir`, but . and ..
std::vector<std::string> filesIn(const std::string &dir) {
  std::vector<std::string> names;
  DIR *stream = opendir(dir.c_str());
  while (stream)
    if (const dirent *entry = readdir(stream)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        names.push_back(name);
    } else {
      break;
    }
  if (stream)
    closedir(stream);
  return names;
}

/// A prefill then decode steps, one row each, on every streamed cache (of
/// batch 1 and 2): each wait reads the valid rows as last written, in a
/// slot of the pool; the resident cache is the caller's (-1); the spill file
/// is unlinked (nothing left in kv_dir); the counters add up.
TEST(OffloadExecutor, KvRoundTrip) {
  WeightsFile file(kBlobBytes);
  Open open(file, kItems, kvOptions(kKvItems, 0, file.dir.c_str()));
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(filesIn(file.dir), std::vector<std::string>{"model.weights"});
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.kv_spill_bytes, 7 * kPage);
  // Weights: 2 + 3 + 1 pages; caches: 1 + 3 + 3.
  EXPECT_EQ(now.pool_bytes, 13 * kPage);
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000) + kPage);
  std::vector<KvModel> models;
  for (int64_t cache = 0; cache < 4; ++cache)
    models.emplace_back(cache, kKvItems[cache]);
  EXPECT_EQ(kvWait(open.blob, 2, 3), -1);
  uint64_t read = 0, written = 0;
  auto step = [&](int64_t cache, uint64_t past, uint64_t rows, bool prefetch) {
    KvModel &model = models[cache];
    if (prefetch)
      kvPrefetch(open.blob, cache, static_cast<int64_t>(past));
    int64_t at = kvWait(open.blob, cache, static_cast<int64_t>(past));
    EXPECT_GE(at, kPoolStart) << "cache " << cache << ", past " << past;
    EXPECT_LE(at + static_cast<int64_t>(span(
                       model.rowBytes(static_cast<uint64_t>(model.item.rows)))),
              kPoolStart + static_cast<int64_t>(13 * kPage));
    EXPECT_EQ(at % static_cast<int64_t>(kPage), 0);
    EXPECT_EQ(model.firstWrongRow(open.blob, at, past), -1)
        << "cache " << cache << ", past " << past;
    model.write(open.blob, at, past, past + rows, past + 1);
    kvEvict(open.blob, cache, static_cast<int64_t>(past),
            static_cast<int64_t>(past + rows));
    read += model.rowBytes(past);
    written += model.rowBytes(rows);
  };
  for (int64_t cache : {0, 1, 3})
    step(cache, 0, 3, false); // the prefill: nothing to read
  for (uint64_t past = 3; past < 9; ++past)
    for (int64_t cache : {0, 1, 3})
      step(cache, past, 1, past % 2 == 0);
  // Held at once: disjoint slots, each correct.
  std::vector<int64_t> at;
  for (int64_t cache : {0, 1, 3}) {
    kvPrefetch(open.blob, cache, 9);
    at.push_back(kvWait(open.blob, cache, 9));
  }
  EXPECT_NE(at[0], at[1]);
  EXPECT_NE(at[1], at[2]);
  EXPECT_NE(at[0], at[2]);
  for (int64_t index = 0; index < 3; ++index) {
    int64_t cache = index < 2 ? index : 3;
    EXPECT_EQ(models[cache].firstWrongRow(open.blob, at[index], 9), -1)
        << "cache " << cache;
    read += models[cache].rowBytes(9);
    kvEvict(open.blob, cache, 9, 9);
  }
  expectAllCorrect(open.blob);
  now = stats();
  EXPECT_EQ(now.kv_bytes_read, read);
  EXPECT_EQ(now.kv_bytes_written, written);
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000) + kPage);
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.bytes_read, now.bytes_read_at_open); // no weight streamed
  EXPECT_STREQ(tvc_offload_last_error(), "");
}

/// A wait asking for more rows than its prefetch read reads the rest (all
/// rows read exactly once); a second wait before the evict returns the same
/// slot and reads nothing; rows are clamped to [0, rows]; an evict of no
/// rows writes nothing; a wait without a prefetch stalls.
TEST(OffloadExecutor, KvValidRowsGrowth) {
  WeightsFile file(kBlobBytes);
  Open open(file, kItems, kvOptions());
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  KvModel model(3, kKvItems[3]);
  int64_t at = kvWait(open.blob, 3, 0);
  EXPECT_EQ(stats().stalls, 1u);
  model.write(open.blob, at, 0, 8, 1);
  kvEvict(open.blob, 3, 0, 8);
  kvPrefetch(open.blob, 3, 2);
  kvPrefetch(open.blob, 3, 1); // queued or read: nothing more
  // Once the I/O thread has read the 2 rows, the wait reads the other 6.
  for (int poll = 0; poll < 5000 && stats().kv_bytes_read < model.rowBytes(2);
       ++poll)
    usleep(1000);
  ASSERT_EQ(stats().kv_bytes_read, model.rowBytes(2));
  at = kvWait(open.blob, 3, 8);
  EXPECT_EQ(model.firstWrongRow(open.blob, at, 8), -1);
  EXPECT_EQ(stats().kv_bytes_read, model.rowBytes(8));
  // Handed out: the slot is the cache now; rows 8.. are the caller's.
  model.write(open.blob, at, 8, 12, 2);
  EXPECT_EQ(kvWait(open.blob, 3, 12), at);
  EXPECT_EQ(model.firstWrongRow(open.blob, at, 12), -1);
  EXPECT_EQ(stats().kv_bytes_read, model.rowBytes(8));
  kvEvict(open.blob, 3, 8, 12);
  EXPECT_EQ(stats().kv_bytes_written, model.rowBytes(8) + model.rowBytes(4));
  // Clamped: all 40 rows read and written.
  at = kvWait(open.blob, 3, 1000);
  EXPECT_EQ(model.firstWrongRow(open.blob, at, 40), -1);
  model.write(open.blob, at, 0, 40, 3);
  kvEvict(open.blob, 3, -5, 1000);
  kvEvict(open.blob, 3, 0, 40); // evicted: nothing
  // A slot that was only prefetched holds nothing new: nothing written.
  kvPrefetch(open.blob, 3, 40);
  kvEvict(open.blob, 3, 0, 40);
  at = kvWait(open.blob, 3, 40);
  EXPECT_EQ(model.firstWrongRow(open.blob, at, 40), -1);
  kvEvict(open.blob, 3, 7, 7);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.kv_bytes_written, model.rowBytes(12) + model.rowBytes(40));
  EXPECT_GE(now.kv_bytes_read, model.rowBytes(8 + 40 + 40));
  EXPECT_LE(now.kv_bytes_read, model.rowBytes(8 + 40 + 40 + 40));
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000) + kPage);
}

/// A pool with room for one 3-page cache: the second cache held at once
/// falls back to its home, the spill file mapped shared, where it reads
/// what was written back and its new rows written in place are kept; a
/// later slot reads them. Counted as resident, a fallback and a violation.
/// (With drop_page_cache: the spill file's pages are advised away too.)
TEST(OffloadExecutor, KvHomeFallback) {
  WeightsFile file(kBlobBytes);
  uint64_t base = span(100) + span(4000) + kPage;
  tvc_offload_options_t options = kvOptions(kKvItems, base + 3 * kPage);
  options.drop_page_cache = 1; // the spill file's pages too
  Open open(file, kItems, options);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  ASSERT_EQ(stats().pool_bytes, 3 * kPage);
  // The spill file is mapped right after the pool.
  int64_t spill = kPoolStart + static_cast<int64_t>(3 * kPage);
  KvModel one(1, kKvItems[1]), three(3, kKvItems[3]);
  for (int round = 1; round <= 3; ++round) {
    uint64_t past = static_cast<uint64_t>(round - 1) * 5;
    // Cache 1 in the slot, cache 3 at its home; then the other way round.
    int64_t first = round % 2 ? 1 : 3, second = round % 2 ? 3 : 1;
    KvModel &a = round % 2 ? one : three, &b = round % 2 ? three : one;
    kvPrefetch(open.blob, first, static_cast<int64_t>(past));
    kvPrefetch(open.blob, second, static_cast<int64_t>(past)); // no room
    int64_t atA = kvWait(open.blob, first, static_cast<int64_t>(past));
    int64_t atB = kvWait(open.blob, second, static_cast<int64_t>(past));
    EXPECT_EQ(atA, kPoolStart) << "round " << round;
    EXPECT_EQ(atB, spill + static_cast<int64_t>(kKvFileOffsets[second]))
        << "round " << round;
    EXPECT_EQ(a.firstWrongRow(open.blob, atA, past), -1) << "round " << round;
    EXPECT_EQ(b.firstWrongRow(open.blob, atB, past), -1) << "round " << round;
    EXPECT_EQ(kvWait(open.blob, second, static_cast<int64_t>(past)), atB);
    tvc_offload_stats_t now = stats();
    EXPECT_EQ(now.resident_bytes, base + 6 * kPage);
    EXPECT_EQ(now.pool_fallbacks, static_cast<uint64_t>(round));
    EXPECT_EQ(now.budget_violations, static_cast<uint64_t>(round));
    a.write(open.blob, atA, past, past + 5, round);
    b.write(open.blob, atB, past, past + 5, round);
    uint64_t written = now.kv_bytes_written;
    kvEvict(open.blob, second, static_cast<int64_t>(past),
            static_cast<int64_t>(past + 5));
    EXPECT_EQ(stats().kv_bytes_written, written); // written in place
    kvEvict(open.blob, first, static_cast<int64_t>(past),
            static_cast<int64_t>(past + 5));
    EXPECT_EQ(stats().kv_bytes_written, written + a.rowBytes(5));
    EXPECT_EQ(stats().resident_bytes, base);
    // Both homes hold every row written.
    EXPECT_EQ(one.firstWrongRow(open.blob, spill + int64_t(kKvFileOffsets[1]),
                                past + 5),
              -1);
    EXPECT_EQ(three.firstWrongRow(open.blob, spill + int64_t(kKvFileOffsets[3]),
                                  past + 5),
              -1);
  }
  for (int64_t cache : {1, 3}) {
    int64_t at = kvWait(open.blob, cache, 15);
    EXPECT_EQ(at, kPoolStart);
    EXPECT_EQ((cache == 1 ? one : three).firstWrongRow(open.blob, at, 15), -1);
    kvEvict(open.blob, cache, 15, 15);
  }
  EXPECT_EQ(stats().io_errors, 0u);
  expectAllCorrect(open.blob);
}

/// Resident caches are the caller's: kv_wait says -1, prefetch and evict do
/// nothing; their pages count in resident_bytes from open and come out of
/// the budget before the pool, and a budget without room for them plus the
/// largest streamed item is refused. No streamed cache: no spill file.
TEST(OffloadExecutor, KvResidentCounted) {
  WeightsFile file(kBlobBytes);
  std::vector<tvc_offload_kv_item_t> kv = {
      {2, 6, 64, TVC_OFFLOAD_RESIDENT, 0, 0},      // 1 page
      {1, 1000, 100, TVC_OFFLOAD_RESIDENT, 0, 0}}; // 25 pages
  uint64_t base = span(100) + span(4000) + 26 * kPage;
  {
    Open open(file, kItems, kvOptions(kv, base + 3 * kPage - 1));
    EXPECT_EQ(open.status, TVC_INVALID_ARGUMENT);
    std::string error = tvc_offload_last_error();
    EXPECT_NE(
        error.find("below the " + std::to_string(base + 3 * kPage) + " bytes"),
        std::string::npos)
        << error;
    EXPECT_NE(error.find("resident KV caches " + std::to_string(26 * kPage)),
              std::string::npos)
        << error;
  }
  Open open(file, kItems, kvOptions(kv, base + 3 * kPage));
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_bytes, 3 * kPage);
  EXPECT_EQ(now.resident_bytes, base);
  EXPECT_EQ(now.peak_resident_bytes, base);
  EXPECT_EQ(now.kv_spill_bytes, 0u);
  for (int64_t cache : {0, 1}) {
    kvPrefetch(open.blob, cache, 3);
    EXPECT_EQ(kvWait(open.blob, cache, 3), -1);
    kvEvict(open.blob, cache, 0, 3);
  }
  // The weights' pool is what is left: one streamed weight at a time.
  waitAndCheck(open.blob, 3);
  EXPECT_EQ(waitItem(open.blob, 1, 4096), 4096);
  now = stats();
  EXPECT_EQ(now.pool_fallbacks, 1u);
  EXPECT_EQ(now.kv_bytes_read, 0u);
  EXPECT_EQ(now.kv_bytes_written, 0u);
  evictItem(open.blob, 1);
  evictItem(open.blob, 3);
  EXPECT_EQ(stats().resident_bytes, base);
}

/// Bad KV cache lists and spill directories are refused with a message,
/// leaving nothing open.
TEST(OffloadExecutor, KvBadInputs) {
  WeightsFile file(kBlobBytes);
  auto expectRefused = [&](std::vector<tvc_offload_kv_item_t> kv,
                           const std::string &message, int64_t count = -2,
                           const char *dir = nullptr) {
    tvc_offload_options_t options = kvOptions(kv, 0, dir);
    if (count != -2)
      options.num_kv_items = count;
    if (kv.empty())
      options.kv_items = nullptr;
    Open open(file, kItems, options);
    EXPECT_NE(open.status, TVC_OK) << message;
    EXPECT_EQ(open.blob, nullptr);
    EXPECT_NE(std::string(tvc_offload_last_error()).find(message),
              std::string::npos)
        << tvc_offload_last_error();
    tvc_offload_stats_t out;
    EXPECT_EQ(tvc_offload_get_stats(&out), TVC_NOT_FOUND);
  };
  tvc_offload_kv_item_t good = {1, 4, 16, TVC_OFFLOAD_STREAMED, 0, 0};
  expectRefused({good, {0, 4, 16, TVC_OFFLOAD_STREAMED, 0, 0}},
                "KV cache 1: expects batch, rows and row_bytes of at least 1, "
                "got 0, 4, 16");
  expectRefused({{1, 0, 16, TVC_OFFLOAD_RESIDENT, 0, 0}},
                "KV cache 0: expects batch, rows and row_bytes of at least 1");
  expectRefused({{1, -3, 16, TVC_OFFLOAD_RESIDENT, 0, 0}}, "got 1, -3, 16");
  expectRefused({{1, 4, 0, TVC_OFFLOAD_STREAMED, 0, 0}}, "got 1, 4, 0");
  expectRefused({{1, 4, 16, TVC_OFFLOAD_PAGED, 0, 0}},
                "KV cache 0: placement 2 is neither resident (0) nor "
                "streamed (1)");
  expectRefused({{1, 4, 16, -1, 0, 0}}, "placement -1");
  expectRefused(
      {{int64_t{1} << 40, int64_t{1} << 30, 64, TVC_OFFLOAD_STREAMED, 0, 0}},
      "are too many bytes");
  expectRefused(
      {{1, int64_t{1} << 40, uint64_t{1} << 21, TVC_OFFLOAD_RESIDENT, 0, 0},
       {1, int64_t{1} << 40, uint64_t{1} << 21, TVC_OFFLOAD_RESIDENT, 0, 0}},
      "KV cache 1: 1 x 1099511627776 rows");
  expectRefused({}, "a null KV cache list", 2);
  expectRefused({good}, "a negative KV cache count", -1);
  expectRefused({good},
                "cannot create the KV-cache spill file in "
                "'/nonexistent-tvc-dir'",
                -2, "/nonexistent-tvc-dir");
  // Without kv_dir: $TMPDIR.
  const char *saved = std::getenv("TMPDIR");
  std::string previous = saved ? saved : "";
  setenv("TMPDIR", "/nonexistent-tvc-tmpdir", 1);
  expectRefused({good}, "'/nonexistent-tvc-tmpdir'");
  setenv("TMPDIR", file.dir.c_str(), 1);
  {
    Open open(file, kItems, kvOptions({good}));
    EXPECT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
    EXPECT_EQ(stats().kv_spill_bytes, kPage);
  }
  if (saved)
    setenv("TMPDIR", previous.c_str(), 1);
  else
    unsetenv("TMPDIR");
  // A resident cache needs no spill file: no directory is looked at.
  Open open(
      file, kItems,
      kvOptions({{1, 4, 16, TVC_OFFLOAD_RESIDENT, 0, 0}}, 0, "/nonexistent"));
  EXPECT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
}

/// Without an open executor, and for caches an open one does not know,
/// kv_wait says -1 and prefetch and evict do nothing.
TEST(OffloadExecutor, KvCallsWithoutExecutor) {
  char bytes[16] = {};
  for (int64_t cache : {-1, 0, 1, 1000}) {
    kvPrefetch(bytes, cache, 1);
    EXPECT_EQ(kvWait(bytes, cache, 1), -1);
    kvEvict(bytes, cache, 0, 1);
  }
  WeightsFile file(kBlobBytes);
  Open open(file, kItems, kvOptions());
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  for (int64_t cache : {-1, 4, 1000}) {
    kvPrefetch(open.blob, cache, 1);
    EXPECT_EQ(kvWait(open.blob, cache, 1), -1);
    kvEvict(open.blob, cache, 0, 1);
  }
  // A weights executor without caches: every cache is unknown.
  tvc_offload_close();
  void *blob = nullptr;
  ASSERT_EQ(tvc_offload_open(file.path.c_str(), kBlobBytes, kItems.data(),
                             static_cast<int64_t>(kItems.size()), nullptr,
                             &blob),
            TVC_OK);
  EXPECT_EQ(kvWait(blob, 0, 1), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.kv_bytes_read + now.kv_bytes_written + now.kv_spill_bytes, 0u);
}

/// A write-back that fails (the process may not write past byte 0 of a
/// file) is counted and reported; later reads still work.
TEST(OffloadExecutor, KvWriteBackFailure) {
  WeightsFile file(kBlobBytes);
  Open open(file, kItems, kvOptions());
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  KvModel model(1, kKvItems[1]);
  int64_t at = kvWait(open.blob, 1, 0);
  model.write(open.blob, at, 0, 3, 1);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit none = saved;
  none.rlim_cur = 0;
  auto handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &none), 0);
  kvEvict(open.blob, 1, 0, 3);
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, handler);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.io_errors, 1u);
  EXPECT_EQ(now.kv_bytes_written, 0u);
  EXPECT_EQ(now.resident_bytes, span(100) + span(4000) + kPage);
  EXPECT_NE(std::string(tvc_offload_last_error())
                .find("cannot write rows [0, 3) of KV cache 1 back to its "
                      "spill file"),
            std::string::npos)
      << tvc_offload_last_error();
  // The rows were lost (the spill file's zeros); the cache works on.
  at = kvWait(open.blob, 1, 3);
  EXPECT_EQ(KvModel(1, kKvItems[1]).firstWrongRow(open.blob, at, 3), -1);
  model.write(open.blob, at, 0, 3, 2);
  kvEvict(open.blob, 1, 0, 3);
  at = kvWait(open.blob, 1, 3);
  EXPECT_EQ(model.firstWrongRow(open.blob, at, 3), -1);
  EXPECT_EQ(stats().io_errors, 1u);
}

/// A decoder of 4 layers, each with a streamed weight and a key and a value
/// cache, in a pool of one layer's weight and caches: every layer's weight
/// and caches read correctly for a prefill and 11 decode tokens, all from
/// the pool, within the budget, and the caches hold every row at the end.
TEST(OffloadExecutor, KvWithWeightsInSmallBudget) {
  constexpr int64_t kLayers = 4;
  std::vector<tvc_offload_item_t> items = {
      {0, 3000, TVC_OFFLOAD_RESIDENT, 0, 0}};
  for (int64_t layer = 0; layer < kLayers; ++layer)
    items.push_back({kPage * uint64_t(1 + 3 * layer),
                     3 * kPage - 17 * uint64_t(layer), TVC_OFFLOAD_STREAMED, 0,
                     0});
  uint64_t blobBytes = (1 + 3 * kLayers) * kPage;
  std::vector<tvc_offload_kv_item_t> kv(
      2 * kLayers, {2, 16, 512, TVC_OFFLOAD_STREAMED, 0, 0}); // 4 pages each
  WeightsFile file(blobBytes);
  uint64_t budget = kPage + 3 * kPage + 2 * 4 * kPage;
  Open open(file, items, kvOptions(kv, budget), blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 11 * kPage);
  std::vector<KvModel> models;
  for (int64_t cache = 0; cache < 2 * kLayers; ++cache)
    models.emplace_back(cache, kv[cache]);
  uint64_t read = 0;
  auto call = [&](uint64_t past, uint64_t rows, uint64_t round) {
    for (int64_t layer = 0; layer < kLayers; ++layer) {
      int64_t weight = layer + 1;
      if (layer == 0)
        prefetchItem(open.blob, weight);
      int64_t at = waitItem(open.blob, weight, items[weight].offset);
      ASSERT_GE(at, static_cast<int64_t>(blobBytes));
      ASSERT_EQ(firstWrongByteAt(open.blob, at, items[weight]), -1);
      for (int64_t cache : {2 * layer, 2 * layer + 1}) {
        kvPrefetch(open.blob, cache, static_cast<int64_t>(past));
        int64_t where = kvWait(open.blob, cache, static_cast<int64_t>(past));
        ASSERT_GE(where, static_cast<int64_t>(blobBytes));
        ASSERT_EQ(models[cache].firstWrongRow(open.blob, where, past), -1)
            << "layer " << layer << ", cache " << cache << ", past " << past;
        models[cache].write(open.blob, where, past, past + rows, round);
        read += models[cache].rowBytes(past);
      }
      for (int64_t cache : {2 * layer, 2 * layer + 1})
        kvEvict(open.blob, cache, static_cast<int64_t>(past),
                static_cast<int64_t>(past + rows));
      evictItem(open.blob, weight);
      if (layer + 1 < kLayers)
        prefetchItem(open.blob, weight + 1);
    }
  };
  call(0, 5, 1);
  for (uint64_t past = 5; past < 16; ++past) {
    call(past, 1, past + 1);
    if (HasFatalFailure())
      return;
  }
  for (int64_t cache = 0; cache < 2 * kLayers; ++cache) {
    int64_t at = kvWait(open.blob, cache, 16);
    EXPECT_EQ(models[cache].firstWrongRow(open.blob, at, 16), -1);
    read += models[cache].rowBytes(16);
    kvEvict(open.blob, cache, 16, 16);
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.peak_resident_bytes, budget);
  EXPECT_EQ(now.resident_bytes, kPage);
  EXPECT_EQ(now.kv_bytes_read, read);
  EXPECT_EQ(now.kv_bytes_written, 2 * kLayers * models[0].rowBytes(16));
  EXPECT_EQ(now.reads, 1u + 12u * kLayers);
  for (const tvc_offload_item_t &item : items)
    EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
}

/// Random calls on streamed weights and caches in a pool of about a third
/// of them (prefetches without a slot, fallbacks to the homes, cancelled
/// queued reads, waits growing the valid rows): every wait reads the rows
/// as last written where it says, a cache's slot stays put until its evict,
/// and evicting everything leaves the resident bytes of open.
TEST(OffloadExecutor, KvRandomSequence) {
  std::mt19937 rng(3);
  std::vector<tvc_offload_item_t> items;
  uint64_t offset = 0;
  for (int index = 0; index < 6; ++index) {
    uint64_t bytes = (rng() % 4 + 1) * kPage - rng() % 3000;
    items.push_back({offset, bytes, TVC_OFFLOAD_STREAMED, 0, 0});
    offset += span(bytes);
  }
  uint64_t blobBytes = offset;
  std::vector<tvc_offload_kv_item_t> kv;
  uint64_t total = 0;
  for (int index = 0; index < 8; ++index) {
    tvc_offload_kv_item_t cache = {int64_t(rng() % 2 + 1),
                                   int64_t(rng() % 30 + 2),
                                   rng() % 700 + 1,
                                   TVC_OFFLOAD_STREAMED,
                                   0,
                                   0};
    kv.push_back(cache);
    total += span(uint64_t(cache.batch * cache.rows) * cache.row_bytes);
  }
  for (const tvc_offload_item_t &item : items)
    total += span(item.bytes);
  WeightsFile file(blobBytes);
  Open open(file, items, kvOptions(kv, total / 3 / kPage * kPage), blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  std::vector<KvModel> models;
  for (int64_t cache = 0; cache < 8; ++cache)
    models.emplace_back(cache, kv[cache]);
  std::vector<uint64_t> length(kv.size(), 0); // rows written so far
  // A held cache: where its wait said, and the rows [first, end) its
  // caller wrote there.
  std::vector<int64_t> heldAt(kv.size(), -1), heldFirst(kv.size(), 0),
      heldRows(kv.size(), 0);
  std::vector<int64_t> weightAt(items.size(), -1);
  for (int step = 1; step <= 3000; ++step) {
    int op = static_cast<int>(rng() % 6);
    if (op < 3) {
      int64_t item = static_cast<int64_t>(rng() % items.size());
      if (op == 0) {
        prefetchItem(open.blob, item);
      } else if (op == 1) {
        weightAt[item] = waitItem(open.blob, item, items[item].offset);
      } else {
        evictItem(open.blob, item);
        weightAt[item] = -1;
      }
      expectHeldItemsCorrect(open.blob, weightAt, items, step);
      if (HasFatalFailure())
        return;
      continue;
    }
    int64_t cache = static_cast<int64_t>(rng() % kv.size());
    KvModel &model = models[cache];
    uint64_t rows = uint64_t(kv[cache].rows);
    int64_t valid = static_cast<int64_t>(rng() % (length[cache] + 1));
    if (op == 3) {
      kvPrefetch(open.blob, cache, valid);
    } else if (op == 4) {
      int64_t at = kvWait(open.blob, cache, valid);
      if (heldAt[cache] >= 0) {
        // Held: the same place, as the caller left it.
        ASSERT_EQ(at, heldAt[cache]) << "step " << step;
        valid = heldRows[cache];
      }
      ASSERT_GE(at, static_cast<int64_t>(blobBytes)) << "step " << step;
      ASSERT_EQ(model.firstWrongRow(open.blob, at, uint64_t(valid)), -1)
          << "step " << step << ", cache " << cache << ", valid " << valid;
      if (heldAt[cache] < 0) {
        // New rows [valid, end), as an attention step writes them.
        uint64_t end = std::min(rows, uint64_t(valid) + rng() % 4 + 1);
        model.write(open.blob, at, uint64_t(valid), end, uint64_t(step));
        heldAt[cache] = at;
        heldFirst[cache] = valid;
        heldRows[cache] = static_cast<int64_t>(end);
        length[cache] = std::max(length[cache], end);
      }
    } else {
      // Write back what the wait's caller wrote (nothing held: nothing to
      // write, whatever the rows say).
      if (heldAt[cache] >= 0)
        kvEvict(open.blob, cache, heldFirst[cache], heldRows[cache]);
      else
        kvEvict(open.blob, cache, 0, valid);
      heldAt[cache] = -1;
    }
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_GT(now.pool_fallbacks, 0u);
  for (int64_t index = 0; index < static_cast<int64_t>(items.size()); ++index)
    evictItem(open.blob, index);
  for (int64_t cache = 0; cache < 8; ++cache)
    kvEvict(open.blob, cache, heldFirst[cache], heldRows[cache]);
  EXPECT_EQ(stats().resident_bytes, 0u);
  for (int64_t cache = 0; cache < 8; ++cache) {
    int64_t at = kvWait(open.blob, cache, int64_t(length[cache]));
    EXPECT_EQ(models[cache].firstWrongRow(open.blob, at, length[cache]), -1)
        << "cache " << cache;
    kvEvict(open.blob, cache, 0, 0);
  }
}

//===----------------------------------------------------------------------===//
// The compiler's pool slots (options.pool_bytes)
//===----------------------------------------------------------------------===//

/// FragmentedPool's calls with the slots a plan of them would give: D goes
/// where A and C were (never held with them), so nothing falls back in a
/// pool of 4 pages, where first fit did.
TEST(OffloadExecutor, PlannedSlotsAreUsedAsGiven) {
  std::vector<tvc_offload_item_t> items = {
      {0, 4096, TVC_OFFLOAD_STREAMED, 1, 0},                // A
      {4096, 2 * 4096, TVC_OFFLOAD_STREAMED, 1, 2 * kPage}, // B
      {12288, 4000, TVC_OFFLOAD_STREAMED, 1, kPage},        // C
      {16384, 2 * 4096 - 5, TVC_OFFLOAD_STREAMED, 1, 0},    // D
      {24576, 3 * 4096 + 1, TVC_OFFLOAD_STREAMED, 1, 0},    // E
  };
  constexpr uint64_t kBlob = 24576 + 3 * 4096 + 1;
  constexpr int64_t kPool = 2 << 20;
  WeightsFile file(kBlob);
  tvc_offload_options_t options{};
  options.budget_bytes = 4 * kPage;
  options.pool_bytes = 4 * kPage;
  Open open(file, items, options, kBlob);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  EXPECT_EQ(stats().pool_bytes, 4 * kPage);
  auto load = [&](int64_t index) {
    return prefetchWaitAndCheck(open.blob, items, index);
  };
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(load(0), kPool);
    EXPECT_EQ(load(1), kPool + 2 * 4096);
    EXPECT_EQ(load(2), kPool + 4096);
    evictItem(open.blob, 0);
    evictItem(open.blob, 2);
    EXPECT_EQ(load(3), kPool); // first fit had no 2 free pages in a row
    evictItem(open.blob, 3);
    evictItem(open.blob, 1);
    EXPECT_EQ(load(4), kPool);
    evictItem(open.blob, 4);
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.resident_bytes, 0u);
  for (const tvc_offload_item_t &item : items)
    EXPECT_EQ(firstWrongByte(open.blob, item.offset, item.bytes), -1);
}

/// KV caches take their planned slots too; a weight and a cache may share
/// pool bytes when the plan never holds them at once.
TEST(OffloadExecutor, PlannedKvSlots) {
  std::vector<tvc_offload_item_t> items = {
      {0, 3000, TVC_OFFLOAD_RESIDENT, 0, 0},
      {kPage, 2 * kPage, TVC_OFFLOAD_STREAMED, 1, 0},
  };
  uint64_t blobBytes = 3 * kPage;
  std::vector<tvc_offload_kv_item_t> kv = {
      {2, 16, 512, TVC_OFFLOAD_STREAMED, 1, 0},         // 4 pages
      {2, 16, 512, TVC_OFFLOAD_STREAMED, 1, 4 * kPage}, // 4 pages
  };
  WeightsFile file(blobBytes);
  tvc_offload_options_t options = kvOptions(kv, kPage + 8 * kPage);
  options.pool_bytes = 8 * kPage;
  Open open(file, items, options, blobBytes);
  ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
  std::vector<KvModel> models = {KvModel(0, kv[0]), KvModel(1, kv[1])};
  for (uint64_t past = 0; past < 8; ++past) {
    // The weight first, alone; then both caches, over its slot.
    prefetchItem(open.blob, 1);
    int64_t at = waitItem(open.blob, 1, items[1].offset);
    ASSERT_EQ(at, kPoolStart);
    ASSERT_EQ(firstWrongByteAt(open.blob, at, items[1]), -1);
    evictItem(open.blob, 1);
    for (int64_t cache : {0, 1}) {
      kvPrefetch(open.blob, cache, static_cast<int64_t>(past));
      int64_t where = kvWait(open.blob, cache, static_cast<int64_t>(past));
      ASSERT_EQ(where,
                kPoolStart + static_cast<int64_t>(kv[cache].slot_offset));
      ASSERT_EQ(models[cache].firstWrongRow(open.blob, where, past), -1)
          << "cache " << cache << ", past " << past;
      models[cache].write(open.blob, where, past, past + 1, past + 1);
    }
    for (int64_t cache : {0, 1})
      kvEvict(open.blob, cache, static_cast<int64_t>(past),
              static_cast<int64_t>(past + 1));
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.pool_fallbacks, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.pool_bytes, 8 * kPage);
}

/// Planned slots are checked at open: every streamed item and cache has
/// one, page-aligned inside the pool, and the pool fits the budget.
TEST(OffloadExecutor, PlannedSlotsBadInputs) {
  WeightsFile file(kBlobBytes);
  std::vector<tvc_offload_item_t> items = kItems;
  for (int64_t index : {1, 3, 4})
    items[index].has_slot = 1;
  items[1].slot_offset = 0;
  items[3].slot_offset = 2 * kPage;
  items[4].slot_offset = 5 * kPage;
  tvc_offload_options_t options{};
  options.pool_bytes = 6 * kPage;
  {
    Open open(file, items, options);
    ASSERT_EQ(open.status, TVC_OK) << tvc_offload_last_error();
    EXPECT_EQ(stats().pool_bytes, 6 * kPage);
    EXPECT_EQ(waitItem(open.blob, 4, kItems[4].offset),
              static_cast<int64_t>((2 << 20) + 5 * kPage));
    evictItem(open.blob, 4);
  }
  auto expectRefused = [&](std::vector<tvc_offload_item_t> bad,
                           tvc_offload_options_t with, const char *why) {
    Open open(file, bad, with);
    EXPECT_EQ(open.status, TVC_INVALID_ARGUMENT) << why;
    EXPECT_NE(std::string(tvc_offload_last_error()).find(why),
              std::string::npos)
        << tvc_offload_last_error();
  };
  std::vector<tvc_offload_item_t> bad = items;
  bad[3].has_slot = 0;
  expectRefused(bad, options, "offload item 3 is streamed but has no slot");
  bad = items;
  bad[4].slot_offset = 6 * kPage; // one page past the end
  expectRefused(bad, options,
                "offload item 4: slot [24576, +4096) is not a "
                "page-aligned range of the 24576-byte pool");
  bad = items;
  bad[1].slot_offset = 100;
  expectRefused(bad, options, "offload item 1: slot [100, +8192)");
  tvc_offload_options_t odd = options;
  odd.pool_bytes = 6 * kPage + 1;
  expectRefused(items, odd, "is not a multiple of 4096");
  tvc_offload_options_t tight = options;
  tight.budget_bytes = 2 * kPage + 6 * kPage - 1; // resident: 2 pages
  expectRefused(items, tight, "exceed the budget of");
  // A streamed KV cache without a slot.
  tvc_offload_options_t withKv = kvOptions(kKvItems);
  withKv.pool_bytes = 6 * kPage;
  expectRefused(items, withKv, "KV cache 0 is streamed but has no slot");
}

/// The CUDA executor where it cannot run, in every build (with CUDA and no
/// device, or without CUDA: the stub): TVC_UNAVAILABLE, saying why, and no
/// executor open. CudaOffloadExecutorTest.cpp has the rest.
TEST(WithoutCudaDevice, OffloadOpenCudaUnavailable) {
  tvc_cuda_device_info_t info;
  const char *why = nullptr;
  if (tvc_cuda_device_query(0, &info, &why) == TVC_OK)
    GTEST_SKIP() << "a CUDA device is present";
  WeightsFile file(3 * kPage);
  std::vector<tvc_offload_item_t> items = {
      {0, 100, TVC_OFFLOAD_RESIDENT, 0, 0},
      {kPage, 2 * kPage, TVC_OFFLOAD_STREAMED, 1, 0}};
  tvc_offload_options_t options{};
  options.pool_bytes = 2 * kPage;
  void *blob = reinterpret_cast<void *>(1);
  EXPECT_EQ(tvc_offload_open_cuda(file.path.c_str(), 3 * kPage, items.data(),
                                  items.size(), &options, &blob),
            TVC_UNAVAILABLE);
  EXPECT_EQ(blob, nullptr);
  std::string message = tvc_offload_last_error();
  EXPECT_TRUE(message.find("built without CUDA") != std::string::npos ||
              message.find("no usable CUDA device") != std::string::npos)
      << message;
  tvc_offload_stats_t none;
  EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);
  // The CPU executor opens after it.
  EXPECT_EQ(tvc_offload_open(file.path.c_str(), 3 * kPage, items.data(),
                             items.size(), &options, &blob),
            TVC_OK)
      << tvc_offload_last_error();
  tvc_offload_close();
}

} // namespace
