//===- CudaOffloadExecutorTest.cpp - The CUDA weights offload executor ----===//
//
// tvc_offload_open_cuda on a small weights file whose bytes are a known
// pattern of their blob offset (so every item's bytes differ): a resident
// and a paged item copied to the device at open, streamed items copied
// into overlapping pool slots on the executor's copy stream, their bytes
// read back from where tvc_offload_wait says; the events that order a copy
// after the eviction of the slot's previous holder and a reader after the
// copy, made visible by holding a stream in a sleeping host function (a
// non-default stream and the legacy one); many cycles without host
// synchronisation, also over sixteen items in random overlapping slots
// driven like a plan; the counters; the budget; close and reopen; one executor
// (CPU or CUDA) at a time. Suite CudaOffloadExecutor needs a device
// (scripts/gpu-check.sh runs it). OffloadCudaArguments: bad plans fail before
// any CUDA call (on any machine); WithoutCudaDevice: the open says why it
// cannot run.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/api/tvc_offload.h"

#include "CudaTestUtils.h"

#include "gtest/gtest.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr uint64_t kPage = 4096;

/// The byte at blob offset `at`: never zero, different between items.
uint8_t pattern(uint64_t at) {
  return static_cast<uint8_t>(((at * 2654435761u) >> 11) | 1);
}

uint64_t roundUp(uint64_t bytes, uint64_t unit) {
  return (bytes + unit - 1) / unit * unit;
}

/// A weights file holding `blobBytes` of pattern in a fresh temporary
/// directory, removed at the end.
class WeightsFile {
public:
  explicit WeightsFile(uint64_t blobBytes) {
    char dirTemplate[] = "/tmp/tvc-cuda-offload-XXXXXX";
    dir = mkdtemp(dirTemplate);
    path = dir + "/model.weights";
    std::vector<char> bytes(kPage + blobBytes, 0);
    std::memcpy(bytes.data(), "TVCWGT02", 8);
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

/// The test plan, for a device allocation granularity `g`: A resident in
/// granule 0, B, C and E streamed in granule 1 (never backed), D paged in
/// granule 2. B's and C's slots overlap (pool bytes [8192, 16384)); E's
/// touches neither.
struct Plan {
  explicit Plan(uint64_t g)
      : granularity(g), blobBytes(2 * g + 3 * kPage),
        items({
            {0, 5000, TVC_OFFLOAD_RESIDENT, 0, 0},                  // A
            {g, 3 * kPage + 100, TVC_OFFLOAD_STREAMED, 1, 0},       // B
            {g + 5 * kPage, 2 * kPage + 7, TVC_OFFLOAD_STREAMED, 1, // C
             2 * kPage},
            {2 * g, 2 * kPage + 1, TVC_OFFLOAD_PAGED, 0, 0}, // D
            {g + 10 * kPage, kPage, TVC_OFFLOAD_STREAMED, 1, // E
             5 * kPage},
        }) {
    options.pool_bytes = poolBytes;
  }
  enum { A, B, C, D, E };

  uint64_t granularity;
  uint64_t blobBytes;
  std::vector<tvc_offload_item_t> items;
  uint64_t poolBytes = 6 * kPage;
  tvc_offload_options_t options{};

  /// Where the pool starts (from the blob) and how much memory backs it.
  uint64_t poolOffset() const { return roundUp(blobBytes, granularity); }
  uint64_t poolBacked() const { return roundUp(poolBytes, granularity); }
  /// What the budget counts of A and D: their pages (the device maps
  /// granules 0 and 2 around them, outside the budget).
  uint64_t residentPages() const { return span(A) + span(D); }
  uint64_t bytesReadAtOpen() const { return items[A].bytes + items[D].bytes; }
  uint64_t span(int item) const { return roundUp(items[item].bytes, kPage); }
};

/// The device's allocation granularity for plain device memory, asked of
/// the driver independently of the executor.
uint64_t deviceGranularity() {
  void *pointer = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  if (cudaGetDriverEntryPointByVersion("cuMemGetAllocationGranularity",
                                       &pointer, 10020, cudaEnableDefault,
                                       &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess || !pointer)
    return 0;
  auto getGranularity =
      reinterpret_cast<PFN_cuMemGetAllocationGranularity_v10020>(pointer);
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess)
    return 0;
  CUmemAllocationProp prop = {};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  size_t granularity = 0;
  if (getGranularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM) !=
      CUDA_SUCCESS)
    return 0;
  return granularity;
}

void prefetch(void *blob, int64_t item) {
  tvc_offload_prefetch(blob, blob, 0, 0, 1, item);
}
int64_t wait(void *blob, int64_t item, uint64_t home) {
  return tvc_offload_wait(blob, blob, 0, 0, 1, item,
                          static_cast<int64_t>(home));
}
void evict(void *blob, int64_t item) {
  tvc_offload_evict(blob, blob, 0, 0, 1, item);
}

tvc_offload_stats_t stats() {
  tvc_offload_stats_t out{};
  EXPECT_EQ(tvc_offload_get_stats(&out), TVC_OK);
  return out;
}

/// `bytes` of device memory at `device`, copied to the host (the caller
/// has synchronised the streams that write them).
std::vector<uint8_t> download(const void *device, uint64_t bytes) {
  std::vector<uint8_t> host(bytes, 0);
  EXPECT_EQ(cudaMemcpy(host.data(), device, bytes, cudaMemcpyDeviceToHost),
            cudaSuccess);
  return host;
}

/// The first byte of `host` that is not item's, or -1.
int64_t firstWrongByte(const std::vector<uint8_t> &host,
                       const tvc_offload_item_t &item) {
  for (uint64_t byte = 0; byte < item.bytes; ++byte)
    if (host[byte] != pattern(item.offset + byte))
      return static_cast<int64_t>(byte);
  return -1;
}

/// The first wrong byte of `item` read at blob offset `at` on the device.
int64_t firstWrongByteAt(void *blob, int64_t at,
                         const tvc_offload_item_t &item) {
  return firstWrongByte(download(static_cast<char *>(blob) + at, item.bytes),
                        item);
}

/// A host function that holds its stream for `*milliseconds`.
void CUDART_CB sleepOnStream(void *milliseconds) {
  std::this_thread::sleep_for(
      std::chrono::milliseconds(*static_cast<int *>(milliseconds)));
}
/// How long those functions hold a stream: in the ordering tests, and
/// now and then in the cycles.
int gHoldMilliseconds = 500;
int gShortHoldMilliseconds = 50;

/// The byte `byte` of row `row` of batch `batch` of streamed cache `cache`
/// as the tests write it: never zero, different between caches.
uint8_t kvPattern(int64_t cache, uint64_t batch, uint64_t row, uint64_t byte) {
  return static_cast<uint8_t>(
      ((((cache * 131 + batch) * 4099 + row) * 2654435761u + byte * 40503u) >>
       9) |
      1);
}

void kvPrefetch(void *blob, int64_t cache, int64_t validRows) {
  tvc_offload_kv_prefetch(blob, blob, 0, 0, 1, cache, validRows);
}
int64_t kvWait(void *blob, int64_t cache, int64_t validRows) {
  return tvc_offload_kv_wait(blob, blob, 0, 0, 1, cache, validRows);
}
void kvEvict(void *blob, int64_t cache, int64_t firstRow, int64_t endRow) {
  tvc_offload_kv_evict(blob, blob, 0, 0, 1, cache, firstRow, endRow);
}

/// The KV caches of the KV tests: [2, 64, 96 bytes], three pages each.
constexpr uint64_t kKvBatch = 2, kKvRows = 64, kKvRowBytes = 96;
constexpr uint64_t kCacheBytes = kKvBatch * kKvRows * kKvRowBytes;
constexpr uint64_t kCacheSpan = 3 * kPage;

/// The first wrong row of `host` (a cache's layout) among rows [0, endRow)
/// of every batch of `cache`, as batch * rows + row, or -1; rows [endRow,
/// zerosTo) must be zero.
int64_t firstWrongRow(const std::vector<uint8_t> &host, int64_t cache,
                      uint64_t endRow, uint64_t zerosTo = 0) {
  for (uint64_t batch = 0; batch < kKvBatch; ++batch)
    for (uint64_t row = 0; row < std::max(endRow, zerosTo); ++row)
      for (uint64_t byte = 0; byte < kKvRowBytes; ++byte) {
        uint8_t want = row < endRow ? kvPattern(cache, batch, row, byte) : 0;
        if (host[(batch * kKvRows + row) * kKvRowBytes + byte] != want)
          return static_cast<int64_t>(batch * kKvRows + row);
      }
  return -1;
}

//===----------------------------------------------------------------------===//
// On a device
//===----------------------------------------------------------------------===//

class CudaOffloadExecutor : public ::testing::Test {
protected:
  void SetUp() override {
    REQUIRE_CUDA_DEVICE();
    granularity = deviceGranularity();
    ASSERT_GT(granularity, 0u) << "cannot ask the driver its granularity";
    ASSERT_EQ(granularity % kPage, 0u);
    // The plan needs B's, C's and E's slots in one granule of the pool.
    plan = std::make_unique<Plan>(granularity);
    file = std::make_unique<WeightsFile>(plan->blobBytes);
    ASSERT_EQ(tvc_cuda_stream_create(&stream), TVC_OK);
    ASSERT_EQ(tvc_cuda_stream_create(&otherStream), TVC_OK);
    ASSERT_EQ(tvc_cuda_set_stream(stream), TVC_OK);
  }
  void TearDown() override {
    tvc_offload_close();
    tvc_cuda_set_stream(nullptr);
    for (void *scratch : scratches)
      cudaFree(scratch);
    if (stream)
      tvc_cuda_stream_destroy(stream);
    if (otherStream)
      tvc_cuda_stream_destroy(otherStream);
  }

