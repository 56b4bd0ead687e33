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
// Keys and values concatenated after past ones (`torch.cat([past_k, k], -2)`,
// [B, H, P, Dh] past inputs) are packed and concatenated the same way; the
// queries are the last T of the P + T positions.
// The mask is never guessed: it is read from the graph (a constant
// expression folded here, a constant buffer sliced from its origin by
// run-time lengths, or Trilu of -inf) and classified as full, causal or a
// sliding window by its values at the queries' positions; anything else
// leaves the nodes alone.
// Rotary embeddings written as x * cos + rotate_half(x) * sin (cos/sin rows
// gathered from tables by position; theta and a linear scaling factor are
// read back from the tables and verified entry by entry) become tvc.rope
// on the packed q and k, and HF's repeat_kv (Unsqueeze/Expand/Reshape)
// becomes the GQA head ratio.
//
// The opset-23 Attention op and ONNX Runtime's GroupQueryAttention are
// raised node by node, their past KV concatenated by generic nodes.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// An integer constant tensor's values (arith.constant or Constant node).
static std::optional<SmallVector<int64_t>> getIntValues(Value value) {
  auto elements = dyn_cast_or_null<DenseElementsAttr>(getConstantAttr(value));
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
  SmallVector<double> values;
  if (auto elements =
          dyn_cast_or_null<DenseElementsAttr>(getConstantAttr(value))) {
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
/// the split point of rotate_half on a [B, H, T, Dh] tensor, or that number
/// as a constant (exporters fold it when Dh is static).
static bool isHalfOfHeadWidth(Value value, Value of) {
  auto type = dyn_cast<RankedTensorType>(of.getType());
  if (auto constant = getIntValues(value))
    return constant->size() == 1 && type && type.getRank() == 4 &&
           !type.isDynamicDim(3) && type.getDimSize(3) == 2 * constant->front();
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
/// embedded and (for keys and values) repeated for GQA and appended to a
/// cache of past ones.
struct HeadSource {
  Heads heads;
  std::optional<Rotary> rotary;
  /// [B, H, P, Dh] keys or values of earlier positions, concatenated before
  /// the new ones (`torch.cat([past, k], dim=-2)`); null when none.
  Value past = {};
};

static std::optional<HeadSource> matchHeadSource(Value value, bool allowRepeat,
                                                 bool allowPast = false) {
  if (allowRepeat)
    value = stripRepeatedHeads(value);
  Value past;
  if (tvc_onnx::NodeOp concat = getDefiningNode(value, "Concat");
      allowPast && concat && concat.getInputs().size() == 2 &&
      (getIntAttr(concat, "axis", 0) == 2 ||
       getIntAttr(concat, "axis", 0) == -2)) {
    past = concat.getInputs()[0];
    value = concat.getInputs()[1];
  }
  if (std::optional<Rotary> rotary = matchRotary(value)) {
    std::optional<Heads> heads = matchHeadSplit(rotary->base);
    if (!heads)
      return std::nullopt;
    return HeadSource{*heads, rotary, past};
  }
  std::optional<Heads> heads = matchHeadSplit(value);
  if (!heads)
    return std::nullopt;
  return HeadSource{*heads, std::nullopt, past};
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
    return matchHeadSource(transpose.getInputs()[0], /*allowRepeat=*/true,
                           /*allowPast=*/true);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Constant folding of mask expressions
//===----------------------------------------------------------------------===//

/// A small constant tensor: row-major values as doubles and its shape.
struct ConstTensor {
  SmallVector<double> values;
  SmallVector<int64_t> shape;
};

/// Masks are small; larger tensors are not folded.
static constexpr int64_t kMaxFoldedElements = int64_t(1) << 22;

/// The number of elements of `shape`, saturated just above
/// kMaxFoldedElements (sizes are non-negative).
static int64_t getNumElements(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape) {
    if (size == 0)
      return 0;
    count = count > kMaxFoldedElements / size ? kMaxFoldedElements + 1
                                              : count * size;
  }
  return count;
}

/// Numpy-style broadcasting of `operands` to one shape, combining the
/// elements at each index with `combine`.
static std::optional<ConstTensor>
broadcastElementwise(ArrayRef<ConstTensor> operands,
                     llvm::function_ref<double(ArrayRef<double>)> combine) {
  size_t rank = 0;
  for (const ConstTensor &operand : operands)
    rank = std::max(rank, operand.shape.size());
  SmallVector<int64_t> shape(rank, 1);
  for (const ConstTensor &operand : operands)
    for (size_t i = 0; i < operand.shape.size(); ++i) {
      int64_t &size = shape[rank - operand.shape.size() + i];
      int64_t other = operand.shape[i];
      if (size != other && size != 1 && other != 1)
        return std::nullopt;
      if (size == 1)
        size = other;
    }
  int64_t count = getNumElements(shape);
  if (count > kMaxFoldedElements)
    return std::nullopt;
  ConstTensor result{{}, shape};
  result.values.reserve(count);
  SmallVector<int64_t> index(rank, 0);
  SmallVector<double> elements(operands.size());
  for (int64_t flat = 0; flat < count; ++flat) {
    for (auto [o, operand] : llvm::enumerate(operands)) {
      int64_t offset = 0, skip = rank - operand.shape.size();
      for (size_t i = 0; i < operand.shape.size(); ++i)
        offset = offset * operand.shape[i] +
                 (operand.shape[i] == 1 ? 0 : index[skip + i]);
      elements[o] = operand.values[offset];
    }
    result.values.push_back(combine(elements));
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// The elements of `input` at the cross product of per-axis `indices`.
static ConstTensor gatherIndices(const ConstTensor &input,
                                 ArrayRef<SmallVector<int64_t>> indices) {
  ConstTensor result;
  for (const SmallVector<int64_t> &axis : indices)
    result.shape.push_back(axis.size());
  int64_t count = getNumElements(result.shape);
  size_t rank = input.shape.size();
  SmallVector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset = offset * input.shape[d] + indices[d][index[d]];
    result.values.push_back(input.values[offset]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < result.shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// Reads an integer parameter tensor (a constant or a folded expression).
using IntReader =
    llvm::function_ref<std::optional<SmallVector<int64_t>>(Value)>;

/// ONNX Slice (opset 10+: starts, ends, axes, steps as inputs) of a folded
/// tensor by parameters read with `readInts`.
static std::optional<ConstTensor>
sliceConstant(const ConstTensor &input, ValueRange params, IntReader readInts) {
  auto starts = readInts(params[0]);
  auto ends = readInts(params[1]);
  if (!starts || !ends || starts->size() != ends->size())
    return std::nullopt;
  int64_t rank = input.shape.size();
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  for (int64_t i = 0; i < static_cast<int64_t>(starts->size()); ++i)
    axes.push_back(i);
  if (params.size() >= 3 && !isa<NoneType>(params[2].getType())) {
    auto values = readInts(params[2]);
    if (!values || values->size() != starts->size())
      return std::nullopt;
    axes = *values;
  }
  if (params.size() >= 4 && !isa<NoneType>(params[3].getType())) {
    auto values = readInts(params[3]);
    if (!values || values->size() != starts->size())
      return std::nullopt;
    steps = *values;
  }
  SmallVector<SmallVector<int64_t>> indices;
  for (int64_t d = 0; d < rank; ++d) {
    indices.emplace_back();
    for (int64_t i = 0; i < input.shape[d]; ++i)
      indices.back().push_back(i);
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    int64_t step = steps[i];
    if (axis < 0 || axis >= rank || step == 0)
      return std::nullopt;
    int64_t size = input.shape[axis];
    // A step past the axis takes one element at most (and cannot overflow).
    step = std::clamp<int64_t>(step, -size - 1, size + 1);
    int64_t start = (*starts)[i], end = (*ends)[i];
    if (start < 0)
      start += size;
    if (end < 0)
      end += size;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, size);
      end = std::clamp<int64_t>(end, 0, size);
    } else {
      start = std::clamp<int64_t>(start, 0, size - 1);
      end = std::clamp<int64_t>(end, -1, size - 1);
    }
    indices[axis].clear();
    for (int64_t j = start; step > 0 ? j < end : j > end; j += step)
      indices[axis].push_back(j);
  }
  return gatherIndices(input, indices);
}

/// Integer values past this magnitude are clamped to it when read back from
/// a folded tensor (doubles are exact below 2^53; INT64_MAX slice ends stay
/// "to the end").
static constexpr double kMaxFoldedInt = 4611686018427387904.0; // 2^62

static std::optional<ConstTensor> foldConstant(Value value, WeightStore &store,
                                               unsigned depth = 0);

/// The values of an integer parameter: a constant read exactly, else a
/// folded expression whose values are all integers.
static std::optional<SmallVector<int64_t>>
foldIntValues(Value value, WeightStore &store, unsigned depth) {
  if (auto values = getIntValues(value))
    return values;
  std::optional<ConstTensor> folded = foldConstant(value, store, depth);
  if (!folded)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (double element : folded->values) {
    if (std::trunc(element) != element)
      return std::nullopt;
    values.push_back(
        int64_t(std::clamp(element, -kMaxFoldedInt, kMaxFoldedInt)));
  }
  return values;
}

/// ONNX Gather of folded tensors along `axis`; nullopt for an index out of
/// range.
static std::optional<ConstTensor> gatherConstant(const ConstTensor &data,
                                                 const ConstTensor &indices,
                                                 int64_t axis) {
  int64_t rank = data.shape.size();
  axis = axis < 0 ? axis + rank : axis;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  int64_t size = data.shape[axis], outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= data.shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= data.shape[d];
  ConstTensor result;
  result.shape.append(data.shape.begin(), data.shape.begin() + axis);
  result.shape.append(indices.shape.begin(), indices.shape.end());
  result.shape.append(data.shape.begin() + axis + 1, data.shape.end());
  if (getNumElements(result.shape) > kMaxFoldedElements)
    return std::nullopt;
  for (int64_t o = 0; o < outer; ++o)
    for (double element : indices.values) {
      if (std::trunc(element) != element || element < -size || element >= size)
        return std::nullopt;
      int64_t index = element < 0 ? int64_t(element) + size : int64_t(element);
      for (int64_t i = 0; i < inner; ++i)
        result.values.push_back(data.values[(o * size + index) * inner + i]);
    }
  return result;
}

/// ONNX Concat of folded tensors along `axis`.
static std::optional<ConstTensor> concatConstants(ArrayRef<ConstTensor> parts,
                                                  int64_t axis) {
  int64_t rank = parts.front().shape.size();
  axis = axis < 0 ? axis + rank : axis;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  ConstTensor result{{}, parts.front().shape};
  result.shape[axis] = 0;
  for (const ConstTensor &part : parts) {
    if (static_cast<int64_t>(part.shape.size()) != rank)
      return std::nullopt;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && part.shape[d] != result.shape[d])
        return std::nullopt;
    result.shape[axis] += part.shape[axis];
  }
  if (getNumElements(result.shape) > kMaxFoldedElements)
    return std::nullopt;
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= result.shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (const ConstTensor &part : parts) {
      int64_t chunk = outer == 0 ? 0 : part.values.size() / outer;
      result.values.append(part.values.begin() + o * chunk,
                           part.values.begin() + (o + 1) * chunk);
    }
  return result;
}

/// Folds the constant expression a mask is built from: constants and
/// weights, Identity, Cast, Not, Neg, comparisons and arithmetic
/// (broadcast), Where, ConstantOfShape, Trilu, Slice, Unsqueeze, Squeeze,
/// Reshape, Gather and Concat, with their parameters folded the same way,
/// and the Shape of a value whose sizes are static (after shape inference,
/// e.g. with --input-shape pins) read from its type. nullopt for anything
/// else, anything that depends on inputs' values or unknown sizes, or more
/// than kMaxFoldedElements elements.
static std::optional<ConstTensor> foldConstant(Value value, WeightStore &store,
                                               unsigned depth) {
  if (depth > 32)
    return std::nullopt;
  if (auto contents = getTensorValues(value, store)) {
    if (llvm::any_of(contents->second, [](int64_t s) { return s < 0; }) ||
        getNumElements(contents->second) > kMaxFoldedElements ||
        getNumElements(contents->second) !=
            static_cast<int64_t>(contents->first.size()))
      return std::nullopt;
    return ConstTensor{contents->first, contents->second};
  }
  auto node = value.getDefiningOp<tvc_onnx::NodeOp>();
  if (!node || !node.getDomain().empty() || node.getNumResults() != 1)
    return std::nullopt;
  StringRef op = node.getOpType();
  ValueRange in = node.getInputs();
  auto fold = [&](Value operand) {
    return foldConstant(operand, store, depth + 1);
  };
  auto readInts = [&](Value operand) {
    return foldIntValues(operand, store, depth + 1);
  };
  if (op == "Shape" && in.size() == 1) {
    auto type = dyn_cast<RankedTensorType>(in[0].getType());
    if (!type)
      return std::nullopt;
    int64_t rank = type.getRank();
    auto bound = [&](int64_t index) {
      return std::clamp<int64_t>(index < 0 ? index + rank : index, 0, rank);
    };
    int64_t start = bound(getIntAttr(node, "start", 0));
    int64_t end = bound(getIntAttr(node, "end", rank));
    ConstTensor result{{}, {std::max<int64_t>(end - start, 0)}};
    for (int64_t d = start; d < end; ++d) {
      if (type.isDynamicDim(d))
        return std::nullopt;
      result.values.push_back(double(type.getDimSize(d)));
    }
    return result;
  }
  if (op == "ConstantOfShape") {
    auto shape = in.size() == 1 ? readInts(in[0]) : std::nullopt;
    if (!shape || llvm::any_of(*shape, [](int64_t s) { return s < 0; }) ||
        getNumElements(*shape) > kMaxFoldedElements)
      return std::nullopt;
    double fill = 0.0;
    if (auto attr =
            dyn_cast_or_null<DenseElementsAttr>(node.getAttrs().get("value"))) {
      if (attr.getNumElements() != 1)
        return std::nullopt;
      if (isa<FloatType>(attr.getElementType()))
        fill = (*attr.getValues<APFloat>().begin()).convertToDouble();
      else if (attr.getElementType().isInteger(1))
        fill = *attr.getValues<bool>().begin() ? 1.0 : 0.0;
      else
        fill = double((*attr.getValues<APInt>().begin()).getSExtValue());
    }
    return ConstTensor{SmallVector<double>(getNumElements(*shape), fill),
                       *shape};
  }
  if (in.empty())
    return std::nullopt;
  std::optional<ConstTensor> first = fold(in[0]);
  if (!first)
    return std::nullopt;
  if (op == "Identity" && in.size() == 1)
    return first;
  if (op == "Cast" && in.size() == 1) {
    // ONNX TensorProto data types: 9 is bool; 2-7, 12, 13 integers;
    // 1, 10, 11, 16 floats.
    int64_t to = getIntAttr(node, "to", 0);
    for (double &element : first->values) {
      if (to == 9)
        element = element != 0.0 ? 1.0 : 0.0;
      else if ((to >= 2 && to <= 7) || to == 12 || to == 13)
        element = std::trunc(element);
      else if (to != 1 && to != 10 && to != 11 && to != 16)
        return std::nullopt;
    }
    return first;
  }
  if (op == "Not" && in.size() == 1) {
    for (double &element : first->values)
      element = element == 0.0 ? 1.0 : 0.0;
    return first;
  }
  if (op == "Trilu") {
    size_t rank = first->shape.size();
    std::optional<SmallVector<int64_t>> k;
    if (in.size() >= 2 && !isa<NoneType>(in[1].getType()))
      k = readInts(in[1]);
    else
      k = SmallVector<int64_t>{0};
    if (rank < 2 || !k || k->size() != 1)
      return std::nullopt;
    bool upper = getIntAttr(node, "upper", 1) != 0;
    int64_t rows = first->shape[rank - 2], cols = first->shape[rank - 1];
    for (int64_t flat = 0; flat < static_cast<int64_t>(first->values.size());
         ++flat) {
      int64_t i = flat / cols % rows, j = flat % cols;
      bool keep = upper ? j - i >= k->front() : j - i <= k->front();
      if (!keep)
        first->values[flat] = 0.0;
    }
    return first;
  }
  if (op == "Slice" && in.size() >= 3)
    return sliceConstant(*first, in.drop_front(), readInts);
  if (op == "Neg" && in.size() == 1) {
    for (double &element : first->values)
      element = -element;
    return first;
  }
  if (op == "Gather" && in.size() == 2) {
    std::optional<ConstTensor> indices = fold(in[1]);
    if (!indices)
      return std::nullopt;
    return gatherConstant(*first, *indices, getIntAttr(node, "axis", 0));
  }
  if (op == "Concat") {
    SmallVector<ConstTensor> parts{std::move(*first)};
    for (Value operand : in.drop_front()) {
      std::optional<ConstTensor> part = fold(operand);
      if (!part)
        return std::nullopt;
      parts.push_back(std::move(*part));
    }
    return concatConstants(parts, getIntAttr(node, "axis", 0));
  }
  if (op == "Squeeze" && in.size() <= 2) {
    // Axes as an input (opset 13+), else none: every size-1 axis.
    int64_t rank = first->shape.size();
    SmallVector<bool> removed(rank, false);
    if (in.size() == 2 && !isa<NoneType>(in[1].getType())) {
      auto axes = readInts(in[1]);
      if (!axes)
        return std::nullopt;
      for (int64_t axis : *axes) {
        axis = axis < 0 ? axis + rank : axis;
        if (axis < 0 || axis >= rank || first->shape[axis] != 1)
          return std::nullopt;
        removed[axis] = true;
      }
    } else {
      if (node.getAttrs().get("axes"))
        return std::nullopt;
      for (int64_t d = 0; d < rank; ++d)
        removed[d] = first->shape[d] == 1;
    }
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < rank; ++d)
      if (!removed[d])
        shape.push_back(first->shape[d]);
    first->shape = std::move(shape);
    return first;
  }
  if (op == "Div" && in.size() == 2) {
    std::optional<ConstTensor> divisor = fold(in[1]);
    auto type = dyn_cast<ShapedType>(value.getType());
    if (!divisor || !type)
      return std::nullopt;
    // Integer Div truncates; a zero divisor is left to run time.
    bool integer = type.getElementType().isInteger();
    if (integer && llvm::is_contained(divisor->values, 0.0))
      return std::nullopt;
    ConstTensor operands[] = {std::move(*first), std::move(*divisor)};
    return broadcastElementwise(operands, [&](ArrayRef<double> e) {
      return integer ? std::trunc(e[0] / e[1]) : e[0] / e[1];
    });
  }
  if ((op == "Unsqueeze" || op == "Reshape") && in.size() == 2) {
    auto param = readInts(in[1]);
    if (!param)
      return std::nullopt;
    SmallVector<int64_t> shape;
    if (op == "Unsqueeze") {
      int64_t rank = first->shape.size() + param->size();
      SmallVector<bool> inserted(rank, false);
      for (int64_t axis : *param) {
        axis = axis < 0 ? axis + rank : axis;
        if (axis < 0 || axis >= rank || inserted[axis])
          return std::nullopt;
        inserted[axis] = true;
      }
      const int64_t *next = first->shape.begin();
      for (int64_t d = 0; d < rank; ++d)
        shape.push_back(inserted[d] ? 1 : *next++);
    } else {
      int64_t known = 1, inferred = -1;
      for (auto [d, size] : llvm::enumerate(*param)) {
        if (size == 0 && d < first->shape.size())
          size = first->shape[d];
        if (size == -1) {
          if (inferred >= 0)
            return std::nullopt;
          inferred = d;
        } else if (size < 0) {
          return std::nullopt;
        } else {
          known *= size;
          if (known > kMaxFoldedElements)
            return std::nullopt;
        }
        shape.push_back(size);
      }
      int64_t total = first->values.size();
      if (inferred >= 0) {
        if (known == 0 || total % known != 0)
          return std::nullopt;
        shape[inferred] = total / known;
      }
    }
    if (getNumElements(shape) != static_cast<int64_t>(first->values.size()))
      return std::nullopt;
    first->shape = std::move(shape);
    return first;
  }
  using Combine = double (*)(ArrayRef<double>);
  Combine combine =
      llvm::StringSwitch<Combine>(op)
          .Case("Equal",
                [](ArrayRef<double> e) { return double(e[0] == e[1]); })
          .Case("Less", [](ArrayRef<double> e) { return double(e[0] < e[1]); })
          .Case("Greater",
                [](ArrayRef<double> e) { return double(e[0] > e[1]); })
          .Case("LessOrEqual",
                [](ArrayRef<double> e) { return double(e[0] <= e[1]); })
          .Case("GreaterOrEqual",
                [](ArrayRef<double> e) { return double(e[0] >= e[1]); })
          .Case("And", [](ArrayRef<double> e) { return double(e[0] && e[1]); })
          .Case("Or", [](ArrayRef<double> e) { return double(e[0] || e[1]); })
          .Case("Add", [](ArrayRef<double> e) { return e[0] + e[1]; })
          .Case("Sub", [](ArrayRef<double> e) { return e[0] - e[1]; })
          .Case("Mul", [](ArrayRef<double> e) { return e[0] * e[1]; })
          .Case("Where",
                [](ArrayRef<double> e) { return e[0] != 0.0 ? e[1] : e[2]; })
          .Default(nullptr);
  if (!combine || in.size() != (op == "Where" ? 3u : 2u))
    return std::nullopt;
  SmallVector<ConstTensor> operands{std::move(*first)};
  for (Value operand : in.drop_front()) {
    std::optional<ConstTensor> folded = fold(operand);
    if (!folded)
      return std::nullopt;
    operands.push_back(std::move(*folded));
  }
  return broadcastElementwise(operands, combine);
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

/// Classifies a rows x cols "allowed" matrix (row = query, column = key;
/// query row i sits at key position cols - rows + i) as full, causal or a
/// sliding window; nullptr for anything else.
static MaskAttrInterface classifyAllowed(MLIRContext *context,
                                         ArrayRef<bool> allowed, int64_t rows,
                                         int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return {};
  int64_t offset = cols - rows;
  auto matches = [&](auto predicate) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (allowed[i * cols + j] != predicate(offset + i, j))
          return false;
    return true;
  };
  if (matches([](int64_t, int64_t) { return true; }))
    return FullMaskAttr::get(context);
  if (offset >= 0 && matches([](int64_t p, int64_t j) { return j <= p; }))
    return CausalMaskAttr::get(context);
  // A band of width w ending at the query's position: p - w < j <= p. The
  // last query sees w keys.
  int64_t window = 0;
  for (int64_t j = 0; j < cols; ++j)
    window += allowed[(rows - 1) * cols + j];
  if (offset >= 0 && window > 0 && window < cols &&
      matches([&](int64_t p, int64_t j) { return j <= p && p - j < window; }))
    return SlidingWindowMaskAttr::get(context, window);
  return {};
}

/// The query and key lengths a mask applies to (kDynamic when unknown), and
/// whether the keys are the queries' own (no past KV), so that a square
/// mask of unknown size is aligned at the origin.
struct MaskLengths {
  int64_t queries;
  int64_t keys;
  bool selfAligned;
};

/// The [Tq, Tk] "allowed" flags of a folded mask broadcast to `lengths`
/// (both static), by `isAllowed` (1 allowed, 0 masked, -1 not a mask
/// value); nullopt when it does not broadcast or varies across batch/heads.
static std::optional<SmallVector<bool>>
expandAllowed(const ConstTensor &mask,
              llvm::function_ref<int(double)> isAllowed, int64_t queries,
              int64_t keys) {
  ArrayRef<int64_t> shape = mask.shape;
  int64_t rank = shape.size();
  if (!llvm::all_of(shape.drop_back(std::min<int64_t>(rank, 2)),
                    [](int64_t d) { return d == 1; }))
    return std::nullopt;
  int64_t rows = rank >= 2 ? shape[rank - 2] : 1;
  int64_t cols = rank >= 1 ? shape[rank - 1] : 1;
  if ((rows != queries && rows != 1) || (cols != keys && cols != 1) ||
      getNumElements({queries, keys}) > kMaxFoldedElements)
    return std::nullopt;
  SmallVector<bool> allowed;
  allowed.reserve(queries * keys);
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = 0; j < keys; ++j) {
      int flag = isAllowed(
          mask.values[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)]);
      if (flag < 0)
        return std::nullopt;
      allowed.push_back(flag);
    }
  return allowed;
}

/// Classifies a folded mask for `lengths`. With unknown lengths it must be
/// square and the keys the queries' own (query i at position i).
static MaskAttrInterface
classifyFoldedMask(MLIRContext *context, const ConstTensor &mask,
                   llvm::function_ref<int(double)> isAllowed,
                   MaskLengths lengths) {
  int64_t queries = lengths.queries, keys = lengths.keys;
  if (ShapedType::isDynamic(queries) || ShapedType::isDynamic(keys)) {
    int64_t rank = mask.shape.size();
    if (!lengths.selfAligned || rank < 2 ||
        mask.shape[rank - 1] != mask.shape[rank - 2])
      return {};
    queries = keys = mask.shape[rank - 1];
  }
  std::optional<SmallVector<bool>> allowed =
      expandAllowed(mask, isAllowed, queries, keys);
  if (!allowed)
    return {};
  return classifyAllowed(context, *allowed, queries, keys);
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

/// A constant square buffer behind origin slices whose ends are computed
/// at run time (`bias[:, :, :T, :T]` with T unknown), as "allowed" flags
/// from `isAllowed`: the kind of the whole buffer is the kind of every
/// top-left square of it, when the keys are the queries' own.
static MaskAttrInterface
classifySlicedBuffer(Value value, WeightStore &store,
                     llvm::function_ref<int(double)> isAllowed,
                     MaskLengths lengths) {
  Value buffer = stripOriginSlices(value);
  if (!buffer || !lengths.selfAligned)
    return {};
  std::optional<ConstTensor> contents = foldConstant(buffer, store);
  if (!contents)
    return {};
  return classifyFoldedMask(value.getContext(), *contents, isAllowed,
                            {ShapedType::kDynamic, ShapedType::kDynamic,
                             /*selfAligned=*/true});
}

/// The mask of `Where(cond, -inf, scores)` (masked where cond holds) or
/// `Where(cond, scores, -inf)` (allowed where cond holds).
static MaskAttrInterface classifyWhereCondition(Value cond, bool condMasks,
                                                WeightStore &store,
                                                MaskLengths lengths) {
  auto condAllowed = [&](double element) {
    return int((element != 0.0) != condMasks);
  };
  if (std::optional<ConstTensor> folded = foldConstant(cond, store))
    return classifyFoldedMask(cond.getContext(), *folded, condAllowed, lengths);
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
      if (MaskAttrInterface mask = classifySlicedBuffer(
              buffer, store,
              [&](double element) {
                return int(condMasks ? element != 0.0 : element == 0.0);
              },
              lengths))
        return mask;
    }
    return {};
  }
  return classifySlicedBuffer(cond, store, condAllowed, lengths);
}

