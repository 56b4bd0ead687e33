//===- Attention.cpp - Scaled dot-product attention from ONNX graphs ------===//
//
// Raises the multi-head attention exporters write out op by op:
//
//   q4 = Transpose[0,2,1,3](Reshape(q, [B, T, H, Dh]))      (same for v4)
//   kT = Transpose[0,2,3,1](Reshape(k, ...)) or Transpose[0,1,3,2](k4)
//   s  = MatMul(q4, kT), scaled by Mul(c) or Div(c)
//   s  = Where(mask == 0, -inf, s) | Add(s, additive mask) | s
//   y  = Reshape(Transpose[0,2,1,3](MatMul(Softmax(s, -1), v4)), [B, T, W])
//
// into one tvc.attention on the packed q, k, v, rooted at the final Reshape.
// The mask is never guessed: it is read from the graph (a constant buffer
// sliced from its origin, or Trilu of -inf) and classified as full, causal
// or a sliding window by its values; anything else leaves the nodes alone.
// Rotary embeddings written as x * cos + rotate_half(x) * sin (cos/sin rows
// gathered from tables by position; theta and a linear scaling factor are
// read back from the tables and verified entry by entry) become tvc.rope
// on the packed q and k, and HF's repeat_kv (Unsqueeze/Expand/Reshape)
// becomes the GQA head ratio.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// An integer constant tensor's values (arith.constant or Constant node).
static std::optional<SmallVector<int64_t>> getIntValues(Value value) {
  DenseElementsAttr elements;
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    elements = dyn_cast<DenseElementsAttr>(constant.getValue());
  else if (tvc_onnx::NodeOp node = getDefiningNode(value, "Constant"))
    elements =
        dyn_cast_or_null<DenseElementsAttr>(node.getAttrs().get("value"));
  if (!elements || !elements.getElementType().isInteger())
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &element : elements.getValues<APInt>())
    values.push_back(element.getSExtValue());
  return values;
}

/// The values of a constant float/int/bool tensor as doubles with its shape:
/// arith.constant, a Constant node, or a tvc.weight (inline or external,
/// read through the weight store).
static std::optional<std::pair<SmallVector<double>, SmallVector<int64_t>>>
getTensorValues(Value value, WeightStore &store) {
  while (tvc_onnx::NodeOp identity = getDefiningNode(value, "Identity"))
    value = identity.getInputs()[0];
  Attribute attr;
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = constant.getValue();
  else if (tvc_onnx::NodeOp node = getDefiningNode(value, "Constant"))
    attr = node.getAttrs().get("value");
  SmallVector<double> values;
  if (auto elements = dyn_cast_or_null<DenseElementsAttr>(attr)) {
    Type element = elements.getElementType();
    if (isa<FloatType>(element))
      for (const APFloat &v : elements.getValues<APFloat>())
        values.push_back(v.convertToDouble());
    else if (element.isInteger(1))
      for (bool v : elements.getValues<bool>())
        values.push_back(v ? 1.0 : 0.0);
    else
      for (const APInt &v : elements.getValues<APInt>())
        values.push_back(double(v.getSExtValue()));
    return std::make_pair(values,
                          SmallVector<int64_t>(elements.getType().getShape()));
  }
  auto weight = value.getDefiningOp<WeightOp>();
  if (!weight || !weight.getType().getElementType().isF32())
    return std::nullopt;
  auto global = SymbolTable::lookupNearestSymbolFrom<GlobalOp>(
      weight, weight.getNameAttr());
  if (!global)
    return std::nullopt;
  llvm::Expected<WeightView> view = store.read(global);
  if (!view) {
    llvm::consumeError(view.takeError());
    return std::nullopt;
  }
  for (size_t i = 0; i + 4 <= view->bytes.size(); i += 4) {
    float element;
    std::memcpy(&element, view->bytes.data() + i, 4);
    values.push_back(element);
  }
  return std::make_pair(
      values, SmallVector<int64_t>(view->shape.begin(), view->shape.end()));
}

//===----------------------------------------------------------------------===//
// Head split and merge
//===----------------------------------------------------------------------===//

/// True when `node` is a Transpose with exactly `perm`.
static bool isTranspose(tvc_onnx::NodeOp node, ArrayRef<int64_t> perm) {
  if (!node || node.getOpType() != "Transpose" || node.getInputs().size() != 1)
    return false;
  auto attr = dyn_cast_or_null<ArrayAttr>(node.getAttrs().get("perm"));
  if (!attr || attr.size() != perm.size())
    return false;
  for (auto [element, expected] : llvm::zip(attr, perm))
    if (cast<IntegerAttr>(element).getInt() != expected)
      return false;
  return true;
}

/// A packed [B, T, H * Dh] tensor and its head count.
struct Heads {
  Value packed;
  int64_t heads;
};

