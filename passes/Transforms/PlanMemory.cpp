//===- PlanMemory.cpp - tvc-plan-memory -----------------------------------===//
//
// A static memory plan: the temporaries of an entry point become views of
// one arena argument at offsets chosen by liveness, so the compiled code
// allocates nothing per call. See Passes.td for the rules.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <functional>
#include <map>
#include <optional>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCPLANMEMORY
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;
constexpr StringLiteral kMaxShapeAttr = "tvc.max_shape";

/// The size operand of `alloc` for dynamic dimension `dim`.
Value dynamicSize(memref::AllocOp alloc, int64_t dim) {
  return alloc.getDynamicSizes()[alloc.getType().getDynamicDimIndex(dim)];
}

/// Upper bound of an index value, or nothing when none can be proved.
/// Index arithmetic is assumed not to wrap (sizes are small and
/// non-negative).
std::optional<int64_t> upperBound(Value value, unsigned depth = 0) {
  if (depth > 32)
    return std::nullopt;
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)))
    return constant.getSExtValue();
  Operation *op = value.getDefiningOp();
  if (!op)
    return std::nullopt;
  auto bound = [&](Value operand) { return upperBound(operand, depth + 1); };
  auto both = [&](Value a, Value b,
                  function_ref<int64_t(int64_t, int64_t)> combine)
      -> std::optional<int64_t> {
    std::optional<int64_t> x = bound(a), y = bound(b);
    if (!x || !y || *x < 0 || *y < 0)
      return std::nullopt;
    return combine(*x, *y);
  };

  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    auto type = dyn_cast<MemRefType>(dim.getSource().getType());
    if (!index || !type || *index < 0 || *index >= type.getRank())
      return std::nullopt;
    if (!type.isDynamicDim(*index))
      return type.getDimSize(*index);
    Value source = dim.getSource();
    if (auto alloc = source.getDefiningOp<memref::AllocOp>())
      return bound(dynamicSize(alloc, *index));
    auto argument = dyn_cast<BlockArgument>(source);
    if (!argument)
      return std::nullopt;
    auto function =
        dyn_cast<func::FuncOp>(argument.getOwner()->getParentOp());
    if (!function || argument.getOwner() != &function.getBody().front())
      return std::nullopt;
    auto maxShape = function.getArgAttrOfType<DenseI64ArrayAttr>(
        argument.getArgNumber(), kMaxShapeAttr);
    if (!maxShape || maxShape.size() != type.getRank() ||
        maxShape[*index] < 0)
      return std::nullopt;
    return maxShape[*index];
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(op))
    return bound(op->getOperand(0));
  if (auto mul = dyn_cast<arith::MulIOp>(op))
    return both(mul.getLhs(), mul.getRhs(),
                [](int64_t a, int64_t b) { return a * b; });
  if (auto add = dyn_cast<arith::AddIOp>(op))
    return both(add.getLhs(), add.getRhs(),
                [](int64_t a, int64_t b) { return a + b; });
  if (auto max = dyn_cast<arith::MaxUIOp>(op))
    return both(max.getLhs(), max.getRhs(),
                [](int64_t a, int64_t b) { return std::max(a, b); });
  if (auto max = dyn_cast<arith::MaxSIOp>(op))
    return both(max.getLhs(), max.getRhs(),
                [](int64_t a, int64_t b) { return std::max(a, b); });
  if (isa<arith::MinUIOp, arith::MinSIOp>(op)) {
    // Either bound bounds the minimum of non-negative sizes.
    std::optional<int64_t> x = bound(op->getOperand(0)),
                           y = bound(op->getOperand(1));
    if (x && y)
      return std::min(*x, *y);
    return x ? x : y;
  }
  if (auto apply = dyn_cast<affine::AffineApplyOp>(op)) {
    // Sums and positive multiples of bounded operands (a concatenation's
    // size is the sum of its parts').
    AffineMap map = apply.getAffineMap();
    std::function<std::optional<int64_t>(AffineExpr)> evaluate =
        [&](AffineExpr expr) -> std::optional<int64_t> {
      if (auto constant = dyn_cast<AffineConstantExpr>(expr))
        return constant.getValue();
      if (auto dim = dyn_cast<AffineDimExpr>(expr))
        return bound(apply.getMapOperands()[dim.getPosition()]);
      if (auto symbol = dyn_cast<AffineSymbolExpr>(expr))
        return bound(apply.getMapOperands()[map.getNumDims() +
                                            symbol.getPosition()]);
      auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
      if (!binary)
        return std::nullopt;
      std::optional<int64_t> x = evaluate(binary.getLHS()),
                             y = evaluate(binary.getRHS());
      if (!x || !y || *x < 0 || *y < 0)
        return std::nullopt;
      if (expr.getKind() == AffineExprKind::Add)
        return *x + *y;
      if (expr.getKind() == AffineExprKind::Mul)
        return *x * *y;
      return std::nullopt;
    };
    if (map.getNumResults() == 1)
      return evaluate(map.getResult(0));
    return std::nullopt;
  }
  if (auto sub = dyn_cast<arith::SubIOp>(op)) {
    // A size minus a size (ring caches: what is left after the first
    // slice) is at most the first: subtrahends here are non-negative.
    return bound(sub.getLhs());
  }
  if (isa<arith::RemSIOp, arith::RemUIOp>(op)) {
    // A row of a ring: below the (constant) divisor, or below the dividend.
    APInt divisor;
    if (matchPattern(op->getOperand(1), m_ConstantInt(&divisor)) &&
        divisor.getSExtValue() > 0)
      return divisor.getSExtValue() - 1;
    return bound(op->getOperand(0));
  }
  if (auto div = dyn_cast<arith::DivUIOp>(op)) {
    std::optional<int64_t> x = bound(div.getLhs());
    APInt divisor;
    if (x && matchPattern(div.getRhs(), m_ConstantInt(&divisor)) &&
        divisor.getSExtValue() > 0)
      return *x / divisor.getSExtValue();
    return std::nullopt;
  }
  if (auto div = dyn_cast<arith::CeilDivUIOp>(op)) {
    std::optional<int64_t> x = bound(div.getLhs());
    APInt divisor;
    if (x && matchPattern(div.getRhs(), m_ConstantInt(&divisor)) &&
        divisor.getSExtValue() > 0)
      return llvm::divideCeil(*x, divisor.getSExtValue());
    return std::nullopt;
  }
  return std::nullopt;
}