/// 1 where an additive mask allows a key (0), 0 where it masks (-inf or a
/// huge negative number such as torch.finfo(float32).min), -1 otherwise.
static int additiveAllowed(double element) {
  if (element == 0.0)
    return 1;
  return element <= -1e30 ? 0 : -1;
}

/// An additive mask: a constant expression of 0 / -inf classified by its
/// values, or (lengths unknown) Trilu(-inf filled, k = 1, upper), causal.
static MaskAttrInterface classifyAdditiveMask(Value value, WeightStore &store,
                                              MaskLengths lengths) {
  if (std::optional<ConstTensor> folded = foldConstant(value, store))
    return classifyFoldedMask(value.getContext(), *folded, additiveAllowed,
                              lengths);
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
    // Square [T, T] with T unknown: causal only for the queries' own keys.
    if (lengths.selfAligned && getIntAttr(trilu, "upper", 1) == 1 && k &&
        k->size() == 1 && k->front() == 1 && fillsMinusInf)
      return CausalMaskAttr::get(value.getContext());
    return {};
  }
  return classifySlicedBuffer(value, store, additiveAllowed, lengths);
}

//===----------------------------------------------------------------------===//
// The pattern
//===----------------------------------------------------------------------===//

/// The ai.onnx version of the generic nodes handlers create (shape ops
/// whose semantics have not changed since).
static constexpr int64_t kGenericOpset = 13;