/// `Reshape(x, [B, T, H, Dh])` with H a constant: the shape is a constant
/// or a Concat whose third piece is a constant.
static std::optional<Heads> matchReshapeToHeads(Value value) {
  tvc_onnx::NodeOp reshape = getDefiningNode(value, "Reshape");
  if (!reshape || reshape.getInputs().size() != 2)
    return std::nullopt;
  Value packed = reshape.getInputs()[0];
  auto type = dyn_cast<RankedTensorType>(packed.getType());
  if (!type || type.getRank() != 3 || !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  Value shape = reshape.getInputs()[1];
  std::optional<int64_t> heads;
  if (auto values = getIntValues(shape); values && values->size() == 4)
    heads = (*values)[2];
  else if (tvc_onnx::NodeOp concat = getDefiningNode(shape, "Concat");
           concat && concat.getInputs().size() == 4)
    if (auto piece = getIntValues(concat.getInputs()[2]);
        piece && piece->size() == 1)
      heads = piece->front();
  if (!heads || *heads <= 0)
    return std::nullopt;
  int64_t width = type.getShape().back();
  if (!ShapedType::isDynamic(width) && width % *heads != 0)
    return std::nullopt;
  return Heads{packed, *heads};
}

/// `Transpose[0,2,1,3](Reshape(x, [B, T, H, Dh]))`: [B, H, T, Dh].
static std::optional<Heads> matchHeadSplit(Value value) {
  auto transpose = value.getDefiningOp<tvc_onnx::NodeOp>();
  if (!isTranspose(transpose, {0, 2, 1, 3}))
    return std::nullopt;
  return matchReshapeToHeads(transpose.getInputs()[0]);
}

//===----------------------------------------------------------------------===//
// Rotary embeddings and repeated KV heads
//===----------------------------------------------------------------------===//

/// Follows Unsqueeze nodes back to their input.
static Value stripUnsqueezes(Value value) {
  while (tvc_onnx::NodeOp node = getDefiningNode(value, "Unsqueeze"))
    value = node.getInputs()[0];
  return value;
}

/// Follows no-op Casts back to their input.
static Value stripCasts(Value value) {
  while (tvc_onnx::NodeOp node = getDefiningNode(value, "Cast"))
    value = node.getInputs()[0];
  return value;
}

/// (table, ids) of a row gather: a Gather on axis 0 or a raised embedding.
static std::optional<std::pair<Value, Value>> matchRowGather(Value value) {
  if (auto embedding = value.getDefiningOp<EmbeddingOp>())
    return std::make_pair(Value(embedding.getTable()),
                          Value(embedding.getIds()));
  tvc_onnx::NodeOp gather = getDefiningNode(value, "Gather");
  if (!gather || gather.getInputs().size() != 2 ||
      getIntAttr(gather, "axis", 0) != 0)
    return std::nullopt;
  return std::make_pair(gather.getInputs()[0], gather.getInputs()[1]);
}

/// True when `value` is `Shape(of)[3] / 2` (through Casts and Unsqueezes),
/// the split point of rotate_half on a [B, H, T, Dh] tensor.
static bool isHalfOfHeadWidth(Value value, Value of) {
  tvc_onnx::NodeOp div =
      getDefiningNode(stripCasts(stripUnsqueezes(value)), "Div");
  if (!div || div.getInputs().size() != 2)
    return false;
  auto two = getIntValues(div.getInputs()[1]);
  tvc_onnx::NodeOp gather = getDefiningNode(div.getInputs()[0], "Gather");
  if (!two || two->size() != 1 || two->front() != 2 || !gather)
    return false;
  auto index = getIntValues(gather.getInputs()[1]);
  tvc_onnx::NodeOp shape = getDefiningNode(gather.getInputs()[0], "Shape");
  return index && index->size() == 1 &&
         (index->front() == 3 || index->front() == -1) && shape &&
         shape.getInputs()[0] == of;
}

/// True when a Slice node cuts only the last axis of a rank-4 value.
static bool slicesLastAxis(tvc_onnx::NodeOp slice) {
  if (slice.getInputs().size() < 4)
    return false;
  auto axes = getIntValues(slice.getInputs()[3]);
  return axes && axes->size() == 1 &&
         (axes->front() == 3 || axes->front() == -1);
}

/// The x of rotate_half(x) = Concat(-x[..., half:], x[..., :half], -1).
static Value matchRotateHalf(Value value) {
  tvc_onnx::NodeOp concat = getDefiningNode(value, "Concat");
  if (!concat || concat.getInputs().size() != 2 ||
      (getIntAttr(concat, "axis", 0) != -1 &&
       getIntAttr(concat, "axis", 0) != 3))
    return {};
  tvc_onnx::NodeOp neg = getDefiningNode(concat.getInputs()[0], "Neg");
  if (!neg)
    return {};
  tvc_onnx::NodeOp upper = getDefiningNode(neg.getInputs()[0], "Slice");
  tvc_onnx::NodeOp lower = getDefiningNode(concat.getInputs()[1], "Slice");
  if (!upper || !lower || !slicesLastAxis(upper) || !slicesLastAxis(lower))
    return {};
  Value x = lower.getInputs()[0];
  auto lowerStart = getIntValues(lower.getInputs()[1]);
  auto upperEnd = getIntValues(upper.getInputs()[2]);
  if (upper.getInputs()[0] != x || !lowerStart || lowerStart->size() != 1 ||
      lowerStart->front() != 0 || !upperEnd || upperEnd->size() != 1 ||
      upperEnd->front() < (int64_t(1) << 31) ||
      !isHalfOfHeadWidth(lower.getInputs()[2], x) ||
      !isHalfOfHeadWidth(upper.getInputs()[1], x))
    return {};
  return x;
}

/// A rotary embedding x * cos + rotate_half(x) * sin with cos/sin rows
/// gathered from tables by position.
struct Rotary {
  Value base;
  Value cosTable;
  Value sinTable;
  Value positions;
};

static std::optional<Rotary> matchRotary(Value value) {
  for (auto [cosTerm, sinTerm] : getOperandOrders(value, "Add"))
    for (auto [x, cos] : getOperandOrders(cosTerm, "Mul"))
      for (auto [rotated, sin] : getOperandOrders(sinTerm, "Mul")) {
        if (matchRotateHalf(rotated) != x)
          continue;
        auto cosRows = matchRowGather(stripUnsqueezes(cos));
        auto sinRows = matchRowGather(stripUnsqueezes(sin));
        if (!cosRows || !sinRows || cosRows->second != sinRows->second)
          continue;
        return Rotary{x, cosRows->first, sinRows->first, cosRows->second};
      }
  return std::nullopt;
}

/// RoPE parameters read back from cos/sin tables: row p holds
/// cos(p * f_i), f_i = theta^(-2i/Dh) / factor, i < Dh/2, repeated twice.
struct RopeParameters {
  double theta;
  double factor;
};

/// `halfTables`: the tables hold the Dh/2 distinct frequencies once (ONNX
/// Runtime's cos_cache) instead of twice (Hugging Face's cos_cached).
static std::optional<RopeParameters>
inferRopeParameters(Value cosTable, Value sinTable, int64_t headDim,
                    WeightStore &store, bool halfTables = false) {
  auto cos = getTensorValues(cosTable, store);
  auto sin = getTensorValues(sinTable, store);
  int64_t width = halfTables ? headDim / 2 : headDim;
  if (!cos || !sin || cos->second.size() != 2 || cos->second != sin->second ||
      cos->second[1] != width || headDim < 4 || headDim % 2 != 0 ||
      cos->second[0] < 2)
    return std::nullopt;
  int64_t rows = cos->second[0], half = headDim / 2;
  auto at = [&](const SmallVector<double> &table, int64_t p, int64_t i) {
    return table[p * width + i];
  };
  // Row 1 holds the frequencies themselves (all below pi).
  double f0 = std::atan2(at(sin->first, 1, 0), at(cos->first, 1, 0));
  double f1 = std::atan2(at(sin->first, 1, 1), at(cos->first, 1, 1));
  if (!(f0 > 0.0) || !(f1 > 0.0))
    return std::nullopt;
  double factor = 1.0 / f0;
  double theta = std::pow(f1 * factor, -double(headDim) / 2.0);
  // Snap to the round numbers configs use.
  if (std::abs(theta - std::round(theta)) < 1e-3 * theta)
    theta = std::round(theta);
  if (std::abs(factor - std::round(factor * 1e4) / 1e4) < 1e-6)
    factor = std::round(factor * 1e4) / 1e4;
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t i = 0; i < width; ++i) {
      double f =
          std::pow(theta, -2.0 * double(i % half) / double(headDim)) / factor;
      if (std::abs(at(cos->first, p, i) - std::cos(p * f)) > 1e-4 ||
          std::abs(at(sin->first, p, i) - std::sin(p * f)) > 1e-4)
        return std::nullopt;
    }
  return RopeParameters{theta, factor};
}

