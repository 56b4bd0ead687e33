//===- KvOffloadManifestTest.cpp - The manifest's offload-kv lines --------===//
//
// getKvOffloadManifest (lib/Driver/CompileModel.h) on small planned modules
// whose KV-cache arguments carry the placements tvc-plan-offload writes,
// written here by hand: the lines it writes, the plans it leaves alone
// (weights only, no plan) and the placements it refuses.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/CompileModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;

namespace {

/// A module with a prefill and a decode entry point, each taking two
/// caches with the argument attributes `prefillKey`/`prefillValue` and
/// `decodeKey`/`decodeValue` (inside the braces after `tvc.kv_cache`), and
/// the module attributes `moduleAttrs`.
std::string planned(
    const std::string &prefillKey, const std::string &prefillValue,
    const std::string &decodeKey, const std::string &decodeValue,
    const std::string &moduleAttrs = "tvc.offload = {budget = 1048576 : i64}",
    const std::string &valueType = "tensor<1x64x2x8xf16>") {
  auto cache = [](const std::string &name, const std::string &type,
                  const std::string &attrs) {
    return "%" + name + ": " + type + " {tvc.kv_cache" +
           (attrs.empty() ? "" : ", " + attrs) + "}";
  };
  auto entry = [&](const std::string &name, const std::string &key,
                   const std::string &value) {
    return "  func.func @" + name +
           "(%ids: tensor<1x?xi64>, %past: tensor<i64>, " +
           cache("key", "tensor<1x64x32xf32>", key) + ", " +
           cache("value", valueType, value) +
           ") -> tensor<1x?xi64> {\n    return %ids : tensor<1x?xi64>\n  }\n";
  };
  return "module attributes {" + moduleAttrs + "} {\n" +
         entry("forward_prefill", prefillKey, prefillValue) +
         entry("forward_decode", decodeKey, decodeValue) +
         "  func.func @forward(%ids: tensor<1x?xi64>) -> tensor<1x?xi64> {\n"
         "    return %ids : tensor<1x?xi64>\n  }\n}\n";
}

std::string placed(const char *placement, int item) {
  return std::string("tvc.kv_placement = \"") + placement +
         "\", tvc.kv_item = " + std::to_string(item) + " : i64";
}

class KvOffloadManifest : public ::testing::Test {
protected:
  KvOffloadManifest() { context.loadDialect<func::FuncDialect>(); }

  /// The lines for `text`, or "error: " and the message.
  std::string linesFor(const std::string &text, bool hostAttention = false) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(text, ParserConfig(&context));
    if (!module)
      return "unparsable test module";
    llvm::Expected<std::string> lines =
        tvc::getKvOffloadManifest(*module, hostAttention);
    if (!lines)
      return "error: " + llvm::toString(lines.takeError());
    return *lines;
  }

  MLIRContext context;
};

/// One line per prefill cache, in argument order: batch, rows and the bytes
/// of the rest of a row (f32 x 32; f16 x 2 x 8), and the placement.
TEST_F(KvOffloadManifest, LinesFromThePlacements) {
  EXPECT_EQ(linesFor(planned(placed("streamed", 0), placed("resident", 1),
                             placed("streamed", 0), placed("resident", 1))),
            "offload-kv 0 1 64 128 streamed\n"
            "offload-kv 1 1 64 32 resident\n");
}

/// No KV placement (a plan of the weights only, or no plan at all): no
/// lines, so older plans compile as before.
TEST_F(KvOffloadManifest, NothingWithoutKvPlacements) {
  EXPECT_EQ(linesFor(planned("", "", "", "")), "");
  EXPECT_EQ(linesFor(planned(placed("streamed", 0), placed("streamed", 1),
                             placed("streamed", 0), placed("streamed", 1),
                             "tvc.other = 1 : i64")),
            "");
}

/// host_attention is the CUDA target's; the CPU pipeline cannot run it.
TEST_F(KvOffloadManifest, HostAttentionIsRefused) {
  std::string lines =
      linesFor(planned(placed("resident", 0), placed("host_attention", 1),
                       placed("resident", 0), placed("host_attention", 1)));
  EXPECT_NE(lines.find("error: KV cache argument #3 of @forward_prefill: "
                       "placed 'host_attention': attention offload runs on "
                       "the CUDA target only (--target=cuda)"),
            std::string::npos)
      << lines;
}

/// The CUDA target writes it: the cache stays in host memory where its
/// attention runs.
TEST_F(KvOffloadManifest, HostAttentionOnCuda) {
  std::string lines = linesFor(
      planned(placed("resident", 0), placed("host_attention", 1),
              placed("resident", 0), placed("host_attention", 1)),
      /*hostAttention=*/true);
  EXPECT_NE(lines.find(" host_attention\n"), std::string::npos) << lines;
  EXPECT_EQ(lines.find("error"), std::string::npos) << lines;
}

/// Plans the manifest cannot express are refused with the argument.
TEST_F(KvOffloadManifest, InconsistentPlansAreRefused) {
  struct Case {
    std::string module;
    const char *message;
  } cases[] = {
      {planned(placed("streamed", 0), "", placed("streamed", 0),
               placed("resident", 1)),
       "argument #3 of @forward_prefill: the offload plan places some KV "
       "caches but not this one"},
      {planned(placed("streamed", 1), placed("resident", 0),
               placed("streamed", 0), placed("resident", 1)),
       "argument #2 of @forward_prefill: tvc.kv_item is 1, expected its "
       "ordinal among the caches, 0"},
      {planned(placed("paged", 0), placed("resident", 1), placed("paged", 0),
               placed("resident", 1)),
       "unknown tvc.kv_placement 'paged'"},
      {planned(placed("streamed", 0), placed("resident", 1),
               placed("resident", 0), placed("resident", 1)),
       "argument #2 of @forward_decode: tensor<1x64x32xf32> placed "
       "'resident', but the cache it continues (argument #2 of "
       "@forward_prefill) is tensor<1x64x32xf32> placed 'streamed'"},
      {planned(placed("streamed", 0), placed("resident", 1),
               placed("streamed", 0), placed("resident", 1),
               "tvc.offload = {budget = 1048576 : i64}", "tensor<1x?x16xf32>"),
       "an offloaded cache has a static shape [batch, rows, ...] of "
       "numbers, got tensor<1x?x16xf32>"},
  };
  for (const Case &test : cases) {
    std::string lines = linesFor(test.module);
    EXPECT_EQ(lines.rfind("error: ", 0), 0u) << test.module;
    EXPECT_NE(lines.find(test.message), std::string::npos)
        << test.module << "gave: " << lines;
  }
}

} // namespace