/// A generic ai.onnx node of one result.
static Value createGenericNode(PatternRewriter &rewriter, Location loc,
                               Type type, StringRef opType, ValueRange inputs,
                               ArrayRef<NamedAttribute> attrs = {}) {
  return tvc_onnx::NodeOp::create(rewriter, loc, TypeRange{type},
                                  rewriter.getStringAttr(opType),
                                  rewriter.getStringAttr(""),
                                  rewriter.getI64IntegerAttr(kGenericOpset),
                                  rewriter.getStringAttr(""),
                                  rewriter.getDictionaryAttr(attrs), inputs)
      .getResult(0);
}

/// A 1-D i64 constant.
static Value createIntConstant(PatternRewriter &rewriter, Location loc,
                               ArrayRef<int64_t> values) {
  return arith::ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(RankedTensorType::get({int64_t(values.size())},
                                                   rewriter.getI64Type()),
                             values));
}

/// The sum of two sizes, dynamic when either is.
static int64_t addSizes(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b)
             ? ShapedType::kDynamic
             : a + b;
}

/// True when `past` can be [B, H, P, Dh] heads of a packed [B, T, H * Dh]
/// tensor of type `packed`.
static bool isPastOf(Value past, RankedTensorType packed, int64_t heads) {
  auto type = dyn_cast<RankedTensorType>(past.getType());
  if (!type || type.getRank() != 4 ||
      type.getElementType() != packed.getElementType())
    return false;
  int64_t width = packed.getShape().back();
  auto agrees = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  return agrees(type.getDimSize(0), packed.getDimSize(0)) &&
         agrees(type.getDimSize(1), heads) &&
         (ShapedType::isDynamic(width) ||
          agrees(type.getDimSize(3), width / heads));
}
static bool isPastOf(Value past, const Heads &heads) {
  return isPastOf(past, cast<RankedTensorType>(heads.packed.getType()),
                  heads.heads);
}

