//===- OnnxToTvc.cpp - convert-onnx-to-tvc --------------------------------===//
//
// The handler table, the pattern that dispatches each tvc_onnx.node to its
// handler, and the pass that applies it, then raises structured linears
// (StructuredLinear.cpp), and reports what stayed generic.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"
#include "passes/Conversion/Passes.h"

#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTONNXTOTVC
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Handler table
//===----------------------------------------------------------------------===//

/// Table key of (domain, op type).
static std::string makeKey(StringRef domain, StringRef opType) {
  return (domain + "::" + opType).str();
}

void OnnxHandlerTable::onOp(StringRef opType, int64_t sinceVersion,
                            StringRef what, OnnxHandler handler,
                            StringRef domain) {
  std::vector<Entry> &entries = handlers[makeKey(domain, opType)];
  // Several handlers of one op and version (e.g. Add: bias fusion, the root
  // of a decomposed layer norm) are tried in registration order; a handler
  // that fails leaves the IR unchanged.
  for (Entry &entry : entries) {
    if (entry.sinceVersion != sinceVersion)
      continue;
    entry.what += "; " + what.str();
    entry.handler = [first = std::move(entry.handler),
                     second = std::move(handler)](tvc_onnx::NodeOp node,
                                                  PatternRewriter &rewriter) {
      if (succeeded(first(node, rewriter)))
        return success();
      return second(node, rewriter);
    };
    return;
  }
  entries.push_back({sinceVersion, what.str(), std::move(handler)});
  llvm::sort(entries, [](const Entry &lhs, const Entry &rhs) {
    return lhs.sinceVersion > rhs.sinceVersion;
  });
}

const OnnxHandler *OnnxHandlerTable::lookup(StringRef domain, StringRef opType,
                                            int64_t version) const {
  auto it = handlers.find(makeKey(domain, opType));
  if (it == handlers.end())
    return nullptr;
  for (const Entry &entry : it->second)
    if (entry.sinceVersion <= version)
      return &entry.handler;
  return nullptr;
}

std::vector<std::string> OnnxHandlerTable::describe() const {
  std::vector<std::string> lines;
  for (const auto &entry : handlers)
    for (const Entry &handler : entry.second)
      lines.push_back(llvm::formatv("`{0}` since {1}: {2}", entry.getKey(),
                                    handler.sinceVersion, handler.what));
  llvm::sort(lines);
  return lines;
}

std::vector<std::string> OnnxHandlerTable::getOpTypes(StringRef domain) const {
  std::string prefix = makeKey(domain, "");
  std::vector<std::string> opTypes;
  for (const auto &entry : handlers)
    if (entry.getKey().starts_with(prefix))
      opTypes.push_back(entry.getKey().drop_front(prefix.size()).str());
  llvm::sort(opTypes);
  return opTypes;
}

void mlir::tvc::registerAllOnnxHandlers(OnnxHandlerTable &table,
                                        WeightStore &store) {
  registerOnnxLinearHandlers(table);
  registerOnnxNormalizationHandlers(table);
  registerOnnxActivationHandlers(table);
  registerOnnxAttentionHandlers(table, store);
}

const OnnxHandlerTable &mlir::tvc::getOnnxHandlerTable() {
  static WeightStore store;
  static const OnnxHandlerTable table = [] {
    OnnxHandlerTable table;
    registerAllOnnxHandlers(table, store);
    return table;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int64_t mlir::tvc::getIntAttr(tvc_onnx::NodeOp node, StringRef name,
                              int64_t fallback) {
  if (auto attr = dyn_cast_or_null<IntegerAttr>(node.getAttrs().get(name)))
    return attr.getInt();
  return fallback;
}

double mlir::tvc::getFloatAttr(tvc_onnx::NodeOp node, StringRef name,
                               double fallback) {
  if (auto attr = dyn_cast_or_null<FloatAttr>(node.getAttrs().get(name)))
    return attr.getValueAsDouble();
  return fallback;
}

/// The single float element of `attr`, if it has exactly one.
static std::optional<double> getSingleFloat(Attribute attr) {
  auto elements = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!elements || elements.getNumElements() != 1 ||
      !isa<FloatType>(elements.getElementType()))
    return std::nullopt;
  return (*elements.getValues<APFloat>().begin()).convertToDouble();
}

Attribute mlir::tvc::getConstantAttr(Value value) {
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    return constant.getValue();
  if (tvc_onnx::NodeOp node = getDefiningNode(value, "Constant"))
    return node.getAttrs().get("value");
  return {};
}

std::optional<double> mlir::tvc::getScalarConstant(Value value) {
  return getSingleFloat(getConstantAttr(value));
}

tvc_onnx::NodeOp mlir::tvc::getDefiningNode(Value value, StringRef opType) {
  auto node = value.getDefiningOp<tvc_onnx::NodeOp>();
  if (!node || node.getOpType() != opType || !node.getDomain().empty())
    return {};
  return node;
}

void mlir::tvc::replaceNodeResults(tvc_onnx::NodeOp node,
                                   PatternRewriter &rewriter,
                                   ArrayRef<Value> replacements) {
  for (auto [index, old] : llvm::enumerate(node.getResults())) {
    Value replacement =
        index < replacements.size() ? replacements[index] : Value();
    if (!replacement)
      continue;
    Value cast;
    for (OpOperand &use : llvm::make_early_inc_range(old.getUses())) {
      // Generic nodes take any type and are re-typed by their own handler.
      if (isa<tvc_onnx::NodeOp>(use.getOwner()) ||
          old.getType() == replacement.getType()) {
        rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(replacement); });
        continue;
      }
      if (!cast) {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointAfterValue(replacement);
        cast = tensor::CastOp::create(rewriter, node.getLoc(), old.getType(),
                                      replacement);
      }
      rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(cast); });
    }
  }
  rewriter.eraseOp(node);
}

