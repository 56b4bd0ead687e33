//===- TvcDialect.cpp - tvc dialect registration --------------------------===//
//
// Registers the tvc ops and attributes with the dialect.
//
//===----------------------------------------------------------------------===//

#include "dialects/tvc/IR/TvcOps.h"

using namespace mlir;
using namespace mlir::tvc;

#include "dialects/tvc/IR/TvcDialect.cpp.inc"

void TvcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tvc/IR/TvcOps.cpp.inc"
      >();
  registerAttributes();
}
