//===- Prune.cpp - tvc-prune ----------------------------------------------===//
//
// The tvc-prune pass: option checking and the strategies that need no
// structure analysis. strategy=nm: every dense f32 tvc.linear whose weight
// is a tvc.global becomes a 2:4 #tvc.sparse_nm linear over two new globals
// (kept values, position indices) written through the WeightWriter; the
// compressed layout is [out, in] whatever the original layout, because the
// 2:4 kernel walks rows of the reduction dimension. strategy=layers removes
// whole tvc.layer ops. strategy=heads|channels live in PruneStructured.cpp.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"
#include "passes/Transforms/PruneCostModel.h"
#include "passes/Transforms/PruneStructured.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/SafeTensors.h"
#include "lib/Support/WeightStore.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCPRUNE
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// The compressed 2:4 form of one weight matrix (see #tvc.sparse_nm).
struct Compressed2to4 {
  std::vector<float> values;
  std::vector<uint8_t> indices;
};

/// Keeps the two weights of largest score of each group of four along the
/// input dimension of `weights` ([out, in] or [in, out] row-major): |w|, or
/// |w| * channelScale[col] when a scale per input channel is given.
Compressed2to4 compress2to4(const char *weights, int64_t out, int64_t in,
                            bool inOut, ArrayRef<float> channelScale) {
  int64_t groups = in / 4, indexBytes = (in + 7) / 8;
  Compressed2to4 result;
  result.values.resize(out * groups * 2);
  result.indices.assign(out * indexBytes, 0);
  auto weightAt = [&](int64_t row, int64_t col) {
    float value;
    int64_t element = inOut ? col * out + row : row * in + col;
    std::memcpy(&value, weights + element * sizeof(float), sizeof(float));
    return value;
  };
  for (int64_t row = 0; row < out; ++row) {
    for (int64_t group = 0; group < groups; ++group) {
      float group4[4], score[4];
      for (int position = 0; position < 4; ++position) {
        group4[position] = weightAt(row, 4 * group + position);
        score[position] = std::fabs(group4[position]);
        if (!channelScale.empty())
          score[position] *= channelScale[4 * group + position];
      }
      // The largest score, then the largest of the rest; the earlier
      // position wins a tie, so equal weights prune deterministically.
      int first = 0;
      for (int position = 1; position < 4; ++position)
        if (score[position] > score[first])
          first = position;
      int second = first == 0 ? 1 : 0;
      for (int position = 0; position < 4; ++position)
        if (position != first && score[position] > score[second])
          second = position;
      int low = std::min(first, second), high = std::max(first, second);
      float *kept = &result.values[(row * groups + group) * 2];
      kept[0] = group4[low];
      kept[1] = group4[high];
      uint8_t nibble = static_cast<uint8_t>(low | (high << 2));
      result.indices[row * indexBytes + group / 2] |=
          static_cast<uint8_t>(nibble << (4 * (group % 2)));
    }
  }
  return result;
}

/// The dense matrix `compressed` stands for, with zeros where weights were
/// dropped, in the original layout.
std::vector<float> expand2to4(const Compressed2to4 &compressed, int64_t out,
                              int64_t in, bool inOut) {
  int64_t groups = in / 4, indexBytes = (in + 7) / 8;
  std::vector<float> dense(out * in, 0.0f);
  for (int64_t row = 0; row < out; ++row)
    for (int64_t group = 0; group < groups; ++group) {
      uint8_t nibble =
          compressed.indices[row * indexBytes + group / 2] >> (4 * (group % 2));
      for (int slot = 0; slot < 2; ++slot) {
        int64_t col = 4 * group + ((nibble >> (2 * slot)) & 3);
        dense[inOut ? col * out + row : row * in + col] =
            compressed.values[(row * groups + group) * 2 + slot];
      }
    }
  return dense;
}