/// The [B, T, H * D] type of [B, H, T, D] heads `type` packed.
static RankedTensorType getPackedType(RankedTensorType type) {
  ArrayRef<int64_t> s = type.getShape();
  int64_t width = ShapedType::isDynamic(s[1]) || ShapedType::isDynamic(s[3])
                      ? ShapedType::kDynamic
                      : s[1] * s[3];
  return RankedTensorType::get({s[0], s[2], width}, type.getElementType());
}

/// [B, H, T, D] heads packed into [B, T, H * D]:
/// Reshape(Transpose[0,2,1,3](x), [0, 0, -1]), as generic nodes (lowered
/// by convert-onnx-to-linalg). `width` is H * D when the type does not say.
static Value packHeads(PatternRewriter &rewriter, Location loc, Value x,
                       int64_t width = ShapedType::kDynamic) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> s = type.getShape();
  Type element = type.getElementType();
  Value transposed = createGenericNode(
      rewriter, loc, RankedTensorType::get({s[0], s[2], s[1], s[3]}, element),
      "Transpose", {x},
      {rewriter.getNamedAttr("perm", rewriter.getI64ArrayAttr({0, 2, 1, 3}))});
  RankedTensorType packed = getPackedType(type);
  if (packed.isDynamicDim(2))
    packed = RankedTensorType::get({s[0], s[2], width}, element);
  return createGenericNode(
      rewriter, loc, packed, "Reshape",
      {transposed, createIntConstant(rewriter, loc, {0, 0, -1})});
}

