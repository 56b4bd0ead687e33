//===- MemrefDescriptor.h - MLIR memref descriptors for callers -*- C++ -*-===//
//
// Compiled tvc entry points take their tensors as MLIR memref descriptors:
// {allocated, aligned, offset, sizes[rank], strides[rank]}, every field 8
// bytes. Host code that calls them (the emitted executables' main, the JIT)
// builds contiguous ones with this helper.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_BASE_MEMREFDESCRIPTOR_H
#define TVC_RUNTIME_BASE_MEMREFDESCRIPTOR_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tvc {

/// Writes the descriptor of a contiguous row-major buffer `data` of `shape`
/// into `words` (3 + 2 * rank of them); allocates nothing.
inline void writeMemrefDescriptor(int64_t *words, const void *data,
                                  const int64_t *shape, size_t rank) {
  words[0] = words[1] = reinterpret_cast<int64_t>(data);
  words[2] = 0;
  int64_t stride = 1;
  for (size_t dim = rank; dim-- > 0;) {
    words[3 + dim] = shape[dim];
    words[3 + rank + dim] = stride;
    stride *= shape[dim];
  }
}

/// The descriptor of a contiguous row-major buffer `data` of `shape`.
inline std::vector<int64_t>
makeMemrefDescriptor(const void *data, const int64_t *shape, size_t rank) {
  std::vector<int64_t> words(3 + 2 * rank);
  writeMemrefDescriptor(words.data(), data, shape, rank);
  return words;
}

} // namespace tvc

#endif // TVC_RUNTIME_BASE_MEMREFDESCRIPTOR_H
