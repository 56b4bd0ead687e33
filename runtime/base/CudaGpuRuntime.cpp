//===- CudaGpuRuntime.cpp - The mgpu* functions of MLIR's GPU host code ---===//
//
// Host code that MLIR 22's `gpu-to-llvm` and `gpu-module-to-binary` emit
// for `tvc-compile --target=cuda` calls a fixed set of C functions named
// mgpu* (upstream ships them as libmlir_cuda_runtime.so, which Debian does
// not package). They are defined here with the exact signatures MLIR 22
// declares; docs/CudaTarget.md lists them.
//
// Driver access. Module loading, kernel launches and 16/32-bit memsets
// exist only in the driver API. Its functions are fetched through the
// statically linked CUDA runtime's cudaGetDriverEntryPointByVersion, not
// by linking libcuda or by dlopen: cudart already loads libcuda.so.1
// lazily (so a binary starts without a driver), the pointers come from the
// same driver instance and primary context that cudaMalloc, cuBLAS and
// tvc's kernels use, and each is asked for at the ABI version of the
// typedef it is stored in (no guessing of `_v2` symbol names). Everything
// the runtime API covers (memory, copies, streams, events) goes through it.
//
// Streams. tvc keeps one current stream per thread (tvc_cuda.h).
// mgpuStreamCreate returns the calling thread's current stream instead of
// creating one, so generated launches and tvc's cuBLAS and attention kernel
// entries run in order on one stream; mgpuStreamDestroy does nothing (the
// stream belongs to whoever made it current); mgpuStreamSynchronize waits
// for it. Events are real CUDA events.
//
// Errors. These functions return void (or a handle) in MLIR's ABI. A
// failure prints one line to stderr naming the function and the CUDA error
// (a line equal to the previous one is counted, not printed again) and is
// recorded for tvc_cuda_last_error; the call returns a null handle
// where it has one. Nothing aborts except a host-shared allocation (see
// mgpuMemAlloc). Memory comes from cudaMalloc, never managed memory.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>

