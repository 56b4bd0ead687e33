//===- EntryCaller.cpp - Call a compiled entry point ----------------------===//
//
// Argument marshalling for artifact entry points; see EntryCaller.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/EntryCaller.h"

#include "lib/Support/HostTensor.h"
#include "runtime/api/tvc_runtime.h"
#include "runtime/base/MemrefDescriptor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace tvc;

static std::string dimsText(const std::vector<int64_t> &dims) {
  std::string text;
  for (int64_t dim : dims)
    text += (text.empty() ? "" : "x") + (dim < 0 ? "?" : std::to_string(dim));
  return text;
}

bool tvc::checkInput(const ManifestEntry &entry, size_t index,
                     int32_t elementType, const std::vector<int64_t> &shape,
                     std::string &error) {
  const ManifestTensor &expected = entry.inputs[index];
  bool matches = elementType == expected.elementType &&
                 shape.size() == expected.dims.size();
  for (size_t dim = 0; matches && dim < shape.size(); ++dim)
    matches = expected.dims[dim] < 0 || expected.dims[dim] == shape[dim];
  if (!matches) {
    error = "input #" + std::to_string(index) + " ('" + expected.name +
            "') must be " +
            mlir::tvc::getElementTypeName(expected.elementType) + " [" +
            dimsText(expected.dims) + "], got " +
            mlir::tvc::getElementTypeName(elementType) + " [" +
            dimsText(shape) + "]";
    return false;
  }
  // The memory plan sized the temporaries for the largest shape.
  for (size_t dim = 0; dim < expected.maxDims.size() && dim < shape.size();
       ++dim)
    if (shape[dim] > expected.maxDims[dim]) {
      error = "input #" + std::to_string(index) + " ('" + expected.name +
              "') has shape [" + dimsText(shape) +
              "], above the compiled bound [" + dimsText(expected.maxDims) +
              "] (the KV cache capacity, or a prefill's "
              "--max-prefill-tokens; recompile with a larger one)";
      return false;
    }
  return true;
}

/// Ends the process on a failed CUDA call of the device path (like a failed
/// host allocation: the generation loop has no way to continue).
static void checkCuda(tvc_status_t status, const char *what,
                      const std::string &function) {
  if (status == TVC_OK)
    return;
  std::fprintf(stderr, "error: CUDA: %s for %s failed: %s\n", what,
               function.c_str(), tvc_status_string(status));
  std::exit(1);
}

static size_t byteCount(const ManifestTensor &tensor,
                        const std::vector<int64_t> &dims) {
  size_t count = mlir::tvc::getElementSize(tensor.elementType);
  for (int64_t dim : dims)
    count *= static_cast<size_t>(dim < 0 ? 0 : dim);
  return count;
}

/// The kernel failures of the runtime linked into this program.
static int32_t linkedKernelErrors(const char **out_message) {
  return tvc_runtime_kernel_error(out_message);
}

void EntryCaller::freeBuffer(void *pointer) const {
  if (space == MemorySpace::CudaDevice)
    tvc_cuda_free(pointer);
  else
    std::free(pointer);
}

void EntryCaller::freeStorage() {
  if (arena)
    freeBuffer(arena);
  arena = nullptr;
  for (void *buffer : staging)
    if (buffer)
      tvc_cuda_free(buffer);
  staging.clear();
  stagingBytes.clear();
}