/// Follows HF's repeat_kv, Reshape(Expand(Unsqueeze(x, [2]))), back to x:
/// query head h reads KV head h / (H / Hkv), tvc's GQA convention.
static Value stripRepeatedHeads(Value value) {
  tvc_onnx::NodeOp reshape = getDefiningNode(value, "Reshape");
  tvc_onnx::NodeOp expand =
      reshape ? getDefiningNode(reshape.getInputs()[0], "Expand")
              : tvc_onnx::NodeOp();
  tvc_onnx::NodeOp unsqueeze =
      expand ? getDefiningNode(expand.getInputs()[0], "Unsqueeze")
             : tvc_onnx::NodeOp();
  if (!unsqueeze || unsqueeze.getInputs().size() != 2)
    return value;
  auto axes = getIntValues(unsqueeze.getInputs()[1]);
  if (!axes || axes->size() != 1 || axes->front() != 2)
    return value;
  return unsqueeze.getInputs()[0];
}

/// A head-split operand of the scores or the weighted sum, possibly rotary
/// embedded and (for keys and values) repeated for GQA.
struct HeadSource {
  Heads heads;
  std::optional<Rotary> rotary;
};

static std::optional<HeadSource> matchHeadSource(Value value,
                                                 bool allowRepeat) {
  if (allowRepeat)
    value = stripRepeatedHeads(value);
  if (std::optional<Rotary> rotary = matchRotary(value)) {
    std::optional<Heads> heads = matchHeadSplit(rotary->base);
    if (!heads)
      return std::nullopt;
    return HeadSource{*heads, rotary};
  }
  std::optional<Heads> heads = matchHeadSplit(value);
  if (!heads)
    return std::nullopt;
  return HeadSource{*heads, std::nullopt};
}

