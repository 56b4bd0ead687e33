//===- SafeTensorsFuzzer.cpp - libFuzzer target for the safetensors reader ===//
//
// Feeds arbitrary bytes to SafeTensorsFile::fromBuffer. Parsing must either
// fail with an llvm::Error or succeed with tensors whose every byte can be
// read; the target touches all of them so that AddressSanitizer sees any
// range that escapes the buffer. It also checks a few invariants that the
// reader promises (sorted, in-range, correctly sized, found by lookup).
//
//===----------------------------------------------------------------------===//

#include "lib/Support/SafeTensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace mlir::tvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The reader owns its buffer, so hand it a heap copy of the input.
  std::unique_ptr<llvm::MemoryBuffer> buffer =
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.safetensors");
  llvm::Expected<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::fromBuffer(std::move(buffer));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }

  volatile unsigned sum = 0;
  uint64_t previousBegin = 0;
  for (const TensorInfo &info : (*file)->getTensors()) {
    llvm::ArrayRef<char> bytes = (*file)->getData(info);
    for (char byte : bytes)
      sum += static_cast<unsigned char>(byte);
    // Invariants of a successfully opened file; a violation is a bug.
    int64_t numElements = info.getNumElements();
    if (numElements < 0 || info.begin < previousBegin ||
        bytes.size() != info.end - info.begin ||
        bytes.size() != uint64_t(numElements) * getDTypeSize(info.dtype) ||
        (*file)->lookup(info.name) != &info)
      std::abort();
    previousBegin = info.begin;
  }
  for (const auto &[key, value] : (*file)->getMetadata())
    sum += key.size() + value.size();
  (void)sum;
  return 0;
}
