//===- WeightStoreTest.cpp - Tests of the weight store
//---------------------===//
//
// Reads inline (dense, splat, dense_resource) and external (safetensors)
// weights of tvc.global ops, and checks every mismatch gives a clear error.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/WeightStore.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// A temporary directory holding one safetensors file with tensors
/// "w" (f32 [2, 3], values 0..5) and "h" (f16 [4]).
class WeightStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    context.loadDialect<TvcDialect>();
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tvc-weights", dir));
    std::vector<float> w = {0, 1, 2, 3, 4, 5};
    std::vector<uint16_t> h = {0x3c00, 0x4000, 0x4200, 0x4400};
    std::vector<TensorToWrite> tensors = {
        {"w",
         DType::F32,
         {2, 3},
         {reinterpret_cast<const char *>(w.data()), w.size() * 4}},
        {"h",
         DType::F16,
         {4},
         {reinterpret_cast<const char *>(h.data()), h.size() * 2}}};
    SmallString<128> path(dir);
    llvm::sys::path::append(path, "m.safetensors");
    ASSERT_FALSE(writeSafeTensors(path, tensors));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  /// Parses `source` and returns the global named `name`.
  GlobalOp parseGlobal(StringRef source, StringRef name) {
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return {};
    return module->lookupSymbol<GlobalOp>(name);
  }

  /// The error message of reading the global `name` declared by `source`
  /// from the fixture's directory (empty if the read succeeds).
  std::string readError(StringRef source, StringRef name) {
    GlobalOp global = parseGlobal(source, name);
    if (!global)
      return "<parse failure>";
    WeightStore store(dir.str().str());
    llvm::Expected<WeightView> view = store.read(global);
    if (view)
      return "";
    return llvm::toString(view.takeError());
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  SmallString<128> dir;
};

TEST_F(WeightStoreTest, ReadsExternalTensor) {
  GlobalOp global = parseGlobal(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"m.safetensors", "w">)",
      "w");
  ASSERT_TRUE(global);
  WeightStore store(dir.str().str());
  llvm::Expected<WeightView> view = store.read(global);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  EXPECT_EQ(view->dtype, DType::F32);
  EXPECT_EQ(view->shape, (SmallVector<int64_t, 4>{2, 3}));
  ASSERT_EQ(view->bytes.size(), 24u);
  float last;
  std::memcpy(&last, view->bytes.data() + 20, 4);
  EXPECT_EQ(last, 5.0f);
}

TEST_F(WeightStoreTest, OpensEachFileOnce) {
  WeightStore store(dir.str().str());
  auto first = store.getFile("m.safetensors");
  auto second = store.getFile("m.safetensors");
  ASSERT_TRUE(bool(first) && bool(second));
  EXPECT_EQ(*first, *second);
}

TEST_F(WeightStoreTest, ReadsHalfPrecisionTensor) {
  GlobalOp global = parseGlobal(
      R"(tvc.global @h : tensor<4xf16> = #tvc.external<"m.safetensors", "h">)",
      "h");
  ASSERT_TRUE(global);
  WeightStore store(dir.str().str());
  llvm::Expected<WeightView> view = store.read(global);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  EXPECT_EQ(view->dtype, DType::F16);
  EXPECT_EQ(view->bytes.size(), 8u);
}

TEST_F(WeightStoreTest, MissingFileIsAnError) {
  std::string message = readError(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"nope.safetensors", "w">)",
      "w");
  EXPECT_NE(message.find("@w"), std::string::npos) << message;
  EXPECT_NE(message.find("nope.safetensors"), std::string::npos) << message;
}

TEST_F(WeightStoreTest, MissingKeyIsAnError) {
  std::string message = readError(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"m.safetensors", "absent">)",
      "w");
  EXPECT_NE(message.find("no tensor named 'absent'"), std::string::npos)
      << message;
}

TEST_F(WeightStoreTest, DTypeMismatchIsAnError) {
  std::string message = readError(
      R"(tvc.global @w : tensor<2x3xf16> = #tvc.external<"m.safetensors", "w">)",
      "w");
  EXPECT_NE(message.find("stored as F32, declared as F16"), std::string::npos)
      << message;
}

TEST_F(WeightStoreTest, ShapeMismatchIsAnError) {
  std::string message = readError(
      R"(tvc.global @w : tensor<3x2xf32> = #tvc.external<"m.safetensors", "w">)",
      "w");
  EXPECT_NE(message.find("stored with shape [2x3], declared as [3x2]"),
            std::string::npos)
      << message;
}

TEST_F(WeightStoreTest, ReadsInlineDenseWeight) {
  GlobalOp global = parseGlobal(
      "tvc.global @b : tensor<3xf32> = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>",
      "b");
  ASSERT_TRUE(global);
  WeightStore store;
  llvm::Expected<WeightView> view = store.read(global);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  ASSERT_EQ(view->bytes.size(), 12u);
  float second;
  std::memcpy(&second, view->bytes.data() + 4, 4);
  EXPECT_EQ(second, 2.0f);
}

