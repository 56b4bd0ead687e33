//===- BenchDevice.h - Device buffers of the CUDA benchmarks ----*- C++ -*-===//
//
// What tvc-cuda-linear-bench and tvc-cuda-structured-bench share: device
// memory freed on destruction, the number of weight copies a timed sample
// rotates over, and their upload. Host code (the runtime's C ABI only).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_BENCHDEVICE_H
#define TVC_RUNTIME_KERNELS_CUDA_BENCHDEVICE_H

#include "runtime/api/tvc_cuda.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tvc::bench {

/// Device memory for the benchmark, freed on destruction.
class DeviceBuffer {
public:
  explicit DeviceBuffer(size_t bytes) {
    if (tvc_cuda_malloc(std::max<size_t>(bytes, 1), &pointer) != TVC_OK)
      pointer = nullptr;
  }
  ~DeviceBuffer() {
    if (pointer)
      tvc_cuda_free(pointer);
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  void *get() const { return pointer; }
  template <typename T> T *as(size_t byteOffset = 0) const {
    return reinterpret_cast<T *>(static_cast<uint8_t *>(pointer) + byteOffset);
  }

private:
  void *pointer = nullptr;
};

/// How many copies of `bytes` of weights rotate over at least 256 MiB (at
/// most 32), so that timed calls read weights from memory, not the L2.
inline size_t copiesFor(size_t bytes) {
  constexpr size_t kRotationBytes = size_t(256) << 20;
  constexpr size_t kMaxCopies = 32;
  return std::min(
      kMaxCopies,
      std::max<size_t>(1, kRotationBytes / std::max<size_t>(bytes, 1)));
}

/// `copies` device copies of `host` back to back; null when allocation or a
/// copy fails.
inline bool upload(const DeviceBuffer &buffer, const std::vector<uint8_t> &host,
                   size_t copies) {
  if (!buffer.get())
    return false;
  for (size_t c = 0; c < copies; ++c)
    if (tvc_cuda_copy_to_device(buffer.as<uint8_t>(c * host.size()),
                                host.data(), host.size()) != TVC_OK)
      return false;
  return true;
}

} // namespace tvc::bench

#endif // TVC_RUNTIME_KERNELS_CUDA_BENCHDEVICE_H
