//===- PruneStructured.cpp - tvc-prune strategy=heads|channels ------------===//
//
// Structured pruning: whole attention heads (key/value groups under GQA)
// or FFN intermediate channels are removed from each block, and the
// weights that produce or read them shrink (rows of the projections that
// make them, columns of the projection that reads them). The block's ops
// keep their meaning with smaller widths, so every later pass and the
// dense kernels see an ordinary, smaller model.
//
// A block qualifies when its shape is the one the importers write and
// nothing else reads its inner values:
//   heads:    q/k/v = tvc.linear [-> tvc.split piece] [-> tvc.rope]*
//             o = tvc.attention(q, k, v) (no KV cache) -> tvc.linear
//   channels: h = act(tvc.linear) or tvc.glu(tvc.linear, tvc.linear)
//             -> tvc.linear
// with dense f32 weights (and biases) read from tvc.globals.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/PruneStructured.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

using namespace mlir;
using namespace mlir::tvc;

llvm::Expected<std::vector<float>>
prune::readChannelNorms(const SafeTensorsFile &file, StringRef name,
                        int64_t in) {
  const TensorInfo *info = file.lookup(name);
  if (!info)
    return llvm::createStringError(llvm::formatv(
        "{0} has no input norms for @{1}; calibrate the same model",
        file.getPath(), name));
  if (info->dtype != DType::F32 || info->shape.size() != 1 ||
      info->shape[0] != in)
    return llvm::createStringError(llvm::formatv(
        "{0}: the norms of @{1} must be F32 [{2}]", file.getPath(), name, in));
  std::vector<float> values(in);
  std::memcpy(values.data(), file.getData(*info).data(), in * sizeof(float));
  return values;
}

std::string prune::shortNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

namespace {

int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

RankedTensorType withLastDim(Type type, int64_t size) {
  auto ranked = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(ranked.getShape());
  shape.back() = size;
  return RankedTensorType::get(shape, ranked.getElementType());
}

/// "1, 3, 7" (at most `limit` numbers, then "...").
std::string listOf(ArrayRef<int64_t> values, size_t limit = 16) {
  std::string text;
  for (auto [i, value] : llvm::enumerate(values)) {
    if (i == limit)
      return text + ", ...";
    text += (i ? ", " : "") + std::to_string(value);
  }
  return text;
}

/// The global a tvc.weight value reads, if any.
GlobalOp globalOf(Value value, SymbolTable &symbols) {
  auto weight = value ? value.getDefiningOp<WeightOp>() : WeightOp();
  return weight ? symbols.lookup<GlobalOp>(weight.getName()) : GlobalOp();
}

/// Why `linear` cannot be resized, or std::nullopt when it can.
std::optional<std::string> whyNotResizable(LinearOp linear,
                                           SymbolTable &symbols) {
  if (!isa<DenseStructureAttr>(linear.getStructure()))
    return llvm::formatv("a projection is already structured ({0})",
                         linear.getStructure())
        .str();
  GlobalOp weight = globalOf(linear.getWeights()[0], symbols);
  if (!weight)
    return std::string("a projection's weight is not read from a tvc.global");
  if (!weight.getTensorType().getElementType().isF32())
    return llvm::formatv("@{0} is not f32", weight.getSymName()).str();
  if (Value bias = linear.getBias()) {
    GlobalOp global = globalOf(bias, symbols);
    if (!global || !global.getTensorType().getElementType().isF32())
      return llvm::formatv("the bias of @{0} is not an f32 tvc.global",
                           weight.getSymName())
          .str();
  }
  if (ShapedType::isDynamic(lastDim(linear.getInput())) ||
      ShapedType::isDynamic(lastDim(linear.getResult())))
    return llvm::formatv("@{0} has a dynamic width", weight.getSymName())
        .str();
  return std::nullopt;
}

/// A resizable linear with its weights loaded.
struct Linear {
  LinearOp op;
  GlobalOp weight, bias;
  bool inOut = false;
  int64_t out = 0, in = 0;
  std::vector<float> w, b;