namespace {

//===----------------------------------------------------------------------===//
// Error record
//===----------------------------------------------------------------------===//

/// The most recent failure of an mgpu* function, process-wide: a module
/// load in a global constructor must be visible to whichever thread asks.
struct ErrorRecord {
  std::mutex mutex;
  tvc_status_t status = TVC_OK;
  std::string message;
  /// The last line printed and how often it recurred since: a model whose
  /// modules cannot load fails the same way in every constructor and launch.
  std::string printed;
  unsigned repeats = 0;
};

/// Never destroyed: generated code unloads its modules in a global
/// destructor, which runs after function-local statics are gone.
ErrorRecord &errorRecord() {
  static ErrorRecord *record = new ErrorRecord;
  return *record;
}

/// Prints "tvc: <function>: <what>: <detail>" (once while it repeats) and
/// records it.
void report(tvc_status_t status, const char *function, const std::string &what,
            const std::string &detail) {
  std::string message = std::string(function) + ": " + what;
  if (!detail.empty())
    message += ": " + detail;
  ErrorRecord &record = errorRecord();
  std::lock_guard<std::mutex> lock(record.mutex);
  if (message == record.printed) {
    ++record.repeats;
  } else {
    if (record.repeats != 0)
      std::fprintf(stderr, "tvc: (the previous error repeated %u times)\n",
                   record.repeats);
    std::fprintf(stderr, "tvc: %s\n", message.c_str());
    record.printed = message;
    record.repeats = 0;
  }
  record.status = status;
  record.message = std::move(message);
}

/// Why the runtime cannot reach a device, or an empty string when it can.
std::string unavailableReason() {
  tvc_cuda_device_info_t info;
  const char *message = nullptr;
  if (tvc_cuda_device_query(0, &info, &message) == TVC_UNAVAILABLE)
    return message ? message : "no CUDA device";
  return "";
}

tvc_status_t statusOf(cudaError_t error) {
  switch (error) {
  case cudaErrorMemoryAllocation:
    return TVC_OUT_OF_MEMORY;
  case cudaErrorInvalidValue:
  case cudaErrorInvalidDevicePointer:
  case cudaErrorInvalidResourceHandle:
    return TVC_INVALID_ARGUMENT;
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorInitializationError:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

/// Reports a failed runtime-API call. Returns true on failure.
bool failed(cudaError_t error, const char *function, const char *call) {
  if (error == cudaSuccess)
    return false;
  // Clear cudart's per-thread last error so that tvc's kernel entries,
  // which check it after their launches, do not report this failure again.
  cudaGetLastError();
  tvc_status_t status = statusOf(error);
  std::string detail = std::string(cudaGetErrorName(error)) + " (" +
                       cudaGetErrorString(error) + ")";
  // cudart calls a missing driver "insufficient"; say what is missing.
  if (status == TVC_UNAVAILABLE) {
    std::string reason = unavailableReason();
    if (!reason.empty())
      detail = reason;
  }
  report(status, function, std::string(call) + " failed", detail);
  return true;
}

//===----------------------------------------------------------------------===//
// Driver API
//===----------------------------------------------------------------------===//

/// The driver functions used here, each at the ABI of its typedef.
struct DriverApi {
  PFN_cuGetErrorName_v6000 getErrorName = nullptr;
  PFN_cuGetErrorString_v6000 getErrorString = nullptr;
  PFN_cuModuleLoadData_v2000 moduleLoadData = nullptr;
  PFN_cuModuleLoadDataEx_v2010 moduleLoadDataEx = nullptr;
  PFN_cuModuleUnload_v2000 moduleUnload = nullptr;
  PFN_cuModuleGetFunction_v2000 moduleGetFunction = nullptr;
  PFN_cuFuncSetAttribute_v9000 funcSetAttribute = nullptr;
  PFN_cuLaunchKernel_v4000 launchKernel = nullptr;
  PFN_cuLaunchKernelEx_v11060 launchKernelEx = nullptr;
  PFN_cuMemsetD16Async_v3020 memsetD16Async = nullptr;
  PFN_cuMemsetD32Async_v3020 memsetD32Async = nullptr;
  /// Empty when every pointer above is set; otherwise why not.
  std::string unavailable;
};

template <typename Fn>
bool lookUp(const char *symbol, unsigned version, Fn &out,
            std::string &unavailable) {
  void *pointer = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  cudaError_t error = cudaGetDriverEntryPointByVersion(
      symbol, &pointer, version, cudaEnableDefault, &found);
  if (error == cudaSuccess && found == cudaDriverEntryPointSuccess && pointer) {
    out = reinterpret_cast<Fn>(pointer);
    return true;
  }
  cudaGetLastError();
  unavailable = unavailableReason();
  if (unavailable.empty())
    unavailable = std::string("the CUDA driver has no ") + symbol + " (" +
                  cudaGetErrorString(error) + ")";
  return false;
}

/// The driver functions, looked up once; `unavailable` says why when the
/// driver cannot be used (no libcuda.so.1, no device, too old a driver).
/// Never destroyed, like the error record.
const DriverApi &driver() {
  static const DriverApi *instance = [] {
    DriverApi *result = new DriverApi;
    DriverApi &api = *result;
    std::string &why = api.unavailable;
    // Stops at the first failure; `why` then names it.
    (void)(lookUp("cuGetErrorName", 6000, api.getErrorName, why) &&
           lookUp("cuGetErrorString", 6000, api.getErrorString, why) &&
           lookUp("cuModuleLoadData", 2000, api.moduleLoadData, why) &&
           lookUp("cuModuleLoadDataEx", 2010, api.moduleLoadDataEx, why) &&
           lookUp("cuModuleUnload", 2000, api.moduleUnload, why) &&
           lookUp("cuModuleGetFunction", 2000, api.moduleGetFunction, why) &&
           lookUp("cuFuncSetAttribute", 9000, api.funcSetAttribute, why) &&
           lookUp("cuLaunchKernel", 4000, api.launchKernel, why) &&
           lookUp("cuLaunchKernelEx", 11060, api.launchKernelEx, why) &&
           lookUp("cuMemsetD16Async", 3020, api.memsetD16Async, why) &&
           lookUp("cuMemsetD32Async", 3020, api.memsetD32Async, why));
    return result;
  }();
  return *instance;
}

tvc_status_t statusOf(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return TVC_OUT_OF_MEMORY;
  case CUDA_ERROR_INVALID_VALUE:
  case CUDA_ERROR_INVALID_HANDLE:
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
    return TVC_INVALID_ARGUMENT;
  case CUDA_ERROR_NOT_FOUND:
    return TVC_NOT_FOUND;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_NOT_INITIALIZED:
  case CUDA_ERROR_DEINITIALIZED:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

/// Reports a failed driver call. Returns true on failure.
bool failed(CUresult result, const char *function, const char *call,
            const std::string &extra = "") {
  if (result == CUDA_SUCCESS)
    return false;
  const char *name = nullptr, *text = nullptr;
  driver().getErrorName(result, &name);
  driver().getErrorString(result, &text);
  std::string detail = std::string(name ? name : "CUDA_ERROR_UNKNOWN") + " (" +
                       (text ? text : "unknown error") + ")";
  if (!extra.empty())
    detail += "; " + extra;
  report(statusOf(result), function, std::string(call) + " failed", detail);
  return true;
}

/// Makes the driver usable on the calling thread: the driver functions are
/// found and the runtime's primary context is current (driver calls need a
/// current context; cudart binds its primary context to a thread on the
/// thread's first runtime call, which cudaFree(nullptr) is). Reports and
/// returns false when that is impossible.
bool ensureDriver(const char *function) {
  const DriverApi &api = driver();
  if (!api.unavailable.empty()) {
    report(TVC_UNAVAILABLE, function, "the CUDA driver is unusable",
           api.unavailable);
    return false;
  }
  thread_local bool contextBound = false;
  if (contextBound)
    return true;
  if (failed(cudaFree(nullptr), function, "making the CUDA context current"))
    return false;
  contextBound = true;
  return true;
}

/// Dynamic shared memory above this needs an explicit opt-in per function.
constexpr int32_t kDefaultDynamicSharedBytes = 48 * 1024;

/// MLIR passes launch dimensions as index values; the driver takes unsigned.
bool validDims(const char *function, std::initializer_list<intptr_t> dims) {
  for (intptr_t dim : dims)
    if (dim <= 0 || dim > static_cast<intptr_t>(UINT32_MAX)) {
      report(TVC_INVALID_ARGUMENT, function, "launch dimension out of range",
             std::to_string(dim));
      return false;
    }
  return true;
}

bool optInSharedMemory(CUfunction function, int32_t sharedBytes,
                       const char *caller) {
  if (sharedBytes < 0) {
    report(TVC_INVALID_ARGUMENT, caller, "negative dynamic shared memory size",
           std::to_string(sharedBytes));
    return false;
  }
  if (sharedBytes <= kDefaultDynamicSharedBytes)
    return true;
  return !failed(driver().funcSetAttribute(
                     function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                     sharedBytes),
                 caller, "cuFuncSetAttribute(max dynamic shared memory)");
}

/// Bytes spanned by a strided memref of `rank` whose descriptor is
/// {allocated, aligned, offset, sizes[rank], strides[rank]}, and the first
/// of them.
struct HostRange {
  char *begin;
  size_t bytes;
};

HostRange memrefRange(int64_t rank, const void *descriptor,
                      int64_t elementBytes) {
  const int64_t *words = static_cast<const int64_t *>(descriptor);
  char *aligned = reinterpret_cast<char *>(words[1]);
  const int64_t *sizes = words + 3, *strides = words + 3 + rank;
  int64_t lastElement = 0;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (sizes[dim] == 0)
      return {aligned + words[2] * elementBytes, 0};
    lastElement += (sizes[dim] - 1) * strides[dim];
  }
  return {aligned + words[2] * elementBytes,
          static_cast<size_t>((lastElement + 1) * elementBytes)};
}

} // namespace

extern "C" tvc_status_t tvc_cuda_last_error(const char **out_message) {
  // A copy per thread, so the pointer stays valid while other threads
  // record new errors.
  thread_local std::string copy;
  ErrorRecord &record = errorRecord();
  std::lock_guard<std::mutex> lock(record.mutex);
  tvc_status_t status = record.status;
  copy = status == TVC_OK ? "ok" : record.message;
  record.status = TVC_OK;
  record.message.clear();
  if (out_message)
    *out_message = copy.c_str();
  return status;
}

//===----------------------------------------------------------------------===//
// Modules and launches
//===----------------------------------------------------------------------===//

/// Loads a cubin, fatbin or NUL-terminated PTX image (`format=bin`,
/// `fatbin`; the driver detects which). `size` is informational.
extern "C" void *mgpuModuleLoad(void *data, size_t size) {
  (void)size;
  if (!ensureDriver("mgpuModuleLoad"))
    return nullptr;
  CUmodule module = nullptr;
  if (failed(driver().moduleLoadData(&module, data), "mgpuModuleLoad",
             "cuModuleLoadData"))
    return nullptr;
  return module;
}

/// Loads NUL-terminated PTX (`format=isa`), JIT-compiled by the driver at
/// `optLevel`; a failure carries the JIT's log.
extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel) {
  if (!ensureDriver("mgpuModuleLoadJIT"))
    return nullptr;
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log)),
                    reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
  CUmodule module = nullptr;
  CUresult result =
      driver().moduleLoadDataEx(&module, data, 3, options, values);
  // One line: the log's first line is the first diagnostic.
  std::string firstLine(log, strnlen(log, sizeof(log)));
  firstLine = firstLine.substr(0, firstLine.find('\n'));
  if (failed(result, "mgpuModuleLoadJIT", "cuModuleLoadDataEx", firstLine))
    return nullptr;
  return module;
}

