//===- SafeTensorsTest.cpp - Tests of the safetensors reader/writer -------===//
//
// Round trips through serializeSafeTensors / writeSafeTensors and the reader,
// the atomic write, and one or more malformed files for every check the
// reader makes: each must fail with an error naming the file and the
// problem, never crash.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/SafeTensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::tvc;

namespace {

constexpr const char *kName = "test.safetensors";

/// Bytes of `values` as a char vector.
template <typename T> std::vector<char> toBytes(const std::vector<T> &values) {
  std::vector<char> bytes(values.size() * sizeof(T));
  if (!bytes.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// Little-endian 8-byte encoding of `value`.
std::string encodeLength(uint64_t value) {
  char bytes[8];
  llvm::support::endian::write64le(bytes, value);
  return std::string(bytes, sizeof(bytes));
}

/// A file with the given header text and data section.
std::string makeFile(llvm::StringRef header, llvm::StringRef data = "") {
  return encodeLength(header.size()) + header.str() + data.str();
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
parse(llvm::StringRef bytes, llvm::StringRef name = kName) {
  return SafeTensorsFile::fromBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, name));
}

/// The error message of parsing `bytes`, or "<success>".
std::string parseError(llvm::StringRef bytes) {
  auto file = parse(bytes);
  if (file)
    return "<success>";
  return llvm::toString(file.takeError());
}

/// The message of `err`, or "" for success.
std::string errorText(llvm::Error err) {
  if (!err)
    return "";
  return llvm::toString(std::move(err));
}

/// Expects parsing `bytes` to fail with a message that names the file and
/// contains `substring`.
void expectError(llvm::StringRef bytes, llvm::StringRef substring) {
  std::string message = parseError(bytes);
  EXPECT_EQ(message.rfind(std::string(kName) + ": ", 0), 0u)
      << "message does not start with the file name: " << message;
  EXPECT_NE(message.find(substring.str()), std::string::npos)
      << "expected '" << substring.str() << "' in: " << message;
}

/// A tensor entry for a hand-written header.
std::string entry(llvm::StringRef name, llvm::StringRef dtype,
                  llvm::StringRef shape, llvm::StringRef offsets) {
  return ("\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
          ",\"data_offsets\":" + offsets + "}")
      .str();
}

/// Tensors of several dtypes, including a scalar and an empty tensor, in a
/// file-local fixture so that the byte arrays outlive the TensorToWrites.
struct Sample {
  std::vector<char> f32 = toBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::vector<char> bf16 =
      toBytes(std::vector<uint16_t>{0x3f80, 0x4000, 0x4040});
  std::vector<char> i64 = toBytes(std::vector<int64_t>{-42});
  std::vector<char> u8 = {1, 2, 3};
  std::vector<char> boolean = {0, 1, 1, 0, 1};
  std::vector<char> f8 = {0x11, 0x22};
  std::vector<char> empty;

  std::vector<TensorToWrite> tensors() const {
    return {
        {"w.f32", DType::F32, {2, 3}, f32},
        {"w.bf16", DType::BF16, {3}, bf16},
        {"scalar", DType::I64, {}, i64},
        {"empty", DType::F16, {0, 4}, empty},
        {"bytes", DType::U8, {3}, u8},
        {"mask", DType::Bool, {5}, boolean},
        {"fp8", DType::F8E4M3, {1, 2}, f8},
    };
  }
};

void expectSameTensors(const SafeTensorsFile &file,
                       llvm::ArrayRef<TensorToWrite> expected) {
  ASSERT_EQ(file.getTensors().size(), expected.size());
  for (const TensorToWrite &tensor : expected) {
    const TensorInfo *info = file.lookup(tensor.name);
    ASSERT_NE(info, nullptr) << tensor.name;
    EXPECT_EQ(info->name, tensor.name);
    EXPECT_EQ(info->dtype, tensor.dtype) << tensor.name;
    EXPECT_EQ(llvm::ArrayRef<int64_t>(info->shape),
              llvm::ArrayRef<int64_t>(tensor.shape))
        << tensor.name;
    llvm::ArrayRef<char> data = file.getData(*info);
    EXPECT_EQ(std::string(data.begin(), data.end()),
              std::string(tensor.bytes.begin(), tensor.bytes.end()))
        << tensor.name;
  }
}

/// A scratch directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::error_code ec =
        llvm::sys::fs::createUniqueDirectory("safetensors-test", path);
    EXPECT_FALSE(ec) << ec.message();
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<256> result(path);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  llvm::SmallString<256> path;
};

} // namespace