  void *open() {
    void *blob = nullptr;
    EXPECT_EQ(tvc_offload_open_cuda(file->path.c_str(), plan->blobBytes,
                                    plan->items.data(), plan->items.size(),
                                    &plan->options, &blob),
              TVC_OK)
        << tvc_offload_last_error();
    EXPECT_NE(blob, nullptr);
    return blob;
  }

  /// Device memory freed at the end of the test.
  char *scratch(uint64_t bytes) {
    void *pointer = nullptr;
    EXPECT_EQ(cudaMalloc(&pointer, bytes), cudaSuccess);
    scratches.push_back(pointer);
    return static_cast<char *>(pointer);
  }

  /// Queues, on `on`, a copy of item's bytes from blob offset `at` into
  /// `dst`: a reader of the slot, ordered like a kernel of the model.
  void read(cudaStream_t on, char *dst, void *blob, int64_t at, int item) {
    ASSERT_EQ(cudaMemcpyAsync(dst, static_cast<char *>(blob) + at,
                              plan->items[item].bytes, cudaMemcpyDeviceToDevice,
                              on),
              cudaSuccess);
  }

  void synchronize() {
    ASSERT_EQ(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)),
              cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(static_cast<cudaStream_t>(otherStream)),
              cudaSuccess);
  }

  //===--------------------------------------------------------------------===//
  // Streamed KV caches
  //===--------------------------------------------------------------------===//

  /// The KV caches of the plan: 0 resident, 1 (K) and 2 (V) streamed in
  /// the same slot, pool pages [1, 4), which also overlaps B's slot and C's.
  enum { Resident, K, V };

  /// Adds the KV caches to the plan and puts what the tests write into K
  /// and V on the device.
  void setUpKvCaches() {
    kv[Resident] = {kKvBatch, kKvRows, kKvRowBytes, TVC_OFFLOAD_RESIDENT, 0, 0};
    kv[K] = {kKvBatch, kKvRows, kKvRowBytes, TVC_OFFLOAD_STREAMED, 1, kPage};
    kv[V] = {kKvBatch, kKvRows, kKvRowBytes, TVC_OFFLOAD_STREAMED, 1, kPage};
    plan->options.kv_items = kv;
    plan->options.num_kv_items = 3;
    for (int64_t cache : {K, V}) {
      std::vector<uint8_t> host(kCacheBytes);
      for (uint64_t batch = 0; batch < kKvBatch; ++batch)
        for (uint64_t row = 0; row < kKvRows; ++row)
          for (uint64_t byte = 0; byte < kKvRowBytes; ++byte)
            host[(batch * kKvRows + row) * kKvRowBytes + byte] =
                kvPattern(cache, batch, row, byte);
      source[cache] = scratch(kCacheBytes);
      ASSERT_EQ(cudaMemcpy(source[cache], host.data(), kCacheBytes,
                           cudaMemcpyHostToDevice),
                cudaSuccess);
    }
  }

  /// The slot of K and V, from the blob.
  int64_t cacheSlot() const {
    return static_cast<int64_t>(plan->poolOffset() + kPage);
  }

  /// Queues on the compute stream the copies of rows [firstRow, endRow) of
  /// every batch between the cache at blob offset `at` and the same rows
  /// of `other` (a writer of the cache when `write`, else a reader).
  void copyRows(void *blob, int64_t at, char *other, uint64_t firstRow,
                uint64_t endRow, bool write) {
    auto compute = static_cast<cudaStream_t>(stream);
    char *cache = static_cast<char *>(blob) + at;
    for (uint64_t batch = 0; batch < kKvBatch; ++batch) {
      uint64_t offset = (batch * kKvRows + firstRow) * kKvRowBytes;
      uint64_t bytes = (endRow - firstRow) * kKvRowBytes;
      ASSERT_EQ(cudaMemcpyAsync(write ? cache + offset : other + offset,
                                write ? other + offset : cache + offset, bytes,
                                cudaMemcpyDeviceToDevice, compute),
                cudaSuccess);
    }
  }
  void writeRows(void *blob, int64_t cache, int64_t at, uint64_t firstRow,
                 uint64_t endRow) {
    copyRows(blob, at, source[cache], firstRow, endRow, true);
  }
  /// Rows [0, endRow) of every batch at `at` into `dst` (a cache's layout).
  void readRows(void *blob, int64_t at, char *dst, uint64_t endRow) {
    copyRows(blob, at, dst, 0, endRow, false);
  }

  /// What the plan keeps resident from open: A's and D's pages and the
  /// resident cache.
  uint64_t residentAtOpen() const { return plan->residentPages() + kCacheSpan; }

  tvc_offload_kv_item_t kv[3] = {};
  char *source[3] = {};

  uint64_t granularity = 0;
  std::unique_ptr<Plan> plan;
  std::unique_ptr<WeightsFile> file;
  void *stream = nullptr;
  void *otherStream = nullptr;
  std::vector<void *> scratches;
};

