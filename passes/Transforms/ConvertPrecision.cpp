//===- ConvertPrecision.cpp - tvc-convert-precision -----------------------===//
//
// Chooses the element type of every float weight and makes every activation
// f32. A global is a matrix when each read of it (tvc.weight) feeds only
// #tvc.dense linear weights, LM-head weights and embedding tables; matrices
// take the `weights` type (keep: as stored), other float weights become f32.
// Converted weights are new globals written through the WeightWriter.
// Then every function is retyped in program order: 16-bit arguments widen,
// tvc ops re-infer their result types from their (now f32) operands, an
// embedding of a 16-bit table widens its gathered rows with arith.extf, and
// the function type follows its arguments and returns.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"
#include "passes/Transforms/ResultTypes.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/HalfFloat.h"
#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/FormatVariadic.h"

#include <map>

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCCONVERTPRECISION
#include "passes/Transforms/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;
using namespace mlir::tvc;

namespace {

bool isHalfFloat(Type type) { return type.isBF16() || type.isF16(); }

/// `type` with a 16-bit float element type (or scalar) made f32.
Type widen(Type type) {
  Type f32 = Float32Type::get(type.getContext());
  if (auto shaped = dyn_cast<RankedTensorType>(type))
    return isHalfFloat(shaped.getElementType()) ? shaped.clone(f32) : type;
  return isHalfFloat(type) ? f32 : type;
}

/// Whether `use` reads a weight as a dense matrix or embedding table, the
/// uses the 16-bit kernels and the widening gather serve.
bool isMatrixUse(OpOperand &use) {
  Operation *owner = use.getOwner();
  unsigned index = use.getOperandNumber();
  if (auto linear = dyn_cast<LinearOp>(owner)) {
    auto [begin, length] = linear.getODSOperandIndexAndLength(1);
    return isa<DenseStructureAttr>(linear.getStructure()) && index >= begin &&
           index < begin + length;
  }
  if (isa<LmHeadOp>(owner))
    return index == 1;
  if (isa<EmbeddingOp>(owner))
    return index == 0;
  return false;
}

/// A float APFloat widened to f32 (exact for bf16 and f16).
APFloat widenValue(APFloat value) {
  bool losesInfo = false;
  value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value;
}

class Retyper {
public:
  /// Retypes `function`'s body and signature; errors name the op.
  LogicalResult retypeFunction(func::FuncOp function) {
    if (function.isExternal()) {
      function.setType(widenFunctionType(function.getFunctionType()));
      return success();
    }
    if (!function.getBody().hasOneBlock())
      return function.emitOpError()
             << "has several blocks; tvc-convert-precision retypes "
                "single-block functions";
    Block &entry = function.getBody().front();
    if (failed(retypeBlock(entry)))
      return failure();
    auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
    function.setType(FunctionType::get(function.getContext(),
                                       entry.getArgumentTypes(),
                                       returnOp.getOperandTypes()));
    return success();
  }

private:
  FunctionType widenFunctionType(FunctionType type) {
    auto inputs = llvm::map_to_vector(type.getInputs(), widen);
    auto results = llvm::map_to_vector(type.getResults(), widen);
    return FunctionType::get(type.getContext(), inputs, results);
  }

  LogicalResult retypeBlock(Block &block) {
    for (BlockArgument argument : block.getArguments())
      argument.setType(widen(argument.getType()));
    for (Operation &op : llvm::make_early_inc_range(block))
      if (failed(retypeOp(&op)))
        return failure();
    return success();
  }

  LogicalResult retypeOp(Operation *op) {
    // Weights carry their global's (already chosen) type.
    if (isa<WeightOp>(op) || op->hasTrait<OpTrait::IsTerminator>())
      return success();
    if (auto layer = dyn_cast<LayerOp>(op)) {
      Block &body = layer.getBody().front();
      for (auto [argument, input] :
           llvm::zip_equal(body.getArguments(), layer.getInputs()))
        argument.setType(input.getType());
      if (failed(retypeBlock(body)))
        return failure();
      for (auto [result, value] : llvm::zip_equal(
               layer.getResults(), body.getTerminator()->getOperands()))
        result.setType(value.getType());
      return success();
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op))
      return retypeConstant(constant);
    // A conversion between two types that are now both f32 (the widening
    // of an earlier run, whose table became f32) goes away.
    if (isa<arith::ExtFOp, arith::TruncFOp>(op) &&
        op->getOperand(0).getType() == widen(op->getResult(0).getType())) {
      op->getResult(0).replaceAllUsesWith(op->getOperand(0));
      op->erase();
      return success();
    }
    Reinferred reinferred = reinferResultTypes(op);
    if (reinferred == Reinferred::Failed)
      return op->emitOpError() << "cannot infer its result types after "
                                  "its operands became f32";
    if (reinferred == Reinferred::NotInferable &&
        llvm::any_of(op->getResultTypes(),
                     [](Type type) { return widen(type) != type; }))
      return op->emitOpError()
             << "has 16-bit float results that tvc-convert-precision "
                "cannot retype";
    // The gathered rows of a 16-bit table widen right after the gather.
    if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
      Value rows = embedding.getResult();
      Type wide = widen(rows.getType());
      if (wide != rows.getType()) {
        OpBuilder builder(op->getContext());
        builder.setInsertionPointAfter(op);
        auto extended =
            arith::ExtFOp::create(builder, op->getLoc(), wide, rows);
        rows.replaceAllUsesExcept(extended, extended);
      }
    }
    return success();
  }

  LogicalResult retypeConstant(arith::ConstantOp constant) {
    Type wide = widen(constant.getType());
    if (wide == constant.getType())
      return success();
    Attribute value;
    if (auto scalar = dyn_cast<FloatAttr>(constant.getValue()))
      value = FloatAttr::get(wide, widenValue(scalar.getValue()));
    else if (auto elements = dyn_cast<DenseFPElementsAttr>(constant.getValue()))
      value = elements.mapValues(cast<ShapedType>(wide).getElementType(),
                                 [](const APFloat &element) {
                                   return widenValue(element).bitcastToAPInt();
                                 });
    else
      return constant.emitOpError()
             << "has a 16-bit float value tvc-convert-precision cannot "
                "widen";
    OpBuilder builder(constant);
    auto replacement = arith::ConstantOp::create(builder, constant.getLoc(),
                                                 cast<TypedAttr>(value));
    constant.replaceAllUsesWith(replacement.getResult());
    constant.erase();
    return success();
  }
};

