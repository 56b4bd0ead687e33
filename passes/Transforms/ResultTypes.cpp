//===- ResultTypes.cpp - Re-inferring result types in place ---------------===//

#include "passes/Transforms/ResultTypes.h"

#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;

tvc::Reinferred tvc::reinferResultTypes(Operation *op) {
  if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
            op->getRegions(), types)))
      return Reinferred::Failed;
    for (auto [result, type] : llvm::zip_equal(op->getResults(), types))
      result.setType(type);
    return Reinferred::Done;
  }
  if (op->hasTrait<OpTrait::SameOperandsAndResultType>() &&
      op->getNumOperands() > 0) {
    for (OpResult result : op->getResults())
      result.setType(op->getOperand(0).getType());
    return Reinferred::Done;
  }
  return Reinferred::NotInferable;
}