/// Resident and paged items are on the device at open, at their own
/// offsets, which the wait returns; only their granules and the pool count.
TEST_F(CudaOffloadExecutor, ResidentAndPagedItemsAtOpen) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  for (int item : {Plan::A, Plan::D}) {
    uint64_t home = plan->items[item].offset;
    EXPECT_EQ(wait(blob, item, home), static_cast<int64_t>(home));
    prefetch(blob, item); // does nothing
    evict(blob, item);    // nor this
    EXPECT_EQ(firstWrongByteAt(blob, home, plan->items[item]), -1)
        << "item " << item;
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.bytes_read, plan->bytesReadAtOpen());
  EXPECT_EQ(now.bytes_read_at_open, plan->bytesReadAtOpen());
  EXPECT_EQ(now.reads, 2u);
  EXPECT_EQ(now.resident_bytes, plan->residentPages());
  EXPECT_EQ(now.peak_resident_bytes, plan->residentPages());
  EXPECT_EQ(now.pool_bytes, plan->poolBacked());
  EXPECT_EQ(now.stalls, 0u);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_STREQ(tvc_offload_last_error(), "");
  // Unknown items: home.
  EXPECT_EQ(wait(blob, 99, 12345), 12345);
  EXPECT_EQ(wait(blob, -1, 77), 77);
}

/// B, then C in the slot overlapping B's, then B again: each reads as its
/// own bytes where the wait says, on a non-default stream, copied again
/// after every evict.
TEST_F(CudaOffloadExecutor, StreamedItemsInOverlappingSlots) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  const std::vector<tvc_offload_item_t> &items = plan->items;
  int64_t slotB = static_cast<int64_t>(plan->poolOffset());
  int64_t slotC = static_cast<int64_t>(plan->poolOffset() + 2 * kPage);

  prefetch(blob, Plan::B);
  EXPECT_EQ(wait(blob, Plan::B, items[Plan::B].offset), slotB);
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slotB, items[Plan::B]), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.reads, 3u);
  EXPECT_EQ(now.bytes_read, plan->bytesReadAtOpen() + items[Plan::B].bytes);
  EXPECT_EQ(now.resident_bytes, plan->residentPages() + plan->span(Plan::B));
  // A second prefetch and wait before the evict copy nothing.
  prefetch(blob, Plan::B);
  EXPECT_EQ(wait(blob, Plan::B, items[Plan::B].offset), slotB);
  EXPECT_EQ(stats().reads, 3u);

  evict(blob, Plan::B);
  EXPECT_EQ(stats().resident_bytes, plan->residentPages());
  evict(blob, Plan::B); // not held: nothing
  EXPECT_EQ(stats().resident_bytes, plan->residentPages());
  // C without a prefetch: the wait copies it.
  EXPECT_EQ(wait(blob, Plan::C, items[Plan::C].offset), slotC);
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slotC, items[Plan::C]), -1);
  now = stats();
  EXPECT_EQ(now.reads, 4u);
  EXPECT_EQ(now.bytes_read, plan->bytesReadAtOpen() + items[Plan::B].bytes +
                                items[Plan::C].bytes);
  EXPECT_EQ(now.resident_bytes, plan->residentPages() + plan->span(Plan::C));
  EXPECT_EQ(now.peak_resident_bytes,
            plan->residentPages() + plan->span(Plan::B));

  // E's slot touches neither: held with C.
  prefetch(blob, Plan::E);
  int64_t slotE = wait(blob, Plan::E, items[Plan::E].offset);
  EXPECT_EQ(slotE, static_cast<int64_t>(plan->poolOffset() + 5 * kPage));
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slotE, items[Plan::E]), -1);
  EXPECT_EQ(firstWrongByteAt(blob, slotC, items[Plan::C]), -1);

  evict(blob, Plan::C);
  prefetch(blob, Plan::B);
  EXPECT_EQ(wait(blob, Plan::B, items[Plan::B].offset), slotB);
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slotB, items[Plan::B]), -1);
  EXPECT_EQ(firstWrongByteAt(blob, slotE, items[Plan::E]), -1);
  now = stats();
  EXPECT_EQ(now.reads, 6u);
  EXPECT_EQ(now.resident_bytes,
            plan->residentPages() + plan->span(Plan::B) + plan->span(Plan::E));
  EXPECT_EQ(now.pool_bytes, plan->poolBacked());
  EXPECT_EQ(now.stalls, 0u);
  EXPECT_EQ(now.stall_seconds, 0.0);
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_EQ(now.budget_violations, 0u);
}

/// The copy of C into the bytes B held waits for B's eviction, which is
/// recorded after B's reader on the compute stream; a host function holds
/// that stream for a while, so a copy that did not wait would land before
/// the reader ran.
TEST_F(CudaOffloadExecutor, CopyWaitsForOverlappingEviction) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  auto compute = static_cast<cudaStream_t>(stream);
  char *seenB = scratch(plan->items[Plan::B].bytes);
  char *seenC = scratch(plan->items[Plan::C].bytes);
  int64_t slotB = wait(blob, Plan::B, plan->items[Plan::B].offset);
  ASSERT_EQ(cudaLaunchHostFunc(compute, sleepOnStream, &gHoldMilliseconds),
            cudaSuccess);
  read(compute, seenB, blob, slotB, Plan::B);
  evict(blob, Plan::B);
  prefetch(blob, Plan::C);
  int64_t slotC = wait(blob, Plan::C, plan->items[Plan::C].offset);
  read(compute, seenC, blob, slotC, Plan::C);
  synchronize();
  EXPECT_EQ(firstWrongByte(download(seenB, plan->items[Plan::B].bytes),
                           plan->items[Plan::B]),
            -1);
  EXPECT_EQ(firstWrongByte(download(seenC, plan->items[Plan::C].bytes),
                           plan->items[Plan::C]),
            -1);
  EXPECT_EQ(stats().io_errors, 0u);
}

/// A reader on another stream that waited for C sees C, though C's copy
/// waits behind B's eviction on a stream held by a host function: the wait
/// orders the reader after the copy, on the device.
TEST_F(CudaOffloadExecutor, ReaderWaitsForCopy) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  auto compute = static_cast<cudaStream_t>(stream);
  auto other = static_cast<cudaStream_t>(otherStream);
  char *seenC = scratch(plan->items[Plan::C].bytes);
  int64_t slotB = wait(blob, Plan::B, plan->items[Plan::B].offset);
  // A first device-to-device copy (any one-time set-up out of the timing).
  read(compute, seenC, blob, slotB, Plan::C);
  synchronize(); // B is in the slot now
  ASSERT_EQ(cudaLaunchHostFunc(compute, sleepOnStream, &gHoldMilliseconds),
            cudaSuccess);
  evict(blob, Plan::B); // completes after the sleep
  ASSERT_EQ(tvc_cuda_set_stream(otherStream), TVC_OK);
  auto start = std::chrono::steady_clock::now();
  int64_t slotC = wait(blob, Plan::C, plan->items[Plan::C].offset);
  read(other, seenC, blob, slotC, Plan::C);
  // The host did not wait for any of it.
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(seconds, gHoldMilliseconds / 2000.0);
  synchronize();
  EXPECT_EQ(firstWrongByte(download(seenC, plan->items[Plan::C].bytes),
                           plan->items[Plan::C]),
            -1);
}

