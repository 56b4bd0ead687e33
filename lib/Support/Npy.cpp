//===- Npy.cpp - Reading NumPy .npy files ---------------------------------===//
//
// The header is parsed by a small recursive-descent reader of the Python
// literals NumPy writes there (a dict of strings, booleans and a tuple of
// integers), never by a general evaluator; every length, dimension and
// element count is checked with overflow-safe arithmetic before the data is
// copied.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/Npy.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Errc.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>
#include <optional>

using namespace mlir::tvc;

namespace {
constexpr llvm::StringLiteral kMagic = "\x93NUMPY";
/// Ranks above this are certainly not a real array (NumPy's limit is 64).
constexpr size_t kMaxRank = 64;

llvm::Error makeError(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::errc::invalid_argument,
                                 path + ": " + message);
}

/// The header dict's values: a string, a boolean or a tuple of integers.
struct HeaderValue {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string text;
  bool flag = false;
  llvm::SmallVector<int64_t> dims;
};

/// A cursor over the header text; every method fails rather than read past
/// its end.
class HeaderParser {
public:
  explicit HeaderParser(llvm::StringRef text) : text(text) {}

  /// Parses `{key: value, ...}` into `entries`; returns why not, or "".
  std::string parseDict(
      llvm::SmallVectorImpl<std::pair<std::string, HeaderValue>> &entries) {
    skipSpace();
    if (!consume('{'))
      return "expected '{' at the start of the header";
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::optional<std::string> key = parseString();
      if (!key)
        return "expected a quoted key in the header";
      skipSpace();
      if (!consume(':'))
        return "expected ':' after '" + *key + "' in the header";
      skipSpace();
      HeaderValue value;
      if (std::string error = parseValue(value); !error.empty())
        return error + " (the value of '" + *key + "')";
      entries.emplace_back(std::move(*key), std::move(value));
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return "expected ',' or '}' in the header";
    }
    skipSpace();
    if (!text.empty())
      return "unexpected text after the header dict";
    return "";
  }

private:
  void skipSpace() { text = text.ltrim(" \t\r\n"); }

  bool consume(char c) { return text.consume_front(llvm::StringRef(&c, 1)); }

  std::optional<std::string> parseString() {
    if (text.empty() || (text.front() != '\'' && text.front() != '"'))
      return std::nullopt;
    char quote = text.front();
    size_t end = text.find(quote, 1);
    if (end == llvm::StringRef::npos)
      return std::nullopt;
    std::string value = text.substr(1, end - 1).str();
    text = text.drop_front(end + 1);
    return value;
  }

  std::string parseValue(HeaderValue &value) {
    if (std::optional<std::string> string = parseString()) {
      value.kind = HeaderValue::String;
      value.text = std::move(*string);
      return "";
    }
    for (bool flag : {true, false}) {
      if (text.consume_front(flag ? "True" : "False")) {
        value.kind = HeaderValue::Bool;
        value.flag = flag;
        return "";
      }
    }
    if (!consume('('))
      return "expected a string, True, False or a tuple";
    value.kind = HeaderValue::Tuple;
    while (true) {
      skipSpace();
      if (consume(')'))
        return "";
      size_t digits = 0;
      while (digits < text.size() && llvm::isDigit(text[digits]))
        ++digits;
      // Python 2 wrote long integers with an 'L' suffix.
      uint64_t dim = 0;
      if (digits == 0 || text.take_front(digits).getAsInteger(10, dim) ||
          dim > static_cast<uint64_t>(INT64_MAX))
        return "expected a non-negative integer dimension";
      text = text.drop_front(digits);
      text.consume_front("L");
      if (value.dims.size() == kMaxRank)
        return "more than " + std::to_string(kMaxRank) + " dimensions";
      value.dims.push_back(static_cast<int64_t>(dim));
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return "";
      return "expected ',' or ')' in the shape";
    }
  }

  llvm::StringRef text;
};

/// The element type of a NumPy type string ('<i8', '|u1', ...), or 0.
int32_t getElementTypeOfDescr(llvm::StringRef descr) {
  if (descr.size() < 3)
    return 0;
  char order = descr[0];
  llvm::StringRef code = descr.drop_front();
  // Single bytes have no order ('|'); wider types must be little-endian.
  bool single = code == "u1" || code == "i1" || code == "b1";
  if (!(order == '<' || (single && (order == '|' || order == '>'))))
    return 0;
  if (code == "f4")
    return static_cast<int32_t>(OnnxElementType::Float);
  if (code == "f8")
    return static_cast<int32_t>(OnnxElementType::Double);
  if (code == "f2")
    return static_cast<int32_t>(OnnxElementType::Float16);
  if (code == "i8")
    return static_cast<int32_t>(OnnxElementType::Int64);
  if (code == "i4")
    return static_cast<int32_t>(OnnxElementType::Int32);
  if (code == "i2")
    return static_cast<int32_t>(OnnxElementType::Int16);
  if (code == "u2")
    return static_cast<int32_t>(OnnxElementType::UInt16);
  if (code == "i1")
    return static_cast<int32_t>(OnnxElementType::Int8);
  if (code == "u1")
    return static_cast<int32_t>(OnnxElementType::UInt8);
  if (code == "b1")
    return static_cast<int32_t>(OnnxElementType::Bool);
  return 0;
}
} // namespace

