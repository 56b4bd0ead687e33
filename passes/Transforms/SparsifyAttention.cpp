//===- SparsifyAttention.cpp - tvc-sparsify-attention ---------------------===//
//
// Hard-attention sparsification: the dense causal tvc.attention ops of the
// chosen layers (a list, or every layer but a MASFormer schedule's full
// ones) get a sparse mask attribute, today #tvc.sliding_window<window = w>.
// Only the mask changes; the lowering passes carry it to the kernel, which
// visits only the kept keys. Options are checked, and every listed layer
// looked up, before anything is rewritten.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCSPARSIFYATTENTION
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

/// Parses layer lists such as {"1", "3-5"} into indices; std::nullopt and
/// the offending element in `bad` when one is neither N nor A-B with A <= B.
std::optional<llvm::SmallVector<int64_t>>
parseLayerList(ArrayRef<std::string> items, std::string &bad) {
  llvm::SmallVector<int64_t> indices;
  for (const std::string &item : items) {
    StringRef text = StringRef(item).trim();
    auto [first, last] = text.split('-');
    int64_t lo, hi;
    if (first.getAsInteger(10, lo) || lo < 0) {
      bad = item;
      return std::nullopt;
    }
    hi = lo;
    if (text.contains('-') && (last.getAsInteger(10, hi) || hi < lo)) {
      bad = item;
      return std::nullopt;
    }
    for (int64_t index = lo; index <= hi; ++index)
      indices.push_back(index);
  }
  return indices;
}

/// "1, 3, 4" for the remarks.
std::string joinIndices(ArrayRef<int64_t> indices) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(indices, os);
  return text;
}

struct SparsifyAttentionPass
    : public tvc::impl::TvcSparsifyAttentionBase<SparsifyAttentionPass> {
  using TvcSparsifyAttentionBase::TvcSparsifyAttentionBase;

  void runOnOperation() override;

private:
  /// Checks the options and resolves the layer lists; emits the error.
  LogicalResult checkOptions(ModuleOp module);
  /// Whether the attention op `op` is in a layer the options select.
  bool isSelected(AttentionOp op) const;

  llvm::DenseSet<int64_t> listedLayers;
  bool scheduleGiven = false; // layers or full-layers was given
};

LogicalResult SparsifyAttentionPass::checkOptions(ModuleOp module) {
  // Options are llvm::cl::opt: read their values before streaming them.
  if (kind.getValue() != "window")
    return module.emitError()
           << "tvc-sparsify-attention: kind '" << kind.getValue()
           << "' is not supported; supported kinds: window";
  if (window.getValue() <= 0)
    return module.emitError()
           << "tvc-sparsify-attention: kind=window needs a positive 'window' "
              "(keys per query, e.g. window=256), got "
           << window.getValue();
  if (!layers.empty() && !fullLayers.empty())
    return module.emitError()
           << "tvc-sparsify-attention: 'layers' and 'full-layers' are "
              "mutually exclusive: give the layers to sparsify, or the ones "
              "that keep full attention";
  listedLayers.clear();
  scheduleGiven = !layers.empty() || !fullLayers.empty();
  StringRef listName = layers.empty() ? "full-layers" : "layers";
  std::string bad;
  std::optional<llvm::SmallVector<int64_t>> indices =
      parseLayerList(layers.empty() ? fullLayers : layers, bad);
  if (!indices)
    return module.emitError()
           << "tvc-sparsify-attention: expects '" << listName
           << "' as layer indices or ranges (e.g. 0,2-5), got '" << bad << "'";
  llvm::DenseSet<int64_t> existing;
  module.walk([&](LayerOp layer) { existing.insert(layer.getIndex()); });
  for (int64_t index : *indices)
    if (!existing.contains(index))
      return module.emitError()
             << "tvc-sparsify-attention: there is no tvc.layer " << index
             << " (named in '" << listName << "')";
  listedLayers.insert(indices->begin(), indices->end());
  return success();
}

bool SparsifyAttentionPass::isSelected(AttentionOp op) const {
  if (!scheduleGiven)
    return true;
  auto layer = op->getParentOfType<LayerOp>();
  if (!layer)
    return false;
  bool listed = listedLayers.contains(int64_t(layer.getIndex()));
  return layers.empty() ? !listed : listed;
}

void SparsifyAttentionPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(checkOptions(module)))
    return signalPassFailure();

  int64_t width = window.getValue();
  auto sparse = SlidingWindowMaskAttr::get(&getContext(), width);
  int64_t total = 0, changed = 0;
  llvm::SmallVector<int64_t> sparseLayers, fullKept;
  module.walk([&](AttentionOp op) {
    ++total;
    auto layer = op->getParentOfType<LayerOp>();
    std::string where = layer
                            ? llvm::formatv("layer {0}", layer.getIndex()).str()
                            : std::string("attention outside a tvc.layer");
    if (!isSelected(op)) {
      if (layer && !fullLayers.empty() &&
          listedLayers.contains(int64_t(layer.getIndex())))
        fullKept.push_back(layer.getIndex());
      if (report)
        op.emitRemark() << where
                        << (fullLayers.empty() || !layer
                                ? ": not selected, left as it is"
                                : ": keeps full attention (full-layers)");
      return;
    }
    Attribute mask = op.getMask();
    if (auto existing = dyn_cast<SlidingWindowMaskAttr>(mask)) {
      if (existing.getWindow() != width)
        op.emitWarning() << where << ": already a sliding window of "
                         << existing.getWindow() << " keys, not " << width
                         << " as requested; left as it is";
      else if (report)
        op.emitRemark() << where << ": already a sliding window of " << width
                        << " keys";
      return;
    }
    if (!isa<CausalMaskAttr>(mask)) {
      if (!op.getMask().isCausal())
        op.emitWarning() << where << ": bidirectional attention (" << mask
                         << "); the window kind applies to causal attention "
                            "only, left as it is";
      else if (report)
        op.emitRemark() << where << ": already sparse (" << mask
                        << "), left as it is";
      return;
    }
    op.setMaskAttr(sparse);
    ++changed;
    if (layer)
      sparseLayers.push_back(layer.getIndex());
    if (report)
      op.emitRemark() << where << ": causal -> sliding window of " << width
                      << " keys";
  });
  if (report) {
    InFlightDiagnostic summary =
        module.emitRemark() << llvm::formatv(
            "tvc-sparsify-attention: {0} of {1} attention ops now a sliding "
            "window of {2} keys",
            changed, total, width);
    if (!sparseLayers.empty())
      summary << " (layers " << joinIndices(sparseLayers) << ")";
    if (!fullKept.empty())
      summary << "; full attention kept in layers " << joinIndices(fullKept);
  }
}

} // namespace
