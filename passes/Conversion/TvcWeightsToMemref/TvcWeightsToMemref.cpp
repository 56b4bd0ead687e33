//===- TvcWeightsToMemref.cpp - convert-tvc-weights-to-memref -------------===//
//
// Lays the globals that functions read out in one blob (module order,
// 64-byte aligned) and turns each tvc.weight into a view of a trailing
// `memref<?xi8>` function argument. The layout is recorded on the IR
// (`tvc.offset` per global, `tvc.weights_bytes` on the module) for the
// artifact writer and the runtime.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"
#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace mlir::tvc {
#define GEN_PASS_DEF_CONVERTTVCWEIGHTSTOMEMREF
#include "passes/Conversion/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

constexpr uint64_t kWeightAlignment = 64;
constexpr uint64_t kOffloadAlignment = 4096;
constexpr uint64_t kHugePage = 2 << 20;

struct ConvertTvcWeightsToMemrefPass
    : public tvc::impl::ConvertTvcWeightsToMemrefBase<
          ConvertTvcWeightsToMemrefPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();

    // Which globals are read, then their offsets in module order.
    llvm::DenseSet<StringAttr> used;
    module.walk([&](WeightOp weight) {
      used.insert(weight.getNameAttr().getAttr());
    });
    llvm::StringMap<uint64_t> offsets;
    uint64_t total = 0;
    bool offload = module->hasAttr("tvc.offload");
    bool failedLayout = false;
    SmallVector<std::pair<GlobalOp, uint64_t>> laid;
    for (GlobalOp global : module.getOps<GlobalOp>()) {
      if (!used.contains(global.getSymNameAttr()))
        continue;
      auto type = cast<RankedTensorType>(global.getType());
      unsigned bits = type.getElementTypeBitWidth();
      if (bits % 8 != 0) {
        global.emitOpError() << "has elements of " << bits
                             << " bits; only whole bytes can be laid out";
        failedLayout = true;
        continue;
      }
      laid.push_back({global, global.getByteSize()});
    }
    auto config = module->getAttrOfType<DictionaryAttr>("tvc.offload");
    auto paging = config ? config.getAs<BoolAttr>("paging") : BoolAttr();
    if (offload && paging && !paging.getValue()) {
      // A plan for device memory (CUDA: no demand paging): pages of their
      // own, the weights that stay resident first and together, so that
      // the device memory backing them, mapped in granules of 2 MiB, ends
      // at most one granule past their pages; the streamed ones after
      // them (never backed: their bytes are read into the pool).
      auto streamed = [](GlobalOp global) {
        auto placement = global->getAttrOfType<StringAttr>("tvc.placement");
        return placement && placement.getValue() == "streamed";
      };
      std::stable_partition(laid.begin(), laid.end(), [&](const auto &entry) {
        return !streamed(entry.first);
      });
      for (auto [global, bytes] : laid) {
        total = llvm::alignTo(total, kOffloadAlignment);
        offsets[global.getSymName()] = total;
        total += bytes;
      }
    } else if (!offload) {
      // Module order, 64-byte aligned.
      for (auto [global, bytes] : laid) {
        total = llvm::alignTo(total, kWeightAlignment);
        offsets[global.getSymName()] = total;
        total += bytes;
      }
    } else {
      // With an offload plan every weight gets pages of its own, so that
      // the runtime can read and evict each one (tvc-plan-offload); weights
      // of a huge page or more start on a huge page, so that the executor
      // moves them as huge pages. Those are laid out first; the smaller
      // ones fill the gaps they leave, first fit, then follow.
      SmallVector<std::pair<uint64_t, uint64_t>> gaps; // [begin, end)
      for (auto [global, bytes] : laid) {
        if (bytes < kHugePage)
          continue;
        uint64_t begin = llvm::alignTo(total, kHugePage);
        offsets[global.getSymName()] = begin;
        total = begin + bytes;
        uint64_t next = llvm::alignTo(total, kHugePage);
        uint64_t gapBegin = llvm::alignTo(total, kOffloadAlignment);
        if (gapBegin < next)
          gaps.push_back({gapBegin, next});
      }
      for (auto [global, bytes] : laid) {
        if (bytes >= kHugePage)
          continue;
        uint64_t span = llvm::alignTo(std::max<uint64_t>(bytes, 1),
                                      kOffloadAlignment);
        auto gap = llvm::find_if(gaps, [&](auto &g) {
          return g.second - g.first >= span;
        });
        if (gap != gaps.end()) {
          offsets[global.getSymName()] = gap->first;
          gap->first += span;
          continue;
        }
        total = llvm::alignTo(total, kOffloadAlignment);
        offsets[global.getSymName()] = total;
        total += bytes;
      }
    }
    for (auto [global, bytes] : laid)
      global->setAttr("tvc.offset",
                      IntegerAttr::get(IntegerType::get(context, 64),
                                       offsets.lookup(global.getSymName())));
    if (failedLayout)
      return signalPassFailure();
    module->setAttr("tvc.weights_bytes",
                    IntegerAttr::get(IntegerType::get(context, 64), total));

    auto blobType = MemRefType::get({ShapedType::kDynamic},
                                    IntegerType::get(context, 8));
    for (auto func : module.getOps<func::FuncOp>()) {
      SmallVector<WeightOp> weights;
      func.walk([&](WeightOp weight) { weights.push_back(weight); });
      if (weights.empty() || func.isExternal())
        continue;
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(index, blobType,
                                     DictionaryAttr::get(context), func.getLoc())))
        return signalPassFailure();
      func.setArgAttr(index, "tvc.weights", UnitAttr::get(context));
      Value blob = func.getArgument(index);
      for (WeightOp weight : weights) {
        OpBuilder builder(weight);
        Location loc = weight.getLoc();
        auto type = cast<RankedTensorType>(weight.getType());
        auto viewType = MemRefType::get(type.getShape(), type.getElementType());
        Value offset = arith::ConstantIndexOp::create(
            builder, loc, offsets.lookup(weight.getName()));
        Value view = memref::ViewOp::create(builder, loc, viewType, blob,
                                            offset, ValueRange());
        auto tensor = bufferization::ToTensorOp::create(builder, loc, type,
                                                        view);
        tensor.setRestrict(true);
        weight.replaceAllUsesWith(tensor.getResult());
        weight.erase();
      }
    }
  }
};

} // namespace