extern "C" void mgpuModuleUnload(void *module) {
  // A module that failed to load was already reported.
  if (!module || !driver().unavailable.empty())
    return;
  CUresult result = driver().moduleUnload(static_cast<CUmodule>(module));
  // Generated code unloads in a global destructor; when cudart has torn the
  // context down first, the module is gone with it.
  if (result == CUDA_ERROR_DEINITIALIZED)
    return;
  failed(result, "mgpuModuleUnload", "cuModuleUnload");
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!name)
    name = "";
  if (!module) {
    report(TVC_UNAVAILABLE, "mgpuModuleGetFunction",
           std::string("no kernel '") + name + "'",
           "its module did not load (see the mgpuModuleLoad error)");
    return nullptr;
  }
  if (!ensureDriver("mgpuModuleGetFunction"))
    return nullptr;
  CUfunction function = nullptr;
  std::string call = std::string("cuModuleGetFunction('") + name + "')";
  if (failed(driver().moduleGetFunction(&function,
                                        static_cast<CUmodule>(module), name),
             "mgpuModuleGetFunction", call.c_str()))
    return nullptr;
  return function;
}

/// `params` holds one pointer per kernel argument, pointing at its value
/// (cuLaunchKernel's convention); `paramsCount` is their number.
extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ,
                                 int32_t sharedBytes, void *stream,
                                 void **params, void **extra,
                                 size_t paramsCount) {
  (void)paramsCount;
  const char *self = "mgpuLaunchKernel";
  if (!function) {
    report(TVC_INVALID_ARGUMENT, self, "no kernel to launch",
           "its module or function failed to load (see the earlier error)");
    return;
  }
  if (!ensureDriver(self) ||
      !validDims(self, {gridX, gridY, gridZ, blockX, blockY, blockZ}))
    return;
  CUfunction kernel = static_cast<CUfunction>(function);
  if (!optInSharedMemory(kernel, sharedBytes, self))
    return;
  failed(driver().launchKernel(
             kernel, static_cast<unsigned>(gridX), static_cast<unsigned>(gridY),
             static_cast<unsigned>(gridZ), static_cast<unsigned>(blockX),
             static_cast<unsigned>(blockY), static_cast<unsigned>(blockZ),
             static_cast<unsigned>(sharedBytes), static_cast<CUstream>(stream),
             params, extra),
         self, "cuLaunchKernel");
}

