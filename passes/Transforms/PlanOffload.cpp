//===- PlanOffload.cpp - tvc-plan-offload ---------------------------------===//
//
// Builds each entry point's schedule of weight reads from tvc IR, asks the
// planner of passes/Analysis/OffloadPlan.h where every weight lives under
// the budget, and records the answer as attributes. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"
#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <optional>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCPLANOFFLOAD
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;
namespace offload = mlir::tvc::offload;

namespace {

/// Elements of `type` with dynamic dims bounded by `dynamicBound`.
std::optional<uint64_t> boundedElements(RankedTensorType type,
                                        std::optional<int64_t> dynamicBound) {
  uint64_t count = 1;
  for (int64_t dim : type.getShape()) {
    if (ShapedType::isDynamic(dim)) {
      if (!dynamicBound)
        return std::nullopt;
      dim = *dynamicBound;
    }
    count *= static_cast<uint64_t>(dim);
  }
  return count;
}

/// The largest extent in the `tvc.max_shape` of `function`'s arguments
/// (the sequence bound tvc-derive-decode records).
std::optional<int64_t> sequenceBound(func::FuncOp function) {
  std::optional<int64_t> bound;
  for (unsigned index = 0; index < function.getNumArguments(); ++index)
    if (auto shape = function.getArgAttrOfType<DenseI64ArrayAttr>(
            index, "tvc.max_shape"))
      for (int64_t dim : shape.asArrayRef())
        bound = std::max(bound.value_or(0), dim);
  return bound;
}

/// A function's own bound, else the model's: the largest sequence bound or
/// KV-cache capacity of any function (a full-graph entry point that takes
/// more tokens than the cache holds is outside what the plan assumes).
std::optional<int64_t> sequenceBound(func::FuncOp function, ModuleOp module) {
  if (std::optional<int64_t> own = sequenceBound(function))
    return own;
  std::optional<int64_t> bound;
  for (auto other : module.getOps<func::FuncOp>()) {
    if (std::optional<int64_t> theirs = sequenceBound(other))
      bound = std::max(bound.value_or(0), *theirs);
    if (auto capacity =
            other->getAttrOfType<IntegerAttr>("tvc.kv_cache_capacity"))
      bound = std::max(bound.value_or(0), capacity.getInt());
  }
  return bound;
}

/// The ops that read or write the KV cache `cache` (a function argument):
/// the slice updates and reads of it (followed through, they are the
/// cache) and the ops that consume those (the attention). The function's
/// return of the updated cache is not a use: the update is in place.
SmallVector<Operation *> kvCacheUsers(BlockArgument cache) {
  SmallVector<Operation *> users;
  SmallVector<Value> worklist{cache};
  llvm::DenseSet<Operation *> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp, tensor::DimOp>(user) || !seen.insert(user).second)
        continue;
      users.push_back(user);
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
          insert && use.get() == insert.getDest())
        worklist.push_back(insert.getResult());
      else if (isa<tensor::ExtractSliceOp, tensor::DimOp>(user))
        worklist.push_back(user->getResult(0));
    }
  }
  return users;
}

/// Page-rounded bytes of `type` with static dims; nothing when dynamic.
std::optional<uint64_t> staticBytes(RankedTensorType type) {
  if (!type.hasStaticShape() || type.getElementTypeBitWidth() % 8 != 0)
    return std::nullopt;
  return static_cast<uint64_t>(type.getNumElements()) *
         (type.getElementTypeBitWidth() / 8);
}

} // namespace

uint64_t mlir::tvc::modelWeightBytes(ModuleOp module) {
  llvm::DenseSet<StringAttr> read;
  for (auto function : module.getOps<func::FuncOp>())
    if (function.isPublic() && !function.isExternal())
      function.walk([&](WeightOp weight) {
        read.insert(weight.getNameAttr().getAttr());
      });
  uint64_t total = 0;
  for (GlobalOp global : module.getOps<GlobalOp>()) {
    if (!read.contains(global.getSymNameAttr()))
      continue;
    if (auto rows = dyn_cast<RowsWeightAttr>(global.getValue()))
      if (read.contains(rows.getSource().getAttr()))
        continue;
    total += global.getByteSize();
  }
  return total;
}

