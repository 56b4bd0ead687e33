//===- StructuredLinear.cpp - Factored layers to structured linears -------===//
//
// Raises the factored layers torch.onnx.export writes into one structured
// tvc.linear: a low-rank pair (nn.Linear(in, r, bias=False) then
// nn.Linear(r, out)) into #tvc.low_rank, PEFT's LoRA layer
// (base(x) + lora_B(lora_A(dropout(x))) * scaling) into #tvc.lora, a
// BlockDense layer (x split into k slices, each multiplied by its block
// with an Einsum or a batched MatMul, the slices merged, then
// nn.Linear(r, out)) into #tvc.block_dense, and a block-shuffle (Monarch)
// layer (two such block stages with the transpose of the first one's
// (k, q) grid between them, then the bias) into #tvc.block_shuffle. The
// patterns run as a second phase of convert-onnx-to-tvc, on the dense linears
// the node handlers made (Linear.cpp): a structure spans several nodes, which
// the greedy driver raises in any order, and the dense linears already say how
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
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/StringExtras.h"

#include <array>
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

namespace {
/// One block-diagonal product as torch exports it: [.., k, i] slices times
/// a stack of k blocks, an Einsum or a MatMul between two Transposes.
struct BlockProduct {
  /// The [.., k, i] slices and the stack they are multiplied by.
  Value slices, blocks;
  /// How `blocks` is stacked: InOut [k, i, o], OutIn [k, o, i].
  WeightLayout layout;
  /// The nodes from the last one back to the first, each read only by the
  /// one before.
  SmallVector<Operation *> nodes;
};
} // namespace

/// The block product whose last node defines `product`: Einsum(slices, B)
/// or Transpose(MatMul(Transpose(slices), B)) with the second Transpose
/// undoing the first. With `gridTransposed`, `product` is the [.., o, k]
/// transpose of the result instead: a Transpose swapping the last two axes
/// after either form, or the MatMul's second Transpose doing both at once
/// (torch fuses the two). Shapes are left to the caller.
static std::optional<BlockProduct> matchBlockProduct(Value product,
                                                     bool gridTransposed) {
  BlockProduct match;
  tvc_onnx::NodeOp grid = getDefiningNode(product, "Transpose");
  auto productType = dyn_cast<RankedTensorType>(product.getType());
  if (gridTransposed && grid && productType) {
    int64_t rank = productType.getRank();
    auto swap = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    if (rank >= 2)
      std::swap(swap[rank - 2], swap[rank - 1]);
    // The grid transpose alone; any other Transpose must be the MatMul
    // form's second one with the grid transpose fused in, tried below.
    auto perm = getPermutation(grid, rank);
    if (perm && *perm == ArrayRef<int64_t>(swap)) {
      Value result = grid.getInputs()[0];
      if (!result.hasOneUse())
        return std::nullopt;
      std::optional<BlockProduct> inner =
          matchBlockProduct(result, /*gridTransposed=*/false);
      if (!inner)
        return std::nullopt;
      inner->nodes.insert(inner->nodes.begin(), grid);
      return inner;
    }
  }
  if (tvc_onnx::NodeOp einsum = getDefiningNode(product, "Einsum")) {
    auto equation =
        dyn_cast_or_null<StringAttr>(einsum.getAttrs().get("equation"));
    if (gridTransposed || einsum.getInputs().size() != 2 || !equation)
      return std::nullopt;
    match.slices = einsum.getInputs()[0];
    auto sliceShape = getStaticShape(match.slices);
    if (!sliceShape)
      return std::nullopt;
    std::optional<WeightLayout> layout =
        parseBlockEinsum(equation.getValue(), sliceShape->size());
    if (!layout)
      return std::nullopt;
    match.layout = *layout;
    match.blocks = einsum.getInputs()[1];
    match.nodes.push_back(einsum);
    return match;
  }
  tvc_onnx::NodeOp back = getDefiningNode(product, "Transpose");
  // [.., k, o] (or [.., o, k]) back from the batched product's layout.
  if (!back || back.getInputs().size() != 1)
    return std::nullopt;
  tvc_onnx::NodeOp matmul = getDefiningNode(back.getInputs()[0], "MatMul");
  if (!matmul || matmul.getInputs().size() != 2 ||
      !matmul.getResult(0).hasOneUse())
    return std::nullopt;
  tvc_onnx::NodeOp forth = getDefiningNode(matmul.getInputs()[0], "Transpose");
  if (!forth || forth.getInputs().size() != 1 ||
      !forth.getResult(0).hasOneUse())
    return std::nullopt;
  match.slices = forth.getInputs()[0];
  auto sliceShape = getStaticShape(match.slices);
  if (!sliceShape || sliceShape->size() < 3)
    return std::nullopt;
  int64_t rank = sliceShape->size();
  auto perm = getPermutation(forth, rank);
  auto inverse = getPermutation(back, rank);
  // The k axis must become MatMul's batch axis next to the matrices (it
  // meets B's stack axis) and the slice axis stay last; the second
  // Transpose must put every axis back (then swap the last two when the
  // grid transpose is fused into it).
  if (!perm || !inverse || (*perm)[rank - 3] != rank - 2 ||
      (*perm)[rank - 1] != rank - 1)
    return std::nullopt;
  for (int64_t axis = 0; axis < rank; ++axis) {
    int64_t expected = axis;
    if (gridTransposed && axis >= rank - 2)
      expected = 2 * rank - 3 - axis;
    if ((*inverse)[axis] < 0 || (*inverse)[axis] >= rank ||
        (*perm)[(*inverse)[axis]] != expected)
      return std::nullopt;
  }
  match.layout = WeightLayout::InOut;
  match.blocks = matmul.getInputs()[1];
  match.nodes.append({back, matmul, forth});
  return match;
}

