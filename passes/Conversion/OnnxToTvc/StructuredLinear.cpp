//===- StructuredLinear.cpp - Factored layers to structured linears -------===//
//
// Raises the factored layers torch.onnx.export writes into one structured
// tvc.linear: a low-rank pair (nn.Linear(in, r, bias=False) then
// nn.Linear(r, out)) into #tvc.low_rank, PEFT's LoRA layer
// (base(x) + lora_B(lora_A(dropout(x))) * scaling) into #tvc.lora, and a
// BlockDense layer (x split into k slices, each multiplied by its block
// with an Einsum or a batched MatMul, the slices merged, then
// nn.Linear(r, out)) into #tvc.block_dense. The patterns run
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
// it into its weights file); so is each block of a [k, in/k, r/k] stack.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

bool OutInWeights::isFactor(LinearOp linear) {
  auto dense = dyn_cast<DenseStructureAttr>(linear.getStructure());
  if (!dense || linear.getWeights().size() != 1)
    return false;
  GlobalOp global = getGlobal(linear.getWeights()[0]);
  if (!global || global.getTensorType().getRank() != 2)
    return false;
  return dense.getLayout() == WeightLayout::OutIn || isReadable(global);
}

Value OutInWeights::get(LinearOp linear, PatternRewriter &rewriter) {
  auto dense = cast<DenseStructureAttr>(linear.getStructure());
  if (dense.getLayout() == WeightLayout::OutIn)
    return linear.getWeights()[0];
  return getTransposed(getGlobal(linear.getWeights()[0]), linear.getLoc(),
                       rewriter);
}

bool OutInWeights::isBlockStack(Value weight, WeightLayout layout) {
  GlobalOp global = getGlobal(weight);
  if (!global || global.getTensorType().getRank() != 3)
    return false;
  return layout == WeightLayout::OutIn || isReadable(global);
}

Value OutInWeights::getBlocks(Value weight, WeightLayout layout,
                              PatternRewriter &rewriter) {
  if (layout == WeightLayout::OutIn)
    return weight;
  return getTransposed(getGlobal(weight), weight.getLoc(), rewriter);
}

bool OutInWeights::isReadable(GlobalOp global) {
  if (transposed.count(global.getOperation()))
    return true;
  auto view = store.read(global);
  if (!view) {
    llvm::consumeError(view.takeError());
    return false;
  }
  return true;
}

Value OutInWeights::getTransposed(GlobalOp global, Location loc,
                                  PatternRewriter &rewriter) {
  GlobalOp &result = transposed[global.getOperation()];
  if (!result) {
    // isReadable read these bytes already; the store keeps them mapped.
    WeightView view = llvm::cantFail(store.read(global));
    RankedTensorType type = global.getTensorType();
    ArrayRef<int64_t> shape = type.getShape();
    int64_t rows = shape[shape.size() - 2], cols = shape.back();
    int64_t count = type.getNumElements();
    size_t element = count ? view.bytes.size() / count : 0;
    std::vector<char> bytes(view.bytes.size());
    // Each [rows, cols] matrix of the stack (one for a rank-2 weight)
    // becomes [cols, rows] in place.
    for (int64_t base = 0; base < count; base += rows * cols)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          std::memcpy(&bytes[(base + j * rows + i) * element],
                      &view.bytes[(base + i * cols + j) * element], element);
    SmallVector<int64_t> swapped(shape);
    std::swap(swapped[shape.size() - 2], swapped.back());
    auto outIn = RankedTensorType::get(swapped, type.getElementType());
    result =
        writer.create((global.getSymName() + ".out_in").str(), outIn, bytes);
    replaced.push_back(global);
  }
  return WeightOp::create(rewriter, loc, result.getTensorType(),
                          FlatSymbolRefAttr::get(result.getSymNameAttr()));
}

void OutInWeights::eraseUnused() {
  for (GlobalOp global : replaced)
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();
  replaced.clear();
}