void EntryCaller::prepare(EntryFunction function, const ManifestEntry &entry,
                          const void *weights, uint64_t weightsBytes,
                          MemorySpace space, KernelErrorQuery kernelErrors) {
  release();
  freeStorage();
  this->space = space;
  this->function = function;
  this->kernelErrors = kernelErrors ? kernelErrors : linkedKernelErrors;
  this->entry = &entry;
  this->weights = weights;
  size_t words = 0;
  inputOffsets.clear();
  for (const ManifestTensor &input : entry.inputs) {
    inputOffsets.push_back(words);
    words += 3 + 2 * input.dims.size();
  }
  size_t weightsWords = words;
  size_t arenaWords = words + (entry.takesWeights ? 5 : 0);
  argumentWords.assign(arenaWords + (entry.arenaBytes ? 5 : 0), 0);
  if (entry.takesWeights) {
    int64_t size = static_cast<int64_t>(weightsBytes);
    writeMemrefDescriptor(argumentWords.data() + weightsWords, weights, &size,
                          1);
  }
  // The entry's scratch arena, allocated once here and reused by every
  // call: the compiled code allocates only what it returns.
  if (entry.arenaBytes) {
    size_t bytes = (entry.arenaBytes + 63) / 64 * 64;
    if (space == MemorySpace::CudaDevice)
      checkCuda(tvc_cuda_malloc(bytes, &arena), "allocating the arena",
                entry.function);
    else
      arena = std::aligned_alloc(64, bytes);
    if (!arena) {
      std::fprintf(stderr, "error: cannot allocate the %zu-byte arena of %s\n",
                   bytes, entry.function.c_str());
      std::exit(1);
    }
    int64_t size = static_cast<int64_t>(bytes);
    writeMemrefDescriptor(argumentWords.data() + arenaWords, arena,
                          &size, 1);
  }

  // Results updated in place were dropped from the compiled function.
  returned.clear();
  size_t resultCount = 0;
  for (size_t index = 0; index < entry.results.size(); ++index)
    if (!entry.inPlaceDropped || entry.results[index].updatesInput < 0) {
      returned.push_back(index);
      resultCount += 3 + 2 * entry.results[index].dims.size();
    }
  resultWords.assign(resultCount, 0);

  // args[0]: the results; then one descriptor per input; then the weights
  // and the arena.
  arguments.assign(1 + entry.inputs.size(), nullptr);
  arguments[0] = resultWords.data();
  for (size_t index = 0; index < entry.inputs.size(); ++index)
    arguments[1 + index] = argumentWords.data() + inputOffsets[index];
  if (entry.takesWeights)
    arguments.push_back(argumentWords.data() + weightsWords);
  if (entry.arenaBytes)
    arguments.push_back(argumentWords.data() + arenaWords);

  inputData.assign(entry.inputs.size(), nullptr);
  views.clear();
  for (size_t index : returned)
    if (entry.results[index].updatesInput < 0) {
      ResultView view;
      view.index = index;
      view.elementType = entry.results[index].elementType;
      view.shape.assign(entry.results[index].dims.size(), 0);
      views.push_back(std::move(view));
    }
  owned.reserve(returned.size());

  // Device copies of the host inputs, sized for their largest shape (the
  // KV caches are the caller's device buffers; rank-0 inputs are host
  // scalars by the CUDA target's convention).
  hostResults.assign(returned.size(), {});
  if (space == MemorySpace::CudaDevice)
    for (const ManifestTensor &input : entry.inputs) {
      staging.push_back(nullptr);
      stagingBytes.push_back(0);
      if (input.isCache || input.dims.empty())
        continue;
      size_t bytes = byteCount(input, input.maxDims.empty() ? input.dims
                                                            : input.maxDims);
      if (bytes == 0)
        continue; // Unbounded: sized by the first call.
      checkCuda(tvc_cuda_malloc(bytes, &staging.back()),
                "allocating an input buffer", entry.function);
      stagingBytes.back() = bytes;
    }
}

