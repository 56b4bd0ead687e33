//===- RecomputeKv.cpp - tvc-recompute-kv ---------------------------------===//
//
// Recompute instead of caching (ALISA's third choice besides keeping a KV
// cache resident or offloading it): an attention's key and value caches are
// replaced by one cache of the input both are computed from (GPT-2's
// normalised hidden states), and every call recomputes the keys and values
// of the rows it attends to from that cache.
//
// Works on the prefill/decode entry points of tvc-derive-decode. For each
// attention that reads a key cache and a value cache (function arguments
// marked `tvc.kv_cache`): the rows written into them, S_k and S_v, are traced
// back through row-local ops (tvc.linear, tvc.split) to their nearest
// common ancestor X of the fewest bytes per row. When X's row is smaller
// than S_k's and S_v's together, the key cache argument becomes an X cache,
// every slice read, slice write and concatenation of the key cache (its
// "web") is rebuilt over X's width, the value cache and its web go, and the
// attention reads f(X rows) and g(X rows), where f and g are clones of the
// chains from X to S_k and S_v. An attention with `kv_len(%n)` gets the
// first %n rows (a cache of positions, or a ring's filled rows) and no
// `kv_len`: its mask sees the same relative positions. Only pairs that every
// entry point can rewrite the same way are rewritten, so prefill and decode
// keep sharing their caches.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCRECOMPUTEKV
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// `[B, T, width]`: the shape of hidden states, keys, values and caches.
RankedTensorType rowsType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 3 && !type.isDynamicDim(2) ? type : nullptr;
}

/// Bytes of one row (the last dimension).
int64_t rowBytes(RankedTensorType type) {
  return type.getDimSize(2) * type.getElementTypeBitWidth() / 8;
}

/// An op that computes each row of its result from the same row of one
/// operand (`chainOperand`) and values that do not depend on the tokens
/// (weights): cloning it over other rows computes those rows.
std::optional<unsigned> chainOperand(Operation *op) {
  auto fromWeights = [](Value value) {
    return value.getDefiningOp<WeightOp>() != nullptr;
  };
  if (auto linear = dyn_cast<LinearOp>(op)) {
    if (!llvm::all_of(linear.getWeights(), fromWeights) ||
        (linear.getBias() && !fromWeights(linear.getBias())))
      return std::nullopt;
    return 0;
  }
  if (isa<SplitOp>(op))
    return 0;
  return std::nullopt;
}

/// `value` and the values it is computed from through row-local ops, nearest
/// first, while they keep `value`'s batch and token dimensions.
SmallVector<Value> rowAncestors(Value value) {
  SmallVector<Value> chain{value};
  RankedTensorType type = rowsType(value);
  while (Operation *op = chain.back().getDefiningOp()) {
    std::optional<unsigned> operand = chainOperand(op);
    if (!operand)
      break;
    Value input = op->getOperand(*operand);
    RankedTensorType inputType = rowsType(input);
    if (!inputType ||
        inputType.getShape().take_front(2) != type.getShape().take_front(2))
      break;
    chain.push_back(input);
  }
  return chain;
}

/// The ops from `from` to `to` (a value of `rowAncestors(to)`), in the order
/// they run.
SmallVector<Operation *> chainOps(Value from, Value to) {
  SmallVector<Operation *> ops;
  for (Value value = to; value != from;
       value = value.getDefiningOp()->getOperand(
           *chainOperand(value.getDefiningOp())))
    ops.push_back(value.getDefiningOp());
  std::reverse(ops.begin(), ops.end());
  return ops;
}

/// The values a cache argument flows through: its slices, the caches its
/// slice updates produce and their concatenations with new rows. `roots`
/// are the argument and the new rows; a web op's operands are web values
/// or index values.
struct Web {
  SmallVector<Operation *> ops; // in block order
  llvm::DenseSet<Value> values;
};

template <typename SliceOp> bool unitStrides(SliceOp op) {
  return llvm::all_of(op.getStaticStrides(),
                      [](int64_t stride) { return stride == 1; });
}

