//===- MaterializeOffload.cpp - tvc-materialize-offload -------------------===//
//
// Rebuilds the schedules of weight reads from bufferized code (whose op
// order is final), derives and checks the plan's actions for it, and
// inserts them as calls of the runtime's offload executor. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"
#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"

#include <functional>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCMATERIALIZEOFFLOAD
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;
namespace offload = mlir::tvc::offload;

namespace {

std::optional<offload::Placement> parsePlacement(StringRef name) {
  if (name == "resident")
    return offload::Placement::Resident;
  if (name == "streamed")
    return offload::Placement::Streamed;
  if (name == "paged")
    return offload::Placement::Paged;
  return std::nullopt;
}

/// Whether `user` only makes another view of `value` (reads nothing).
bool isViewOf(Operation *user, Value value) {
  auto view = dyn_cast<ViewLikeOpInterface>(user);
  return (view && view.getViewSource() == value) ||
         isa<memref::CastOp, memref::CollapseShapeOp, memref::ExpandShapeOp>(
             user);
}

/// Calls `visit` for every use of `value` and of the views made from it.
void forEachReadOf(Value value, function_ref<void(OpOperand &)> visit) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (isViewOf(user, value)) {
      for (Value result : user->getResults())
        forEachReadOf(result, visit);
      continue;
    }
    visit(use);
  }
}

/// Points the dense reads of `view` (those at or after `fromStep` that are
/// not gathers) at `moved`, a view of the same type made at the wait. View
/// ops derived from `view` move after `moved` when all their reads are
/// dense; a derived view that is also gathered from is not supported.
template <typename EntryT>
LogicalResult redirectDenseReads(memref::ViewOp view, memref::ViewOp moved,
                                 unsigned fromStep, EntryT &entry,
                                 bool gathered) {
  Block *body = moved->getBlock();
  auto isGather = [&](OpOperand &use) {
    Operation *top = body->findAncestorOpInBlock(*use.getOwner());
    return gathered && top != use.getOwner();
  };
  // Derived views whose reads are all dense follow the new view.
  std::function<bool(Value)> allDense = [&](Value value) {
    for (OpOperand &use : value.getUses()) {
      if (isViewOf(use.getOwner(), value)) {
        if (!llvm::all_of(use.getOwner()->getResults(), allDense))
          return false;
        continue;
      }
      if (isGather(use))
        return false;
    }
    return true;
  };
  Operation *insertAfter = moved;
  for (OpOperand &use : llvm::make_early_inc_range(view->getUses())) {
    Operation *owner = use.getOwner();
    if (isViewOf(owner, view.getResult())) {
      if (!llvm::all_of(owner->getResults(), allDense))
        return owner->emitOpError(
            "is a view of a streamed weight that is both gathered from and "
            "read densely; the offload plan cannot redirect it");
      if (owner->getBlock() == body && owner->isBeforeInBlock(moved)) {
        owner->moveAfter(insertAfter);
        insertAfter = owner;
      }
      use.set(moved.getResult());
      continue;
    }
    if (isGather(use))
      continue;
    Operation *top = body->findAncestorOpInBlock(*owner);
    if (!top || entry.stepOf.lookup(top) < fromStep)
      continue;
    use.set(moved.getResult());
  }
  return success();
}