//===----------------------------------------------------------------------===//
// DTypes
//===----------------------------------------------------------------------===//

TEST(SafeTensors, DTypeNamesAndSizes) {
  struct Case {
    const char *name;
    DType dtype;
    unsigned size;
  } cases[] = {
      {"BOOL", DType::Bool, 1},      {"U8", DType::U8, 1},
      {"I8", DType::I8, 1},          {"I16", DType::I16, 2},
      {"U16", DType::U16, 2},        {"I32", DType::I32, 4},
      {"U32", DType::U32, 4},        {"I64", DType::I64, 8},
      {"U64", DType::U64, 8},        {"F16", DType::F16, 2},
      {"BF16", DType::BF16, 2},      {"F32", DType::F32, 4},
      {"F64", DType::F64, 8},        {"F8_E4M3", DType::F8E4M3, 1},
      {"F8_E5M2", DType::F8E5M2, 1},
  };
  for (const Case &c : cases) {
    EXPECT_EQ(getDTypeName(c.dtype), c.name);
    EXPECT_EQ(parseDTypeName(c.name), c.dtype) << c.name;
    EXPECT_EQ(getDTypeSize(c.dtype), c.size) << c.name;
  }
  EXPECT_EQ(parseDTypeName("f32"), std::nullopt);
  EXPECT_EQ(parseDTypeName("F8E4M3"), std::nullopt);
  EXPECT_EQ(parseDTypeName(""), std::nullopt);
}

TEST(SafeTensors, NumElements) {
  TensorInfo info;
  EXPECT_EQ(info.getNumElements(), 1); // Scalar.
  info.shape = {2, 3, 4};
  EXPECT_EQ(info.getNumElements(), 24);
  info.shape = {5, 0};
  EXPECT_EQ(info.getNumElements(), 0);
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(SafeTensors, RoundTrip) {
  Sample sample;
  std::vector<TensorToWrite> tensors = sample.tensors();
  llvm::Expected<std::string> bytes = serializeSafeTensors(tensors);
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());

  // The data section starts at a multiple of 8 from the file start.
  uint64_t headerSize = llvm::support::endian::read64le(bytes->data());
  EXPECT_EQ((8 + headerSize) % 8, 0u);

  auto file = parse(*bytes);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  expectSameTensors(**file, tensors);
  EXPECT_TRUE((*file)->getMetadata().empty());
  EXPECT_EQ((*file)->getPath(), kName);

  // Sorted by offset and contiguous (as Hugging Face's reader requires):
  // each tensor starts where the previous ends. The writer keeps the given
  // order, so the offsets follow it.
  llvm::ArrayRef<TensorInfo> infos = (*file)->getTensors();
  EXPECT_EQ(infos.front().begin, 0u);
  for (size_t i = 1; i < infos.size(); ++i)
    EXPECT_EQ(infos[i - 1].end, infos[i].begin) << infos[i].name;
  EXPECT_EQ(infos.front().name, "w.f32");
  EXPECT_EQ(infos.back().name, "fp8");

  const TensorInfo *scalar = (*file)->lookup("scalar");
  ASSERT_NE(scalar, nullptr);
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->getNumElements(), 1);
  int64_t value = 0;
  llvm::ArrayRef<char> data = (*file)->getData(*scalar);
  ASSERT_EQ(data.size(), sizeof(value));
  std::memcpy(&value, data.data(), sizeof(value)); // Data may be unaligned.
  EXPECT_EQ(value, -42);

  const TensorInfo *empty = (*file)->lookup("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->getNumElements(), 0);
  EXPECT_TRUE((*file)->getData(*empty).empty());
  EXPECT_EQ(empty->begin, empty->end);

  const TensorInfo *bf16 = (*file)->lookup("w.bf16");
  ASSERT_NE(bf16, nullptr);
  EXPECT_EQ(bf16->end - bf16->begin, 6u);
}