void mlir::tvc::replaceNode(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
                            Value replacement) {
  replaceNodeResults(node, rewriter, {replacement});
}

SmallVector<std::pair<Value, Value>>
mlir::tvc::getOperandOrders(Value value, StringRef opType) {
  tvc_onnx::NodeOp node = getDefiningNode(value, opType);
  if (!node || node.getInputs().size() != 2)
    return {};
  Value a = node.getInputs()[0], b = node.getInputs()[1];
  return {{a, b}, {b, a}};
}

bool mlir::tvc::isConstant(Value value, double expected) {
  std::optional<double> actual = getScalarConstant(value);
  return actual && std::abs(*actual - expected) <= 1e-5 * std::abs(expected);
}

bool mlir::tvc::isRankedFloat(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

//===----------------------------------------------------------------------===//
// Pattern and pass
//===----------------------------------------------------------------------===//

namespace {

/// Dispatches a node to its handler.
struct OnnxNodePattern : OpRewritePattern<tvc_onnx::NodeOp> {
  OnnxNodePattern(MLIRContext *context, const OnnxHandlerTable &table)
      : OpRewritePattern(context), table(table) {}

  LogicalResult matchAndRewrite(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) const override {
    const OnnxHandler *handler =
        table.lookup(node.getDomain(), node.getOpType(), node.getVersion());
    if (!handler)
      return rewriter.notifyMatchFailure(node, "no handler for this op");
    return (*handler)(node, rewriter);
  }

  const OnnxHandlerTable &table;
};

struct ConvertOnnxToTvcPass
    : public tvc::impl::ConvertOnnxToTvcBase<ConvertOnnxToTvcPass> {
  using ConvertOnnxToTvcBase::ConvertOnnxToTvcBase;

  void runOnOperation() override {
    WeightStore store(weightsDir);
    OnnxHandlerTable table;
    registerAllOnnxHandlers(table, store);
    RewritePatternSet patterns(&getContext());
    populateOnnxToTvcPatterns(patterns, table);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError("convert-onnx-to-tvc did not converge");
      return signalPassFailure();
    }
    // Structured linears span several nodes, raised in any order: they are
    // matched once every node that can be is a dense linear.
    WeightWriter writer(getOperation());
    OutInWeights outIn(getOperation(), store, writer);
    RewritePatternSet structured(&getContext());
    populateOnnxStructuredLinearPatterns(structured, outIn);
    if (failed(applyPatternsGreedily(getOperation(), std::move(structured)))) {
      getOperation().emitError("convert-onnx-to-tvc did not converge");
      return signalPassFailure();
    }
    outIn.eraseUnused();
    // Inline weights: nothing to write.
    if (llvm::Error error = writer.commit()) {
      getOperation().emitError(llvm::toString(std::move(error)));
      return signalPassFailure();
    }
    if (!strict)
      return;
    // One message naming every node that stayed generic.
    std::map<std::string, std::vector<std::string>> remaining;
    getOperation().walk([&](tvc_onnx::NodeOp node) {
      std::string key =
          llvm::formatv("{0} (domain '{1}', opset {2})", node.getOpType(),
                        node.getDomain(), node.getVersion());
      std::vector<std::string> &names = remaining[key];
      if (!node.getNodeName().empty())
        names.push_back(node.getNodeName().str());
      else
        names.push_back("");
    });
    if (remaining.empty())
      return;
    InFlightDiagnostic diag = getOperation().emitError()
                              << "unsupported ONNX nodes remain:";
    for (const auto &[key, names] : remaining) {
      diag << "\n  " << key << ": " << names.size() << " node(s)";
      std::vector<std::string> named;
      for (const std::string &name : names)
        if (!name.empty())
          named.push_back("'" + name + "'");
      for (size_t i = 0; i < named.size() && i < 3; ++i)
        diag << (i ? ", " : " ") << named[i];
      if (named.size() > 3)
        diag << ", ...";
    }
    signalPassFailure();
  }
};

} // namespace

void mlir::tvc::populateOnnxToTvcPatterns(RewritePatternSet &patterns,
                                          const OnnxHandlerTable &table) {
  patterns.add<OnnxNodePattern>(patterns.getContext(), table);
}