/// Many prefetch / wait / read / evict cycles over B, C and E with no host
/// synchronisation: every reader, queued right after its wait, sees its
/// item's bytes, though the next copy into the slot follows at once.
TEST_F(CudaOffloadExecutor, ManyCyclesWithoutHostSynchronisation) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  auto compute = static_cast<cudaStream_t>(stream);
  constexpr int kCycles = 300;
  constexpr uint64_t kSeenBytes = 4 * kPage; // the largest item
  char *seen = scratch(kCycles * kSeenBytes);
  std::mt19937 random(7);
  std::vector<int> order;
  int held = -1; // B or C, which share bytes
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    int item = (random() % 3 == 0) ? Plan::E : random() % 2 ? Plan::B : Plan::C;
    if ((item == Plan::B || item == Plan::C) && held >= 0 && held != item) {
      evict(blob, held); // the plan never holds B and C at once
      held = -1;
    }
    if (random() % 2)
      prefetch(blob, item);
    int64_t at = wait(blob, item, plan->items[item].offset);
    // Now and then the reader runs late: the copies queued after it must
    // wait for it.
    if (cycle % 25 == 0)
      ASSERT_EQ(
          cudaLaunchHostFunc(compute, sleepOnStream, &gShortHoldMilliseconds),
          cudaSuccess);
    read(compute, seen + cycle * kSeenBytes, blob, at, item);
    order.push_back(item);
    if (item == Plan::E) {
      evict(blob, item);
    } else if (random() % 2) {
      evict(blob, item);
      held = -1;
    } else {
      held = item;
    }
  }
  synchronize();
  std::vector<uint8_t> host = download(seen, kCycles * kSeenBytes);
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    std::vector<uint8_t> one(host.begin() + cycle * kSeenBytes,
                             host.begin() + (cycle + 1) * kSeenBytes);
    ASSERT_EQ(firstWrongByte(one, plan->items[order[cycle]]), -1)
        << "cycle " << cycle << ", item " << order[cycle];
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.io_errors, 0u);
  EXPECT_LE(now.peak_resident_bytes,
            plan->residentPages() + plan->span(Plan::B) + plan->span(Plan::E));
}

/// The plan's bytes (A's and D's pages, the compiler's pool) must fit the
/// budget, as the planner counted them (the granule rounding around them is
/// outside it); the message gives both numbers.
TEST_F(CudaOffloadExecutor, BudgetBelowPlannedBytes) {
  uint64_t needed = plan->residentPages() + plan->poolBytes;
  plan->options.budget_bytes = needed - 1;
  void *blob = reinterpret_cast<void *>(1);
  EXPECT_EQ(tvc_offload_open_cuda(file->path.c_str(), plan->blobBytes,
                                  plan->items.data(), plan->items.size(),
                                  &plan->options, &blob),
            TVC_INVALID_ARGUMENT);
  EXPECT_EQ(blob, nullptr);
  std::string message = tvc_offload_last_error();
  EXPECT_NE(message.find(std::to_string(needed)), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(needed - 1)), std::string::npos)
      << message;
  tvc_offload_stats_t none;
  EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);

  // A resident KV cache counts too.
  plan->options.budget_bytes = needed;
  tvc_offload_kv_item_t kv = {1, 3, 1000, TVC_OFFLOAD_RESIDENT, 0, 0};
  plan->options.kv_items = &kv;
  plan->options.num_kv_items = 1;
  EXPECT_EQ(tvc_offload_open_cuda(file->path.c_str(), plan->blobBytes,
                                  plan->items.data(), plan->items.size(),
                                  &plan->options, &blob),
            TVC_INVALID_ARGUMENT);
  plan->options.budget_bytes = needed + kPage;
  blob = open();
  ASSERT_NE(blob, nullptr);
  EXPECT_EQ(stats().resident_bytes, plan->residentPages() + kPage);
  // The executor leaves resident caches to the caller.
  EXPECT_EQ(tvc_offload_kv_wait(blob, blob, 0, 0, 1, 0, 3), -1);
}

/// The compute stream is CUDA's legacy default stream (a thread that never
/// set one): the copy stream does not synchronise with it implicitly, the
/// events order them.
TEST_F(CudaOffloadExecutor, LegacyDefaultStream) {
  ASSERT_EQ(tvc_cuda_set_stream(nullptr), TVC_OK);
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  cudaStream_t legacy = nullptr;
  char *seenB = scratch(plan->items[Plan::B].bytes);
  char *seenC = scratch(plan->items[Plan::C].bytes);
  int64_t slotB = wait(blob, Plan::B, plan->items[Plan::B].offset);
  ASSERT_EQ(cudaLaunchHostFunc(legacy, sleepOnStream, &gHoldMilliseconds),
            cudaSuccess);
  read(legacy, seenB, blob, slotB, Plan::B);
  evict(blob, Plan::B);
  int64_t slotC = wait(blob, Plan::C, plan->items[Plan::C].offset);
  read(legacy, seenC, blob, slotC, Plan::C);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(firstWrongByte(download(seenB, plan->items[Plan::B].bytes),
                           plan->items[Plan::B]),
            -1);
  EXPECT_EQ(firstWrongByte(download(seenC, plan->items[Plan::C].bytes),
                           plan->items[Plan::C]),
            -1);
}

