//===- OnnxToTvc.h - Raising ONNX nodes to tvc ops --------------*- C++ -*-===//
//
// The handler table of convert-onnx-to-tvc and the helpers handlers share
// to read node attributes and constant operands. Each op family registers
// its handlers from its own file.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_CONVERSION_ONNXTOTVC_ONNXTOTVC_H
#define TVC_PASSES_CONVERSION_ONNXTOTVC_ONNXTOTVC_H

#include "dialects/onnx/IR/TvcOnnxOps.h"
#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mlir::tvc {

class WeightStore;
class WeightWriter;

/// Rewrites one ONNX node (the handler replaces it, or returns failure with
/// a match-failure note and leaves the IR unchanged).
using OnnxHandler =
    std::function<LogicalResult(tvc_onnx::NodeOp, PatternRewriter &)>;

/// Handlers keyed by (domain, op_type), each valid from an opset version on.
class OnnxHandlerTable {
public:
  /// Registers `handler` for `opType` in `domain` from opset `sinceVersion`.
  /// A second handler for the same op and version is tried after the first
  /// fails.
  /// `what` says in a few words what the handler raises (for the docs).
  void onOp(StringRef opType, int64_t sinceVersion, StringRef what,
            OnnxHandler handler, StringRef domain = "");

  /// The handler for a node: the one with the highest since-version not
  /// above the node's version; nullptr when none applies.
  const OnnxHandler *lookup(StringRef domain, StringRef opType,
                            int64_t version) const;

  /// One line per registered op and version, sorted, for docs and tests:
  /// "`domain::op_type` since N: what; what".
  std::vector<std::string> describe() const;

  /// The op types with a handler in `domain`, sorted.
  std::vector<std::string> getOpTypes(StringRef domain = "") const;

private:
  struct Entry {
    int64_t sinceVersion;
    std::string what;
    OnnxHandler handler;
  };
  llvm::StringMap<std::vector<Entry>> handlers;
};

/// The families' registration functions (one file each). Handlers that
/// read constant tensors (attention masks) do so through `store`.
void registerOnnxLinearHandlers(OnnxHandlerTable &table);
void registerOnnxNormalizationHandlers(OnnxHandlerTable &table);
void registerOnnxActivationHandlers(OnnxHandlerTable &table);
void registerOnnxAttentionHandlers(OnnxHandlerTable &table, WeightStore &store);

/// Registers every family's handlers.
void registerAllOnnxHandlers(OnnxHandlerTable &table, WeightStore &store);

/// A table of all handlers (reading weights relative to the current
/// directory), for listings and tests.
const OnnxHandlerTable &getOnnxHandlerTable();

/// Adds the pattern dispatching through `table` (which must outlive it).
void populateOnnxToTvcPatterns(RewritePatternSet &patterns,
                               const OnnxHandlerTable &table);

/// The [out, in] weights that structured linears need, from dense linears
/// raised from ONNX: the weight itself when stored [out, in], else a
/// transposed copy written once per global through `writer`. Stacks of
/// blocks (BlockDense) are handled alike, each block transposed.
class OutInWeights {
public:
  OutInWeights(ModuleOp module, WeightStore &store, WeightWriter &writer)
      : module(module), store(store), writer(writer) {}

  /// True when `linear` is a dense linear by one rank-2 tvc.weight whose
  /// bytes can be read (when they must be transposed).
  bool isFactor(LinearOp linear);
  /// The [out, in] weight of `linear` (isFactor returned true), read at the
  /// rewriter's insertion point.
  Value get(LinearOp linear, PatternRewriter &rewriter);
  /// True when `weight` is a tvc.weight of a rank-3 global (blocks stacked
  /// [k, in, out] for `layout` InOut, [k, out, in] for OutIn) whose bytes
  /// can be read (when they must be transposed).
  bool isBlockStack(Value weight, WeightLayout layout);
  /// The blocks of `weight` (isBlockStack returned true) stacked
  /// [k, out, in], read at the rewriter's insertion point.
  Value getBlocks(Value weight, WeightLayout layout, PatternRewriter &rewriter);
  /// Erases the [in, out] globals that get() replaced and nothing reads.
  void eraseUnused();

private:
  GlobalOp getGlobal(Value weight);
  bool isReadable(GlobalOp global);
  /// A tvc.weight of the copy of `global` with its two innermost dimensions
  /// swapped (made once).
  Value getTransposed(GlobalOp global, Location loc, PatternRewriter &rewriter);

  ModuleOp module;
  WeightStore &store;
  WeightWriter &writer;
  llvm::DenseMap<Operation *, GlobalOp> transposed;
  SmallVector<GlobalOp> replaced;
};

/// Adds the patterns raising factored dense linears (a low-rank pair, a
/// LoRA layer with its ONNX scale and dropout, a BlockDense layer's batched
/// block MatMul, a block-shuffle layer's two block stages) into structured
/// ones (StructuredLinear.cpp).
/// `weights` must outlive them.
void populateOnnxStructuredLinearPatterns(RewritePatternSet &patterns,
                                          OutInWeights &weights);

//===----------------------------------------------------------------------===//
// Helpers for handlers
//===----------------------------------------------------------------------===//

/// An integer attribute of the node, or `fallback`.
int64_t getIntAttr(tvc_onnx::NodeOp node, StringRef name, int64_t fallback);
/// A float attribute of the node, or `fallback`.
double getFloatAttr(tvc_onnx::NodeOp node, StringRef name, double fallback);
/// The `value` attribute of the arith.constant or ONNX Constant node that
/// defines `value`; null for anything else.
Attribute getConstantAttr(Value value);
/// The value of a single-element float constant (arith.constant or an ONNX
/// Constant node), if `value` is one.
std::optional<double> getScalarConstant(Value value);
/// The node defining `value` when it is an ONNX node of `opType`.
tvc_onnx::NodeOp getDefiningNode(Value value, StringRef opType);
/// Replaces the single-result `node` by `replacement`, whose type may be
/// more precise than the node's (ONNX could not infer it, e.g. for ops
/// newer than libonnx's schemas): generic users take it as is, other users
/// get a tensor.cast to the old type.
void replaceNode(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
                 Value replacement);
/// The same for several results; a null replacement marks a result the
/// caller checked is unused.
void replaceNodeResults(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
                        ArrayRef<Value> replacements);
/// True when `value` is a ranked float tensor.
bool isRankedFloat(Value value);
/// The operands of the binary ONNX node of `opType` defining `value`, in
/// both orders (for commutative matching); empty when it is not one.
SmallVector<std::pair<Value, Value>> getOperandOrders(Value value,
                                                      StringRef opType);
/// True when `value` is the scalar constant `expected` (relative 1e-5).
bool isConstant(Value value, double expected);

} // namespace mlir::tvc

#endif // TVC_PASSES_CONVERSION_ONNXTOTVC_ONNXTOTVC_H
