//===- TvcAttrs.cpp - tvc attributes --------------------------------------===//
//
// Verifiers of tvc attributes and their implementations of the mask and
// linear-structure interfaces.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;
using namespace mlir::tvc;

#include "dialects/tvc/IR/TvcEnums.cpp.inc"

#include "dialects/tvc/IR/TvcAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tvc/IR/TvcAttrs.cpp.inc"

void TvcDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tvc/IR/TvcAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

bool FullMaskAttr::isAllowed(int64_t, int64_t) const { return true; }
bool FullMaskAttr::isCausal() const { return false; }
std::optional<int64_t> FullMaskAttr::getKeySpan() const { return std::nullopt; }

bool CausalMaskAttr::isAllowed(int64_t query, int64_t key) const {
  return key <= query;
}
bool CausalMaskAttr::isCausal() const { return true; }
std::optional<int64_t> CausalMaskAttr::getKeySpan() const {
  return std::nullopt;
}

LogicalResult
SlidingWindowMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              int64_t window) {
  if (window < 1)
    return emitError() << "expects 'window' >= 1, got " << window;
  return success();
}
bool SlidingWindowMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // The window counts the diagonal: i - w < j <= i.
  return key <= query && query - key < getWindow();
}
bool SlidingWindowMaskAttr::isCausal() const { return true; }
std::optional<int64_t> SlidingWindowMaskAttr::getKeySpan() const {
  return getWindow();
}

LogicalResult
WindowGlobalMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             int64_t window, int64_t global) {
  if (window < 1)
    return emitError() << "expects 'window' >= 1, got " << window;
  // Without global tokens this is a sliding window: one spelling per mask.
  if (global < 1)
    return emitError() << "expects 'global' >= 1, got " << global
                       << " (without global tokens use #tvc.sliding_window)";
  return success();
}
bool WindowGlobalMaskAttr::isAllowed(int64_t query, int64_t key) const {
  return key <= query && (key < getGlobal() || query - key < getWindow());
}
bool WindowGlobalMaskAttr::isCausal() const { return true; }
std::optional<int64_t> WindowGlobalMaskAttr::getKeySpan() const {
  // The global keys are the oldest ones, so every key may still be seen.
  return std::nullopt;
}

LogicalResult
BlockLocalMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           int64_t block, int64_t local, int64_t global) {
  if (block < 1)
    return emitError() << "expects 'block' >= 1, got " << block;
  if (local < 1)
    return emitError() << "expects 'local' >= 1, got " << local;
  if (global < 0)
    return emitError() << "expects 'global' >= 0, got " << global;
  return success();
}
bool BlockLocalMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // Positions are non-negative, so / is the floor division into blocks.
  int64_t queryBlock = query / getBlock(), keyBlock = key / getBlock();
  return key <= query &&
         (keyBlock < getGlobal() || queryBlock - keyBlock < getLocal());
}
bool BlockLocalMaskAttr::isCausal() const { return true; }
std::optional<int64_t> BlockLocalMaskAttr::getKeySpan() const {
  if (getGlobal() > 0)
    return std::nullopt;
  return getLocal() * getBlock();
}

LogicalResult TopKMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t k) {
  if (k < 1)
    return emitError() << "expects 'k' >= 1, got " << k;
  return success();
}
bool TopKMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // Only the static part: which causal keys win depends on the scores.
  return key <= query;
}
bool TopKMaskAttr::isCausal() const { return true; }
std::optional<int64_t> TopKMaskAttr::getKeySpan() const { return std::nullopt; }

LogicalResult
BlockTopKMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t block, int64_t k) {
  if (block < 1)
    return emitError() << "expects 'block' >= 1, got " << block;
  if (k < 1)
    return emitError() << "expects 'k' >= 1, got " << k;
  return success();
}
bool BlockTopKMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // Only the static part: which earlier blocks win depends on the scores.
  return key <= query;
}
bool BlockTopKMaskAttr::isCausal() const { return true; }
std::optional<int64_t> BlockTopKMaskAttr::getKeySpan() const {
  return std::nullopt;
}