/// Collects the web of `cache` and `rows`; fails (with a reason) on a use
/// the rewrite cannot follow.
FailureOr<Web> collectWeb(BlockArgument cache, Value rows,
                          std::string &reason) {
  Web web;
  web.values.insert(cache);
  web.values.insert(rows);
  SmallVector<Value> worklist{cache, rows};
  llvm::SetVector<Operation *> ops;
  Block *block = cache.getOwner();
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp, tensor::DimOp, AttentionOp>(user))
        continue;
      bool follow = false;
      if (auto slice = dyn_cast<tensor::ExtractSliceOp>(user))
        follow = unitStrides(slice) && slice.getStaticOffsets().back() == 0 &&
                 slice.getStaticSizes().back() ==
                     rowsType(slice.getSource()).getDimSize(2);
      else if (auto insert = dyn_cast<tensor::InsertSliceOp>(user))
        follow = unitStrides(insert) && insert.getStaticOffsets().back() == 0;
      else if (auto concat = dyn_cast<tensor::ConcatOp>(user))
        follow = concat.getDim() == 1;
      if (!follow) {
        // New rows may feed anything else; the cache only the web.
        if (value == rows)
          continue;
        reason = llvm::formatv("its cache is read by '{0}'",
                               user->getName().getStringRef());
        return failure();
      }
      if (user->getBlock() != block || !rowsType(user->getResult(0))) {
        reason = "its cache is used outside the entry block";
        return failure();
      }
      if (ops.insert(user)) {
        web.values.insert(user->getResult(0));
        worklist.push_back(user->getResult(0));
      }
    }
  }
  // Every tensor operand of a web op must be in the web.
  for (Operation *op : ops)
    for (Value operand : op->getOperands())
      if (isa<RankedTensorType>(operand.getType()) &&
          !web.values.contains(operand)) {
        reason = "its cache is combined with other tensors";
        return failure();
      }
  web.ops.assign(ops.begin(), ops.end());
  llvm::sort(web.ops,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return web;
}

bool sameStructure(Value key, Value value,
                   const llvm::DenseMap<Value, Value> &roots);

/// Whether index values `x` and `y` are computed alike: the same value, or
/// the same pure op with the same attributes over operands computed alike
/// (derive-decode computes a ring's positions once per cache; sizes read
/// from the key's and the value's new rows are alike).
bool sameScalar(Value x, Value y, const llvm::DenseMap<Value, Value> &roots,
                unsigned depth = 0) {
  if (x == y)
    return true;
  Operation *a = x.getDefiningOp(), *b = y.getDefiningOp();
  if (!a || !b || depth > 16 || a->getName() != b->getName() ||
      a->getNumOperands() != b->getNumOperands() || a->getNumRegions() != 0 ||
      !isPure(a) || a->getAttrDictionary() != b->getAttrDictionary() ||
      cast<OpResult>(x).getResultNumber() !=
          cast<OpResult>(y).getResultNumber())
    return false;
  for (auto [p, q] : llvm::zip_equal(a->getOperands(), b->getOperands())) {
    bool alike = isa<RankedTensorType>(p.getType())
                     ? sameStructure(p, q, roots)
                     : sameScalar(p, q, roots, depth + 1);
    if (!alike)
      return false;
  }
  return true;
}