/// [B, T, H * Dh] packed `x` after the [B, H, P, Dh] `past`:
/// Concat(packHeads(past), x, axis 1), as generic nodes.
static Value appendToPast(PatternRewriter &rewriter, Location loc, Value past,
                          Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> p = cast<RankedTensorType>(past.getType()).getShape();
  Type element = type.getElementType();
  int64_t width = type.getShape().back();
  Value packed = packHeads(rewriter, loc, past, width);
  int64_t batch = ShapedType::isDynamic(p[0]) ? type.getDimSize(0) : p[0];
  return createGenericNode(
      rewriter, loc,
      RankedTensorType::get({batch, addSizes(p[2], type.getDimSize(1)), width},
                            element),
      "Concat", {packed, x},
      {rewriter.getNamedAttr("axis", rewriter.getI64IntegerAttr(1))});
}

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
      matchHeadSource(weighted.getInputs()[1], /*allowRepeat=*/true,
                      /*allowPast=*/true);
  if (!valueSource || valueSource->rotary)
    return rewriter.notifyMatchFailure(root, "values are not a head split");
  Heads *values = &valueSource->heads;

  // Mask, for the [.., Tq, Tk] scores the softmax reads.
  MLIRContext *context = rewriter.getContext();
  Value scores = softmax.getInputs()[0];
  auto scoresType = dyn_cast<RankedTensorType>(scores.getType());
  MaskLengths lengths{ShapedType::kDynamic, ShapedType::kDynamic,
                      /*selfAligned=*/!valueSource->past};
  if (scoresType && scoresType.getRank() == 4) {
    lengths.queries = scoresType.getDimSize(2);
    lengths.keys = scoresType.getDimSize(3);
  }
  // Sizes the softmax input's type leaves unknown (a mask Slice whose
  // bounds are computed) are the masked scores': a mask must broadcast to
  // them exactly (expandAllowed), so it cannot widen them unseen.
  auto refined = [&](Value masked) {
    MaskLengths result = lengths;
    auto type = dyn_cast<RankedTensorType>(masked.getType());
    if (!type || type.getRank() != 4)
      return result;
    if (ShapedType::isDynamic(result.queries))
      result.queries = type.getDimSize(2);
    if (ShapedType::isDynamic(result.keys))
      result.keys = type.getDimSize(3);
    return result;
  };
  MaskAttrInterface mask = FullMaskAttr::get(context);
  if (tvc_onnx::NodeOp where = getDefiningNode(scores, "Where");
      where && where.getInputs().size() == 3) {
    ValueRange in = where.getInputs();
    if (isMinusInfinity(in[1])) {
      mask = classifyWhereCondition(in[0], /*condMasks=*/true, store,
                                    refined(in[2]));
      scores = in[2];
    } else if (isMinusInfinity(in[2])) {
      mask = classifyWhereCondition(in[0], /*condMasks=*/false, store,
                                    refined(in[1]));
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
        if ((mask =
                 classifyAdditiveMask(additive, store, refined(candidate)))) {
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
  if (bool(keySource->past) != bool(valueSource->past) ||
      (keySource->past && (!isPastOf(keySource->past, *keys) ||
                           !isPastOf(valueSource->past, *values))))
    return rewriter.notifyMatchFailure(root, "past keys and values differ");

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
    // [T] ids, or [1, T] ones (Hugging Face's position_ids input).
    if (!rope || !positions ||
        (positions.getRank() != 1 &&
         (positions.getRank() != 2 || positions.getDimSize(0) != 1)) ||
        queryType.getDimSize(0) != 1)
      return rewriter.notifyMatchFailure(root, "rotary tables not recognised");
    // tvc.rope takes [B, T] positions: unsqueeze [T] ids (batch 1).
    Location loc = root.getLoc();
    Value positions2d = rotary->positions;
    if (positions.getRank() == 1) {
      Value axes = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({1}, rewriter.getI64Type()),
              ArrayRef<int64_t>{0}));
      positions2d =
          tvc_onnx::NodeOp::create(
              rewriter, loc,
              TypeRange{RankedTensorType::get({1, positions.getDimSize(0)},
                                              positions.getElementType())},
              rewriter.getStringAttr("Unsqueeze"), rewriter.getStringAttr(""),
              rewriter.getI64IntegerAttr(
                  std::max<int64_t>(root.getVersion(), 13)),
              rewriter.getStringAttr(""), rewriter.getDictionaryAttr({}),
              ValueRange{rotary->positions, axes})
              .getResult(0);
    }
    RopeScalingAttr scaling =
        rope->factor == 1.0
            ? RopeScalingAttr::getNone(context)
            : RopeScalingAttr::get(context, RopeScalingKind::Linear,
                                   rope->factor);
    auto ropeOf = [&](Value packed, int64_t heads) -> Value {
      return RopeOp::create(rewriter, loc, packed, positions2d,
                            rewriter.getI64IntegerAttr(heads),
                            rewriter.getF64FloatAttr(rope->theta),
                            IntegerAttr(), UnitAttr(), scaling);
    };
    query = ropeOf(query, queries->heads);
    key = ropeOf(key, keys->heads);
  }

  // Past keys and values (already rotated) come first.
  Value value = values->packed;
  if (keySource->past) {
    key = appendToPast(rewriter, root.getLoc(), keySource->past, key);
    value = appendToPast(rewriter, root.getLoc(), valueSource->past, value);
  }

  auto attention = AttentionOp::create(
      rewriter, root.getLoc(), query, key, value, /*kv_len=*/Value(),
      /*state=*/Value(), rewriter.getI64IntegerAttr(queries->heads),
      rewriter.getI64IntegerAttr(keys->heads), mask, scaleAttr);
  replaceNode(root, rewriter, attention.getResult());
  return success();
}

