//===- ChunkWeights.cpp - tvc-chunk-weights -------------------------------===//
//
// Splits large LM-head and dense linear matrices into row chunks, each a
// global of its own (#tvc.rows), so that an offload plan can stream them in
// pieces. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"
#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCCHUNKWEIGHTS
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

struct TvcChunkWeightsPass
    : public tvc::impl::TvcChunkWeightsBase<TvcChunkWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    uint64_t total = modelWeightBytes(module);
    std::string error;
    std::optional<uint64_t> limit =
        offload::parseByteSize(maxBytes, total, error);
    if (!limit) {
      mlir::emitError(module.getLoc(), "tvc-chunk-weights: max-bytes: ")
          << error;
      return signalPassFailure();
    }
    SymbolTable symbols(module);

    // The ops to split: a weight straight from tvc.weight, over the limit.
    SmallVector<Operation *> work;
    module.walk([&](Operation *op) {
      Value weight;
      if (auto head = dyn_cast<LmHeadOp>(op))
        weight = head.getWeight();
      else if (auto linear = dyn_cast<LinearOp>(op)) {
        // Rows of an [out, in] matrix are output channels; an in_out
        // matrix's rows are input channels (a split-K sum, not a concat).
        auto dense = dyn_cast<DenseStructureAttr>(linear.getStructure());
        if (dense && dense.getLayout() == WeightLayout::OutIn &&
            linear.getWeights().size() == 1)
          weight = linear.getWeights()[0];
      }
      auto weightOp = weight ? weight.getDefiningOp<WeightOp>() : WeightOp();
      auto source = weightOp ? symbols.lookup<GlobalOp>(
                                   weightOp.getNameAttr().getAttr())
                             : GlobalOp();
      if (!source)
        return;
      RankedTensorType type = source.getTensorType();
      if (type.getRank() == 2 && source.getByteSize() > *limit &&
          type.getDimSize(0) > 1)
        work.push_back(op);
    });

    // One set of chunk globals per source (shared by every op reading it,
    // e.g. the prefill's and the decode's heads).
    llvm::DenseMap<StringAttr, SmallVector<GlobalOp>> chunksOf;
    auto chunkGlobals = [&](GlobalOp source,
                            ArrayRef<int64_t> starts) -> SmallVector<GlobalOp> {
      auto &cached = chunksOf[source.getSymNameAttr()];
      if (!cached.empty())
        return cached;
      RankedTensorType type = source.getTensorType();
      OpBuilder builder(source);
      builder.setInsertionPointAfter(source);
      for (size_t index = 0; index + 1 < starts.size(); ++index) {
        SmallVector<int64_t> shape(type.getShape());
        shape[0] = starts[index + 1] - starts[index];
        auto global = GlobalOp::create(
            builder, source.getLoc(),
            (source.getSymName() + ".rows" + llvm::Twine(starts[index])).str(),
            RankedTensorType::get(shape, type.getElementType()),
            RowsWeightAttr::get(
                &getContext(), FlatSymbolRefAttr::get(source.getSymNameAttr()),
                starts[index]));
        symbols.insert(global);
        builder.setInsertionPointAfter(global);
        cached.push_back(global);
      }
      return cached;
    };

    unsigned split = 0;
    for (Operation *op : work) {
      auto linear = dyn_cast<LinearOp>(op);
      Value weightValue = linear ? linear.getWeights()[0]
                                 : cast<LmHeadOp>(op).getWeight();
      auto weightOp = weightValue.getDefiningOp<WeightOp>();
      auto source = symbols.lookup<GlobalOp>(weightOp.getNameAttr().getAttr());
      if (!source)
        continue;
      RankedTensorType type = source.getTensorType();
      int64_t rows = type.getDimSize(0);
      uint64_t bytes = source.getByteSize();
      int64_t pieces = static_cast<int64_t>(
          std::min<uint64_t>((bytes + *limit - 1) / *limit, rows));
      SmallVector<int64_t> starts;
      for (int64_t index = 0; index <= pieces; ++index)
        starts.push_back(rows * index / pieces);
      SmallVector<GlobalOp> weights = chunkGlobals(source, starts);

      SmallVector<GlobalOp> biases;
      Value bias = linear ? linear.getBias() : Value();
      if (bias) {
        auto biasOp = bias.getDefiningOp<WeightOp>();
        GlobalOp biasSource =
            biasOp ? symbols.lookup<GlobalOp>(biasOp.getNameAttr().getAttr())
                   : GlobalOp();
        if (!biasSource) {
          op->emitRemark("tvc-chunk-weights: left whole: its bias is not a "
                         "tvc.weight");
          continue;
        }
        biases = chunkGlobals(biasSource, starts);
      }

      OpBuilder builder(op);
      Location loc = op->getLoc();
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      SmallVector<Value> parts;
      for (auto [index, chunk] : llvm::enumerate(weights)) {
        Value w = WeightOp::create(builder, loc, chunk.getTensorType(),
                                   chunk.getSymName());
        SmallVector<int64_t> shape(resultType.getShape());
        shape.back() = chunk.getTensorType().getDimSize(0);
        auto partType = RankedTensorType::get(shape, resultType.getElementType());
        if (linear) {
          Value b = biases.empty()
                        ? Value()
                        : WeightOp::create(builder, loc,
                                           biases[index].getTensorType(),
                                           biases[index].getSymName())
                              .getResult();
          auto part = LinearOp::create(builder, loc, partType,
                                       linear.getInput(), ValueRange{w}, b,
                                       linear.getStructure());
          parts.push_back(part.getResult());
        } else {
          auto part = LmHeadOp::create(builder, loc, partType,
                                       cast<LmHeadOp>(op).getHidden(), w);
          parts.push_back(part.getResult());
        }
      }
      Value joined = tensor::ConcatOp::create(
          builder, loc, resultType, resultType.getRank() - 1, parts);
      op->getResult(0).replaceAllUsesWith(joined);
      op->erase();
      if (weightOp->use_empty())
        weightOp->erase();
      if (bias)
        if (Operation *biasOp = bias.getDefiningOp(); biasOp && biasOp->use_empty())
          biasOp->erase();
      ++split;
    }
    if (split > 0)
      mlir::emitRemark(module.getLoc())
          << "tvc-chunk-weights: split " << split << " op(s) over " << *limit
          << " bytes into row chunks";
  }
};

} // namespace
