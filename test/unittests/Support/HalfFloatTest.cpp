//===- HalfFloatTest.cpp - Tests of the 16-bit float conversions ----------===//
//
// Every bf16 and f16 bit pattern widened, and edge values plus a million
// random f32 patterns narrowed, against llvm::APFloat (round to nearest,
// ties to even). Then the byte-array conversion and its errors.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/HalfFloat.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/bit.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace mlir::tvc;

namespace {

/// APFloat's conversion of `bits` of `from` to `to`, as raw bits.
uint64_t convertWithApFloat(const llvm::fltSemantics &from,
                            const llvm::fltSemantics &to, uint64_t bits,
                            unsigned width) {
  llvm::APFloat value(from, llvm::APInt(width, bits));
  bool losesInfo = false;
  value.convert(to, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return value.bitcastToAPInt().getZExtValue();
}

TEST(HalfFloatTest, WideningIsExactForEveryPattern) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    auto pattern = static_cast<uint16_t>(bits);
    float bf16 = bf16ToFloat(pattern), f16 = f16ToFloat(pattern);
    uint64_t wantBf16 = convertWithApFloat(
        llvm::APFloat::BFloat(), llvm::APFloat::IEEEsingle(), bits, 16);
    uint64_t wantF16 = convertWithApFloat(
        llvm::APFloat::IEEEhalf(), llvm::APFloat::IEEEsingle(), bits, 16);
    if (std::isnan(bf16))
      EXPECT_TRUE(
          std::isnan(llvm::bit_cast<float>(static_cast<uint32_t>(wantBf16))))
          << bits;
    else
      EXPECT_EQ(llvm::bit_cast<uint32_t>(bf16), wantBf16) << bits;
    if (std::isnan(f16))
      EXPECT_TRUE(
          std::isnan(llvm::bit_cast<float>(static_cast<uint32_t>(wantF16))))
          << bits;
    else
      EXPECT_EQ(llvm::bit_cast<uint32_t>(f16), wantF16) << std::hex << bits;
  }
}

void expectNarrowingMatches(uint32_t bits) {
  float value = llvm::bit_cast<float>(bits);
  uint16_t bf16 = floatToBf16(value), f16 = floatToF16(value);
  if (std::isnan(value)) {
    EXPECT_TRUE(std::isnan(bf16ToFloat(bf16))) << std::hex << bits;
    EXPECT_TRUE(std::isnan(f16ToFloat(f16))) << std::hex << bits;
    // Quiet, with the sign kept.
    EXPECT_EQ(bf16 & 0x8040, ((bits >> 16) & 0x8000) | 0x40);
    EXPECT_EQ(f16 & 0x8200, ((bits >> 16) & 0x8000) | 0x200);
    return;
  }
  EXPECT_EQ(bf16, convertWithApFloat(llvm::APFloat::IEEEsingle(),
                                     llvm::APFloat::BFloat(), bits, 32))
      << std::hex << bits;
  EXPECT_EQ(f16, convertWithApFloat(llvm::APFloat::IEEEsingle(),
                                    llvm::APFloat::IEEEhalf(), bits, 32))
      << std::hex << bits;
}

TEST(HalfFloatTest, NarrowingEdgeValuesRoundToNearestEven) {
  const float edges[] = {0.0f,
                         -0.0f,
                         1.0f,
                         -1.0f,
                         65504.0f,  // largest f16
                         65519.99f, // rounds down to 65504
                         65520.0f,  // the tie: rounds to infinity
                         65536.0f,
                         std::ldexp(1.0f, -14), // smallest normal f16
                         std::ldexp(1.0f, -24), // smallest subnormal f16
                         std::ldexp(1.0f, -25), // tie: rounds to zero
                         std::ldexp(3.0f, -25), // tie: rounds to 2^-23
                         std::ldexp(1.0f, -26),
                         std::ldexp(1023.5f, -24),     // tie into the normals
                         1.0f + std::ldexp(1.0f, -11), // f16 tie, even down
                         1.0f + std::ldexp(3.0f, -11), // f16 tie, even up
                         1.0f + std::ldexp(1.0f, -8),  // bf16 tie, even down
                         1.0f + std::ldexp(3.0f, -8),  // bf16 tie, even up
                         std::numeric_limits<float>::max(),
                         std::numeric_limits<float>::min(),
                         std::numeric_limits<float>::denorm_min(),
                         std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN(),
                         std::numeric_limits<float>::signaling_NaN()};
  for (float edge : edges) {
    expectNarrowingMatches(llvm::bit_cast<uint32_t>(edge));
    expectNarrowingMatches(llvm::bit_cast<uint32_t>(-edge));
  }
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00);
  EXPECT_EQ(floatToF16(65519.99f), 0x7bff);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7f80);
}

