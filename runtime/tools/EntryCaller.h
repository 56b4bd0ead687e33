//===- EntryCaller.h - Call a compiled entry point --------------*- C++ -*-===//
//
// The one place where host code marshals arguments for the entry points of
// a tvc artifact (`tvc_model_<role>(void **args)`, runtime/api/tvc_model.h):
// memref descriptors for the inputs, then the weights blob's and the
// entry's scratch arena (allocated once, by prepare()), and the
// results' descriptors the compiled code fills in. All storage is sized by
// prepare() from the manifest; call() allocates nothing on the host side,
// so a generation loop can call it per token.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_TOOLS_ENTRYCALLER_H
#define TVC_RUNTIME_TOOLS_ENTRYCALLER_H

#include "runtime/tools/Manifest.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace tvc {

using EntryFunction = void (*)(void **);
/// Reads and clears the calling thread's first kernel failure
/// (tvc_runtime_kernel_error, or a library's tvc_model_kernel_error).
using KernelErrorQuery = int32_t (*)(const char **);

/// An input the caller owns: contiguous row-major data of `shape` (as many
/// dims as the manifest's input has).
struct TensorRef {
  void *data = nullptr;
  const int64_t *shape = nullptr;
};

/// A result of the last call, owned by the compiled code's allocation until
/// EntryCaller::release().
struct ResultView {
  const char *data = nullptr;
  int32_t elementType = 0;
  std::vector<int64_t> shape;
  size_t bytes = 0;
  /// Index among the manifest entry's results.
  size_t index = 0;
};

/// Checks that an input of `elementType` and `shape` fits manifest input
/// `index` of `entry` (element type, rank, static dims); the message says
/// what was expected and what came.
bool checkInput(const ManifestEntry &entry, size_t index, int32_t elementType,
                const std::vector<int64_t> &shape, std::string &error);

/// Where an artifact's entry points expect their buffers.
enum class MemorySpace {
  Host,
  /// A CUDA artifact: device memory for everything but rank-0 inputs.
  CudaDevice,
};

/// For a CUDA artifact compiled for `chip` (sm_XX): whether this process
/// sees a device that can run it; if not, `error` says why.
bool checkCudaDevice(const std::string &chip, std::string &error);

/// Device buffers (tvc_cuda_malloc) freed when this goes away.
struct DeviceBuffers {
  std::vector<void *> pointers;
  DeviceBuffers() = default;
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;
  ~DeviceBuffers();
};

/// Pinned host buffers (tvc_cuda_host_alloc) freed on destruction.
struct HostBuffers {
  std::vector<void *> pointers;
  HostBuffers() = default;
  HostBuffers(const HostBuffers &) = delete;
  HostBuffers &operator=(const HostBuffers &) = delete;
  ~HostBuffers();
};

/// Where an artifact's entry points read the weights: for a CUDA artifact
/// (manifest target "cuda") checks for a device that runs it, copies the
/// manifest's weightsBytes of `blob` into device memory owned by `buffers`,
/// points `blob` there and sets `space` to CudaDevice; a CPU artifact is
/// left as it is. With `offloading` (the CUDA offload executor opened the
/// weights: `blob` is device memory already) only the device is checked and
/// `space` set. False, with `error` saying why, when the device, the
/// allocation or the copy fails.
bool placeWeights(const Manifest &manifest, bool offloading, const void *&blob,
                  DeviceBuffers &buffers, MemorySpace &space,
                  std::string &error);

class EntryCaller {
public:
  EntryCaller() = default;
  EntryCaller(const EntryCaller &) = delete;
  EntryCaller &operator=(const EntryCaller &) = delete;
  ~EntryCaller() {
    release();
    freeStorage();
  }

  /// Sizes the argument storage for `entry`. `weights` is the blob of
  /// `weightsBytes` bytes (null when the model has none).
  ///
  /// MemorySpace::CudaDevice (a CUDA artifact): `weights` and the KV-cache
  /// inputs are device memory the caller owns; the other inputs of rank 1
  /// or more are host data that call() copies into device buffers sized
  /// here by their largest shape; rank-0 inputs stay on the host; the arena
  /// is device memory; results are copied back to host buffers, so
  /// results() is host memory in both spaces. A CUDA error ends the
  /// process with a message, as an allocation failure does.
  ///
  /// `kernelErrors` reads the failures of the runtime kernels the entry
  /// point calls: null for the runtime linked into this program (an
  /// executable's model), a library's tvc_model_kernel_error for a loaded
  /// library (its runtime is its own).
  void prepare(EntryFunction function, const ManifestEntry &entry,
               const void *weights, uint64_t weightsBytes,
               MemorySpace space = MemorySpace::Host,
               KernelErrorQuery kernelErrors = nullptr);

  /// Calls the entry point on `inputs` (one per manifest input, in order),
  /// after releasing the previous call's results. Results that update an
  /// input (KV caches) and came back as a copy are copied into that input;
  /// the other results are in results() until the next call or release().
  /// Returns false, with `error` the first failure, when a runtime kernel
  /// failed during the call: the results are then garbage (still released
  /// as usual) and the caches may be half-updated.
  [[nodiscard]] bool call(const TensorRef *inputs, std::string &error);

  const std::vector<ResultView> &results() const { return views; }

  /// Frees the buffers the compiled code allocated for its results.
  void release();

private:
  EntryFunction function = nullptr;
  KernelErrorQuery kernelErrors = nullptr;
  const ManifestEntry *entry = nullptr;
  const void *weights = nullptr;
  /// Input descriptors back to back, then the weights' (when taken).
  std::vector<int64_t> argumentWords;
  std::vector<size_t> inputOffsets;
  /// The returned results' descriptors, as the compiled code writes them.
  std::vector<int64_t> resultWords;
  std::vector<size_t> returned;
  std::vector<void *> arguments;
  std::vector<void *> inputData;
  std::vector<ResultView> views;
  std::vector<void *> owned;
  MemorySpace space = MemorySpace::Host;
  /// The scratch arena of the entry's memory plan (none when 0 bytes), in
  /// `space`.
  void *arena = nullptr;
  /// CudaDevice: per input, its device copy (null for caches and rank-0
  /// inputs) and that buffer's size; per returned result, its host copy.
  std::vector<void *> staging;
  std::vector<size_t> stagingBytes;
  std::vector<std::vector<char>> hostResults;

  void freeBuffer(void *pointer) const;
  void freeStorage();
};

} // namespace tvc

#endif // TVC_RUNTIME_TOOLS_ENTRYCALLER_H