namespace {

struct TvcPlanOffloadPass
    : public tvc::impl::TvcPlanOffloadBase<TvcPlanOffloadPass> {
  using Base::Base;

  /// Adds `function`'s KV caches to the items (the first entry point that
  /// has them creates them) and their uses to `schedule`: a cache is read
  /// and written from its first slice update to its attention; a call reads
  /// its valid rows (at `kv-position`) and writes its new ones. The
  /// attention's step also reads the valid rows (its compute time).
  LogicalResult addKvUses(func::FuncOp function, ModuleOp module,
                          const llvm::DenseMap<Operation *, unsigned> &stepOf,
                          std::optional<int64_t> bound,
                          std::vector<offload::Item> &items,
                          std::vector<unsigned> &kvItems,
                          offload::Schedule &schedule,
                          std::vector<uint64_t> &stepBytes) {
    auto capacity =
        function->getAttrOfType<IntegerAttr>("tvc.kv_cache_capacity");
    unsigned ordinal = 0;
    for (BlockArgument cache : function.getArguments()) {
      unsigned index = cache.getArgNumber();
      if (!function.getArgAttr(index, "tvc.kv_cache"))
        continue;
      auto type = dyn_cast<RankedTensorType>(cache.getType());
      std::optional<uint64_t> bytes =
          type && type.getRank() >= 2 ? staticBytes(type) : std::nullopt;
      if (!bytes || *bytes == 0)
        return function.emitError("KV cache argument ")
               << index << " of '" << function.getSymName()
               << "' needs a static [batch, rows, ...] shape of whole bytes "
                  "to be planned";
      int64_t batch = type.getDimSize(0), rows = type.getDimSize(1);
      uint64_t rowBytes = *bytes / static_cast<uint64_t>(batch * rows);
      if (ordinal == kvItems.size()) {
        offload::Item item;
        auto name = function.getArgAttrOfType<StringAttr>(index, "tvc.name");
        item.name = name ? name.str() : "kv" + std::to_string(ordinal);
        item.bytes = offload::pageRound(*bytes);
        item.kvCache = true;
        // A ring (sliding window) keeps rows that are not positions.
        bool ring = capacity && rows < capacity.getInt();
        item.movable = kv == "plan" && !ring;
        kvItems.push_back(items.size());
        items.push_back(item);
      } else if (items[kvItems[ordinal]].bytes != offload::pageRound(*bytes)) {
        return function.emitError("KV cache ")
               << ordinal << " of '" << function.getSymName()
               << "' differs in size from the same cache of another entry "
                  "point";
      }
      unsigned item = kvItems[ordinal++];

      std::optional<unsigned> first, last;
      int64_t tokens = 0;
      bool readByAttention = false;
      for (Operation *user : kvCacheUsers(cache)) {
        readByAttention |= isa<AttentionOp>(user);
        if (auto layer = user->getParentOfType<LayerOp>())
          if (items[item].layer < 0)
            items[item].layer = static_cast<int>(layer.getIndex());
        if (auto insert = dyn_cast<tensor::InsertSliceOp>(user)) {
          auto source = insert.getSourceType();
          int64_t written = source.getRank() >= 2 ? source.getDimSize(1) : 1;
          if (ShapedType::isDynamic(written))
            written = bound.value_or(rows);
          tokens = std::max(tokens, written);
        }
        auto found = stepOf.find(user);
        if (found == stepOf.end())
          continue;
        first = std::min(first.value_or(found->second), found->second);
        last = std::max(last.value_or(found->second), found->second);
      }
      if (!first)
        continue; // an unused cache moves nothing
      // A cache of recomputed keys' inputs is read by linear maps: its
      // "attention" cannot run where it lives.
      if (!readByAttention)
        items[item].attentionReads = false;
      int64_t position =
          kvPosition > 0 ? std::min<int64_t>(kvPosition, rows) : rows;
      uint64_t read = static_cast<uint64_t>(batch * position) * rowBytes;
      uint64_t written =
          static_cast<uint64_t>(batch * std::min(tokens, rows)) * rowBytes;
      schedule.uses.push_back({item, *first, *last, false, 0, read, written});
      stepBytes[*last] += read;
    }
    (void)module;
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();

    // Entry points: public functions with bodies.
    SmallVector<func::FuncOp> entries;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function.isExternal() && function.isPublic())
        entries.push_back(function);

    // Items: the globals the entry points read, in module order.
    llvm::DenseSet<StringAttr> read;
    for (func::FuncOp function : entries)
      function.walk([&](WeightOp weight) {
        read.insert(weight.getNameAttr().getAttr());
      });
    std::vector<offload::Item> items;
    llvm::DenseMap<StringAttr, unsigned> itemOf;
    SmallVector<GlobalOp> globals;
    for (GlobalOp global : module.getOps<GlobalOp>()) {
      if (!read.contains(global.getSymNameAttr()))
        continue;
      auto type = cast<RankedTensorType>(global.getType());
      if (type.getElementTypeBitWidth() % 8 != 0) {
        global.emitOpError("has elements of ")
            << type.getElementTypeBitWidth()
            << " bits; offloading lays out whole bytes only";
        return signalPassFailure();
      }
      itemOf[global.getSymNameAttr()] = items.size();
      items.push_back({global.getSymName().str(),
                       offload::pageRound(global.getByteSize()), -1});
      globals.push_back(global);
    }
    size_t numWeights = items.size();

    offload::Options options;
    if (planner == "reference")
      options.planner = offload::PlannerKind::Reference;
    else if (planner == "cost")
      options.planner = offload::PlannerKind::Cost;
    else {
      mlir::emitError(module.getLoc(), "tvc-plan-offload: unknown planner '")
          << planner << "' (expected reference or cost)";
      return signalPassFailure();
    }
    if (!(readBandwidth > 0) || !(computeBandwidth > 0) ||
        !(computeFlops > 0) || !(readOverhead >= 0)) {
      mlir::emitError(
          module.getLoc(),
          "tvc-plan-offload: bandwidths and compute-flops must be positive and "
          "the read overhead not negative");
      return signalPassFailure();
    }
    if (kv != "plan" && kv != "resident") {
      mlir::emitError(module.getLoc(), "tvc-plan-offload: unknown kv '")
          << kv << "' (expected plan or resident)";
      return signalPassFailure();
    }
    if (attentionOffload && kv == "resident") {
      mlir::emitError(module.getLoc(),
                      "tvc-plan-offload: attention-offload needs kv=plan");
      return signalPassFailure();
    }
    if (!(hostAttentionBandwidth > 0) || !(attentionLatency >= 0)) {
      mlir::emitError(module.getLoc(),
                      "tvc-plan-offload: the host attention bandwidth must be "
                      "positive and its latency not negative");
      return signalPassFailure();
    }
    options.depth = depth;
    options.readBytesPerSecond = readBandwidth;
    options.readOverheadSeconds = readOverhead;
    options.computeBytesPerSecond = computeBandwidth;
    options.attentionOffload = attentionOffload;
    options.hostAttentionBytesPerSecond = hostAttentionBandwidth;
    options.attentionLatencySeconds = attentionLatency;
    // KV caches: one item per cache (its ordinal among an entry point's
    // tvc.kv_cache arguments, the same in prefill and decode).
    std::vector<unsigned> kvItems;

    // Schedules: every op of an entry point in execution order (layer
    // bodies included) is a step.
    std::vector<offload::Schedule> schedules;
    llvm::DenseMap<StringAttr, uint64_t> gatherBytes;
    int decodeIndex = -1;
    for (func::FuncOp function : entries) {
      offload::Schedule schedule;
      schedule.entry = function.getSymName().str();
      llvm::DenseMap<Operation *, unsigned> stepOf;
      function.walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (op == function.getOperation() ||
            isa<LayerOp, YieldOp, WeightOp>(op))
          return;
        stepOf[op] = schedule.numSteps++;
      });
      std::vector<uint64_t> stepBytes(schedule.numSteps, 0);
      std::optional<int64_t> bound = sequenceBound(function, module);
      // The linear maps' flops: 2 x rows x weight elements (any structure:
      // the elements it stores). Dynamic rows are at the sequence bound, or
      // at kv-position (the rows a call attends to, e.g. recomputed keys).
      std::vector<double> stepFlops(schedule.numSteps, 0);
      std::optional<int64_t> rowBound = bound;
      if (kvPosition > 0)
        rowBound = std::min<int64_t>(kvPosition, bound.value_or(kvPosition));
      function.walk([&](Operation *op) {
        if (!isa<LinearOp, LmHeadOp>(op))
          return;
        auto found = stepOf.find(op);
        auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
        if (found == stepOf.end() || !result || result.getRank() == 0)
          return;
        std::optional<uint64_t> outputs = boundedElements(result, rowBound);
        if (!outputs)
          return;
        double rows = static_cast<double>(*outputs) /
                      std::max<int64_t>(1, result.getShape().back());
        double elements = 0;
        for (Value operand : op->getOperands().drop_front())
          if (auto type = dyn_cast<RankedTensorType>(operand.getType());
              type && type.hasStaticShape() && type.getRank() >= 2)
            elements += static_cast<double>(type.getNumElements());
        stepFlops[found->second] += 2 * rows * elements;
      });
      struct Range {
        std::optional<std::pair<unsigned, unsigned>> dense, gather;
        uint64_t touched = 0;
      };
      llvm::MapVector<unsigned, Range> ranges;
      auto widen = [](std::optional<std::pair<unsigned, unsigned>> &range,
                      unsigned step) {
        if (!range)
          range = {step, step};
        range->first = std::min(range->first, step);
        range->second = std::max(range->second, step);
      };
      function.walk([&](WeightOp weight) {
        unsigned item = itemOf.lookup(weight.getNameAttr().getAttr());
        if (auto layer = weight->getParentOfType<LayerOp>())
          if (items[item].layer < 0)
            items[item].layer = static_cast<int>(layer.getIndex());
        Range &range = ranges[item];
        for (OpOperand &use : weight->getUses()) {
          Operation *user = use.getOwner();
          // Stop at the step that contains the use (a nested op counts at
          // its outermost non-layer ancestor, e.g. a region op's body).
          auto found = stepOf.find(user);
          if (found == stepOf.end())
            continue;
          Value rows;
          if (auto embedding = dyn_cast<EmbeddingOp>(user);
              embedding && use.get() == embedding.getTable())
            rows = embedding.getIds();
          if (auto positions = dyn_cast<LearnedPositionsOp>(user);
              positions && use.get() == positions.getTable())
            rows = positions.getPositions();
          if (rows && paging) {
            auto table = cast<RankedTensorType>(weight.getType());
            uint64_t rowBytes = globals[item].getByteSize() /
                                std::max<int64_t>(1, table.getDimSize(0));
            std::optional<uint64_t> count = boundedElements(
                cast<RankedTensorType>(rows.getType()), bound);
            uint64_t perRow =
                (offload::pageRound(rowBytes) / offload::kPageBytes + 1) *
                offload::kPageBytes;
            uint64_t touched =
                count ? std::min(items[item].bytes, *count * perRow)
                      : items[item].bytes;
            range.touched += touched;
            widen(range.gather, found->second);
            continue;
          }
          widen(range.dense, found->second);
          stepBytes[found->second] += items[item].bytes;
          // Without paging a gathered table is read whole, and the lowered
          // gather fuses into the elementwise op that consumes its rows
          // (GPT-2's token and position rows meet in one add): the table
          // is live until that consumer too.
          if (rows)
            for (Operation *consumer : user->getUsers())
              if (auto at = stepOf.find(consumer); at != stepOf.end())
                widen(range.dense, at->second);
        }
      });
      if (failed(addKvUses(function, module, stepOf, bound, items, kvItems,
                           schedule, stepBytes)))
        return signalPassFailure();
      for (auto &[item, range] : ranges) {
        if (range.dense)
          schedule.uses.push_back(
              {item, range.dense->first, range.dense->second, false, 0});
        if (range.gather) {
          uint64_t touched = std::min(range.touched, items[item].bytes);
          schedule.uses.push_back({item, range.gather->first,
                                   range.gather->second, true, touched});
          StringAttr name = globals[item].getSymNameAttr();
          gatherBytes[name] = std::max(gatherBytes.lookup(name), touched);
        }
      }
      for (auto [stepRead, flops] : llvm::zip_equal(stepBytes, stepFlops))
        schedule.stepSeconds.push_back(
            1e-7 + std::max(stepRead / computeBandwidth, flops / computeFlops));
      if (function.getSymName().ends_with("_decode"))
        decodeIndex = static_cast<int>(schedules.size());
      schedules.push_back(std::move(schedule));
    }
    // A KV cache outside any tvc.layer (tvc-derive-decode inlines them)
    // belongs to the layer of the last weight read before it.
    for (const offload::Schedule &schedule : schedules)
      for (const offload::Use &kvUse : schedule.uses) {
        offload::Item &cache = items[kvUse.item];
        if (!cache.kvCache || cache.layer >= 0)
          continue;
        std::optional<unsigned> latest;
        for (const offload::Use &use : schedule.uses)
          if (!items[use.item].kvCache && items[use.item].layer >= 0 &&
              use.first <= kvUse.first && (!latest || use.first >= *latest)) {
            latest = use.first;
            cache.layer = items[use.item].layer;
          }
      }
    for (auto [index, schedule] : llvm::enumerate(schedules))
      schedule.successor =
          decodeIndex >= 0 ? static_cast<unsigned>(decodeIndex) : index;

    if (items.empty()) {
      mlir::emitRemark(module.getLoc(), "offload plan: the entry points read "
                                        "no weights and keep no KV caches");
      return;
    }

    // A percentage is of what a run holds with nothing streamed, the
    // reserved bytes (the arenas) included; the planner places items in
    // what the reserve leaves.
    uint64_t reserve = reserved;
    uint64_t total = offload::residentFootprint(items, schedules) + reserve;
    std::string error;
    std::optional<uint64_t> bytes = offload::parseByteSize(budget, total, error);
    if (!bytes) {
      mlir::emitError(module.getLoc(), "tvc-plan-offload: budget: ") << error;
      return signalPassFailure();
    }
    if (*bytes <= reserve) {
      mlir::emitError(module.getLoc(), "tvc-plan-offload: the budget of ")
          << *bytes << " bytes is not above the " << reserve
          << " reserved bytes";
      return signalPassFailure();
    }
    options.budget = *bytes - reserve;

    llvm::Expected<offload::Plan> plan =
        offload::planOffload(items, schedules, options);
    if (!plan) {
      InFlightDiagnostic diagnostic =
          mlir::emitError(module.getLoc(), "tvc-plan-offload: ")
          << llvm::toString(plan.takeError());
      if (reserve > 0)
        diagnostic.attachNote()
            << "the plan's budget is the " << *bytes << "-byte budget less "
            << reserve << " reserved bytes";
      return signalPassFailure();
    }

    // The answer as attributes.
    Builder builder(context);
    // Streamed items' pool slots, when they fit the budget (else the
    // executor allocates slots at run time).
    auto slotOf = [&](unsigned item) -> std::optional<uint64_t> {
      if (item >= plan->slots.offset.size() ||
          plan->slots.offset[item] == offload::kNoSlot)
        return std::nullopt;
      return plan->slots.offset[item];
    };
    for (auto [index, global, placement] : llvm::enumerate(
             globals, ArrayRef(plan->placement).take_front(numWeights))) {
      global->setAttr("tvc.placement",
                      builder.getStringAttr(offload::placementName(placement)));
      if (std::optional<uint64_t> slot = slotOf(index))
        global->setAttr("tvc.slot_offset", builder.getI64IntegerAttr(*slot));
      else
        global->removeAttr("tvc.slot_offset");
      int layer = items[itemOf.lookup(global.getSymNameAttr())].layer;
      if (layer >= 0)
        global->setAttr("tvc.offload_layer", builder.getI64IntegerAttr(layer));
      if (uint64_t touched = gatherBytes.lookup(global.getSymNameAttr()))
        global->setAttr("tvc.gather_bytes", builder.getI64IntegerAttr(touched));
    }
    SmallVector<NamedAttribute> config = {
        builder.getNamedAttr("budget",
                             builder.getI64IntegerAttr(options.budget)),
        builder.getNamedAttr("reserved", builder.getI64IntegerAttr(reserve)),
        builder.getNamedAttr("planner", builder.getStringAttr(planner)),
        builder.getNamedAttr("depth", builder.getI64IntegerAttr(depth)),
        builder.getNamedAttr("read_bandwidth",
                             builder.getF64FloatAttr(readBandwidth)),
        builder.getNamedAttr("kv_caches",
                             builder.getI64IntegerAttr(kvItems.size())),
    };
    // Each entry point's predicted steady-state call (tvc-compile compares
    // plans with and without recomputed KV caches by it).
    SmallVector<NamedAttribute> predicted;
    for (auto [index, schedule] : llvm::enumerate(schedules))
      predicted.push_back(builder.getNamedAttr(
          schedule.entry,
          builder.getF64FloatAttr(plan->replay.seconds[index])));
    config.push_back(builder.getNamedAttr(
        "predicted_seconds", builder.getDictionaryAttr(predicted)));
    if (!plan->slots.offset.empty())
      config.push_back(builder.getNamedAttr(
          "pool_bytes", builder.getI64IntegerAttr(plan->slots.poolBytes)));
    if (!paging)
      config.push_back(
          builder.getNamedAttr("paging", builder.getBoolAttr(false)));
    module->setAttr("tvc.offload", builder.getDictionaryAttr(config));
    for (func::FuncOp function : entries) {
      unsigned ordinal = 0;
      for (unsigned index = 0; index < function.getNumArguments(); ++index) {
        if (!function.getArgAttr(index, "tvc.kv_cache"))
          continue;
        unsigned item = kvItems[ordinal];
        function.setArgAttr(index, "tvc.kv_item",
                            builder.getI64IntegerAttr(ordinal++));
        function.setArgAttr(index, "tvc.kv_placement",
                            builder.getStringAttr(
                                offload::placementName(plan->placement[item])));
        if (std::optional<uint64_t> slot = slotOf(item))
          function.setArgAttr(index, "tvc.kv_slot_offset",
                              builder.getI64IntegerAttr(*slot));
        else
          function.removeArgAttr(index, "tvc.kv_slot_offset");
      }
    }

    std::string summary;
    llvm::raw_string_ostream os(summary);
    // Bytes per placement, of weights and of KV caches apart.
    auto placed = [&](offload::Placement kind, bool kvCaches) {
      uint64_t bytes = 0;
      for (auto [item, where] : llvm::zip_equal(items, plan->placement))
        if (where == kind && item.kvCache == kvCaches)
          bytes += item.bytes;
      return bytes;
    };
    std::string held = "weights";
    if (!kvItems.empty())
      held += reserve > 0 ? ", KV caches" : " and KV caches";
    if (reserve > 0)
      held += llvm::formatv(" and {0} reserved bytes", reserve);
    os << llvm::formatv(
        "offload plan ({0}): budget {1} of {2} bytes of {3} held with "
        "nothing streamed; resident "
        "{4}, streamed {5}, paged {6} bytes",
        planner, options.budget + reserve, total, held,
        placed(offload::Placement::Resident, false),
        placed(offload::Placement::Streamed, false),
        placed(offload::Placement::Paged, false));
    if (!kvItems.empty()) {
      os << llvm::formatv("; KV caches resident {0}, streamed {1}",
                          placed(offload::Placement::Resident, true),
                          placed(offload::Placement::Streamed, true));
      if (attentionOffload)
        os << llvm::formatv(", attention where they live {0}",
                            placed(offload::Placement::HostAttention, true));
      os << " bytes";
    }
    os << llvm::formatv("; peak {0}", plan->replay.peakBytes);
    for (auto [index, schedule] : llvm::enumerate(schedules)) {
      os << llvm::formatv("; {0}: reads {1} bytes per call", schedule.entry,
                          plan->replay.bytesRead[index]);
      if (uint64_t written = plan->replay.bytesWritten[index])
        os << llvm::formatv(", writes {0}", written);
      os << llvm::formatv(", predicted {0:f3} ms ({1:f3} ms waiting)",
                          plan->replay.seconds[index] * 1e3,
                          plan->replay.stallSeconds[index] * 1e3);
    }
    mlir::emitRemark(module.getLoc(), summary);

    if (!report.empty()) {
      llvm::json::Value json = plan->toJSON(schedules);
      if (llvm::Error error = llvm::writeToOutput(
              report, [&](llvm::raw_ostream &out) {
                out << llvm::formatv("{0:2}", json) << "\n";
                return llvm::Error::success();
              })) {
        mlir::emitError(module.getLoc(), "tvc-plan-offload: cannot write '")
            << report << "': " << llvm::toString(std::move(error));
        return signalPassFailure();
      }
    }
  }
};

} // namespace
