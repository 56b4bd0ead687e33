//===- NpyTest.cpp - Tests of the .npy reader -----------------------------===//
//
// Files as NumPy writes them (versions 1.0 and 2.0, several dtypes, 0-d and
// empty arrays), and a malformed file for every check the reader makes: each
// must fail with an error naming the file and the problem, never crash. A
// last test truncates and corrupts a valid file at every byte.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/Npy.h"

#include "llvm/Support/Error.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::tvc;

namespace {

constexpr const char *kName = "test.npy";

/// A .npy file: the preamble of `major`, `header` padded with spaces and a
/// newline to a multiple of 64 bytes (as NumPy does), then `data`.
std::string makeNpy(const std::string &header, const std::string &data,
                    int major = 1) {
  size_t preamble = major == 1 ? 10 : 12;
  std::string text = header;
  size_t total = preamble + text.size() + 1;
  text.append((64 - total % 64) % 64, ' ');
  text += '\n';
  std::string file = "\x93NUMPY";
  file += static_cast<char>(major);
  file += '\0';
  for (size_t i = 0; i < preamble - 8; ++i)
    file += static_cast<char>((text.size() >> (8 * i)) & 0xff);
  return file + text + data;
}

template <typename T> std::string toBytes(const std::vector<T> &values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!bytes.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// The error message of parsing `file`, or "" when it parsed.
std::string errorOf(const std::string &file) {
  llvm::Expected<HostTensor> tensor = parseNpy(file, kName);
  if (tensor)
    return "";
  return llvm::toString(tensor.takeError());
}

TEST(NpyTest, ReadsInt64Matrix) {
  std::vector<int64_t> values = {1, 2, 3, -4, 5, 6};
  std::string file =
      makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }",
              toBytes(values));
  llvm::Expected<HostTensor> tensor = parseNpy(file, kName);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->elementType, static_cast<int32_t>(OnnxElementType::Int64));
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(tensor->bytes.size(), 48u);
  EXPECT_EQ(std::memcmp(tensor->bytes.data(), values.data(), 48), 0);
}

TEST(NpyTest, ReadsVersion2AndDoubleQuotes) {
  std::vector<int32_t> values = {7, 8, 9};
  std::string file =
      makeNpy("{\"descr\": \"<i4\", \"shape\": (3,), \"fortran_order\": False}",
              toBytes(values), /*major=*/2);
  llvm::Expected<HostTensor> tensor = parseNpy(file, kName);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->elementType, static_cast<int32_t>(OnnxElementType::Int32));
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{3}));
}

TEST(NpyTest, ReadsScalarEmptyAndBytes) {
  llvm::Expected<HostTensor> scalar = parseNpy(
      makeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
              toBytes(std::vector<float>{1.5f})),
      kName);
  ASSERT_TRUE(static_cast<bool>(scalar)) << llvm::toString(scalar.takeError());
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->bytes.size(), 4u);

  llvm::Expected<HostTensor> empty = parseNpy(
      makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 5), }",
              ""),
      kName);
  ASSERT_TRUE(static_cast<bool>(empty)) << llvm::toString(empty.takeError());
  EXPECT_EQ(empty->getNumElements(), 0);

  llvm::Expected<HostTensor> bytes = parseNpy(
      makeNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }",
              "abcd"),
      kName);
  ASSERT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
  EXPECT_EQ(bytes->elementType, static_cast<int32_t>(OnnxElementType::UInt8));
}

TEST(NpyTest, AcceptsFortranOrderOfAVector) {
  // One wide dimension: column-major and row-major bytes are the same.
  EXPECT_EQ(errorOf(makeNpy(
                "{'descr': '<i8', 'fortran_order': True, 'shape': (1, 2), }",
                toBytes(std::vector<int64_t>{1, 2}))),
            "");
}

