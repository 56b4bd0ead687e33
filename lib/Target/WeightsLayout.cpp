//===- WeightsLayout.cpp - The weights blob of a lowered module -----------===//
//
// Reading the recorded layout, packing the blob, and clearing the layout.
//
//===----------------------------------------------------------------------===//

#include "lib/Target/WeightsLayout.h"

#include <cstdlib>
#include <cstring>
#include <algorithm>

using namespace mlir;
using namespace mlir::tvc;

llvm::Expected<WeightsLayout> mlir::tvc::getWeightsLayout(ModuleOp module) {
  WeightsLayout layout;
  auto total = module->getAttrOfType<IntegerAttr>("tvc.weights_bytes");
  if (!total)
    return llvm::createStringError(
        "the module has no weights layout (run "
        "convert-tvc-weights-to-memref)");
  layout.totalBytes = total.getValue().getZExtValue();
  for (GlobalOp global : module.getOps<GlobalOp>()) {
    auto offset = global->getAttrOfType<IntegerAttr>("tvc.offset");
    if (!offset)
      continue;
    uint64_t bytes = global.getByteSize();
    uint64_t start = offset.getValue().getZExtValue();
    if (start > layout.totalBytes || bytes > layout.totalBytes - start)
      return llvm::createStringError(
          llvm::Twine("weight @") + global.getSymName() +
          " runs past the end of the weights blob");
    layout.entries.push_back({global, start, bytes});
  }
  return layout;
}

llvm::Expected<AlignedBuffer> AlignedBuffer::allocate(uint64_t size) {
  // aligned_alloc needs a size that is a multiple of the alignment.
  uint64_t rounded = std::max<uint64_t>(64, (size + 63) / 64 * 64);
  auto *pointer = static_cast<char *>(std::aligned_alloc(64, rounded));
  if (!pointer)
    return llvm::createStringError("cannot allocate " + llvm::Twine(size) +
                                   " bytes for the weights");
  std::memset(pointer, 0, rounded);
  return AlignedBuffer(pointer, size);
}

void AlignedBuffer::Free::operator()(char *pointer) const { std::free(pointer); }

llvm::Error mlir::tvc::packWeights(const WeightsLayout &layout,
                                   WeightStore &store, char *blob) {
  for (const WeightsLayout::Entry &entry : layout.entries) {
    llvm::Expected<WeightView> view = store.read(entry.global);
    if (!view)
      return view.takeError();
    std::memcpy(blob + entry.offset, view->bytes.data(), view->bytes.size());
  }
  return llvm::Error::success();
}

void mlir::tvc::eraseWeightsLayout(ModuleOp module) {
  for (GlobalOp global : llvm::make_early_inc_range(module.getOps<GlobalOp>()))
    global.erase();
  module->removeAttr("tvc.weights_bytes");
  module->removeAttr("tvc.offload");
}