  float at(int64_t row, int64_t col) const {
    return inOut ? w[col * out + row] : w[row * in + col];
  }
  /// Sum of squares of output row `row` / input column `col` of [out, in].
  double rowNorm2(int64_t row) const {
    double sum = 0;
    for (int64_t col = 0; col < in; ++col)
      sum += double(at(row, col)) * at(row, col);
    return sum;
  }
  double colNorm2(int64_t col) const {
    double sum = 0;
    for (int64_t row = 0; row < out; ++row)
      sum += double(at(row, col)) * at(row, col);
    return sum;
  }
};

/// Weights and biases of `linears` as their types say now.
int64_t parametersOf(ArrayRef<LinearOp> linears) {
  int64_t count = 0;
  for (LinearOp linear : linears) {
    for (Value weight : linear.getWeights())
      count += cast<RankedTensorType>(weight.getType()).getNumElements();
    if (Value bias = linear.getBias())
      count += cast<RankedTensorType>(bias.getType()).getNumElements();
  }
  return count;
}

std::vector<float> toFloats(ArrayRef<char> bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

ArrayRef<char> asBytes(const std::vector<float> &values) {
  return ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                        values.size() * sizeof(float));
}

/// Channels [offset, offset + width) of a linear's output that reach one
/// attention operand through an optional split piece and ropes.
struct Source {
  LinearOp linear;
  SplitOp split;
  unsigned piece = 0;
  int64_t offset = 0;
  SmallVector<RopeOp> ropes;
};

/// Follows `value` back to the linear that makes it; every value on the
/// way must have this one use.
std::optional<std::string> traceSource(Value value, StringRef role,
                                       Source &source) {
  auto onlyUse = [&](Value v) -> std::optional<std::string> {
    if (v.hasOneUse())
      return std::nullopt;
    return llvm::formatv("its {0} has other users", role).str();
  };
  while (auto rope = value.getDefiningOp<RopeOp>()) {
    if (auto why = onlyUse(value))
      return why;
    source.ropes.push_back(rope);
    value = rope.getInput();
  }
  if (auto why = onlyUse(value))
    return why;
  if (auto split = value.getDefiningOp<SplitOp>()) {
    source.split = split;
    source.piece = cast<OpResult>(value).getResultNumber();
    ArrayRef<int64_t> sizes = split.getSizes();
    source.offset = std::accumulate(sizes.begin(),
                                    sizes.begin() + source.piece, int64_t(0));
    value = split.getInput();
    if (!value.hasOneUse())
      return llvm::formatv("the fused projection of its {0} has other users",
                           role)
          .str();
  }
  source.linear = value.getDefiningOp<LinearOp>();
  if (!source.linear)
    return llvm::formatv("its {0} is not made by a tvc.linear (through split "
                         "and rope only)",
                         role)
        .str();
  return std::nullopt;
}

/// The kept indices of `units` scored units when the `count` lowest go;
/// ties drop the earlier unit, so the choice is deterministic.
std::pair<SmallVector<int64_t>, SmallVector<int64_t>>
chooseUnits(ArrayRef<double> scores, int64_t count) {
  SmallVector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](int64_t a, int64_t b) {
    return std::make_pair(scores[a], a) < std::make_pair(scores[b], b);
  });
  SmallVector<int64_t> removed(order.begin(), order.begin() + count);
  SmallVector<int64_t> kept(order.begin() + count, order.end());
  llvm::sort(removed);
  llvm::sort(kept);
  return {kept, removed};
}

/// Channels [u * width, (u + 1) * width) of every unit u in `units`.
SmallVector<int64_t> channelsOf(ArrayRef<int64_t> units, int64_t width) {
  SmallVector<int64_t> channels;
  for (int64_t unit : units)
    for (int64_t c = 0; c < width; ++c)
      channels.push_back(unit * width + c);
  return channels;
}

class StructuredPruner {
public:
  StructuredPruner(ModuleOp module, const prune::StructuredOptions &options,
                   WeightStore &store, WeightWriter &writer)
      : module(module), options(options), store(store), writer(writer),
        symbols(module) {}

  LogicalResult run();

private:
  /// Loads `op`'s weight and bias (op must be resizable).
  FailureOr<Linear> load(LinearOp op);
  /// load() of each of `ops`.
  FailureOr<SmallVector<Linear>> loadAll(ArrayRef<LinearOp> ops) {
    SmallVector<Linear> loaded;
    for (LinearOp op : ops) {
      FailureOr<Linear> one = load(op);
      if (failed(one))
        return failure();
      loaded.push_back(std::move(*one));
    }
    return loaded;
  }
  /// The calibration norms of `linear`'s input channels.
  FailureOr<std::vector<float>> inputNorms(Linear &linear);
  /// How many of `units` to remove.
  int64_t removeCount(int64_t units) const {
    int64_t count = std::llround(options.amount * double(units));
    return std::clamp<int64_t>(count, 0, units - 1);
  }
  bool inSelectedLayers(Operation *op) const {
    if (options.layers.empty())
      return true;
    auto layer = op->getParentOfType<LayerOp>();
    return layer && llvm::is_contained(options.layers, int64_t(layer.getIndex()));
  }

