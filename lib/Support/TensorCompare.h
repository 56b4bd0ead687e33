//===- TensorCompare.h - Compare a result with its reference ----*- C++ -*-===//
//
// How tvc-run and the executables tvc-compile emits check results against
// expected tensors (`--expected DIR`): floating-point elements within
// `atol + rtol * |want|` each, or with a scale S, max |got - want| <=
// S * max |want| over the tensor (bfloat16 as float, with rtol at least one
// bfloat16 unit in the last place); other element types exactly. No LLVM
// dependency.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_TENSORCOMPARE_H
#define TVC_LIB_SUPPORT_TENSORCOMPARE_H

#include "lib/Support/HostTensor.h"

#include <string>

namespace mlir::tvc {

/// Tolerances of compareTensors. Zero-initialisable is not meaningful here:
/// the defaults are ONNX's backend-test ones.
struct CompareTolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
  /// When > 0: max |got - want| <= scale * max |want| instead of rtol/atol.
  double scale = 0;
};

struct ComparisonResult {
  bool ok = false;
  /// "ok: max abs error ..." or "MISMATCH: ..." (one line, no newline).
  std::string message;
};

ComparisonResult compareTensors(const HostTensor &got, const HostTensor &want,
                                const CompareTolerance &tolerance);

/// "1x48x256" (empty for a scalar).
std::string formatShape(const std::vector<int64_t> &shape);

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_TENSORCOMPARE_H
