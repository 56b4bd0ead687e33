//===- CudaExecutor.cpp - Weights and KV-cache offload executor on CUDA ---===//
//
// The CUDA executor of runtime/api/tvc_offload.h (tvc_offload_open_cuda).
// At open it reserves one device address range, [blob | pool], the pool
// starting at the blob's size rounded up to the device's allocation
// granularity, and backs with physical memory (CUDA's virtual memory
// management, driver functions looked up through cudart so that nothing
// links libcuda) only the granules holding resident and paged items, and
// the pool. Resident and paged items are copied there from the weights file
// through two pinned staging buffers. The streamed items are read once into
// one pinned host buffer, the slower tier; their own blob ranges stay
// unbacked, since the compiled code reads them in the pool slot the wait
// returns. Slots are the compiler's and may overlap (items whose slots
// overlap are never held at once). Per streamed item two events made at
// open order everything without the host waiting: `ready`, recorded on the
// executor's copy stream after the item's copy into its slot, which the
// compute stream (the calling thread's current stream) waits for; and
// `evicted`, recorded on the compute stream at the item's evict, which the
// copy stream waits for before it copies an item whose slot overlaps into
// the same bytes. Streamed KV caches take compiler slots of the same pool,
// with the same two events and the same overlap scheme (caches and weights
// share it); their home is one pinned, zero-filled host buffer: a cache's
// prefetch or wait copies its valid rows of every batch home -> slot on the
// copy stream, its evict copies the rows written since back, slot -> home,
// on the copy stream after its `evicted`, so the next copy of the cache,
// later on that in-order stream, sees them. So the calls queue work and
// return; they allocate nothing.
//
//===----------------------------------------------------------------------===//

#include "runtime/offload/CudaExecutor.h"

#include "runtime/api/tvc_cuda.h"
#include "runtime/api/tvc_offload.h"
#include "runtime/offload/PlanChecks.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace tvc::offload {
using tvc::runtime::offload::mib;
using tvc::runtime::offload::readFully;

namespace {

constexpr uint64_t kPage = 4096;
/// The weights file's header: the blob starts at this file offset.
constexpr uint64_t kHeaderBytes = 4096;
/// Each of the two pinned buffers the resident items go through at open,
/// at most.
constexpr uint64_t kStagingBytes = uint64_t{16} << 20;

uint64_t roundUp(uint64_t bytes, uint64_t unit) {
  return (bytes + unit - 1) / unit * unit;
}

/// The driver's virtual memory functions, each at the ABI of its typedef.
struct DriverApi {
  PFN_cuGetErrorName_v6000 getErrorName = nullptr;
  PFN_cuDeviceGetAttribute_v2000 deviceGetAttribute = nullptr;
  PFN_cuMemGetAllocationGranularity_v10020 getGranularity = nullptr;
  PFN_cuMemAddressReserve_v10020 addressReserve = nullptr;
  PFN_cuMemAddressFree_v10020 addressFree = nullptr;
  PFN_cuMemCreate_v10020 create = nullptr;
  PFN_cuMemRelease_v10020 release = nullptr;
  PFN_cuMemMap_v10020 map = nullptr;
  PFN_cuMemUnmap_v10020 unmap = nullptr;
  PFN_cuMemSetAccess_v10020 setAccess = nullptr;
};

template <typename Fn>
bool lookUp(const char *symbol, unsigned version, Fn &out, std::string &error) {
  void *pointer = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  cudaError_t status = cudaGetDriverEntryPointByVersion(
      symbol, &pointer, version, cudaEnableDefault, &found);
  if (status == cudaSuccess && found == cudaDriverEntryPointSuccess &&
      pointer) {
    out = reinterpret_cast<Fn>(pointer);
    return true;
  }
  cudaGetLastError();
  error = std::string("the CUDA driver has no ") + symbol + " (" +
          cudaGetErrorString(status) + ")";
  return false;
}

bool lookUpDriver(DriverApi &api, std::string &error) {
  return lookUp("cuGetErrorName", 6000, api.getErrorName, error) &&
         lookUp("cuDeviceGetAttribute", 2000, api.deviceGetAttribute, error) &&
         lookUp("cuMemGetAllocationGranularity", 10020, api.getGranularity,
                error) &&
         lookUp("cuMemAddressReserve", 10020, api.addressReserve, error) &&
         lookUp("cuMemAddressFree", 10020, api.addressFree, error) &&
         lookUp("cuMemCreate", 10020, api.create, error) &&
         lookUp("cuMemRelease", 10020, api.release, error) &&
         lookUp("cuMemMap", 10020, api.map, error) &&
         lookUp("cuMemUnmap", 10020, api.unmap, error) &&
         lookUp("cuMemSetAccess", 10020, api.setAccess, error);
}

/// What a streamed item and a streamed KV cache share: a compiler slot of
/// the pool and the events that order its copies and its readers.
struct Slotted {
  uint64_t span = 0;             // page rounded
  uint64_t slot = 0;             // the slot's offset in the pool
  uint64_t hostOffset = 0;       // where its bytes are in its pinned buffer
  cudaEvent_t ready = nullptr;   // its copy into the slot done
  cudaEvent_t evicted = nullptr; // its readers done (recorded by evict)
  /// [overlapBegin, overlapEnd) of CudaExecutor::overlaps: the slotted
  /// items and caches whose slots share bytes with this one's, itself
  /// included.
  uint32_t overlapBegin = 0, overlapEnd = 0;
  /// A copy was issued since its last evict: it holds its slot.
  bool copied = false;
  /// `evicted` was recorded and the copy stream has not waited for it yet.
  bool evictPending = false;
};

/// One weight range of the blob (slot, events and overlaps for streamed
/// items of at least one byte only).
struct Item : Slotted {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  int32_t placement = TVC_OFFLOAD_RESIDENT;
};

/// One KV cache (slot, events and overlaps for streamed ones only).
struct KvCache : Slotted {
  uint64_t batch = 0;
  uint64_t rows = 0;
  uint64_t rowBytes = 0;
  int32_t placement = TVC_OFFLOAD_RESIDENT;
  /// Rows [0, rowsCopied) of every batch were copied into the slot since
  /// the cache took it.
  uint64_t rowsCopied = 0;
  /// A wait returned the slot since it was taken: the slot is the cache
  /// (the compiled code may write any row), its evict writes rows back.
  bool handedOut = false;
};

/// Physical memory mapped at [offset, offset + bytes) of the reservation.
struct Backing {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  CUmemGenericAllocationHandle handle = 0;
  bool created = false;
  bool mapped = false;
};

struct CudaExecutor {
  DriverApi driver;
  int device = -1; // set once CUDA is used: close then cleans up there
  int fd = -1;
  tvc_offload_options_t options{};
  std::vector<Item> items;
  std::vector<KvCache> kvCaches;
  /// Indices of slotted items and caches: i < items.size() is items[i],
  /// else kvCaches[i - items.size()].
  std::vector<uint32_t> overlaps;
  uint64_t residentKvBytes = 0; // page rounded
  /// The resident and paged items' pages (the plan's count; the device
  /// maps whole granules around them).
  uint64_t residentPages = 0;

