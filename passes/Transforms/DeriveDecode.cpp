//===- DeriveDecode.cpp - tvc-derive-decode -------------------------------===//
//
// Derives KV-cached prefill and decode entry points from a full-sequence
// model function: cache arguments per attention, in-place cache writes with
// tensor.insert_slice, attention over the first past_len + T cache rows,
// and, for decode, a sequence length fixed to one with result types
// re-inferred through the body. A sliding-window attention's cache is a
// ring of `window` rows (position p in row p mod window): prefill attends
// over the ring's rows in position order followed by the new keys and
// writes the last `window` new keys into the ring; decode writes its key
// into the ring and attends to every filled row (exactly the window). An
// ALISA attention also gets its accumulated weights as a cache argument
// (the attention's state), returned updated.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"
#include "passes/Transforms/ResultTypes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCDERIVEDECODE
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// Whether argument `type` carries the sequence: [B, ?, ...].
bool isSequenceInput(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getRank() >= 2 && tensor.isDynamicDim(1);
}

struct Ring {
  int64_t prefix = 0; // rows 0..prefix-1 hold positions 0..prefix-1
  int64_t size = 0;   // then a ring of `size` rows for the later positions
  int64_t rows() const { return prefix + size; }
  explicit operator bool() const { return size > 0; }
};

/// The ring layout of `attention`'s cache: a sliding window of w keys
/// needs the last w positions; window + g global tokens also the first g.
/// None (a linear cache) when rings are off or the ring would not be
/// shorter than the context.
Ring ringOf(AttentionOp attention, int64_t capacity, bool rings) {
  Ring ring;
  if (auto window = dyn_cast<SlidingWindowMaskAttr>(attention.getMask()))
    ring = {0, window.getWindow()};
  else if (auto window = dyn_cast<WindowGlobalMaskAttr>(attention.getMask()))
    ring = {window.getGlobal(), window.getWindow()};
  if (!rings || ring.rows() >= capacity)
    return {};
  return ring;
}

/// Index arithmetic for the ring writes and reads.
struct IndexMath {
  OpBuilder &builder;
  Location loc;
  Value constant(int64_t value) {
    return arith::ConstantIndexOp::create(builder, loc, value);
  }
  Value add(Value a, Value b) {
    if (isZero(a))
      return b;
    return isZero(b) ? a
                     : arith::AddIOp::create(builder, loc, a, b).getResult();
  }
  Value sub(Value a, Value b) {
    return isZero(b) ? a
                     : arith::SubIOp::create(builder, loc, a, b).getResult();
  }
  static bool isZero(Value value) { return matchPattern(value, m_Zero()); }
  Value min(Value a, Value b) {
    return arith::MinSIOp::create(builder, loc, a, b);
  }
  Value max(Value a, Value b) {
    return arith::MaxSIOp::create(builder, loc, a, b);
  }
  Value rem(Value a, Value b) {
    return arith::RemSIOp::create(builder, loc, a, b);
  }
};

/// Offsets, sizes and strides of rows [offset, offset + rows) of a
/// [B, ?, W] tensor of type `type`.
struct RowBox {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  RowBox(OpBuilder &builder, RankedTensorType type, OpFoldResult offset,
         OpFoldResult rows)
      : offsets{builder.getIndexAttr(0), fold(offset), builder.getIndexAttr(0)},
        sizes{builder.getIndexAttr(type.getDimSize(0)), fold(rows),
              builder.getIndexAttr(type.getDimSize(2))},
        strides(3, builder.getIndexAttr(1)) {}
  /// Constants as attributes, so static offsets print as numbers.
  static OpFoldResult fold(OpFoldResult value) {
    if (auto v = dyn_cast<Value>(value))
      return getAsOpFoldResult(v);
    return value;
  }
};

/// Rows [offset, offset + rows) of the [B, ?, W] tensor `source`.
Value rowSlice(OpBuilder &builder, Location loc, Value source,
               OpFoldResult offset, OpFoldResult rows) {
  auto type = cast<RankedTensorType>(source.getType());
  RowBox box(builder, type, offset, rows);
  auto resultType = RankedTensorType::get(
      {type.getDimSize(0), ShapedType::kDynamic, type.getDimSize(2)},
      type.getElementType());
  return tensor::ExtractSliceOp::create(builder, loc, resultType, source,
                                        box.offsets, box.sizes, box.strides);
}