/// [B, T, H * Dh] packed `x` split into [B, H, T, Dh] heads (generic
/// Reshape and Transpose), appended to `past` ([B, H, P, Dh]) when given:
/// the present KV of an attention op.
static Value createPresent(PatternRewriter &rewriter, Location loc, Value past,
                           Value x, int64_t heads) {
  auto type = cast<RankedTensorType>(x.getType());
  Type element = type.getElementType();
  int64_t batch = type.getDimSize(0), length = type.getDimSize(1);
  int64_t headDim = type.getShape().back() / heads;
  Value split = createGenericNode(
      rewriter, loc,
      RankedTensorType::get({batch, length, heads, headDim}, element),
      "Reshape", {x, createIntConstant(rewriter, loc, {0, 0, heads, headDim})});
  Value transposed = createGenericNode(
      rewriter, loc,
      RankedTensorType::get({batch, heads, length, headDim}, element),
      "Transpose", {split},
      {rewriter.getNamedAttr("perm", rewriter.getI64ArrayAttr({0, 2, 1, 3}))});
  if (!past)
    return transposed;
  int64_t pastLength = cast<RankedTensorType>(past.getType()).getDimSize(2);
  return createGenericNode(
      rewriter, loc,
      RankedTensorType::get(
          {batch, heads, addSizes(pastLength, length), headDim}, element),
      "Concat", {past, transposed},
      {rewriter.getNamedAttr("axis", rewriter.getI64IntegerAttr(2))});
}

/// True when input `index` of `node` is given (not absent or empty).
static bool hasInput(tvc_onnx::NodeOp node, unsigned index) {
  return index < node.getInputs().size() &&
         !isa<NoneType>(node.getInputs()[index].getType());
}

/// True when the node's results can take an attention output of `output`'s
/// type and, where used, present keys/values of `presentKey`/`presentValue`:
/// typed as precisely or less, never differently.
static bool acceptsResults(tvc_onnx::NodeOp node, RankedTensorType output,
                           RankedTensorType presentKey,
                           RankedTensorType presentValue) {
  auto accepts = [](Value result, RankedTensorType type) {
    return succeeded(verifyCompatibleShape(result.getType(), type)) &&
           getElementTypeOrSelf(result.getType()) == type.getElementType();
  };
  if (!accepts(node.getResult(0), output))
    return false;
  for (auto [index, type] :
       {std::make_pair(1u, presentKey), std::make_pair(2u, presentValue)})
    if (index < node.getNumResults() && !node.getResult(index).use_empty() &&
        !accepts(node.getResult(index), type))
      return false;
  return true;
}

/// The standard Attention op (opset 23) on packed [B, T, H * Dh] inputs
/// (4-D [B, H, T, Dh] ones are packed, and the result split back).
/// attn_mask must fold to a constant (bool: true allows; float: 0 or -inf
/// added) that, with is_causal (query i sees keys up to P + i after P past
/// positions), is a known mask kind; past_key/past_value [B, Hkv, P, Dh]
/// precede the new keys, and present_key/present_value become generic
/// Concats. No softcap, score output or nonpad_kv_seqlen.
static LogicalResult convertAttentionOp(tvc_onnx::NodeOp node,
                                        PatternRewriter &rewriter,
                                        WeightStore &store) {
  ValueRange in = node.getInputs();
  if (in.size() < 3)
    return rewriter.notifyMatchFailure(node, "expects Q, K, V");
  if (hasInput(node, 6))
    return rewriter.notifyMatchFailure(node, "nonpad_kv_seqlen");
  if (node.getNumResults() > 3 && !node.getResult(3).use_empty())
    return rewriter.notifyMatchFailure(node, "scores output used");
  if (getFloatAttr(node, "softcap", 0.0) != 0.0)
    return rewriter.notifyMatchFailure(node, "softcap");
  int64_t heads = getIntAttr(node, "q_num_heads", 0);
  int64_t kvHeads = getIntAttr(node, "kv_num_heads", 0);
  auto query = dyn_cast<RankedTensorType>(in[0].getType());
  auto key = dyn_cast<RankedTensorType>(in[1].getType());
  auto valueType = dyn_cast<RankedTensorType>(in[2].getType());
  if (!query || !key || !valueType || !isa<FloatType>(query.getElementType()))
    return rewriter.notifyMatchFailure(node, "needs ranked float Q, K, V");
  // 4-D [B, H, T, D] inputs are packed to [B, T, H * D] (the head counts
  // are their dims 1, which the attributes must not contradict).
  bool fourD = query.getRank() == 4;
  if (fourD) {
    if (key.getRank() != 4 || valueType.getRank() != 4 ||
        query.isDynamicDim(1) || key.isDynamicDim(1) ||
        valueType.getDimSize(1) != key.getDimSize(1) ||
        (heads && heads != query.getDimSize(1)) ||
        (kvHeads && kvHeads != key.getDimSize(1)))
      return rewriter.notifyMatchFailure(node, "4-D heads differ");
    heads = query.getDimSize(1);
    kvHeads = key.getDimSize(1);
    query = getPackedType(query);
    key = getPackedType(key);
    valueType = getPackedType(valueType);
  }
  if (heads <= 0 || kvHeads <= 0 || query.getRank() != 3 || key.getRank() != 3)
    return rewriter.notifyMatchFailure(node,
                                       "needs 3-D inputs and head counts");
  if (valueType.getRank() != 3 ||
      failed(verifyCompatibleShape(key.getShape().drop_back(),
                                   valueType.getShape().drop_back())))
    return rewriter.notifyMatchFailure(node, "keys and values differ");
  bool hasPast = hasInput(node, 4);
  if (hasPast != hasInput(node, 5))
    return rewriter.notifyMatchFailure(node, "past_key without past_value");
  int64_t keyWidth = key.getShape().back();
  if (ShapedType::isDynamic(keyWidth) || keyWidth % kvHeads != 0)
    return rewriter.notifyMatchFailure(node, "key width unknown");
  if (hasPast &&
      (!isPastOf(in[4], key, kvHeads) || !isPastOf(in[5], valueType, kvHeads)))
    return rewriter.notifyMatchFailure(node, "past KV is not [B, Hkv, P, Dh]");
  int64_t pastLength =
      hasPast ? cast<RankedTensorType>(in[4].getType()).getDimSize(2) : 0;
  int64_t numQueries = query.getDimSize(1);
  int64_t numKeys = addSizes(pastLength, key.getDimSize(1));
  bool causal = getIntAttr(node, "is_causal", 0) != 0;

  MLIRContext *context = rewriter.getContext();
  MaskAttrInterface mask = FullMaskAttr::get(context);
  if (ShapedType::isDynamic(numQueries) || ShapedType::isDynamic(numKeys)) {
    // Unknown lengths: ONNX aligns a causal mask at P (0 without past),
    // tvc at Tk - Tq; they agree only for known, equal lengths.
    if (hasInput(node, 3) || causal)
      return rewriter.notifyMatchFailure(node, "mask with unknown lengths");
  } else if (causal || hasInput(node, 3)) {
    if (getNumElements({numQueries, numKeys}) > kMaxFoldedElements)
      return rewriter.notifyMatchFailure(node, "mask too large to classify");
    SmallVector<bool> allowed(numQueries * numKeys, true);
    if (hasInput(node, 3)) {
      std::optional<ConstTensor> folded = foldConstant(in[3], store);
      if (!folded || folded->shape.empty())
        return rewriter.notifyMatchFailure(node, "mask is not a constant");
      bool isBool = getElementTypeOrSelf(in[3].getType()).isInteger(1);
      // A mask shorter than the keys masks the keys it does not cover.
      int64_t cols = folded->shape.back();
      if (cols < numKeys && cols > 1) {
        double masked = isBool ? 0.0 : -INFINITY;
        ConstTensor padded{{}, folded->shape};
        padded.shape.back() = numKeys;
        if (getNumElements(padded.shape) > kMaxFoldedElements)
          return rewriter.notifyMatchFailure(node, "mask too large");
        for (int64_t row = 0; row < getNumElements(folded->shape) / cols;
             ++row) {
          auto begin = folded->values.begin() + row * cols;
          padded.values.append(begin, begin + cols);
          padded.values.append(numKeys - cols, masked);
        }
        folded = std::move(padded);
      }
      auto boolAllowed = [](double element) { return int(element != 0.0); };
      std::optional<SmallVector<bool>> flags =
          isBool ? expandAllowed(*folded, boolAllowed, numQueries, numKeys)
                 : expandAllowed(*folded, additiveAllowed, numQueries, numKeys);
      if (!flags)
        return rewriter.notifyMatchFailure(node, "mask values not 0/-inf");
      allowed = std::move(*flags);
    }
    if (causal)
      for (int64_t i = 0; i < numQueries; ++i)
        for (int64_t j = i + pastLength + 1; j < numKeys; ++j)
          allowed[i * numKeys + j] = false;
    mask = classifyAllowed(context, allowed, numQueries, numKeys);
    if (!mask)
      return rewriter.notifyMatchFailure(node, "mask not recognised");
  }

  // The results may be typed less precisely than the ops infer, never
  // differently.
  int64_t valueWidth = valueType.getShape().back();
  int64_t valueDim = ShapedType::isDynamic(valueWidth) ? ShapedType::kDynamic
                                                       : valueWidth / kvHeads;
  Type element = query.getElementType();
  auto output =
      fourD ? RankedTensorType::get(
                  {query.getDimSize(0), heads, numQueries, valueDim}, element)
            : RankedTensorType::get({query.getDimSize(0), numQueries,
                                     ShapedType::isDynamic(valueDim)
                                         ? ShapedType::kDynamic
                                         : valueDim * heads},
                                    element);
  auto presentOf = [&](RankedTensorType packed, int64_t headDim) {
    return RankedTensorType::get(
        {packed.getDimSize(0), kvHeads, numKeys, headDim}, element);
  };
  if (!acceptsResults(node, output, presentOf(key, keyWidth / kvHeads),
                      presentOf(valueType, valueDim)))
    return rewriter.notifyMatchFailure(node, "result type differs");

  FloatAttr scale;
  if (auto attr = dyn_cast_or_null<FloatAttr>(node.getAttrs().get("scale")))
    scale = rewriter.getF64FloatAttr(attr.getValueAsDouble());
  Location loc = node.getLoc();
  Value queries = in[0], keys = in[1], values = in[2];
  if (fourD) {
    queries = packHeads(rewriter, loc, queries);
    keys = packHeads(rewriter, loc, keys);
    values = packHeads(rewriter, loc, values);
  }
  Value newKeys = keys, newValues = values;
  if (hasPast) {
    keys = appendToPast(rewriter, loc, in[4], keys);
    values = appendToPast(rewriter, loc, in[5], values);
  }
  auto attention = AttentionOp::create(
      rewriter, loc, queries, keys, values, /*kv_len=*/Value(),
      /*state=*/Value(), rewriter.getI64IntegerAttr(heads),
      rewriter.getI64IntegerAttr(kvHeads), mask, scale);
  // 4-D: the result split back into [B, H, T, Dv] heads.
  Value result = attention.getResult();
  if (fourD)
    result = createPresent(rewriter, loc, Value(), result, heads);
  SmallVector<Value> replacements{result};
  for (auto [index, packed] :
       {std::make_pair(1u, newKeys), std::make_pair(2u, newValues)}) {
    if (index >= node.getNumResults() || node.getResult(index).use_empty())
      replacements.push_back(Value());
    else if (fourD && !hasPast)
      replacements.push_back(in[index]);
    else if (fourD)
      replacements.push_back(createGenericNode(
          rewriter, loc,
          RankedTensorType::get(
              {key.getDimSize(0), kvHeads, numKeys,
               cast<RankedTensorType>(in[index].getType()).getDimSize(3)},
              element),
          "Concat", {in[3 + index], in[index]},
          {rewriter.getNamedAttr("axis", rewriter.getI64IntegerAttr(2))}));
    else
      replacements.push_back(createPresent(
          rewriter, loc, hasPast ? in[3 + index] : Value(), packed, kvHeads));
  }
  replaceNodeResults(node, rewriter, replacements);
  return success();
}

