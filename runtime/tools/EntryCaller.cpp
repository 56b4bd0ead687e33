//===- EntryCaller.cpp - Call a compiled entry point ----------------------===//
//
// Argument marshalling for artifact entry points; see EntryCaller.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/EntryCaller.h"

#include "lib/Support/HostTensor.h"
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
              "] (the KV cache capacity; recompile with a larger "
              "--max-seq-len)";
      return false;
    }
  return true;
}

void EntryCaller::prepare(EntryFunction function, const ManifestEntry &entry,
                          const void *weights, uint64_t weightsBytes) {
  release();
  this->function = function;
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
  arena.reset();
  if (entry.arenaBytes) {
    size_t bytes = (entry.arenaBytes + 63) / 64 * 64;
    arena.reset(static_cast<char *>(std::aligned_alloc(64, bytes)));
    if (!arena) {
      std::fprintf(stderr, "error: cannot allocate the %zu-byte arena of %s\n",
                   bytes, entry.function.c_str());
      std::exit(1);
    }
    int64_t size = static_cast<int64_t>(bytes);
    writeMemrefDescriptor(argumentWords.data() + arenaWords, arena.get(),
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
}

void EntryCaller::call(const TensorRef *inputs) {
  release();
  for (size_t index = 0; index < entry->inputs.size(); ++index) {
    writeMemrefDescriptor(argumentWords.data() + inputOffsets[index],
                          inputs[index].data, inputs[index].shape,
                          entry->inputs[index].dims.size());
    inputData[index] = inputs[index].data;
  }
  function(arguments.data());

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
      if (target != data)
        std::memcpy(target, data, count * elementSize);
    } else {
      ResultView &view = views[viewIndex++];
      view.data = data;
      view.bytes = count * elementSize;
      for (size_t dim = 0; dim < rank; ++dim)
        view.shape[dim] = resultWords[word + 3 + dim];
    }
    // Buffers that alias an input, the weights or the arena (results the
    // memory plan placed there) are not the result's own.
    bool borrowed = allocated == weights || (arena && allocated == arena.get());
    for (void *input : inputData)
      borrowed |= allocated == input;
    for (void *other : owned)
      borrowed |= allocated == other;
    if (!borrowed)
      owned.push_back(allocated);
    word += 3 + 2 * rank;
  }
}

void EntryCaller::release() {
  for (void *buffer : owned)
    std::free(buffer);
  owned.clear();
}