/// `rows` rows of `source` written into `dest` from row `offset`.
Value rowInsert(OpBuilder &builder, Location loc, Value source, Value dest,
                OpFoldResult offset, OpFoldResult rows) {
  RowBox box(builder, cast<RankedTensorType>(dest.getType()), offset, rows);
  return tensor::InsertSliceOp::create(builder, loc, source, dest, box.offsets,
                                       box.sizes, box.strides);
}

/// Prefill with a ring cache: returns the keys (or values) to attend over
/// — the prefix rows already filled, the ring's rows in position order,
/// then the T new ones — and sets `updated` to the cache with the new rows
/// written: those of positions below the prefix at their own rows, the
/// last `ring.size` others at prefix + (position - prefix) mod size. With
/// the kept rows compacted this way, the window (and global) mask on
/// buffer indices selects exactly what it selects on positions: the
/// window only compares offsets, and the prefix rows are positions below
/// `prefix`.
Value ringPrefill(OpBuilder &builder, Location loc, Value cache, Value fresh,
                  Value past, Ring ring, Value &updated) {
  IndexMath math{builder, loc};
  Value prefix = math.constant(ring.prefix), size = math.constant(ring.size);
  Value zero = math.constant(0);
  Value steps = tensor::DimOp::create(builder, loc, fresh, 1);
  // Old ring rows: positions [past - n, past) at or after the prefix, from
  // ring row (past - prefix - n) mod size, wrapping at most once.
  Value later = ring.prefix ? math.max(math.sub(past, prefix), zero) : past;
  Value kept = math.min(later, size);
  Value start = math.rem(math.sub(later, kept), size);
  Value head = math.min(kept, math.sub(size, start));
  Value tail = math.sub(kept, head);
  SmallVector<Value> parts;
  if (ring.prefix)
    parts.push_back(
        rowSlice(builder, loc, cache, zero, math.min(past, prefix)));
  parts.push_back(rowSlice(builder, loc, cache, math.add(prefix, start), head));
  parts.push_back(rowSlice(builder, loc, cache, prefix, tail));
  parts.push_back(fresh);
  Value all = tensor::ConcatOp::create(builder, loc, /*dim=*/1, parts);
  // New rows below the prefix go to their own rows.
  Value first = zero, current = cache;
  if (ring.prefix) {
    first = math.min(math.max(math.sub(prefix, past), zero), steps);
    current =
        rowInsert(builder, loc, rowSlice(builder, loc, fresh, zero, first),
                  current, math.min(past, prefix), first);
  }
  // Of the others, the last m = min(rest, size) land from ring row
  // (position - prefix) mod size, wrapping at most once.
  Value written = math.min(math.sub(steps, first), size);
  Value from = math.sub(steps, written);
  Value at = math.rem(math.sub(math.add(past, from), prefix), size);
  Value before = math.min(written, math.sub(size, at));
  Value after = math.sub(written, before);
  current = rowInsert(builder, loc, rowSlice(builder, loc, fresh, from, before),
                      current, math.add(prefix, at), before);
  updated =
      rowInsert(builder, loc,
                rowSlice(builder, loc, fresh, math.add(from, before), after),
                current, prefix, after);
  return all;
}

/// ALISA carries each query head's accumulated attention weights from call
/// to call: a cache argument of its own, [batch, heads, capacity] f32, read
/// and returned updated by the attention (recreated with the state operand
/// and result).
LogicalResult
addAttentionState(OpBuilder &builder, func::FuncOp function,
                  AttentionOp attention, size_t layer, int64_t capacity,
                  SmallVectorImpl<Value> &results,
                  SmallVectorImpl<std::pair<unsigned, unsigned>> &updates) {
  MLIRContext *context = function.getContext();
  int64_t batch = attention.getQuery().getType().getDimSize(0);
  if (ShapedType::isDynamic(batch))
    return attention.emitOpError()
           << "needs a static batch to size its state cache";
  auto stateType =
      RankedTensorType::get({batch, int64_t(attention.getHeads()), capacity},
                            Float32Type::get(context));
  unsigned argIndex = function.getNumArguments();
  if (failed(function.insertArgument(argIndex, stateType,
                                     DictionaryAttr::get(context),
                                     attention.getLoc())))
    return failure();
  function.setArgAttr(argIndex, "tvc.name",
                      StringAttr::get(context, "past_key_values." +
                                                   std::to_string(layer) +
                                                   ".attention_state"));
  function.setArgAttr(argIndex, "tvc.kv_cache", UnitAttr::get(context));
  builder.setInsertionPoint(attention);
  auto stateful =
      AttentionOp::create(builder, attention.getLoc(), attention.getQuery(),
                          attention.getKey(), attention.getValue(),
                          attention.getKvLen(), function.getArgument(argIndex),
                          attention.getHeadsAttr(), attention.getKvHeadsAttr(),
                          attention.getMask(), attention.getScaleAttr());
  attention.getResult().replaceAllUsesWith(stateful.getResult());
  // The model returns values computed from the attention, never the
  // attention itself before the cache results are appended.
  for (Value &result : results)
    if (result == attention.getResult())
      result = stateful.getResult();
  attention.erase();
  updates.push_back({static_cast<unsigned>(results.size()), argIndex});
  results.push_back(stateful.getNewState());
  return success();
}