/// One temporary buffer of the plan.
struct Buffer {
  memref::AllocOp alloc;
  SmallVector<Operation *> deallocs;
  int64_t bytes = 0;
  unsigned begin = 0, end = 0; // live range: positions in the entry block
  int64_t offset = -1;
};

/// Why a buffer stays on the heap (for the report).
enum class HeapReason { Escapes, Unbounded, Layout, Nested };

StringRef describe(HeapReason reason) {
  switch (reason) {
  case HeapReason::Escapes:
    return "escape the function";
  case HeapReason::Unbounded:
    return "have no size bound";
  case HeapReason::Layout:
    return "have a layout, memory space or element type an arena cannot hold";
  case HeapReason::Nested:
    return "are allocated inside a region";
  }
  llvm_unreachable("unknown reason");
}

/// The last position in `block` at which `root` or a view of it is used, or
/// nothing when the buffer escapes. A buffer the function returns lives to
/// the return when `placeResults`, and escapes otherwise.
std::optional<unsigned>
lastUse(Value root, Block &block,
        const DenseMap<Operation *, unsigned> &position,
        SmallVectorImpl<Operation *> &deallocs, bool placeResults) {
  unsigned last = 0;
  SmallVector<Value> worklist{root};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp>(user) &&
          (!placeResults || user->getBlock() != &block))
        return std::nullopt;
      // A dealloc written before planning goes: the arena owns the bytes.
      if (isa<memref::DeallocOp>(user)) {
        deallocs.push_back(user);
        continue;
      }
      // Views and casts alias the buffer: follow them.
      bool aliases = false;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        aliases = view.getViewSource() == value;
      else if (isa<memref::CastOp>(user))
        aliases = true;
      if (aliases) {
        for (Value result : user->getResults())
          worklist.push_back(result);
      } else if (llvm::any_of(user->getResultTypes(),
                              llvm::IsaPred<BaseMemRefType>)) {
        // An op that may return the buffer under another name.
        return std::nullopt;
      }
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return std::nullopt;
      last = std::max(last, position.lookup(top));
    }
  }
  return last;
}

/// Places `buffers` (greedy by size, lowest fitting offset); returns the
/// arena's size.
int64_t place(MutableArrayRef<Buffer> buffers) {
  SmallVector<Buffer *> order;
  for (Buffer &buffer : buffers)
    order.push_back(&buffer);
  llvm::sort(order, [](const Buffer *a, const Buffer *b) {
    return a->bytes != b->bytes ? a->bytes > b->bytes : a->begin < b->begin;
  });
  int64_t peak = 0;
  SmallVector<Buffer *> placed;
  for (Buffer *buffer : order) {
    // Placed buffers live at the same time, by offset.
    SmallVector<Buffer *> conflicts;
    for (Buffer *other : placed)
      if (other->begin <= buffer->end && buffer->begin <= other->end)
        conflicts.push_back(other);
    llvm::sort(conflicts, [](const Buffer *a, const Buffer *b) {
      return a->offset < b->offset;
    });
    int64_t offset = 0;
    for (Buffer *other : conflicts) {
      if (offset + buffer->bytes <= other->offset)
        break;
      offset = std::max<int64_t>(
          offset, llvm::alignTo(other->offset + other->bytes, kAlignment));
    }
    buffer->offset = offset;
    peak = std::max(peak, offset + buffer->bytes);
    placed.push_back(buffer);
  }
  return llvm::alignTo(peak, kAlignment);
}