/// A launch with thread-block clusters (sm_90+); cluster dimensions are in
/// blocks and divide the grid's.
extern "C" void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                                        intptr_t clusterY, intptr_t clusterZ,
                                        intptr_t gridX, intptr_t gridY,
                                        intptr_t gridZ, intptr_t blockX,
                                        intptr_t blockY, intptr_t blockZ,
                                        int32_t sharedBytes, void *stream,
                                        void **params, void **extra) {
  const char *self = "mgpuLaunchClusterKernel";
  if (!function) {
    report(TVC_INVALID_ARGUMENT, self, "no kernel to launch",
           "its module or function failed to load (see the earlier error)");
    return;
  }
  if (!ensureDriver(self) ||
      !validDims(self, {clusterX, clusterY, clusterZ, gridX, gridY, gridZ,
                        blockX, blockY, blockZ}))
    return;
  CUfunction kernel = static_cast<CUfunction>(function);
  if (!optInSharedMemory(kernel, sharedBytes, self))
    return;
  CUlaunchAttribute cluster;
  std::memset(&cluster, 0, sizeof(cluster));
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = static_cast<unsigned>(clusterX);
  cluster.value.clusterDim.y = static_cast<unsigned>(clusterY);
  cluster.value.clusterDim.z = static_cast<unsigned>(clusterZ);
  CUlaunchConfig config;
  std::memset(&config, 0, sizeof(config));
  config.gridDimX = static_cast<unsigned>(gridX);
  config.gridDimY = static_cast<unsigned>(gridY);
  config.gridDimZ = static_cast<unsigned>(gridZ);
  config.blockDimX = static_cast<unsigned>(blockX);
  config.blockDimY = static_cast<unsigned>(blockY);
  config.blockDimZ = static_cast<unsigned>(blockZ);
  config.sharedMemBytes = static_cast<unsigned>(sharedBytes);
  config.hStream = static_cast<CUstream>(stream);
  config.attrs = &cluster;
  config.numAttrs = 1;
  failed(driver().launchKernelEx(&config, kernel, params, extra), self,
         "cuLaunchKernelEx");
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

/// The calling thread's current tvc stream (possibly null, the legacy
/// default stream); nothing is created.
extern "C" void *mgpuStreamCreate(void) { return tvc_cuda_get_stream(); }

/// Nothing to do: mgpuStreamCreate made no stream, and the one it returned
/// belongs to whoever made it current.
extern "C" void mgpuStreamDestroy(void *stream) { (void)stream; }

extern "C" void mgpuStreamSynchronize(void *stream) {
  failed(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)),
         "mgpuStreamSynchronize", "cudaStreamSynchronize");
}