/// Whether `key` (of the key web) and `value` (of the value web) are the
/// same slices and updates of their caches: the same ops with the same
/// index operands and static positions.
bool sameStructure(Value key, Value value,
                   const llvm::DenseMap<Value, Value> &roots) {
  if (auto root = roots.find(key); root != roots.end())
    return root->second == value;
  Operation *a = key.getDefiningOp(), *b = value.getDefiningOp();
  if (!a || !b || a->getName() != b->getName() ||
      a->getNumOperands() != b->getNumOperands())
    return false;
  auto sameStatic = [](auto x, auto y) {
    return x.getStaticOffsets() == y.getStaticOffsets() &&
           x.getStaticSizes().drop_back() == y.getStaticSizes().drop_back() &&
           x.getStaticStrides() == y.getStaticStrides();
  };
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(a)) {
    if (!sameStatic(slice, cast<tensor::ExtractSliceOp>(b)))
      return false;
  } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(a)) {
    if (!sameStatic(insert, cast<tensor::InsertSliceOp>(b)))
      return false;
  } else if (auto concat = dyn_cast<tensor::ConcatOp>(a)) {
    if (concat.getDim() != cast<tensor::ConcatOp>(b).getDim())
      return false;
  } else {
    return false;
  }
  for (auto [x, y] : llvm::zip_equal(a->getOperands(), b->getOperands())) {
    if (isa<RankedTensorType>(x.getType())) {
      if (!sameStructure(x, y, roots))
        return false;
    } else if (!sameScalar(x, y, roots)) {
      return false;
    }
  }
  return true;
}

/// One key/value cache pair of an entry point that can be recomputed.
struct Candidate {
  unsigned keyArg = 0, valueArg = 0;
  Value keyRows, valueRows, input; // S_k, S_v, X
  Web keyWeb, valueWeb;
  SmallVector<AttentionOp> attentions;
  int64_t cacheRowBytes = 0; // K + V per row
  int64_t inputRowBytes = 0; // X per row
  int64_t savedBytes = 0;    // over the caches' batch and rows
};

/// The new rows written into `cache`: the source of the insert that updates
/// the argument itself (a ring's inserts write slices of it).
Value newRows(BlockArgument cache) {
  for (Operation *user : cache.getUsers())
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
        insert && insert.getDest() == cache) {
      Value source = insert.getSource();
      if (auto slice = source.getDefiningOp<tensor::ExtractSliceOp>())
        source = slice.getSource();
      return source;
    }
  return {};
}

