//===- StructuredLinear.cpp - Factored layers to structured linears -------===//
//
// Raises the factored layers torch.onnx.export writes into one structured
// tvc.linear: a low-rank pair (nn.Linear(in, r, bias=False) then
// nn.Linear(r, out)) into #tvc.low_rank, and PEFT's LoRA layer
// (base(x) + lora_B(lora_A(x)) * scaling) into #tvc.lora. The patterns run
// as a second phase of convert-onnx-to-tvc, on the dense linears the node
// handlers made (Linear.cpp): a structure spans several nodes, which the
// greedy driver raises in any order, and the dense linears already say how
// each weight is stored. They are not a separate tvc-level pass because the
// LoRA scale has no tvc op: until it is lowered it is an ONNX Mul node by a
// scalar constant, read with the handlers' helpers. (The low-rank pattern
// needs no ONNX and also applies to hand-written dense pairs.) Structured
// factors are [out, in]: an initializer stored [in, out] (a
// #tvc.dense<in_out> linear) is transposed once into a new global
// `<name>.out_in` written through the WeightWriter (inline; tvc-import moves
// it into its weights file).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "lib/Support/WeightStore.h"

#include "mlir/IR/SymbolTable.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

bool OutInWeights::isFactor(LinearOp linear) {
  auto dense = dyn_cast<DenseStructureAttr>(linear.getStructure());
  if (!dense || linear.getWeights().size() != 1)
    return false;
  GlobalOp global = getGlobal(linear);
  if (!global || global.getTensorType().getRank() != 2)
    return false;
  if (dense.getLayout() == WeightLayout::OutIn ||
      transposed.count(global.getOperation()))
    return true;
  auto view = store.read(global);
  if (!view) {
    llvm::consumeError(view.takeError());
    return false;
  }
  return true;
}

Value OutInWeights::get(LinearOp linear, PatternRewriter &rewriter) {
  auto dense = cast<DenseStructureAttr>(linear.getStructure());
  if (dense.getLayout() == WeightLayout::OutIn)
    return linear.getWeights()[0];
  GlobalOp global = getGlobal(linear);
  GlobalOp &result = transposed[global.getOperation()];
  if (!result) {
    // isFactor read these bytes already; the store keeps them mapped.
    WeightView view = llvm::cantFail(store.read(global));
    RankedTensorType type = global.getTensorType();
    int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
    size_t element = rows * cols ? view.bytes.size() / (rows * cols) : 0;
    std::vector<char> bytes(view.bytes.size());
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        std::memcpy(&bytes[(j * rows + i) * element],
                    &view.bytes[(i * cols + j) * element], element);
    auto outIn = RankedTensorType::get({cols, rows}, type.getElementType());
    result =
        writer.create((global.getSymName() + ".out_in").str(), outIn, bytes);
    replaced.push_back(global);
  }
  return WeightOp::create(rewriter, linear.getLoc(), result.getTensorType(),
                          FlatSymbolRefAttr::get(result.getSymNameAttr()));
}

void OutInWeights::eraseUnused() {
  for (GlobalOp global : replaced)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();
  replaced.clear();
}

GlobalOp OutInWeights::getGlobal(LinearOp linear) {
  auto weight = linear.getWeights()[0].getDefiningOp<WeightOp>();
  if (!weight)
    return {};
  return SymbolTable::lookupNearestSymbolFrom<GlobalOp>(weight,
                                                        weight.getNameAttr());
}

/// The width of the last dimension of `value`'s type.
static int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

namespace {
/// Two dense linears applied one after the other.
struct FactorPair {
  LinearOp first, second;
};
} // namespace

/// The low-rank factors feeding `value`: a dense linear by a constant weight
/// (`second`, without bias unless `allowBias`) whose input is another one
/// without bias (`first`) used only by it.
static std::optional<FactorPair>
matchFactorPair(Value value, OutInWeights &weights, bool allowBias) {
  auto second = value.getDefiningOp<LinearOp>();
  if (!second || (!allowBias && second.getBias()) || !weights.isFactor(second))
    return std::nullopt;
  auto first = second.getInput().getDefiningOp<LinearOp>();
  // A bias between the factors makes the map affine, not U V.
  if (!first || first.getBias() || !first->hasOneUse() ||
      !weights.isFactor(first))
    return std::nullopt;
  return FactorPair{first, second};
}

namespace {

/// linear(linear(x, V), U) + b, nothing between, rank below both widths ->
/// linear(x, V, U) structure(#tvc.low_rank).
struct RaiseLowRank : OpRewritePattern<LinearOp> {
  RaiseLowRank(MLIRContext *context, OutInWeights &weights)
      : OpRewritePattern(context), weights(weights) {}

