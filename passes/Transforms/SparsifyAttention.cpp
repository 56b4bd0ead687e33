//===- SparsifyAttention.cpp - tvc-sparsify-attention ---------------------===//
//
// Hard-attention sparsification: the dense causal tvc.attention ops of the
// chosen layers (a list, or every layer but a MASFormer schedule's full
// ones) get a sparse mask attribute of the chosen kind (sliding window,
// window + global tokens, block-local, top-k, block top-k, vertical-slash
// or ALISA). A table says
// which integer options each kind reads; the mask is built from them. Only
// the mask changes; the lowering passes carry it to the kernel, which visits
// only the kept keys. Options are checked, and every listed layer looked up,
// before anything is rewritten.
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

/// The integer options that parameterise a sparse mask.
struct MaskParams {
  int64_t window = 0, global = 0, block = 0, local = 0, k = 0;
  int64_t vertical = 0, slash = 0, last = 0;
};

/// Every integer mask option: its spelling and field.
constexpr std::pair<const char *, int64_t MaskParams::*> kMaskOptions[] = {
    {"window", &MaskParams::window}, {"global", &MaskParams::global},
    {"block", &MaskParams::block},   {"local", &MaskParams::local},
    {"k", &MaskParams::k},           {"vertical", &MaskParams::vertical},
    {"slash", &MaskParams::slash},   {"last", &MaskParams::last},
};

/// How a kind reads one integer option.
struct OptionUse {
  int64_t MaskParams::*field;
  int64_t min;                      // smallest valid value
  std::optional<int64_t> byDefault; // when not given; std::nullopt: required
  const char *meaning;              // for messages, with an example
};

/// Reports why a mask cannot be built (its verifier's message).
using EmitErrorFn = function_ref<InFlightDiagnostic()>;

/// A sparse kind: its spelling in `kind=`, the options it reads and how its
/// mask is built from them (through the attribute's verifier: null, with
/// the verifier's error, when the values are out of its range).
struct SparseKind {
  const char *name;
  ArrayRef<OptionUse> uses;
  Attribute (*build)(EmitErrorFn, MLIRContext *, const MaskParams &);
};

const OptionUse kWindowUses[] = {
    {&MaskParams::window, 1, std::nullopt,
     "keys per query, the diagonal included, e.g. window=256"}};
const OptionUse kWindowGlobalUses[] = {
    {&MaskParams::window, 1, std::nullopt,
     "keys per query, the diagonal included, e.g. window=256"},
    {&MaskParams::global, 1, std::nullopt,
     "leading tokens every query sees, e.g. global=4"}};
// Sparse Frontier's block-sparse layouts keep the first block: global = 1.
const OptionUse kBlockLocalUses[] = {
    {&MaskParams::block, 1, std::nullopt, "positions per block, e.g. block=64"},
    {&MaskParams::local, 1, std::nullopt,
     "blocks per query, its own included, e.g. local=4"},
    {&MaskParams::global, 0, 1,
     "leading blocks every query sees, default 1, e.g. global=0"}};
const OptionUse kTopKUses[] = {
    {&MaskParams::k, 1, std::nullopt,
     "keys with the largest scores each query keeps, e.g. k=32"}};
const OptionUse kBlockTopKUses[] = {
    {&MaskParams::block, 1, std::nullopt, "positions per block, e.g. block=64"},
    {&MaskParams::k, 1, std::nullopt,
     "earlier blocks each query keeps by pooled score, e.g. k=4"}};
// MInference estimates from the last 64 queries.
const OptionUse kVerticalSlashUses[] = {
    {&MaskParams::vertical, 1, std::nullopt,
     "key columns each head keeps, e.g. vertical=64"},
    {&MaskParams::slash, 1, std::nullopt,
     "diagonal offsets each head keeps, e.g. slash=256"},
    {&MaskParams::last, 1, 64,
     "last queries the pattern is estimated from, default 64, e.g. "
     "last=128"}};
const OptionUse kAlisaUses[] = {
    {&MaskParams::window, 1, std::nullopt,
     "recent keys per query, the diagonal included, e.g. window=256"},
    {&MaskParams::k, 1, std::nullopt,
     "older keys kept by accumulated attention weight, e.g. k=64"}};

const SparseKind kSparseKinds[] = {
    {"window", kWindowUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return SlidingWindowMaskAttr::getChecked(emitError, context, p.window);
     }},
    {"window-global", kWindowGlobalUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return WindowGlobalMaskAttr::getChecked(emitError, context, p.window,
                                               p.global);
     }},
    {"block-local", kBlockLocalUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return BlockLocalMaskAttr::getChecked(emitError, context, p.block,
                                             p.local, p.global);
     }},
    {"top-k", kTopKUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return TopKMaskAttr::getChecked(emitError, context, p.k);
     }},
    {"block-top-k", kBlockTopKUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return BlockTopKMaskAttr::getChecked(emitError, context, p.block, p.k);
     }},
    {"vertical-slash", kVerticalSlashUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return VerticalSlashMaskAttr::getChecked(emitError, context, p.vertical,
                                                p.slash, p.last);
     }},
    {"alisa", kAlisaUses,
     [](EmitErrorFn emitError, MLIRContext *context,
        const MaskParams &p) -> Attribute {
       return AlisaMaskAttr::getChecked(emitError, context, p.window, p.k);
     }},
};

