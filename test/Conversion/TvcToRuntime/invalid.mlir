// RUN: tvc-opt %s -split-input-file -convert-tvc-to-runtime -verify-diagnostics

/// The runtime computes in fp32 only: a bf16 linear (bf16 activations)
/// cannot be lowered; tvc-convert-precision makes activations f32.
func.func @negative_linear_bf16(%x: tensor<2x8xbf16>, %w: tensor<4x8xbf16>) -> tensor<2x4xbf16> {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel: only f32 operands are supported (and bf16 or f16 dense weights)}}
  %y = tvc.linear %x, %w : (tensor<2x8xbf16>, tensor<4x8xbf16>) -> tensor<2x4xbf16>
  return %y : tensor<2x4xbf16>
}

// -----

/// Value heads wider than query heads have no kernel.
func.func @negative_attention_wide_values(%q: tensor<1x4x8xf32>, %v: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{'tvc.attention' op has no runtime kernel: value heads (16 wide) must be as wide as query heads (8)}}
  %o = tvc.attention %q, %q, %v heads 1 kv_heads 1 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x16xf32>
  return %o : tensor<1x4x16xf32>
}

// -----

/// Every op without a kernel is reported, not only the first.
func.func @negative_two_errors(%x: tensor<2x8xf16>, %w: tensor<4x8xf16>) -> (tensor<2x4xf16>, tensor<2x4xf16>) {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel}}
  %a = tvc.linear %x, %w : (tensor<2x8xf16>, tensor<4x8xf16>) -> tensor<2x4xf16>
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel}}
  %b = tvc.linear %x, %w : (tensor<2x8xf16>, tensor<4x8xf16>) -> tensor<2x4xf16>
  return %a, %b : tensor<2x4xf16>, tensor<2x4xf16>
}

// -----

/// ALISA over a KV cache would need the accumulated weights of earlier
/// calls.
func.func @negative_alisa_with_cache(%q: tensor<1x1x8xf32>, %kv: tensor<1x16x8xf32>, %n: index) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{'tvc.attention' op has no runtime kernel: #tvc.alisa over a KV cache needs the state of the earlier calls (tvc-derive-decode adds it)}}
  %o = tvc.attention %q, %kv, %kv heads 2 kv_heads 2 mask(#tvc.alisa<window = 4, k = 2>) kv_len(%n) : tensor<1x1x8xf32>, tensor<1x16x8xf32>, tensor<1x16x8xf32>
  return %o : tensor<1x1x8xf32>
}

// -----

/// The block-diagonal kernel trusts the input to be blocks x block_k wide:
/// a dynamic width is not lowered.
func.func @negative_block_dense_dynamic_width(%x: tensor<2x?xf32>, %blocks: tensor<2x1x2xf32>, %l: tensor<3x2xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel: #tvc.block_dense needs static block sizes and a static input width}}
  %y = tvc.linear %x, %blocks, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<2x?xf32>, tensor<2x1x2xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

/// So does a block-shuffle linear's first call: a dynamic width is not
/// lowered either.
func.func @negative_block_shuffle_dynamic_width(%x: tensor<2x?xf32>, %b1: tensor<2x2x2xf32>, %b2: tensor<2x3x2xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel: #tvc.block_shuffle needs static block sizes and a static input width}}
  %y = tvc.linear %x, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<2x?xf32>, tensor<2x2x2xf32>, tensor<2x3x2xf32>) -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

/// LoRA has no kernel of its own (tvc-expand-structured-linear runs first
/// in the pipelines).
func.func @negative_lora_unexpanded(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %a: tensor<2x8xf32>, %b: tensor<4x2xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel: the runtime has no kernel for weight structure #tvc.lora<rank = 2, alpha = 2.000000e+00>}}
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 2.0>) : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x2xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

/// The low-rank kernel is f32 only.
func.func @negative_low_rank_f16(%x: tensor<2x8xf16>, %v: tensor<2x8xf16>, %u: tensor<4x2xf16>) -> tensor<2x4xf16> {
  // expected-error @+1 {{'tvc.linear' op has no runtime kernel: only f32 operands are supported (and bf16 or f16 dense weights)}}
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<2x8xf16>, tensor<2x8xf16>, tensor<4x2xf16>) -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}