GlobalOp OutInWeights::getGlobal(Value value) {
  auto weight = value.getDefiningOp<WeightOp>();
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

/// The value of a single-element bool constant (an i1 arith.constant from
/// an initializer, or an ONNX Constant node), if `value` is one.
static std::optional<bool> getBoolConstant(Value value) {
  DenseElementsAttr elements;
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    elements = dyn_cast<DenseElementsAttr>(constant.getValue());
  else if (tvc_onnx::NodeOp node = getDefiningNode(value, "Constant"))
    elements =
        dyn_cast_or_null<DenseElementsAttr>(node.getAttrs().get("value"));
  if (!elements || elements.getNumElements() != 1 ||
      !elements.getElementType().isInteger(1))
    return std::nullopt;
  return *elements.getValues<bool>().begin();
}

/// True when optional input `index` of `node` is absent (or empty).
static bool isAbsent(tvc_onnx::NodeOp node, unsigned index) {
  return index >= node.getInputs().size() ||
         isa<NoneType>(node.getInputs()[index].getType());
}

/// The Dropout node defining `value` when the structure can take it as the
/// identity: its output read once (by the adapter), its mask unread, ratio
/// and training mode constants (opset 12 on) or absent. A training-mode
/// Dropout (a model exported in train mode) is taken as what the layer
/// computes at inference, the identity, like PEFT's lora_dropout in eval().
static tvc_onnx::NodeOp matchInferenceDropout(Value value) {
  tvc_onnx::NodeOp dropout = getDefiningNode(value, "Dropout");
  // Before opset 7 the node carried an is_test flag; not seen from torch.
  if (!dropout || dropout.getVersion() < 7 || dropout.getInputs().empty() ||
      dropout.getResult(0) != value || !value.hasOneUse() ||
      dropout.getInputs()[0].getType() != value.getType())
    return {};
  for (Value mask : dropout.getResults().drop_front())
    if (!mask.use_empty())
      return {};
  if (dropout.getVersion() < 12)
    return dropout.getInputs().size() == 1 ? dropout : tvc_onnx::NodeOp();
  if (dropout.getInputs().size() > 3)
    return {};
  if (!isAbsent(dropout, 1)) {
    std::optional<double> ratio = getScalarConstant(dropout.getInputs()[1]);
    if (!ratio || !(*ratio >= 0.0 && *ratio < 1.0))
      return {};
  }
  if (!isAbsent(dropout, 2) && !getBoolConstant(dropout.getInputs()[2]))
    return {};
  return dropout;
}

/// `value` with an inference-time Dropout (matchInferenceDropout) skipped;
/// the Dropout, if any, in `dropout`.
static Value skipDropout(Value value, tvc_onnx::NodeOp &dropout) {
  dropout = matchInferenceDropout(value);
  return dropout ? dropout.getInputs()[0] : value;
}

/// The static shape of `value`, if it is a ranked tensor of static shape.
static std::optional<ArrayRef<int64_t>> getStaticShape(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  return type.getShape();
}

/// The product of `dims`.
static int64_t getProduct(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t dim : dims)
    product *= dim;
  return product;
}

/// The explicit permutation of a Transpose node of a rank-`rank` tensor.
static std::optional<SmallVector<int64_t>>
getPermutation(tvc_onnx::NodeOp transpose, int64_t rank) {
  if (!transpose || transpose.getInputs().size() != 1)
    return std::nullopt;
  auto attr = dyn_cast_or_null<ArrayAttr>(transpose.getAttrs().get("perm"));
  if (!attr || static_cast<int64_t>(attr.size()) != rank)
    return std::nullopt;
  SmallVector<int64_t> perm;
  for (Attribute element : attr) {
    auto index = dyn_cast<IntegerAttr>(element);
    if (!index)
      return std::nullopt;
    perm.push_back(index.getInt());
  }
  return perm;
}

namespace {
/// The block-diagonal half of a BlockDense layer as torch exports it: x
/// reshaped to [.., k, in/k], multiplied block by block, reshaped back to
/// [.., r].
struct BlockChain {
  Value input, blocks;
  /// How `blocks` is stacked: InOut [k, in/k, r/k], OutIn [k, r/k, in/k].
  WeightLayout layout;
  int64_t k;
  /// The nodes from the merging Reshape back to the splitting one, each
  /// read only by the one before.
  SmallVector<Operation *> nodes;
};
} // namespace