  LogicalResult matchAndRewrite(LinearOp linear,
                                PatternRewriter &rewriter) const override {
    auto pair = matchFactorPair(linear.getResult(), weights,
                                /*allowBias=*/true);
    if (!pair)
      return rewriter.notifyMatchFailure(linear, "not a pair of factors");
    Value input = pair->first.getInput();
    int64_t in = lastDim(input), rank = lastDim(pair->first.getResult()),
            out = lastDim(linear.getResult());
    // A product of two maps at least as wide as their ends is a plain
    // composition (or dynamic): keep the two linears.
    if (ShapedType::isDynamic(in) || rank >= std::min(in, out))
      return rewriter.notifyMatchFailure(linear, "rank is not below both "
                                                 "widths");
    Value v = weights.get(pair->first, rewriter);
    Value u = weights.get(linear, rewriter);
    rewriter.replaceOpWithNewOp<LinearOp>(
        linear, linear.getType(), input, ValueRange{v, u}, linear.getBias(),
        LowRankStructureAttr::get(rewriter.getContext(), rank));
    rewriter.eraseOp(pair->first);
    return success();
  }

  OutInWeights &weights;
};

/// add(linear(x, W) + b, [Mul(] B (A x) [, s)]) in either order -> linear(x,
/// W, A, B) + b structure(#tvc.lora<rank = r, alpha = s r>). The branch is
/// two dense linears or one #tvc.low_rank linear without bias.
struct RaiseLora : OpRewritePattern<AddOp> {
  RaiseLora(MLIRContext *context, OutInWeights &weights)
      : OpRewritePattern(context), weights(weights) {}

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [lhs, rhs] : {std::make_pair(add.getLhs(), add.getRhs()),
                            std::make_pair(add.getRhs(), add.getLhs())})
      if (succeeded(raise(add, lhs, rhs, rewriter)))
        return success();
    return rewriter.notifyMatchFailure(add, "not a base linear plus a "
                                            "low-rank branch of its input");
  }

  LogicalResult raise(AddOp add, Value baseValue, Value branch,
                      PatternRewriter &rewriter) const {
    auto base = baseValue.getDefiningOp<LinearOp>();
    if (!base || !base->hasOneUse() || !weights.isFactor(base) ||
        base.getType() != add.getType())
      return failure();
    // The scale: a Mul by a scalar constant, or none.
    double scale = 1.0;
    tvc_onnx::NodeOp mul = getDefiningNode(branch, "Mul");
    if (mul) {
      if (!mul->hasOneUse() || mul.getNumResults() != 1 ||
          mul.getResult(0).getType() != add.getType())
        return failure();
      bool found = false;
      for (auto [value, factor] : getOperandOrders(branch, "Mul")) {
        std::optional<double> constant = getScalarConstant(factor);
        if (!constant || value.getType() != add.getType())
          continue;
        scale = *constant;
        branch = value;
        found = true;
        break;
      }
      if (!found)
        return failure();
    }
    if (!std::isfinite(scale) || scale == 0.0)
      return failure();
    auto up = branch.getDefiningOp<LinearOp>();
    if (!up || up.getBias() || !up->hasOneUse())
      return failure();
    Value input = base.getInput();
    // The branch as one low-rank linear (already raised) or a factor pair.
    if (auto lowRank = dyn_cast<LowRankStructureAttr>(up.getStructure())) {
      if (up.getInput() != input)
        return failure();
      Value w = weights.get(base, rewriter);
      replace(add, base, mul, {up}, lowRank.getRank(), scale,
              {w, up.getWeights()[0], up.getWeights()[1]}, rewriter);
      return success();
    }
    auto pair = matchFactorPair(branch, weights, /*allowBias=*/false);
    if (!pair || pair->first.getInput() != input)
      return failure();
    Value w = weights.get(base, rewriter);
    Value a = weights.get(pair->first, rewriter);
    Value b = weights.get(up, rewriter);
    replace(add, base, mul, {up, pair->first}, lastDim(pair->first.getResult()),
            scale, {w, a, b}, rewriter);
    return success();
  }

  void replace(AddOp add, LinearOp base, tvc_onnx::NodeOp mul,
               ArrayRef<LinearOp> branch, int64_t rank, double scale,
               ArrayRef<Value> factors, PatternRewriter &rewriter) const {
    auto structure = LoraStructureAttr::get(rewriter.getContext(), rank,
                                            scale * static_cast<double>(rank));
    rewriter.replaceOpWithNewOp<LinearOp>(add, add.getType(), base.getInput(),
                                          factors, base.getBias(), structure);
    if (mul)
      rewriter.eraseOp(mul);
    for (LinearOp linear : branch)
      rewriter.eraseOp(linear);
    rewriter.eraseOp(base);
  }

  OutInWeights &weights;
};

} // namespace

void mlir::tvc::populateOnnxStructuredLinearPatterns(
    RewritePatternSet &patterns, OutInWeights &weights) {
  patterns.add<RaiseLowRank, RaiseLora>(patterns.getContext(), weights);
}