/// Sixteen streamed items of 1 to 4 pages in random slots of a 10-page
/// pool (overlapping in chains), driven as a plan would: an item is copied
/// only once no item sharing bytes with it is held, some read ahead with a
/// prefetch, readers held now and then; no host synchronisation until the
/// end, when every reader must have seen its item.
TEST_F(CudaOffloadExecutor, RandomOverlappingSlots) {
  std::mt19937 random(2024);
  constexpr int kItems = 16;
  constexpr uint64_t kPoolPages = 10;
  std::vector<tvc_offload_item_t> items = {
      {0, 3000, TVC_OFFLOAD_RESIDENT, 0, 0}};
  uint64_t at = granularity;
  for (int item = 0; item < kItems; ++item) {
    uint64_t pages = 1 + random() % 4;
    uint64_t bytes = pages * kPage - random() % 300;
    uint64_t slot = (random() % (kPoolPages - pages + 1)) * kPage;
    items.push_back({at, bytes, TVC_OFFLOAD_STREAMED, 1, slot});
    at += pages * kPage;
  }
  uint64_t blobBytes = at;
  WeightsFile weights(blobBytes);
  tvc_offload_options_t options{};
  options.pool_bytes = kPoolPages * kPage;
  void *blob = nullptr;
  ASSERT_EQ(tvc_offload_open_cuda(weights.path.c_str(), blobBytes, items.data(),
                                  items.size(), &options, &blob),
            TVC_OK)
      << tvc_offload_last_error();
  auto compute = static_cast<cudaStream_t>(stream);
  auto shares = [&](size_t lhs, size_t rhs) {
    uint64_t lhsEnd = items[lhs].slot_offset + roundUp(items[lhs].bytes, kPage);
    uint64_t rhsEnd = items[rhs].slot_offset + roundUp(items[rhs].bytes, kPage);
    return items[lhs].slot_offset < rhsEnd && items[rhs].slot_offset < lhsEnd;
  };
  std::vector<bool> held(items.size(), false); // copy issued, not evicted
  // Evicts every held item sharing bytes with `item` (not itself).
  auto makeRoom = [&](size_t item) {
    for (size_t other = 1; other < items.size(); ++other)
      if (other != item && held[other] && shares(item, other)) {
        evict(blob, static_cast<int64_t>(other));
        held[other] = false;
      }
  };
  constexpr int kCycles = 400;
  constexpr uint64_t kSeenBytes = 4 * kPage;
  char *seen = scratch(kCycles * kSeenBytes);
  std::vector<size_t> order;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    size_t item = 1 + random() % kItems;
    makeRoom(item);
    held[item] = true;
    int64_t slot = wait(blob, static_cast<int64_t>(item), items[item].offset);
    EXPECT_EQ(slot, static_cast<int64_t>(roundUp(blobBytes, granularity) +
                                         items[item].slot_offset));
    if (cycle % 40 == 0)
      ASSERT_EQ(
          cudaLaunchHostFunc(compute, sleepOnStream, &gShortHoldMilliseconds),
          cudaSuccess);
    tvc_offload_item_t one = items[item];
    ASSERT_EQ(cudaMemcpyAsync(seen + cycle * kSeenBytes,
                              static_cast<char *>(blob) + slot, one.bytes,
                              cudaMemcpyDeviceToDevice, compute),
              cudaSuccess);
    order.push_back(item);
    if (random() % 2) {
      evict(blob, static_cast<int64_t>(item));
      held[item] = false;
    }
    // Read the next one ahead, as a plan does, when it fits beside `item`.
    size_t next = 1 + random() % kItems;
    if (random() % 2 && !(held[item] && next != item && shares(item, next))) {
      makeRoom(next);
      held[next] = true;
      prefetch(blob, static_cast<int64_t>(next));
    }
  }
  synchronize();
  std::vector<uint8_t> host = download(seen, kCycles * kSeenBytes);
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    std::vector<uint8_t> one(host.begin() + cycle * kSeenBytes,
                             host.begin() + (cycle + 1) * kSeenBytes);
    ASSERT_EQ(firstWrongByte(one, items[order[cycle]]), -1)
        << "cycle " << cycle << ", item " << order[cycle];
  }
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.io_errors, 0u);
  uint64_t heldBytes = 0;
  for (size_t item = 1; item < items.size(); ++item)
    if (held[item])
      heldBytes += roundUp(items[item].bytes, kPage);
  EXPECT_EQ(now.resident_bytes, roundUp(items[0].bytes, kPage) + heldBytes);
}

/// A resident item larger than the staging buffers (copied in several
/// chunks, alternating between them), a paged one in its last granule and
/// a streamed one after them: every byte where it belongs.
TEST_F(CudaOffloadExecutor, LargeResidentItem) {
  constexpr uint64_t kLarge = (uint64_t{40} << 20) + 123;
  uint64_t pagedAt = roundUp(kLarge, kPage);
  uint64_t streamedAt = pagedAt + kPage;
  std::vector<tvc_offload_item_t> items = {
      {0, kLarge, TVC_OFFLOAD_RESIDENT, 0, 0},
      {pagedAt, 100, TVC_OFFLOAD_PAGED, 0, 0},
      {streamedAt, 2 * kPage + 5, TVC_OFFLOAD_STREAMED, 1, kPage}};
  uint64_t blobBytes = streamedAt + 3 * kPage;
  WeightsFile weights(blobBytes);
  tvc_offload_options_t options{};
  options.pool_bytes = 4 * kPage;
  void *blob = nullptr;
  ASSERT_EQ(tvc_offload_open_cuda(weights.path.c_str(), blobBytes, items.data(),
                                  items.size(), &options, &blob),
            TVC_OK)
      << tvc_offload_last_error();
  EXPECT_EQ(firstWrongByteAt(blob, 0, items[0]), -1);
  EXPECT_EQ(firstWrongByteAt(blob, pagedAt, items[1]), -1);
  int64_t slot = wait(blob, 2, streamedAt);
  EXPECT_EQ(slot,
            static_cast<int64_t>(roundUp(blobBytes, granularity) + kPage));
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slot, items[2]), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.bytes_read_at_open, kLarge + 100);
  EXPECT_EQ(now.reads, 3u);
  // Pages, as the plan counts them (the paged item shares the resident
  // one's last granule on the device).
  EXPECT_EQ(now.resident_bytes,
            pagedAt + kPage + roundUp(items[2].bytes, kPage));
}

