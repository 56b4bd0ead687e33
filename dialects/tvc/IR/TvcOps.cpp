//===- TvcOps.cpp - tvc operations
//-----------------------------------------===//
//
// Verifiers and result-type inference of the tvc ops. Result-type inference
// is total over ranked tensors (it falls back to dynamic sizes where the
// operands are inconsistent) so that the parser never fails before the
// verifier, which runs first and reports the precise problem.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

/// True when two sizes may be equal (either is dynamic, or both agree).
static bool areCompatible(int64_t lhs, int64_t rhs) {
  return ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs) || lhs == rhs;
}

/// Prints a size, "?" when dynamic.
static std::string formatDim(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

/// Size of the last dimension (kDynamic for rank 0).
static int64_t getLastDim(ShapedType type) {
  return type.getRank() == 0 ? ShapedType::kDynamic : type.getShape().back();
}

/// `lhs / rhs` when both are static and rhs divides lhs, else kDynamic.
static int64_t divideStatic(int64_t lhs, int64_t rhs) {
  if (ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs) || rhs <= 0 ||
      lhs % rhs != 0)
    return ShapedType::kDynamic;
  return lhs / rhs;
}

/// `lhs * rhs` when both are static, else kDynamic.
static int64_t multiplyStatic(int64_t lhs, int64_t rhs) {
  if (ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs))
    return ShapedType::kDynamic;
  return lhs * rhs;
}

/// Casts operand `index` to a ranked tensor type, or reports why not.
static FailureOr<RankedTensorType>
getRankedOperand(ValueRange operands, unsigned index,
                 std::optional<Location> loc) {
  if (index < operands.size())
    if (auto type = dyn_cast<RankedTensorType>(operands[index].getType()))
      return type;
  (void)emitOptionalError(loc, "expects ranked tensor operands");
  return failure();
}

/// Infers the type of operand 0 (ops that keep their input's type).
static LogicalResult inferSameAsFirstOperand(std::optional<Location> loc,
                                             ValueRange operands,
                                             SmallVectorImpl<Type> &inferred) {
  auto input = getRankedOperand(operands, 0, loc);
  if (failed(input))
    return failure();
  inferred.push_back(*input);
  return success();
}

/// `type` with its last dimension set to `width` (rank >= 1).
static RankedTensorType withLastDim(RankedTensorType type, int64_t width) {
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = width;
  return RankedTensorType::get(shape, type.getElementType());
}

/// Checks that `type` has rank `rank`; `what` names the operand and layout.
static LogicalResult verifyRank(Operation *op, StringRef what,
                                RankedTensorType type, int64_t rank) {
  if (type.getRank() != rank)
    return op->emitOpError()
           << "expects '" << what << "' of rank " << rank << ", got " << type;
  return success();
}

/// Checks that `type` has rank >= 1.
static LogicalResult verifyNonScalar(Operation *op, StringRef what,
                                     RankedTensorType type) {
  if (type.getRank() == 0)
    return op->emitOpError()
           << "expects '" << what << "' of rank >= 1, got " << type;
  return success();
}