struct ConvertPrecisionPass
    : public tvc::impl::TvcConvertPrecisionBase<ConvertPrecisionPass> {
  using TvcConvertPrecisionBase::TvcConvertPrecisionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    std::optional<Type> matrixType; // std::nullopt: keep
    if (weights == "f32")
      matrixType = Float32Type::get(context);
    else if (weights == "bf16")
      matrixType = BFloat16Type::get(context);
    else if (weights == "f16")
      matrixType = Float16Type::get(context);
    else if (weights != "keep") {
      module.emitError() << "tvc-convert-precision: 'weights' must be keep, "
                            "f32, bf16 or f16, got '"
                         << weights << "'";
      return signalPassFailure();
    }

    // How each global is read.
    llvm::MapVector<GlobalOp, SmallVector<WeightOp>> reads;
    SymbolTable symbols(module);
    module.walk([&](WeightOp read) {
      if (auto global = symbols.lookup<GlobalOp>(read.getName()))
        reads[global].push_back(read);
    });

    WeightStore store(baseDir);
    WeightWriter writer(module, weightsFile, baseDir);
    // Converted globals per new element type, for the report.
    std::map<std::string, int64_t> converted;
    uint64_t bytesBefore = 0, bytesAfter = 0;
    for (auto &[global, globalReads] : reads) {
      RankedTensorType type = global.getTensorType();
      Type element = type.getElementType();
      if (!isa<FloatType>(element))
        continue;
      bool matrix = llvm::all_of(globalReads, [](WeightOp read) {
        return llvm::all_of(read->getUses(), isMatrixUse);
      });
      Type target = element;
      if (matrix && matrixType && element != *matrixType)
        target = *matrixType;
      else if (!matrix && isHalfFloat(element))
        target = Float32Type::get(context);
      else if (matrix && !matrixType && element.isF64())
        target = Float32Type::get(context);
      bytesBefore += global.getByteSize();
      if (target == element) {
        bytesAfter += global.getByteSize();
        continue;
      }
      llvm::Expected<WeightView> view = store.read(global);
      if (!view) {
        global.emitError() << "tvc-convert-precision: "
                           << llvm::toString(view.takeError());
        return signalPassFailure();
      }
      std::optional<DType> dtype = getDTypeForElementType(target);
      std::vector<char> bytes;
      if (llvm::Error error =
              dtype ? convertFloatElements(view->dtype, *dtype, view->bytes,
                                           bytes)
                    : llvm::createStringError("no safetensors dtype")) {
        global.emitError() << "tvc-convert-precision: "
                           << llvm::toString(std::move(error));
        return signalPassFailure();
      }
      std::string suffix;
      llvm::raw_string_ostream(suffix) << target;
      auto newType = type.clone(target);
      GlobalOp replacement = writer.create(
          (global.getSymName() + "." + suffix).str(), newType, bytes);
      bytesAfter += replacement.getByteSize();
      for (WeightOp read : globalReads) {
        read.setNameAttr(FlatSymbolRefAttr::get(replacement.getSymNameAttr()));
        read.getResult().setType(newType);
      }
      ++converted[suffix];
    }
    if (llvm::Error error = writer.commit()) {
      module.emitError() << "tvc-convert-precision: "
                         << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    for (auto &[global, globalReads] : reads)
      if (SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();

    Retyper retyper;
    for (auto function : module.getOps<func::FuncOp>())
      if (failed(retyper.retypeFunction(function)))
        return signalPassFailure();

    if (report) {
      std::string counts;
      for (auto &[type, count] : converted)
        counts += llvm::formatv("{0}{1} to {2}", counts.empty() ? "" : ", ",
                                count, type);
      module.emitRemark() << llvm::formatv(
          "tvc-convert-precision: activations f32; weights converted: {0}; "
          "weight bytes {1} -> {2}",
          counts.empty() ? "none" : counts, bytesBefore, bytesAfter);
    }
  }
};

} // namespace