std::string formatBytes(int64_t bytes) {
  if (bytes >= (int64_t(1) << 20))
    return llvm::formatv("{0:F1} MiB", bytes / double(1 << 20)).str();
  if (bytes >= 1024)
    return llvm::formatv("{0:F1} KiB", bytes / 1024.0).str();
  return std::to_string(bytes) + " B";
}

struct PlanMemoryPass : public tvc::impl::TvcPlanMemoryBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal() ||
          !SymbolTable::symbolKnownUseEmpty(function, module))
        continue;
      if (failed(planFunction(function)))
        return signalPassFailure();
    }
  }

  LogicalResult planFunction(func::FuncOp function) {
    MLIRContext *context = function.getContext();
    Block &entry = function.getBody().front();
    DenseMap<Operation *, unsigned> position;
    for (auto [index, op] : llvm::enumerate(entry))
      position[&op] = index;

    SmallVector<Buffer> buffers;
    std::map<HeapReason, unsigned> heap;
    function.walk([&](memref::AllocOp alloc) {
      if (alloc->getBlock() != &entry) {
        ++heap[HeapReason::Nested];
        return;
      }
      MemRefType type = alloc.getType();
      if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
          !type.getElementType().isIntOrIndexOrFloat() ||
          isa<IndexType>(type.getElementType())) {
        ++heap[HeapReason::Layout];
        return;
      }
      SmallVector<Operation *> deallocs;
      std::optional<unsigned> end =
          lastUse(alloc.getResult(), entry, position, deallocs, results);
      if (!end) {
        ++heap[HeapReason::Escapes];
        return;
      }
      int64_t elements = 1;
      for (int64_t dim = 0; dim < type.getRank(); ++dim) {
        std::optional<int64_t> extent =
            type.isDynamicDim(dim)
                ? upperBound(dynamicSize(alloc, dim))
                : std::optional<int64_t>(type.getDimSize(dim));
        if (!extent || *extent < 0) {
          ++heap[HeapReason::Unbounded];
          return;
        }
        elements *= *extent;
      }
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.deallocs = std::move(deallocs);
      // Memrefs are not bit-packed: an i1 takes a whole byte, as in LLVM's
      // layout of the lowered loads and stores.
      buffer.bytes = std::max<int64_t>(
          elements * llvm::divideCeil(type.getElementTypeBitWidth(), 8), 1);
      buffer.begin = position.lookup(alloc);
      buffer.end = std::max(*end, buffer.begin);
      buffers.push_back(buffer);
    });

    int64_t arenaBytes = buffers.empty() ? 0 : place(buffers);
    unsigned heapCount = 0;
    for (auto &[reason, count] : heap)
      heapCount += count;
    auto i64 = IntegerType::get(context, 64);
    function->setAttr("tvc.arena_bytes", IntegerAttr::get(i64, arenaBytes));
    function->setAttr("tvc.arena_buffers",
                      IntegerAttr::get(i64, buffers.size()));
    function->setAttr("tvc.heap_buffers", IntegerAttr::get(i64, heapCount));

    if (report && (!buffers.empty() || heapCount)) {
      int64_t total = 0;
      for (const Buffer &buffer : buffers)
        total += buffer.bytes;
      InFlightDiagnostic remark = function.emitRemark();
      remark << "memory plan: " << buffers.size() << " buffers in an arena of "
             << formatBytes(arenaBytes) << " (" << arenaBytes << " bytes; "
             << formatBytes(total) << " without reuse)";
      if (heapCount) {
        remark << "; on the heap:";
        llvm::interleave(
            heap, remark,
            [&](const auto &entry) {
              remark << " " << entry.second << " " << describe(entry.first);
            },
            ",");
      }
    }
    if (buffers.empty())
      return success();

    unsigned arenaIndex = function.getNumArguments();
    auto arenaType = MemRefType::get({ShapedType::kDynamic},
                                     IntegerType::get(context, 8));
    if (failed(function.insertArgument(arenaIndex, arenaType,
                                       DictionaryAttr::get(context),
                                       function.getLoc())))
      return failure();
    function.setArgAttr(arenaIndex, "tvc.arena", UnitAttr::get(context));
    Value arena = function.getArgument(arenaIndex);

    // One constant per offset, at the top of the function.
    DenseMap<int64_t, Value> offsets;
    OpBuilder builder(context);
    for (Buffer &buffer : buffers) {
      memref::AllocOp alloc = buffer.alloc;
      Value &offset = offsets[buffer.offset];
      if (!offset) {
        builder.setInsertionPointToStart(&entry);
        offset = arith::ConstantIndexOp::create(builder, function.getLoc(),
                                                buffer.offset);
      }
      builder.setInsertionPoint(alloc);
      Value view = memref::ViewOp::create(builder, alloc.getLoc(),
                                          alloc.getType(), arena, offset,
                                          alloc.getDynamicSizes());
      for (Operation *dealloc : buffer.deallocs)
        dealloc->erase();
      alloc.getResult().replaceAllUsesWith(view);
      alloc.erase();
    }
    return success();
  }
};

} // namespace