/// The rows a step writes into the KV cache `cache`: the span of the
/// subviews of it that are copied into, [first, end) along dim 1, as
/// values before `at`'s insertion point.
FailureOr<std::pair<Value, Value>> writtenRows(OpBuilder &at, Location loc,
                                               Value cache) {
  Value first, end;
  for (Operation *user : cache.getUsers()) {
    auto subview = dyn_cast<memref::SubViewOp>(user);
    if (!subview || subview.getSource() != cache)
      continue;
    bool written = llvm::any_of(subview->getUses(), [](OpOperand &use) {
      auto copy = dyn_cast<memref::CopyOp>(use.getOwner());
      return copy && use.get() == copy.getTarget();
    });
    if (!written)
      continue;
    auto asValue = [&](OpFoldResult fold) -> Value {
      if (auto value = dyn_cast<Value>(fold))
        return arith::IndexCastOp::create(at, loc, at.getI64Type(), value);
      return arith::ConstantIntOp::create(
          at, loc, cast<IntegerAttr>(cast<Attribute>(fold)).getInt(), 64);
    };
    Value start = asValue(subview.getMixedOffsets()[1]);
    Value stop = arith::AddIOp::create(at, loc, start,
                                       asValue(subview.getMixedSizes()[1]));
    first = first ? arith::MinSIOp::create(at, loc, first, start).getResult()
                  : start;
    end = end ? arith::MaxSIOp::create(at, loc, end, stop).getResult() : stop;
  }
  if (!first)
    return failure();
  return std::make_pair(first, end);
}

/// Emits one action on a streamed KV cache (the executor's index `cache`):
/// prefetch and wait with the valid rows (past_len); the wait's answer
/// selects the slot's view of the blob or, at -1, the caller's buffer, for
/// the cache's uses from `step` on; evict writes back the rows the step's
/// copies wrote.
LogicalResult
emitKvAction(OpBuilder &at, Location loc, const offload::Action &action,
             unsigned cache, BlockArgument argument, Value pastLength,
             Value blob, unsigned step,
             const llvm::DenseMap<Operation *, unsigned> &stepOf) {
  Value index = arith::ConstantIntOp::create(at, loc, cache, 64);
  switch (action.kind) {
  case offload::Action::Kind::Prefetch: {
    Value valid = memref::LoadOp::create(at, loc, pastLength, ValueRange());
    func::CallOp::create(at, loc, "tvc_offload_kv_prefetch", TypeRange(),
                         ValueRange{blob, index, valid});
    return success();
  }
  case offload::Action::Kind::Wait: {
    Value valid = memref::LoadOp::create(at, loc, pastLength, ValueRange());
    Type i64 = at.getI64Type();
    Value where =
        func::CallOp::create(at, loc, "tvc_offload_kv_wait", TypeRange{i64},
                             ValueRange{blob, index, valid})
            .getResult(0);
    Value zero = arith::ConstantIntOp::create(at, loc, 0, 64);
    Value caller =
        arith::CmpIOp::create(at, loc, arith::CmpIPredicate::slt, where, zero);
    Value shift = arith::IndexCastOp::create(
        at, loc, at.getIndexType(),
        arith::MaxSIOp::create(at, loc, where, zero));
    auto type = cast<MemRefType>(argument.getType());
    Value slot =
        memref::ViewOp::create(at, loc, type, blob, shift, ValueRange());
    Value selected = arith::SelectOp::create(at, loc, caller, argument, slot);
    Block *body = selected.getParentBlock();
    argument.replaceUsesWithIf(selected, [&](OpOperand &use) {
      Operation *top = body->findAncestorOpInBlock(*use.getOwner());
      return top && top != selected.getDefiningOp() &&
             stepOf.lookup(top) >= step && stepOf.count(top);
    });
    return success();
  }
  case offload::Action::Kind::Evict: {
    // The rows are those of the copies into the cache, which the wait
    // pointed at the buffer it selected.
    Value selected;
    for (Operation *user : argument.getUsers())
      if (auto select = dyn_cast<arith::SelectOp>(user);
          select && select.getTrueValue() == argument)
        selected = select.getResult();
    if (!selected)
      return emitError(loc, "the eviction of KV cache ")
             << cache << " has no wait before it";
    FailureOr<std::pair<Value, Value>> rows = writtenRows(at, loc, selected);
    if (failed(rows))
      return emitError(loc, "cannot find the rows written into KV cache ")
             << cache << " (expected memref.copy into subviews of it)";
    func::CallOp::create(at, loc, "tvc_offload_kv_evict", TypeRange(),
                         ValueRange{blob, index, rows->first, rows->second});
    return success();
  }
  }
  return failure();
}