/// The attention that reads `keyCache` and `valueCache`; checks the pair
/// and finds X. `reason` says why not.
FailureOr<Candidate> analyse(func::FuncOp function, AttentionOp attention,
                             std::string &reason) {
  auto cacheArg = [&](Value value) -> BlockArgument {
    // Walk back through the web's ops to the argument.
    while (Operation *op = value.getDefiningOp()) {
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(op))
        value = insert.getDest();
      else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
        value = slice.getSource();
      else if (auto concat = dyn_cast<tensor::ConcatOp>(op))
        value = concat.getOperand(0);
      else
        return nullptr;
    }
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner() != &function.getBody().front() ||
        !function.getArgAttr(arg.getArgNumber(), "tvc.kv_cache"))
      return nullptr;
    return arg;
  };
  BlockArgument keyCache = cacheArg(attention.getKey());
  BlockArgument valueCache = cacheArg(attention.getValue());
  if (!keyCache || !valueCache || keyCache == valueCache) {
    reason = "it does not read a key and a value cache";
    return failure();
  }
  if (attention.getState()) {
    reason = "its mask keeps per-key state of the cache's rows";
    return failure();
  }
  Candidate candidate;
  candidate.keyArg = keyCache.getArgNumber();
  candidate.valueArg = valueCache.getArgNumber();
  candidate.keyRows = newRows(keyCache);
  candidate.valueRows = newRows(valueCache);
  RankedTensorType keyType =
      candidate.keyRows ? rowsType(candidate.keyRows) : nullptr;
  RankedTensorType valueType =
      candidate.valueRows ? rowsType(candidate.valueRows) : nullptr;
  if (!keyType || !valueType) {
    reason = "its new rows are not [batch, tokens, width] tensors";
    return failure();
  }
  // X: the common row-local ancestor of the fewest bytes per row, nearest
  // first among equals.
  SmallVector<Value> keyChain = rowAncestors(candidate.keyRows);
  SmallVector<Value> valueChain = rowAncestors(candidate.valueRows);
  for (Value value : keyChain)
    if (llvm::is_contained(valueChain, value) &&
        (!candidate.input ||
         rowBytes(rowsType(value)) < rowBytes(rowsType(candidate.input))))
      candidate.input = value;
  if (!candidate.input) {
    reason = "its keys and values are not computed row by row from one "
             "input (e.g. tvc.rope reads positions)";
    return failure();
  }
  candidate.cacheRowBytes = rowBytes(keyType) + rowBytes(valueType);
  candidate.inputRowBytes = rowBytes(rowsType(candidate.input));
  if (candidate.inputRowBytes >= candidate.cacheRowBytes) {
    reason = llvm::formatv("its input rows ({0} bytes) are not smaller than "
                           "a key and a value row ({1} bytes)",
                           candidate.inputRowBytes, candidate.cacheRowBytes);
    return failure();
  }
  auto cacheType = cast<RankedTensorType>(keyCache.getType());
  candidate.savedBytes = cacheType.getDimSize(0) * cacheType.getDimSize(1) *
                         (candidate.cacheRowBytes - candidate.inputRowBytes);
  FailureOr<Web> keyWeb = collectWeb(keyCache, candidate.keyRows, reason);
  if (failed(keyWeb))
    return failure();
  FailureOr<Web> valueWeb = collectWeb(valueCache, candidate.valueRows, reason);
  if (failed(valueWeb))
    return failure();
  candidate.keyWeb = std::move(*keyWeb);
  candidate.valueWeb = std::move(*valueWeb);
  llvm::DenseMap<Value, Value> roots = {
      {keyCache, valueCache}, {candidate.keyRows, candidate.valueRows}};
  // Every attention that reads the pair reads the same rows of both, and
  // the updated caches are returned at the same places.
  for (Value value : candidate.keyWeb.values)
    for (Operation *user : value.getUsers())
      if (auto reader = dyn_cast<AttentionOp>(user)) {
        if (reader.getKey() != value ||
            !candidate.valueWeb.values.contains(reader.getValue()) ||
            !sameStructure(value, reader.getValue(), roots) ||
            reader.getState() || reader.getQuery() == value) {
          reason = "its key and value caches are read differently";
          return failure();
        }
        candidate.attentions.push_back(reader);
      }
  auto returnOp = cast<func::ReturnOp>(function.getBody().front().back());
  for (unsigned index = 0; index < function.getNumResults(); ++index) {
    auto updates =
        function.getResultAttrOfType<IntegerAttr>(index, "tvc.updates_arg");
    if (updates && updates.getInt() == candidate.valueArg) {
      Value keyResult;
      for (unsigned other = 0; other < function.getNumResults(); ++other)
        if (auto key = function.getResultAttrOfType<IntegerAttr>(
                other, "tvc.updates_arg");
            key && key.getInt() == candidate.keyArg)
          keyResult = returnOp.getOperand(other);
      if (!keyResult ||
          !sameStructure(keyResult, returnOp.getOperand(index), roots)) {
        reason = "its key and value caches are updated differently";
        return failure();
      }
    }
  }
  for (Value value : candidate.valueWeb.values)
    for (Operation *user : value.getUsers())
      if (!isa<func::ReturnOp, tensor::DimOp, AttentionOp>(user) &&
          !llvm::is_contained(candidate.valueWeb.ops, user) &&
          value != candidate.valueRows) {
        reason = "its value cache is read elsewhere";
        return failure();
      }
  return candidate;
}

/// The type of `type` with the batch and token dimensions of `rows`.
RankedTensorType withRowsOf(RankedTensorType type, RankedTensorType rows) {
  SmallVector<int64_t> shape(type.getShape());
  shape[0] = rows.getDimSize(0);
  shape[1] = rows.getDimSize(1);
  return RankedTensorType::get(shape, type.getElementType());
}

/// Clones the row-local ops from `from` to `to` over `mapping(from)` (rows
/// of X) and returns the clone of `to`; ops `mapping` has cloned already
/// (the key's and the value's chains may share a linear map) are reused.
Value cloneChain(OpBuilder &builder, Value from, Value to, IRMapping &mapping) {
  auto rowType = cast<RankedTensorType>(mapping.lookup(from).getType());
  for (Operation *op : chainOps(from, to)) {
    if (mapping.contains(op->getResult(0)))
      continue;
    Operation *clone = builder.clone(*op, mapping);
    for (OpResult result : clone->getResults())
      result.setType(
          withRowsOf(cast<RankedTensorType>(result.getType()), rowType));
  }
  return mapping.lookup(to);
}