/// The option spelling of `field`.
StringRef optionName(int64_t MaskParams::*field) {
  for (auto [name, option] : kMaskOptions)
    if (option == field)
      return name;
  llvm_unreachable("every MaskParams field is an option");
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

  /// Checks the kind and its options and builds the requested mask.
  LogicalResult buildRequestedMask(ModuleOp module);

  llvm::DenseSet<int64_t> listedLayers;
  bool scheduleGiven = false;  // layers or full-layers was given
  MaskAttrInterface requested; // the mask the selected attention gets
};

LogicalResult SparsifyAttentionPass::buildRequestedMask(ModuleOp module) {
  // Options are llvm::cl::opt: read their values before streaming them.
  StringRef kindName = kind.getValue();
  const SparseKind *chosen =
      llvm::find_if(kSparseKinds, [&](const SparseKind &candidate) {
        return kindName == candidate.name;
      });
  if (chosen == std::end(kSparseKinds)) {
    InFlightDiagnostic diag = module.emitError()
                              << "tvc-sparsify-attention: kind '" << kindName
                              << "' is not supported; supported kinds: ";
    llvm::interleaveComma(kSparseKinds, diag,
                          [&](const SparseKind &known) { diag << known.name; });
    return diag;
  }
  // 0 means "not given" for every option but global, where 0 is a value.
  MaskParams given{window.getValue(), global.getValue(), block.getValue(),
                   local.getValue(),  k.getValue(),      vertical.getValue(),
                   slash.getValue(),  last.getValue()};
  const MaskParams unset{0, -1, 0, 0, 0, 0, 0, 0};
  auto uses = [&](int64_t MaskParams::*field) {
    return llvm::any_of(
        chosen->uses, [&](const OptionUse &use) { return use.field == field; });
  };
  for (auto [name, field] : kMaskOptions) {
    if (given.*field == unset.*field || uses(field))
      continue;
    InFlightDiagnostic diag = module.emitError()
                              << "tvc-sparsify-attention: '" << name
                              << "' does not apply to kind=" << chosen->name
                              << ", whose options are: ";
    llvm::interleaveComma(chosen->uses, diag, [&](const OptionUse &use) {
      diag << optionName(use.field);
    });
    return diag;
  }
  MaskParams params;
  for (const OptionUse &use : chosen->uses) {
    int64_t value = given.*use.field;
    StringRef name = optionName(use.field);
    if (value == unset.*use.field && !use.byDefault)
      return module.emitError()
             << "tvc-sparsify-attention: kind=" << chosen->name << " needs '"
             << name << "' (" << use.meaning << ")";
    if (value == unset.*use.field)
      value = *use.byDefault;
    else if (value < use.min)
      return module.emitError()
             << "tvc-sparsify-attention: kind=" << chosen->name << " needs '"
             << name << "' >= " << use.min << " (" << use.meaning << "), got "
             << value;
    params.*use.field = value;
  }
  auto emitError = [&]() {
    return module.emitError()
           << "tvc-sparsify-attention: kind=" << chosen->name << ": ";
  };
  Attribute mask = chosen->build(emitError, &getContext(), params);
  if (!mask)
    return failure();
  requested = cast<MaskAttrInterface>(mask);
  return success();
}

LogicalResult SparsifyAttentionPass::checkOptions(ModuleOp module) {
  if (failed(buildRequestedMask(module)))
    return failure();
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
    // The pass never changes a sparse mask the model was built with.
    MaskAttrInterface mask = op.getMask();
    if (mask == requested) {
      if (report)
        op.emitRemark() << where << ": already " << requested;
      return;
    }
    if (!isa<CausalMaskAttr>(mask)) {
      if (!mask.isCausal())
        op.emitWarning() << where << ": bidirectional attention (" << mask
                         << "); kind=" << kind.getValue()
                         << " applies to causal attention only, left as it is";
      else
        op.emitWarning() << where << ": already sparse (" << mask << "), not "
                         << requested << " as requested; left as it is";
      return;
    }
    op.setMaskAttr(requested);
    ++changed;
    if (layer)
      sparseLayers.push_back(layer.getIndex());
    if (report)
      op.emitRemark() << where << ": causal -> " << requested;
  });
  if (report) {
    InFlightDiagnostic summary =
        module.emitRemark() << "tvc-sparsify-attention: " << changed << " of "
                            << total << " attention ops now " << requested;
    if (!sparseLayers.empty())
      summary << " (layers " << joinIndices(sparseLayers) << ")";
    if (!fullKept.empty())
      summary << "; full attention kept in layers " << joinIndices(fullKept);
  }
}

} // namespace