/// Checks that `type` is a 1-D tensor of `width` elements of `elementType`
/// (a per-channel parameter such as a norm scale or a bias).
static LogicalResult verifyChannelVector(Operation *op, StringRef what,
                                         RankedTensorType type, int64_t width,
                                         Type elementType) {
  if (type.getRank() != 1 || !areCompatible(type.getDimSize(0), width) ||
      type.getElementType() != elementType)
    return op->emitOpError()
           << "expects '" << what << "' to be a 1-D tensor of "
           << formatDim(width) << " x " << elementType << ", got " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// GlobalOp / WeightOp
//===----------------------------------------------------------------------===//

LogicalResult GlobalOp::verify() {
  // Weight bytes have one layout: a dynamic size could not be checked
  // against a file or laid out in memory.
  if (!getTensorType().hasStaticShape())
    return emitOpError() << "expects a statically shaped weight, got "
                         << getType();
  if (auto elements = dyn_cast<ElementsAttr>(getValue()))
    if (elements.getType() != getType())
      return emitOpError() << "expects the value's type " << elements.getType()
                           << " to equal the declared type " << getType();
  if (auto rows = dyn_cast<RowsWeightAttr>(getValue())) {
    auto source =
        SymbolTable::lookupNearestSymbolFrom<GlobalOp>(*this, rows.getSource());
    if (!source)
      return emitOpError() << "takes rows of " << rows.getSource()
                           << ", which names no tvc.global";
    if (source == *this)
      return emitOpError() << "takes rows of itself";
    if (isa<RowsWeightAttr>(source.getValue()))
      return emitOpError() << "takes rows of " << rows.getSource()
                           << ", which is itself rows of another global";
    RankedTensorType from = source.getTensorType(), to = getTensorType();
    if (from.getRank() != to.getRank() || from.getRank() == 0 ||
        from.getShape().drop_front() != to.getShape().drop_front() ||
        from.getElementType() != to.getElementType())
      return emitOpError() << "takes rows of " << rows.getSource() << " ("
                           << from << "), whose other dimensions or element "
                           << "type differ from " << to;
    if (rows.getStart() + to.getDimSize(0) > from.getDimSize(0))
      return emitOpError() << "takes rows " << rows.getStart() << " to "
                           << rows.getStart() + to.getDimSize(0) << " of "
                           << rows.getSource() << ", which has "
                           << from.getDimSize(0);
  }
  return success();
}

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto global =
      symbolTable.lookupNearestSymbolFrom<GlobalOp>(*this, getNameAttr());
  if (!global)
    return emitOpError() << "expects '" << getName()
                         << "' to name a tvc.global";
  if (global.getType() != getType())
    return emitOpError() << "expects the result type " << getType()
                         << " to equal the type of @" << getName() << ", "
                         << global.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            ValueRange operands, DictionaryAttr,
                                            OpaqueProperties, RegionRange,
                                            SmallVectorImpl<Type> &inferred) {
  auto table = getRankedOperand(operands, 0, loc);
  auto ids = getRankedOperand(operands, 1, loc);
  if (failed(table) || failed(ids))
    return failure();
  SmallVector<int64_t> shape(ids->getShape());
  shape.push_back(getLastDim(*table));
  inferred.push_back(RankedTensorType::get(shape, table->getElementType()));
  return success();
}

LogicalResult EmbeddingOp::verify() {
  return verifyRank(*this, "table [vocab, width]", getTable().getType(), 2);
}

//===----------------------------------------------------------------------===//
// LearnedPositionsOp
//===----------------------------------------------------------------------===//

LogicalResult
LearnedPositionsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     ValueRange operands, DictionaryAttr,
                                     OpaqueProperties, RegionRange,
                                     SmallVectorImpl<Type> &inferred) {
  return inferSameAsFirstOperand(loc, operands, inferred);
}

LogicalResult LearnedPositionsOp::verify() {
  RankedTensorType hidden = getHidden().getType();
  RankedTensorType table = getTable().getType();
  RankedTensorType positions = getPositions().getType();
  if (failed(verifyNonScalar(*this, "hidden", hidden)) ||
      failed(verifyRank(*this, "table [max_positions, width]", table, 2)))
    return failure();
  if (table.getElementType() != hidden.getElementType() ||
      !areCompatible(table.getDimSize(1), getLastDim(hidden)))
    return emitOpError() << "expects the table width and element type to "
                            "match the hidden states "
                         << hidden << ", got " << table;
  ArrayRef<int64_t> leading = hidden.getShape().drop_back();
  if (positions.getRank() != static_cast<int64_t>(leading.size()) ||
      !llvm::all_of(
          llvm::zip_equal(positions.getShape(), leading), [](auto dims) {
            return areCompatible(std::get<0>(dims), std::get<1>(dims));
          }))
    return emitOpError() << "expects 'positions' to have the leading shape "
                            "of the hidden states "
                         << hidden << ", got " << positions;
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

int64_t RopeOp::getHeadDim() {
  return divideStatic(getLastDim(getInput().getType()), getHeads());
}

int64_t RopeOp::getRotaryDimOrHeadDim() {
  if (std::optional<uint64_t> rotary = getRotaryDim())
    return static_cast<int64_t>(*rotary);
  return getHeadDim();
}

LogicalResult RopeOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       ValueRange operands, DictionaryAttr,
                                       OpaqueProperties, RegionRange,
                                       SmallVectorImpl<Type> &inferred) {
  return inferSameAsFirstOperand(loc, operands, inferred);
}