/// Rewrites one pair in `function`. Arguments after the value cache's
/// shift down by one.
void rewrite(func::FuncOp function, Candidate &candidate) {
  MLIRContext *context = function.getContext();
  BlockArgument keyCache = function.getArgument(candidate.keyArg);
  auto cacheType = cast<RankedTensorType>(keyCache.getType());
  auto inputType = rowsType(candidate.input);
  int64_t width = inputType.getDimSize(2);
  auto widen = [&](RankedTensorType type) {
    return RankedTensorType::get(
        {type.getDimSize(0), type.getDimSize(1), width},
        inputType.getElementType());
  };

  // The key cache argument becomes the input cache.
  keyCache.setType(widen(cacheType));
  std::string name = "kv" + std::to_string(candidate.keyArg);
  if (auto old =
          function.getArgAttrOfType<StringAttr>(candidate.keyArg, "tvc.name")) {
    StringRef base = old.getValue();
    base.consume_back(".key");
    name = (base + ".kv_input").str();
  }
  function.setArgAttr(candidate.keyArg, "tvc.name",
                      StringAttr::get(context, name));

  // The key web over the input's width: its ops rebuilt in order.
  IRMapping mapping;
  mapping.map(keyCache, keyCache);
  mapping.map(candidate.keyRows, candidate.input);
  OpBuilder builder(context);
  auto sizesWithWidth = [&](ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> result(sizes);
    result.back() = builder.getIndexAttr(width);
    return result;
  };
  for (Operation *op : candidate.keyWeb.ops) {
    builder.setInsertionPoint(op);
    Value result;
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
      result = tensor::ExtractSliceOp::create(
          builder, op->getLoc(), mapping.lookup(slice.getSource()),
          slice.getMixedOffsets(), sizesWithWidth(slice.getMixedSizes()),
          slice.getMixedStrides());
    } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
      result = tensor::InsertSliceOp::create(
          builder, op->getLoc(), mapping.lookup(insert.getSource()),
          mapping.lookup(insert.getDest()), insert.getMixedOffsets(),
          sizesWithWidth(insert.getMixedSizes()), insert.getMixedStrides());
    } else {
      auto concat = cast<tensor::ConcatOp>(op);
      SmallVector<Value> inputs;
      for (Value operand : concat.getInputs())
        inputs.push_back(mapping.lookup(operand));
      result = tensor::ConcatOp::create(builder, op->getLoc(), 1, inputs);
    }
    mapping.map(op->getResult(0), result);
  }

  // Each attention reads keys and values computed from the input's rows.
  for (AttentionOp attention : candidate.attentions) {
    builder.setInsertionPoint(attention);
    Value rows = mapping.lookup(attention.getKey());
    if (Value length = attention.getKvLen()) {
      auto rowsOfCache = cast<RankedTensorType>(rows.getType());
      // n is at most the capacity (the attention's contract); saying so
      // bounds the recomputed keys and values, which tvc-plan-memory then
      // places in the arena instead of allocating them every call.
      Value capacity = arith::ConstantIndexOp::create(
          builder, attention.getLoc(), rowsOfCache.getDimSize(1));
      length =
          arith::MinSIOp::create(builder, attention.getLoc(), length, capacity);
      SmallVector<OpFoldResult> offsets(3, builder.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = {
          builder.getIndexAttr(rowsOfCache.getDimSize(0)), length,
          builder.getIndexAttr(width)};
      SmallVector<OpFoldResult> strides(3, builder.getIndexAttr(1));
      rows = tensor::ExtractSliceOp::create(builder, attention.getLoc(), rows,
                                            offsets, sizes, strides);
    }
    IRMapping chains;
    chains.map(candidate.input, rows);
    Value keys =
        cloneChain(builder, candidate.input, candidate.keyRows, chains);
    Value values =
        cloneChain(builder, candidate.input, candidate.valueRows, chains);
    attention.getKeyMutable().assign(keys);
    attention.getValueMutable().assign(values);
    attention.getKvLenMutable().clear();
  }

  // The batch and token sizes of the new rows are the input's (so the
  // maps that computed them can go).
  for (Value rowsValue : {candidate.keyRows, candidate.valueRows})
    for (OpOperand &use : llvm::make_early_inc_range(rowsValue.getUses()))
      if (auto dim = dyn_cast<tensor::DimOp>(use.getOwner());
          dim && dim.getConstantIndex() && *dim.getConstantIndex() < 2)
        use.set(candidate.input);

  // The function returns the input cache where it returned the key cache,
  // and no value cache.
  auto returnOp = cast<func::ReturnOp>(function.getBody().front().back());
  llvm::BitVector dropResults(function.getNumResults());
  for (unsigned index = 0; index < function.getNumResults(); ++index) {
    auto updates =
        function.getResultAttrOfType<IntegerAttr>(index, "tvc.updates_arg");
    if (!updates)
      continue;
    if (updates.getInt() == candidate.keyArg) {
      Value updated = mapping.lookupOrNull(returnOp.getOperand(index));
      returnOp.setOperand(index, updated ? updated : keyCache);
    } else if (updates.getInt() == candidate.valueArg) {
      dropResults.set(index);
    }
  }
  SmallVector<Value> kept;
  for (auto [index, value] : llvm::enumerate(returnOp.getOperands()))
    if (!dropResults[index])
      kept.push_back(value);
  returnOp->setOperands(kept);
  (void)function.eraseResults(dropResults);
  function.setType(
      FunctionType::get(context, function.getBody().front().getArgumentTypes(),
                        returnOp.getOperandTypes()));

  // The old webs and chains that nothing reads any more.
  SmallVector<Operation *> dead;
  for (Operation &op : llvm::reverse(function.getBody().front()))
    dead.push_back(&op);
  for (Operation *op : dead)
    if (isOpTriviallyDead(op))
      op->erase();

  // The value cache argument goes; results naming later arguments shift.
  unsigned valueArg = candidate.valueArg;
  (void)function.eraseArgument(valueArg);
  for (unsigned index = 0; index < function.getNumResults(); ++index)
    if (auto updates =
            function.getResultAttrOfType<IntegerAttr>(index, "tvc.updates_arg");
        updates && updates.getInt() > valueArg)
      function.setResultAttr(
          index, "tvc.updates_arg",
          IntegerAttr::get(updates.getType(), updates.getInt() - 1));
}