extern "C" void mgpuStreamWaitEvent(void *stream, void *event) {
  failed(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream),
                             static_cast<cudaEvent_t>(event), 0),
         "mgpuStreamWaitEvent", "cudaStreamWaitEvent");
}

extern "C" void *mgpuEventCreate(void) {
  cudaEvent_t event = nullptr;
  if (failed(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
             "mgpuEventCreate", "cudaEventCreateWithFlags"))
    return nullptr;
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  if (!event)
    return;
  failed(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "mgpuEventDestroy",
         "cudaEventDestroy");
}

extern "C" void mgpuEventSynchronize(void *event) {
  failed(cudaEventSynchronize(static_cast<cudaEvent_t>(event)),
         "mgpuEventSynchronize", "cudaEventSynchronize");
}

extern "C" void mgpuEventRecord(void *event, void *stream) {
  failed(cudaEventRecord(static_cast<cudaEvent_t>(event),
                         static_cast<cudaStream_t>(stream)),
         "mgpuEventRecord", "cudaEventRecord");
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// Device memory from cudaMalloc (synchronous; `stream` is unused). Zero
/// bytes give a null pointer without error.
extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                              bool isHostShared) {
  (void)stream;
  if (isHostShared) {
    // `gpu.alloc host_shared` asks for memory the host dereferences, which
    // would need managed memory. tvc's pipelines never emit it; returning
    // null instead would let host stores at null + offset land in mapped
    // memory and corrupt it, so this stops the process.
    std::fprintf(stderr, "tvc: mgpuMemAlloc: host-shared allocations "
                         "(gpu.alloc host_shared) are not supported by the "
                         "tvc runtime; aborting\n");
    std::abort();
  }
  if (sizeBytes == 0)
    return nullptr;
  void *pointer = nullptr;
  if (failed(cudaMalloc(&pointer, sizeBytes), "mgpuMemAlloc",
             ("cudaMalloc(" + std::to_string(sizeBytes) + " bytes)").c_str()))
    return nullptr;
  return pointer;
}