LogicalResult RopeOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType positions = getPositions().getType();
  if (failed(verifyRank(*this, "input [batch, seq, heads * head_dim]", input,
                        3)) ||
      failed(verifyRank(*this, "positions [batch, seq]", positions, 2)))
    return failure();
  if (!areCompatible(positions.getDimSize(0), input.getDimSize(0)) ||
      !areCompatible(positions.getDimSize(1), input.getDimSize(1)))
    return emitOpError() << "expects 'positions' " << positions
                         << " to match the batch and sequence of " << input;
  int64_t width = input.getDimSize(2);
  int64_t heads = getHeads();
  if (!ShapedType::isDynamic(width) && width % heads != 0)
    return emitOpError() << "expects 'heads' (" << heads
                         << ") to divide the input width " << width;
  int64_t headDim = getHeadDim();
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return emitOpError() << "expects an even head width, got " << headDim;
  if (std::optional<uint64_t> rotary = getRotaryDim()) {
    int64_t rotaryDim = static_cast<int64_t>(*rotary);
    if (rotaryDim % 2 != 0 ||
        (!ShapedType::isDynamic(headDim) && rotaryDim > headDim))
      return emitOpError() << "expects 'rotary_dim' (" << rotaryDim
                           << ") to be even and at most the head width "
                           << formatDim(headDim);
  }
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError() << "expects 'theta' to be positive, got "
                         << getTheta().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Shared checks of the normalization family.
static LogicalResult verifyNorm(Operation *op, RankedTensorType input,
                                RankedTensorType scale,
                                std::optional<RankedTensorType> bias,
                                double epsilon) {
  if (failed(verifyNonScalar(op, "input", input)))
    return failure();
  int64_t width = getLastDim(input);
  Type elementType = input.getElementType();
  if (failed(verifyChannelVector(op, "scale", scale, width, elementType)))
    return failure();
  if (bias &&
      failed(verifyChannelVector(op, "bias", *bias, width, elementType)))
    return failure();
  if (!(epsilon >= 0.0))
    return op->emitOpError()
           << "expects 'epsilon' to be non-negative, got " << epsilon;
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            ValueRange operands, DictionaryAttr,
                                            OpaqueProperties, RegionRange,
                                            SmallVectorImpl<Type> &inferred) {
  return inferSameAsFirstOperand(loc, operands, inferred);
}

LogicalResult LayerNormOp::verify() {
  std::optional<RankedTensorType> bias;
  if (getBias())
    bias = cast<RankedTensorType>(getBias().getType());
  return verifyNorm(*this, getInput().getType(), getScale().getType(), bias,
                    getEpsilon().convertToDouble());
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          ValueRange operands, DictionaryAttr,
                                          OpaqueProperties, RegionRange,
                                          SmallVectorImpl<Type> &inferred) {
  return inferSameAsFirstOperand(loc, operands, inferred);
}

LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, getInput().getType(), getScale().getType(),
                    std::nullopt, getEpsilon().convertToDouble());
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult
LinearOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                           ValueRange operands, DictionaryAttr attributes,
                           OpaqueProperties properties, RegionRange regions,
                           SmallVectorImpl<Type> &inferred) {
  LinearOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto input = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
  if (!input || input.getRank() == 0)
    return emitOptionalError(loc, "expects a ranked tensor input of rank >= 1");
  LinearStructureAttrInterface structure = adaptor.getStructure();
  if (!structure)
    structure = DenseStructureAttr::get(context);
  inferred.push_back(withLastDim(
      input, structure.getOutFeatures(adaptor.getWeights().getTypes())));
  return success();
}