TEST(SafeTensors, SerializeIsDeterministicAndKeepsOrder) {
  Sample sample;
  llvm::Expected<std::string> a = serializeSafeTensors(sample.tensors());
  llvm::Expected<std::string> b = serializeSafeTensors(sample.tensors());
  ASSERT_TRUE(bool(a) && bool(b));
  EXPECT_EQ(*a, *b);
  // Keys appear in the header in the given order.
  size_t first = a->find("\"w.f32\"");
  size_t second = a->find("\"w.bf16\"");
  size_t last = a->find("\"fp8\"");
  EXPECT_LT(first, second);
  EXPECT_LT(second, last);
}

TEST(SafeTensors, EmptyFileRoundTrip) {
  llvm::Expected<std::string> bytes = serializeSafeTensors({});
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
  EXPECT_EQ(bytes->size() % 8, 0u);
  auto file = parse(*bytes);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_TRUE((*file)->getTensors().empty());
}

TEST(SafeTensors, MetadataRoundTrip) {
  Sample sample;
  std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"note", "quotes \" and \\ and\nnewlines, unicode \xc3\xa9"},
      {"", "empty key"},
  };
  llvm::Expected<std::string> bytes =
      serializeSafeTensors(sample.tensors(), metadata);
  ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
  auto file = parse(*bytes);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getMetadata(), metadata);
  EXPECT_EQ((*file)->lookup("__metadata__"), nullptr);
  expectSameTensors(**file, sample.tensors());
}

TEST(SafeTensors, LookupMissingName) {
  Sample sample;
  llvm::Expected<std::string> bytes = serializeSafeTensors(sample.tensors());
  ASSERT_TRUE(bool(bytes));
  auto file = parse(*bytes);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->lookup("missing"), nullptr);
  EXPECT_EQ((*file)->lookup(""), nullptr);
  EXPECT_EQ((*file)->lookup("w.f3"), nullptr);
  EXPECT_NE((*file)->lookup("w.f32"), nullptr);
}

TEST(SafeTensors, ReadsUnalignedDataSection) {
  std::vector<char> values = toBytes(std::vector<float>{1.5f, -2.0f});
  std::string header = "{" + entry("x", "F32", "[2]", "[0,8]") + "}";
  if (header.size() % 2 == 0)
    header += " "; // 8 + odd: the data starts at an odd offset.
  auto file = parse(makeFile(header, llvm::StringRef(values.data(), 8)));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  const TensorInfo *x = (*file)->lookup("x");
  ASSERT_NE(x, nullptr);
  llvm::ArrayRef<char> data = (*file)->getData(*x);
  ASSERT_EQ(data.size(), 8u);
  float copy[2];
  std::memcpy(copy, data.data(), sizeof(copy));
  EXPECT_EQ(copy[0], 1.5f);
  EXPECT_EQ(copy[1], -2.0f);
}

TEST(SafeTensors, AcceptsGapsTrailingBytesAndEmptyTensorsAnywhere) {
  // Tensors out of key order, a gap, trailing bytes, and an empty tensor
  // inside another tensor's range.
  std::string header = "{" + entry("b", "U8", "[2]", "[4,6]") + "," +
                       entry("a", "U8", "[2]", "[0,2]") + "," +
                       entry("z", "F32", "[0]", "[5,5]") + "}  ";
  auto file = parse(makeFile(header, "ab..cd..."));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  llvm::ArrayRef<TensorInfo> infos = (*file)->getTensors();
  ASSERT_EQ(infos.size(), 3u);
  EXPECT_EQ(infos[0].name, "a");
  EXPECT_EQ(infos[1].name, "b");
  EXPECT_EQ(infos[2].name, "z");
  llvm::ArrayRef<char> b = (*file)->getData(infos[1]);
  EXPECT_EQ(std::string(b.begin(), b.end()), "cd");
}

