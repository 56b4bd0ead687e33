//===- OnnxHandlerTableTest.cpp - Handler selection by opset --------------===//
//
// A node is handled by the registered handler with the highest
// since-version not above the node's opset, per (domain, op type).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// A handler that records which registration it came from.
OnnxHandler tagged(int &slot, int tag) {
  return [&slot, tag](tvc_onnx::NodeOp, PatternRewriter &) {
    slot = tag;
    return success();
  };
}

TEST(OnnxHandlerTable, PicksNewestApplicableVersion) {
  int called = 0;
  OnnxHandlerTable table;
  table.onOp("Softmax", 13, "test", tagged(called, 13));
  table.onOp("Softmax", 1, "test", tagged(called, 1));
  table.onOp("Softmax", 20, "test", tagged(called, 20));

  struct Case {
    int64_t version;
    int expected;
  } cases[] = {{1, 1}, {12, 1}, {13, 13}, {17, 13}, {20, 20}, {23, 20}};
  for (const Case &c : cases) {
    const OnnxHandler *handler = table.lookup("", "Softmax", c.version);
    ASSERT_NE(handler, nullptr) << c.version;
    MLIRContext context;
    PatternRewriter rewriter(&context);
    (void)(*handler)(tvc_onnx::NodeOp(), rewriter);
    EXPECT_EQ(called, c.expected) << "opset " << c.version;
  }
}

TEST(OnnxHandlerTable, NothingBeforeTheFirstVersion) {
  int called = 0;
  OnnxHandlerTable table;
  table.onOp("LayerNormalization", 17, "test", tagged(called, 17));
  EXPECT_EQ(table.lookup("", "LayerNormalization", 16), nullptr);
  EXPECT_NE(table.lookup("", "LayerNormalization", 17), nullptr);
}

TEST(OnnxHandlerTable, DomainsAreSeparate) {
  int called = 0;
  OnnxHandlerTable table;
  table.onOp("Gelu", 1, "test", tagged(called, 1), "com.microsoft");
  EXPECT_EQ(table.lookup("", "Gelu", 17), nullptr);
  EXPECT_NE(table.lookup("com.microsoft", "Gelu", 1), nullptr);
  EXPECT_EQ(table.lookup("com.microsoft", "Attention", 1), nullptr);
}

TEST(OnnxHandlerTable, DescribesEveryRegistration) {
  int called = 0;
  OnnxHandlerTable table;
  table.onOp("MatMul", 1, "test", tagged(called, 1));
  table.onOp("Gelu", 1, "test", tagged(called, 1), "com.microsoft");
  std::vector<std::string> lines = table.describe();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "`::MatMul` since 1: test");
  EXPECT_EQ(lines[1], "`com.microsoft::Gelu` since 1: test");
}

TEST(OnnxHandlerTable, SameVersionHandlersAreTriedInOrder) {
  int called = 0;
  OnnxHandlerTable table;
  table.onOp("Add", 7, "first", [&](tvc_onnx::NodeOp, PatternRewriter &) {
    called = 1;
    return failure();
  });
  table.onOp("Add", 7, "second", tagged(called, 2));
  MLIRContext context;
  PatternRewriter rewriter(&context);
  const OnnxHandler *handler = table.lookup("", "Add", 17);
  ASSERT_NE(handler, nullptr);
  EXPECT_TRUE(succeeded((*handler)(tvc_onnx::NodeOp(), rewriter)));
  EXPECT_EQ(called, 2);
  EXPECT_EQ(table.describe().front(), "`::Add` since 7: first; second");
}

TEST(OnnxHandlerTable, BuiltInTableCoversTheRaisedOps) {
  const OnnxHandlerTable &table = getOnnxHandlerTable();
  for (const char *op : {"MatMul", "Gemm", "LayerNormalization", "Softmax",
                         "Relu"})
    EXPECT_NE(table.lookup("", op, 17), nullptr) << op;
}

} // namespace