LogicalResult
VerticalSlashMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              int64_t vertical, int64_t slash, int64_t last) {
  if (vertical < 1)
    return emitError() << "expects 'vertical' >= 1, got " << vertical;
  if (slash < 1)
    return emitError() << "expects 'slash' >= 1, got " << slash;
  if (last < 1)
    return emitError() << "expects 'last' >= 1, got " << last;
  // The kernel indexes keys of a pattern in 32 bits.
  if (vertical > std::numeric_limits<int32_t>::max() - slash)
    return emitError() << "expects 'vertical' + 'slash' to fit in 32 bits";
  return success();
}
bool VerticalSlashMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // Only the static part: the kept columns and offsets depend on the scores.
  return key <= query;
}
bool VerticalSlashMaskAttr::isCausal() const { return true; }
std::optional<int64_t> VerticalSlashMaskAttr::getKeySpan() const {
  return std::nullopt;
}

LogicalResult
AlisaMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      int64_t window, int64_t k) {
  if (window < 1)
    return emitError() << "expects 'window' >= 1, got " << window;
  // Without heavy keys this is a sliding window: one spelling per mask.
  if (k < 1)
    return emitError() << "expects 'k' >= 1, got " << k
                       << " (without heavy keys use #tvc.sliding_window)";
  // The kernel lists a row's keys in 32 bits.
  if (window > std::numeric_limits<int32_t>::max() - k)
    return emitError() << "expects 'window' + 'k' to fit in 32 bits";
  return success();
}
bool AlisaMaskAttr::isAllowed(int64_t query, int64_t key) const {
  // Only the static part: which older keys stay depends on the weights.
  return key <= query;
}
bool AlisaMaskAttr::isCausal() const { return true; }
std::optional<int64_t> AlisaMaskAttr::getKeySpan() const {
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Linear structures
//===----------------------------------------------------------------------===//

bool mlir::tvc::isMatrixElementTypeAllowed(Type weight, Type activation) {
  return weight == activation ||
         (activation.isF32() && (weight.isBF16() || weight.isF16()));
}

/// The (in, out) dimension indices of a dense weight in `layout`.
static std::pair<unsigned, unsigned> getInOutDims(WeightLayout layout) {
  return layout == WeightLayout::OutIn ? std::make_pair(1u, 0u)
                                       : std::make_pair(0u, 1u);
}

LogicalResult
DenseStructureAttr::verifyWeights(function_ref<InFlightDiagnostic()> emitError,
                                  TypeRange weights, int64_t inFeatures,
                                  Type elementType) const {
  if (weights.size() != 1)
    return emitError() << "expects exactly one weight for #tvc.dense, got "
                       << weights.size();
  bool outIn = getLayout() == WeightLayout::OutIn;
  auto weight = dyn_cast<RankedTensorType>(weights.front());
  if (!weight || weight.getRank() != 2)
    return emitError() << "expects a rank-2 "
                       << (outIn ? "[out, in]" : "[in, out]")
                       << " weight for #tvc.dense, got " << weights.front();
  if (!isMatrixElementTypeAllowed(weight.getElementType(), elementType))
    return emitError() << "expects the weight element type " << elementType
                       << " (the input's)"
                       << (elementType.isF32() ? " or bf16 or f16" : "")
                       << ", got " << weight.getElementType();
  int64_t weightIn = weight.getDimSize(getInOutDims(getLayout()).first);
  if (!ShapedType::isDynamic(inFeatures) && !ShapedType::isDynamic(weightIn) &&
      weightIn != inFeatures)
    return emitError() << "expects the weight's input width " << weightIn
                       << " to equal the input width " << inFeatures;
  return success();
}

int64_t DenseStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.size() != 1)
    return ShapedType::kDynamic;
  auto weight = dyn_cast<RankedTensorType>(weights.front());
  if (!weight || weight.getRank() != 2)
    return ShapedType::kDynamic;
  return weight.getDimSize(getInOutDims(getLayout()).second);
}

LogicalResult
SparseNMStructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              int64_t n, int64_t m) {
  if (n != 2 || m != 4)
    return emitError() << "expects n = 2, m = 4 (2:4 is the only N:M pattern "
                          "with a compressed format), got "
                       << n << ":" << m;
  return success();
}