/// Keys transposed for the scores, [B, H, Dh, T]: one Transpose[0,2,3,1] of
/// the reshape, or Transpose[0,1,3,2] of a (rotary, repeated) head split.
static std::optional<HeadSource> matchTransposedKeys(Value value) {
  auto transpose = value.getDefiningOp<tvc_onnx::NodeOp>();
  if (isTranspose(transpose, {0, 2, 3, 1}))
    if (std::optional<Heads> heads =
            matchReshapeToHeads(transpose.getInputs()[0]))
      return HeadSource{*heads, std::nullopt};
  if (isTranspose(transpose, {0, 1, 3, 2}))
    return matchHeadSource(transpose.getInputs()[0], /*allowRepeat=*/true);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

/// Classifies an N x N "allowed" matrix (row = query, column = key) as full,
/// causal or a sliding window; nullptr for anything else.
static MaskAttrInterface classifyAllowed(MLIRContext *context,
                                         ArrayRef<bool> allowed, int64_t n) {
  auto matches = [&](auto predicate) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (allowed[i * n + j] != predicate(i, j))
          return false;
    return true;
  };
  if (matches([](int64_t, int64_t) { return true; }))
    return FullMaskAttr::get(context);
  if (matches([](int64_t i, int64_t j) { return j <= i; }))
    return CausalMaskAttr::get(context);
  // A band of width w below the diagonal: i - w < j <= i.
  int64_t window = 0;
  while (window < n && allowed[window * n + 0])
    ++window;
  if (window > 0 && window < n &&
      matches([&](int64_t i, int64_t j) { return j <= i && i - j < window; }))
    return SlidingWindowMaskAttr::get(context, window);
  return {};
}

/// Follows Slice nodes that cut the last two axes from offset 0 with step 1
/// (`buffer[:, :, :T, :T]`) back to the buffer.
static Value stripOriginSlices(Value value) {
  while (tvc_onnx::NodeOp slice = getDefiningNode(value, "Slice")) {
    ValueRange inputs = slice.getInputs();
    if (inputs.size() < 3)
      return {};
    auto starts = getIntValues(inputs[1]);
    if (!starts || !llvm::all_of(*starts, [](int64_t s) { return s == 0; }))
      return {};
    if (inputs.size() >= 4 && !isa<NoneType>(inputs[3].getType())) {
      auto axes = getIntValues(inputs[3]);
      if (!axes || !llvm::all_of(*axes, [](int64_t a) {
            return a == 2 || a == 3 || a == -1 || a == -2;
          }))
        return {};
    }
    if (inputs.size() >= 5 && !isa<NoneType>(inputs[4].getType())) {
      auto steps = getIntValues(inputs[4]);
      if (!steps || !llvm::all_of(*steps, [](int64_t s) { return s == 1; }))
        return {};
    }
    value = inputs[0];
  }
  return value;
}

/// A constant square matrix behind origin slices, as "allowed" flags from
/// `isAllowed(value)`; nullptr when not a [1.., N, N] constant.
static MaskAttrInterface
classifyBuffer(Value value, WeightStore &store,
               llvm::function_ref<bool(double)> isAllowed) {
  Value buffer = stripOriginSlices(value);
  if (!buffer)
    return {};
  auto contents = getTensorValues(buffer, store);
  if (!contents)
    return {};
  ArrayRef<int64_t> shape = contents->second;
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2] ||
      !llvm::all_of(shape.drop_back(2), [](int64_t d) { return d == 1; }))
    return {};
  int64_t n = shape.back();
  SmallVector<bool> allowed;
  for (double element : contents->first)
    allowed.push_back(isAllowed(element));
  if (static_cast<int64_t>(allowed.size()) != n * n)
    return {};
  return classifyAllowed(value.getContext(), allowed, n);
}