bool EntryCaller::call(const TensorRef *inputs, std::string &error) {
  release();
  // A failure left over from an earlier caller on this thread is not ours.
  kernelErrors(nullptr);
  for (size_t index = 0; index < entry->inputs.size(); ++index) {
    const ManifestTensor &input = entry->inputs[index];
    void *data = inputs[index].data;
    if (space == MemorySpace::CudaDevice && !input.isCache &&
        !input.dims.empty()) {
      size_t bytes = byteCount(
          input, std::vector<int64_t>(inputs[index].shape,
                                      inputs[index].shape + input.dims.size()));
      if (bytes > stagingBytes[index]) {
        if (staging[index])
          tvc_cuda_free(staging[index]);
        staging[index] = nullptr;
        checkCuda(tvc_cuda_malloc(bytes, &staging[index]),
                  "allocating an input buffer", entry->function);
        stagingBytes[index] = bytes;
      }
      checkCuda(tvc_cuda_copy_to_device(staging[index], data, bytes),
                "copying an input to the device", entry->function);
      data = staging[index];
    }
    writeMemrefDescriptor(argumentWords.data() + inputOffsets[index], data,
                          inputs[index].shape, input.dims.size());
    inputData[index] = data;
  }
  function(arguments.data());
  const char *message = nullptr;
  bool kernelsOk = kernelErrors(&message) == TVC_OK;
  if (!kernelsOk)
    error = std::string(message ? message : "a runtime kernel failed") +
            " in " + entry->function;

  size_t word = 0, viewIndex = 0;
  for (size_t index : returned) {
    const ManifestTensor &result = entry->results[index];
    size_t rank = result.dims.size();
    auto *allocated = reinterpret_cast<char *>(resultWords[word]);
    auto *aligned = reinterpret_cast<char *>(resultWords[word + 1]);
    int64_t offset = resultWords[word + 2];
    size_t elementSize = mlir::tvc::getElementSize(result.elementType);
    size_t count = 1;
    for (size_t dim = 0; dim < rank; ++dim)
      count *= static_cast<size_t>(resultWords[word + 3 + dim]);
    // Results are contiguous (identity layouts at function boundaries).
    const char *data = aligned + offset * elementSize;
    if (result.updatesInput >= 0) {
      void *target = inputData[result.updatesInput];
      // An input without a buffer (a KV cache held by the offload
      // executor) cannot take a returned copy.
      if (!target && target != data) {
        error = "result #" + std::to_string(index) + " of " + entry->function +
                " updates input #" + std::to_string(result.updatesInput) +
                ", which has no buffer";
        kernelsOk = false;
      } else if (target != data && space == MemorySpace::CudaDevice)
        checkCuda(tvc_cuda_copy_on_device(target, data, count * elementSize),
                  "updating a KV cache", entry->function);
      else if (target != data)
        std::memcpy(target, data, count * elementSize);
    } else {
      ResultView &view = views[viewIndex];
      if (space == MemorySpace::CudaDevice) {
        std::vector<char> &copy = hostResults[viewIndex];
        copy.resize(count * elementSize);
        checkCuda(tvc_cuda_copy_to_host(copy.data(), data, copy.size()),
                  "copying a result to the host", entry->function);
        data = copy.data();
      }
      ++viewIndex;
      view.data = data;
      view.bytes = count * elementSize;
      for (size_t dim = 0; dim < rank; ++dim)
        view.shape[dim] = resultWords[word + 3 + dim];
    }
    // Buffers that alias an input, the weights or the arena (results the
    // memory plan placed there) are not the result's own.
    bool borrowed = allocated == weights || (arena && allocated == arena);
    for (void *input : inputData)
      borrowed |= allocated == input;
    for (void *other : owned)
      borrowed |= allocated == other;
    if (!borrowed)
      owned.push_back(allocated);
    word += 3 + 2 * rank;
  }
  return kernelsOk;
}

void EntryCaller::release() {
  for (void *buffer : owned)
    freeBuffer(buffer);
  owned.clear();
}

bool tvc::checkCudaDevice(const std::string &chip, std::string &error) {
  tvc_cuda_device_info_t info{};
  const char *message = nullptr;
  tvc_status_t status = tvc_cuda_device_query(0, &info, &message);
  if (status != TVC_OK) {
    error = "this model was compiled for CUDA (" + chip +
            ") and needs an NVIDIA GPU: " + (message ? message : "unavailable");
    return false;
  }
  int wanted = std::atoi(chip.c_str() + (chip.rfind("sm_", 0) == 0 ? 3 : 0));
  int have = info.sm_major * 10 + info.sm_minor;
  if (have < wanted) {
    error = "this model was compiled for " + chip + " but GPU 0 (" +
            std::string(info.name) + ") is sm_" + std::to_string(have) +
            "; recompile with --sm=" + std::to_string(have);
    return false;
  }
  return true;
}

tvc::DeviceBuffers::~DeviceBuffers() {
  for (void *pointer : pointers)
    tvc_cuda_free(pointer);
}

tvc::HostBuffers::~HostBuffers() {
  for (void *pointer : pointers)
    tvc_cuda_host_free(pointer);
}

bool tvc::placeWeights(const Manifest &manifest, bool offloading,
                       const void *&blob, DeviceBuffers &buffers,
                       MemorySpace &space, std::string &error) {
  if (manifest.target != "cuda")
    return true;
  if (!checkCudaDevice(manifest.cudaChip, error))
    return false;
  space = MemorySpace::CudaDevice;
  // The CUDA offload executor's blob is device memory already.
  if (offloading)
    return true;
  if (manifest.weightsBytes == 0)
    return true;
  void *device = nullptr;
  if (tvc_cuda_malloc(manifest.weightsBytes, &device) != TVC_OK) {
    error = "cannot allocate " + std::to_string(manifest.weightsBytes) +
            " bytes of device memory for the weights";
    return false;
  }
  buffers.pointers.push_back(device);
  if (tvc_cuda_copy_to_device(device, blob, manifest.weightsBytes) !=
      TVC_OK) {
    error = "cannot copy the weights to the device";
    return false;
  }
  blob = device;
  return true;
}
