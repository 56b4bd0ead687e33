//===- tvc-opt.cpp - The tvc optimizer driver -----------------------------===//
//
// mlir-opt for tvc: parses a module, runs the requested passes and prints
// the result. Registers tvc and the upstream dialects and passes its
// pipelines use; everything else lives in lib/.
//
//===----------------------------------------------------------------------===//

#include "lib/Registration/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::tvc::registerTvcPasses();
  mlir::tvc::registerUpstreamPasses();
  mlir::DialectRegistry registry;
  mlir::tvc::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "tvc optimizer driver: tvc dialect passes and lowering\n",
      registry));
}