TEST(HalfFloatTest, NarrowingRandomPatternsMatchesApFloat) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000000; ++i)
    expectNarrowingMatches(static_cast<uint32_t>(rng()));
  // Magnitudes in f16's range, where its rounding is exercised most.
  std::uniform_int_distribution<uint32_t> inRange(0x33000000u, 0x47800000u);
  for (int i = 0; i < 1000000; ++i)
    expectNarrowingMatches(inRange(rng) | (rng() & 0x80000000u));
}

TEST(HalfFloatTest, RoundTripsEveryFiniteHalfValue) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    auto pattern = static_cast<uint16_t>(bits);
    if (!std::isnan(bf16ToFloat(pattern)))
      EXPECT_EQ(floatToBf16(bf16ToFloat(pattern)), pattern);
    if (!std::isnan(f16ToFloat(pattern)))
      EXPECT_EQ(floatToF16(f16ToFloat(pattern)), pattern);
  }
}

TEST(HalfFloatTest, ConvertsByteArrays) {
  const float values[] = {1.0f, -2.5f, 3.0e-6f, 70000.0f};
  llvm::ArrayRef<char> bytes(reinterpret_cast<const char *>(values),
                             sizeof(values));
  std::vector<char> half;
  ASSERT_FALSE(llvm::errorToBool(
      convertFloatElements(DType::F32, DType::F16, bytes, half)));
  ASSERT_EQ(half.size(), 8u);
  uint16_t bits[4];
  std::memcpy(bits, half.data(), sizeof(bits));
  EXPECT_EQ(bits[0], 0x3c00);
  EXPECT_EQ(bits[1], 0xc100);
  EXPECT_EQ(bits[2], floatToF16(3.0e-6f));
  EXPECT_EQ(bits[3], 0x7c00);

  // Back to f32, appended after what `to` holds.
  std::vector<char> wide(3, 'x');
  ASSERT_FALSE(llvm::errorToBool(
      convertFloatElements(DType::F16, DType::F32, half, wide)));
  ASSERT_EQ(wide.size(), 3u + 16u);
  float back[4];
  std::memcpy(back, wide.data() + 3, sizeof(back));
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_TRUE(std::isinf(back[3]));

  // f64 -> bf16 goes through f32.
  const double doubles[] = {1.0 + 1.0 / 512, -3.0};
  std::vector<char> bf16;
  ASSERT_FALSE(llvm::errorToBool(convertFloatElements(
      DType::F64, DType::BF16,
      llvm::ArrayRef<char>(reinterpret_cast<const char *>(doubles),
                           sizeof(doubles)),
      bf16)));
  std::memcpy(bits, bf16.data(), 4);
  EXPECT_EQ(bits[0], 0x3f80);
  EXPECT_EQ(bits[1], 0xc040);
}

TEST(HalfFloatTest, RejectsOtherDtypesAndPartialElements) {
  std::vector<char> out;
  char bytes[6] = {};
  llvm::Error error = convertFloatElements(DType::I32, DType::F32,
                                           llvm::ArrayRef<char>(bytes, 4), out);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "cannot convert I32 elements to F32 (F64, F32, F16 and BF16 only)");
  error = convertFloatElements(DType::F32, DType::BF16,
                               llvm::ArrayRef<char>(bytes, 6), out);
  ASSERT_TRUE(static_cast<bool>(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "6 bytes are not a whole number of F32 elements");
  EXPECT_TRUE(out.empty());
}

} // namespace