/// The mask of `Where(cond, -inf, scores)` (masked where cond holds) or
/// `Where(cond, scores, -inf)` (allowed where cond holds).
static MaskAttrInterface classifyWhereCondition(Value cond, bool condMasks,
                                                WeightStore &store) {
  // Casts to bool are no-ops on a bool condition.
  while (tvc_onnx::NodeOp cast = getDefiningNode(cond, "Cast"))
    cond = cast.getInputs()[0];
  // cond = Equal(buffer, 0): true where the buffer is 0.
  if (tvc_onnx::NodeOp equal = getDefiningNode(cond, "Equal");
      equal && equal.getInputs().size() == 2) {
    for (auto [buffer, zero] :
         {std::make_pair(equal.getInputs()[0], equal.getInputs()[1]),
          std::make_pair(equal.getInputs()[1], equal.getInputs()[0])}) {
      if (!isConstant(zero, 0.0) && getScalarConstant(zero) != 0.0)
        continue;
      // cond true (buffer == 0) masks when condMasks.
      if (MaskAttrInterface mask =
              classifyBuffer(buffer, store, [&](double element) {
                return condMasks ? element != 0.0 : element == 0.0;
              }))
        return mask;
    }
    return {};
  }
  return classifyBuffer(cond, store, [&](double element) {
    return condMasks ? element == 0.0 : element != 0.0;
  });
}

/// An additive mask: Trilu(-inf filled, k = 1, upper) is causal; a constant
/// buffer of 0 / -inf is classified by its values. "-inf" includes huge
/// negative numbers (torch.finfo(float32).min).
static MaskAttrInterface classifyAdditiveMask(Value value, WeightStore &store) {
  if (tvc_onnx::NodeOp trilu = getDefiningNode(value, "Trilu")) {
    ValueRange inputs = trilu.getInputs();
    std::optional<SmallVector<int64_t>> k;
    if (inputs.size() >= 2)
      k = getIntValues(inputs[1]);
    tvc_onnx::NodeOp fill = inputs.empty()
                                ? tvc_onnx::NodeOp()
                                : getDefiningNode(inputs[0], "ConstantOfShape");
    auto fillValue =
        fill ? dyn_cast_or_null<DenseElementsAttr>(fill.getAttrs().get("value"))
             : DenseElementsAttr();
    bool fillsMinusInf =
        fillValue && fillValue.getNumElements() == 1 &&
        isa<FloatType>(fillValue.getElementType()) &&
        (*fillValue.getValues<APFloat>().begin()).convertToDouble() <= -1e30;
    if (getIntAttr(trilu, "upper", 1) == 1 && k && k->size() == 1 &&
        k->front() == 1 && fillsMinusInf)
      return CausalMaskAttr::get(value.getContext());
    return {};
  }
  return classifyBuffer(value, store,
                        [](double element) { return element == 0.0; });
}

//===----------------------------------------------------------------------===//
// The pattern
//===----------------------------------------------------------------------===//

/// True when `value` is a scalar constant that masks a score: -inf, or a
/// huge negative number such as torch.finfo(float32).min (Hugging Face).
static bool isMinusInfinity(Value value) {
  std::optional<double> constant = getScalarConstant(value);
  return constant && *constant <= -1e30;
}

