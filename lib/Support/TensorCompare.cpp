//===- TensorCompare.cpp - Compare a result with its reference ------------===//
//
// Element-wise comparison of HostTensors with the tolerances of
// TensorCompare.h; NaN matches NaN.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/TensorCompare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace mlir::tvc;

namespace {

/// Elements of a float tensor as doubles (f32, f64 and bf16; others empty).
std::vector<double> asDoubles(const HostTensor &tensor) {
  std::vector<double> values(tensor.getNumElements());
  if (tensor.elementType == static_cast<int32_t>(OnnxElementType::Float)) {
    const auto *data = reinterpret_cast<const float *>(tensor.bytes.data());
    std::copy(data, data + values.size(), values.begin());
  } else if (tensor.elementType ==
             static_cast<int32_t>(OnnxElementType::Double)) {
    const auto *data = reinterpret_cast<const double *>(tensor.bytes.data());
    std::copy(data, data + values.size(), values.begin());
  } else if (tensor.elementType ==
             static_cast<int32_t>(OnnxElementType::BFloat16)) {
    // A bfloat16 is the upper half of the float with the same bits.
    const auto *data = reinterpret_cast<const uint16_t *>(tensor.bytes.data());
    for (size_t i = 0; i < values.size(); ++i) {
      uint32_t bits = uint32_t{data[i]} << 16;
      float value;
      std::memcpy(&value, &bits, sizeof(value));
      values[i] = value;
    }
  } else {
    values.clear();
  }
  return values;
}

} // namespace

std::string mlir::tvc::formatShape(const std::vector<int64_t> &shape) {
  std::string text;
  for (int64_t dim : shape)
    text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

ComparisonResult mlir::tvc::compareTensors(const HostTensor &got,
                                           const HostTensor &want,
                                           const CompareTolerance &tolerance) {
  if (got.elementType != want.elementType || got.shape != want.shape)
    return {false, std::string("MISMATCH: got ") +
                       getElementTypeName(got.elementType) + " [" +
                       formatShape(got.shape) + "], expected " +
                       getElementTypeName(want.elementType) + " [" +
                       formatShape(want.shape) + "]"};
  std::vector<double> gotValues = asDoubles(got), wantValues = asDoubles(want);
  if (gotValues.empty() && got.getNumElements() != 0) {
    bool equal = got.bytes == want.bytes;
    return {equal, equal ? "ok (exact)" : "MISMATCH: values differ"};
  }
  // bfloat16 has 8 significant bits: results rounded to nearest and a
  // reference that truncates (onnx 1.12's Cast) differ by one unit in the
  // last place, 2^-7 relative, above ONNX's default rtol of 1e-3.
  double rtol = tolerance.rtol;
  if (got.elementType == static_cast<int32_t>(OnnxElementType::BFloat16))
    rtol = std::max(rtol, 1.0 / 128);
  double maxError = 0, maxWant = 0;
  int64_t bad = 0;
  for (size_t i = 0; i < gotValues.size(); ++i) {
    double error = std::fabs(gotValues[i] - wantValues[i]);
    if (std::isnan(gotValues[i]) != std::isnan(wantValues[i]))
      error = INFINITY;
    else if (std::isnan(gotValues[i]) || gotValues[i] == wantValues[i])
      error = 0; // NaN matches NaN, and an infinity itself.
    maxError = std::max(maxError, error);
    maxWant = std::max(maxWant, std::fabs(wantValues[i]));
    if (error > tolerance.atol + rtol * std::fabs(wantValues[i]))
      ++bad;
  }
  bool ok =
      tolerance.scale > 0 ? maxError <= tolerance.scale * maxWant : bad == 0;
  char text[256];
  if (tolerance.scale > 0)
    std::snprintf(text, sizeof(text),
                  "%s: max abs error %e (max |expected| %e, limit %e)",
                  ok ? "ok" : "MISMATCH", maxError, maxWant,
                  tolerance.scale * maxWant);
  else
    std::snprintf(text, sizeof(text),
                  "%s: max abs error %e (max |expected| %e, %lld of %zu "
                  "elements outside tolerance)",
                  ok ? "ok" : "MISMATCH", maxError, maxWant,
                  static_cast<long long>(bad), gotValues.size());
  return {ok, text};
}
