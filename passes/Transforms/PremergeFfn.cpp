//===- PremergeFfn.cpp - tvc-premerge-ffn ---------------------------------===//
//
// The tvc-premerge-ffn pass: for every #tvc.low_rank, #tvc.block_dense,
// #tvc.block_shuffle and #tvc.lora linear whose weights are f32 tvc.globals
// of static shape, decide (policy=keep, merge, or cost through
// PremergeCostModel.h) whether to keep the factors or to multiply them into
// one dense [out, in] matrix, U V, L blockdiag(B), blockdiag(B2) P
// blockdiag(B1) or W + (alpha/rank) B A (in W's layout: [in, out] for a
// #tvc.lora<..., in_out>). Merging reads the factors through the
// WeightStore, sums in double, writes the product as a new global through the
// WeightWriter (inline or into `weights-file`) and replaces the linear by a
// #tvc.dense one; globals nothing reads any more are erased. Factors shared by
// several linears are merged once.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"
#include "passes/Transforms/PremergeCostModel.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCPREMERGEFFN
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// One structured linear the pass may merge, with its factors' globals in
/// operand order (low-rank: V, U; BlockDense: B, L; block-shuffle: B1, B2;
/// LoRA: W, A, B).
struct Candidate {
  LinearOp linear;
  SmallVector<GlobalOp, 3> globals;
  /// `rank` is the width between the factors (block-shuffle: k q).
  int64_t out = 0, in = 0, rank = 0;
  /// BlockDense and block-shuffle: the number of (first-stage) blocks; 0
  /// otherwise.
  int64_t blocks = 0;
  /// Block-shuffle: the number of second-stage blocks; 0 otherwise.
  int64_t outBlocks = 0;
  /// LoRA: alpha / rank; std::nullopt otherwise.
  std::optional<double> loraScale;
  /// LoRA: W's layout, which the merged matrix keeps.
  WeightLayout layout = WeightLayout::OutIn;
  StringRef kind() const {
    return loraScale   ? "LoRA"
           : outBlocks ? "block-shuffle"
           : blocks    ? "BlockDense"
                       : "low-rank";
  }
  /// The structure's sizes in remarks.
  std::string sizes() const {
    if (outBlocks)
      return llvm::formatv("blocks {0} -> {1}", blocks, outBlocks).str();
    return llvm::formatv("rank {0}", rank).str();
  }
};

/// `blockdiag(B2 [l, s, r]) P blockdiag(B1 [k, q, p])` as a dense
/// [l s, k p] matrix, summed in double. Output row `a s + t` reads the
/// shuffled `z'[a r + c]`, which is `z[i q + j]` for `a r + c = j k + i`:
/// row `j` of block `i` of B1, over input slice `i`.
std::vector<float> multiplyBlockShuffle(ArrayRef<float> b1, ArrayRef<float> b2,
                                        int64_t k, int64_t q, int64_t p,
                                        int64_t l, int64_t s, int64_t r) {
  int64_t in = k * p;
  std::vector<float> merged(l * s * in);
  std::vector<double> row(in);
  for (int64_t a = 0; a < l; ++a)
    for (int64_t t = 0; t < s; ++t) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t c = 0; c < r; ++c) {
        int64_t shuffled = a * r + c;
        int64_t i = shuffled % k, j = shuffled / k;
        double factor = b2[(a * s + t) * r + c];
        const float *blockRow = b1.data() + (i * q + j) * p;
        for (int64_t u = 0; u < p; ++u)
          row[i * p + u] += factor * blockRow[u];
      }
      float *mergedRow = merged.data() + (a * s + t) * in;
      for (int64_t x = 0; x < in; ++x)
        mergedRow[x] = static_cast<float>(row[x]);
    }
  return merged;
}

/// `L [out, k * bo] blockdiag(B [k, bo, bi])` as a dense [out, k * bi]
/// matrix, summed in double.
std::vector<float> multiplyBlockDense(ArrayRef<float> l, ArrayRef<float> b,
                                      int64_t out, int64_t k, int64_t bo,
                                      int64_t bi) {
  std::vector<float> merged(out * k * bi);
  std::vector<double> row(bi);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t block = 0; block < k; ++block) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t j = 0; j < bo; ++j) {
        double factor = l[o * k * bo + block * bo + j];
        const float *blockRow = b.data() + (block * bo + j) * bi;
        for (int64_t i = 0; i < bi; ++i)
          row[i] += factor * blockRow[i];
      }
      for (int64_t i = 0; i < bi; ++i)
        merged[o * k * bi + block * bi + i] = static_cast<float>(row[i]);
    }
  return merged;
}