LogicalResult SparseNMStructureAttr::verifyWeights(
    function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
    int64_t inFeatures, Type elementType) const {
  if (weights.size() != 2)
    return emitError() << "expects two weights (values, indices) for "
                          "#tvc.sparse_nm, got "
                       << weights.size();
  auto values = dyn_cast<RankedTensorType>(weights[0]);
  auto indices = dyn_cast<RankedTensorType>(weights[1]);
  if (!values || values.getRank() != 2)
    return emitError() << "expects rank-2 [out, in / " << getM() << " * "
                       << getN() << "] values for #tvc.sparse_nm, got "
                       << weights[0];
  if (values.getElementType() != elementType)
    return emitError() << "expects the values' element type " << elementType
                       << " (the input's), got " << values.getElementType();
  if (!indices || indices.getRank() != 2 ||
      !indices.getElementType().isSignlessInteger(8))
    return emitError() << "expects rank-2 i8 [out, in / 8] indices for "
                          "#tvc.sparse_nm, got "
                       << weights[1];
  int64_t out = values.getDimSize(0), kept = values.getDimSize(1);
  if (!ShapedType::isDynamic(out) &&
      !ShapedType::isDynamic(indices.getDimSize(0)) &&
      indices.getDimSize(0) != out)
    return emitError() << "expects " << out << " rows of indices, got "
                       << indices.getDimSize(0);
  if (ShapedType::isDynamic(inFeatures))
    return success();
  if (inFeatures % getM() != 0)
    return emitError() << "expects the input width " << inFeatures
                       << " to be a multiple of m = " << getM();
  int64_t expectedKept = inFeatures / getM() * getN();
  if (!ShapedType::isDynamic(kept) && kept != expectedKept)
    return emitError() << "expects " << expectedKept << " values per row ("
                       << getN() << " of every " << getM() << " of "
                       << inFeatures << " inputs), got " << kept;
  int64_t expectedBytes = (inFeatures + 7) / 8;
  if (!ShapedType::isDynamic(indices.getDimSize(1)) &&
      indices.getDimSize(1) != expectedBytes)
    return emitError() << "expects " << expectedBytes
                       << " index bytes per row (2 bits per kept value), got "
                       << indices.getDimSize(1);
  return success();
}

int64_t SparseNMStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.empty())
    return ShapedType::kDynamic;
  auto values = dyn_cast<RankedTensorType>(weights.front());
  if (!values || values.getRank() != 2)
    return ShapedType::kDynamic;
  return values.getDimSize(0);
}

/// Checks that `weights[index]` is a tensor of rank `rank` and of
/// `elementType`, named `name` in messages; `shape` says the expected dims
/// in words. (The messages call a matrix "a rank-2 ..." and a stack of
/// blocks "rank-3 ...".)
static FailureOr<RankedTensorType>
getWeightOfRank(function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
                unsigned index, int64_t rank, StringRef name, StringRef shape,
                StringRef structure, Type elementType) {
  auto type = dyn_cast<RankedTensorType>(weights[index]);
  if (!type || type.getRank() != rank)
    return emitError() << "expects " << (rank == 2 ? "a " : "") << "rank-"
                       << rank << " " << shape << " " << name << " for "
                       << structure << ", got " << weights[index];
  if (type.getElementType() != elementType)
    return emitError() << "expects " << name << "'s element type "
                       << elementType << " (the input's), got "
                       << type.getElementType();
  return type;
}

/// A rank-2 factor (getWeightOfRank).
static FailureOr<RankedTensorType>
getFactor(function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
          unsigned index, StringRef name, StringRef shape, StringRef structure,
          Type elementType) {
  return getWeightOfRank(emitError, weights, index, 2, name, shape, structure,
                         elementType);
}

/// A rank-3 stack of blocks (getWeightOfRank).
static FailureOr<RankedTensorType>
getBlockStack(function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
              unsigned index, StringRef name, StringRef shape,
              StringRef structure, Type elementType) {
  return getWeightOfRank(emitError, weights, index, 3, name, shape, structure,
                         elementType);
}

/// Emits "expects <prefix><expected><suffix>, got <actual>" when both are
/// static and differ.
static LogicalResult checkDim(function_ref<InFlightDiagnostic()> emitError,
                              StringRef prefix, int64_t expected,
                              StringRef suffix, int64_t actual) {
  if (ShapedType::isDynamic(expected) || ShapedType::isDynamic(actual) ||
      expected == actual)
    return success();
  return emitError() << "expects " << prefix << expected << suffix << ", got "
                     << actual;
}

