//===- Registration.h - One register call per component --------*- C++ -*-===//
//
// Tools call these instead of naming dialects and passes one by one, so a
// new component is registered in exactly one place.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_REGISTRATION_REGISTRATION_H
#define TVC_LIB_REGISTRATION_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::tvc {

/// The tvc and tvc_onnx dialects and the upstream dialects its lowering uses (func, arith,
/// math, tensor, linalg, memref, scf, cf, bufferization, vector, llvm, gpu,
/// nvvm).
void registerAllDialects(DialectRegistry &registry);

/// tvc's own passes (all components).
void registerTvcPasses();

/// Every upstream pass and pass pipeline (tvc pipelines and lit tests are
/// built from canonicalize, bufferization, linalg, memref, the conversions
/// to LLVM/NVVM, ...).
void registerUpstreamPasses();

} // namespace mlir::tvc

#endif // TVC_LIB_REGISTRATION_REGISTRATION_H
