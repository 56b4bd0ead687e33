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
// fragmented or too small: the fallback to the item's own range).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_offload.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
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
    {0, 100, TVC_OFFLOAD_RESIDENT},              // 0
    {4096, 5000, TVC_OFFLOAD_STREAMED},          // 1: 2 pages
    {12288, 3 * 4096, TVC_OFFLOAD_PAGED},        // 2
    {24576, 2 * 4096 + 7, TVC_OFFLOAD_STREAMED}, // 3: 3 pages
    {40960, 1, TVC_OFFLOAD_STREAMED},            // 4: the last byte
    {36864, 4000, TVC_OFFLOAD_RESIDENT},         // 5: out of order
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
  expectRefused(good, {{100, 10, TVC_OFFLOAD_STREAMED}},
                "is not a multiple of 4096");
  expectRefused(
      good, {{0, 5000, TVC_OFFLOAD_STREAMED}, {4096, 10, TVC_OFFLOAD_RESIDENT}},
      "overlap");
  expectRefused(good, {{40960, 2, TVC_OFFLOAD_PAGED}}, "run past the blob");
  expectRefused(good, {{45056, 0, TVC_OFFLOAD_PAGED}}, "run past the blob");
  expectRefused(good, {{0, 1, 7}}, "unknown placement 7");
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
    items.push_back({offset, bytes, TVC_OFFLOAD_STREAMED});
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
  std::vector<tvc_offload_item_t> items = {{0, kBig, TVC_OFFLOAD_STREAMED},
                                           {kBig, 10, TVC_OFFLOAD_PAGED}};
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
    items.push_back(
        {offset, bytes, index ? TVC_OFFLOAD_STREAMED : TVC_OFFLOAD_RESIDENT});
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
      {0, 5 * kPage, TVC_OFFLOAD_RESIDENT},
      {5 * kPage, 5 * kMiB / 2, TVC_OFFLOAD_STREAMED},
      {5 * kPage + 5 * kMiB / 2, 3 * kMiB + 5, TVC_OFFLOAD_STREAMED},
      {6 * kPage + 11 * kMiB / 2, 4 * kMiB, TVC_OFFLOAD_STREAMED},
      {6 * kPage + 19 * kMiB / 2, kMiB, TVC_OFFLOAD_STREAMED},
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
      {0, 4096, TVC_OFFLOAD_STREAMED},             // A
      {4096, 2 * 4096, TVC_OFFLOAD_STREAMED},      // B
      {12288, 4000, TVC_OFFLOAD_STREAMED},         // C
      {16384, 2 * 4096 - 5, TVC_OFFLOAD_STREAMED}, // D
      {24576, 3 * 4096 + 1, TVC_OFFLOAD_STREAMED}, // E
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
    prefetchItem(open.blob, index);
    int64_t at = waitItem(open.blob, index, items[index].offset);
    EXPECT_EQ(firstWrongByteAt(open.blob, at, items[index]), -1)
        << "item " << index;
    return at;
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
      {0, 3 * kPage + 1, TVC_OFFLOAD_STREAMED},
      {4 * kPage, 3 * kMiB, TVC_OFFLOAD_STREAMED},
      {4 * kPage + 3 * kMiB, kPage, TVC_OFFLOAD_STREAMED},
      {5 * kPage + 3 * kMiB, 2 * kMiB + 9, TVC_OFFLOAD_STREAMED},
      {6 * kPage + 5 * kMiB, 5 * kPage, TVC_OFFLOAD_STREAMED},
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

} // namespace