/// A prefill then 55 decode steps of K and V through their shared slot
/// (interleaved, batch 2), with weight C through an overlapping slot now and
/// then, no host synchronisation until the end: every wait's slot holds
/// the rows written before, whether prefetched with as many rows, with
/// fewer, or not at all; a second wait copies nothing and keeps what was
/// written; the counters; the resident cache and unknown ones get -1.
TEST_F(CudaOffloadExecutor, KvCachesDecodeThroughSharedSlot) {
  ASSERT_NO_FATAL_FAILURE(setUpKvCaches());
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  auto compute = static_cast<cudaStream_t>(stream);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.resident_bytes, residentAtOpen());
  EXPECT_EQ(now.kv_spill_bytes, 2 * kCacheSpan);
  EXPECT_EQ(now.kv_bytes_read, 0u);
  // The caller's caches and unknown ones.
  for (int64_t cache : {int64_t{Resident}, int64_t{3}, int64_t{-1}}) {
    kvPrefetch(blob, cache, 4);
    EXPECT_EQ(kvWait(blob, cache, 4), -1) << "cache " << cache;
    kvEvict(blob, cache, 0, 4);
  }

  // Prefill: nothing valid yet, T rows written.
  constexpr uint64_t kPrompt = 5;
  uint64_t wantRead = 0, wantWritten = 0;
  for (int64_t cache : {K, V}) {
    kvPrefetch(blob, cache, 0);
    int64_t at = kvWait(blob, cache, 0);
    ASSERT_EQ(at, cacheSlot());
    EXPECT_EQ(stats().resident_bytes, residentAtOpen() + kCacheSpan);
    writeRows(blob, cache, at, 0, kPrompt);
    kvEvict(blob, cache, 0, kPrompt);
    wantWritten += kKvBatch * kPrompt * kKvRowBytes;
  }
  EXPECT_EQ(stats().resident_bytes, residentAtOpen());

  constexpr int kSteps = 55;
  char *seen = scratch(2 * kSteps * kCacheBytes);
  char *seenC = scratch(kSteps * kPage * 3);
  for (int step = 0; step < kSteps; ++step) {
    uint64_t past = kPrompt + step;
    for (int64_t cache : {step % 2 ? V : K, step % 2 ? K : V}) {
      char *mine = seen + (2 * step + (cache == K ? 0 : 1)) * kCacheBytes;
      // Now and then the readers and writers run late: the copies queued
      // after them must wait.
      if (step % 10 == 3)
        ASSERT_EQ(
            cudaLaunchHostFunc(compute, sleepOnStream, &gShortHoldMilliseconds),
            cudaSuccess);
      int mode = step % 4;
      if (mode == 0 || mode == 3)
        kvPrefetch(blob, cache, static_cast<int64_t>(past));
      else if (mode == 2) // fewer rows than the wait asks for
        kvPrefetch(blob, cache, static_cast<int64_t>(past / 2));
      // mode 1: no prefetch, the wait copies.
      int64_t at = kvWait(blob, cache, static_cast<int64_t>(past));
      ASSERT_EQ(at, cacheSlot()) << "step " << step;
      wantRead += kKvBatch * past * kKvRowBytes;
      EXPECT_EQ(stats().kv_bytes_read, wantRead) << "step " << step;
      writeRows(blob, cache, at, past, past + 1);
      if (mode == 3) {
        // The slot is the cache now: a second wait returns it as it is
        // (the row just written included) and copies nothing.
        EXPECT_EQ(kvWait(blob, cache, static_cast<int64_t>(past + 1)), at);
        kvPrefetch(blob, cache, static_cast<int64_t>(past + 1));
        EXPECT_EQ(stats().kv_bytes_read, wantRead) << "step " << step;
        readRows(blob, at, mine, past + 1);
      } else {
        readRows(blob, at, mine, past);
      }
      EXPECT_EQ(stats().resident_bytes, residentAtOpen() + kCacheSpan);
      kvEvict(blob, cache, static_cast<int64_t>(past),
              static_cast<int64_t>(past + 1));
      wantWritten += kKvBatch * kKvRowBytes;
    }
    if (step % 7 == 6) {
      // A weight through an overlapping slot.
      prefetch(blob, Plan::C);
      int64_t slotC = wait(blob, Plan::C, plan->items[Plan::C].offset);
      read(compute, seenC + step * kPage * 3, blob, slotC, Plan::C);
      evict(blob, Plan::C);
    }
  }
  now = stats();
  EXPECT_EQ(now.kv_bytes_read, wantRead);
  EXPECT_EQ(now.kv_bytes_written, wantWritten);
  EXPECT_EQ(now.resident_bytes, residentAtOpen());
  // The slot's bytes are the weights', the caches' or none: never both.
  EXPECT_EQ(now.peak_resident_bytes, residentAtOpen() + plan->span(Plan::C));
  EXPECT_EQ(now.io_errors, 0u) << tvc_offload_last_error();
  EXPECT_EQ(now.stalls, 0u);
  EXPECT_EQ(now.pool_fallbacks, 0u);

  // A whole cache (valid rows clamped to its 64): the rows written, then
  // zeros from the home's zero fill.
  uint64_t written = kPrompt + kSteps;
  int64_t at = kvWait(blob, K, 1000);
  ASSERT_EQ(at, cacheSlot());
  wantRead += kCacheBytes;
  char *whole = scratch(kCacheBytes);
  readRows(blob, at, whole, kKvRows);
  kvEvict(blob, K, -3, 1000); // clamped: every row back
  wantWritten += kCacheBytes;

  synchronize();
  std::vector<uint8_t> host = download(seen, 2 * kSteps * kCacheBytes);
  for (int step = 0; step < kSteps; ++step)
    for (int64_t cache : {K, V}) {
      uint64_t offset = (2 * step + (cache == K ? 0 : 1)) * kCacheBytes;
      std::vector<uint8_t> one(host.begin() + offset,
                               host.begin() + offset + kCacheBytes);
      uint64_t rows = kPrompt + step + (step % 4 == 3 ? 1 : 0);
      ASSERT_EQ(firstWrongRow(one, cache, rows), -1)
          << "step " << step << ", cache " << cache;
    }
  std::vector<uint8_t> hostC = download(seenC, kSteps * kPage * 3);
  for (int step = 6; step < kSteps; step += 7) {
    std::vector<uint8_t> one(hostC.begin() + step * kPage * 3,
                             hostC.begin() + (step + 1) * kPage * 3);
    EXPECT_EQ(firstWrongByte(one, plan->items[Plan::C]), -1) << "step " << step;
  }
  EXPECT_EQ(firstWrongRow(download(whole, kCacheBytes), K, written, kKvRows),
            -1);
  now = stats();
  EXPECT_EQ(now.kv_bytes_read, wantRead);
  EXPECT_EQ(now.kv_bytes_written, wantWritten);
  EXPECT_EQ(now.io_errors, 0u) << tvc_offload_last_error();
}

/// The write-back of K's rows waits for their writer, held by a host
/// function on the compute stream; V's rows then go into the same slot,
/// and K's next wait copies K's rows back in after V's eviction: none of it
/// waits on the host.
TEST_F(CudaOffloadExecutor, KvWriteBackWaitsForWriters) {
  ASSERT_NO_FATAL_FAILURE(setUpKvCaches());
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  auto compute = static_cast<cudaStream_t>(stream);
  constexpr uint64_t kWritten = 9;
  char *seenK = scratch(kCacheBytes);
  char *seenV = scratch(kCacheBytes);
  // A first device-to-device copy (any one-time set-up out of the timing).
  ASSERT_EQ(cudaMemcpyAsync(seenV, source[V], kCacheBytes,
                            cudaMemcpyDeviceToDevice, compute),
            cudaSuccess);
  synchronize();
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(cudaLaunchHostFunc(compute, sleepOnStream, &gHoldMilliseconds),
            cudaSuccess);
  int64_t at = kvWait(blob, K, 0);
  writeRows(blob, K, at, 0, kWritten);
  kvEvict(blob, K, 0, kWritten);
  at = kvWait(blob, V, 0);
  writeRows(blob, V, at, 0, kWritten);
  kvEvict(blob, V, 0, kWritten);
  kvPrefetch(blob, K, kWritten);
  at = kvWait(blob, K, kWritten);
  readRows(blob, at, seenK, kWritten);
  kvEvict(blob, K, 0, 0); // nothing new to write back
  at = kvWait(blob, V, kWritten);
  readRows(blob, at, seenV, kWritten);
  kvEvict(blob, V, kWritten, kWritten);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(seconds, gHoldMilliseconds / 2000.0);
  synchronize();
  EXPECT_EQ(firstWrongRow(download(seenK, kCacheBytes), K, kWritten), -1);
  EXPECT_EQ(firstWrongRow(download(seenV, kCacheBytes), V, kWritten), -1);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.kv_bytes_written, 2 * kKvBatch * kWritten * kKvRowBytes);
  EXPECT_EQ(now.kv_bytes_read, 2 * kKvBatch * kWritten * kKvRowBytes);
  EXPECT_EQ(now.resident_bytes, residentAtOpen());
  EXPECT_EQ(now.io_errors, 0u) << tvc_offload_last_error();
}