/// The shared part of low-rank and LoRA: a `[rank, in]` down factor and an
/// `[out, rank]` up factor.
static LogicalResult
verifyRankFactors(function_ref<InFlightDiagnostic()> emitError,
                  RankedTensorType down, RankedTensorType up,
                  StringRef downName, StringRef upName, int64_t rank,
                  int64_t inFeatures) {
  std::string downRows = (downName + " to have ").str();
  std::string upCols = (upName + " to have ").str();
  if (failed(checkDim(emitError, downRows, rank, " rows (the rank)",
                      down.getDimSize(0))) ||
      failed(checkDim(emitError, upCols, rank, " columns (the rank)",
                      up.getDimSize(1))) ||
      failed(checkDim(emitError, downRows, inFeatures,
                      " columns (the input width)", down.getDimSize(1))))
    return failure();
  return success();
}

LogicalResult
LowRankStructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             int64_t rank) {
  if (rank < 1)
    return emitError() << "expects a positive rank for #tvc.low_rank, got "
                       << rank;
  return success();
}

LogicalResult LowRankStructureAttr::verifyWeights(
    function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
    int64_t inFeatures, Type elementType) const {
  if (weights.size() != 2)
    return emitError() << "expects two weights (V [rank, in], U [out, rank]) "
                          "for #tvc.low_rank, got "
                       << weights.size();
  FailureOr<RankedTensorType> v = getFactor(
      emitError, weights, 0, "V", "[rank, in]", "#tvc.low_rank", elementType);
  if (failed(v))
    return failure();
  FailureOr<RankedTensorType> u = getFactor(
      emitError, weights, 1, "U", "[out, rank]", "#tvc.low_rank", elementType);
  if (failed(u))
    return failure();
  return verifyRankFactors(emitError, *v, *u, "V", "U", getRank(), inFeatures);
}

int64_t LowRankStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.size() != 2)
    return ShapedType::kDynamic;
  auto u = dyn_cast<RankedTensorType>(weights[1]);
  if (!u || u.getRank() != 2)
    return ShapedType::kDynamic;
  return u.getDimSize(0);
}

LogicalResult
BlockDenseStructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t blocks) {
  if (blocks < 1)
    return emitError()
           << "expects a positive number of blocks for #tvc.block_dense, got "
           << blocks;
  return success();
}

LogicalResult BlockDenseStructureAttr::verifyWeights(
    function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
    int64_t inFeatures, Type elementType) const {
  if (weights.size() != 2)
    return emitError() << "expects two weights (B [blocks, rank / blocks, in "
                          "/ blocks], L [out, rank]) for #tvc.block_dense, got "
                       << weights.size();
  FailureOr<RankedTensorType> blocksOr = getBlockStack(
      emitError, weights, 0, "B", "[blocks, rank / blocks, in / blocks]",
      "#tvc.block_dense", elementType);
  if (failed(blocksOr))
    return failure();
  RankedTensorType blocks = *blocksOr;
  FailureOr<RankedTensorType> l =
      getFactor(emitError, weights, 1, "L", "[out, rank]", "#tvc.block_dense",
                elementType);
  if (failed(l))
    return failure();
  int64_t k = getBlocks();
  if (failed(checkDim(emitError, "B to stack ", k, " blocks",
                      blocks.getDimSize(0))))
    return failure();
  if (!ShapedType::isDynamic(inFeatures) && inFeatures % k != 0)
    return emitError() << "expects the input width " << inFeatures
                       << " to be a multiple of the " << k << " blocks";
  int64_t blockIn =
      ShapedType::isDynamic(inFeatures) ? ShapedType::kDynamic : inFeatures / k;
  int64_t blockOut = blocks.getDimSize(1);
  if (failed(checkDim(emitError, "blocks of ", blockIn,
                      " columns (the input width / blocks)",
                      blocks.getDimSize(2))) ||
      failed(checkDim(emitError, "L to have ",
                      ShapedType::isDynamic(blockOut) ? blockOut : blockOut * k,
                      " columns (blocks x block rows)", l->getDimSize(1))))
    return failure();
  return success();
}

