//===- SafeTensors.cpp - Reading and writing safetensors files ------------===//
//
// The reader maps the file (or takes a buffer), checks the 8-byte header
// length against the real size, parses the JSON header with llvm::json and
// validates every tensor entry (dtype, shape, byte range, size, overlap) with
// overflow-safe arithmetic before any tensor byte is exposed. The writer lays
// tensors out back to back (the reference implementation rejects gaps)
// behind a header space-padded so the data section starts 8-byte aligned,
// and writes files through a temporary file that is renamed into place.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/SafeTensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Errc.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <limits>
#include <tuple>

using namespace mlir::tvc;

namespace {
/// Size of the little-endian header length that starts every file.
constexpr uint64_t kLengthFieldSize = 8;
/// Largest header accepted, as in the reference implementation; a header
/// this large is certainly not a real model's.
constexpr uint64_t kMaxHeaderSize = 100'000'000;
/// Deepest JSON nesting accepted. A valid header needs three levels; the
/// limit keeps llvm::json's recursive parser from exhausting the stack.
constexpr unsigned kMaxJsonDepth = 64;
/// Alignment (from the file start) of the data section, and (from the data
/// start) of every tensor the writer lays out.
constexpr uint64_t kAlignment = 8;
/// Key of the optional string map in the header.
constexpr llvm::StringLiteral kMetadataKey = "__metadata__";
} // namespace

//===----------------------------------------------------------------------===//
// DType
//===----------------------------------------------------------------------===//

llvm::StringRef mlir::tvc::getDTypeName(DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return "BOOL";
  case DType::U8:
    return "U8";
  case DType::I8:
    return "I8";
  case DType::I16:
    return "I16";
  case DType::U16:
    return "U16";
  case DType::I32:
    return "I32";
  case DType::U32:
    return "U32";
  case DType::I64:
    return "I64";
  case DType::U64:
    return "U64";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::F8E4M3:
    return "F8_E4M3";
  case DType::F8E5M2:
    return "F8_E5M2";
  }
  llvm_unreachable("unknown DType");
}

std::optional<DType> mlir::tvc::parseDTypeName(llvm::StringRef name) {
  static constexpr DType kAll[] = {
      DType::Bool, DType::U8,  DType::I8,  DType::I16,    DType::U16,
      DType::I32,  DType::U32, DType::I64, DType::U64,    DType::F16,
      DType::BF16, DType::F32, DType::F64, DType::F8E4M3, DType::F8E5M2,
  };
  for (DType dtype : kAll)
    if (getDTypeName(dtype) == name)
      return dtype;
  return std::nullopt;
}

unsigned mlir::tvc::getDTypeSize(DType dtype) {
  switch (dtype) {
  case DType::Bool:
  case DType::U8:
  case DType::I8:
  case DType::F8E4M3:
  case DType::F8E5M2:
    return 1;
  case DType::I16:
  case DType::U16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I32:
  case DType::U32:
  case DType::F32:
    return 4;
  case DType::I64:
  case DType::U64:
  case DType::F64:
    return 8;
  }
  llvm_unreachable("unknown DType");
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Builds an error "<prefix>: <msg>", or just "<msg>" when `prefix` is empty.
static llvm::Error makeError(llvm::StringRef prefix, const llvm::Twine &msg) {
  if (prefix.empty())
    return llvm::createStringError(llvm::errc::invalid_argument, msg);
  return llvm::createStringError(llvm::errc::invalid_argument,
                                 prefix + ": " + msg);
}

/// Product of `shape`, or std::nullopt when a dimension is negative or the
/// product overflows int64_t.
static std::optional<int64_t>
computeNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || llvm::MulOverflow(product, dim, product))
      return std::nullopt;
  }
  return product;
}

/// Number of bytes `numElements` elements of `dtype` take, or std::nullopt
/// when that overflows int64_t.
static std::optional<int64_t> computeByteSize(int64_t numElements,
                                              DType dtype) {
  int64_t bytes;
  if (llvm::MulOverflow(numElements, int64_t(getDTypeSize(dtype)), bytes))
    return std::nullopt;
  return bytes;
}

/// Formats `shape` as "[2, 3]".
static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
  return result;
}

/// Names the JSON kind of `value` for error messages.
static llvm::StringRef describeKind(const llvm::json::Value &value) {
  switch (value.kind()) {
  case llvm::json::Value::Null:
    return "null";
  case llvm::json::Value::Boolean:
    return "a boolean";
  case llvm::json::Value::Number:
    return "a number";
  case llvm::json::Value::String:
    return "a string";
  case llvm::json::Value::Array:
    return "an array";
  case llvm::json::Value::Object:
    return "an object";
  }
  return "a value";
}