/// Raises attention at the Reshape that merges the heads back.
static LogicalResult convertAttention(tvc_onnx::NodeOp root,
                                      PatternRewriter &rewriter,
                                      WeightStore &store) {
  if (root.getInputs().size() != 2)
    return failure();
  auto resultType = dyn_cast<RankedTensorType>(root.getResult(0).getType());
  if (!resultType || resultType.getRank() != 3)
    return rewriter.notifyMatchFailure(root, "result is not [B, T, W]");
  // (A ranked [B, T, W] result; its sizes may be unknown.)
  auto merge = root.getInputs()[0].getDefiningOp<tvc_onnx::NodeOp>();
  if (!isTranspose(merge, {0, 2, 1, 3}))
    return rewriter.notifyMatchFailure(root, "not a head merge");
  tvc_onnx::NodeOp weighted = getDefiningNode(merge.getInputs()[0], "MatMul");
  if (!weighted || weighted.getInputs().size() != 2)
    return rewriter.notifyMatchFailure(root, "no probabilities x values");
  Value probabilities = weighted.getInputs()[0];
  // Exporters may add no-op Casts after the softmax.
  while (tvc_onnx::NodeOp cast = getDefiningNode(probabilities, "Cast"))
    probabilities = cast.getInputs()[0];
  tvc_onnx::NodeOp softmax = getDefiningNode(probabilities, "Softmax");
  if (!softmax || (getIntAttr(softmax, "axis", -1) != -1 &&
                   getIntAttr(softmax, "axis", -1) != 3))
    return rewriter.notifyMatchFailure(root, "no softmax over the keys");
  std::optional<HeadSource> valueSource =
      matchHeadSource(weighted.getInputs()[1], /*allowRepeat=*/true);
  if (!valueSource || valueSource->rotary)
    return rewriter.notifyMatchFailure(root, "values are not a head split");
  Heads *values = &valueSource->heads;

  // Mask.
  MLIRContext *context = rewriter.getContext();
  Value scores = softmax.getInputs()[0];
  MaskAttrInterface mask = FullMaskAttr::get(context);
  if (tvc_onnx::NodeOp where = getDefiningNode(scores, "Where");
      where && where.getInputs().size() == 3) {
    ValueRange in = where.getInputs();
    if (isMinusInfinity(in[1])) {
      mask = classifyWhereCondition(in[0], /*condMasks=*/true, store);
      scores = in[2];
    } else if (isMinusInfinity(in[2])) {
      mask = classifyWhereCondition(in[0], /*condMasks=*/false, store);
      scores = in[1];
    } else {
      mask = {};
    }
  } else if (tvc_onnx::NodeOp add = getDefiningNode(scores, "Add");
             add && add.getInputs().size() == 2) {
    mask = {};
    for (auto [candidate, additive] : getOperandOrders(scores, "Add"))
      if (getDefiningNode(candidate, "MatMul") ||
          getDefiningNode(candidate, "Mul") ||
          getDefiningNode(candidate, "Div"))
        if ((mask = classifyAdditiveMask(additive, store))) {
          scores = candidate;
          break;
        }
  }
  if (!mask)
    return rewriter.notifyMatchFailure(root, "mask not recognised");

  // Scale.
  std::optional<double> scale;
  if (tvc_onnx::NodeOp div = getDefiningNode(scores, "Div")) {
    std::optional<double> divisor = getScalarConstant(div.getInputs()[1]);
    if (!divisor || *divisor == 0.0)
      return rewriter.notifyMatchFailure(root, "non-constant score divisor");
    scale = 1.0 / *divisor;
    scores = div.getInputs()[0];
  } else {
    for (auto [product, factor] : getOperandOrders(scores, "Mul"))
      if (std::optional<double> c = getScalarConstant(factor)) {
        scale = *c;
        scores = product;
        break;
      }
  }
  tvc_onnx::NodeOp qk = getDefiningNode(scores, "MatMul");
  if (!qk || qk.getInputs().size() != 2)
    return rewriter.notifyMatchFailure(root, "no q x kT");
  std::optional<HeadSource> querySource =
      matchHeadSource(qk.getInputs()[0], /*allowRepeat=*/false);
  std::optional<HeadSource> keySource = matchTransposedKeys(qk.getInputs()[1]);
  if (!querySource || !keySource)
    return rewriter.notifyMatchFailure(root, "q or k is not a head split");
  Heads *queries = &querySource->heads, *keys = &keySource->heads;
  // Rotary embeddings: on both q and k from the same tables and positions,
  // or on neither.
  std::optional<Rotary> rotary = querySource->rotary;
  if (rotary.has_value() != keySource->rotary.has_value() ||
      (rotary && (rotary->cosTable != keySource->rotary->cosTable ||
                  rotary->sinTable != keySource->rotary->sinTable ||
                  rotary->positions != keySource->rotary->positions)))
    return rewriter.notifyMatchFailure(root, "q and k rotated differently");
  if (keys->heads != values->heads || queries->heads % keys->heads != 0)
    return rewriter.notifyMatchFailure(root, "inconsistent head counts");

  // The op's default scale is 1/sqrt(Dh); keep an explicit one otherwise.
  FloatAttr scaleAttr;
  int64_t queryWidth =
      cast<RankedTensorType>(queries->packed.getType()).getShape().back();
  double defaultScale =
      ShapedType::isDynamic(queryWidth)
          ? 0.0
          : 1.0 / std::sqrt(double(queryWidth / queries->heads));
  double actual = scale.value_or(1.0);
  if (std::abs(actual - defaultScale) > 1e-6 * defaultScale)
    scaleAttr = rewriter.getF64FloatAttr(actual);

  // The result may be typed less precisely than the op infers (ONNX could
  // not see through the exporter's shape arithmetic), never differently.
  auto queryType = cast<RankedTensorType>(queries->packed.getType());
  auto valueType = cast<RankedTensorType>(values->packed.getType());
  int64_t outWidth =
      ShapedType::isDynamic(valueType.getShape().back())
          ? ShapedType::kDynamic
          : valueType.getShape().back() / keys->heads * queries->heads;
  auto expected = RankedTensorType::get(
      {queryType.getDimSize(0), queryType.getDimSize(1), outWidth},
      queryType.getElementType());
  if (failed(verifyCompatibleShape(resultType, expected)) ||
      resultType.getElementType() != expected.getElementType())
    return rewriter.notifyMatchFailure(root, "result type differs");

  Value query = queries->packed, key = keys->packed;
  if (rotary) {
    int64_t headDim = ShapedType::isDynamic(queryWidth)
                          ? ShapedType::kDynamic
                          : queryWidth / queries->heads;
    auto positions = dyn_cast<RankedTensorType>(rotary->positions.getType());
    std::optional<RopeParameters> rope =
        ShapedType::isDynamic(headDim)
            ? std::nullopt
            : inferRopeParameters(rotary->cosTable, rotary->sinTable, headDim,
                                  store);
    if (!rope || !positions || positions.getRank() != 1 ||
        queryType.getDimSize(0) != 1)
      return rewriter.notifyMatchFailure(root, "rotary tables not recognised");
    // tvc.rope takes [B, T] positions: unsqueeze the [T] ids (batch 1).
    Location loc = root.getLoc();
    Value axes = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({1}, rewriter.getI64Type()),
            ArrayRef<int64_t>{0}));
    auto positions2d = tvc_onnx::NodeOp::create(
        rewriter, loc,
        TypeRange{RankedTensorType::get({1, positions.getDimSize(0)},
                                        positions.getElementType())},
        rewriter.getStringAttr("Unsqueeze"), rewriter.getStringAttr(""),
        rewriter.getI64IntegerAttr(std::max<int64_t>(root.getVersion(), 13)),
        rewriter.getStringAttr(""), rewriter.getDictionaryAttr({}),
        ValueRange{rotary->positions, axes});
    RopeScalingAttr scaling =
        rope->factor == 1.0
            ? RopeScalingAttr::getNone(context)
            : RopeScalingAttr::get(context, RopeScalingKind::Linear,
                                   rope->factor);
    auto ropeOf = [&](Value packed, int64_t heads) -> Value {
      return RopeOp::create(rewriter, loc, packed, positions2d.getResult(0),
                            rewriter.getI64IntegerAttr(heads),
                            rewriter.getF64FloatAttr(rope->theta),
                            IntegerAttr(), UnitAttr(), scaling);
    };
    query = ropeOf(query, queries->heads);
    key = ropeOf(key, keys->heads);
  }

  auto attention = AttentionOp::create(
      rewriter, root.getLoc(), query, key, values->packed, /*kv_len=*/Value(),
      /*state=*/Value(), rewriter.getI64IntegerAttr(queries->heads),
      rewriter.getI64IntegerAttr(keys->heads), mask, scaleAttr);
  replaceNode(root, rewriter, attention.getResult());
  return success();
}