/// Whether cache argument `arg` is a ring: fewer rows than the entry
/// point's capacity (tvc-derive-decode's sliding-window caches).
bool isRing(func::FuncOp function, unsigned arg) {
  auto capacity = function->getAttrOfType<IntegerAttr>("tvc.kv_cache_capacity");
  auto type = cast<RankedTensorType>(function.getArgument(arg).getType());
  return capacity && type.getDimSize(1) < capacity.getInt();
}

/// Ordinal of `arg` among `function`'s KV-cache arguments.
unsigned cacheOrdinal(func::FuncOp function, unsigned arg) {
  unsigned ordinal = 0;
  for (unsigned index = 0; index < arg; ++index)
    if (function.getArgAttr(index, "tvc.kv_cache"))
      ++ordinal;
  return ordinal;
}

struct TvcRecomputeKvPass
    : public tvc::impl::TvcRecomputeKvBase<TvcRecomputeKvPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Entry points with KV caches (prefill, decode).
    SmallVector<func::FuncOp> entries;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function.isExternal() &&
          llvm::any_of(
              llvm::seq(function.getNumArguments()), [&](unsigned index) {
                return function.getArgAttr(index, "tvc.kv_cache") != nullptr;
              }))
        entries.push_back(function);
    if (entries.empty()) {
      if (report)
        mlir::emitRemark(module.getLoc(),
                         "tvc-recompute-kv: no entry point keeps KV caches");
      return;
    }
    for (func::FuncOp function : entries)
      for (unsigned index = 0; index < function.getNumArguments(); ++index)
        if (function.getArgAttr(index, "tvc.kv_placement")) {
          function.emitError("tvc-recompute-kv runs before tvc-plan-offload "
                             "(this function's caches are planned)");
          return signalPassFailure();
        }

    // Candidates per entry point, keyed by the key cache's ordinal; a pair
    // is rewritten when every entry point can rewrite it.
    using PairKey = std::pair<unsigned, unsigned>;
    SmallVector<llvm::MapVector<PairKey, Candidate>> perEntry;
    llvm::MapVector<PairKey, std::string> refused; // by the first reason
    llvm::MapVector<PairKey, std::string> names;
    for (func::FuncOp function : entries) {
      auto &found = perEntry.emplace_back();
      function.walk([&](AttentionOp attention) {
        std::string reason;
        FailureOr<Candidate> candidate = analyse(function, attention, reason);
        auto name = [&](unsigned arg) {
          auto attr = function.getArgAttrOfType<StringAttr>(arg, "tvc.name");
          return attr ? attr.str() : "kv" + std::to_string(arg);
        };
        if (failed(candidate)) {
          // Name the attention by its key cache when it has one.
          BlockArgument key;
          for (Value value = attention.getKey(); value;) {
            if ((key = dyn_cast<BlockArgument>(value)))
              break;
            Operation *op = value.getDefiningOp();
            if (!isa_and_nonnull<tensor::InsertSliceOp, tensor::ExtractSliceOp,
                                 tensor::ConcatOp>(op))
              break;
            value = isa<tensor::InsertSliceOp>(op) ? op->getOperand(1)
                                                   : op->getOperand(0);
          }
          if (key && key.getOwner() == &function.getBody().front()) {
            PairKey pair = {cacheOrdinal(function, key.getArgNumber()), ~0u};
            refused.insert({pair, name(key.getArgNumber()) + ": " + reason});
          }
          return;
        }
        PairKey pair = {cacheOrdinal(function, candidate->keyArg),
                        cacheOrdinal(function, candidate->valueArg)};
        if (windowedOnly && !isRing(function, candidate->keyArg)) {
          refused.insert({pair, name(candidate->keyArg) +
                                    ": not a sliding window's ring "
                                    "(windowed-only)"});
          return;
        }
        names.insert(
            {pair, name(candidate->keyArg) + ", " + name(candidate->valueArg)});
        found.insert({pair, std::move(*candidate)});
      });
    }
    SmallVector<PairKey> chosen;
    for (auto &entry : names) {
      PairKey pair = entry.first;
      if (llvm::all_of(perEntry,
                       [&](auto &found) { return found.contains(pair); }))
        chosen.push_back(pair);
      else
        refused.insert({pair, entry.second + ": not recomputable in every "
                                             "entry point"});
    }

    // Rewrite, in each entry point the pairs of the highest value argument
    // first (erasing an argument shifts the later ones).
    int64_t savedBytes = 0;
    for (auto [function, found] : llvm::zip_equal(entries, perEntry)) {
      SmallVector<Candidate *> order;
      for (PairKey pair : chosen)
        order.push_back(&found.find(pair)->second);
      llvm::sort(order, [](Candidate *a, Candidate *b) {
        return a->valueArg > b->valueArg;
      });
      for (Candidate *candidate : order)
        rewrite(function, *candidate);
    }
    for (PairKey pair : chosen)
      savedBytes += perEntry.front().find(pair)->second.savedBytes;
    if (!report)
      return;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("tvc-recompute-kv: {0} of {1} key/value cache "
                        "pairs recompute their keys and values from a cache "
                        "of their input ({2} bytes less held)",
                        chosen.size(), chosen.size() + refused.size(),
                        savedBytes);
    for (auto &[pair, why] : refused)
      os << "; kept " << why;
    mlir::emitRemark(module.getLoc(), text);
  }
};

} // namespace
