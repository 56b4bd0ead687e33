//===- HalfFloat.h - 16-bit float conversions of weight bytes ---*- C++ -*-===//
//
// bf16 and IEEE binary16 (f16) to and from f32, bit-exact: widening is exact;
// narrowing rounds to nearest, ties to even, overflows to infinity, keeps
// subnormals and quiets NaNs (payload's top bits kept). The compiler
// converts weights with these when a model's precision changes
// (tvc-convert-precision); the runtime kernels widen with their own
// vector code, which the tests compare against these.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_HALFFLOAT_H
#define TVC_LIB_SUPPORT_HALFFLOAT_H

#include "lib/Support/SafeTensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::tvc {

float bf16ToFloat(uint16_t bits);
float f16ToFloat(uint16_t bits);
uint16_t floatToBf16(float value);
uint16_t floatToF16(float value);

/// Converts the little-endian elements `from` of dtype `fromType` to
/// `toType`, appending them to `to`. F64, F32, F16 and BF16 only; f64 is
/// rounded to f32 first when narrowed to 16 bits (double rounding, as
/// PyTorch's .to() does). Errors for other dtypes or a byte count that is
/// not a whole number of elements.
llvm::Error convertFloatElements(DType fromType, DType toType,
                                 llvm::ArrayRef<char> from,
                                 std::vector<char> &to);

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_HALFFLOAT_H
