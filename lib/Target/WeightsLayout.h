//===- WeightsLayout.h - The weights blob of a lowered module ---*- C++ -*-===//
//
// convert-tvc-weights-to-memref records where each weight lives in the one
// blob an entry point reads (`tvc.offset` on each tvc.global,
// `tvc.weights_bytes` on the module). This file reads that layout, packs
// the blob through the weight store, and removes the tvc ops before the
// module is translated to LLVM IR.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_TARGET_WEIGHTSLAYOUT_H
#define TVC_LIB_TARGET_WEIGHTSLAYOUT_H

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/WeightStore.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace mlir::tvc {

struct WeightsLayout {
  struct Entry {
    GlobalOp global;
    uint64_t offset;
    uint64_t bytes;
  };
  uint64_t totalBytes = 0;
  std::vector<Entry> entries;
};

/// Reads the layout recorded on `module`; an error when the module was not
/// laid out or an offset runs past the blob.
llvm::Expected<WeightsLayout> getWeightsLayout(ModuleOp module);

/// A 64-byte aligned, zero-initialised byte buffer.
class AlignedBuffer {
public:
  /// An error when `size` bytes cannot be allocated.
  static llvm::Expected<AlignedBuffer> allocate(uint64_t size);
  char *data() { return storage.get(); }
  uint64_t size() const { return bytes; }

private:
  struct Free {
    void operator()(char *pointer) const;
  };
  AlignedBuffer(char *pointer, uint64_t size) : storage(pointer), bytes(size) {}
  std::unique_ptr<char, Free> storage;
  uint64_t bytes;
};

/// Copies every weight of `layout` to its offset in `blob` (at least
/// `layout.totalBytes` long), reading through `store`.
llvm::Error packWeights(const WeightsLayout &layout, WeightStore &store,
                        char *blob);

/// Erases the tvc.global ops and the layout attributes, leaving a module
/// that only holds upstream dialects.
void eraseWeightsLayout(ModuleOp module);

} // namespace mlir::tvc

#endif // TVC_LIB_TARGET_WEIGHTSLAYOUT_H
