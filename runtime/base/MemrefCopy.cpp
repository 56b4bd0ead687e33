//===- MemrefCopy.cpp - The memref.copy hook of MLIR's LLVM lowering ------===//
//
// finalize-memref-to-llvm lowers a memref.copy whose layouts it cannot prove
// contiguous (a KV-cache row slice with a dynamic offset, say) to a call of
// `memrefCopy(element_size, src, dst)` with unranked descriptors. Upstream
// defines it in libmlir_c_runner_utils, which compiled tvc code must not
// depend on; this is tvc's definition of the same C ABI. The innermost
// dimension is copied with memcpy when both sides are unit-stride there.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

namespace {

/// MLIR's unranked memref: a rank and a pointer to a ranked descriptor
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct UnrankedMemref {
  int64_t rank;
  void *descriptor;
};

struct DescriptorView {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;

  explicit DescriptorView(const UnrankedMemref &memref) {
    auto *words = static_cast<int64_t *>(memref.descriptor);
    aligned = reinterpret_cast<char *>(words[1]);
    offset = words[2];
    sizes = words + 3;
    strides = words + 3 + memref.rank;
  }
};

void copyDim(int64_t rank, int64_t dim, int64_t elementSize,
             const DescriptorView &src, const DescriptorView &dst,
             int64_t srcIndex, int64_t dstIndex) {
  int64_t size = src.sizes[dim];
  if (dim == rank - 1 && src.strides[dim] == 1 && dst.strides[dim] == 1) {
    std::memcpy(dst.aligned + dstIndex * elementSize,
                src.aligned + srcIndex * elementSize, size * elementSize);
    return;
  }
  for (int64_t i = 0; i < size; ++i) {
    int64_t s = srcIndex + i * src.strides[dim];
    int64_t d = dstIndex + i * dst.strides[dim];
    if (dim == rank - 1)
      std::memcpy(dst.aligned + d * elementSize, src.aligned + s * elementSize,
                  elementSize);
    else
      copyDim(rank, dim + 1, elementSize, src, dst, s, d);
  }
}

} // namespace

extern "C" void memrefCopy(int64_t elementSize, UnrankedMemref *src,
                           UnrankedMemref *dst) {
  DescriptorView from(*src), to(*dst);
  if (src->rank == 0) {
    std::memcpy(to.aligned + to.offset * elementSize,
                from.aligned + from.offset * elementSize, elementSize);
    return;
  }
  for (int64_t dim = 0; dim < src->rank; ++dim)
    if (from.sizes[dim] == 0)
      return;
  copyDim(src->rank, 0, elementSize, from, to, from.offset, to.offset);
}