/// Parses "N:M".
std::optional<std::pair<int64_t, int64_t>> parsePattern(StringRef pattern) {
  auto [n, m] = pattern.split(':');
  int64_t kept, group;
  if (n.trim().getAsInteger(10, kept) || m.trim().getAsInteger(10, group))
    return std::nullopt;
  return std::make_pair(kept, group);
}

/// A matrix product the pass may prune: a tvc.linear, or (with `lm-head`)
/// the tvc.lm_head.
struct Candidate {
  Operation *op = nullptr;
  OpOperand *weight = nullptr;
  /// The weight is stored [in, out].
  bool inOut = false;
  /// Why it may not be pruned whatever its weight is, if so.
  std::optional<std::string> structural;

  static Candidate of(LinearOp linear) {
    Candidate candidate;
    candidate.op = linear;
    candidate.weight = &linear.getWeightsMutable()[0];
    auto dense = dyn_cast<DenseStructureAttr>(linear.getStructure());
    if (!dense)
      candidate.structural =
          llvm::formatv("its weight is already structured ({0})",
                        linear.getStructure())
              .str();
    else
      candidate.inOut = dense.getLayout() == WeightLayout::InOut;
    return candidate;
  }
  static Candidate of(LmHeadOp head) {
    Candidate candidate;
    candidate.op = head;
    candidate.weight = &head.getWeightMutable();
    return candidate;
  }
  /// Read when rewriting: an earlier rewrite may have replaced them.
  Value getInput() const {
    if (auto linear = dyn_cast<LinearOp>(op))
      return linear.getInput();
    return cast<LmHeadOp>(op).getHidden();
  }
  Value getBias() const {
    if (auto linear = dyn_cast<LinearOp>(op))
      return linear.getBias();
    return Value();
  }
};

struct PrunePass : public tvc::impl::TvcPruneBase<PrunePass> {
  using TvcPruneBase::TvcPruneBase;

  void runOnOperation() override;

private:
  /// strategy=layers.
  LogicalResult dropLayers();
  /// Why `candidate` is left alone, or std::nullopt when it can be pruned.
  std::optional<std::string> whyNotPruned(const Candidate &candidate,
                                          SymbolTable &symbols) const;
};

std::optional<std::string> PrunePass::whyNotPruned(const Candidate &candidate,
                                                   SymbolTable &symbols) const {
  if (candidate.structural)
    return candidate.structural;
  if (!layers.empty()) {
    auto layer = candidate.op->getParentOfType<LayerOp>();
    if (!layer || !llvm::is_contained(layers, int64_t(layer.getIndex())))
      return std::string("it is outside the selected layers");
  }
  auto weight = candidate.weight->get().getDefiningOp<WeightOp>();
  if (!weight || !symbols.lookup<GlobalOp>(weight.getName()))
    return std::string("its weight is not read from a tvc.global");
  auto type = cast<RankedTensorType>(weight.getType());
  if (!type.getElementType().isF32())
    return llvm::formatv("its weight is {0}, not f32", type.getElementType())
        .str();
  int64_t in = type.getDimSize(candidate.inOut ? 0 : 1);
  if (in % 4 != 0)
    return llvm::formatv("its input width {0} is not a multiple of 4", in)
        .str();
  return std::nullopt;
}

