//===- BufferizableOpInterfaceImpl.h - tvc ops in one-shot bufferize -*- C++ -*-===//
//
// Registers the BufferizableOpInterface external models of the tvc ops that
// survive until bufferization (tvc.kernel_call), as upstream dialects do in
// their Transforms/BufferizableOpInterfaceImpl.h.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_DIALECTS_TVC_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define TVC_DIALECTS_TVC_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace tvc {
/// Attaches the bufferization models to the tvc dialect's ops.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace tvc
} // namespace mlir

#endif // TVC_DIALECTS_TVC_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
