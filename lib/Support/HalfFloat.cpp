//===- HalfFloat.cpp - 16-bit float conversions of weight bytes -----------===//

#include "lib/Support/HalfFloat.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using namespace mlir::tvc;

float mlir::tvc::bf16ToFloat(uint16_t bits) {
  return llvm::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

float mlir::tvc::f16ToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)
    return llvm::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return llvm::bit_cast<float>(sign | ((exponent + 112) << 23) |
                               (mantissa << 13));
}

uint16_t mlir::tvc::floatToBf16(float value) {
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40); // quiet NaN
  // Round to nearest even at bit 16; a carry into the exponent is right
  // (the largest finite values round to infinity).
  bits += 0x7fffu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t mlir::tvc::floatToF16(float value) {
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) // NaN: quiet, top payload bits kept
    return sign | 0x7e00 | static_cast<uint16_t>((magnitude >> 13) & 0x3ff);
  // From 65520 (halfway between 65504, the largest f16, and 2^16) up:
  // infinity (ties to even round 65520 up, 65504 having an odd mantissa).
  if (magnitude >= 0x477ff000u)
    return sign | 0x7c00;
  if (magnitude < 0x38800000u) {
    // Below 2^-14: a subnormal (or zero, or the smallest normal after
    // rounding). Adding 0.5, whose ulp is 2^-24, makes the FPU round at the
    // f16 subnormal step, ties to even; the bits above 0.5's are the result.
    float rounded = llvm::bit_cast<float>(magnitude) + 0.5f;
    return sign | static_cast<uint16_t>(llvm::bit_cast<uint32_t>(rounded) -
                                        0x3f000000u);
  }
  // Normal: rebias the exponent (127 -> 15) and round at bit 13, ties to
  // even; a mantissa carry correctly bumps the exponent.
  uint32_t odd = (magnitude >> 13) & 1;
  magnitude += 0xc8000000u + 0xfffu + odd;
  return sign | static_cast<uint16_t>(magnitude >> 13);
}

namespace {

/// One element of `type` at `data` as a double (F64, F32, F16, BF16).
double loadElement(DType type, const char *data) {
  switch (type) {
  case DType::F64: {
    double value;
    std::memcpy(&value, data, sizeof(value));
    return value;
  }
  case DType::F32: {
    float value;
    std::memcpy(&value, data, sizeof(value));
    return value;
  }
  case DType::F16:
  case DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, data, sizeof(bits));
    return type == DType::F16 ? f16ToFloat(bits) : bf16ToFloat(bits);
  }
  default:
    return 0;
  }
}

/// Stores `value` as one element of `type` at `data`.
void storeElement(DType type, double value, char *data) {
  switch (type) {
  case DType::F64:
    std::memcpy(data, &value, sizeof(value));
    return;
  case DType::F32: {
    float narrowed = static_cast<float>(value);
    std::memcpy(data, &narrowed, sizeof(narrowed));
    return;
  }
  case DType::F16:
  case DType::BF16: {
    float narrowed = static_cast<float>(value);
    uint16_t bits =
        type == DType::F16 ? floatToF16(narrowed) : floatToBf16(narrowed);
    std::memcpy(data, &bits, sizeof(bits));
    return;
  }
  default:
    return;
  }
}

bool isConvertible(DType type) {
  return type == DType::F64 || type == DType::F32 || type == DType::F16 ||
         type == DType::BF16;
}

} // namespace

llvm::Error mlir::tvc::convertFloatElements(DType fromType, DType toType,
                                            llvm::ArrayRef<char> from,
                                            std::vector<char> &to) {
  if (!isConvertible(fromType) || !isConvertible(toType))
    return llvm::createStringError(
        llvm::formatv("cannot convert {0} elements to {1} (F64, F32, F16 "
                      "and BF16 only)",
                      getDTypeName(fromType), getDTypeName(toType))
            .str());
  unsigned fromSize = getDTypeSize(fromType), toSize = getDTypeSize(toType);
  if (from.size() % fromSize != 0)
    return llvm::createStringError(
        llvm::formatv("{0} bytes are not a whole number of {1} elements",
                      from.size(), getDTypeName(fromType))
            .str());
  size_t count = from.size() / fromSize;
  size_t start = to.size();
  to.resize(start + count * toSize);
  char *out = to.data() + start;
  if (fromType == toType) {
    std::memcpy(out, from.data(), from.size());
    return llvm::Error::success();
  }
  for (size_t i = 0; i < count; ++i)
    storeElement(toType, loadElement(fromType, from.data() + i * fromSize),
                 out + i * toSize);
  return llvm::Error::success();
}