/// How an Einsum equation multiplies [.., k, i] slices by a stack of k
/// blocks into [.., k, o]: `..ki,kio->..ko` (InOut) or `..ki,koi->..ko`
/// (OutIn), the batch prefix `...` or letters of their own; std::nullopt
/// for any other equation. `sliceRank` is the rank of the first operand.
static std::optional<WeightLayout> parseBlockEinsum(StringRef equation,
                                                    int64_t sliceRank) {
  std::string compact;
  for (char c : equation)
    if (c != ' ')
      compact.push_back(c);
  StringRef text(compact);
  auto [inputs, output] = text.split("->");
  auto [slices, blocks] = inputs.split(',');
  if (!text.contains("->") || !inputs.contains(',') || blocks.contains(',') ||
      slices.size() < 2 || blocks.size() != 3)
    return std::nullopt;
  char k = slices[slices.size() - 2], i = slices.back();
  StringRef batch = slices.drop_back(2);
  char o = blocks[1] == i ? blocks[2] : blocks[1];
  std::optional<WeightLayout> layout;
  if (blocks == (Twine(k) + Twine(i) + Twine(o)).str())
    layout = WeightLayout::InOut;
  else if (blocks == (Twine(k) + Twine(o) + Twine(i)).str())
    layout = WeightLayout::OutIn;
  if (!layout || !llvm::isAlpha(k) || !llvm::isAlpha(i) || !llvm::isAlpha(o) ||
      k == i || k == o || i == o ||
      output != (batch + Twine(k) + Twine(o)).str())
    return std::nullopt;
  // The batch letters index x's leading dimensions only: each appears once
  // and is none of k, i, o; `...` (at most once) stands for any number.
  std::string named = batch.str();
  bool ellipsis = false;
  if (size_t at = batch.find("..."); at != StringRef::npos) {
    ellipsis = true;
    named = (batch.take_front(at) + batch.drop_front(at + 3)).str();
  }
  for (char c : named)
    if (!llvm::isAlpha(c) || c == k || c == i || c == o ||
        llvm::count(named, c) != 1)
      return std::nullopt;
  int64_t batchRank = named.size();
  if (ellipsis ? batchRank + 2 > sliceRank : batchRank + 2 != sliceRank)
    return std::nullopt;
  return layout;
}