/// cudaFree waits for the device's queued work first, so memory still read
/// by a queued kernel on `stream` is not released under it.
extern "C" void mgpuMemFree(void *pointer, void *stream) {
  (void)stream;
  if (!pointer)
    return;
  failed(cudaFree(pointer), "mgpuMemFree", "cudaFree");
}

/// Copies `sizeBytes` between any host and device pointers (unified
/// addressing tells the direction), queued on `stream`.
extern "C" void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                           void *stream) {
  if (sizeBytes == 0)
    return;
  failed(cudaMemcpyAsync(dst, src, sizeBytes, cudaMemcpyDefault,
                         static_cast<cudaStream_t>(stream)),
         "mgpuMemcpy", "cudaMemcpyAsync");
}

/// Fills `count` 32-bit words (not bytes) at `dst` with `value`.
extern "C" void mgpuMemset32(void *dst, unsigned int value, size_t count,
                             void *stream) {
  if (count == 0 || !ensureDriver("mgpuMemset32"))
    return;
  failed(driver().memsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, static_cast<CUstream>(stream)),
         "mgpuMemset32", "cuMemsetD32Async");
}

/// Fills `count` 16-bit words (not bytes) at `dst` with `value`.
extern "C" void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             void *stream) {
  if (count == 0 || !ensureDriver("mgpuMemset16"))
    return;
  failed(driver().memsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, static_cast<CUstream>(stream)),
         "mgpuMemset16", "cuMemsetD16Async");
}

/// Page-locks host memory so copies from and to it run asynchronously.
extern "C" void mgpuMemHostRegister(void *pointer, uint64_t sizeBytes) {
  if (!pointer || sizeBytes == 0)
    return;
  failed(cudaHostRegister(pointer, sizeBytes, cudaHostRegisterDefault),
         "mgpuMemHostRegister", "cudaHostRegister");
}

extern "C" void mgpuMemHostUnregister(void *pointer) {
  if (!pointer)
    return;
  failed(cudaHostUnregister(pointer), "mgpuMemHostUnregister",
         "cudaHostUnregister");
}

/// `descriptor` points at a ranked memref descriptor of `rank`; every byte
/// its sizes and strides reach is registered.
extern "C" void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                          int64_t elementSizeBytes) {
  HostRange range = memrefRange(rank, descriptor, elementSizeBytes);
  mgpuMemHostRegister(range.begin, range.bytes);
}

extern "C" void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                            int64_t elementSizeBytes) {
  HostRange range = memrefRange(rank, descriptor, elementSizeBytes);
  if (range.bytes != 0)
    mgpuMemHostUnregister(range.begin);
}

/// Makes `device` the calling thread's device for what follows.
extern "C" void mgpuSetDefaultDevice(int32_t device) {
  failed(cudaSetDevice(device), "mgpuSetDefaultDevice", "cudaSetDevice");
}