/// The standard Attention op (opset 23) on packed [B, T, H * Dh] inputs,
/// without an explicit mask, past KV, softcap or extra outputs.
static LogicalResult convertAttentionOp(tvc_onnx::NodeOp node,
                                        PatternRewriter &rewriter) {
  ValueRange in = node.getInputs();
  if (in.size() < 3)
    return rewriter.notifyMatchFailure(node, "expects Q, K, V");
  for (Value extra : in.drop_front(3))
    if (!isa<NoneType>(extra.getType()))
      return rewriter.notifyMatchFailure(node, "explicit mask or past KV");
  for (Value output : node.getResults().drop_front())
    if (!output.use_empty())
      return rewriter.notifyMatchFailure(node, "present KV or scores used");
  if (getFloatAttr(node, "softcap", 0.0) != 0.0 ||
      getIntAttr(node, "qk_matmul_output_mode", 0) != 0)
    return rewriter.notifyMatchFailure(node, "softcap or score output");
  int64_t heads = getIntAttr(node, "q_num_heads", 0);
  int64_t kvHeads = getIntAttr(node, "kv_num_heads", 0);
  auto query = dyn_cast<RankedTensorType>(in[0].getType());
  auto key = dyn_cast<RankedTensorType>(in[1].getType());
  if (heads <= 0 || kvHeads <= 0 || !query || !key || query.getRank() != 3 ||
      key.getRank() != 3 || !isRankedFloat(in[2]))
    return rewriter.notifyMatchFailure(node,
                                       "needs 3-D inputs and head counts");
  MLIRContext *context = rewriter.getContext();
  MaskAttrInterface mask = FullMaskAttr::get(context);
  if (getIntAttr(node, "is_causal", 0)) {
    // ONNX aligns the causal mask to the top-left, tvc to the bottom-right:
    // they agree only when queries and keys have one length.
    int64_t numQueries = query.getDimSize(1), numKeys = key.getDimSize(1);
    if (ShapedType::isDynamic(numQueries) || numQueries != numKeys)
      return rewriter.notifyMatchFailure(node, "causal with unequal lengths");
    mask = CausalMaskAttr::get(context);
  }
  FloatAttr scale;
  if (auto attr = dyn_cast_or_null<FloatAttr>(node.getAttrs().get("scale")))
    scale = rewriter.getF64FloatAttr(attr.getValueAsDouble());
  auto attention = AttentionOp::create(
      rewriter, node.getLoc(), in[0], in[1], in[2], /*kv_len=*/Value(),
      /*state=*/Value(), rewriter.getI64IntegerAttr(heads),
      rewriter.getI64IntegerAttr(kvHeads), mask, scale);
  Type resultType = node.getResult(0).getType();
  if (resultType != attention.getResult().getType() &&
      resultType != UnrankedTensorType::get(query.getElementType())) {
    rewriter.eraseOp(attention);
    return rewriter.notifyMatchFailure(node, "result type differs");
  }
  replaceNode(node, rewriter, attention.getResult());
  return success();
}