/// An evict without a wait before it writes nothing back (the slot never
/// was the cache), and an evict of a cache that holds no slot does nothing.
TEST_F(CudaOffloadExecutor, KvEvictWithoutWait) {
  ASSERT_NO_FATAL_FAILURE(setUpKvCaches());
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  kvEvict(blob, K, 0, 4); // holds nothing
  kvPrefetch(blob, K, 0);
  EXPECT_EQ(stats().resident_bytes, residentAtOpen() + kCacheSpan);
  kvEvict(blob, K, 0, 4);
  tvc_offload_stats_t now = stats();
  EXPECT_EQ(now.resident_bytes, residentAtOpen());
  EXPECT_EQ(now.kv_bytes_written, 0u);
  // Its home still holds zeros.
  char *seenK = scratch(kCacheBytes);
  int64_t at = kvWait(blob, K, 4);
  readRows(blob, at, seenK, 4);
  kvEvict(blob, K, 0, 0);
  synchronize();
  EXPECT_EQ(firstWrongRow(download(seenK, kCacheBytes), K, 0, 4), -1);
  EXPECT_EQ(stats().io_errors, 0u) << tvc_offload_last_error();
}

/// Close frees everything; the next open starts afresh, and without an
/// executor the calls do nothing.
TEST_F(CudaOffloadExecutor, CloseThenReopen) {
  for (int round = 0; round < 3; ++round) {
    void *blob = open();
    ASSERT_NE(blob, nullptr);
    int64_t slotB = wait(blob, Plan::B, plan->items[Plan::B].offset);
    synchronize();
    EXPECT_EQ(firstWrongByteAt(blob, slotB, plan->items[Plan::B]), -1);
    EXPECT_EQ(firstWrongByteAt(blob, 0, plan->items[Plan::A]), -1);
    EXPECT_EQ(stats().reads, 3u) << "round " << round;
    tvc_offload_close();
    tvc_offload_stats_t none;
    EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);
    EXPECT_EQ(wait(blob, Plan::B, 4242), 4242);
    prefetch(blob, Plan::B);
    evict(blob, Plan::B);
    tvc_offload_close(); // again: nothing
  }
}

/// One executor per process: CUDA then CPU, CPU then CUDA.
TEST_F(CudaOffloadExecutor, OneExecutorAtATime) {
  void *blob = open();
  ASSERT_NE(blob, nullptr);
  void *cpuBlob = nullptr;
  EXPECT_EQ(tvc_offload_open(file->path.c_str(), plan->blobBytes,
                             plan->items.data(), plan->items.size(), nullptr,
                             &cpuBlob),
            TVC_UNAVAILABLE);
  EXPECT_NE(std::string(tvc_offload_last_error()).find("already open"),
            std::string::npos)
      << tvc_offload_last_error();
  void *again = nullptr;
  EXPECT_EQ(tvc_offload_open_cuda(file->path.c_str(), plan->blobBytes,
                                  plan->items.data(), plan->items.size(),
                                  &plan->options, &again),
            TVC_UNAVAILABLE);
  // The open one still works.
  int64_t slotC = wait(blob, Plan::C, plan->items[Plan::C].offset);
  synchronize();
  EXPECT_EQ(firstWrongByteAt(blob, slotC, plan->items[Plan::C]), -1);
  tvc_offload_close();

  ASSERT_EQ(tvc_offload_open(file->path.c_str(), plan->blobBytes,
                             plan->items.data(), plan->items.size(), nullptr,
                             &cpuBlob),
            TVC_OK)
      << tvc_offload_last_error();
  EXPECT_EQ(tvc_offload_open_cuda(file->path.c_str(), plan->blobBytes,
                                  plan->items.data(), plan->items.size(),
                                  &plan->options, &again),
            TVC_UNAVAILABLE);
  // The CPU executor answers the calls: B at its pool slot, in host memory.
  int64_t at = wait(cpuBlob, Plan::B, plan->items[Plan::B].offset);
  const uint8_t *bytes = static_cast<const uint8_t *>(cpuBlob) + at;
  EXPECT_EQ(bytes[0], pattern(plan->items[Plan::B].offset));
  tvc_offload_close();
}

//===----------------------------------------------------------------------===//
// Anywhere: bad plans fail before any CUDA call
//===----------------------------------------------------------------------===//

/// A plan laid out for 2 MiB granules (the layout does not matter: these
/// opens fail before asking the device).
class OffloadCudaArguments : public ::testing::Test {
protected:
  OffloadCudaArguments()
      : plan(uint64_t{2} << 20), file(plan.blobBytes), path(file.path) {}
  void TearDown() override { tvc_offload_close(); }

  /// Opens with the plan; expects `status` and a message holding `text`,
  /// and no executor left open.
  void expectOpenFails(tvc_status_t status, const std::string &text) {
    void *blob = reinterpret_cast<void *>(1);
    EXPECT_EQ(tvc_offload_open_cuda(path.c_str(), plan.blobBytes,
                                    plan.items.data(), plan.items.size(),
                                    &plan.options, &blob),
              status);
    EXPECT_EQ(blob, nullptr);
    std::string message = tvc_offload_last_error();
    EXPECT_NE(message.find(text), std::string::npos) << message;
    tvc_offload_stats_t none;
    EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);
  }

  Plan plan;
  WeightsFile file;
  std::string path; // the file's, or another
};

// On a machine without a device, a check made after a CUDA call would
// report TVC_UNAVAILABLE instead: these statuses show the order.

TEST_F(OffloadCudaArguments, StreamedItemWithoutSlot) {
  plan.items[Plan::C].has_slot = 0;
  expectOpenFails(TVC_INVALID_ARGUMENT, "offload item 2 is streamed but has "
                                        "no slot");
}

TEST_F(OffloadCudaArguments, SlotOutsidePool) {
  plan.items[Plan::E].slot_offset = plan.poolBytes; // one page past its end
  expectOpenFails(TVC_INVALID_ARGUMENT, "offload item 4: slot");
  plan.items[Plan::E].slot_offset = 5 * kPage + 1; // not page aligned
  expectOpenFails(TVC_INVALID_ARGUMENT, "offload item 4: slot");
  plan.items[Plan::E].slot_offset = 5 * kPage;
  plan.options.pool_bytes = plan.poolBytes + 1;
  expectOpenFails(TVC_INVALID_ARGUMENT, "not a multiple of 4096");
  plan.options.pool_bytes = ~uint64_t{4095}; // would overflow when rounded
  expectOpenFails(TVC_INVALID_ARGUMENT, "is too large");
}

TEST_F(OffloadCudaArguments, PoolBytesZeroWithStreamedItems) {
  plan.options.pool_bytes = 0;
  expectOpenFails(TVC_INVALID_ARGUMENT, "pool_bytes is 0 but items or KV "
                                        "caches are streamed");
  // Only a cache streamed: the same.
  for (tvc_offload_item_t &item : plan.items)
    item.placement = TVC_OFFLOAD_RESIDENT;
  tvc_offload_kv_item_t kv = {1, 4, 256, TVC_OFFLOAD_STREAMED, 1, 0};
  plan.options.kv_items = &kv;
  plan.options.num_kv_items = 1;
  expectOpenFails(TVC_INVALID_ARGUMENT, "pool_bytes is 0 but items or KV "
                                        "caches are streamed");
}