/// Records the pool slots of the lowered schedule, replacing the plan's:
/// `tvc.slot_offset` on each streamed weight's global, `tvc.kv_slot_offset`
/// on each streamed KV cache argument, and in the module's `tvc.offload`
/// `pool_bytes` and `kv_slot_offsets` (per cache, -1 when it has none;
/// the entry points' arguments do not survive lowering). All removed when
/// the slots do not fit the budget (the executor then allocates them).
void recordSlots(ModuleOp module, const offload::Slots &slots,
                 ArrayRef<GlobalOp> globals, size_t numWeights,
                 ArrayRef<func::FuncOp> functions) {
  Builder builder(module.getContext());
  auto slotOf = [&](size_t item) -> std::optional<int64_t> {
    if (item >= slots.offset.size() || slots.offset[item] == offload::kNoSlot)
      return std::nullopt;
    return static_cast<int64_t>(slots.offset[item]);
  };
  for (auto [index, global] : llvm::enumerate(globals)) {
    if (std::optional<int64_t> slot = slotOf(index))
      global->setAttr("tvc.slot_offset", builder.getI64IntegerAttr(*slot));
    else
      global->removeAttr("tvc.slot_offset");
  }
  SmallVector<int64_t> kvSlots;
  for (func::FuncOp function : functions)
    for (unsigned index = 0; index < function.getNumArguments(); ++index) {
      auto ordinal =
          function.getArgAttrOfType<IntegerAttr>(index, "tvc.kv_item");
      if (!ordinal || ordinal.getInt() < 0)
        continue;
      size_t kv = static_cast<size_t>(ordinal.getInt());
      std::optional<int64_t> slot = slotOf(numWeights + kv);
      if (slot)
        function.setArgAttr(index, "tvc.kv_slot_offset",
                            builder.getI64IntegerAttr(*slot));
      else
        function.removeArgAttr(index, "tvc.kv_slot_offset");
      if (kvSlots.size() <= kv)
        kvSlots.resize(kv + 1, -1);
      kvSlots[kv] = slot.value_or(-1);
    }
  NamedAttrList config(module->getAttrOfType<DictionaryAttr>("tvc.offload"));
  config.erase("pool_bytes");
  config.erase("kv_slot_offsets");
  if (!slots.offset.empty()) {
    config.set("pool_bytes", builder.getI64IntegerAttr(slots.poolBytes));
    if (!kvSlots.empty())
      config.set("kv_slot_offsets", builder.getDenseI64ArrayAttr(kvSlots));
  }
  module->setAttr("tvc.offload", config.getDictionary(module.getContext()));
}

