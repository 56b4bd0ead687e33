//===- OnnxToLinalg.h - Lowering generic ONNX nodes to linalg ---*- C++ -*-===//
//
// The handler table of convert-onnx-to-linalg (the table class of
// convert-onnx-to-tvc, filled with other handlers), one registration
// function per op family (Elementwise.cpp, Shape.cpp, Reduction.cpp,
// Matmul.cpp), and the helpers the families share: reading constant
// operands and list attributes, ONNX axes, index arithmetic that folds
// constants, numpy broadcasting as one linalg.generic, and reshapes that
// insert or drop unit dimensions.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
#define TVC_PASSES_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H

#include "passes/Conversion/OnnxToTvc/OnnxToTvc.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/OpDefinition.h"

#include <optional>
#include <string>

namespace mlir::tvc {

/// The families' registration functions (one file each).
void registerOnnxElementwiseToLinalgHandlers(OnnxHandlerTable &table);
void registerOnnxShapeToLinalgHandlers(OnnxHandlerTable &table);
void registerOnnxReductionToLinalgHandlers(OnnxHandlerTable &table);
void registerOnnxMatmulToLinalgHandlers(OnnxHandlerTable &table);

/// Registers every family's handlers.
void registerAllOnnxToLinalgHandlers(OnnxHandlerTable &table);

/// The table of all handlers, built once.
const OnnxHandlerTable &getOnnxToLinalgHandlerTable();

/// Adds the pattern lowering each default-domain `tvc_onnx.node` through
/// `table` (which must outlive it).
void populateOnnxToLinalgPatterns(RewritePatternSet &patterns,
                                  const OnnxHandlerTable &table);

//===----------------------------------------------------------------------===//
// Operands and attributes
//===----------------------------------------------------------------------===//

/// Input `index` of `node`, or null when the node has fewer inputs or the
/// input is omitted (`tvc_onnx.none`).
Value getOptionalInput(tvc_onnx::NodeOp node, unsigned index);

/// The ranked tensor type of `value`, or null.
RankedTensorType getRankedType(Value value);

/// The type of result `index` of `node` when it is a ranked tensor; when
/// shape inference left it unranked, a ranked type of `rank` dynamic sizes
/// and its element type (the handler computes the sizes). Null when the
/// result is not a tensor.
RankedTensorType getResultType(tvc_onnx::NodeOp node, unsigned index,
                               int64_t rank);

/// True for the element types the lowering computes with: floats and
/// signless integers (i1 is ONNX's bool). Unsigned integers are not
/// supported (arith works on signless integers).
bool isSupportedElementType(Type type);

/// An integer-list attribute of the node, or nullopt when it is absent or
/// not a list of integers.
std::optional<SmallVector<int64_t>> getIntsAttr(tvc_onnx::NodeOp node,
                                                StringRef name);

/// The elements of `value` when it is a constant: an `arith.constant` or an
/// ONNX Constant node (any of its value attributes); null otherwise.
ElementsAttr getConstantElements(Value value);

/// The value a Constant node holds, typed as its result; null when it holds
/// none this lowering reads (e.g. `sparse_value`, strings).
ElementsAttr getConstantNodeValue(tvc_onnx::NodeOp node);

/// The elements of a constant integer tensor, or nullopt.
std::optional<SmallVector<int64_t>> getConstantInts(Value value);

/// An ONNX axis (negative counts from the back) in `[0, rank)`, or nullopt.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// Axes read either from attribute `name` (`fromInput` false) or from the
/// constant input `index`, normalized against `rank`, sorted and unique.
/// Returns an empty vector when the axes are absent, nullopt when they are
/// not constant or out of range.
std::optional<SmallVector<int64_t>> getAxes(tvc_onnx::NodeOp node,
                                            bool fromInput, unsigned index,
                                            StringRef name, int64_t rank);

/// True when `axes` is a 1-D signless integer tensor of static length that
/// is not a constant: axes the lowering reads at run time.
bool isRuntimeAxes(Value axes);

/// The elements of the runtime axes tensor `axes` (see isRuntimeAxes) as
/// index values, each normalized against `rank` (a negative axis counts
/// from the back). Out-of-range or repeated axes are not diagnosed.
SmallVector<Value> readRuntimeAxes(OpBuilder &builder, Location loc,
                                   Value axes, int64_t rank);

/// The sizes left when the dimensions flagged (i1) in `dropped` are removed
/// from `sizes`, computed at run time: output dimension j has the size of
/// the j-th dimension not dropped (1 past the last). `resultRank` outputs.
SmallVector<Value> getSizesWithoutDropped(OpBuilder &builder, Location loc,
                                          ArrayRef<Value> sizes,
                                          ArrayRef<Value> dropped,
                                          int64_t resultRank);

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

/// `value` with a `tensor.cast` to `type` when its type differs.
Value castTo(OpBuilder &builder, Location loc, Value value, Type type);

/// Replaces `node` by `replacements`. The lowering may know a shape more or
/// less precisely than the importer's shape inference did: other generic
/// nodes (which take any type and are lowered from their operands' types)
/// use a replacement as it is, any other user gets a tensor.cast to the
/// type of the result it used.
void replaceNodeWithCasts(tvc_onnx::NodeOp node, PatternRewriter &rewriter,
                          ValueRange replacements);

/// `tensor.empty` of `sizes` and `elementType`.
Value createEmpty(OpBuilder &builder, Location loc,
                  ArrayRef<OpFoldResult> sizes, Type elementType);

/// A tensor of `sizes` filled with `value` (linalg.fill of tensor.empty).
Value createFilled(OpBuilder &builder, Location loc,
                   ArrayRef<OpFoldResult> sizes, TypedAttr value);

/// The scalar `value` converted to `to` with ONNX Cast semantics: float
/// widths by extf/truncf, integers sign-extended (bool zero-extended) or
/// truncated, float to int rounding toward zero, anything to bool as
/// `!= 0`.
Value convertScalar(OpBuilder &builder, Location loc, Value value, Type to);

/// The static shape of `sizes` (dynamic where a size is a value).
SmallVector<int64_t> getStaticShape(ArrayRef<OpFoldResult> sizes);

/// Index arithmetic on sizes that folds constants and emits `arith` ops on
/// `index` values otherwise.
struct IndexMath {
  OpBuilder &builder;
  Location loc;