  uint64_t granularity = 0;
  uint64_t poolOffset = 0; // from the blob
  uint64_t reservedBytes = 0;
  CUdeviceptr base = 0; // the blob
  std::vector<Backing> backings;

  char *host = nullptr; // the streamed items, pinned
  uint64_t hostBytes = 0;
  char *kvHome = nullptr; // the streamed KV caches, pinned and zero-filled
  uint64_t kvHomeBytes = 0;
  cudaStream_t copyStream = nullptr;

  std::mutex mutex; // the items' and caches' state and the stats
  tvc_offload_stats_t stats{};
};

/// The slotted item or cache at combined index `index` (see overlaps).
Slotted &slotted(CudaExecutor &executor, uint32_t index) {
  if (index < executor.items.size())
    return executor.items[index];
  return executor.kvCaches[index - executor.items.size()];
}

std::atomic<CudaExecutor *> openCuda{nullptr};

std::string describe(cudaError_t error) {
  return std::string(cudaGetErrorName(error)) + " (" +
         cudaGetErrorString(error) + ")";
}

tvc_status_t statusOf(cudaError_t error) {
  switch (error) {
  case cudaErrorMemoryAllocation:
    return TVC_OUT_OF_MEMORY;
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorInitializationError:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

tvc_status_t statusOf(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return TVC_OUT_OF_MEMORY;
  case CUDA_ERROR_NOT_SUPPORTED:
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_NOT_INITIALIZED:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

/// Sets `error` and `status` from a failed runtime call at open. Returns
/// true on failure (clearing cudart's last error, which kernel entries
/// check after their launches).
bool openFailed(cudaError_t result, const char *what, std::string &error,
                tvc_status_t &status) {
  if (result == cudaSuccess)
    return false;
  cudaGetLastError();
  error = std::string("tvc_offload_open_cuda: ") + what +
          " failed: " + describe(result);
  status = statusOf(result);
  return true;
}

bool openFailed(const DriverApi &driver, CUresult result, const char *what,
                std::string &error, tvc_status_t &status) {
  if (result == CUDA_SUCCESS)
    return false;
  const char *name = nullptr;
  if (driver.getErrorName(result, &name) != CUDA_SUCCESS || !name)
    name = "CUDA_ERROR_UNKNOWN";
  error = std::string("tvc_offload_open_cuda: ") + what + " failed: " + name;
  status = statusOf(result);
  return true;
}

/// Reads blob bytes [offset, offset + bytes) of the weights file into `dst`.
bool readBlob(CudaExecutor &executor, uint64_t offset, uint64_t bytes,
              char *dst, std::string &error) {
  if (!readFully(executor.fd, dst, bytes, kHeaderBytes + offset, error))
    return false;
  if (executor.options.drop_page_cache)
    posix_fadvise(executor.fd, static_cast<off_t>(kHeaderBytes + offset),
                  static_cast<off_t>(bytes), POSIX_FADV_DONTNEED);
  return true;
}

/// Checks the items against the blob (as the CPU executor does); fills
/// `executor.items`.
bool checkItems(CudaExecutor &executor, uint64_t blobBytes,
                const tvc_offload_item_t *items, int64_t count,
                std::string &error) {
  if (!tvc::runtime::offload::checkItemList(blobBytes, items, count, error))
    return false;
  executor.items.resize(static_cast<size_t>(count));
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_item_t &given = items[index];
    Item &item = executor.items[index];
    item.offset = given.offset;
    item.bytes = given.bytes;
    item.span = roundUp(given.bytes, kPage);
    item.placement = given.placement;
  }
  return true;
}

/// Checks the KV caches; fills `executor.kvCaches` and lays the streamed
/// ones out in their pinned home buffer (their slots are checked with the
/// items').
bool checkKvItems(CudaExecutor &executor, std::string &error) {
  const tvc_offload_kv_item_t *kvItems = executor.options.kv_items;
  int64_t count = executor.options.num_kv_items;
  if (count < 0 || (count > 0 && !kvItems)) {
    error = "tvc_offload_open_cuda: a null KV cache list or a negative KV "
            "cache count";
    return false;
  }
  executor.kvCaches.resize(static_cast<size_t>(count));
  uint64_t total = 0; // every cache's pages
  for (int64_t index = 0; index < count; ++index) {
    const tvc_offload_kv_item_t &given = kvItems[index];
    std::string name = "KV cache " + std::to_string(index);
    uint64_t span = tvc::runtime::offload::checkKvCache(index, given,
                                                        /*hostAttention=*/true,
                                                        &total, error);
    if (span == 0)
      return false;
    KvCache &kv = executor.kvCaches[index];
    kv.batch = static_cast<uint64_t>(given.batch);
    kv.rows = static_cast<uint64_t>(given.rows);
    kv.rowBytes = given.row_bytes;
    kv.span = span;
    kv.placement = given.placement;
    if (kv.placement == TVC_OFFLOAD_RESIDENT) {
      executor.residentKvBytes += kv.span;
      continue;
    }
    // In host memory where attention runs: neither the budget's nor ours.
    if (kv.placement == TVC_OFFLOAD_HOST_ATTENTION)
      continue;
    if (!given.has_slot) {
      error = name + " is streamed but has no slot; the CUDA offload "
                     "executor needs the compiler's slots";
      return false;
    }
    kv.slot = given.slot_offset;
    kv.hostOffset = executor.kvHomeBytes;
    executor.kvHomeBytes += kv.span;
  }
  // Nothing keeps the caller's lists after open; the caches live in pinned
  // host memory, not in a spill file.
  executor.options.kv_items = nullptr;
  executor.options.num_kv_items = 0;
  executor.options.kv_dir = nullptr;
  return true;
}

/// Checks that `slot` (of `span` bytes, for `name`) is a page-aligned range
/// of a pool of `pool` bytes.
bool checkSlot(const std::string &name, uint64_t slot, uint64_t span,
               uint64_t pool, std::string &error) {
  if (slot % kPage == 0 && slot <= pool && span <= pool - slot)
    return true;
  error = name + ": slot [" + std::to_string(slot) + ", +" +
          std::to_string(span) + ") is not a page-aligned range of the " +
          std::to_string(pool) + "-byte pool";
  return false;
}

/// Checks that every streamed item and KV cache has a page-aligned slot
/// inside the pool (the compiler's: the CUDA executor has no slot
/// allocator), sets the items' slots and lays them out in the pinned host
/// buffer.
bool checkSlots(CudaExecutor &executor, const tvc_offload_item_t *items,
                std::string &error) {
  uint64_t pool = executor.options.pool_bytes;
  bool anyStreamed = executor.kvHomeBytes > 0;
  for (const Item &item : executor.items)
    anyStreamed |= item.placement == TVC_OFFLOAD_STREAMED && item.span > 0;
  if (anyStreamed && pool == 0) {
    error = "pool_bytes is 0 but items or KV caches are streamed: the CUDA "
            "offload executor needs the compiler's pool and slots";
    return false;
  }
  if (pool % kPage != 0) {
    error = "the offload page pool of " + std::to_string(pool) +
            " bytes is not a multiple of 4096";
    return false;
  }
  // Offsets computed from it (rounded up to granules) must not overflow.
  if (pool > (uint64_t{1} << 62)) {
    error = "the offload page pool of " + std::to_string(pool) +
            " bytes is too large";
    return false;
  }
  for (size_t index = 0; index < executor.items.size(); ++index) {
    Item &item = executor.items[index];
    if (item.placement != TVC_OFFLOAD_STREAMED || item.span == 0)
      continue;
    std::string name = "offload item " + std::to_string(index);
    uint64_t slot = items[index].slot_offset;
    if (!items[index].has_slot) {
      error = name + " is streamed but has no slot; the CUDA offload "
                     "executor needs the compiler's slots";
      return false;
    }
    if (!checkSlot(name, slot, item.span, pool, error))
      return false;
    item.slot = slot;
    item.hostOffset = executor.hostBytes;
    executor.hostBytes += item.span;
  }
  for (size_t index = 0; index < executor.kvCaches.size(); ++index) {
    const KvCache &kv = executor.kvCaches[index];
    if (kv.placement == TVC_OFFLOAD_STREAMED &&
        !checkSlot("KV cache " + std::to_string(index), kv.slot, kv.span, pool,
                   error))
      return false;
  }
  return true;
}

/// Fills each streamed item's and cache's overlap list (itself included):
/// sorted by slot, each meets only those starting before its slot ends.
void findOverlaps(CudaExecutor &executor) {
  uint32_t numItems = static_cast<uint32_t>(executor.items.size());
  uint32_t count = numItems + static_cast<uint32_t>(executor.kvCaches.size());
  std::vector<uint32_t> streamed;
  for (uint32_t index = 0; index < numItems; ++index)
    if (executor.items[index].placement == TVC_OFFLOAD_STREAMED &&
        executor.items[index].span > 0)
      streamed.push_back(index);
  for (uint32_t index = numItems; index < count; ++index)
    if (executor.kvCaches[index - numItems].placement == TVC_OFFLOAD_STREAMED)
      streamed.push_back(index);
  std::sort(streamed.begin(), streamed.end(), [&](uint32_t lhs, uint32_t rhs) {
    return slotted(executor, lhs).slot < slotted(executor, rhs).slot;
  });
  std::vector<std::vector<uint32_t>> lists(count);
  for (size_t i = 0; i < streamed.size(); ++i) {
    const Slotted &first = slotted(executor, streamed[i]);
    lists[streamed[i]].push_back(streamed[i]);
    for (size_t j = i + 1; j < streamed.size(); ++j) {
      if (slotted(executor, streamed[j]).slot >= first.slot + first.span)
        break;
      lists[streamed[i]].push_back(streamed[j]);
      lists[streamed[j]].push_back(streamed[i]);
    }
  }
  for (uint32_t index = 0; index < count; ++index) {
    Slotted &one = slotted(executor, index);
    one.overlapBegin = static_cast<uint32_t>(executor.overlaps.size());
    executor.overlaps.insert(executor.overlaps.end(), lists[index].begin(),
                             lists[index].end());
    one.overlapEnd = static_cast<uint32_t>(executor.overlaps.size());
  }
}

/// Opens the weights file and checks its magic and size.
tvc_status_t openFile(CudaExecutor &executor, const char *path,
                      uint64_t blobBytes, std::string &error) {
  std::string name = std::string("'") + path + "'";
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
      !readFully(executor.fd, magic, sizeof(magic), 0, readError) ||
      (std::memcmp(magic, "TVCWGT01", 8) != 0 &&
       std::memcmp(magic, "TVCWGT02", 8) != 0)) {
    error = name + " is not a tvc weights file";
    return TVC_INVALID_ARGUMENT;
  }
  if (std::memcmp(magic, "TVCWGT01", 8) == 0) {
    error = name + " was written by an older tvc-compile; compile the model "
                   "again";
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
  return TVC_OK;
}

/// Finds a usable device (the current one), the driver's functions and
/// the allocation granularity.
tvc_status_t openDevice(CudaExecutor &executor, std::string &error) {
  tvc_cuda_device_info_t info;
  const char *message = nullptr;
  if (tvc_cuda_device_query(0, &info, &message) != TVC_OK) {
    error = std::string("tvc_offload_open_cuda: no usable CUDA device: ") +
            (message ? message : "unknown reason");
    return TVC_UNAVAILABLE;
  }
  tvc_status_t status = TVC_OK;
  int device = 0;
  if (openFailed(cudaGetDevice(&device), "cudaGetDevice", error, status) ||
      openFailed(cudaFree(nullptr), "making the CUDA context current", error,
                 status))
    return status;
  executor.device = device;
  std::string missing;
  if (!lookUpDriver(executor.driver, missing)) {
    error = "tvc_offload_open_cuda: " + missing;
    return TVC_UNAVAILABLE;
  }
  const DriverApi &driver = executor.driver;
  int vmm = 0;
  if (openFailed(driver,
                 driver.deviceGetAttribute(
                     &vmm,
                     CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED,
                     device),
                 "cuDeviceGetAttribute", error, status))
    return status;
  if (!vmm) {
    error = "tvc_offload_open_cuda: CUDA device " + std::to_string(device) +
            " does not support virtual memory management";
    return TVC_UNAVAILABLE;
  }
  CUmemAllocationProp prop = {};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  size_t granularity = 0;
  if (openFailed(driver,
                 driver.getGranularity(&granularity, &prop,
                                       CU_MEM_ALLOC_GRANULARITY_MINIMUM),
                 "cuMemGetAllocationGranularity", error, status))
    return status;
  if (granularity == 0 || granularity % kPage != 0) {
    error = "tvc_offload_open_cuda: unexpected allocation granularity " +
            std::to_string(granularity);
    return TVC_UNAVAILABLE;
  }
  executor.granularity = granularity;
  return TVC_OK;
}

/// The granule-rounded ranges of the blob to back with memory: those of
/// the resident and paged items, merged, then the pool. Returns the
/// blob's part of their bytes.
uint64_t planBackings(CudaExecutor &executor, uint64_t blobBytes) {
  uint64_t g = executor.granularity;
  std::vector<Backing> ranges;
  for (const Item &item : executor.items) {
    if (item.placement == TVC_OFFLOAD_STREAMED || item.span == 0)
      continue;
    uint64_t begin = item.offset / g * g;
    ranges.push_back({begin, roundUp(item.offset + item.span, g) - begin});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Backing &lhs, const Backing &rhs) {
              return lhs.offset < rhs.offset;
            });
  uint64_t blobBacked = 0;
  for (const Backing &range : ranges) {
    Backing *last =
        executor.backings.empty() ? nullptr : &executor.backings.back();
    if (last && range.offset <= last->offset + last->bytes) {
      uint64_t end =
          std::max(last->offset + last->bytes, range.offset + range.bytes);
      blobBacked += end - (last->offset + last->bytes);
      last->bytes = end - last->offset;
    } else {
      executor.backings.push_back(range);
      blobBacked += range.bytes;
    }
  }
  executor.poolOffset = roundUp(blobBytes, g);
  uint64_t poolBacked = roundUp(executor.options.pool_bytes, g);
  if (poolBacked)
    executor.backings.push_back({executor.poolOffset, poolBacked});
  executor.stats.pool_bytes = poolBacked;
  // A blob of nothing still gets an address.
  executor.reservedBytes = std::max(executor.poolOffset + poolBacked, g);
  return blobBacked;
}

/// Reserves the address range and maps the backings, readable and
/// writable from the device.
tvc_status_t mapMemory(CudaExecutor &executor, std::string &error) {
  const DriverApi &driver = executor.driver;
  tvc_status_t status = TVC_OK;
  if (openFailed(driver,
                 driver.addressReserve(&executor.base, executor.reservedBytes,
                                       executor.granularity, 0, 0),
                 "cuMemAddressReserve", error, status))
    return status;
  CUmemAllocationProp prop = {};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = executor.device;
  CUmemAccessDesc access = {};
  access.location = prop.location;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  for (Backing &backing : executor.backings) {
    CUdeviceptr at = executor.base + backing.offset;
    if (openFailed(driver,
                   driver.create(&backing.handle, backing.bytes, &prop, 0),
                   "cuMemCreate", error, status))
      break;
    backing.created = true;
    if (openFailed(driver, driver.map(at, backing.bytes, 0, backing.handle, 0),
                   "cuMemMap", error, status))
      break;
    backing.mapped = true;
    if (openFailed(driver, driver.setAccess(at, backing.bytes, &access, 1),
                   "cuMemSetAccess", error, status))
      break;
  }
  if (status == TVC_OUT_OF_MEMORY)
    error += " (" + mib(executor.reservedBytes) + " reserved)";
  return status;
}

/// Copies the resident and paged items (the largest of `largest` bytes)
/// from the file to the device through two pinned staging buffers, so that
/// reading the next chunk overlaps copying the last one.
tvc_status_t copyResidentItems(CudaExecutor &executor, const char *path,
                               uint64_t largest, std::string &error) {
  tvc_status_t status = TVC_OK;
  uint64_t stagingBytes = std::min(kStagingBytes, roundUp(largest, kPage));
  void *staging = nullptr;
  if (openFailed(
          cudaHostAlloc(&staging, 2 * stagingBytes, cudaHostAllocDefault),
          "cudaHostAlloc (staging)", error, status))
    return status;
  char *buffers[2] = {static_cast<char *>(staging),
                      static_cast<char *>(staging) + stagingBytes};
  // copied[b]: recorded after the copy out of buffers[b] was queued.
  cudaEvent_t copied[2] = {nullptr, nullptr};
  bool inFlight[2] = {false, false};
  std::string readError;
  for (cudaEvent_t &event : copied)
    if (openFailed(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
                   "cudaEventCreateWithFlags", error, status))
      break;
  uint64_t chunks = 0;
  for (size_t index = 0; index < executor.items.size() && status == TVC_OK;
       ++index) {
    const Item &item = executor.items[index];
    if (item.placement == TVC_OFFLOAD_STREAMED || item.bytes == 0)
      continue;
    for (uint64_t at = 0; at < item.bytes; at += stagingBytes) {
      int buffer = static_cast<int>(chunks++ % 2);
      uint64_t chunk = std::min(stagingBytes, item.bytes - at);
      if (inFlight[buffer] &&
          openFailed(cudaEventSynchronize(copied[buffer]),
                     "copying a resident item to the device", error, status))
        break;
      inFlight[buffer] = false;
      if (!readBlob(executor, item.offset + at, chunk, buffers[buffer],
                    readError)) {
        error = "cannot read offload item " + std::to_string(index) + " of '" +
                path + "': " + readError;
        status = TVC_INTERNAL;
        break;
      }
      void *dst = reinterpret_cast<void *>(executor.base + item.offset + at);
      if (openFailed(cudaMemcpyAsync(dst, buffers[buffer], chunk,
                                     cudaMemcpyHostToDevice,
                                     executor.copyStream),
                     "copying a resident item to the device", error, status) ||
          openFailed(cudaEventRecord(copied[buffer], executor.copyStream),
                     "cudaEventRecord", error, status))
        break;
      inFlight[buffer] = true;
    }
    if (status == TVC_OK) {
      executor.stats.bytes_read += item.bytes;
      ++executor.stats.reads;
    }
  }
  // Every copy done before the buffers go (also after a failure).
  cudaError_t drained = cudaStreamSynchronize(executor.copyStream);
  if (status == TVC_OK)
    openFailed(drained, "copying a resident item to the device", error, status);
  for (cudaEvent_t event : copied)
    if (event)
      cudaEventDestroy(event);
  cudaFreeHost(staging);
  return status;
}

/// Copies the resident and paged items from the file to the device through
/// a pinned staging buffer, and reads the streamed ones into the pinned
/// host buffer.
tvc_status_t loadItems(CudaExecutor &executor, const char *path,
                       std::string &error) {
  tvc_status_t status = TVC_OK;
  std::string readError;
  if (executor.hostBytes) {
    void *host = nullptr;
    if (openFailed(
            cudaHostAlloc(&host, executor.hostBytes, cudaHostAllocDefault),
            "cudaHostAlloc (the streamed items' pinned host memory)", error,
            status)) {
      error += " (" + mib(executor.hostBytes) + ")";
      return status;
    }
    executor.host = static_cast<char *>(host);
  }
  if (executor.kvHomeBytes) {
    void *home = nullptr;
    if (openFailed(
            cudaHostAlloc(&home, executor.kvHomeBytes, cudaHostAllocDefault),
            "cudaHostAlloc (the streamed KV caches' pinned host memory)", error,
            status)) {
      error += " (" + mib(executor.kvHomeBytes) + ")";
      return status;
    }
    // Rows never written read as zeros, as from the CPU's spill file.
    std::memset(home, 0, executor.kvHomeBytes);
    executor.kvHome = static_cast<char *>(home);
  }
  uint64_t largest = 0;
  for (size_t index = 0; index < executor.items.size(); ++index) {
    const Item &item = executor.items[index];
    if (item.placement != TVC_OFFLOAD_STREAMED) {
      largest = std::max(largest, item.bytes);
      continue;
    }
    if (item.span == 0)
      continue;
    if (!readBlob(executor, item.offset, item.bytes,
                  executor.host + item.hostOffset, readError)) {
      error = "cannot read offload item " + std::to_string(index) + " of '" +
              path + "': " + readError;
      return TVC_INTERNAL;
    }
  }
  return largest ? copyResidentItems(executor, path, largest, error) : TVC_OK;
}

/// Frees what open made (whatever part of it); waits for the device first.
void destroy(CudaExecutor *executor) {
  if (executor->device >= 0) {
    int previous = -1;
    bool restore = cudaGetDevice(&previous) == cudaSuccess &&
                   previous != executor->device &&
                   cudaSetDevice(executor->device) == cudaSuccess;
    // Kernels may still read the blob, and copies still fill slots.
    cudaDeviceSynchronize();
    auto destroyEvents = [](Slotted &one) {
      if (one.ready)
        cudaEventDestroy(one.ready);
      if (one.evicted)
        cudaEventDestroy(one.evicted);
    };
    for (Item &item : executor->items)
      destroyEvents(item);
    for (KvCache &kv : executor->kvCaches)
      destroyEvents(kv);
    if (executor->copyStream)
      cudaStreamDestroy(executor->copyStream);
    const DriverApi &driver = executor->driver;
    for (const Backing &backing : executor->backings) {
      if (backing.mapped)
        driver.unmap(executor->base + backing.offset, backing.bytes);
      if (backing.created)
        driver.release(backing.handle);
    }
    if (executor->base)
      driver.addressFree(executor->base, executor->reservedBytes);
    if (executor->host)
      cudaFreeHost(executor->host);
    if (executor->kvHome)
      cudaFreeHost(executor->kvHome);
    cudaGetLastError();
    if (restore)
      cudaSetDevice(previous);
  }
  if (executor->fd >= 0)
    close(executor->fd);
  delete executor;
}

/// Everything after the checks that need no CUDA call.
tvc_status_t openOnDevice(CudaExecutor &executor, const char *path,
                          uint64_t blobBytes, std::string &error) {
  tvc_status_t status = openDevice(executor, error);
  if (status != TVC_OK)
    return status;
  uint64_t blobBacked = planBackings(executor, blobBytes);
  // The budget is the plan's: the resident and paged items' pages, the
  // compiler's pool and the resident KV caches. The device maps granules
  // (2 MiB), so every boundary between backed and unbacked blob ranges and
  // the pool's end round up beyond it: that rounding is outside the budget,
  // like the code and the runtime (docs/Offload.md, "CUDA executor").
  uint64_t residentPages = 0;
  for (const Item &item : executor.items)
    if (item.placement != TVC_OFFLOAD_STREAMED)
      residentPages += item.span;
  executor.residentPages = residentPages;
  uint64_t planned =
      residentPages + executor.options.pool_bytes + executor.residentKvBytes;
  uint64_t budget = executor.options.budget_bytes;
  if (budget && planned > budget) {
    error =
        "the CUDA offload plan holds " + std::to_string(planned) +
        " bytes (resident and paged items " + std::to_string(residentPages) +
        " + pool " + std::to_string(executor.options.pool_bytes) +
        " + resident KV caches " + std::to_string(executor.residentKvBytes) +
        "), over the budget of " + std::to_string(budget) + " bytes";
    return TVC_INVALID_ARGUMENT;
  }
  // A clear message rather than cuMemCreate's out-of-memory error.
  size_t freeBytes = 0, totalBytes = 0;
  if (openFailed(cudaMemGetInfo(&freeBytes, &totalBytes), "cudaMemGetInfo",
                 error, status))
    return status;
  uint64_t backed = blobBacked + executor.stats.pool_bytes;
  if (backed > freeBytes) {
    error = "the CUDA offload plan needs " + mib(backed) +
            " of device memory for its resident items and pool; CUDA device " +
            std::to_string(executor.device) + " has " + mib(freeBytes) +
            " free";
    return TVC_OUT_OF_MEMORY;
  }
  status = mapMemory(executor, error);
  if (status != TVC_OK)
    return status;
  if (openFailed(cudaStreamCreateWithFlags(&executor.copyStream,
                                           cudaStreamNonBlocking),
                 "cudaStreamCreateWithFlags (the copy stream)", error, status))
    return status;
  uint32_t slottedCount =
      static_cast<uint32_t>(executor.items.size() + executor.kvCaches.size());
  for (uint32_t index = 0; index < slottedCount; ++index) {
    // Streamed items and caches are those with an overlap list.
    Slotted &one = slotted(executor, index);
    if (one.overlapBegin == one.overlapEnd)
      continue;
    if (openFailed(cudaEventCreateWithFlags(&one.ready, cudaEventDisableTiming),
                   "cudaEventCreateWithFlags", error, status) ||
        openFailed(
            cudaEventCreateWithFlags(&one.evicted, cudaEventDisableTiming),
            "cudaEventCreateWithFlags", error, status))
      return status;
  }
  status = loadItems(executor, path, error);
  if (status != TVC_OK)
    return status;
  tvc_offload_stats_t &stats = executor.stats;
  stats.bytes_read_at_open = stats.bytes_read;
  stats.resident_bytes = executor.residentPages + executor.residentKvBytes;
  stats.peak_resident_bytes = stats.resident_bytes;
  stats.kv_spill_bytes = executor.kvHomeBytes;
  return TVC_OK;
}

/// The open executor's streamed item `index`, or null.
Item *findStreamed(CudaExecutor *executor, int64_t index) {
  if (!executor || index < 0 ||
      index >= static_cast<int64_t>(executor->items.size()))
    return nullptr;
  Item &item = executor->items[index];
  return item.placement == TVC_OFFLOAD_STREAMED && item.span ? &item : nullptr;
}

/// The open executor's streamed KV cache `index`, or null.
KvCache *findStreamedKv(CudaExecutor *executor, int64_t index) {
  if (!executor || index < 0 ||
      index >= static_cast<int64_t>(executor->kvCaches.size()))
    return nullptr;
  KvCache &kv = executor->kvCaches[index];
  return kv.placement == TVC_OFFLOAD_STREAMED ? &kv : nullptr;
}

/// `row` clamped to [0, kv.rows].
uint64_t clampRow(const KvCache &kv, int64_t row) {
  return row <= 0 ? 0 : std::min(static_cast<uint64_t>(row), kv.rows);
}

/// What the per-call paths name in a failure's message.
enum class Kind { Item, KvCache };

/// Counts a failed call of the per-item paths (the first one's message is
/// tvc_offload_last_error). The mutex is held.
void callFailed(CudaExecutor &executor, cudaError_t error, const char *what,
                Kind kind, int64_t index) {
  cudaGetLastError();
  ++executor.stats.io_errors;
  setLastErrorOnce(
      std::string(kind == Kind::Item ? "offload item " : "KV cache ") +
      std::to_string(index) + ": " + what +
      " failed (its results are wrong): " + describe(error));
}

/// Makes `one` hold its slot: the copy stream waits for the evictions of
/// the items and caches whose slots overlap it (so the copies queued next
/// land after their readers), and its pages count as resident. The mutex
/// is held.
void takeSlot(CudaExecutor &executor, Slotted &one, Kind kind, int64_t index) {
  for (uint32_t at = one.overlapBegin; at < one.overlapEnd; ++at) {
    Slotted &other = slotted(executor, executor.overlaps[at]);
    if (!other.evictPending)
      continue;
    cudaError_t error =
        cudaStreamWaitEvent(executor.copyStream, other.evicted, 0);
    if (error != cudaSuccess)
      callFailed(executor, error, "waiting for an overlapping eviction", kind,
                 index);
    // The copy stream runs in order: every later copy waits too.
    other.evictPending = false;
  }
  one.copied = true;
  tvc_offload_stats_t &stats = executor.stats;
  stats.resident_bytes += one.span;
  stats.peak_resident_bytes =
      std::max(stats.peak_resident_bytes, stats.resident_bytes);
  if (executor.options.budget_bytes &&
      stats.resident_bytes > executor.options.budget_bytes)
    ++stats.budget_violations;
}

/// Records `one`'s `ready` on the copy stream, after what was queued there.
void recordReady(CudaExecutor &executor, Slotted &one, Kind kind,
                 int64_t index) {
  cudaError_t error = cudaEventRecord(one.ready, executor.copyStream);
  if (error != cudaSuccess)
    callFailed(executor, error, "cudaEventRecord(ready)", kind, index);
}

/// Makes the calling thread's current stream wait for `one`'s copies.
void computeWaitsForReady(CudaExecutor &executor, Slotted &one, Kind kind,
                          int64_t index) {
  cudaError_t error = cudaStreamWaitEvent(
      static_cast<cudaStream_t>(tvc_cuda_get_stream()), one.ready, 0);
  if (error != cudaSuccess)
    callFailed(executor, error, "waiting for its copy", kind, index);
}

/// Records `one`'s eviction on the calling thread's current stream, after
/// its readers. Returns false when that failed.
bool recordEvicted(CudaExecutor &executor, Slotted &one, Kind kind,
                   int64_t index) {
  cudaError_t error = cudaEventRecord(
      one.evicted, static_cast<cudaStream_t>(tvc_cuda_get_stream()));
  if (error == cudaSuccess)
    return true;
  callFailed(executor, error, "cudaEventRecord(evicted)", kind, index);
  return false;
}

/// Queues item `index`'s copy into its slot on the copy stream, after the
/// evictions of the items and caches whose slots overlap it. The mutex is
/// held.
void issueCopy(CudaExecutor &executor, int64_t index, Item &item) {
  takeSlot(executor, item, Kind::Item, index);
  void *slot =
      reinterpret_cast<void *>(executor.base + executor.poolOffset + item.slot);
  cudaError_t error =
      cudaMemcpyAsync(slot, executor.host + item.hostOffset, item.bytes,
                      cudaMemcpyHostToDevice, executor.copyStream);
  if (error != cudaSuccess)
    callFailed(executor, error, "cudaMemcpyAsync into its slot", Kind::Item,
               index);
  recordReady(executor, item, Kind::Item, index);
  executor.stats.bytes_read += item.bytes;
  ++executor.stats.reads;
}

/// Queues on the copy stream the copies of rows [firstRow, endRow) of every
/// batch of `kv` between its home and its slot (one per batch: the rows of
/// a batch are contiguous, the batches `rows * rowBytes` apart in both).
/// Returns the first failure.
cudaError_t copyRows(CudaExecutor &executor, const KvCache &kv,
                     uint64_t firstRow, uint64_t endRow, bool toSlot) {
  char *slot =
      reinterpret_cast<char *>(executor.base + executor.poolOffset + kv.slot);
  char *home = executor.kvHome + kv.hostOffset;
  uint64_t batchBytes = kv.rows * kv.rowBytes;
  uint64_t bytes = (endRow - firstRow) * kv.rowBytes;
  for (uint64_t batch = 0; batch < kv.batch && bytes; ++batch) {
    uint64_t at = batch * batchBytes + firstRow * kv.rowBytes;
    cudaError_t error =
        toSlot ? cudaMemcpyAsync(slot + at, home + at, bytes,
                                 cudaMemcpyHostToDevice, executor.copyStream)
               : cudaMemcpyAsync(home + at, slot + at, bytes,
                                 cudaMemcpyDeviceToHost, executor.copyStream);
    if (error != cudaSuccess)
      return error;
  }
  return cudaSuccess;
}

/// Queues the copy of rows [firstRow, endRow) of every batch of cache
/// `index` from its home into its slot (taking the slot first when it does
/// not hold it), then its `ready`. The mutex is held.
void fetchRows(CudaExecutor &executor, int64_t index, KvCache &kv,
               uint64_t firstRow, uint64_t endRow) {
  if (!kv.copied)
    takeSlot(executor, kv, Kind::KvCache, index);
  cudaError_t error = copyRows(executor, kv, firstRow, endRow, true);
  if (error != cudaSuccess)
    callFailed(executor, error, "copying its rows into its slot", Kind::KvCache,
               index);
  // Also with no rows: a writer of the slot waits for the overlapping
  // evictions through `ready`.
  recordReady(executor, kv, Kind::KvCache, index);
  kv.rowsCopied = std::max(kv.rowsCopied, endRow);
  executor.stats.kv_bytes_read += kv.batch * (endRow - firstRow) * kv.rowBytes;
}

} // namespace

bool cudaExecutorIsOpen() { return openCuda.load() != nullptr; }

void cudaExecutorPrefetch(int64_t index) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  Item *item = findStreamed(executor, index);
  if (!item)
    return;
  std::lock_guard<std::mutex> lock(executor->mutex);
  if (!item->copied)
    issueCopy(*executor, index, *item);
}