int64_t BlockDenseStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.size() != 2)
    return ShapedType::kDynamic;
  auto l = dyn_cast<RankedTensorType>(weights[1]);
  if (!l || l.getRank() != 2)
    return ShapedType::kDynamic;
  return l.getDimSize(0);
}

LogicalResult
BlockShuffleStructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t blocks, int64_t outBlocks) {
  if (blocks < 1)
    return emitError() << "expects a positive number of blocks for "
                          "#tvc.block_shuffle, got "
                       << blocks;
  if (outBlocks < 1)
    return emitError() << "expects a positive number of out_blocks for "
                          "#tvc.block_shuffle, got "
                       << outBlocks;
  return success();
}

LogicalResult BlockShuffleStructureAttr::verifyWeights(
    function_ref<InFlightDiagnostic()> emitError, TypeRange weights,
    int64_t inFeatures, Type elementType) const {
  if (weights.size() != 2)
    return emitError() << "expects two weights (B1 [blocks, q, in / blocks], "
                          "B2 [out_blocks, s, blocks q / out_blocks]) for "
                          "#tvc.block_shuffle, got "
                       << weights.size();
  FailureOr<RankedTensorType> first =
      getBlockStack(emitError, weights, 0, "B1", "[blocks, q, in / blocks]",
                    "#tvc.block_shuffle", elementType);
  if (failed(first))
    return failure();
  FailureOr<RankedTensorType> second = getBlockStack(
      emitError, weights, 1, "B2", "[out_blocks, s, blocks q / out_blocks]",
      "#tvc.block_shuffle", elementType);
  if (failed(second))
    return failure();
  int64_t k = getBlocks(), l = getOutBlocks();
  if (failed(checkDim(emitError, "B1 to stack ", k, " blocks",
                      first->getDimSize(0))) ||
      failed(checkDim(emitError, "B2 to stack ", l, " blocks",
                      second->getDimSize(0))))
    return failure();
  if (!ShapedType::isDynamic(inFeatures) && inFeatures % k != 0)
    return emitError() << "expects the input width " << inFeatures
                       << " to be a multiple of the " << k << " blocks";
  int64_t blockIn =
      ShapedType::isDynamic(inFeatures) ? ShapedType::kDynamic : inFeatures / k;
  if (failed(checkDim(emitError, "B1's blocks to have ", blockIn,
                      " columns (the input width / blocks)",
                      first->getDimSize(2))))
    return failure();
  // The shuffled grid is cut into out_blocks equal slices.
  int64_t q = first->getDimSize(1);
  if (ShapedType::isDynamic(q))
    return success();
  if ((k * q) % l != 0)
    return emitError() << "expects the " << k * q
                       << " first-stage outputs (blocks x B1's block rows) "
                          "to be a multiple of the "
                       << l << " out_blocks";
  return checkDim(emitError, "B2's blocks to have ", k * q / l,
                  " columns (blocks x B1's block rows / out_blocks)",
                  second->getDimSize(2));
}

int64_t BlockShuffleStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.size() != 2)
    return ShapedType::kDynamic;
  auto second = dyn_cast<RankedTensorType>(weights[1]);
  if (!second || second.getRank() != 3 || second.isDynamicDim(0) ||
      second.isDynamicDim(1))
    return ShapedType::kDynamic;
  return second.getDimSize(0) * second.getDimSize(1);
}

LogicalResult
LoraStructureAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t rank, APFloat alpha, WeightLayout layout) {
  if (rank < 1)
    return emitError() << "expects a positive rank for #tvc.lora, got " << rank;
  if (!alpha.isFinite())
    return emitError() << "expects a finite alpha for #tvc.lora";
  return success();
}