/// A streamed KV cache needs a slot, page-aligned inside the pool; every
/// cache needs batch, rows and row_bytes of at least 1.
TEST_F(OffloadCudaArguments, StreamedKvCaches) {
  // Batch 2 of 4 rows of 256 bytes: one page.
  tvc_offload_kv_item_t kv[2] = {{1, 4, 256, TVC_OFFLOAD_RESIDENT, 0, 0},
                                 {2, 4, 256, TVC_OFFLOAD_STREAMED, 0, 0}};
  plan.options.kv_items = kv;
  plan.options.num_kv_items = 2;
  expectOpenFails(TVC_INVALID_ARGUMENT,
                  "KV cache 1 is streamed but has no slot");
  kv[1].has_slot = 1;
  kv[1].slot_offset = plan.poolBytes; // one page past its end
  expectOpenFails(TVC_INVALID_ARGUMENT, "KV cache 1: slot");
  kv[1].slot_offset = kPage + 256; // not page aligned
  expectOpenFails(TVC_INVALID_ARGUMENT, "KV cache 1: slot");
  kv[1].slot_offset = plan.poolBytes - kPage;
  kv[1].rows = 16; // two pages from the pool's last one
  expectOpenFails(TVC_INVALID_ARGUMENT, "KV cache 1: slot");
  kv[1].rows = 4;
  for (int field = 0; field < 3; ++field) {
    tvc_offload_kv_item_t bad = kv[1];
    if (field == 0)
      bad.batch = 0;
    else if (field == 1)
      bad.rows = 0;
    else
      bad.row_bytes = 0;
    std::swap(bad, kv[1]);
    expectOpenFails(TVC_INVALID_ARGUMENT, "KV cache 1: expects batch");
    std::swap(bad, kv[1]);
  }
  kv[1].placement = TVC_OFFLOAD_PAGED;
  expectOpenFails(TVC_INVALID_ARGUMENT, "is neither resident");
  kv[1].placement = TVC_OFFLOAD_STREAMED;
  kv[0].rows = int64_t{1} << 40;
  kv[0].row_bytes = uint64_t{1} << 30;
  expectOpenFails(TVC_INVALID_ARGUMENT, "KV cache 0: 1 x 1099511627776 rows");
  kv[0].rows = 4;
  kv[0].row_bytes = 256;
  plan.options.num_kv_items = -1;
  expectOpenFails(TVC_INVALID_ARGUMENT, "negative KV cache count");
  plan.options.num_kv_items = 2;
  plan.options.kv_items = nullptr;
  expectOpenFails(TVC_INVALID_ARGUMENT, "null KV cache list");
}

TEST_F(OffloadCudaArguments, BadItemsAndFiles) {
  plan.items[Plan::D].offset += 100;
  expectOpenFails(TVC_INVALID_ARGUMENT, "is not a multiple of 4096");
  plan.items[Plan::D].offset = plan.items[Plan::C].offset; // C's bytes
  expectOpenFails(TVC_INVALID_ARGUMENT, "overlap");
  plan.items[Plan::D].offset = plan.blobBytes - kPage;
  expectOpenFails(TVC_INVALID_ARGUMENT, "run past the blob");
  plan.items[Plan::D].offset = 2 * plan.granularity;
  plan.items[Plan::D].placement = 7;
  expectOpenFails(TVC_INVALID_ARGUMENT, "unknown placement 7");
  plan.items[Plan::D].placement = TVC_OFFLOAD_PAGED;
  // The file: its size against the blob's, and a missing one.
  plan.blobBytes += kPage;
  expectOpenFails(TVC_INVALID_ARGUMENT, "this model needs");
  plan.blobBytes -= kPage;
  path += ".missing";
  expectOpenFails(TVC_NOT_FOUND, "cannot open the weights file");
  void *blob = nullptr;
  EXPECT_EQ(tvc_offload_open_cuda(nullptr, 0, nullptr, 0, nullptr, &blob),
            TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_offload_open_cuda("x", 0, nullptr, -1, nullptr, &blob),
            TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_offload_open_cuda("x", 0, nullptr, 0, nullptr, nullptr),
            TVC_INVALID_ARGUMENT);
}

/// The CPU executor open: the CUDA one refuses before any CUDA call.
TEST_F(OffloadCudaArguments, CpuExecutorOpen) {
  void *cpuBlob = nullptr;
  ASSERT_EQ(tvc_offload_open(file.path.c_str(), plan.blobBytes,
                             plan.items.data(), plan.items.size(), nullptr,
                             &cpuBlob),
            TVC_OK)
      << tvc_offload_last_error();
  void *blob = reinterpret_cast<void *>(1);
  EXPECT_EQ(tvc_offload_open_cuda(file.path.c_str(), plan.blobBytes,
                                  plan.items.data(), plan.items.size(),
                                  &plan.options, &blob),
            TVC_UNAVAILABLE);
  EXPECT_EQ(blob, nullptr);
  EXPECT_NE(std::string(tvc_offload_last_error()).find("(the CPU one)"),
            std::string::npos)
      << tvc_offload_last_error();
  // Still the CPU executor's counters.
  tvc_offload_stats_t now;
  ASSERT_EQ(tvc_offload_get_stats(&now), TVC_OK);
  EXPECT_GT(now.pool_bytes, 0u);
  tvc_offload_close();
  tvc_offload_stats_t none;
  EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);
}

//===----------------------------------------------------------------------===//
// Without a device
//===----------------------------------------------------------------------===//

// Suites of tests that skip on a device do not start with "Cuda":
// scripts/gpu-check.sh counts a skipped Cuda* test on a GPU as a failure.
TEST(WithoutCudaDevice, OffloadOpenSaysWhy) {
  std::string why;
  if (tvc::test::haveCudaDevice(why))
    GTEST_SKIP() << "a CUDA device is present";
  Plan plan(uint64_t{2} << 20);
  WeightsFile file(plan.blobBytes);
  void *blob = reinterpret_cast<void *>(1);
  EXPECT_EQ(tvc_offload_open_cuda(file.path.c_str(), plan.blobBytes,
                                  plan.items.data(), plan.items.size(),
                                  &plan.options, &blob),
            TVC_UNAVAILABLE);
  EXPECT_EQ(blob, nullptr);
  std::string message = tvc_offload_last_error();
  EXPECT_NE(message.find("no usable CUDA device"), std::string::npos)
      << message;
  ASSERT_FALSE(why.empty());
  EXPECT_NE(message.find(why), std::string::npos) << message;
  tvc_offload_stats_t none;
  EXPECT_EQ(tvc_offload_get_stats(&none), TVC_NOT_FOUND);
  // A plan with a streamed KV cache passes the checks, then fails the same
  // way.
  tvc_offload_kv_item_t kv = {2, 4, 256, TVC_OFFLOAD_STREAMED, 1, kPage};
  plan.options.kv_items = &kv;
  plan.options.num_kv_items = 1;
  EXPECT_EQ(tvc_offload_open_cuda(file.path.c_str(), plan.blobBytes,
                                  plan.items.data(), plan.items.size(),
                                  &plan.options, &blob),
            TVC_UNAVAILABLE);
  message = tvc_offload_last_error();
  EXPECT_NE(message.find("no usable CUDA device"), std::string::npos)
      << message;
  // The calls without an executor.
  EXPECT_EQ(wait(nullptr, Plan::B, 99), 99);
  prefetch(nullptr, Plan::B);
  evict(nullptr, Plan::B);
  EXPECT_EQ(kvWait(nullptr, 0, 4), -1);
  kvPrefetch(nullptr, 0, 4);
  kvEvict(nullptr, 0, 0, 4);
  tvc_offload_close();
}

} // namespace