TEST(SafeTensors, EmptyBufferNameIsReplaced) {
  std::string message = llvm::toString(parse("1234", "").takeError());
  EXPECT_EQ(message.rfind("<buffer>: ", 0), 0u) << message;
}

//===----------------------------------------------------------------------===//
// Files on disk
//===----------------------------------------------------------------------===//

TEST(SafeTensors, WriteThenOpen) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  Sample sample;
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
  ASSERT_EQ(errorText(writeSafeTensors(path, sample.tensors(), metadata)), "");

  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getPath(), path);
  EXPECT_EQ((*file)->getMetadata(), metadata);
  expectSameTensors(**file, sample.tensors());

  // The file holds exactly what serializeSafeTensors produces.
  llvm::Expected<std::string> bytes =
      serializeSafeTensors(sample.tensors(), metadata);
  ASSERT_TRUE(bool(bytes));
  auto onDisk = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(onDisk));
  EXPECT_EQ((*onDisk)->getBuffer(), *bytes);
}

TEST(SafeTensors, AtomicWriteReplacesAndLeavesNoTempFiles) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  std::vector<char> first = {1, 2, 3, 4};
  std::vector<char> second = toBytes(std::vector<int32_t>{7, 8});
  ASSERT_EQ(errorText(writeSafeTensors(path, {{"old", DType::U8, {4}, first}})),
            "");
  ASSERT_EQ(
      errorText(writeSafeTensors(path, {{"new", DType::I32, {2}, second}})),
      "");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"model.safetensors"});

  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->lookup("old"), nullptr);
  ASSERT_NE((*file)->lookup("new"), nullptr);
  EXPECT_EQ((*file)->getTensors().size(), 1u);

  // A failed write leaves the old file in place and no temporary behind.
  llvm::Error err = writeSafeTensors(path, {{"bad", DType::F32, {3}, second}});
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("needs 12"), std::string::npos) << message;
  EXPECT_EQ(dir.list(), std::vector<std::string>{"model.safetensors"});
  auto again = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_NE((*again)->lookup("new"), nullptr);
}

TEST(SafeTensors, WritePathWithPercent) {
  TempDir dir;
  std::string path = dir.file("100%_%%.safetensors");
  std::vector<char> bytes = {1, 2};
  ASSERT_EQ(errorText(writeSafeTensors(path, {{"x", DType::U8, {2}, bytes}})),
            "");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"100%_%%.safetensors"});
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_NE((*file)->lookup("x"), nullptr);
}

TEST(SafeTensors, WriteIntoMissingDirectoryFails) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/model.safetensors");
  std::vector<char> bytes = {1};
  llvm::Error err = writeSafeTensors(path, {{"x", DType::U8, {1}, bytes}});
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("temporary file"), std::string::npos) << message;
  EXPECT_TRUE(dir.list().empty());
}

TEST(SafeTensors, OpenMissingFile) {
  TempDir dir;
  std::string path = dir.file("missing.safetensors");
  auto file = SafeTensorsFile::open(path);
  ASSERT_FALSE(bool(file));
  std::string message = llvm::toString(file.takeError());
  EXPECT_EQ(message.rfind(path + ": cannot open", 0), 0u) << message;
}

TEST(SafeTensors, OpenCorruptFileNamesIt) {
  TempDir dir;
  std::string path = dir.file("corrupt.safetensors");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << encodeLength(1000000) << "{}";
  }
  auto file = SafeTensorsFile::open(path);
  ASSERT_FALSE(bool(file));
  std::string message = llvm::toString(file.takeError());
  EXPECT_EQ(message, path + ": header length 1000000 exceeds file size 10");
}

//===----------------------------------------------------------------------===//
// Serializer errors
//===----------------------------------------------------------------------===//