/// Row-major f32 values of `view` (alignment-safe copy).
std::vector<float> toFloats(const WeightView &view) {
  std::vector<float> values(view.bytes.size() / sizeof(float));
  std::memcpy(values.data(), view.bytes.data(), values.size() * sizeof(float));
  return values;
}

/// `base + scale * up[out, rank] * down[rank, in]`, summed in double; an
/// empty `base` counts as zeros.
std::vector<float> multiplyFactors(ArrayRef<float> up, ArrayRef<float> down,
                                   ArrayRef<float> base, double scale,
                                   int64_t out, int64_t in, int64_t rank) {
  std::vector<float> merged(out * in);
  std::vector<double> row(in);
  for (int64_t o = 0; o < out; ++o) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t k = 0; k < rank; ++k) {
      double factor = up[o * rank + k];
      const float *downRow = down.data() + k * in;
      for (int64_t i = 0; i < in; ++i)
        row[i] += factor * downRow[i];
    }
    for (int64_t i = 0; i < in; ++i)
      merged[o * in + i] = static_cast<float>(
          (base.empty() ? 0.0 : double(base[o * in + i])) + scale * row[i]);
  }
  return merged;
}

/// The `rows x cols` row-major `matrix` transposed (exact: a permutation).
std::vector<float> transposed(ArrayRef<float> matrix, int64_t rows,
                              int64_t cols) {
  std::vector<float> result(matrix.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      result[c * rows + r] = matrix[r * cols + c];
  return result;
}

struct PremergeFfnPass : public tvc::impl::TvcPremergeFfnBase<PremergeFfnPass> {
  using TvcPremergeFfnBase::TvcPremergeFfnBase;
  void runOnOperation() override;

private:
  /// The candidate `linear` makes, or why it is left alone.
  FailureOr<Candidate> analyze(LinearOp linear, SymbolTable &symbols,
                               std::string &why) const;
};

FailureOr<Candidate> PremergeFfnPass::analyze(LinearOp linear,
                                              SymbolTable &symbols,
                                              std::string &why) const {
  Candidate candidate;
  candidate.linear = linear;
  if (auto lowRank = dyn_cast<LowRankStructureAttr>(linear.getStructure())) {
    candidate.rank = lowRank.getRank();
  } else if (auto blockDense =
                 dyn_cast<BlockDenseStructureAttr>(linear.getStructure())) {
    candidate.blocks = blockDense.getBlocks();
  } else if (auto blockShuffle =
                 dyn_cast<BlockShuffleStructureAttr>(linear.getStructure())) {
    candidate.blocks = blockShuffle.getBlocks();
    candidate.outBlocks = blockShuffle.getOutBlocks();
  } else if (auto lora = dyn_cast<LoraStructureAttr>(linear.getStructure())) {
    candidate.rank = lora.getRank();
    candidate.loraScale = lora.getScale();
    candidate.layout = lora.getLayout();
  } else {
    return failure(); // dense, 2:4: nothing to merge, said nothing.
  }
  if (ShapedType::isDynamic(linear.getInput().getType().getShape().back())) {
    why = "its input width is dynamic";
    return failure();
  }
  for (Value weight : linear.getWeights()) {
    auto read = weight.getDefiningOp<WeightOp>();
    GlobalOp global =
        read ? symbols.lookup<GlobalOp>(read.getName()) : GlobalOp();
    if (!global) {
      why = "a factor is not read from a tvc.global";
      return failure();
    }
    RankedTensorType type = global.getTensorType();
    if (!type.hasStaticShape()) {
      why =
          llvm::formatv("factor @{0} has a dynamic shape", global.getSymName())
              .str();
      return failure();
    }
    if (!type.getElementType().isF32()) {
      why = llvm::formatv("factor @{0} is {1}, not f32", global.getSymName(),
                          type.getElementType())
                .str();
      return failure();
    }
    candidate.globals.push_back(global);
  }
  RankedTensorType first = candidate.globals.front().getTensorType();
  RankedTensorType last = candidate.globals.back().getTensorType();
  candidate.in = linear.getInput().getType().getShape().back();
  candidate.out = candidate.outBlocks ? candidate.outBlocks * last.getDimSize(1)
                                      : last.getDimSize(0);
  if (candidate.blocks)
    candidate.rank = candidate.blocks * first.getDimSize(1);
  return candidate;
}

void PremergeFfnPass::runOnOperation() {
  ModuleOp module = getOperation();
  bool mergeAll = policy == "merge", byCost = policy == "cost";
  if (!mergeAll && !byCost && policy != "keep") {
    module.emitError() << "tvc-premerge-ffn: expects 'policy' keep, merge or "
                          "cost, got '"
                       << policy << "'";
    return signalPassFailure();
  }
  if (workload != "decode" && workload != "prefill" && workload != "auto") {
    module.emitError() << "tvc-premerge-ffn: expects 'workload' decode, "
                          "prefill or auto, got '"
                       << workload << "'";
    return signalPassFailure();
  }
  if (tokens < 1) {
    module.emitError() << "tvc-premerge-ffn: expects 'tokens' (rows per "
                          "prefill call) >= 1, got "
                       << static_cast<int64_t>(tokens);
    return signalPassFailure();
  }
  premerge::CpuCosts costs;
  if (!calibration.empty()) {
    llvm::Expected<premerge::CpuCosts> loaded =
        premerge::loadCpuCosts(calibration);
    if (!loaded) {
      module.emitError() << "tvc-premerge-ffn: "
                         << llvm::toString(loaded.takeError());
      return signalPassFailure();
    }
    costs = std::move(*loaded);
  }
  // The workload of a linear: the option's, or with `auto` its entry
  // point's (a KV-cached decode step runs one token, anything else a
  // prefill of `tokens`), so that each entry point gets its own form.
  auto workloadOf = [&](LinearOp linear) -> StringRef {
    if (workload != "auto")
      return workload;
    auto function = linear->getParentOfType<func::FuncOp>();
    return function && function.getSymName().ends_with("_decode") ? "decode"
                                                                   : "prefill";
  };

  SymbolTable symbols(module);
  SmallVector<Candidate> candidates;
  int64_t skipped = 0;
  module.walk([&](LinearOp linear) {
    std::string why;
    FailureOr<Candidate> candidate = analyze(linear, symbols, why);
    if (succeeded(candidate)) {
      candidates.push_back(*candidate);
      return;
    }
    if (why.empty())
      return;
    ++skipped;
    if (report)
      linear.emitRemark() << "not merged: " << why;
  });

  WeightStore store(baseDir);
  WeightWriter writer(module, weightsFile, baseDir);
  // Merged matrices per factor list (and scale): shared factors merge once.
  llvm::StringMap<GlobalOp> mergedByKey;
  llvm::SetVector<GlobalOp> replaced;
  int64_t merged = 0, kept = 0;
  for (Candidate &candidate : candidates) {
    LinearOp linear = candidate.linear;
    bool isLora = candidate.loraScale.has_value();
    StringRef kind = candidate.kind();
    if (policy == "keep") {
      ++kept;
      if (report)
        linear.emitRemark() << "kept " << kind << " (policy=keep)";
      continue;
    }
    if (byCost) {
      StringRef phase = workloadOf(linear);
      int64_t rows = phase == "decode" ? 1 : int64_t(tokens);
      premerge::Estimate estimate =
          isLora ? premerge::estimateLora(costs, rows, candidate.out,
                                          candidate.in, candidate.rank)
          : candidate.outBlocks
              ? premerge::estimateBlockShuffle(
                    costs, rows, candidate.out, candidate.in, candidate.rank,
                    candidate.blocks, candidate.outBlocks)
          : candidate.blocks
              ? premerge::estimateBlockDense(costs, rows, candidate.out,
                                             candidate.in, candidate.rank,
                                             candidate.blocks)
          : fusedLowRank
              ? premerge::estimateFusedLowRank(costs, rows, candidate.out,
                                               candidate.in, candidate.rank)
              : premerge::estimateLowRank(costs, rows, candidate.out,
                                          candidate.in, candidate.rank);
      int64_t factoredWeights =
          candidate.outBlocks
              ? candidate.rank * (candidate.in / candidate.blocks +
                                  candidate.out / candidate.outBlocks)
          : candidate.blocks
              ? candidate.rank *
                    (candidate.in / candidate.blocks + candidate.out)
              : candidate.rank * (candidate.in + candidate.out) +
                    (isLora ? candidate.out * candidate.in : 0);
      std::string numbers = llvm::formatv(
          "{0} [{1} x {2}] {3}, {4} ({5} rows): factored {6:f2} us "
          "({7} weight bytes, {8}) vs merged {9:f2} us ({10} weight "
          "bytes, 1 call)",
          kind, candidate.out, candidate.in, candidate.sizes(), phase, rows,
          estimate.factoredUs, 4 * factoredWeights,
          isLora                ? "4 calls"
          : candidate.outBlocks ? "2 calls and a transpose"
          : !candidate.blocks && fusedLowRank && rows == 1 ? "1 fused call"
                                                           : "2 calls",
          estimate.mergedUs, 4 * candidate.out * candidate.in);
      if (!estimate.preferMerged()) {
        ++kept;
        if (report)
          linear.emitRemark() << "kept factored: " << numbers;
        continue;
      }
      if (report)
        linear.emitRemark() << "merged: " << numbers;
    }

    std::string key;
    for (GlobalOp global : candidate.globals)
      key += (global.getSymName() + ",").str();
    if (isLora)
      key += llvm::formatv("{0},{1}", *candidate.loraScale,
                           stringifyWeightLayout(candidate.layout))
                 .str();
    GlobalOp result = mergedByKey.lookup(key);
    if (!result) {
      SmallVector<std::vector<float>, 3> factors;
      for (GlobalOp global : candidate.globals) {
        llvm::Expected<WeightView> view = store.read(global);
        if (!view) {
          linear.emitError()
              << "tvc-premerge-ffn: " << llvm::toString(view.takeError());
          return signalPassFailure();
        }
        factors.push_back(toFloats(*view));
      }
      std::vector<float> dense;
      bool inOut = candidate.layout == WeightLayout::InOut;
      if (isLora && !inOut) {
        dense = multiplyFactors(factors[2], factors[1], factors[0],
                                *candidate.loraScale, candidate.out,
                                candidate.in, candidate.rank);
      } else if (isLora) {
        // W is [in, out]: merge in [out, in] order and store the sum back
        // [in, out], so the merged matrix replaces W in place.
        std::vector<float> base =
            transposed(factors[0], candidate.in, candidate.out);
        dense = transposed(multiplyFactors(factors[2], factors[1], base,
                                           *candidate.loraScale, candidate.out,
                                           candidate.in, candidate.rank),
                           candidate.out, candidate.in);
      } else if (candidate.outBlocks)
        dense = multiplyBlockShuffle(
            factors[0], factors[1], candidate.blocks,
            candidate.rank / candidate.blocks, candidate.in / candidate.blocks,
            candidate.outBlocks, candidate.out / candidate.outBlocks,
            candidate.rank / candidate.outBlocks);
      else if (candidate.blocks)
        dense = multiplyBlockDense(
            factors[1], factors[0], candidate.out, candidate.blocks,
            candidate.rank / candidate.blocks, candidate.in / candidate.blocks);
      else
        dense = multiplyFactors(factors[1], factors[0], {}, 1.0, candidate.out,
                                candidate.in, candidate.rank);
      GlobalOp named = isLora ? candidate.globals[0] : candidate.globals[1];
      SmallVector<int64_t, 2> shape = {candidate.out, candidate.in};
      if (inOut)
        std::swap(shape[0], shape[1]);
      auto type = RankedTensorType::get(shape, Float32Type::get(&getContext()));
      result = writer.create(
          (named.getSymName() + ".merged").str(), type,
          ArrayRef<char>(reinterpret_cast<const char *>(dense.data()),
                         dense.size() * sizeof(float)));
      symbols.insert(result);
      mergedByKey[key] = result;
    }

    OpBuilder builder(linear);
    Value weight = WeightOp::create(
        builder, linear.getLoc(), result.getTensorType(), result.getSymName());
    auto dense = LinearOp::create(
        builder, linear.getLoc(), linear.getType(), linear.getInput(),
        ValueRange{weight}, linear.getBias(),
        DenseStructureAttr::get(&getContext(), candidate.layout));
    dense->setDiscardableAttrs(linear->getDiscardableAttrDictionary());
    SmallVector<Value> oldWeights(linear.getWeights());
    linear.getResult().replaceAllUsesWith(dense.getResult());
    linear.erase();
    for (Value old : oldWeights)
      if (Operation *def = old.getDefiningOp(); def && def->use_empty())
        def->erase();
    for (GlobalOp global : candidate.globals)
      replaced.insert(global);
    ++merged;
    if (report && mergeAll)
      dense.emitRemark() << "merged " << kind << " (policy=merge) into @"
                         << result.getSymName();
  }

  // Factors nothing reads any more (another linear may still read one).
  for (GlobalOp global : replaced)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();

  if (llvm::Error error = writer.commit()) {
    module.emitError() << "tvc-premerge-ffn: "
                       << llvm::toString(std::move(error));
    return signalPassFailure();
  }
  if (report)
    module.emitRemark() << llvm::formatv(
        "tvc-premerge-ffn: {0} structured linears merged, {1} kept factored, "
        "{2} left alone{3}",
        merged, kept, skipped,
        calibration.empty() ? std::string()
                            : " (costs from " + calibration + ")");
}

} // namespace