TEST(NpyTest, RejectsMalformedFiles) {
  std::string ok = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
  std::string data = toBytes(std::vector<int64_t>{1, 2});
  struct Case {
    std::string file;
    const char *message;
  } cases[] = {
      {"not a numpy file at all", "is not a .npy file"},
      {"", "is not a .npy file"},
      {"\x93NUMPY", "truncated in the .npy preamble"},
      {std::string("\x93NUMPY\x01\x00\x10", 9), "truncated in the .npy "
                                                "preamble"},
      {std::string("\x93NUMPY\x04\x00", 8) + "xxxxxxxx", "format version 4.0"},
      {std::string("\x93NUMPY\x01\x00\xff\xff", 10) + "{}",
       "declares a 65535-byte header, but only 2 bytes follow"},
      {makeNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }",
               data),
       "has dtype '>i8', which is not supported"},
      {makeNpy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
               data),
       "has dtype '<c8'"},
      {makeNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
               data),
       "has dtype '|O'"},
      {makeNpy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': "
               "(2,), }",
               data),
       "malformed .npy header"},
      {makeNpy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }",
               data + data),
       "Fortran (column-major) order"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
               data),
       "holds 16 data bytes, but its shape and dtype need 24"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
               data),
       "holds 16 data bytes, but its shape and dtype need 8"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': "
               "(9223372036854775807, 9223372036854775807), }",
               data),
       "need more than 2^64"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': "
               "(99999999999999999999,), }",
               data),
       "non-negative integer dimension"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (-2,), }",
               data),
       "non-negative integer dimension"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False}", data),
       "needs 'descr', 'fortran_order' and 'shape'"},
      {makeNpy("{'descr': '<i8', 'descr': '<i8', 'fortran_order': False, "
               "'shape': (2,)}",
               data),
       "duplicate key 'descr'"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), "
               "'extra': 1}",
               data),
       "(the value of 'extra')"},
      {makeNpy("{'descr': '<i8', 'fortran_order': 0, 'shape': (2,)}", data),
       "expected a string, True, False or a tuple"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,)} x",
               data),
       "unexpected text after the header dict"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2 2)}",
               data),
       "expected ',' or ')' in the shape"},
      {makeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,", data),
       "expected a non-negative integer dimension"},
      {makeNpy("{'descr: '<i8'}", data), "expected ':' after"},
      {makeNpy("['descr']", data), "expected '{'"},
  };
  for (const Case &c : cases) {
    std::string error = errorOf(c.file);
    EXPECT_NE(error.find(kName), std::string::npos) << error;
    EXPECT_NE(error.find(c.message), std::string::npos)
        << "got: " << error << "\nwanted: " << c.message;
  }
}

TEST(NpyTest, RejectsMoreThan64Dimensions) {
  std::string shape = "(";
  for (int i = 0; i < 65; ++i)
    shape += "1, ";
  shape += ")";
  std::string error = errorOf(makeNpy(
      "{'descr': '<i8', 'fortran_order': False, 'shape': " + shape + "}",
      toBytes(std::vector<int64_t>{1})));
  EXPECT_NE(error.find("more than 64 dimensions"), std::string::npos) << error;
}

TEST(NpyTest, NeverCrashesOnTruncatedOrCorruptFiles) {
  std::string file =
      makeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
              toBytes(std::vector<int32_t>{1, 2, 3, 4}));
  for (size_t length = 0; length < file.size(); ++length)
    EXPECT_NE(errorOf(file.substr(0, length)), "") << length;
  for (size_t at = 0; at < file.size(); ++at)
    for (char byte : {'\0', '\xff', '(', '\'', ','}) {
      std::string corrupt = file;
      corrupt[at] = byte;
      llvm::Expected<HostTensor> tensor = parseNpy(corrupt, kName);
      if (tensor)
        EXPECT_EQ(tensor->bytes.size(),
                  tensor->getNumElements() *
                      getElementSize(tensor->elementType));
      else
        llvm::consumeError(tensor.takeError());
    }
}

TEST(NpyTest, ReadsFilesAndNamesMissingOnes) {
  llvm::Expected<HostTensor> missing = readNpyFile("/nonexistent/x.npy");
  ASSERT_FALSE(static_cast<bool>(missing));
  std::string error = llvm::toString(missing.takeError());
  EXPECT_NE(error.find("/nonexistent/x.npy: cannot read"), std::string::npos)
      << error;
}

} // namespace
