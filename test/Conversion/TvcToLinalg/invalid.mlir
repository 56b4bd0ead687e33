// RUN: tvc-opt %s -split-input-file -convert-tvc-to-linalg -verify-diagnostics

// What convert-tvc-to-linalg cannot lower is an error naming the op and
// what is unsupported, with a note; nothing in the module is converted.

/// Only f32 is lowered: an f16 activation is an error.
func.func @negative_gelu_f16(%x: tensor<2x4xf16>) -> tensor<2x4xf16> {
  // expected-error @+2 {{'tvc.gelu' op cannot be lowered to linalg: expects f32 tensors, got tensor<2x4xf16>}}
  // expected-note @+1 {{convert-tvc-to-linalg lowers f32 tensors (and RoPE with a static width)}}
  %y = tvc.gelu %x : tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// -----

/// Every unsupported op is reported, not only the first.
func.func @negative_norms_bf16(%x: tensor<1x?x8xbf16>, %scale: tensor<8xbf16>) -> (tensor<1x?x8xbf16>, tensor<1x?x8xbf16>) {
  // expected-error @+2 {{'tvc.rms_norm' op cannot be lowered to linalg: expects f32 tensors, got tensor<1x?x8xbf16>}}
  // expected-note @+1 {{lowers f32 tensors}}
  %a = tvc.rms_norm %x, %scale epsilon 1.0e-06 : tensor<1x?x8xbf16>, tensor<8xbf16>
  // expected-error @+2 {{'tvc.softmax' op cannot be lowered to linalg: expects f32 tensors, got tensor<1x?x8xbf16>}}
  // expected-note @+1 {{lowers f32 tensors}}
  %b = tvc.softmax %x : tensor<1x?x8xbf16>
  return %a, %b : tensor<1x?x8xbf16>, tensor<1x?x8xbf16>
}

// -----

/// An f64 embedding table is named even though the ids are integers.
func.func @negative_embedding_f64_table(%table: tensor<10x4xf64>, %ids: tensor<1x?xi64>) -> tensor<1x?x4xf64> {
  // expected-error @+2 {{'tvc.embedding' op cannot be lowered to linalg: expects f32 tensors, got tensor<10x4xf64>}}
  // expected-note @+1 {{lowers f32 tensors}}
  %h = tvc.embedding %table, %ids : tensor<10x4xf64>, tensor<1x?xi64>
  return %h : tensor<1x?x4xf64>
}

// -----

/// RoPE builds its frequency tables at compile time: the width must be
/// static.
func.func @negative_rope_dynamic_width(%x: tensor<1x?x?xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x?xf32> {
  // expected-error @+2 {{'tvc.rope' op cannot be lowered to linalg: expects a static width (heads * head_dim)}}
  // expected-note @+1 {{RoPE with a static width}}
  %y = tvc.rope %x, %positions heads 2 theta 1.0e+04 : tensor<1x?x?xf32>, tensor<1x?xi64>
  return %y : tensor<1x?x?xf32>
}