TEST_F(WeightStoreTest, ExpandsInlineSplatWeight) {
  GlobalOp global = parseGlobal(
      "tvc.global @b : tensor<2x2xf32> = dense<7.0> : tensor<2x2xf32>", "b");
  ASSERT_TRUE(global);
  WeightStore store;
  llvm::Expected<WeightView> view = store.read(global);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  ASSERT_EQ(view->bytes.size(), 16u);
  for (int i = 0; i < 4; ++i) {
    float value;
    std::memcpy(&value, view->bytes.data() + 4 * i, 4);
    EXPECT_EQ(value, 7.0f);
  }
}

TEST_F(WeightStoreTest, ReadsInlineResourceWeight) {
  // Resource blobs start with a 4-byte alignment word (here 4).
  GlobalOp global = parseGlobal(R"(
    tvc.global @r : tensor<2xf32> = dense_resource<blob> : tensor<2xf32>
    {-#
      dialect_resources: {
        builtin: {
          blob: "0x040000000000803F00000040"
        }
      }
    #-}
  )",
                                "r");
  ASSERT_TRUE(global);
  WeightStore store;
  llvm::Expected<WeightView> view = store.read(global);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  ASSERT_EQ(view->bytes.size(), 8u);
  float values[2];
  std::memcpy(values, view->bytes.data(), 8);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
}

TEST_F(WeightStoreTest, ResolvesRelativeAndAbsolutePaths) {
  WeightStore store("/base");
  EXPECT_EQ(store.resolvePath("m.safetensors"), "/base/m.safetensors");
  EXPECT_EQ(store.resolvePath("/abs/m.safetensors"), "/abs/m.safetensors");
  WeightStore here;
  EXPECT_EQ(here.resolvePath("m.safetensors"), "m.safetensors");
}

//===----------------------------------------------------------------------===//
// WeightWriter
//===----------------------------------------------------------------------===//

/// Inline: a dense_resource global the store reads back byte for byte, with
/// a unique name when the name is taken.
TEST_F(WeightStoreTest, WriterCreatesInlineWeights) {
  GlobalOp existing = parseGlobal(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"m.safetensors", "w">)",
      "w");
  ASSERT_TRUE(existing);
  WeightWriter writer(*module);
  std::vector<int8_t> bytes = {1, -2, 3, -4};
  auto type = RankedTensorType::get({2, 2}, IntegerType::get(&context, 8));
  GlobalOp created = writer.create(
      "w", type,
      ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()), 4));
  EXPECT_EQ(created.getSymName(), "w_1");
  EXPECT_TRUE(isa<DenseResourceElementsAttr>(created.getValue()));
  ASSERT_FALSE(bool(writer.commit()));
  WeightStore store;
  llvm::Expected<WeightView> view = store.read(created);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  EXPECT_EQ(view->dtype, DType::I8);
  ASSERT_EQ(view->bytes.size(), 4u);
  EXPECT_EQ(std::memcmp(view->bytes.data(), bytes.data(), 4), 0);
}

/// With a file: #tvc.external globals, one safetensors file written by
/// commit() that the store reads back.
TEST_F(WeightStoreTest, WriterWritesOneFile) {
  ASSERT_TRUE(parseGlobal(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"m.safetensors", "w">)",
      "w"));
  WeightWriter writer(*module, "new.safetensors", dir.str().str());
  std::vector<float> values = {0.5f, -1.5f};
  GlobalOp created = writer.create(
      "v", RankedTensorType::get({2}, Float32Type::get(&context)),
      ArrayRef<char>(reinterpret_cast<const char *>(values.data()), 8));
  auto external = dyn_cast<ExternalWeightAttr>(created.getValue());
  ASSERT_TRUE(external);
  EXPECT_EQ(external.getFile(), "new.safetensors");
  EXPECT_EQ(external.getKey(), "v");
  ASSERT_FALSE(bool(writer.commit()));
  WeightStore store(dir.str().str());
  llvm::Expected<WeightView> view = store.read(created);
  ASSERT_TRUE(bool(view)) << llvm::toString(view.takeError());
  float back[2];
  std::memcpy(back, view->bytes.data(), 8);
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[1], -1.5f);
}

/// Never over a file the module reads: commit() refuses and writes nothing.
TEST_F(WeightStoreTest, WriterRefusesAnInputFile) {
  ASSERT_TRUE(parseGlobal(
      R"(tvc.global @w : tensor<2x3xf32> = #tvc.external<"m.safetensors", "w">)",
      "w"));
  SmallString<128> path(dir);
  llvm::sys::path::append(path, "m.safetensors");
  uint64_t sizeBefore = 0;
  ASSERT_FALSE(llvm::sys::fs::file_size(path, sizeBefore));
  WeightWriter writer(*module, "m.safetensors", dir.str().str());
  float value = 1.0f;
  writer.create("v", RankedTensorType::get({1}, Float32Type::get(&context)),
                ArrayRef<char>(reinterpret_cast<const char *>(&value), 4));
  llvm::Error error = writer.commit();
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("@w is read from it"),
            std::string::npos);
  uint64_t sizeAfter = 0;
  ASSERT_FALSE(llvm::sys::fs::file_size(path, sizeAfter));
  EXPECT_EQ(sizeBefore, sizeAfter);
}

} // namespace