  OpFoldResult add(OpFoldResult lhs, OpFoldResult rhs);
  OpFoldResult sub(OpFoldResult lhs, OpFoldResult rhs);
  OpFoldResult mul(OpFoldResult lhs, OpFoldResult rhs);
  /// Signed division rounding up (the count of a strided range).
  OpFoldResult ceilDiv(OpFoldResult lhs, OpFoldResult rhs);
  /// Signed division rounding toward zero.
  OpFoldResult div(OpFoldResult lhs, OpFoldResult rhs);
  OpFoldResult min(OpFoldResult lhs, OpFoldResult rhs);
  OpFoldResult max(OpFoldResult lhs, OpFoldResult rhs);
  /// `size` as an `index` value.
  Value value(OpFoldResult size);
};

/// Why `inputs` cannot be broadcast to `resultType` by ONNX's
/// multidirectional (numpy) rules, or nullopt when they can. A dynamic
/// input dimension is taken to equal the result's (it is never stretched,
/// as in torch-mlir); a static 1 is stretched.
std::optional<std::string> getBroadcastFailure(ValueRange inputs,
                                               RankedTensorType resultType);

/// The sizes of the broadcast of `inputs` to the rank of `resultType`:
/// static where the result type, or some input, knows the size; else read
/// with `tensor.dim` from an input of that dimension.
SmallVector<OpFoldResult> getBroadcastSizes(OpBuilder &builder, Location loc,
                                            ValueRange inputs,
                                            RankedTensorType resultType);

/// Builds one scalar of the body from the input elements.
using ScalarBodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// One parallel linalg.generic over `sizes` reading every input broadcast
/// (right-aligned, static unit dimensions stretched) and yielding
/// `body(elements)` of `elementType`.
Value buildBroadcastGeneric(OpBuilder &builder, Location loc, ValueRange inputs,
                            ArrayRef<OpFoldResult> sizes, Type elementType,
                            ScalarBodyFn body);

/// `input` with unit dimensions inserted at the sorted output positions
/// `axes` (a `tensor.expand_shape`).
Value insertUnitDims(OpBuilder &builder, Location loc, Value input,
                     ArrayRef<int64_t> axes);

/// `input` with the sorted dimensions `axes` dropped (a
/// `tensor.collapse_shape`); dynamic dimensions among them are taken to be
/// 1, as ONNX requires.
Value dropUnitDims(OpBuilder &builder, Location loc, Value input,
                   ArrayRef<int64_t> axes);

/// A reduction of `input` over the sorted dimensions `axes` into a tensor
/// of the remaining dimensions, starting from `init`; `combine` gets
/// `(element, accumulator)` and returns the new accumulator.
Value buildReduction(OpBuilder &builder, Location loc, Value input,
                     ArrayRef<int64_t> axes, TypedAttr init,
                     ScalarBodyFn combine);

/// The identity of a sum (zero) and of a max (the lowest value: -inf for
/// floats) of `type`.
TypedAttr getZeroAttr(Type type);
TypedAttr getLowestAttr(Type type);

} // namespace mlir::tvc

#endif // TVC_PASSES_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