LogicalResult
LoraStructureAttr::verifyWeights(function_ref<InFlightDiagnostic()> emitError,
                                 TypeRange weights, int64_t inFeatures,
                                 Type elementType) const {
  bool outIn = getLayout() == WeightLayout::OutIn;
  StringRef wShape = outIn ? "[out, in]" : "[in, out]";
  if (weights.size() != 3)
    return emitError() << "expects three weights (W " << wShape
                       << ", A [rank, in], B [out, rank]) for #tvc.lora, got "
                       << weights.size();
  FailureOr<RankedTensorType> w =
      getFactor(emitError, weights, 0, "W", wShape, "#tvc.lora", elementType);
  if (failed(w))
    return failure();
  FailureOr<RankedTensorType> a = getFactor(
      emitError, weights, 1, "A", "[rank, in]", "#tvc.lora", elementType);
  if (failed(a))
    return failure();
  FailureOr<RankedTensorType> b = getFactor(
      emitError, weights, 2, "B", "[out, rank]", "#tvc.lora", elementType);
  if (failed(b))
    return failure();
  auto [inDim, outDim] = getInOutDims(getLayout());
  StringRef wInWhat =
      outIn ? " columns (the input width)" : " rows (the input width)";
  StringRef wOut = outIn ? " rows (W's)" : " rows (W's columns)";
  if (failed(checkDim(emitError, "W to have ", inFeatures, wInWhat,
                      w->getDimSize(inDim))) ||
      failed(checkDim(emitError, "B to have ", w->getDimSize(outDim), wOut,
                      b->getDimSize(0))))
    return failure();
  return verifyRankFactors(emitError, *a, *b, "A", "B", getRank(), inFeatures);
}

int64_t LoraStructureAttr::getOutFeatures(TypeRange weights) const {
  if (weights.empty())
    return ShapedType::kDynamic;
  auto w = dyn_cast<RankedTensorType>(weights.front());
  if (!w || w.getRank() != 2)
    return ShapedType::kDynamic;
  return w.getDimSize(getInOutDims(getLayout()).second);
}

//===----------------------------------------------------------------------===//
// RoPE scaling
//===----------------------------------------------------------------------===//

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        RopeScalingKind kind, APFloat factorValue,
                        int64_t originalMaxPositions, APFloat betaFastValue,
                        APFloat betaSlowValue, APFloat lowFreqFactorValue,
                        APFloat highFreqFactorValue) {
  double factor = factorValue.convertToDouble();
  double betaFast = betaFastValue.convertToDouble();
  double betaSlow = betaSlowValue.convertToDouble();
  if (!(factor > 0.0))
    return emitError() << "expects 'factor' to be positive, got " << factor;
  if (kind == RopeScalingKind::None && factor != 1.0)
    return emitError() << "expects 'factor' = 1 for kind none, got " << factor;
  if (kind == RopeScalingKind::Yarn) {
    if (originalMaxPositions <= 0)
      return emitError() << "expects 'original_max_positions' > 0 for kind "
                            "yarn, got "
                         << originalMaxPositions;
    if (!(betaSlow > 0.0) || !(betaFast > betaSlow))
      return emitError() << "expects 'beta_fast' > 'beta_slow' > 0 for kind "
                            "yarn, got "
                         << betaFast << " and " << betaSlow;
  }
  if (kind == RopeScalingKind::Llama3) {
    if (originalMaxPositions <= 0)
      return emitError() << "expects 'original_max_positions' > 0 for kind "
                            "llama3, got "
                         << originalMaxPositions;
    double low = lowFreqFactorValue.convertToDouble();
    double high = highFreqFactorValue.convertToDouble();
    if (!(low > 0.0) || !(high > low))
      return emitError() << "expects 'high_freq_factor' > 'low_freq_factor' "
                            "> 0 for kind llama3, got "
                         << high << " and " << low;
  }
  if (originalMaxPositions < 0)
    return emitError() << "expects 'original_max_positions' >= 0, got "
                       << originalMaxPositions;
  return success();
}

//===----------------------------------------------------------------------===//
// External weights
//===----------------------------------------------------------------------===//

LogicalResult
ExternalWeightAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           StringRef file, StringRef key) {
  if (file.empty())
    return emitError() << "expects a non-empty file name";
  if (key.empty())
    return emitError() << "expects a non-empty tensor key";
  return success();
}

//===----------------------------------------------------------------------===//
// RowsWeightAttr
//===----------------------------------------------------------------------===//

LogicalResult
RowsWeightAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       FlatSymbolRefAttr source, int64_t start) {
  if (!source)
    return emitError() << "expects a source global";
  if (start < 0)
    return emitError() << "expects a non-negative first row, got " << start;
  return success();
}