/// Adds the cache arguments and writes to `function` (a clone of the
/// model); `oneStep` builds the decode form (one new token per call).
LogicalResult addKvCache(func::FuncOp function, int64_t capacity, bool rings,
                         bool oneStep) {
  MLIRContext *context = function.getContext();
  inlineAllLayers(function);
  SmallVector<AttentionOp> attentions;
  function.walk([&](AttentionOp op) { attentions.push_back(op); });
  if (attentions.empty())
    return function.emitError() << "has no tvc.attention to cache";

  OpBuilder builder(context);
  Block &entry = function.getBody().front();
  auto i64Scalar = RankedTensorType::get({}, IntegerType::get(context, 64));
  unsigned pastIndex = function.getNumArguments();
  if (failed(function.insertArgument(pastIndex, i64Scalar,
                                     DictionaryAttr::get(context),
                                     function.getLoc())))
    return failure();
  function.setArgAttr(pastIndex, "tvc.name",
                      StringAttr::get(context, "past_len"));
  builder.setInsertionPointToStart(&entry);
  Value pastScalar =
      tensor::ExtractOp::create(builder, function.getLoc(),
                                function.getArgument(pastIndex), ValueRange());
  Value past = arith::IndexCastOp::create(builder, function.getLoc(),
                                          builder.getIndexType(), pastScalar);

  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
  SmallVector<Value> results(returnOp.getOperands());
  SmallVector<std::pair<unsigned, unsigned>> updates; // result -> argument
  for (auto [layer, attention] : llvm::enumerate(attentions)) {
    if (attention.getKvLen())
      return attention.emitOpError()
             << "already reads a KV cache; tvc-derive-decode applies to "
                "full-sequence models";

    SmallVector<Value> newOperands;
    for (auto [which, value] : llvm::enumerate(
             SmallVector<Value>{attention.getKey(), attention.getValue()})) {
      auto type = cast<RankedTensorType>(value.getType());
      if (type.isDynamicDim(0) || type.isDynamicDim(2))
        return attention.emitOpError()
               << "needs static batch and width to size a KV cache, got "
               << type;
      Ring ring = ringOf(attention, capacity, rings);
      auto cacheType = RankedTensorType::get({type.getDimSize(0),
                                              ring ? ring.rows() : capacity,
                                              type.getDimSize(2)},
                                             type.getElementType());
      unsigned argIndex = function.getNumArguments();
      if (failed(function.insertArgument(argIndex, cacheType,
                                         DictionaryAttr::get(context),
                                         attention.getLoc())))
        return failure();
      std::string name = "past_key_values." + std::to_string(layer) +
                         (which == 0 ? ".key" : ".value");
      function.setArgAttr(argIndex, "tvc.name", StringAttr::get(context, name));
      function.setArgAttr(argIndex, "tvc.kv_cache", UnitAttr::get(context));

      builder.setInsertionPoint(attention);
      Location loc = attention.getLoc();
      Value cache = function.getArgument(argIndex);
      if (ring && !oneStep) {
        Value updated;
        newOperands.push_back(
            ringPrefill(builder, loc, cache, value, past, ring, updated));
        updates.push_back({static_cast<unsigned>(results.size()), argIndex});
        results.push_back(updated);
        continue;
      }
      if (ring) {
        // One token: its own row below the prefix, else its ring row.
        IndexMath math{builder, loc};
        Value prefix = math.constant(ring.prefix);
        Value row = math.add(
            prefix, math.rem(math.sub(past, prefix), math.constant(ring.size)));
        if (ring.prefix) {
          Value early = arith::CmpIOp::create(
              builder, loc, arith::CmpIPredicate::slt, past, prefix);
          row = arith::SelectOp::create(builder, loc, early, past, row);
        }
        Value steps = tensor::DimOp::create(builder, loc, value, 1);
        Value updated = rowInsert(builder, loc, value, cache, row, steps);
        newOperands.push_back(updated);
        updates.push_back({static_cast<unsigned>(results.size()), argIndex});
        results.push_back(updated);
        continue;
      }
      Value steps = tensor::DimOp::create(builder, loc, value, 1);
      SmallVector<OpFoldResult> offsets{builder.getIndexAttr(0), past,
                                        builder.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{builder.getIndexAttr(type.getDimSize(0)),
                                      steps,
                                      builder.getIndexAttr(type.getDimSize(2))};
      SmallVector<OpFoldResult> strides(3, builder.getIndexAttr(1));
      Value updated = tensor::InsertSliceOp::create(
          builder, loc, value, function.getArgument(argIndex), offsets, sizes,
          strides);
      newOperands.push_back(updated);
      updates.push_back({static_cast<unsigned>(results.size()), argIndex});
      results.push_back(updated);
    }
    builder.setInsertionPoint(attention);
    Value steps = tensor::DimOp::create(builder, attention.getLoc(),
                                        attention.getKey(), 1);
    Value kvLen =
        arith::AddIOp::create(builder, attention.getLoc(), past, steps);
    Ring ring = ringOf(attention, capacity, rings);
    attention.getKeyMutable().assign(newOperands[0]);
    attention.getValueMutable().assign(newOperands[1]);
    if (!ring) {
      attention.getKvLenMutable().assign(kvLen);
    } else if (oneStep) {
      // The filled rows of the ring are exactly the window of the new
      // token, in rotated order (attention does not depend on the order
      // of its keys): every one of them is allowed.
      IndexMath math{builder, attention.getLoc()};
      attention.getKvLenMutable().assign(
          math.min(kvLen, math.constant(ring.rows())));
      attention.setMaskAttr(
          cast<MaskAttrInterface>(FullMaskAttr::get(context)));
    }
    // Ring prefill: the keys are exactly the attended rows, in position
    // order; the window mask stays (no kv_len: the full-sequence form).
    if (isa<AlisaMaskAttr>(attention.getMask()) &&
        failed(addAttentionState(builder, function, attention, layer, capacity,
                                 results, updates)))
      return failure();
  }

  returnOp->setOperands(results);
  function.setType(FunctionType::get(context, entry.getArgumentTypes(),
                                     ValueRange(results).getTypes()));
  for (auto [result, argument] : updates)
    function.setResultAttr(result, "tvc.updates_arg",
                           builder.getI64IntegerAttr(argument));
  return success();
}

/// Fixes the sequence dimension of `function`'s sequence inputs to one and
/// re-infers result types through the body.
LogicalResult specializeToOneStep(func::FuncOp function) {
  Block &entry = function.getBody().front();
  for (BlockArgument argument : entry.getArguments()) {
    if (function.getArgAttr(argument.getArgNumber(), "tvc.kv_cache") ||
        !isSequenceInput(argument.getType()))
      continue;
    auto type = cast<RankedTensorType>(argument.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[1] = 1;
    argument.setType(type.clone(shape));
  }
  WalkResult walk = function.walk([&](Operation *op) {
    Reinferred reinferred = reinferResultTypes(op);
    if (reinferred == Reinferred::Failed)
      return WalkResult::interrupt();
    if (reinferred == Reinferred::NotInferable &&
        op->hasTrait<OpTrait::Elementwise>() && op->getNumOperands() > 0 &&
        op->getNumResults() == 1) {
      // Casts such as tvc-convert-precision's arith.extf of 16-bit rows:
      // the operand's shape, the result's element type.
      auto operand = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
      auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (operand && result)
        op->getResult(0).setType(result.clone(operand.getShape()));
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return function.emitError() << "cannot re-infer types for one token";
  // Cache writes now insert a static one-row slice.
  SmallVector<tensor::InsertSliceOp> inserts;
  function.walk([&](tensor::InsertSliceOp op) { inserts.push_back(op); });
  for (tensor::InsertSliceOp insert : inserts) {
    OpBuilder builder(insert);
    SmallVector<OpFoldResult> sizes = insert.getMixedSizes();
    auto source = insert.getSourceType();
    for (auto [dim, size] : llvm::enumerate(sizes))
      if (!source.isDynamicDim(dim))
        size = builder.getIndexAttr(source.getDimSize(dim));
    auto replacement = tensor::InsertSliceOp::create(
        builder, insert.getLoc(), insert.getSource(), insert.getDest(),
        insert.getMixedOffsets(), sizes, insert.getMixedStrides());
    insert.replaceAllUsesWith(replacement.getResult());
    insert.erase();
  }
  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
  function.setType(FunctionType::get(function.getContext(),
                                     entry.getArgumentTypes(),
                                     returnOp.getOperandTypes()));
  return success();
}

struct DeriveDecodePass
    : public tvc::impl::TvcDeriveDecodeBase<DeriveDecodePass> {
  using TvcDeriveDecodeBase::TvcDeriveDecodeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp model;
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal() || function.isPrivate())
        continue;
      if (!entry.empty() ? function.getSymName() == entry : !model) {
        if (model && entry.empty()) {
          module.emitError() << "has several public functions; choose one "
                                "with tvc-derive-decode{entry=...}";
          return signalPassFailure();
        }
        model = function;
      } else if (entry.empty()) {
        module.emitError() << "has several public functions; choose one "
                              "with tvc-derive-decode{entry=...}";
        return signalPassFailure();
      }
    }
    if (!model) {
      module.emitError() << "has no public function"
                         << (entry.empty() ? "" : " @" + entry)
                         << " to derive decode from";
      return signalPassFailure();
    }

    int64_t capacity = maxSeqLen;
    if (capacity == 0) {
      model.walk([&](LearnedPositionsOp op) {
        capacity = op.getTable().getType().getDimSize(0);
      });
      if (capacity <= 0) {
        model.emitError() << "has no learned positions table to size the KV "
                             "cache; set tvc-derive-decode{max-seq-len=N}";
        return signalPassFailure();
      }
    } else if (capacity < 0) {
      model.emitError() << "max-seq-len must be positive, got " << capacity;
      return signalPassFailure();
    }

    // A prefill call takes at most the cache's capacity of new tokens. (At
    // the function's location: a bad option needs no dump of its body.)
    if (maxPrefillTokens < 0 || maxPrefillTokens > capacity) {
      mlir::emitError(model.getLoc())
          << "max-prefill-tokens must be in [1, " << capacity
          << "] (the KV cache capacity; 0: all of it), got "
          << static_cast<int64_t>(maxPrefillTokens);
      return signalPassFailure();
    }

    SymbolTable symbols(module);
    std::string prefillName = (model.getSymName() + "_prefill").str();
    std::string decodeName = (model.getSymName() + "_decode").str();
    for (const std::string &name : {prefillName, decodeName})
      if (symbols.lookup(name)) {
        module.emitError() << "already has @" << name;
        return signalPassFailure();
      }

    auto prefill = model.clone();
    prefill.setSymName(prefillName);
    symbols.insert(prefill, std::next(Block::iterator(model)));
    if (failed(addKvCache(prefill, capacity, ringWindows, /*oneStep=*/false)))
      return signalPassFailure();
    auto capacityAttr =
        IntegerAttr::get(IntegerType::get(&getContext(), 64), capacity);
    prefill->setAttr("tvc.kv_cache_capacity", capacityAttr);
    // Decode is derived from the model as well (not from the prefill): its
    // ring caches are read and written in a form of their own.
    auto decode = model.clone();
    decode.setSymName(decodeName);
    symbols.insert(decode, std::next(Block::iterator(prefill)));
    if (failed(addKvCache(decode, capacity, ringWindows, /*oneStep=*/true)) ||
        failed(specializeToOneStep(decode)))
      return signalPassFailure();
    decode->setAttr("tvc.kv_cache_capacity", capacityAttr);
    // The prefill's sequence inputs hold at most `tokens` positions (the
    // cache's capacity, or fewer per call when the caller runs a longer
    // prompt in chunks): a bound later passes size buffers by
    // (tvc-plan-memory).
    int64_t tokens = maxPrefillTokens == 0 ? capacity : maxPrefillTokens;
    for (auto [index, type] : llvm::enumerate(prefill.getArgumentTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!isSequenceInput(type))
        continue;
      SmallVector<int64_t> maxShape(tensor.getShape());
      maxShape[1] = tokens;
      if (llvm::any_of(maxShape, ShapedType::isDynamic))
        continue;
      prefill.setArgAttr(index, "tvc.max_shape",
                         DenseI64ArrayAttr::get(&getContext(), maxShape));
    }
  }
};

} // namespace