bool mlir::tvc::hasNpyMagic(llvm::StringRef bytes) {
  return bytes.starts_with(kMagic);
}

llvm::Expected<HostTensor> mlir::tvc::parseNpy(llvm::StringRef bytes,
                                               llvm::StringRef path) {
  if (!hasNpyMagic(bytes))
    return makeError(path, "is not a .npy file (no \\x93NUMPY magic)");
  if (bytes.size() < kMagic.size() + 2)
    return makeError(path, "is truncated in the .npy preamble");
  uint8_t major = static_cast<uint8_t>(bytes[kMagic.size()]);
  uint8_t minor = static_cast<uint8_t>(bytes[kMagic.size() + 1]);
  if (major < 1 || major > 3)
    return makeError(
        path, "has .npy format version " + llvm::Twine(unsigned(major)) + "." +
                  llvm::Twine(unsigned(minor)) + ", expected 1.0, 2.0 or 3.0");
  // Version 1 stores the header length in 2 bytes, later versions in 4.
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t lengthAt = kMagic.size() + 2;
  if (bytes.size() < lengthAt + lengthBytes)
    return makeError(path, "is truncated in the .npy preamble");
  uint64_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |=
        static_cast<uint64_t>(static_cast<uint8_t>(bytes[lengthAt + i]))
        << (8 * i);
  size_t headerAt = lengthAt + lengthBytes;
  if (headerLength > bytes.size() - headerAt)
    return makeError(path, "declares a " + llvm::Twine(headerLength) +
                               "-byte header, but only " +
                               llvm::Twine(bytes.size() - headerAt) +
                               " bytes follow");
  llvm::StringRef header = bytes.substr(headerAt, headerLength);

  llvm::SmallVector<std::pair<std::string, HeaderValue>> entries;
  if (std::string error = HeaderParser(header).parseDict(entries);
      !error.empty())
    return makeError(path, "malformed .npy header: " + error);
  const HeaderValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (const auto &[key, value] : entries) {
    const HeaderValue **slot = key == "descr"           ? &descr
                               : key == "fortran_order" ? &fortran
                               : key == "shape"         ? &shape
                                                        : nullptr;
    if (!slot)
      return makeError(path,
                       "malformed .npy header: unknown key '" + key + "'");
    if (*slot)
      return makeError(path,
                       "malformed .npy header: duplicate key '" + key + "'");
    *slot = &value;
  }
  if (!descr || !fortran || !shape)
    return makeError(path, "malformed .npy header: it needs 'descr', "
                           "'fortran_order' and 'shape'");
  if (descr->kind != HeaderValue::String)
    return makeError(path, "has a structured dtype; only plain numeric "
                           "arrays are supported");
  if (fortran->kind != HeaderValue::Bool || shape->kind != HeaderValue::Tuple)
    return makeError(path, "malformed .npy header: 'fortran_order' must be "
                           "True or False and 'shape' a tuple");
  HostTensor tensor;
  tensor.elementType = getElementTypeOfDescr(descr->text);
  if (tensor.elementType == 0)
    return makeError(path, "has dtype '" + descr->text +
                               "', which is not supported (little-endian "
                               "int64, int32, int16, int8, uint16, uint8, "
                               "bool, float16, float32 or float64)");
  if (fortran->flag) {
    // A Fortran-ordered array is fine when its layout equals C order.
    size_t wide = 0;
    for (int64_t dim : shape->dims)
      wide += dim > 1;
    if (wide > 1)
      return makeError(path, "is stored in Fortran (column-major) order; "
                             "save it with np.ascontiguousarray");
  }
  tensor.shape.assign(shape->dims.begin(), shape->dims.end());

  uint64_t count = 1;
  bool overflow = false;
  for (int64_t dim : tensor.shape)
    count =
        llvm::SaturatingMultiply(count, static_cast<uint64_t>(dim), &overflow);
  uint64_t size = llvm::SaturatingMultiply(
      count, static_cast<uint64_t>(getElementSize(tensor.elementType)),
      &overflow);
  uint64_t available = bytes.size() - headerAt - headerLength;
  if (overflow || size != available)
    return makeError(path, "holds " + llvm::Twine(available) +
                               " data bytes, but its shape and dtype need " +
                               (overflow ? llvm::Twine("more than 2^64")
                                         : llvm::Twine(size)));
  tensor.bytes.resize(size);
  if (size)
    std::memcpy(tensor.bytes.data(), bytes.data() + headerAt + headerLength,
                size);
  return tensor;
}

llvm::Expected<HostTensor> mlir::tvc::readNpyFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path, "cannot read: " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}