LogicalResult LinearOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(verifyNonScalar(*this, "input", input)))
    return failure();
  LinearStructureAttrInterface structure = getStructure();
  TypeRange weights = getWeights().getTypes();
  if (failed(structure.verifyWeights([&] { return emitOpError(); }, weights,
                                     getLastDim(input),
                                     input.getElementType())))
    return failure();
  if (Value bias = getBias())
    return verifyChannelVector(
        *this, "bias", cast<RankedTensorType>(bias.getType()),
        structure.getOutFeatures(weights), input.getElementType());
  return success();
}

//===----------------------------------------------------------------------===//
// LmHeadOp
//===----------------------------------------------------------------------===//

LogicalResult LmHeadOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         ValueRange operands, DictionaryAttr,
                                         OpaqueProperties, RegionRange,
                                         SmallVectorImpl<Type> &inferred) {
  auto hidden = getRankedOperand(operands, 0, loc);
  auto weight = getRankedOperand(operands, 1, loc);
  if (failed(hidden) || failed(weight))
    return failure();
  if (hidden->getRank() == 0)
    return emitOptionalError(loc, "expects hidden states of rank >= 1");
  inferred.push_back(withLastDim(*hidden, weight->getRank() == 2
                                              ? weight->getDimSize(0)
                                              : ShapedType::kDynamic));
  return success();
}

LogicalResult LmHeadOp::verify() {
  RankedTensorType hidden = getHidden().getType();
  RankedTensorType weight = getWeight().getType();
  if (failed(verifyNonScalar(*this, "hidden", hidden)) ||
      failed(verifyRank(*this, "weight [vocab, width]", weight, 2)))
    return failure();
  if (!isMatrixElementTypeAllowed(weight.getElementType(),
                                  hidden.getElementType()) ||
      !areCompatible(weight.getDimSize(1), getLastDim(hidden)))
    return emitOpError() << "expects the weight width and element type "
                            "(or bf16 or f16 for f32 hidden states) to "
                            "match the hidden states "
                         << hidden << ", got " << weight;
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

int64_t AttentionOp::getHeadDim() {
  return divideStatic(getQuery().getType().getDimSize(2), getHeads());
}

double AttentionOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t headDim = getHeadDim();
  return ShapedType::isDynamic(headDim) ? 1.0
                                        : 1.0 / std::sqrt(double(headDim));
}

