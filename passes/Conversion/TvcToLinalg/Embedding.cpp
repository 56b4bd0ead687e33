//===- Embedding.cpp - tvc embeddings and positions to linalg -------------===//
//
// embedding and learned_positions gather table rows by id inside a
// linalg.generic (tensor.extract at the clamped id and the channel's
// linalg.index). rope computes its per-channel frequency tables at compile
// time in double precision (scaling kinds none, linear, ntk, yarn, llama3
// as the RopeScalingAttr docs define them), emits them as constants, builds
// cos/sin per (batch, position, channel) and rotates each head in a generic
// over [batch, seq, heads, head_dim] that reads each channel's partner.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/TvcToLinalg/TvcToLinalg.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Transforms/DialectConversion.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

namespace {

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

/// `result[..., c] = table[ids[...], c]`: a generic over the result whose
/// only input is the ids (broadcast along the width).
struct EmbeddingToLinalg : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value table = adaptor.getTable();
    Value ids = adaptor.getIds();
    RankedTensorType resultType = op.getType();
    int64_t rank = resultType.getRank();
    MLIRContext *context = rewriter.getContext();

    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, ids);
    sizes.push_back(tensor::getMixedSize(rewriter, loc, table, 1));
    Value init =
        createEmptyTensor(rewriter, loc, sizes, resultType.getElementType());
    Value lastRow = getLastIndex(rewriter, loc, table, 0);
    SmallVector<AffineMap> maps{getLeadingDimsMap(context, rank),
                                getIdentityMap(context, rank)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultType, ids, init, maps, getIterators(rank),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value row = clampIdToIndex(b, bodyLoc, args[0], lastRow);
          Value column = linalg::IndexOp::create(b, bodyLoc, rank - 1);
          Value element = tensor::ExtractOp::create(b, bodyLoc, table,
                                                    ValueRange{row, column});
          linalg::YieldOp::create(b, bodyLoc, element);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// learned_positions
//===----------------------------------------------------------------------===//

/// `result[..., c] = hidden[..., c] + table[positions[...], c]`.
struct LearnedPositionsToLinalg : OpConversionPattern<LearnedPositionsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LearnedPositionsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value hidden = adaptor.getHidden();
    Value table = adaptor.getTable();
    RankedTensorType resultType = op.getType();
    int64_t rank = resultType.getRank();
    MLIRContext *context = rewriter.getContext();

    Value init =
        createEmptyTensor(rewriter, loc, getSizes(rewriter, loc, hidden),
                          resultType.getElementType());
    Value lastRow = getLastIndex(rewriter, loc, table, 0);
    SmallVector<AffineMap> maps{getIdentityMap(context, rank),
                                getLeadingDimsMap(context, rank),
                                getIdentityMap(context, rank)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultType, ValueRange{hidden, adaptor.getPositions()},
        init, maps, getIterators(rank),
        [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value row = clampIdToIndex(b, bodyLoc, args[1], lastRow);
          Value column = linalg::IndexOp::create(b, bodyLoc, rank - 1);
          Value position = tensor::ExtractOp::create(b, bodyLoc, table,
                                                     ValueRange{row, column});
          linalg::YieldOp::create(
              b, bodyLoc,
              arith::AddFOp::create(b, bodyLoc, args[0], position).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rope
//===----------------------------------------------------------------------===//

/// The rotation of every channel of one head, computed at compile time:
/// channel `j` becomes `x[j] * cos(p * freq[j]) * cosScale[j] +
/// x[j + partner[j]] * sin(p * freq[j]) * sinScale[j]`. Channels past
/// `rotary_dim` have frequency 0, cosScale 1, sinScale 0 and partner 0.
struct RopeTables {
  SmallVector<float> frequencies;
  SmallVector<float> cosScales;
  SmallVector<float> sinScales;
  SmallVector<int64_t> partnerOffsets;
};

/// `inv_freq[i]` for `i < rotaryDim / 2`, rescaled as `scaling` says, and the
/// factor applied to cos and sin (YaRN's `0.1 ln s + 1`, which scales the
/// attention logits of rotated queries and keys by its square).
static SmallVector<double> getInverseFrequencies(double theta,
                                                 int64_t rotaryDim,
                                                 RopeScalingAttr scaling,
                                                 double &magnitude) {
  double factor = scaling.getFactor().convertToDouble();
  double original = static_cast<double>(scaling.getOriginalMaxPositions());
  RopeScalingKind kind = scaling.getKind();
  double base = theta;
  // NTK-aware scaling changes the base; with two rotated channels the only
  // frequency is theta^0 = 1 whatever the base.
  if (kind == RopeScalingKind::Ntk && rotaryDim > 2)
    base = theta * std::pow(factor, static_cast<double>(rotaryDim) /
                                        static_cast<double>(rotaryDim - 2));
  magnitude = 1.0;
  if (kind == RopeScalingKind::Yarn)
    magnitude = 0.1 * std::log(factor) + 1.0;

  SmallVector<double> frequencies;
  for (int64_t i = 0; i < rotaryDim / 2; ++i) {
    double frequency = std::pow(base, -2.0 * static_cast<double>(i) /
                                          static_cast<double>(rotaryDim));
    switch (kind) {
    case RopeScalingKind::None:
    case RopeScalingKind::Ntk:
      break;
    case RopeScalingKind::Linear:
      frequency /= factor;
      break;
    case RopeScalingKind::Yarn: {
      double fast = scaling.getBetaFast().convertToDouble();
      double slow = scaling.getBetaSlow().convertToDouble();
      double rotations = original * frequency / (2.0 * M_PI);
      double ramp = std::clamp((rotations - slow) / (fast - slow), 0.0, 1.0);
      frequency = frequency * ramp + frequency / factor * (1.0 - ramp);
      break;
    }
    case RopeScalingKind::Llama3: {
      double low = scaling.getLowFreqFactor().convertToDouble();
      double high = scaling.getHighFreqFactor().convertToDouble();
      double wavelength = 2.0 * M_PI / frequency;
      if (wavelength > original / low) {
        frequency /= factor;
      } else if (wavelength >= original / high) {
        double smooth = (original / wavelength - low) / (high - low);
        frequency = (1.0 - smooth) * frequency / factor + smooth * frequency;
      }
      break;
    }
    }
    frequencies.push_back(frequency);
  }
  return frequencies;
}

/// The per-channel tables of one head of `op`.
static RopeTables getRopeTables(RopeOp op) {
  int64_t headDim = op.getHeadDim();
  int64_t rotaryDim = op.getRotaryDimOrHeadDim();
  int64_t half = rotaryDim / 2;
  bool interleaved = op.getInterleaved();
  double magnitude;
  SmallVector<double> inverse = getInverseFrequencies(
      op.getTheta().convertToDouble(), rotaryDim, op.getScaling(), magnitude);
  RopeTables tables;
  for (int64_t j = 0; j < headDim; ++j) {
    if (j >= rotaryDim) {
      tables.frequencies.push_back(0.0f);
      tables.cosScales.push_back(1.0f);
      tables.sinScales.push_back(0.0f);
      tables.partnerOffsets.push_back(0);
      continue;
    }
    // Pair (x[2i], x[2i+1]) interleaved, else (x[i], x[i + half]); the first
    // of a pair gets x * cos - partner * sin, the second x * cos + partner *
    // sin.
    bool first = interleaved ? j % 2 == 0 : j < half;
    int64_t pair = interleaved ? j / 2 : j % half;
    int64_t offset = interleaved ? 1 : half;
    tables.frequencies.push_back(static_cast<float>(inverse[pair]));
    tables.cosScales.push_back(static_cast<float>(magnitude));
    tables.sinScales.push_back(
        static_cast<float>(first ? -magnitude : magnitude));
    tables.partnerOffsets.push_back(first ? offset : -offset);
  }
  return tables;
}

/// A constant 1-D f32 tensor.
static Value createF32Table(OpBuilder &b, Location loc,
                            ArrayRef<float> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getF32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Rotates the heads of `input` ([B, T, heads * head_dim]) by `positions`
/// ([B, T]): cos/sin tables of [B, T, head_dim] from the constant
/// frequencies, then a generic over [B, T, heads, head_dim] (an expand of
/// the input) reading each channel and its partner, collapsed back.
struct RopeToLinalg : OpConversionPattern<RopeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (std::optional<std::string> reason = getUnsupportedReason(op))
      return rewriter.notifyMatchFailure(op, *reason);
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Value positions = adaptor.getPositions();
    RankedTensorType inputType = op.getInput().getType();
    Type f32 = rewriter.getF32Type();
    MLIRContext *context = rewriter.getContext();
    int64_t heads = static_cast<int64_t>(op.getHeads());
    int64_t headDim = op.getHeadDim();
    RopeTables tables = getRopeTables(op);

    // cos and sin per (batch, position, channel of a head).
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, input);
    OpFoldResult batch = sizes[0], seq = sizes[1];
    SmallVector<OpFoldResult> angleSizes{batch, seq,
                                         rewriter.getIndexAttr(headDim)};
    Value cosInit = createEmptyTensor(rewriter, loc, angleSizes, f32);
    Value sinInit = createEmptyTensor(rewriter, loc, angleSizes, f32);
    AffineExpr d0, d1, d2, d3;
    bindDims(context, d0, d1, d2, d3);
    AffineMap angleIdentity = getIdentityMap(context, 3);
    AffineMap positionMap = AffineMap::get(3, 0, {d0, d1}, context);
    AffineMap channelMap = getLastDimMap(context, 3);
    auto angles = linalg::GenericOp::create(
        rewriter, loc, TypeRange{cosInit.getType(), sinInit.getType()},
        ValueRange{positions, createF32Table(rewriter, loc, tables.frequencies),
                   createF32Table(rewriter, loc, tables.cosScales),
                   createF32Table(rewriter, loc, tables.sinScales)},
        ValueRange{cosInit, sinInit},
        {positionMap, channelMap, channelMap, channelMap, angleIdentity,
         angleIdentity},
        getIterators(3), [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          Value position = arith::SIToFPOp::create(b, bodyLoc, f32, args[0]);
          Value angle = arith::MulFOp::create(b, bodyLoc, position, args[1]);
          Value cos = arith::MulFOp::create(
              b, bodyLoc, math::CosOp::create(b, bodyLoc, angle), args[2]);
          Value sin = arith::MulFOp::create(
              b, bodyLoc, math::SinOp::create(b, bodyLoc, angle), args[3]);
          linalg::YieldOp::create(b, bodyLoc, ValueRange{cos, sin});
        });

    // The input with its heads split out.
    SmallVector<int64_t> headShape{inputType.getDimSize(0),
                                   inputType.getDimSize(1), heads, headDim};
    auto headType = RankedTensorType::get(headShape, f32);
    SmallVector<ReassociationIndices> reassociation{{0}, {1}, {2, 3}};
    SmallVector<OpFoldResult> headSizes{batch, seq,
                                        rewriter.getIndexAttr(heads),
                                        rewriter.getIndexAttr(headDim)};
    Value split = tensor::ExpandShapeOp::create(rewriter, loc, headType, input,
                                                reassociation, headSizes);

    auto offsetType = RankedTensorType::get({headDim}, rewriter.getI64Type());
    Value partnerOffsets = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(offsetType,
                               ArrayRef<int64_t>(tables.partnerOffsets)));
    Value init = createEmptyTensor(rewriter, loc, headSizes, f32);
    AffineMap headIdentity = getIdentityMap(context, 4);
    AffineMap tableMap = AffineMap::get(4, 0, {d0, d1, d3}, context);
    AffineMap offsetMap = getLastDimMap(context, 4);
    auto rotated = linalg::GenericOp::create(
        rewriter, loc, headType,
        ValueRange{split, angles.getResult(0), angles.getResult(1),
                   partnerOffsets},
        init, {headIdentity, tableMap, tableMap, offsetMap, headIdentity},
        getIterators(4), [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
          SmallVector<Value> indices;
          for (int64_t dim = 0; dim < 4; ++dim)
            indices.push_back(linalg::IndexOp::create(b, bodyLoc, dim));
          Value offset =
              arith::IndexCastOp::create(b, bodyLoc, b.getIndexType(), args[3]);
          indices[3] = arith::AddIOp::create(b, bodyLoc, indices[3], offset);
          Value partner = tensor::ExtractOp::create(b, bodyLoc, split, indices);
          Value direct = arith::MulFOp::create(b, bodyLoc, args[0], args[1]);
          Value crossed = arith::MulFOp::create(b, bodyLoc, partner, args[2]);
          linalg::YieldOp::create(
              b, bodyLoc,
              arith::AddFOp::create(b, bodyLoc, direct, crossed).getResult());
        });

    Value result = tensor::CollapseShapeOp::create(
        rewriter, loc, inputType, rotated.getResult(0), reassociation);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tvc::populateTvcEmbeddingToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<EmbeddingToLinalg, LearnedPositionsToLinalg, RopeToLinalg>(
      patterns.getContext());
}
