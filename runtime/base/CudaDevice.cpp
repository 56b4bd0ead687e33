//===- CudaDevice.cpp - CUDA device queries and memory helpers ------------===//
//
// Goes through the statically linked CUDA runtime, which loads the driver
// (libcuda.so.1) on first use: a process using these functions starts on a
// machine without a driver or GPU, and the calls report TVC_UNAVAILABLE.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_runtime.h"

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstring>

/// Maps a CUDA runtime error to a status code.
static tvc_status_t toStatus(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return TVC_OK;
  case cudaErrorMemoryAllocation:
    return TVC_OUT_OF_MEMORY;
  case cudaErrorInvalidValue:
  case cudaErrorInvalidDevice:
  case cudaErrorInvalidDevicePointer:
    return TVC_INVALID_ARGUMENT;
  case cudaErrorNoDevice:
  case cudaErrorInsufficientDriver:
  case cudaErrorInitializationError:
    return TVC_UNAVAILABLE;
  default:
    return TVC_INTERNAL;
  }
}

extern "C" tvc_status_t tvc_cuda_device_query(int device,
                                              tvc_cuda_device_info_t *out_info,
                                              const char **out_message) {
  if (!out_info)
    return TVC_INVALID_ARGUMENT;
  std::memset(out_info, 0, sizeof(*out_info));
  cudaRuntimeGetVersion(&out_info->runtime_version);
  cudaDriverGetVersion(&out_info->driver_version);
  if (out_info->driver_version == 0) {
    if (out_message)
      *out_message = "no CUDA driver is installed (libcuda.so.1 not found)";
    return TVC_UNAVAILABLE;
  }
  cudaError_t error = cudaGetDeviceCount(&out_info->device_count);
  if (error != cudaSuccess || out_info->device_count == 0) {
    out_info->device_count = 0;
    if (out_message)
      *out_message = "no CUDA device is visible to this process";
    return TVC_UNAVAILABLE;
  }
  if (device < 0 || device >= out_info->device_count) {
    if (out_message)
      *out_message = "device index out of range";
    return TVC_INVALID_ARGUMENT;
  }
  cudaDeviceProp properties;
  error = cudaGetDeviceProperties(&properties, device);
  if (error != cudaSuccess) {
    if (out_message)
      *out_message = cudaGetErrorString(error);
    return toStatus(error);
  }
  out_info->sm_major = properties.major;
  out_info->sm_minor = properties.minor;
  out_info->total_memory = properties.totalGlobalMem;
  std::strncpy(out_info->name, properties.name, sizeof(out_info->name) - 1);
  if (out_message)
    *out_message = "ok";
  return TVC_OK;
}

extern "C" tvc_status_t tvc_cuda_malloc(size_t bytes, void **out_pointer) {
  if (!out_pointer)
    return TVC_INVALID_ARGUMENT;
  *out_pointer = nullptr;
  return toStatus(cudaMalloc(out_pointer, bytes));
}

extern "C" tvc_status_t tvc_cuda_free(void *pointer) {
  return toStatus(cudaFree(pointer));
}

namespace {
/// Per device index, whether it has unified addressing: 0 unknown, 1 yes,
/// 2 no. Devices past the table are queried on every allocation.
constexpr int kCachedDevices = 64;
std::atomic<unsigned char> unifiedAddressing[kCachedDevices];

/// Whether the current device gives mapped host memory the same address on
/// the host and the device; TVC_UNAVAILABLE without a usable device.
tvc_status_t checkUnifiedAddressing() {
  int device = -1;
  // Any failure here means there is no device to map memory into.
  if (cudaGetDevice(&device) != cudaSuccess || device < 0)
    return TVC_UNAVAILABLE;
  unsigned char known = device < kCachedDevices
                            ? unifiedAddressing[device].load()
                            : static_cast<unsigned char>(0);
  if (known == 0) {
    int unified = 0;
    if (cudaDeviceGetAttribute(&unified, cudaDevAttrUnifiedAddressing,
                               device) != cudaSuccess)
      return TVC_UNAVAILABLE;
    known = unified ? 1 : 2;
    if (device < kCachedDevices)
      unifiedAddressing[device].store(known);
  }
  return known == 1 ? TVC_OK : TVC_UNAVAILABLE;
}
} // namespace

extern "C" tvc_status_t tvc_cuda_host_alloc(size_t bytes, void **out_pointer) {
  if (!out_pointer)
    return TVC_INVALID_ARGUMENT;
  *out_pointer = nullptr;
  if (bytes == 0)
    return TVC_OK;
  tvc_status_t status = checkUnifiedAddressing();
  if (status != TVC_OK)
    return status;
  void *pointer = nullptr;
  status = toStatus(cudaHostAlloc(&pointer, bytes,
                                  cudaHostAllocMapped | cudaHostAllocPortable));
  if (status != TVC_OK)
    return status;
  std::memset(pointer, 0, bytes);
  *out_pointer = pointer;
  return TVC_OK;
}

extern "C" tvc_status_t tvc_cuda_host_free(void *pointer) {
  if (!pointer)
    return TVC_OK;
  return toStatus(cudaFreeHost(pointer));
}

extern "C" tvc_status_t tvc_cuda_copy_to_device(void *device_dst,
                                                const void *host_src,
                                                size_t bytes) {
  return toStatus(
      cudaMemcpy(device_dst, host_src, bytes, cudaMemcpyHostToDevice));
}

extern "C" tvc_status_t tvc_cuda_copy_to_host(void *host_dst,
                                              const void *device_src,
                                              size_t bytes) {
  return toStatus(
      cudaMemcpy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost));
}

extern "C" tvc_status_t tvc_cuda_copy_on_device(void *device_dst,
                                                const void *device_src,
                                                size_t bytes) {
  return toStatus(
      cudaMemcpy(device_dst, device_src, bytes, cudaMemcpyDeviceToDevice));
}

extern "C" tvc_status_t tvc_cuda_memset(void *device_dst, int value,
                                        size_t bytes) {
  return toStatus(cudaMemset(device_dst, value, bytes));
}

//===----------------------------------------------------------------------===//
// Streams (tvc_cuda.h)
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"

namespace {
/// The calling thread's current stream; null is the legacy default stream.
thread_local cudaStream_t currentStream = nullptr;
} // namespace

extern "C" void *tvc_cuda_get_stream(void) { return currentStream; }

extern "C" tvc_status_t tvc_cuda_set_stream(void *stream) {
  currentStream = static_cast<cudaStream_t>(stream);
  return TVC_OK;
}

extern "C" tvc_status_t tvc_cuda_stream_create(void **out_stream) {
  if (!out_stream)
    return TVC_INVALID_ARGUMENT;
  *out_stream = nullptr;
  cudaStream_t stream = nullptr;
  tvc_status_t status =
      toStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  if (status == TVC_OK)
    *out_stream = stream;
  return status;
}

extern "C" tvc_status_t tvc_cuda_stream_destroy(void *stream) {
  if (!stream)
    return TVC_INVALID_ARGUMENT;
  if (currentStream == stream)
    currentStream = nullptr;
  return toStatus(cudaStreamDestroy(static_cast<cudaStream_t>(stream)));
}

extern "C" tvc_status_t tvc_cuda_stream_synchronize(void) {
  return toStatus(cudaStreamSynchronize(currentStream));
}