TEST(SafeTensors, SerializeRejectsBadInput) {
  std::vector<char> four = {1, 2, 3, 4};
  auto message = [](llvm::ArrayRef<TensorToWrite> tensors) {
    llvm::Expected<std::string> bytes = serializeSafeTensors(tensors);
    if (bytes)
      return std::string("<success>");
    return llvm::toString(bytes.takeError());
  };
  EXPECT_NE(message({{"x", DType::F32, {2}, four}}).find("needs 8"),
            std::string::npos);
  EXPECT_NE(message({{"x", DType::U8, {4}, four}, {"x", DType::U8, {4}, four}})
                .find("duplicate name"),
            std::string::npos);
  EXPECT_NE(message({{"__metadata__", DType::U8, {4}, four}}).find("reserved"),
            std::string::npos);
  EXPECT_NE(message({{"x", DType::U8, {-4}, four}}).find("negative"),
            std::string::npos);
  EXPECT_NE(message({{"x", DType::U8, {1LL << 62, 1LL << 62}, four}})
                .find("too many elements"),
            std::string::npos);
  EXPECT_NE(message({{"x", DType::F64, {1LL << 61}, four}}).find("overflows"),
            std::string::npos);
  EXPECT_NE(message({{"\xff", DType::U8, {4}, four}}).find("UTF-8"),
            std::string::npos);
  llvm::Expected<std::string> badMetadata =
      serializeSafeTensors({}, {{"k", "\xc3"}});
  ASSERT_FALSE(bool(badMetadata));
  EXPECT_NE(llvm::toString(badMetadata.takeError()).find("UTF-8"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Reader errors
//===----------------------------------------------------------------------===//

TEST(SafeTensors, EveryTruncationFails) {
  Sample sample;
  llvm::Expected<std::string> bytes =
      serializeSafeTensors(sample.tensors(), {{"format", "pt"}});
  ASSERT_TRUE(bool(bytes));
  ASSERT_TRUE(bool(parse(*bytes)));
  for (size_t cut = 0; cut < bytes->size(); ++cut) {
    std::string message = parseError(llvm::StringRef(*bytes).take_front(cut));
    EXPECT_NE(message, "<success>") << "cut at " << cut;
    EXPECT_EQ(message.rfind(std::string(kName) + ": ", 0), 0u) << message;
  }
  // The interesting cut points give the interesting messages.
  uint64_t headerSize = llvm::support::endian::read64le(bytes->data());
  expectError(bytes->substr(0, 0), "file size 0 is smaller than the 8-byte");
  expectError(bytes->substr(0, 7), "file size 7 is smaller than the 8-byte");
  expectError(bytes->substr(0, 8), "exceeds file size 8");
  expectError(bytes->substr(0, 8 + headerSize - 1), "exceeds file size");
  expectError(bytes->substr(0, 8 + headerSize), "exceed the data section");
  expectError(bytes->substr(0, bytes->size() - 1), "exceed the data section");
}

TEST(SafeTensors, HeaderLengthLargerThanFile) {
  std::string file = makeFile("{}");
  std::string lying = encodeLength(1000000) + file.substr(8);
  lying.resize(120, ' ');
  expectError(lying, "header length 1000000 exceeds file size 120");
  EXPECT_EQ(parseError(lying),
            "test.safetensors: header length 1000000 exceeds file size 120");
  expectError(encodeLength(3) + "{}", "header length 3 exceeds file size 10");
}

TEST(SafeTensors, HeaderLengthHuge) {
  std::string body = "{}      ";
  expectError(encodeLength(uint64_t(1) << 63) + body,
              "header length 9223372036854775808 exceeds file size 16");
  expectError(encodeLength(~uint64_t(0)) + body,
              "header length 18446744073709551615 exceeds file size 16");
  expectError(encodeLength(~uint64_t(0) - 7) + body, "exceeds file size");
}

TEST(SafeTensors, InvalidJson) {
  expectError(makeFile("{\"a\":"), "header is not valid JSON");
  expectError(makeFile(""), "header is not valid JSON");
  expectError(makeFile("{} x"), "header is not valid JSON");
  expectError(makeFile("{\"\xff\":1}"), "Invalid UTF-8");
  expectError(makeFile("{'a':1}"), "header is not valid JSON");
}

TEST(SafeTensors, DeeplyNestedJson) {
  // Would overflow the stack of a recursive parser.
  expectError(makeFile(std::string(100000, '[')), "nested deeper than");
  expectError(makeFile("{\"a\":" + std::string(200, '{')), "nested deeper");
  // Brackets inside strings do not count.
  std::string header = "{\"__metadata__\":{\"k\":\"" + std::string(500, '[') +
                       "\\\"" + std::string(500, '{') + "\"}}";
  auto file = parse(makeFile(header));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getMetadata().at("k").size(), 1001u);
}

TEST(SafeTensors, TopLevelNotObject) {
  expectError(makeFile("[1, 2]"), "header is an array, not a JSON object");
  expectError(makeFile("42"), "header is a number, not a JSON object");
  expectError(makeFile("null"), "not a JSON object");
}

TEST(SafeTensors, EntryNotObject) {
  expectError(makeFile("{\"x\":3}"),
              "tensor 'x': entry is a number, not an object");
  expectError(makeFile("{\"x\":[\"F32\"]}"), "tensor 'x': entry is an array");
}

TEST(SafeTensors, BadDType) {
  expectError(makeFile("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}"),
              "tensor 'x': missing 'dtype'");
  expectError(makeFile("{" + entry("x", "F33", "[1]", "[0,4]") + "}", "abcd"),
              "tensor 'x': unknown dtype 'F33'");
  expectError(makeFile("{\"x\":{\"dtype\":4,\"shape\":[1],"
                       "\"data_offsets\":[0,4]}}",
                       "abcd"),
              "'dtype' is a number, not a string");
}

TEST(SafeTensors, BadShape) {
  expectError(
      makeFile("{\"x\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", "a"),
      "tensor 'x': missing 'shape'");
  expectError(makeFile("{" + entry("x", "U8", "4", "[0,4]") + "}", "abcd"),
              "'shape' is a number, not an array");
  expectError(makeFile("{" + entry("x", "U8", "[\"4\"]", "[0,4]") + "}"),
              "shape dimension 0 is a string, not an integer");
  expectError(makeFile("{" + entry("x", "U8", "[2,1.5]", "[0,3]") + "}"),
              "shape dimension 1 is not an integer");
  expectError(
      makeFile("{" + entry("x", "U8", "[9223372036854775808]", "[0,1]") + "}"),
      "shape dimension 0 (9223372036854775808) is too large");
}

TEST(SafeTensors, NegativeDim) {
  expectError(makeFile("{" + entry("x", "F32", "[2,-3]", "[0,0]") + "}"),
              "tensor 'x': shape dimension 1 is negative (-3)");
  expectError(makeFile("{" + entry("x", "F32", "[-1e30]", "[0,0]") + "}"),
              "shape dimension 0 is negative");
}

TEST(SafeTensors, OverflowingShape) {
  // The element count overflows int64.
  expectError(makeFile("{" +
                       entry("x", "U8", "[4294967296,4294967296]", "[0,0]") +
                       "}"),
              "shape [4294967296, 4294967296] has more elements than fit");
  expectError(
      makeFile("{" +
               entry("x", "U8", "[9223372036854775807,9223372036854775807]",
                     "[0,0]") +
               "}"),
      "has more elements than fit in int64");
  // The count fits, the byte size does not.
  expectError(
      makeFile("{" + entry("x", "F32", "[4611686018427387904]", "[0,0]") + "}"),
      "byte size of shape [4611686018427387904] of F32 overflows");
}

TEST(SafeTensors, BadOffsets) {
  expectError(makeFile("{\"x\":{\"dtype\":\"U8\",\"shape\":[1]}}", "a"),
              "tensor 'x': missing 'data_offsets'");
  expectError(makeFile("{" + entry("x", "U8", "[1]", "[0]") + "}", "a"),
              "'data_offsets' is not an array of two offsets");
  expectError(makeFile("{" + entry("x", "U8", "[1]", "[0,1,2]") + "}", "ab"),
              "'data_offsets' is not an array of two offsets");
  expectError(makeFile("{" + entry("x", "U8", "[1]", "{}") + "}", "a"),
              "'data_offsets' is not an array of two offsets");
  expectError(makeFile("{" + entry("x", "U8", "[1]", "[-1,0]") + "}", "a"),
              "'data_offsets' are not both non-negative integers");
  expectError(makeFile("{" + entry("x", "U8", "[1]", "[0,1.0]") + "}", "a"),
              "'data_offsets' are not both non-negative integers");
}

TEST(SafeTensors, BeginAfterEnd) {
  expectError(makeFile("{" + entry("x", "U8", "[0]", "[2,1]") + "}", "abc"),
              "tensor 'x': data_offsets [2, 1] have begin > end");
}

TEST(SafeTensors, OffsetsOutOfRange) {
  expectError(makeFile("{" + entry("x", "U8", "[4]", "[0,4]") + "}", "abc"),
              "tensor 'x': data_offsets [0, 4] exceed the data section of 3 "
              "bytes");
  expectError(
      makeFile("{" +
                   entry("x", "U8", "[1]",
                         "[18446744073709551614,18446744073709551615]") +
                   "}",
               "abc"),
      "exceed the data section");
  // An empty tensor beyond the end is still out of range.
  expectError(makeFile("{" + entry("x", "U8", "[0]", "[9,9]") + "}", "abc"),
              "data_offsets [9, 9] exceed the data section of 3 bytes");
}

TEST(SafeTensors, SizeMismatch) {
  expectError(makeFile("{" + entry("x", "F32", "[2]", "[0,4]") + "}", "abcd"),
              "tensor 'x': data_offsets [0, 4] span 4 bytes but shape [2] of "
              "F32 needs 8 bytes");
  expectError(makeFile("{" + entry("x", "BF16", "[]", "[0,4]") + "}", "abcd"),
              "span 4 bytes but shape [] of BF16 needs 2 bytes");
}

TEST(SafeTensors, OverlappingTensors) {
  expectError(makeFile("{" + entry("a", "U8", "[4]", "[0,4]") + "," +
                           entry("b", "U8", "[4]", "[2,6]") + "}",
                       "abcdef"),
              "tensors 'a' [0, 4) and 'b' [2, 6) overlap");
  // Identical ranges.
  expectError(makeFile("{" + entry("a", "U8", "[4]", "[0,4]") + "," +
                           entry("b", "I32", "[]", "[0,4]") + "}",
                       "abcd"),
              "overlap");
  // A tensor nested inside an earlier, longer one.
  expectError(makeFile("{" + entry("a", "U8", "[8]", "[0,8]") + "," +
                           entry("b", "U8", "[1]", "[2,3]") + "," +
                           entry("c", "U8", "[1]", "[5,6]") + "}",
                       "abcdefgh"),
              "tensors 'a' [0, 8) and 'b' [2, 3) overlap");
}

TEST(SafeTensors, DuplicateNames) {
  expectError(makeFile("{" + entry("a", "U8", "[1]", "[0,1]") + "," +
                           entry("a", "U8", "[1]", "[1,2]") + "}",
                       "ab"),
              "duplicate key 'a' in header");
  // Escapes are decoded before comparing.
  expectError(makeFile("{" + entry("a", "U8", "[1]", "[0,1]") + "," +
                           entry("\\u0061", "U8", "[1]", "[1,2]") + "}",
                       "ab"),
              "duplicate key 'a' in header");
  expectError(makeFile("{\"__metadata__\":{},\"__metadata__\":{}}"),
              "duplicate key '__metadata__'");
}

TEST(SafeTensors, BadMetadata) {
  expectError(makeFile("{\"__metadata__\":[]}"),
              "'__metadata__' is an array, not an object");
  expectError(makeFile("{\"__metadata__\":\"x\"}"),
              "'__metadata__' is a string, not an object");
  expectError(makeFile("{\"__metadata__\":{\"a\":\"b\",\"n\":1}}"),
              "'__metadata__' entry 'n' is a number, not a string");
  expectError(makeFile("{\"__metadata__\":{\"o\":{}}}"),
              "'__metadata__' entry 'o' is an object, not a string");
}