LogicalResult
AttentionOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                              ValueRange operands, DictionaryAttr attributes,
                              OpaqueProperties properties, RegionRange regions,
                              SmallVectorImpl<Type> &inferred) {
  AttentionOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto query = dyn_cast<RankedTensorType>(adaptor.getQuery().getType());
  auto value = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!query || !value || query.getRank() != 3 || value.getRank() != 3)
    return emitOptionalError(loc, "expects rank-3 query, key and value");
  int64_t heads = adaptor.getHeadsAttr() ? adaptor.getHeads() : 0;
  int64_t kvHeads = adaptor.getKvHeadsAttr() ? adaptor.getKvHeads() : 0;
  int64_t valueHeadDim = divideStatic(value.getDimSize(2), kvHeads);
  int64_t width =
      multiplyStatic(valueHeadDim, heads > 0 ? heads : ShapedType::kDynamic);
  inferred.push_back(
      RankedTensorType::get({query.getDimSize(0), query.getDimSize(1), width},
                            query.getElementType()));
  if (Value state = adaptor.getState())
    inferred.push_back(state.getType());
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType query = getQuery().getType();
  RankedTensorType key = getKey().getType();
  RankedTensorType value = getValue().getType();
  if (failed(verifyRank(*this, "query [batch, queries, width]", query, 3)) ||
      failed(verifyRank(*this, "key [batch, keys, width]", key, 3)) ||
      failed(verifyRank(*this, "value [batch, keys, width]", value, 3)))
    return failure();
  if (key.getElementType() != query.getElementType() ||
      value.getElementType() != query.getElementType())
    return emitOpError() << "expects query, key and value of one element type";
  if (!areCompatible(query.getDimSize(0), key.getDimSize(0)) ||
      !areCompatible(query.getDimSize(0), value.getDimSize(0)))
    return emitOpError() << "expects query, key and value to share the batch "
                            "size, got "
                         << formatDim(query.getDimSize(0)) << ", "
                         << formatDim(key.getDimSize(0)) << " and "
                         << formatDim(value.getDimSize(0));
  if (!areCompatible(key.getDimSize(1), value.getDimSize(1)))
    return emitOpError() << "expects key and value to have the same number "
                            "of positions, got "
                         << formatDim(key.getDimSize(1)) << " and "
                         << formatDim(value.getDimSize(1));
  int64_t heads = getHeads(), kvHeads = getKvHeads();
  int64_t queryWidth = query.getDimSize(2);
  if (!ShapedType::isDynamic(queryWidth) && queryWidth % heads != 0)
    return emitOpError() << "expects 'heads' (" << heads
                         << ") to divide the query width " << queryWidth;
  if (heads % kvHeads != 0)
    return emitOpError() << "expects 'kv_heads' (" << kvHeads
                         << ") to divide 'heads' (" << heads << ")";
  int64_t keyWidth = multiplyStatic(getHeadDim(), kvHeads);
  if (!areCompatible(key.getDimSize(2), keyWidth))
    return emitOpError() << "expects the key width " << key.getDimSize(2)
                         << " to equal kv_heads * head width = " << kvHeads
                         << " * " << getHeadDim() << " = " << keyWidth;
  int64_t valueWidth = value.getDimSize(2);
  if (!ShapedType::isDynamic(valueWidth) && valueWidth % kvHeads != 0)
    return emitOpError() << "expects 'kv_heads' (" << kvHeads
                         << ") to divide the value width " << valueWidth;
  if (std::optional<APFloat> scale = getScale())
    if (!(scale->convertToDouble() > 0.0))
      return emitOpError() << "expects 'scale' to be positive, got "
                           << scale->convertToDouble();
  if (Value state = getState()) {
    if (!isa<AlisaMaskAttr>(getMask()))
      return emitOpError() << "takes a state only with a mask that carries "
                              "one from call to call (#tvc.alisa), not "
                           << getMask();
    auto type = cast<RankedTensorType>(state.getType());
    SmallVector<int64_t> expected{query.getDimSize(0), heads,
                                  key.getDimSize(1)};
    if (type.getRank() != 3 || !type.getElementType().isF32() ||
        !areCompatible(type.getDimSize(0), expected[0]) ||
        type.getDimSize(1) != heads ||
        !areCompatible(type.getDimSize(2), expected[2]))
      return emitOpError() << "expects the state to be [batch, heads, keys] = ["
                           << formatDim(expected[0]) << ", " << heads << ", "
                           << formatDim(expected[2]) << "] f32, got " << type;
  }
  // Causal masks place queries at the last positions of the key sequence:
  // more queries than keys would put a query before position 0.
  int64_t numQueries = query.getDimSize(1), numKeys = key.getDimSize(1);
  if (getMask().isCausal() && !ShapedType::isDynamic(numQueries) &&
      !ShapedType::isDynamic(numKeys) && numQueries > numKeys)
    return emitOpError() << "expects at most as many queries as keys under a "
                            "causal mask, got "
                         << numQueries << " > " << numKeys;
  return success();
}

//===----------------------------------------------------------------------===//
// SplitOp
//===----------------------------------------------------------------------===//

LogicalResult
SplitOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                          ValueRange operands, DictionaryAttr attributes,
                          OpaqueProperties properties, RegionRange regions,
                          SmallVectorImpl<Type> &inferred) {
  SplitOp::Adaptor adaptor(operands, attributes, properties, regions);
  auto input = dyn_cast<RankedTensorType>(adaptor.getInput().getType());
  if (!input || input.getRank() == 0)
    return emitOptionalError(loc, "expects an input of rank >= 1");
  if (!adaptor.getSizesAttr())
    return emitOptionalError(loc, "expects a 'sizes' attribute");
  for (int64_t size : adaptor.getSizes())
    inferred.push_back(
        withLastDim(input, size > 0 ? size : ShapedType::kDynamic));
  return success();
}