  LogicalResult pruneHeads(AttentionOp attention);
  LogicalResult pruneChannels(LinearOp down);

  /// New globals for `linear` keeping output channels `keep`.
  void keepOutputs(Linear &linear, ArrayRef<int64_t> keep);
  /// New weight for `linear` keeping input channels `keep`.
  void keepInputs(Linear &linear, ArrayRef<int64_t> keep);
  /// New weight for `linear` with input channels `drop` zeroed.
  void zeroInputs(Linear &linear, ArrayRef<int64_t> drop);
  /// Points `operand` (a tvc.weight) of `linear` at a new global holding
  /// `values` of `type`.
  void replaceWeight(LinearOp linear, OpOperand &operand, GlobalOp old,
                     RankedTensorType type, const std::vector<float> &values);

  ModuleOp module;
  const prune::StructuredOptions &options;
  WeightStore &store;
  WeightWriter &writer;
  SymbolTable symbols;
  llvm::SetVector<GlobalOp> replaced;
  int64_t blocks = 0, skipped = 0, unitsBefore = 0, unitsRemoved = 0;
  int64_t parametersBefore = 0, parametersAfter = 0;
};

FailureOr<Linear> StructuredPruner::load(LinearOp op) {
  Linear linear;
  linear.op = op;
  linear.weight = globalOf(op.getWeights()[0], symbols);
  linear.bias = globalOf(op.getBias(), symbols);
  linear.inOut =
      cast<DenseStructureAttr>(op.getStructure()).getLayout() ==
      WeightLayout::InOut;
  RankedTensorType type = linear.weight.getTensorType();
  linear.out = type.getDimSize(linear.inOut ? 1 : 0);
  linear.in = type.getDimSize(linear.inOut ? 0 : 1);
  llvm::Expected<WeightView> view = store.read(linear.weight);
  if (!view) {
    op.emitError() << "tvc-prune: " << llvm::toString(view.takeError());
    return failure();
  }
  linear.w = toFloats(view->bytes);
  if (linear.bias) {
    llvm::Expected<WeightView> bias = store.read(linear.bias);
    if (!bias) {
      op.emitError() << "tvc-prune: " << llvm::toString(bias.takeError());
      return failure();
    }
    linear.b = toFloats(bias->bytes);
  }
  return linear;
}

FailureOr<std::vector<float>>
StructuredPruner::inputNorms(Linear &linear) {
  llvm::Expected<std::vector<float>> norms = prune::readChannelNorms(
      *options.norms, linear.weight.getSymName(), linear.in);
  if (!norms) {
    linear.op.emitError() << "tvc-prune: "
                          << llvm::toString(norms.takeError());
    return failure();
  }
  return std::move(*norms);
}

void StructuredPruner::replaceWeight(LinearOp linear, OpOperand &operand,
                                     GlobalOp old, RankedTensorType type,
                                     const std::vector<float> &values) {
  GlobalOp global =
      writer.create((old.getSymName() + ".pruned").str(), type,
                    asBytes(values));
  symbols.insert(global);
  OpBuilder builder(linear);
  auto oldWeight = operand.get().getDefiningOp<WeightOp>();
  operand.set(WeightOp::create(builder, linear.getLoc(), type,
                               global.getSymName()));
  if (oldWeight->use_empty())
    oldWeight.erase();
  replaced.insert(old);
}