/// The block-diagonal chain whose merging Reshape defines `value` (the
/// input of L), if it is one: Reshape(Einsum(Reshape(x), B)) or
/// Reshape(Transpose(MatMul(Transpose(Reshape(x)), B))) with the second
/// Transpose undoing the first, B a constant stack of k blocks.
static std::optional<BlockChain> matchBlockChain(Value value) {
  tvc_onnx::NodeOp merge = getDefiningNode(value, "Reshape");
  if (!merge || merge.getInputs().size() != 2 || !value.hasOneUse())
    return std::nullopt;
  BlockChain chain;
  chain.nodes.push_back(merge);
  Value product = merge.getInputs()[0];
  if (!product.hasOneUse())
    return std::nullopt;
  Value slices;
  if (tvc_onnx::NodeOp einsum = getDefiningNode(product, "Einsum")) {
    auto equation =
        dyn_cast_or_null<StringAttr>(einsum.getAttrs().get("equation"));
    if (einsum.getInputs().size() != 2 || !equation)
      return std::nullopt;
    slices = einsum.getInputs()[0];
    auto sliceShape = getStaticShape(slices);
    if (!sliceShape)
      return std::nullopt;
    std::optional<WeightLayout> layout =
        parseBlockEinsum(equation.getValue(), sliceShape->size());
    if (!layout)
      return std::nullopt;
    chain.layout = *layout;
    chain.blocks = einsum.getInputs()[1];
    chain.nodes.push_back(einsum);
  } else if (tvc_onnx::NodeOp back = getDefiningNode(product, "Transpose")) {
    // [.., k, r/k] back from the batched product's layout.
    if (back.getInputs().size() != 1)
      return std::nullopt;
    tvc_onnx::NodeOp matmul = getDefiningNode(back.getInputs()[0], "MatMul");
    if (!matmul || matmul.getInputs().size() != 2 ||
        !matmul.getResult(0).hasOneUse())
      return std::nullopt;
    tvc_onnx::NodeOp forth =
        getDefiningNode(matmul.getInputs()[0], "Transpose");
    if (!forth || forth.getInputs().size() != 1 ||
        !forth.getResult(0).hasOneUse())
      return std::nullopt;
    slices = forth.getInputs()[0];
    auto sliceShape = getStaticShape(slices);
    if (!sliceShape || sliceShape->size() < 3)
      return std::nullopt;
    int64_t rank = sliceShape->size();
    auto perm = getPermutation(forth, rank);
    auto inverse = getPermutation(back, rank);
    // The k axis must become MatMul's batch axis next to the matrices (it
    // meets B's stack axis) and the slice axis stay last; the second
    // Transpose must put every axis back.
    if (!perm || !inverse || (*perm)[rank - 3] != rank - 2 ||
        (*perm)[rank - 1] != rank - 1)
      return std::nullopt;
    for (int64_t axis = 0; axis < rank; ++axis)
      if ((*inverse)[axis] < 0 || (*inverse)[axis] >= rank ||
          (*perm)[(*inverse)[axis]] != axis)
        return std::nullopt;
    chain.layout = WeightLayout::InOut;
    chain.blocks = matmul.getInputs()[1];
    chain.nodes.append({back, matmul, forth});
  } else {
    return std::nullopt;
  }
  tvc_onnx::NodeOp split = getDefiningNode(slices, "Reshape");
  if (!split || split.getInputs().size() != 2 || !slices.hasOneUse())
    return std::nullopt;
  chain.nodes.push_back(split);
  chain.input = split.getInputs()[0];
  auto inputShape = getStaticShape(chain.input);
  auto sliceShape = getStaticShape(slices);
  auto mergedShape = getStaticShape(value);
  auto blocksType = dyn_cast<RankedTensorType>(chain.blocks.getType());
  if (!inputShape || inputShape->empty() || !sliceShape || !mergedShape ||
      !blocksType || blocksType.getRank() != 3 ||
      !blocksType.hasStaticShape() ||
      blocksType.getElementType() != getElementTypeOrSelf(chain.input) ||
      getElementTypeOrSelf(value) != blocksType.getElementType())
    return std::nullopt;
  chain.k = sliceShape->end()[-2];
  int64_t in = inputShape->back(), blockIn = sliceShape->back();
  bool inOut = chain.layout == WeightLayout::InOut;
  int64_t blockOut = blocksType.getDimSize(inOut ? 2 : 1);
  // The splitting Reshape cuts exactly the last dimension into k slices
  // (the leading ones may be flattened, as bmm needs); B holds k blocks of
  // that width; the merging Reshape restores x's leading dimensions and
  // joins the k results.
  ArrayRef<int64_t> lead = inputShape->drop_back();
  if (chain.k < 1 || chain.k * blockIn != in ||
      getProduct(sliceShape->drop_back(2)) != getProduct(lead) ||
      blocksType.getDimSize(0) != chain.k ||
      blocksType.getDimSize(inOut ? 1 : 2) != blockIn)
    return std::nullopt;
  // The product is [.., k, r/k] by the checks above; ONNX's inference may
  // have left its dimensions unknown (Einsum with `...`).
  SmallVector<int64_t> expectedProduct(sliceShape->drop_back());
  expectedProduct.push_back(blockOut);
  SmallVector<int64_t> expectedMerged(lead);
  expectedMerged.push_back(chain.k * blockOut);
  if (failed(verifyCompatibleShape(
          product.getType(),
          RankedTensorType::get(expectedProduct,
                                blocksType.getElementType()))) ||
      *mergedShape != ArrayRef<int64_t>(expectedMerged))
    return std::nullopt;
  return chain;
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

/// linear(Reshape(blocks(Reshape(x))), L) + b, the blocks an Einsum or a
/// transposed batched MatMul by a constant [k, in/k, r/k] (or [k, r/k,
/// in/k]) stack, nothing between -> linear(x, B, L) + b
/// structure(#tvc.block_dense<blocks = k>).
struct RaiseBlockDense : OpRewritePattern<LinearOp> {
  RaiseBlockDense(MLIRContext *context, OutInWeights &weights)
      : OpRewritePattern(context), weights(weights) {}

  LogicalResult matchAndRewrite(LinearOp linear,
                                PatternRewriter &rewriter) const override {
    std::optional<BlockChain> chain = matchBlockChain(linear.getInput());
    if (!chain)
      return rewriter.notifyMatchFailure(linear, "input is not a block-"
                                                 "diagonal chain");
    if (!weights.isFactor(linear))
      return rewriter.notifyMatchFailure(linear, "not a dense linear by a "
                                                 "constant matrix");
    if (!weights.isBlockStack(chain->blocks, chain->layout))
      return rewriter.notifyMatchFailure(linear, "blocks are not a constant "
                                                 "stack");
    Value blocks = weights.getBlocks(chain->blocks, chain->layout, rewriter);
    Value l = weights.get(linear, rewriter);
    rewriter.replaceOpWithNewOp<LinearOp>(
        linear, linear.getType(), chain->input, ValueRange{blocks, l},
        linear.getBias(),
        BlockDenseStructureAttr::get(rewriter.getContext(), chain->k));
    for (Operation *node : chain->nodes)
      rewriter.eraseOp(node);
    return success();
  }

  OutInWeights &weights;
};

/// add(linear(x, W) + b, [Mul(] B (A [Dropout(] x [)]) [, s)]) in either
/// order -> linear(x, W, A, B) + b structure(#tvc.lora<rank = r, alpha =
/// s r>). The branch is two dense linears or one #tvc.low_rank linear
/// without bias; a Dropout on its input is the identity at inference.
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
    // The branch as one low-rank linear (already raised) or a factor pair,
    // reading x itself or through PEFT's lora_dropout.
    tvc_onnx::NodeOp dropout;
    if (auto lowRank = dyn_cast<LowRankStructureAttr>(up.getStructure())) {
      if (skipDropout(up.getInput(), dropout) != input)
        return failure();
      Value w = weights.get(base, rewriter);
      replace(add, base, mul, dropout, {up}, lowRank.getRank(), scale,
              {w, up.getWeights()[0], up.getWeights()[1]}, rewriter);
      return success();
    }
    auto pair = matchFactorPair(branch, weights, /*allowBias=*/false);
    if (!pair || skipDropout(pair->first.getInput(), dropout) != input)
      return failure();
    Value w = weights.get(base, rewriter);
    Value a = weights.get(pair->first, rewriter);
    Value b = weights.get(up, rewriter);
    replace(add, base, mul, dropout, {up, pair->first},
            lastDim(pair->first.getResult()), scale, {w, a, b}, rewriter);
    return success();
  }

  void replace(AddOp add, LinearOp base, tvc_onnx::NodeOp mul,
               tvc_onnx::NodeOp dropout, ArrayRef<LinearOp> branch,
               int64_t rank, double scale, ArrayRef<Value> factors,
               PatternRewriter &rewriter) const {
    auto structure = LoraStructureAttr::get(rewriter.getContext(), rank,
                                            scale * static_cast<double>(rank));
    rewriter.replaceOpWithNewOp<LinearOp>(add, add.getType(), base.getInput(),
                                          factors, base.getBias(), structure);
    if (mul)
      rewriter.eraseOp(mul);
    for (LinearOp linear : branch)
      rewriter.eraseOp(linear);
    rewriter.eraseOp(base);
    if (dropout)
      rewriter.eraseOp(dropout);
  }

  OutInWeights &weights;
};

} // namespace

void mlir::tvc::populateOnnxStructuredLinearPatterns(
    RewritePatternSet &patterns, OutInWeights &weights) {
  patterns.add<RaiseLowRank, RaiseLora, RaiseBlockDense>(patterns.getContext(),
                                                         weights);
}