/// Number of elements (product of the shape; 1 for a scalar). Tensors from a
/// SafeTensorsFile always have a valid shape; for a hand-built TensorInfo
/// with a negative dimension or an overflowing product this returns -1.
int64_t TensorInfo::getNumElements() const {
  return computeNumElements(shape).value_or(-1);
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

static bool isJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Scans the header text without parsing it: rejects nesting deeper than
/// kMaxJsonDepth (llvm::json parses recursively and would overflow the
/// stack on "[[[[..."), and collects the raw (still quoted and escaped) keys
/// of the top-level object so that duplicate keys, which llvm::json silently
/// merges, can be found afterwards. Malformed text is left for the parser to
/// report.
static llvm::Error scanHeader(llvm::StringRef path, llvm::StringRef text,
                              llvm::SmallVectorImpl<llvm::StringRef> &keys) {
  unsigned depth = 0;
  bool topIsObject = false;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = i++;
      while (i < e && text[i] != '"') {
        if (text[i] == '\\')
          ++i;
        ++i;
      }
      if (i >= e)
        return llvm::Error::success(); // Unterminated; the parser reports it.
      if (depth == 1 && topIsObject) {
        size_t j = i + 1;
        while (j < e && isJsonSpace(text[j]))
          ++j;
        if (j < e && text[j] == ':')
          keys.push_back(text.slice(start, i + 1));
      }
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth == 0)
        topIsObject = c == '{';
      if (++depth > kMaxJsonDepth)
        return makeError(path, "header JSON is nested deeper than " +
                                   llvm::Twine(kMaxJsonDepth) + " levels");
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return llvm::Error::success();
}

/// Called when the parsed top-level object has fewer keys than the scan saw:
/// names the duplicated key.
static llvm::Error reportDuplicateKey(llvm::StringRef path,
                                      llvm::ArrayRef<llvm::StringRef> rawKeys) {
  llvm::StringSet<> seen;
  for (llvm::StringRef raw : rawKeys) {
    llvm::Expected<llvm::json::Value> decoded = llvm::json::parse(raw);
    if (!decoded) {
      llvm::consumeError(decoded.takeError());
      continue;
    }
    std::optional<llvm::StringRef> key = decoded->getAsString();
    if (key && !seen.insert(*key).second)
      return makeError(path, "duplicate key '" + *key + "' in header");
  }
  return makeError(path, "duplicate key in header");
}

/// Reads one integer dimension of a shape.
static llvm::Error parseDim(llvm::StringRef path, llvm::StringRef name,
                            size_t index, const llvm::json::Value &value,
                            int64_t &dim) {
  auto error = [&](const llvm::Twine &msg) {
    return makeError(path, "tensor '" + name + "': shape dimension " +
                               llvm::Twine(index) + " " + msg);
  };
  // getAsUINT64 only accepts numbers written as integers.
  if (std::optional<uint64_t> u = value.getAsUINT64()) {
    if (*u > uint64_t(std::numeric_limits<int64_t>::max()))
      return error("(" + llvm::Twine(*u) + ") is too large");
    dim = int64_t(*u);
    return llvm::Error::success();
  }
  if (std::optional<double> d = value.getAsNumber(); d && *d < 0) {
    if (std::optional<int64_t> s = value.getAsInteger())
      return error("is negative (" + llvm::Twine(*s) + ")");
    return error("is negative");
  }
  if (value.kind() == llvm::json::Value::Number)
    return error("is not an integer");
  return error("is " + describeKind(value) + ", not an integer");
}