int64_t cudaExecutorWait(int64_t index, int64_t home) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  Item *item = findStreamed(executor, index);
  if (!item)
    return home;
  std::lock_guard<std::mutex> lock(executor->mutex);
  if (!item->copied)
    issueCopy(*executor, index, *item);
  computeWaitsForReady(*executor, *item, Kind::Item, index);
  return static_cast<int64_t>(executor->poolOffset + item->slot);
}

void cudaExecutorEvict(int64_t index) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  Item *item = findStreamed(executor, index);
  if (!item)
    return;
  std::lock_guard<std::mutex> lock(executor->mutex);
  if (!item->copied)
    return;
  recordEvicted(*executor, *item, Kind::Item, index);
  item->copied = false;
  item->evictPending = true;
  executor->stats.resident_bytes -= item->span;
}

void cudaExecutorKvPrefetch(int64_t index, int64_t validRows) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  KvCache *kv = findStreamedKv(executor, index);
  if (!kv)
    return;
  std::lock_guard<std::mutex> lock(executor->mutex);
  // Held already: the wait copies any rows missing.
  if (!kv->copied)
    fetchRows(*executor, index, *kv, 0, clampRow(*kv, validRows));
}

int64_t cudaExecutorKvWait(int64_t index, int64_t validRows) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  KvCache *kv = findStreamedKv(executor, index);
  if (!kv)
    return -1;
  uint64_t rows = clampRow(*kv, validRows);
  std::lock_guard<std::mutex> lock(executor->mutex);
  if (!kv->copied)
    fetchRows(*executor, index, *kv, 0, rows);
  else if (!kv->handedOut && kv->rowsCopied < rows)
    // Prefetched with fewer valid rows: copy the rest. (Once handed out,
    // the slot is the cache: the compiled code may have written those rows.)
    fetchRows(*executor, index, *kv, kv->rowsCopied, rows);
  computeWaitsForReady(*executor, *kv, Kind::KvCache, index);
  kv->handedOut = true;
  return static_cast<int64_t>(executor->poolOffset + kv->slot);
}