void StructuredPruner::keepOutputs(Linear &linear, ArrayRef<int64_t> keep) {
  int64_t kept = keep.size();
  std::vector<float> values(kept * linear.in);
  for (auto [row, source] : llvm::enumerate(keep))
    for (int64_t col = 0; col < linear.in; ++col)
      values[linear.inOut ? col * kept + row : row * linear.in + col] =
          linear.at(source, col);
  auto type = RankedTensorType::get(
      linear.inOut ? ArrayRef<int64_t>{linear.in, kept}
                   : ArrayRef<int64_t>{kept, linear.in},
      Float32Type::get(module.getContext()));
  replaceWeight(linear.op, linear.op.getWeightsMutable()[0], linear.weight,
                type, values);
  if (linear.bias) {
    std::vector<float> bias;
    for (int64_t source : keep)
      bias.push_back(linear.b[source]);
    replaceWeight(linear.op, linear.op.getBiasMutable()[0], linear.bias,
                  RankedTensorType::get({kept},
                                        Float32Type::get(module.getContext())),
                  bias);
  }
  Value result = linear.op.getResult();
  result.setType(withLastDim(result.getType(), kept));
}

void StructuredPruner::keepInputs(Linear &linear, ArrayRef<int64_t> keep) {
  int64_t kept = keep.size();
  std::vector<float> values(linear.out * kept);
  for (int64_t row = 0; row < linear.out; ++row)
    for (auto [col, source] : llvm::enumerate(keep))
      values[linear.inOut ? col * linear.out + row : row * kept + col] =
          linear.at(row, source);
  auto type = RankedTensorType::get(
      linear.inOut ? ArrayRef<int64_t>{kept, linear.out}
                   : ArrayRef<int64_t>{linear.out, kept},
      Float32Type::get(module.getContext()));
  replaceWeight(linear.op, linear.op.getWeightsMutable()[0], linear.weight,
                type, values);
}

void StructuredPruner::zeroInputs(Linear &linear, ArrayRef<int64_t> drop) {
  std::vector<float> values = linear.w;
  for (int64_t row = 0; row < linear.out; ++row)
    for (int64_t col : drop)
      values[linear.inOut ? col * linear.out + row : row * linear.in + col] =
          0.0f;
  replaceWeight(linear.op, linear.op.getWeightsMutable()[0], linear.weight,
                linear.weight.getTensorType(), values);
}

