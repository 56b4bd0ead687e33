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
// into the ring and attends to every filled row (exactly the window).
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
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

/// The ring size of `attention`'s cache: its sliding window when rings are
/// on and the window is shorter than the context, else 0 (a linear cache).
int64_t ringSize(AttentionOp attention, int64_t capacity, bool rings) {
  auto window = dyn_cast<SlidingWindowMaskAttr>(attention.getMask());
  if (!rings || !window || window.getWindow() >= capacity)
    return 0;
  return window.getWindow();
}

/// Index arithmetic for the ring writes and reads.
struct IndexMath {
  OpBuilder &builder;
  Location loc;
  Value constant(int64_t value) {
    return arith::ConstantIndexOp::create(builder, loc, value);
  }
  Value add(Value a, Value b) { return arith::AddIOp::create(builder, loc, a, b); }
  Value sub(Value a, Value b) { return arith::SubIOp::create(builder, loc, a, b); }
  Value min(Value a, Value b) {
    return arith::MinSIOp::create(builder, loc, a, b);
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
      : offsets{builder.getIndexAttr(0), offset, builder.getIndexAttr(0)},
        sizes{builder.getIndexAttr(type.getDimSize(0)), rows,
              builder.getIndexAttr(type.getDimSize(2))},
        strides(3, builder.getIndexAttr(1)) {}
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

/// Prefill with a ring of `ring` rows: returns the keys (or values) to
/// attend over — the ring's min(past, ring) rows in position order, then
/// the T new ones — and sets `updated` to the ring with the last
/// min(T, ring) new rows written at their positions mod ring.
Value ringPrefill(OpBuilder &builder, Location loc, Value cache, Value fresh,
                  Value past, int64_t ring, Value &updated) {
  IndexMath math{builder, loc};
  Value size = math.constant(ring);
  Value steps = tensor::DimOp::create(builder, loc, fresh, 1);
  // Old rows: positions [past - n, past) start at row (past - n) mod ring
  // and wrap at most once.
  Value kept = math.min(past, size);
  Value start = math.rem(math.sub(past, kept), size);
  Value head = math.min(kept, math.sub(size, start));
  Value tail = math.sub(kept, head);
  OpFoldResult zero = builder.getIndexAttr(0);
  SmallVector<Value> parts{rowSlice(builder, loc, cache, start, head),
                           rowSlice(builder, loc, cache, zero, tail), fresh};
  Value all = tensor::ConcatOp::create(builder, loc, /*dim=*/1, parts);
  // New rows: the last m = min(T, ring) land from row (past + T - m) mod
  // ring, wrapping at most once.
  Value written = math.min(steps, size);
  Value first = math.sub(steps, written);
  Value at = math.rem(math.add(past, first), size);
  Value before = math.min(written, math.sub(size, at));
  Value after = math.sub(written, before);
  Value ring1 = rowInsert(builder, loc,
                          rowSlice(builder, loc, fresh, first, before), cache,
                          at, before);
  updated = rowInsert(builder, loc,
                      rowSlice(builder, loc, fresh, math.add(first, before),
                               after),
                      ring1, zero, after);
  return all;
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
  Value pastScalar = tensor::ExtractOp::create(
      builder, function.getLoc(), function.getArgument(pastIndex),
      ValueRange());
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
      int64_t ring = ringSize(attention, capacity, rings);
      auto cacheType =
          RankedTensorType::get({type.getDimSize(0), ring ? ring : capacity,
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
        // One token: its row is past mod ring.
        IndexMath math{builder, loc};
        Value row = math.rem(past, math.constant(ring));
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
      SmallVector<OpFoldResult> sizes{
          builder.getIndexAttr(type.getDimSize(0)), steps,
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
    int64_t ring = ringSize(attention, capacity, rings);
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
          math.min(kvLen, math.constant(ring)));
      attention.setMaskAttr(cast<MaskAttrInterface>(FullMaskAttr::get(context)));
    }
    // Ring prefill: the keys are exactly the attended rows, in position
    // order; the window mask stays (no kv_len: the full-sequence form).
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
    if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
      SmallVector<Type> types;
      if (failed(infer.inferReturnTypes(
              op->getContext(), op->getLoc(), op->getOperands(),
              op->getAttrDictionary(), op->getPropertiesStorage(),
              op->getRegions(), types)))
        return WalkResult::interrupt();
      for (auto [result, type] : llvm::zip(op->getResults(), types))
        result.setType(type);
    } else if (op->hasTrait<OpTrait::SameOperandsAndResultType>() &&
               op->getNumOperands() > 0) {
      for (Value result : op->getResults())
        result.setType(op->getOperand(0).getType());
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
    // The prefill's sequence inputs hold at most `capacity` positions (the
    // cache's): a bound later passes size buffers by (tvc-plan-memory).
    for (auto [index, type] : llvm::enumerate(prefill.getArgumentTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!isSequenceInput(type))
        continue;
      SmallVector<int64_t> maxShape(tensor.getShape());
      maxShape[1] = capacity;
      if (llvm::any_of(maxShape, ShapedType::isDynamic))
        continue;
      prefill.setArgAttr(index, "tvc.max_shape",
                         DenseI64ArrayAttr::get(&getContext(), maxShape));
    }
  }
};

} // namespace