LogicalResult PrunePass::dropLayers() {
  ModuleOp module = getOperation();
  if (layers.empty())
    return module.emitError()
           << "tvc-prune: strategy=layers needs the layers to remove "
              "('layers=3,5')";
  llvm::DenseMap<int64_t, LayerOp> byIndex;
  module.walk([&](LayerOp layer) { byIndex[layer.getIndex()] = layer; });
  // Check every listed layer before changing any.
  for (int64_t index : layers) {
    auto it = byIndex.find(index);
    if (it == byIndex.end())
      return module.emitError()
             << "tvc-prune: there is no tvc.layer " << index << " to remove";
    LayerOp layer = it->second;
    if (layer.getNumResults() != 1 || layer.getInputs().empty() ||
        layer.getInputs().front().getType() != layer.getResult(0).getType())
      return layer.emitError()
             << "tvc-prune: cannot remove layer " << index
             << ": it must have one result of its first input's type (the "
                "residual stream), got "
             << layer.getNumResults() << " result(s)";
  }
  // The globals read before: those unread afterwards went with the layers.
  SmallVector<GlobalOp> globals;
  for (GlobalOp global : module.getOps<GlobalOp>())
    if (!SymbolTable::symbolKnownUseEmpty(global, module))
      globals.push_back(global);
  int64_t removed = 0;
  for (int64_t index : layers) {
    LayerOp layer = byIndex.lookup(index);
    if (!layer)
      continue; // listed twice
    byIndex.erase(index);
    if (report)
      layer.emitRemark() << "removed layer " << index;
    layer.getResult(0).replaceAllUsesWith(layer.getInputs().front());
    layer.erase();
    ++removed;
  }
  int64_t bytes = 0, erased = 0;
  for (GlobalOp global : globals)
    if (SymbolTable::symbolKnownUseEmpty(global, module)) {
      RankedTensorType type = global.getTensorType();
      bytes += type.getNumElements() *
               llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      ++erased;
      global.erase();
    }
  if (report)
    module.emitRemark() << llvm::formatv(
        "tvc-prune: {0} layers removed, {1} weights ({2} bytes) with them",
        removed, erased, bytes);
  return success();
}

void PrunePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (strategy == "layers") {
    if (failed(dropLayers()))
      signalPassFailure();
    return;
  }
  if (strategy != "nm" && strategy != "heads" && strategy != "channels") {
    module.emitError() << "tvc-prune: expects 'strategy' nm, heads, channels "
                          "or layers, got '"
                       << strategy << "'";
    return signalPassFailure();
  }
  bool structured = strategy != "nm";
  std::optional<std::pair<int64_t, int64_t>> nm = parsePattern(pattern);
  if (structured) {
    if (!(amount > 0.0 && amount < 1.0)) {
      module.emitError() << "tvc-prune: expects 'amount' (the fraction of "
                         << strategy << " to remove) in (0, 1), got "
                         << prune::shortNumber(amount);
      return signalPassFailure();
    }
  } else if (!nm) {
    module.emitError() << "tvc-prune: expects 'pattern' as N:M, e.g. 2:4, got '"
                       << pattern << "'";
    return signalPassFailure();
  } else if (*nm != std::make_pair(int64_t(2), int64_t(4))) {
    module.emitError() << "tvc-prune: pattern " << nm->first << ":"
                       << nm->second
                       << " is not supported; only 2:4 has a compressed form "
                          "and a kernel";
    return signalPassFailure();
  }

  bool maskAll = format == "masked", autoFormat = format == "auto";
  if (!maskAll && !autoFormat && format != "compressed") {
    module.emitError() << "tvc-prune: expects 'format' compressed, masked or "
                          "auto, got '"
                       << format << "'";
    return signalPassFailure();
  }
  if (autoFormat && structured) {
    module.emitError() << "tvc-prune: format=auto chooses between the 2:4 "
                          "and the dense kernel (strategy=nm); "
                       << strategy << " always shrinks the weights";
    return signalPassFailure();
  }
  std::optional<prune::Workload> work = prune::parseWorkload(workload);
  if (!work) {
    module.emitError() << "tvc-prune: expects 'workload' decode or prefill, "
                          "got '"
                       << workload << "'";
    return signalPassFailure();
  }
  if (target != "cpu") {
    module.emitError() << "tvc-prune: no 2:4 cost model for target '" << target
                       << "' (known: cpu)";
    return signalPassFailure();
  }

  std::unique_ptr<SafeTensorsFile> norms;
  if (score == "activation") {
    if (calibration.empty()) {
      module.emitError() << "tvc-prune: score=activation needs a "
                            "'calibration' file (tvc-run --calibrate)";
      return signalPassFailure();
    }
    llvm::Expected<std::unique_ptr<SafeTensorsFile>> file =
        SafeTensorsFile::open(calibration);
    if (!file) {
      module.emitError() << "tvc-prune: " << llvm::toString(file.takeError());
      return signalPassFailure();
    }
    norms = std::move(*file);
  } else if (score != "magnitude") {
    module.emitError() << "tvc-prune: expects 'score' magnitude or "
                          "activation, got '"
                       << score << "'";
    return signalPassFailure();
  }

  if (structured) {
    WeightStore store(baseDir);
    WeightWriter writer(module, weightsFile, baseDir);
    prune::StructuredOptions options;
    options.heads = strategy == "heads";
    options.amount = amount;
    options.layers = layers;
    options.norms = norms.get();
    options.masked = maskAll;
    options.report = report;
    if (failed(prune::pruneStructured(module, options, store, writer)))
      return signalPassFailure();
    if (llvm::Error error = writer.commit()) {
      module.emitError() << "tvc-prune: " << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    return;
  }

  SymbolTable symbols(module);
  WeightStore store(baseDir);
  WeightWriter writer(module, weightsFile, baseDir);
  MLIRContext *context = &getContext();
  auto structure = SparseNMStructureAttr::get(context, 2, 4);
  auto i8 = IntegerType::get(context, 8);

  /// New globals per (original global, layout): a weight shared by several
  /// linears is compressed once.
  llvm::StringMap<std::pair<GlobalOp, GlobalOp>> compressed;
  llvm::SetVector<GlobalOp> replaced;
  int64_t pruned = 0, skipped = 0, bytesBefore = 0, bytesAfter = 0;
  int64_t maskedCount = 0;

  SmallVector<Candidate> candidates;
  module.walk([&](Operation *op) {
    if (auto linear = dyn_cast<LinearOp>(op))
      candidates.push_back(Candidate::of(linear));
    else if (auto head = dyn_cast<LmHeadOp>(op); head && lmHead)
      candidates.push_back(Candidate::of(head));
  });
  for (const Candidate &candidate : candidates) {
    Operation *op = candidate.op;
    if (std::optional<std::string> why = whyNotPruned(candidate, symbols)) {
      ++skipped;
      if (report)
        op->emitRemark() << "not pruned: " << *why;
      continue;
    }
    auto weight = candidate.weight->get().getDefiningOp<WeightOp>();
    auto global = symbols.lookup<GlobalOp>(weight.getName());
    auto type = global.getTensorType();
    bool inOut = candidate.inOut;
    int64_t out = type.getDimSize(inOut ? 1 : 0);
    int64_t in = type.getDimSize(inOut ? 0 : 1);

    // format=auto: dense storage where the target's 2:4 kernel would be
    // slower for this shape (PruneCostModel.h).
    bool masked = maskAll;
    if (autoFormat && !prune::cpuPrefers2to4(out, in, *work))
      masked = true;
    std::string key = (global.getSymName() + (inOut ? ":in_out" : "") +
                       (masked ? ":masked" : ""))
                          .str();
    auto it = compressed.find(key);
    if (it == compressed.end()) {
      llvm::Expected<WeightView> view = store.read(global);
      if (!view) {
        op->emitError() << "tvc-prune: " << llvm::toString(view.takeError());
        return signalPassFailure();
      }
      std::vector<float> channelScale;
      if (norms) {
        llvm::Expected<std::vector<float>> scale =
            prune::readChannelNorms(*norms, global.getSymName(), in);
        if (!scale) {
          op->emitError() << "tvc-prune: " << llvm::toString(scale.takeError());
          return signalPassFailure();
        }
        channelScale = std::move(*scale);
      }
      Compressed2to4 form =
          compress2to4(view->bytes.data(), out, in, inOut, channelScale);
      GlobalOp values, indices;
      if (masked) {
        std::vector<float> dense = expand2to4(form, out, in, inOut);
        values = writer.create(
            (global.getSymName() + ".2to4_masked").str(), type,
            ArrayRef<char>(reinterpret_cast<const char *>(dense.data()),
                           dense.size() * sizeof(float)));
        symbols.insert(values);
      } else {
        auto valuesType =
            RankedTensorType::get({out, in / 2}, type.getElementType());
        auto indicesType = RankedTensorType::get({out, (in + 7) / 8}, i8);
        values = writer.create(
            (global.getSymName() + ".2to4_values").str(), valuesType,
            ArrayRef<char>(reinterpret_cast<const char *>(form.values.data()),
                           form.values.size() * sizeof(float)));
        indices = writer.create(
            (global.getSymName() + ".2to4_indices").str(), indicesType,
            ArrayRef<char>(reinterpret_cast<const char *>(form.indices.data()),
                           form.indices.size()));
        symbols.insert(values);
        symbols.insert(indices);
      }
      it = compressed.try_emplace(key, values, indices).first;
      // Bytes of each distinct weight once, however many linears read it.
      bytesBefore += out * in * 4;
      bytesAfter +=
          masked ? out * in * 4 : out * (in / 2) * 4 + out * ((in + 7) / 8);
    }
    auto [values, indices] = it->second;

    OpBuilder builder(op);
    Location loc = op->getLoc();
    int64_t before = out * in * 4;
    if (masked) {
      Value maskedValue = WeightOp::create(builder, loc, values.getTensorType(),
                                           values.getSymName());
      candidate.weight->set(maskedValue);
      if (weight->use_empty())
        weight.erase();
      replaced.insert(global);
      ++pruned;
      ++maskedCount;
      if (report)
        op->emitRemark() << llvm::formatv(
            "pruned to 2:4 (masked{5}): @{0} [{1} x {2}], {3} of {4} weights "
            "kept, stored dense",
            global.getSymName(), out, in, out * in / 2, out * in,
            maskAll ? ""
                    : llvm::formatv(": on the CPU the dense kernel is faster "
                                    "for {0} at input width {1}",
                                    workload.getValue(), in)
                          .str());
      continue;
    }
    Value valuesValue = WeightOp::create(builder, loc, values.getTensorType(),
                                         values.getSymName());
    Value indicesValue = WeightOp::create(builder, loc, indices.getTensorType(),
                                          indices.getSymName());
    // An LM head becomes a linear without bias: no vocabulary row goes.
    auto sparse = LinearOp::create(
        builder, loc, op->getResult(0).getType(), candidate.getInput(),
        ValueRange{valuesValue, indicesValue}, candidate.getBias(), structure);
    sparse->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    op->getResult(0).replaceAllUsesWith(sparse.getResult());
    op->erase();
    if (weight->use_empty())
      weight.erase();
    replaced.insert(global);

    int64_t after = out * (in / 2) * 4 + out * ((in + 7) / 8);
    ++pruned;
    if (report)
      sparse.emitRemark() << llvm::formatv(
          "pruned to 2:4: @{0} [{1} x {2}], {3} of {4} weights kept, {5} -> "
          "{6} bytes",
          global.getSymName(), out, in, out * in / 2, out * in, before, after);
  }

  // Originals nothing reads any more (a tied weight may still be read).
  for (GlobalOp global : replaced)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();

  if (llvm::Error error = writer.commit()) {
    module.emitError() << "tvc-prune: " << llvm::toString(std::move(error));
    return signalPassFailure();
  }
  if (report)
    module.emitRemark() << llvm::formatv(
        "tvc-prune: {0} linears pruned to 2:4{1}, {2} left alone; their "
        "distinct weights {3} -> {4} bytes",
        pruned,
        maskAll ? std::string(" (masked)")
        : maskedCount
            ? llvm::formatv(" ({0} masked by the cost model)", maskedCount)
                  .str()
            : std::string(),
        skipped, bytesBefore, bytesAfter);
}

} // namespace