/// Reads and validates the entry of tensor `name`. `dataSize` is the size of
/// the data section.
static llvm::Error parseTensor(llvm::StringRef path, llvm::StringRef name,
                               const llvm::json::Value &value,
                               uint64_t dataSize, TensorInfo &info) {
  auto error = [&](const llvm::Twine &msg) {
    return makeError(path, "tensor '" + name + "': " + msg);
  };
  const llvm::json::Object *entry = value.getAsObject();
  if (!entry)
    return error("entry is " + describeKind(value) + ", not an object");
  info.name = name.str();

  // dtype.
  const llvm::json::Value *dtypeValue = entry->get("dtype");
  if (!dtypeValue)
    return error("missing 'dtype'");
  std::optional<llvm::StringRef> dtypeName = dtypeValue->getAsString();
  if (!dtypeName)
    return error("'dtype' is " + describeKind(*dtypeValue) + ", not a string");
  std::optional<DType> dtype = parseDTypeName(*dtypeName);
  if (!dtype)
    return error("unknown dtype '" + *dtypeName + "'");
  info.dtype = *dtype;

  // shape.
  const llvm::json::Value *shapeValue = entry->get("shape");
  if (!shapeValue)
    return error("missing 'shape'");
  const llvm::json::Array *shape = shapeValue->getAsArray();
  if (!shape)
    return error("'shape' is " + describeKind(*shapeValue) + ", not an array");
  info.shape.clear();
  for (auto [index, dimValue] : llvm::enumerate(*shape)) {
    int64_t dim = 0;
    if (llvm::Error err = parseDim(path, name, index, dimValue, dim))
      return err;
    info.shape.push_back(dim);
  }
  std::optional<int64_t> numElements = computeNumElements(info.shape);
  if (!numElements)
    return error("shape " + formatShape(info.shape) +
                 " has more elements than fit in int64");
  std::optional<int64_t> byteSize = computeByteSize(*numElements, info.dtype);
  if (!byteSize)
    return error("byte size of shape " + formatShape(info.shape) + " of " +
                 getDTypeName(info.dtype) + " overflows int64");

  // data_offsets.
  const llvm::json::Value *offsetsValue = entry->get("data_offsets");
  if (!offsetsValue)
    return error("missing 'data_offsets'");
  const llvm::json::Array *offsets = offsetsValue->getAsArray();
  if (!offsets || offsets->size() != 2)
    return error("'data_offsets' is not an array of two offsets");
  std::optional<uint64_t> begin = (*offsets)[0].getAsUINT64();
  std::optional<uint64_t> end = (*offsets)[1].getAsUINT64();
  if (!begin || !end)
    return error("'data_offsets' are not both non-negative integers");
  info.begin = *begin;
  info.end = *end;
  std::string range =
      ("data_offsets [" + llvm::Twine(*begin) + ", " + llvm::Twine(*end) + "]")
          .str();
  if (*begin > *end)
    return error(range + " have begin > end");
  if (*end > dataSize)
    return error(range + " exceed the data section of " +
                 llvm::Twine(dataSize) + " bytes");
  if (*end - *begin != uint64_t(*byteSize))
    return error(range + " span " + llvm::Twine(*end - *begin) +
                 " bytes but shape " + formatShape(info.shape) + " of " +
                 getDTypeName(info.dtype) + " needs " + llvm::Twine(*byteSize) +
                 " bytes");
  return llvm::Error::success();
}