/// The static [k, i, o] sizes of a stack of blocks stored for `layout`, its
/// element type that of `slices`.
static std::optional<std::array<int64_t, 3>>
getBlockSizes(Value blocks, WeightLayout layout, Value slices) {
  auto type = dyn_cast<RankedTensorType>(blocks.getType());
  if (!type || type.getRank() != 3 || !type.hasStaticShape() ||
      type.getElementType() != getElementTypeOrSelf(slices))
    return std::nullopt;
  bool inOut = layout == WeightLayout::InOut;
  return std::array<int64_t, 3>{type.getDimSize(0),
                                type.getDimSize(inOut ? 1 : 2),
                                type.getDimSize(inOut ? 2 : 1)};
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
  std::optional<BlockProduct> match =
      matchBlockProduct(product, /*gridTransposed=*/false);
  if (!match)
    return std::nullopt;
  Value slices = match->slices;
  chain.layout = match->layout;
  chain.blocks = match->blocks;
  chain.nodes.append(match->nodes);
  tvc_onnx::NodeOp split = getDefiningNode(slices, "Reshape");
  if (!split || split.getInputs().size() != 2 || !slices.hasOneUse())
    return std::nullopt;
  chain.nodes.push_back(split);
  chain.input = split.getInputs()[0];
  auto inputShape = getStaticShape(chain.input);
  auto sliceShape = getStaticShape(slices);
  auto mergedShape = getStaticShape(value);
  auto sizes = getBlockSizes(chain.blocks, chain.layout, chain.input);
  if (!inputShape || inputShape->empty() || !sliceShape || !mergedShape ||
      !sizes || getElementTypeOrSelf(value) != getElementTypeOrSelf(slices))
    return std::nullopt;
  chain.k = sliceShape->end()[-2];
  int64_t in = inputShape->back(), blockIn = sliceShape->back();
  auto [stacked, stackedIn, blockOut] = *sizes;
  // The splitting Reshape cuts exactly the last dimension into k slices
  // (the leading ones may be flattened, as bmm needs); B holds k blocks of
  // that width; the merging Reshape restores x's leading dimensions and
  // joins the k results.
  ArrayRef<int64_t> lead = inputShape->drop_back();
  if (chain.k < 1 || chain.k * blockIn != in ||
      getProduct(sliceShape->drop_back(2)) != getProduct(lead) ||
      stacked != chain.k || stackedIn != blockIn)
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
                                getElementTypeOrSelf(value)))) ||
      *mergedShape != ArrayRef<int64_t>(expectedMerged))
    return std::nullopt;
  return chain;
}