/// com.microsoft RotaryEmbedding on a packed [B, S, H * Dh] input with
/// [B, S] position ids and half-width cos/sin caches -> tvc.rope.
static LogicalResult convertRotaryEmbedding(tvc_onnx::NodeOp node,
                                            PatternRewriter &rewriter,
                                            WeightStore &store) {
  ValueRange in = node.getInputs();
  if (in.size() != 4 || node.getNumResults() != 1)
    return rewriter.notifyMatchFailure(node, "expects 4 inputs");
  auto input = dyn_cast<RankedTensorType>(in[0].getType());
  auto positions = dyn_cast<RankedTensorType>(in[1].getType());
  if (!input || input.getRank() != 3 || !isRankedFloat(in[0]) || !positions ||
      positions.getRank() != 2 || getIntAttr(node, "is_packed_batching", 0) ||
      getFloatAttr(node, "scale", 1.0) != 1.0 ||
      getIntAttr(node, "rotary_embedding_dim", 0) != 0)
    return rewriter.notifyMatchFailure(node, "unsupported form");
  auto cacheType = dyn_cast<RankedTensorType>(in[2].getType());
  int64_t width = input.getShape().back();
  if (!cacheType || cacheType.getRank() != 2 || ShapedType::isDynamic(width))
    return rewriter.notifyMatchFailure(node, "cache or width unknown");
  int64_t headDim = 2 * cacheType.getDimSize(1);
  int64_t heads = getIntAttr(node, "num_heads", 0);
  if (heads == 0 && headDim > 0 && width % headDim == 0)
    heads = width / headDim;
  if (heads <= 0 || width != heads * headDim)
    return rewriter.notifyMatchFailure(node, "head count unknown");
  std::optional<RopeParameters> rope =
      inferRopeParameters(in[2], in[3], headDim, store, /*halfTables=*/true);
  if (!rope)
    return rewriter.notifyMatchFailure(node, "caches not recognised");
  MLIRContext *context = rewriter.getContext();
  RopeScalingAttr scaling =
      rope->factor == 1.0 ? RopeScalingAttr::getNone(context)
                          : RopeScalingAttr::get(
                                context, RopeScalingKind::Linear, rope->factor);
  UnitAttr interleaved =
      getIntAttr(node, "interleaved", 0) ? rewriter.getUnitAttr() : UnitAttr();
  Value roped = RopeOp::create(rewriter, node.getLoc(), in[0], in[1],
                               rewriter.getI64IntegerAttr(heads),
                               rewriter.getF64FloatAttr(rope->theta),
                               IntegerAttr(), interleaved, scaling);
  Type resultType = node.getResult(0).getType();
  if (resultType != roped.getType() &&
      resultType != UnrankedTensorType::get(input.getElementType())) {
    rewriter.eraseOp(roped.getDefiningOp());
    return rewriter.notifyMatchFailure(node, "result type differs");
  }
  replaceNode(node, rewriter, roped);
  return success();
}

void mlir::tvc::registerOnnxAttentionHandlers(OnnxHandlerTable &table,
                                              WeightStore &store) {
  table.onOp(
      "RotaryEmbedding", 1,
      "packed input, [B, S] position ids, full rotary -> rope (theta read "
      "from the caches)",
      [&store](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
        return convertRotaryEmbedding(node, rewriter, store);
      },
      "com.microsoft");
  table.onOp("Attention", 23,
             "3-D Q/K/V, no explicit mask or past KV -> attention (causal "
             "only with equal static lengths)",
             convertAttentionOp);
  table.onOp(
      "Reshape", 5,
      "head merge of scaled dot-product attention (causal/window/full mask "
      "read from the graph) -> attention",
      [&store](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
        return convertAttention(node, rewriter, store);
      });
}