/// Reads the "__metadata__" entry into `metadata`.
static llvm::Error parseMetadata(llvm::StringRef path,
                                 const llvm::json::Value &value,
                                 std::map<std::string, std::string> &metadata) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return makeError(path, "'" + kMetadataKey + "' is " + describeKind(value) +
                               ", not an object");
  // In key order, so that the first error reported is deterministic.
  for (const auto *element : llvm::json::sortedElements(*object)) {
    llvm::StringRef key = element->first;
    std::optional<llvm::StringRef> text = element->second.getAsString();
    if (!text)
      return makeError(path, "'" + kMetadataKey + "' entry '" + key + "' is " +
                                 describeKind(element->second) +
                                 ", not a string");
    metadata[key.str()] = text->str();
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false,
                                  /*IsVolatile=*/false);
  if (!buffer)
    return makeError(path, "cannot open: " + buffer.getError().message());
  // getFile names the buffer after `path`; fromBuffer uses that in errors.
  return fromBuffer(std::move(*buffer));
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  if (!buffer)
    return makeError("<buffer>", "no buffer");
  std::string path = buffer->getBufferIdentifier().str();
  if (path.empty())
    path = "<buffer>";
  llvm::StringRef bytes = buffer->getBuffer();
  uint64_t fileSize = bytes.size();

  // Header length, checked against the real size without overflow.
  if (fileSize < kLengthFieldSize)
    return makeError(path, "file size " + llvm::Twine(fileSize) +
                               " is smaller than the 8-byte header length");
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  if (headerSize > fileSize - kLengthFieldSize)
    return makeError(path, "header length " + llvm::Twine(headerSize) +
                               " exceeds file size " + llvm::Twine(fileSize));
  if (headerSize > kMaxHeaderSize)
    return makeError(path, "header length " + llvm::Twine(headerSize) +
                               " exceeds the limit of " +
                               llvm::Twine(kMaxHeaderSize) + " bytes");
  uint64_t dataStart = kLengthFieldSize + headerSize;
  uint64_t dataSize = fileSize - dataStart;
  llvm::StringRef headerText = bytes.substr(kLengthFieldSize, headerSize);

  // JSON.
  llvm::SmallVector<llvm::StringRef> rawKeys;
  if (llvm::Error err = scanHeader(path, headerText, rawKeys))
    return std::move(err);
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return makeError(path, "header is not valid JSON: " +
                               llvm::toString(header.takeError()));
  const llvm::json::Object *top = header->getAsObject();
  if (!top)
    return makeError(path, "header is " + describeKind(*header) +
                               ", not a JSON object");
  if (rawKeys.size() != top->size())
    return reportDuplicateKey(path, rawKeys);

  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path = path;

  // Entries in key order so that the first error reported does not depend on
  // the hash order of json::Object.
  std::vector<const llvm::json::Object::value_type *> entries =
      llvm::json::sortedElements(*top);

  file->tensors.reserve(entries.size());
  for (const auto *entry : entries) {
    llvm::StringRef name = entry->first;
    if (name == kMetadataKey) {
      if (llvm::Error err = parseMetadata(path, entry->second, file->metadata))
        return std::move(err);
      continue;
    }
    TensorInfo info;
    if (llvm::Error err =
            parseTensor(path, name, entry->second, dataSize, info))
      return std::move(err);
    file->tensors.push_back(std::move(info));
  }

  // Order by offset and reject overlapping ranges. Empty tensors occupy no
  // bytes and cannot overlap anything.
  llvm::sort(file->tensors, [](const TensorInfo &a, const TensorInfo &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const TensorInfo *last = nullptr; // Non-empty tensor reaching furthest.
  for (const TensorInfo &info : file->tensors) {
    if (info.begin == info.end)
      continue;
    if (last && info.begin < last->end)
      return makeError(path, "tensors '" + last->name + "' [" +
                                 llvm::Twine(last->begin) + ", " +
                                 llvm::Twine(last->end) + ") and '" +
                                 info.name + "' [" + llvm::Twine(info.begin) +
                                 ", " + llvm::Twine(info.end) + ") overlap");
    if (!last || info.end > last->end)
      last = &info;
  }

  for (auto [i, info] : llvm::enumerate(file->tensors))
    file->index[info.name] = i;
  file->dataStart = dataStart;
  file->buffer = std::move(buffer);
  return std::move(file);
}

const TensorInfo *SafeTensorsFile::lookup(llvm::StringRef name) const {
  auto it = index.find(name);
  if (it == index.end())
    return nullptr;
  return &tensors[it->second];
}

llvm::ArrayRef<char> SafeTensorsFile::getData(const TensorInfo &info) const {
  // Offsets were validated when the file was opened; the check only guards
  // against a TensorInfo that came from a different file.
  uint64_t dataSize = buffer->getBufferSize() - dataStart;
  if (info.begin > info.end || info.end > dataSize)
    return {};
  return llvm::ArrayRef<char>(buffer->getBufferStart() + dataStart + info.begin,
                              info.end - info.begin);
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

namespace {
/// Where everything goes in a file about to be written.
struct Layout {
  /// The JSON header, already padded with spaces.
  std::string header;
  /// Offset of each tensor from the data start (in the order given).
  std::vector<uint64_t> begins;
  /// Size of the data section.
  uint64_t dataSize = 0;
};
} // namespace

/// Validates `tensors` and `metadata` and computes the file layout. Errors are
/// prefixed with `prefix` (unless empty).
static llvm::Expected<Layout>
computeLayout(llvm::StringRef prefix, llvm::ArrayRef<TensorToWrite> tensors,
              const std::map<std::string, std::string> &metadata) {
  Layout layout;
  llvm::StringSet<> names;
  uint64_t offset = 0;
  for (const TensorToWrite &tensor : tensors) {
    auto error = [&](const llvm::Twine &msg) {
      return makeError(prefix, "tensor '" + tensor.name + "': " + msg);
    };
    if (!llvm::json::isUTF8(tensor.name))
      return error("name is not valid UTF-8");
    if (tensor.name == kMetadataKey)
      return error("name is reserved for metadata");
    if (!names.insert(tensor.name).second)
      return error("duplicate name");
    std::optional<int64_t> numElements = computeNumElements(tensor.shape);
    if (!numElements)
      return error("shape " + formatShape(tensor.shape) +
                   " has a negative dimension or too many elements");
    std::optional<int64_t> byteSize =
        computeByteSize(*numElements, tensor.dtype);
    if (!byteSize)
      return error("byte size of shape " + formatShape(tensor.shape) +
                   " overflows int64");
    if (tensor.bytes.size() != uint64_t(*byteSize))
      return error("has " + llvm::Twine(tensor.bytes.size()) +
                   " bytes but shape " + formatShape(tensor.shape) + " of " +
                   getDTypeName(tensor.dtype) + " needs " +
                   llvm::Twine(*byteSize));
    // Contiguous: Hugging Face's reader requires every tensor to start where
    // the previous one ends.
    layout.begins.push_back(offset);
    offset += tensor.bytes.size(); // Bounded by memory; cannot overflow.
  }
  layout.dataSize = offset;
  for (const auto &[key, value] : metadata) {
    if (!llvm::json::isUTF8(key) || !llvm::json::isUTF8(value))
      return makeError(prefix,
                       "metadata entry '" + key + "' is not valid UTF-8");
  }

  llvm::raw_string_ostream os(layout.header);
  llvm::json::OStream json(os);
  json.object([&] {
    if (!metadata.empty()) {
      json.attributeObject(kMetadataKey, [&] {
        for (const auto &[key, value] : metadata)
          json.attribute(key, value);
      });
    }
    for (size_t i = 0, e = tensors.size(); i < e; ++i) {
      const TensorToWrite &tensor = tensors[i];
      uint64_t begin = layout.begins[i];
      json.attributeObject(tensor.name, [&] {
        json.attribute("dtype", getDTypeName(tensor.dtype));
        json.attributeArray("shape", [&] {
          for (int64_t dim : tensor.shape)
            json.value(dim);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(begin);
          json.value(uint64_t(begin + tensor.bytes.size()));
        });
      });
    }
  });
  // Pad so that the data section starts at a multiple of kAlignment.
  layout.header.resize(llvm::alignTo(layout.header.size(), kAlignment), ' ');
  return std::move(layout);
}

/// Writes the file described by `layout` to `os`.
static void writeLayout(llvm::raw_ostream &os, const Layout &layout,
                        llvm::ArrayRef<TensorToWrite> tensors) {
  char length[kLengthFieldSize];
  llvm::support::endian::write64le(length, layout.header.size());
  os.write(length, sizeof(length));
  os << layout.header;
  for (const TensorToWrite &tensor : tensors)
    os.write(tensor.bytes.data(), tensor.bytes.size());
}

llvm::Expected<std::string> mlir::tvc::serializeSafeTensors(
    llvm::ArrayRef<TensorToWrite> tensors,
    const std::map<std::string, std::string> &metadata) {
  llvm::Expected<Layout> layout = computeLayout("", tensors, metadata);
  if (!layout)
    return layout.takeError();
  std::string result;
  result.reserve(kLengthFieldSize + layout->header.size() + layout->dataSize);
  llvm::raw_string_ostream os(result);
  writeLayout(os, *layout, tensors);
  os.flush();
  return std::move(result);
}

llvm::Error mlir::tvc::writeSafeTensors(
    llvm::StringRef path, llvm::ArrayRef<TensorToWrite> tensors,
    const std::map<std::string, std::string> &metadata) {
  llvm::Expected<Layout> layout = computeLayout(path, tensors, metadata);
  if (!layout)
    return layout.takeError();

  // createUniqueFile replaces every '%' of its model with a random character,
  // so a '%' of the file name must not reach it, and one in the directory
  // would put the temporary file somewhere else entirely.
  llvm::StringRef directory = llvm::sys::path::parent_path(path);
  if (directory.contains('%'))
    return makeError(path, "cannot write atomically into a directory whose "
                           "name contains '%'");
  std::string model = path.str();
  std::replace(model.begin() + directory.size(), model.end(), '%', '_');
  model += ".tmp-%%%%%%";

  int fd = -1;
  llvm::SmallString<256> tempPath;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tempPath))
    return makeError(path, "cannot create a temporary file: " + ec.message());

  std::error_code writeError;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    writeLayout(os, *layout, tensors);
    os.close();
    if (os.has_error()) {
      writeError = os.error();
      os.clear_error(); // Otherwise the destructor reports a fatal error.
    }
  }
  if (writeError) {
    llvm::sys::fs::remove(tempPath);
    return makeError(path, "cannot write temporary file '" + tempPath +
                               "': " + writeError.message());
  }
  if (std::error_code ec = llvm::sys::fs::rename(tempPath, path)) {
    llvm::sys::fs::remove(tempPath);
    return makeError(path, "cannot rename temporary file '" + tempPath +
                               "' into place: " + ec.message());
  }
  return llvm::Error::success();
}