namespace {
/// A block-shuffle (Monarch) layer as torch exports it: x reshaped to
/// [.., k, p], multiplied by B1, the (k, q) grid of each row transposed,
/// reshaped to [.., l, r], multiplied by B2, reshaped to [.., l s].
struct ShuffleChain {
  Value input, first, second;
  /// How B1 and B2 are stacked (InOut [k, p, q], OutIn [k, q, p]).
  WeightLayout firstLayout, secondLayout;
  int64_t k, l;
  /// The nodes from the merging Reshape back to the first splitting one,
  /// each read only by the one before.
  SmallVector<Operation *> nodes;
};
} // namespace

/// The block-shuffle chain whose merging Reshape defines `value`, if it is
/// one: Reshape(stage2(Reshape(grid(stage1(Reshape(x)))))), each stage a
/// block product (matchBlockProduct), `grid` the transpose of the last two
/// axes (alone or fused into the first stage's MatMul form), every
/// Reshape splitting or merging exactly the axes the structure names.
static std::optional<ShuffleChain> matchShuffleChain(Value value) {
  tvc_onnx::NodeOp merge = getDefiningNode(value, "Reshape");
  if (!merge || merge.getInputs().size() != 2)
    return std::nullopt;
  ShuffleChain chain;
  chain.nodes.push_back(merge);
  Value product2 = merge.getInputs()[0];
  if (!product2.hasOneUse())
    return std::nullopt;
  std::optional<BlockProduct> stage2 =
      matchBlockProduct(product2, /*gridTransposed=*/false);
  if (!stage2)
    return std::nullopt;
  chain.nodes.append(stage2->nodes);
  tvc_onnx::NodeOp split2 = getDefiningNode(stage2->slices, "Reshape");
  if (!split2 || split2.getInputs().size() != 2 || !stage2->slices.hasOneUse())
    return std::nullopt;
  chain.nodes.push_back(split2);
  Value grid = split2.getInputs()[0];
  if (!grid.hasOneUse())
    return std::nullopt;
  std::optional<BlockProduct> stage1 =
      matchBlockProduct(grid, /*gridTransposed=*/true);
  if (!stage1)
    return std::nullopt;
  chain.nodes.append(stage1->nodes);
  tvc_onnx::NodeOp split1 = getDefiningNode(stage1->slices, "Reshape");
  if (!split1 || split1.getInputs().size() != 2 || !stage1->slices.hasOneUse())
    return std::nullopt;
  chain.nodes.push_back(split1);
  chain.input = split1.getInputs()[0];
  chain.first = stage1->blocks;
  chain.second = stage2->blocks;
  chain.firstLayout = stage1->layout;
  chain.secondLayout = stage2->layout;

  auto inputShape = getStaticShape(chain.input);
  auto slices1 = getStaticShape(stage1->slices);
  auto slices2 = getStaticShape(stage2->slices);
  auto mergedShape = getStaticShape(value);
  auto sizes1 = getBlockSizes(chain.first, chain.firstLayout, chain.input);
  auto sizes2 = getBlockSizes(chain.second, chain.secondLayout, chain.input);
  Type element = getElementTypeOrSelf(chain.input);
  if (!inputShape || inputShape->empty() || !slices1 || !slices2 ||
      !mergedShape || !sizes1 || !sizes2 ||
      getElementTypeOrSelf(value) != element)
    return std::nullopt;
  auto [k, p, q] = *sizes1;
  auto [l, r, s] = *sizes2;
  chain.k = k;
  chain.l = l;
  ArrayRef<int64_t> lead = inputShape->drop_back();
  int64_t rows = getProduct(lead);
  // The first Reshape cuts exactly x's last dimension into k slices of p
  // (the leading ones may be flattened) for B1's k blocks.
  if (k < 1 || slices1->size() < 2 || slices1->end()[-2] != k ||
      slices1->back() != p || k * p != inputShape->back() ||
      getProduct(slices1->drop_back(2)) != rows)
    return std::nullopt;
  // The grid is [.., q, k] over the same rows; ONNX's inference may have
  // left its dimensions unknown (Einsum with `...`).
  SmallVector<int64_t> expectedGrid(slices1->drop_back(2));
  expectedGrid.append({q, k});
  if (failed(verifyCompatibleShape(
          grid.getType(), RankedTensorType::get(expectedGrid, element))))
    return std::nullopt;
  // The second Reshape keeps the rows and cuts each row's k q values into
  // l slices of r for B2's l blocks.
  if (l < 1 || slices2->size() < 2 || slices2->end()[-2] != l ||
      slices2->back() != r || l * r != k * q ||
      getProduct(slices2->drop_back(2)) != rows)
    return std::nullopt;
  SmallVector<int64_t> expectedProduct(slices2->drop_back());
  expectedProduct.push_back(s);
  SmallVector<int64_t> expectedMerged(lead);
  expectedMerged.push_back(l * s);
  if (failed(verifyCompatibleShape(
          product2.getType(),
          RankedTensorType::get(expectedProduct, element))) ||
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
    // Blocks after a shuffled block stage are the second half of a
    // block-shuffle layer, RaiseBlockShuffle's to raise.
    if (matchShuffleChain(linear.getInput()))
      return rewriter.notifyMatchFailure(linear, "the blocks end a block-"
                                                 "shuffle chain");
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

/// Reshape(blocks2(Reshape(grid(blocks1(Reshape(x)))))) [+ b], each
/// stage an Einsum or a transposed batched MatMul by a constant stack, the
/// grid transpose between, nothing else -> linear(x, B1, B2) [+ b]
/// structure(#tvc.block_shuffle<blocks = k, out_blocks = l>). Rooted at
/// the merging Reshape; a 1-D bias Add reading it alone is taken in.
struct RaiseBlockShuffle : OpRewritePattern<tvc_onnx::NodeOp> {
  RaiseBlockShuffle(MLIRContext *context, OutInWeights &weights)
      : OpRewritePattern(context), weights(weights) {}

  LogicalResult matchAndRewrite(tvc_onnx::NodeOp node,
                                PatternRewriter &rewriter) const override {
    if (node.getOpType() != "Reshape" || !node.getDomain().empty() ||
        node.getNumResults() != 1)
      return rewriter.notifyMatchFailure(node, "not a Reshape");
    Value merged = node.getResult(0);
    std::optional<ShuffleChain> chain = matchShuffleChain(merged);
    if (!chain)
      return rewriter.notifyMatchFailure(node, "not the end of a block-"
                                               "shuffle chain");
    if (!weights.isBlockStack(chain->first, chain->firstLayout) ||
        !weights.isBlockStack(chain->second, chain->secondLayout))
      return rewriter.notifyMatchFailure(node, "blocks are not constant "
                                               "stacks");
    // A bias: the merged value's one reader an Add of a 1-D [out] tensor.
    Operation *root = node;
    Value bias;
    Operation *reader =
        merged.hasOneUse() ? *merged.getUsers().begin() : nullptr;
    if (reader && reader->getNumResults() == 1) {
      Value sum = reader->getResult(0);
      for (auto [value, candidate] : getOperandOrders(sum, "Add")) {
        auto type = dyn_cast<RankedTensorType>(candidate.getType());
        if (value != merged || sum.getType() != merged.getType() || !type ||
            type.getRank() != 1 || type.getDimSize(0) != lastDim(merged) ||
            type.getElementType() != getElementTypeOrSelf(merged))
          continue;
        root = sum.getDefiningOp();
        bias = candidate;
        break;
      }
    }
    rewriter.setInsertionPoint(root);
    Value first = weights.getBlocks(chain->first, chain->firstLayout, rewriter);
    Value second =
        weights.getBlocks(chain->second, chain->secondLayout, rewriter);
    rewriter.replaceOpWithNewOp<LinearOp>(
        root, root->getResult(0).getType(), chain->input,
        ValueRange{first, second}, bias,
        BlockShuffleStructureAttr::get(rewriter.getContext(), chain->k,
                                       chain->l));
    if (root != node.getOperation())
      rewriter.eraseOp(node);
    for (Operation *op : llvm::drop_begin(chain->nodes))
      rewriter.eraseOp(op);
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
  patterns.add<RaiseLowRank, RaiseLora, RaiseBlockDense, RaiseBlockShuffle>(
      patterns.getContext(), weights);
}