LogicalResult StructuredPruner::pruneHeads(AttentionOp attention) {
  auto skip = [&](const std::string &why) {
    ++skipped;
    if (options.report)
      attention.emitRemark() << "heads not pruned: " << why;
    return success();
  };
  if (attention.getKvLen())
    return skip("it reads a KV cache (prune before tvc-derive-decode)");
  Value operands[] = {attention.getQuery(), attention.getKey(),
                      attention.getValue()};
  for (Value operand : operands)
    if (ShapedType::isDynamic(lastDim(operand)))
      return skip("its heads have a dynamic width");
  Value result = attention.getResult();
  if (!result.hasOneUse())
    return skip("its output has other users than one projection");
  auto outOp = dyn_cast<LinearOp>(*result.getUsers().begin());
  if (!outOp || outOp.getInput() != result)
    return skip("its output does not feed a tvc.linear");

  std::array<Source, 3> sources;
  const char *roles[] = {"query", "key", "value"};
  for (int i = 0; i < 3; ++i) {
    if (auto why = traceSource(operands[i], roles[i], sources[i]))
      return skip(*why);
  }
  // One linear per distinct projection (q, k and v may share a fused one).
  SmallVector<LinearOp> projections;
  for (const Source &source : sources)
    if (!llvm::is_contained(projections, source.linear))
      projections.push_back(source.linear);
  SmallVector<LinearOp> resized(projections);
  resized.push_back(outOp);
  for (LinearOp linear : resized)
    if (auto why = whyNotResizable(linear, symbols))
      return skip(*why);

  int64_t heads = attention.getHeads(), kvHeads = attention.getKvHeads();
  int64_t group = heads / kvHeads;
  int64_t headDim = attention.getHeadDim();
  int64_t valueDim = lastDim(attention.getValue()) / kvHeads;
  int64_t count = removeCount(kvHeads);
  if (count == 0)
    return skip(llvm::formatv("removing {0} of {1} {2} rounds to none",
                              prune::shortNumber(options.amount), kvHeads,
                              group == 1 ? "heads" : "key/value groups"));

  FailureOr<SmallVector<Linear>> loadedProjections = loadAll(projections);
  FailureOr<Linear> out = load(outOp);
  if (failed(loadedProjections) || failed(out))
    return failure();
  SmallVector<Linear> &loaded = *loadedProjections;
  auto loadedOf = [&](LinearOp op) -> Linear & {
    return *llvm::find_if(loaded, [&](Linear &l) { return l.op == op; });
  };

  // Score each key/value group: the energy its heads add to the output
  // projection (activation), or the squared weights of all its slices.
  SmallVector<double> scores(kvHeads, 0.0);
  if (options.norms) {
    FailureOr<std::vector<float>> norms = inputNorms(*out);
    if (failed(norms))
      return failure();
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t c = h * valueDim; c < (h + 1) * valueDim; ++c)
        scores[h / group] += double((*norms)[c]) * (*norms)[c] *
                             out->colNorm2(c);
  } else {
    int64_t widths[] = {headDim * group, headDim, valueDim};
    for (int64_t g = 0; g < kvHeads; ++g) {
      for (int i = 0; i < 3; ++i) {
        Linear &linear = loadedOf(sources[i].linear);
        for (int64_t c = 0; c < widths[i]; ++c)
          scores[g] += linear.rowNorm2(sources[i].offset + g * widths[i] + c);
      }
      for (int64_t c = g * group * valueDim; c < (g + 1) * group * valueDim;
           ++c)
        scores[g] += out->colNorm2(c);
    }
  }
  auto [keptGroups, removedGroups] = chooseUnits(scores, count);

  // Kept channels of each operand, and of the output projection's input.
  SmallVector<int64_t> keptHeads;
  for (int64_t g : keptGroups)
    for (int64_t h = g * group; h < (g + 1) * group; ++h)
      keptHeads.push_back(h);
  SmallVector<int64_t> removedHeads;
  for (int64_t g : removedGroups)
    for (int64_t h = g * group; h < (g + 1) * group; ++h)
      removedHeads.push_back(h);
  std::array<SmallVector<int64_t>, 3> keep = {
      channelsOf(keptHeads, headDim), channelsOf(keptGroups, headDim),
      channelsOf(keptGroups, valueDim)};

  int64_t before = parametersOf(resized);
  if (options.masked) {
    zeroInputs(*out, channelsOf(removedHeads, valueDim));
  } else {
    for (Linear &linear : loaded) {
      // Output channels of this linear that stay: through a split, every
      // piece no operand uses stays whole.
      SmallVector<int64_t> channels;
      SplitOp split;
      for (const Source &source : sources)
        if (source.linear == linear.op)
          split = source.split;
      if (!split) {
        for (int i = 0; i < 3; ++i)
          if (sources[i].linear == linear.op)
            channels = keep[i];
        keepOutputs(linear, channels);
        continue;
      }
      SmallVector<int64_t> sizes;
      int64_t offset = 0;
      for (auto [piece, size] : llvm::enumerate(split.getSizes())) {
        int64_t user = -1;
        for (int i = 0; i < 3; ++i)
          if (sources[i].split == split && sources[i].piece == piece)
            user = i;
        if (user < 0) {
          for (int64_t c = 0; c < size; ++c)
            channels.push_back(offset + c);
          sizes.push_back(size);
        } else {
          for (int64_t c : keep[user])
            channels.push_back(offset + c);
          sizes.push_back(keep[user].size());
        }
        offset += size;
      }
      keepOutputs(linear, channels);
      split.setSizes(sizes);
      for (auto [piece, size] : llvm::enumerate(sizes))
        split.getResult(piece).setType(
            withLastDim(split.getResult(piece).getType(), size));
    }
    // Rope heads are the operand's heads (the input types changed already).
    int64_t roleHeadDims[] = {headDim, headDim, valueDim};
    for (int i = 0; i < 3; ++i)
      for (RopeOp rope : llvm::reverse(sources[i].ropes)) {
        int64_t width = keep[i].size();
        rope.setHeads(width / roleHeadDims[i]);
        rope.getResult().setType(withLastDim(rope.getResult().getType(),
                                             width));
      }
    attention.setHeads(keptHeads.size());
    attention.setKvHeads(keptGroups.size());
    attention.getResult().setType(
        withLastDim(result.getType(), keptHeads.size() * valueDim));
    keepInputs(*out, channelsOf(keptHeads, valueDim));
  }
  int64_t after = parametersOf(resized);
  ++blocks;
  unitsBefore += heads;
  unitsRemoved += removedHeads.size();
  parametersBefore += before;
  parametersAfter += after;
  if (options.report)
    attention.emitRemark() << llvm::formatv(
        "removed heads {0} of {1}{2}: {3} -> {4} parameters", listOf(removedHeads),
        heads,
        options.masked ? " (masked: output-projection columns zeroed)" : "",
        before, after);
  return success();
}