/// Positions P..P+S-1 for each of `batch` rows, [batch, S] i64.
static Value createPositions(PatternRewriter &rewriter, Location loc,
                             int64_t batch, int64_t start, int64_t length) {
  SmallVector<int64_t> positions;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < length; ++i)
      positions.push_back(start + i);
  return arith::ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({batch, length}, rewriter.getI64Type()),
          ArrayRef<int64_t>(positions)));
}

/// ONNX Runtime's com.microsoft GroupQueryAttention with separate Q, K, V
/// ([B, S, H * Dh]; or packed in the query, split by tvc.split),
/// past_key/past_value [B, Hkv, P, Dh] not sharing a
/// buffer with the present ones, and no padding: seqlens_k is P + S - 1 for
/// every row (checked when constant; assumed for batch 1) and
/// total_sequence_length P + S. The new tokens sit at positions P..P+S-1;
/// do_rotary rotates q and k there (theta read from the half-width
/// caches); the mask is causal, or a sliding window of local_window_size + 1
/// keys (the query's own and local_window_size before it).
static LogicalResult convertGroupQueryAttention(tvc_onnx::NodeOp node,
                                                PatternRewriter &rewriter,
                                                WeightStore &store) {
  ValueRange in = node.getInputs();
  // Packed QKV: query holds [q | k | v] per token, key and value are absent.
  bool packedQkv = !hasInput(node, 1) && !hasInput(node, 2);
  if (!hasInput(node, 0) ||
      (!packedQkv && (!hasInput(node, 1) || !hasInput(node, 2))))
    return rewriter.notifyMatchFailure(node, "key without value");
  if (hasInput(node, 9) || hasInput(node, 10) || hasInput(node, 11))
    return rewriter.notifyMatchFailure(
        node, "position_ids, attention_bias or head_sink");
  for (Value output : node.getResults().drop_front(3))
    if (!output.use_empty())
      return rewriter.notifyMatchFailure(node, "output_qk used");
  if (getFloatAttr(node, "softcap", 0.0) != 0.0 ||
      getIntAttr(node, "smooth_softmax", 0) != 0)
    return rewriter.notifyMatchFailure(node, "softcap or smooth softmax");
  int64_t heads = getIntAttr(node, "num_heads", 0);
  int64_t kvHeads = getIntAttr(node, "kv_num_heads", 0);
  auto query = dyn_cast<RankedTensorType>(in[0].getType());
  RankedTensorType key, value;
  if (!packedQkv) {
    key = dyn_cast<RankedTensorType>(in[1].getType());
    value = dyn_cast<RankedTensorType>(in[2].getType());
  } else if (query && query.getRank() == 3 && query.hasStaticShape() &&
             heads > 0 && kvHeads > 0 &&
             query.getDimSize(2) % (heads + 2 * kvHeads) == 0) {
    int64_t headDim = query.getDimSize(2) / (heads + 2 * kvHeads);
    value = key = RankedTensorType::get(
        {query.getDimSize(0), query.getDimSize(1), kvHeads * headDim},
        query.getElementType());
    query = RankedTensorType::get(
        {query.getDimSize(0), query.getDimSize(1), heads * headDim},
        query.getElementType());
  }
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || !query || !key ||
      !value || query.getRank() != 3 || key.getRank() != 3 ||
      value.getRank() != 3 || !isa<FloatType>(query.getElementType()) ||
      !query.hasStaticShape() || !key.hasStaticShape() ||
      !value.hasStaticShape())
    return rewriter.notifyMatchFailure(node, "needs static 3-D Q, K, V");
  int64_t batch = query.getDimSize(0), length = query.getDimSize(1);
  int64_t headDim = query.getDimSize(2) / heads;
  if (query.getDimSize(2) != heads * headDim ||
      key.getDimSize(2) != kvHeads * headDim ||
      value.getDimSize(2) % kvHeads != 0 || key.getDimSize(1) != length ||
      value.getDimSize(1) != length)
    return rewriter.notifyMatchFailure(node, "inconsistent head sizes");
  bool hasPast = hasInput(node, 3);
  if (hasPast != hasInput(node, 4))
    return rewriter.notifyMatchFailure(node, "past_key without past_value");
  int64_t pastLength = 0;
  if (hasPast) {
    auto pastType = dyn_cast<RankedTensorType>(in[3].getType());
    if (!isPastOf(in[3], key, kvHeads) || !isPastOf(in[4], value, kvHeads) ||
        !pastType.hasStaticShape())
      return rewriter.notifyMatchFailure(
          node, "past KV is not static [B, Hkv, P, D]");
    pastLength = pastType.getDimSize(2);
  }
  int64_t total = pastLength + length;
  if (getNumElements({batch, length}) > kMaxFoldedElements)
    return rewriter.notifyMatchFailure(node, "too many positions");
  // A present output as long as the past one shares its buffer (the past
  // holds padding up to the maximum length).
  for (unsigned index : {1u, 2u})
    if (auto type = dyn_cast<RankedTensorType>(node.getResult(index).getType());
        type && type.getRank() == 4 && !type.isDynamicDim(2) &&
        type.getDimSize(2) != total)
      return rewriter.notifyMatchFailure(node, "shared past/present buffer");
  // Without padding every row has P + S keys.
  if (hasInput(node, 5)) {
    std::optional<SmallVector<int64_t>> seqlens = getIntValues(in[5]);
    if (seqlens
            ? !llvm::all_of(*seqlens, [&](int64_t n) { return n == total - 1; })
            : batch != 1)
      return rewriter.notifyMatchFailure(node, "seqlens_k implies padding");
  }
  if (hasInput(node, 6))
    if (std::optional<SmallVector<int64_t>> totals = getIntValues(in[6]);
        totals && (totals->size() != 1 || totals->front() != total))
      return rewriter.notifyMatchFailure(
          node, "total_sequence_length is not past + new");
  int64_t window = getIntAttr(node, "local_window_size", -1);
  if (window == 0)
    return rewriter.notifyMatchFailure(node, "local_window_size 0");
  // A window reaching back to key 0 from the last query is causal.
  MLIRContext *context = rewriter.getContext();
  MaskAttrInterface mask =
      window > 0 && window < total - 1
          ? MaskAttrInterface(SlidingWindowMaskAttr::get(context, window + 1))
          : MaskAttrInterface(CausalMaskAttr::get(context));

  auto present = [&](RankedTensorType packed) {
    return RankedTensorType::get(
        {batch, kvHeads, total, packed.getDimSize(2) / kvHeads},
        query.getElementType());
  };
  if (!acceptsResults(
          node,
          RankedTensorType::get(
              {batch, length, value.getDimSize(2) / kvHeads * heads},
              query.getElementType()),
          present(key), present(value)))
    return rewriter.notifyMatchFailure(node, "result type differs");

  std::optional<RopeParameters> rope;
  if (getIntAttr(node, "do_rotary", 0)) {
    if (hasInput(node, 7) && hasInput(node, 8))
      rope = inferRopeParameters(in[7], in[8], headDim, store,
                                 /*halfTables=*/true);
    if (!rope)
      return rewriter.notifyMatchFailure(node, "caches not recognised");
  }

  Location loc = node.getLoc();
  Value q, k, v;
  if (packedQkv) {
    int64_t kvWidth = key.getDimSize(2);
    auto split = SplitOp::create(
        rewriter, loc, in[0],
        rewriter.getDenseI64ArrayAttr({query.getDimSize(2), kvWidth, kvWidth}));
    q = split.getResult(0);
    k = split.getResult(1);
    v = split.getResult(2);
  } else {
    q = in[0];
    k = in[1];
    v = in[2];
  }
  if (rope) {
    RopeScalingAttr scaling =
        rope->factor == 1.0
            ? RopeScalingAttr::getNone(context)
            : RopeScalingAttr::get(context, RopeScalingKind::Linear,
                                   rope->factor);
    UnitAttr interleaved = getIntAttr(node, "rotary_interleaved", 0)
                               ? rewriter.getUnitAttr()
                               : UnitAttr();
    Value positions = createPositions(rewriter, loc, batch, pastLength, length);
    auto ropeOf = [&](Value packed, int64_t numHeads) -> Value {
      return RopeOp::create(rewriter, loc, packed, positions,
                            rewriter.getI64IntegerAttr(numHeads),
                            rewriter.getF64FloatAttr(rope->theta),
                            IntegerAttr(), interleaved, scaling);
    };
    q = ropeOf(q, heads);
    k = ropeOf(k, kvHeads);
  }
  Value keys = k, values = v;
  if (hasPast) {
    keys = appendToPast(rewriter, loc, in[3], keys);
    values = appendToPast(rewriter, loc, in[4], values);
  }
  FloatAttr scale;
  if (double factor = getFloatAttr(node, "scale", 0.0); factor != 0.0)
    scale = rewriter.getF64FloatAttr(factor);
  auto attention =
      AttentionOp::create(rewriter, loc, q, keys, values, /*kv_len=*/Value(),
                          /*state=*/Value(), rewriter.getI64IntegerAttr(heads),
                          rewriter.getI64IntegerAttr(kvHeads), mask, scale);
  SmallVector<Value> replacements{attention.getResult()};
  for (unsigned index : {1u, 2u})
    if (index < node.getNumResults() && !node.getResult(index).use_empty())
      replacements.push_back(createPresent(rewriter, loc,
                                           hasPast ? in[2 + index] : Value(),
                                           index == 1 ? k : v, kvHeads));
    else
      replacements.push_back(Value());
  replaceNodeResults(node, rewriter, replacements);
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
  table.onOp(
      "GroupQueryAttention", 1,
      "past KV without a shared buffer, no padding -> split (packed QKV) + "
      "rope (do_rotary) + concat + attention (causal or local window)",
      [&store](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
        return convertGroupQueryAttention(node, rewriter, store);
      },
      "com.microsoft");
  table.onOp("Attention", 23,
             "3-D or 4-D Q/K/V, past KV, a constant attn_mask of a known kind "
             "(with is_causal) -> attention (+ concat for the present KV)",
             [&store](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
               return convertAttentionOp(node, rewriter, store);
             });
  table.onOp(
      "Reshape", 5,
      "head merge of scaled dot-product attention (causal/window/full mask "
      "read from the graph, keys and values after past KV) -> attention",
      [&store](tvc_onnx::NodeOp node, PatternRewriter &rewriter) {
        return convertAttention(node, rewriter, store);
      });
}