void cudaExecutorKvEvict(int64_t index, int64_t firstRow, int64_t endRow) {
  CudaExecutor *executor = openCuda.load(std::memory_order_acquire);
  KvCache *kv = findStreamedKv(executor, index);
  if (!kv)
    return;
  uint64_t first = clampRow(*kv, firstRow);
  uint64_t end = std::max(first, clampRow(*kv, endRow));
  std::lock_guard<std::mutex> lock(executor->mutex);
  if (!kv->copied)
    return;
  bool recorded = recordEvicted(*executor, *kv, Kind::KvCache, index);
  kv->evictPending = true;
  // Only a slot a wait returned holds rows the compiled code wrote.
  if (kv->handedOut && end > first) {
    // The write-back reads the slot after the cache's writers; the next
    // copy into these bytes (the same in-order stream) after it.
    cudaError_t error =
        recorded ? cudaStreamWaitEvent(executor->copyStream, kv->evicted, 0)
                 : cudaSuccess;
    if (error != cudaSuccess)
      callFailed(*executor, error, "waiting for its writers", Kind::KvCache,
                 index);
    else
      kv->evictPending = false;
    error = copyRows(*executor, *kv, first, end, false);
    if (error != cudaSuccess)
      callFailed(*executor, error, "copying its rows back to its home",
                 Kind::KvCache, index);
    executor->stats.kv_bytes_written +=
        kv->batch * (end - first) * kv->rowBytes;
  }
  kv->copied = false;
  kv->handedOut = false;
  kv->rowsCopied = 0;
  executor->stats.resident_bytes -= kv->span;
}

