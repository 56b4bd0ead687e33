//===- SafeTensors.h - Reading and writing safetensors files ----*- C++ -*-===//
//
// A bounds-checked reader and an atomic writer for the safetensors format
// (an 8-byte little-endian header length, a JSON header naming every tensor's
// dtype, shape and byte range, then the raw bytes). The reader never trusts
// the file: every length, offset and shape is checked against the real file
// size before a byte is touched, and problems come back as llvm::Error with
// the file name and what was wrong. Nothing here depends on MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_SAFETENSORS_H
#define TVC_LIB_SUPPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tvc {

/// Element types of the safetensors format (names as in the header).
enum class DType : uint8_t {
  Bool,
  U8,
  I8,
  I16,
  U16,
  I32,
  U32,
  I64,
  U64,
  F16,
  BF16,
  F32,
  F64,
  F8E4M3,
  F8E5M2,
};

/// Returns the header spelling of `dtype` ("F32", "BF16", ...).
llvm::StringRef getDTypeName(DType dtype);
/// Parses a header spelling; std::nullopt when unknown.
std::optional<DType> parseDTypeName(llvm::StringRef name);
/// Size of one element in bytes.
unsigned getDTypeSize(DType dtype);

/// One tensor of a safetensors file: where its bytes are and how to read them.
struct TensorInfo {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Byte range relative to the start of the data section.
  uint64_t begin = 0;
  uint64_t end = 0;

  /// Number of elements (product of the shape; 1 for a scalar).
  int64_t getNumElements() const;
};

/// A safetensors file opened for reading. The data section is memory-mapped
/// (or held in the buffer given to fromBuffer) and stays valid as long as the
/// object lives.
class SafeTensorsFile {
public:
  /// Opens and validates `path`. Errors name the file and the problem.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  open(llvm::StringRef path);

  /// Validates a file already in memory; `buffer`'s identifier is used as the
  /// file name in errors.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// Tensors in the order of their data offsets.
  llvm::ArrayRef<TensorInfo> getTensors() const { return tensors; }

  /// The tensor called `name`, or nullptr.
  const TensorInfo *lookup(llvm::StringRef name) const;

  /// The raw little-endian bytes of `info` (which must come from this file).
  llvm::ArrayRef<char> getData(const TensorInfo &info) const;

  /// The optional "__metadata__" string map of the header.
  const std::map<std::string, std::string> &getMetadata() const {
    return metadata;
  }

  llvm::StringRef getPath() const { return path; }

private:
  SafeTensorsFile() = default;

  std::string path;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  /// Offset of the data section within `buffer`.
  uint64_t dataStart = 0;
  std::vector<TensorInfo> tensors;
  llvm::StringMap<size_t> index;
  std::map<std::string, std::string> metadata;
};

/// A tensor to write: its bytes must hold exactly shape-product elements.
struct TensorToWrite {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  llvm::ArrayRef<char> bytes;
};

/// Serializes `tensors` (and `metadata`) into safetensors bytes. Tensors are
/// laid out contiguously in the given order (as Hugging Face's reader
/// requires); the header is space-padded so the data starts 8-byte aligned.
llvm::Expected<std::string>
serializeSafeTensors(llvm::ArrayRef<TensorToWrite> tensors,
                     const std::map<std::string, std::string> &metadata = {});

/// Writes `tensors` to `path` atomically: a temporary file beside it is
/// renamed over `path` only once it is complete, so `path` is either the old
/// file or the whole new one.
llvm::Error
writeSafeTensors(llvm::StringRef path, llvm::ArrayRef<TensorToWrite> tensors,
                 const std::map<std::string, std::string> &metadata = {});

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_SAFETENSORS_H
