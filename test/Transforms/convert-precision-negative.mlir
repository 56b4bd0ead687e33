// RUN: tvc-opt %s -split-input-file -verify-diagnostics "-tvc-convert-precision=weights=f32" -o /dev/null

/// An op without type inference that produces 16-bit values is an error
/// naming it.
func.func @negative_untyped_op() -> tensor<2xf16> {
  // expected-error @+1 {{'tensor.empty' op has 16-bit float results that tvc-convert-precision cannot retype}}
  %e = tensor.empty() : tensor<2xf16>
  return %e : tensor<2xf16>
}

// -----

/// A weight whose file is missing: the error names the global and the file.
tvc.global @w : tensor<4x8xbf16> = #tvc.external<"missing-convert-precision.safetensors", "w">
// expected-error @-1 {{tvc-convert-precision: }}
func.func @negative_missing_file(%x: tensor<1x8xbf16>) -> tensor<1x4xbf16> {
  %w = tvc.weight @w : tensor<4x8xbf16>
  %y = tvc.linear %x, %w : (tensor<1x8xbf16>, tensor<4x8xbf16>) -> tensor<1x4xbf16>
  return %y : tensor<1x4xbf16>
}