struct TvcMaterializeOffloadPass
    : public tvc::impl::TvcMaterializeOffloadBase<TvcMaterializeOffloadPass> {
  using TvcMaterializeOffloadBase::TvcMaterializeOffloadBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto config = module->getAttrOfType<DictionaryAttr>("tvc.offload");
    if (!config)
      return;
    auto budget = config.getAs<IntegerAttr>("budget");
    auto planner = config.getAs<StringAttr>("planner");
    auto depth = config.getAs<IntegerAttr>("depth");
    auto bandwidth = config.getAs<FloatAttr>("read_bandwidth");
    if (!budget || !planner || !depth || !bandwidth) {
      mlir::emitError(module.getLoc(), "tvc.offload lacks budget, planner, depth or "
                       "read_bandwidth (run tvc-plan-offload)");
      return signalPassFailure();
    }
    offload::Options options;
    options.budget = budget.getValue().getZExtValue();
    options.planner = planner.getValue() == "reference"
                          ? offload::PlannerKind::Reference
                          : offload::PlannerKind::Cost;
    options.depth = depth.getValue().getZExtValue();
    options.readBytesPerSecond = bandwidth.getValueAsDouble();
    options.attentionOffload = hostAttention;

    // Items: the laid-out globals in module order (the manifest's order).
    Builder builder(&getContext());
    std::vector<offload::Item> items;
    std::vector<offload::Placement> placement;
    std::vector<uint64_t> gatherBytes;
    llvm::DenseMap<uint64_t, unsigned> itemAtOffset;
    std::vector<uint64_t> homeOffset;
    std::vector<GlobalOp> itemGlobals;
    for (GlobalOp global : module.getOps<GlobalOp>()) {
      auto offset = global->getAttrOfType<IntegerAttr>("tvc.offset");
      if (!offset)
        continue;
      if (offset.getValue().getZExtValue() % offload::kPageBytes != 0) {
        global.emitOpError("is not page aligned in the weights blob; an "
                           "offload plan needs every weight on pages of "
                           "its own");
        return signalPassFailure();
      }
      uint64_t bytes = global.getByteSize();
      offload::Placement where = offload::Placement::Resident;
      if (auto name = global->getAttrOfType<StringAttr>("tvc.placement")) {
        std::optional<offload::Placement> parsed =
            parsePlacement(name.getValue());
        if (!parsed) {
          global.emitOpError("has an unknown tvc.placement '")
              << name.getValue() << "'";
          return signalPassFailure();
        }
        where = *parsed;
      }
      int layer = -1;
      if (auto index = global->getAttrOfType<IntegerAttr>("tvc.offload_layer"))
        layer = static_cast<int>(index.getInt());
      uint64_t touched = 0;
      if (auto gather = global->getAttrOfType<IntegerAttr>("tvc.gather_bytes"))
        touched = gather.getValue().getZExtValue();
      global->setAttr("tvc.offload_item",
                      builder.getI64IntegerAttr(items.size()));
      itemGlobals.push_back(global);
      itemAtOffset[offset.getValue().getZExtValue()] = items.size();
      homeOffset.push_back(offset.getValue().getZExtValue());
      items.push_back(
          {global.getSymName().str(), offload::pageRound(bytes), layer});
      placement.push_back(where);
      gatherBytes.push_back(touched);
    }

    // KV caches: the entry points' tvc.kv_cache arguments, by tvc.kv_item,
    // after the weights.
    size_t numWeights = items.size();
    auto kvItem = [&](func::FuncOp function,
                      unsigned index) -> FailureOr<std::optional<unsigned>> {
      if (!function.getArgAttr(index, "tvc.kv_cache"))
        return std::optional<unsigned>();
      auto ordinal =
          function.getArgAttrOfType<IntegerAttr>(index, "tvc.kv_item");
      auto name =
          function.getArgAttrOfType<StringAttr>(index, "tvc.kv_placement");
      auto type = dyn_cast<MemRefType>(function.getArgument(index).getType());
      if (!ordinal || !name || ordinal.getInt() < 0 || !type ||
          !type.hasStaticShape() || type.getRank() < 2) {
        function.emitOpError("KV cache argument ")
            << index
            << " needs a static memref type, tvc.kv_item and tvc.kv_placement "
               "(run tvc-plan-offload)";
        return failure();
      }
      offload::Placement where;
      if (name.getValue() == "resident")
        where = offload::Placement::Resident;
      else if (name.getValue() == "streamed")
        where = offload::Placement::Streamed;
      else if (name.getValue() == "host_attention" && hostAttention)
        where = offload::Placement::HostAttention;
      else if (name.getValue() == "host_attention") {
        function.emitOpError("KV cache argument ")
            << index
            << " is placed where attention runs (host_attention): attention "
               "offload is not lowered for this target";
        return failure();
      } else {
        function.emitOpError("KV cache argument ")
            << index << " has an unknown tvc.kv_placement '" << name.getValue()
            << "'";
        return failure();
      }
      uint64_t bytes =
          offload::pageRound(static_cast<uint64_t>(type.getNumElements()) *
                             (type.getElementTypeBitWidth() / 8));
      unsigned item = numWeights + ordinal.getInt();
      if (item >= items.size()) {
        items.resize(item + 1);
        placement.resize(item + 1, offload::Placement::Resident);
        gatherBytes.resize(item + 1, 0);
      }
      offload::Item &cache = items[item];
      if (cache.bytes == 0) {
        cache.name = "kv" + std::to_string(ordinal.getInt());
        cache.bytes = bytes;
        cache.kvCache = true;
        placement[item] = where;
      } else if (cache.bytes != bytes || placement[item] != where) {
        function.emitOpError("KV cache argument ")
            << index << " differs from KV cache " << ordinal.getInt()
            << " of another entry point";
        return failure();
      }
      return std::optional<unsigned>(item);
    };

    // Schedules from the entry points that take the weights.
    struct Entry {
      func::FuncOp function;
      Value blob;
      /// The past_len argument (the valid rows of the caches).
      Value pastLength;
      /// Per KV item: its argument.
      llvm::MapVector<unsigned, BlockArgument> caches;
      std::vector<Operation *> steps;
      llvm::DenseMap<Operation *, unsigned> stepOf;
      /// The views of the blob per item.
      llvm::MapVector<unsigned, SmallVector<memref::ViewOp>> views;
    };
    std::vector<Entry> entries;
    std::vector<offload::Schedule> schedules;
    int decodeIndex = -1;
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal())
        continue;
      Value blob;
      for (unsigned index = 0; index < function.getNumArguments(); ++index)
        if (function.getArgAttr(index, "tvc.weights"))
          blob = function.getArgument(index);
      if (!blob)
        continue;
      Block &body = function.getBody().front();
      Entry entry;
      entry.function = function;
      entry.blob = blob;
      llvm::DenseMap<Operation *, unsigned> &stepOf = entry.stepOf;
      for (Operation &op : body) {
        stepOf[&op] = entry.steps.size();
        entry.steps.push_back(&op);
      }
      offload::Schedule schedule;
      schedule.entry = function.getSymName().str();
      schedule.numSteps = entry.steps.size();
      llvm::MapVector<std::pair<unsigned, unsigned>, std::pair<unsigned, unsigned>>
          ranges;
      bool failedHere = false;
      for (Operation *user : llvm::make_early_inc_range(blob.getUsers())) {
        auto view = dyn_cast<memref::ViewOp>(user);
        if (!view) {
          // Anything else reading the blob reads every item: not planned.
          user->emitOpError("reads the weights blob other than through a "
                            "view; an offload plan cannot follow it");
          failedHere = true;
          continue;
        }
        APInt offset;
        if (!matchPattern(view.getByteShift(), m_ConstantInt(&offset)) ||
            !itemAtOffset.count(offset.getZExtValue())) {
          view.emitOpError("views the weights blob at an offset that is no "
                           "laid-out weight's");
          failedHere = true;
          continue;
        }
        unsigned item = itemAtOffset.lookup(offset.getZExtValue());
        entry.views[item].push_back(view);
        forEachReadOf(view.getResult(), [&](OpOperand &use) {
          Operation *owner = use.getOwner();
          Operation *top = body.findAncestorOpInBlock(*owner);
          if (!top)
            return;
          bool gather = top != owner && gatherBytes[item] > 0;
          unsigned step = stepOf.lookup(top);
          auto [it, inserted] =
              ranges.try_emplace({item, gather ? 1u : 0u}, std::make_pair(step, step));
          if (!inserted) {
            it->second.first = std::min(it->second.first, step);
            it->second.second = std::max(it->second.second, step);
          }
        });
      }
      for (unsigned index = 0; index < function.getNumArguments(); ++index) {
        FailureOr<std::optional<unsigned>> item = kvItem(function, index);
        if (failed(item)) {
          failedHere = true;
          continue;
        }
        if (!*item)
          continue;
        BlockArgument cache = function.getArgument(index);
        entry.caches[**item] = cache;
        // The cache is used from its first view or access to the last
        // read through any view of it (keys recomputed from a cache of
        // inputs read a subview of it, tvc-recompute-kv).
        std::optional<std::pair<unsigned, unsigned>> range;
        auto widen = [&](Operation *user) {
          Operation *top = body.findAncestorOpInBlock(*user);
          if (!top)
            return;
          unsigned step = stepOf.lookup(top);
          if (!range)
            range = {step, step};
          range->first = std::min(range->first, step);
          range->second = std::max(range->second, step);
        };
        for (Operation *user : cache.getUsers())
          widen(user);
        forEachReadOf(cache, [&](OpOperand &use) { widen(use.getOwner()); });
        if (range)
          schedule.uses.push_back({**item, range->first, range->second, false,
                                   0, items[**item].bytes, 0});
      }
      for (unsigned index = 0; index < function.getNumArguments(); ++index)
        if (auto name =
                function.getArgAttrOfType<StringAttr>(index, "tvc.name");
            name && name.getValue() == "past_len")
          entry.pastLength = function.getArgument(index);
      if (!entry.caches.empty() &&
          (!entry.pastLength ||
           entry.pastLength.getType() !=
               MemRefType::get({}, IntegerType::get(&getContext(), 64)))) {
        function.emitOpError("keeps KV caches but has no past_len argument "
                             "of type memref<i64>");
        failedHere = true;
      }
      if (failedHere)
        return signalPassFailure();
      for (auto &[key, range] : ranges)
        schedule.uses.push_back({key.first, range.first, range.second,
                                 key.second == 1,
                                 key.second ? gatherBytes[key.first] : 0});
      if (function.getSymName().ends_with("_decode"))
        decodeIndex = static_cast<int>(schedules.size());
      schedules.push_back(std::move(schedule));
      entries.push_back(std::move(entry));
    }
    for (auto [index, item] : llvm::enumerate(items))
      if (item.bytes == 0) {
        mlir::emitError(module.getLoc(), "the entry points' tvc.kv_item ")
            << index - numWeights << " names no KV cache argument";
        return signalPassFailure();
      }
    for (auto [index, schedule] : llvm::enumerate(schedules))
      schedule.successor =
          decodeIndex >= 0 ? static_cast<unsigned>(decodeIndex) : index;

    // The actions and pool slots again, the same way as the plan (the
    // lowered order may hold other items at once).
    auto scheduled =
        offload::schedulePlan(items, placement, schedules, options);
    if (!scheduled) {
      mlir::emitError(module.getLoc(),
                      "the lowered schedule breaks the offload plan: ")
          << llvm::toString(scheduled.takeError());
      return signalPassFailure();
    }
    const std::vector<offload::EntryActions> *actions = &scheduled->actions;
    SmallVector<func::FuncOp> functions;
    for (const Entry &entry : entries)
      functions.push_back(entry.function);
    recordSlots(module, scheduled->slots, itemGlobals, numWeights, functions);

    // The executor's entry points.
    MLIRContext *context = &getContext();
    auto blobType =
        MemRefType::get({ShapedType::kDynamic}, IntegerType::get(context, 8));
    Type i64 = IntegerType::get(context, 64);
    auto calleeType = FunctionType::get(context, {blobType, i64}, {});
    // wait(blob, item, home) -> where the item's bytes are until its evict.
    auto waitType = FunctionType::get(context, {blobType, i64, i64}, {i64});
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    auto declare = [&](StringRef name, FunctionType type) {
      if (!module.lookupSymbol<func::FuncOp>(name)) {
        auto callee =
            func::FuncOp::create(moduleBuilder, module.getLoc(), name, type);
        callee.setPrivate();
      }
    };
    declare("tvc_offload_prefetch", calleeType);
    declare("tvc_offload_wait", waitType);
    declare("tvc_offload_evict", calleeType);
    // KV caches: prefetch(blob, cache, valid rows), wait(blob, cache, valid
    // rows) -> where (-1: the caller's buffer), evict(blob, cache, first
    // written row, end).
    auto kvPrefetchType = FunctionType::get(context, {blobType, i64, i64}, {});
    auto kvEvictType =
        FunctionType::get(context, {blobType, i64, i64, i64}, {});
    bool hasKv = items.size() > numWeights;
    if (hasKv) {
      declare("tvc_offload_kv_prefetch", kvPrefetchType);
      declare("tvc_offload_kv_wait", waitType);
      declare("tvc_offload_kv_evict", kvEvictType);
    }
    auto calleeName = [](offload::Action::Kind kind) {
      switch (kind) {
      case offload::Action::Kind::Prefetch:
        return "tvc_offload_prefetch";
      case offload::Action::Kind::Wait:
        return "tvc_offload_wait";
      case offload::Action::Kind::Evict:
        return "tvc_offload_evict";
      }
      return "";
    };

    bool redirectFailed = false;
    for (size_t entryIndex = 0; entryIndex < entries.size(); ++entryIndex) {
      Entry &entry = entries[entryIndex];
      const offload::EntryActions &list = (*actions)[entryIndex];
      for (unsigned step = 0; step < entry.steps.size(); ++step) {
        Operation *op = entry.steps[step];
        auto emit = [&](OpBuilder &at, const offload::Action &action) {
          Location loc = op->getLoc();
          if (items[action.item].kvCache) {
            if (failed(emitKvAction(at, loc, action, action.item - numWeights,
                                    entry.caches.lookup(action.item),
                                    entry.pastLength, entry.blob, step,
                                    entry.stepOf)))
              redirectFailed = true;
            return;
          }
          Value index = arith::ConstantIntOp::create(at, loc, action.item, 64);
          if (action.kind != offload::Action::Kind::Wait) {
            func::CallOp::create(at, loc, calleeName(action.kind), TypeRange(),
                                 ValueRange{entry.blob, index});
            return;
          }
          // The executor says where the item's bytes are (a slot of its
          // pool, or the item's own offset); the dense reads view them
          // there, so none can run before the wait.
          Value home = arith::ConstantIntOp::create(
              at, loc, static_cast<int64_t>(homeOffset[action.item]), 64);
          Value where =
              func::CallOp::create(at, loc, calleeName(action.kind),
                                   TypeRange{i64},
                                   ValueRange{entry.blob, index, home})
                  .getResult(0);
          Value shift = arith::IndexCastOp::create(at, loc, at.getIndexType(),
                                                   where);
          for (memref::ViewOp view : entry.views.lookup(action.item)) {
            auto moved = memref::ViewOp::create(at, loc, view.getType(),
                                                entry.blob, shift,
                                                ValueRange());
            if (failed(redirectDenseReads(view, moved, step, entry,
                                          gatherBytes[action.item] > 0)))
              redirectFailed = true;
          }
        };
        OpBuilder before(op);
        for (const offload::Action &action : list.before[step])
          emit(before, action);
        if (list.after[step].empty())
          continue;
        if (op->hasTrait<OpTrait::IsTerminator>()) {
          op->emitOpError("ends the block but the offload plan has actions "
                          "after it");
          return signalPassFailure();
        }
        OpBuilder after(op->getContext());
        after.setInsertionPointAfter(op);
        for (const offload::Action &action : list.after[step])
          emit(after, action);
      }
    }
    if (redirectFailed)
      return signalPassFailure();
    // The views the redirected reads left behind.
    for (Entry &entry : entries)
      for (auto &[item, views] : entry.views)
        for (memref::ViewOp view : views)
          if (view->use_empty())
            view->erase();
  }
};

} // namespace