void cudaExecutorClose() {
  if (CudaExecutor *executor = openCuda.exchange(nullptr))
    destroy(executor);
}

bool cudaExecutorStats(tvc_offload_stats_t &out) {
  CudaExecutor *executor = openCuda.load();
  if (!executor)
    return false;
  std::lock_guard<std::mutex> lock(executor->mutex);
  out = executor->stats;
  return true;
}

} // namespace tvc::offload

using namespace tvc::offload;

extern "C" tvc_status_t
tvc_offload_open_cuda(const char *weights_path, uint64_t blob_bytes,
                      const tvc_offload_item_t *items, int64_t num_items,
                      const tvc_offload_options_t *options, void **out_blob) {
  setLastError("");
  if (!weights_path || !out_blob || num_items < 0 ||
      (num_items > 0 && !items)) {
    setLastError("tvc_offload_open_cuda: a null path, blob or item list, or "
                 "a negative item count");
    return TVC_INVALID_ARGUMENT;
  }
  *out_blob = nullptr;
  if (cudaExecutorIsOpen() || cpuExecutorIsOpen()) {
    setLastError(std::string("an offload executor is already open") +
                 (cpuExecutorIsOpen() ? " (the CPU one)" : ""));
    return TVC_UNAVAILABLE;
  }
  auto *executor = new CudaExecutor;
  if (options)
    executor->options = *options;
  std::string error;
  // Everything that needs no CUDA call first: a bad plan fails the same
  // way with or without a device.
  tvc_status_t status = TVC_INVALID_ARGUMENT;
  if (checkItems(*executor, blob_bytes, items, num_items, error) &&
      checkKvItems(*executor, error) && checkSlots(*executor, items, error)) {
    findOverlaps(*executor);
    status = openFile(*executor, weights_path, blob_bytes, error);
    if (status == TVC_OK)
      status = openOnDevice(*executor, weights_path, blob_bytes, error);
  }
  if (status != TVC_OK) {
    destroy(executor);
    setLastError(error);
    return status;
  }
  openCuda.store(executor, std::memory_order_release);
  *out_blob = reinterpret_cast<void *>(executor->base);
  return TVC_OK;
}