LogicalResult SplitOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(verifyNonScalar(*this, "input", input)))
    return failure();
  ArrayRef<int64_t> sizes = getSizes();
  if (sizes.empty())
    return emitOpError() << "expects at least one size";
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size <= 0)
      return emitOpError() << "expects positive sizes, got " << size;
    if (llvm::AddOverflow(total, size, total))
      return emitOpError() << "expects sizes whose sum fits in 64 bits";
  }
  if (!areCompatible(getLastDim(input), total))
    return emitOpError() << "expects the sizes to sum to the last dimension "
                         << getLastDim(input) << ", got " << total;
  return success();
}

LogicalResult SplitOp::fold(FoldAdaptor,
                            SmallVectorImpl<OpFoldResult> &results) {
  // One piece is the whole input.
  if (getSizes().size() != 1 || getInput().getType() != getResult(0).getType())
    return failure();
  results.push_back(getInput());
  return success();
}

//===----------------------------------------------------------------------===//
// ArgmaxOp
//===----------------------------------------------------------------------===//

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         ValueRange operands, DictionaryAttr,
                                         OpaqueProperties, RegionRange,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = getRankedOperand(operands, 0, loc);
  if (failed(input))
    return failure();
  if (input->getRank() == 0)
    return emitOptionalError(loc, "expects an input of rank >= 1");
  inferred.push_back(RankedTensorType::get(input->getShape().drop_back(),
                                           IntegerType::get(context, 64)));
  return success();
}

LogicalResult ArgmaxOp::verify() {
  return verifyNonScalar(*this, "input", getInput().getType());
}

//===----------------------------------------------------------------------===//
// LayerOp
//===----------------------------------------------------------------------===//

LogicalResult LayerOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "expects the body to take one argument per input ("
                         << getInputs().size() << "), got "
                         << body.getNumArguments();
  for (auto [index, input, argument] :
       llvm::enumerate(getInputs(), body.getArguments()))
    if (input.getType() != argument.getType())
      return emitOpError() << "expects body argument #" << index
                           << " to have the input's type " << input.getType()
                           << ", got " << argument.getType();
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError() << "expects the body to end with tvc.yield";
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "expects the yielded types to equal the result "
                            "types";
  return success();
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

bool mlir::tvc::isContiguousFromStart(MemRefType type) {
  if (type.getLayout().isIdentity())
    return true;
  auto strided = dyn_cast<StridedLayoutAttr>(type.getLayout());
  if (!strided || strided.getOffset() != 0)
    return false;
  std::optional<int64_t> expected = 1;
  for (int64_t dim = type.getRank() - 1; dim >= 0; --dim) {
    int64_t size = type.getDimSize(dim);
    if (size == 1)
      continue; // a unit dimension's stride is never used
    int64_t stride = strided.getStrides()[dim];
    if (!expected || ShapedType::isDynamic(stride) || stride != *expected)
      return false;
    expected = ShapedType::isDynamic(size) ? std::nullopt
                                           : std::optional(*expected * size);
  }
  return true;
}

LogicalResult KernelCallOp::verify() {
  if (getCallee().empty())
    return emitOpError() << "expects a non-empty callee";
  if (getOutputs().empty())
    return emitOpError() << "expects at least one output";
  bool onTensors = isa<RankedTensorType>(getOutputs().front().getType());
  for (Value operand : llvm::concat<Value>(getInputs(), getOutputs())) {
    Type type = operand.getType();
    if (onTensors ? !isa<RankedTensorType>(type) : !isa<MemRefType>(type))
      return emitOpError() << "expects every shaped operand to be a "
                           << (onTensors ? "ranked tensor" : "memref")
                           << " like the first output, got " << type;
  }
  if (!onTensors) {
    if (getNumResults() != 0)
      return emitOpError() << "expects no results on memrefs, got "
                           << getNumResults();
    return success();
  }
  if (getResultTypes() != getOutputs().getTypes())
    return emitOpError() << "expects one result per output with the output's "
                            "type";
  return success();
}

void KernelCallOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // On tensors the op is pure; on memrefs it reads its inputs and writes
  // its outputs (which it may also read).
  for (OpOperand &operand : getInputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  for (OpOperand &operand : getOutputsMutable()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Write::get(), &operand,
                         SideEffects::DefaultResource::get());
  }
}

#define GET_OP_CLASSES
#include "dialects/tvc/IR/TvcOps.cpp.inc"