LogicalResult StructuredPruner::pruneChannels(LinearOp downOp) {
  Value hidden = downOp.getInput();
  Operation *act = hidden.getDefiningOp();
  if (!act || !isa<GeluOp, SiluOp, ReluOp, GluOp>(act))
    return success(); // not the down projection of an FFN
  auto skip = [&](const std::string &why) {
    ++skipped;
    if (options.report)
      downOp.emitRemark() << "FFN channels not pruned: " << why;
    return success();
  };
  if (!hidden.hasOneUse())
    return skip("its hidden activation has other users");
  SmallVector<LinearOp> upOps;
  for (Value operand : act->getOperands()) {
    auto up = operand.getDefiningOp<LinearOp>();
    if (!up)
      return skip("its activation's input is not made by a tvc.linear");
    if (!operand.hasOneUse())
      return skip("its up projection has other users");
    upOps.push_back(up);
  }
  SmallVector<LinearOp> resized(upOps);
  resized.push_back(downOp);
  for (LinearOp linear : resized)
    if (auto why = whyNotResizable(linear, symbols))
      return skip(*why);
  int64_t width = lastDim(hidden);
  int64_t count = removeCount(width);
  if (count == 0)
    return skip(llvm::formatv("removing {0} of {1} channels rounds to none",
                              prune::shortNumber(options.amount), width));

  FailureOr<SmallVector<Linear>> loadedUps = loadAll(upOps);
  FailureOr<Linear> down = load(downOp);
  if (failed(loadedUps) || failed(down))
    return failure();
  SmallVector<Linear> &ups = *loadedUps;

  // Score each channel: its down-projection column norm times its input
  // norm over calibration data (activation), or times the norms of the
  // rows that make it (magnitude).
  SmallVector<double> scores(width);
  std::vector<float> norms;
  if (options.norms) {
    FailureOr<std::vector<float>> read = inputNorms(*down);
    if (failed(read))
      return failure();
    norms = std::move(*read);
  }
  for (int64_t c = 0; c < width; ++c) {
    double score = std::sqrt(down->colNorm2(c));
    if (options.norms)
      score *= norms[c];
    else
      for (const Linear &up : ups)
        score *= std::sqrt(up.rowNorm2(c));
    scores[c] = score;
  }
  auto [kept, removed] = chooseUnits(scores, count);

  int64_t before = parametersOf(resized);
  if (options.masked) {
    zeroInputs(*down, removed);
  } else {
    for (Linear &up : ups)
      keepOutputs(up, kept);
    hidden.setType(withLastDim(hidden.getType(), kept.size()));
    keepInputs(*down, kept);
  }
  int64_t after = parametersOf(resized);
  ++blocks;
  unitsBefore += width;
  unitsRemoved += count;
  parametersBefore += before;
  parametersAfter += after;
  if (options.report)
    downOp.emitRemark() << llvm::formatv(
        "removed {0} of {1} FFN channels{2}: {3} -> {4} parameters", count,
        width,
        options.masked ? " (masked: down-projection columns zeroed)" : "",
        before, after);
  return success();
}

LogicalResult StructuredPruner::run() {
  SmallVector<Operation *> targets;
  module.walk([&](Operation *op) {
    if (!inSelectedLayers(op))
      return;
    if (options.heads ? isa<AttentionOp>(op) : isa<LinearOp>(op))
      targets.push_back(op);
  });
  for (Operation *op : targets) {
    LogicalResult result = options.heads
                               ? pruneHeads(cast<AttentionOp>(op))
                               : pruneChannels(cast<LinearOp>(op));
    if (failed(result))
      return failure();
  }
  // Originals nothing reads any more.
  for (GlobalOp global : replaced)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();
  if (options.report)
    module.emitRemark() << llvm::formatv(
        "tvc-prune: {0} {1} blocks pruned ({2} left alone): {3} of {4} {5} "
        "removed, their projections {6} -> {7} parameters",
        blocks, options.heads ? "attention" : "FFN", skipped, unitsRemoved,
        unitsBefore, options.heads ? "heads" : "channels", parametersBefore,
        parametersAfter);
  return success();
}

} // namespace

LogicalResult prune::pruneStructured(ModuleOp module,
                                     const StructuredOptions &options,
                                     WeightStore &store,
                                     WeightWriter &writer) {
  return StructuredPruner(module, options, store, writer).run();
}
