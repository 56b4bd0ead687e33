// Round-trip of every tvc op and attribute: parse, print, re-parse; and the
// same through the generic form, so the custom formats and the properties
// both survive.
// RUN: tvc-opt %s -split-input-file | tvc-opt -split-input-file | FileCheck %s
// RUN: tvc-opt %s -split-input-file --mlir-print-op-generic | tvc-opt -split-input-file | FileCheck %s

/// Inline and external weights, and the weight read.
// CHECK: tvc.global @wte : tensor<16x8xf32> = #tvc.external<"model.safetensors", "transformer.wte.weight">
tvc.global @wte : tensor<16x8xf32> = #tvc.external<"model.safetensors", "transformer.wte.weight">
// CHECK: tvc.global @wte.rows8 : tensor<8x8xf32> = #tvc.rows<@wte, 8>
tvc.global @wte.rows8 : tensor<8x8xf32> = #tvc.rows<@wte, 8>
// CHECK: tvc.global @ln_bias : tensor<8xf32> = dense<0.000000e+00> : tensor<8xf32>
tvc.global @ln_bias : tensor<8xf32> = dense<0.0> : tensor<8xf32>
// CHECK-LABEL: func.func @weight_read
func.func @weight_read() -> tensor<16x8xf32> {
  // CHECK: tvc.weight @wte : tensor<16x8xf32>
  %table = tvc.weight @wte : tensor<16x8xf32>
  return %table : tensor<16x8xf32>
}

// -----

/// Token embedding with a dynamic sequence length.
// CHECK-LABEL: func.func @embedding_dynamic_seq
func.func @embedding_dynamic_seq(%table: tensor<16x8xf32>, %ids: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  // CHECK: tvc.embedding %{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<1x?xi64>
  %hidden = tvc.embedding %table, %ids : tensor<16x8xf32>, tensor<1x?xi64>
  return %hidden : tensor<1x?x8xf32>
}

// -----

/// GPT-2 learned absolute positions.
// CHECK-LABEL: func.func @learned_positions
func.func @learned_positions(%hidden: tensor<2x4x8xf32>, %table: tensor<32x8xf32>, %positions: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  // CHECK: tvc.learned_positions %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<32x8xf32>, tensor<2x4xi64>
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<2x4x8xf32>, tensor<32x8xf32>, tensor<2x4xi64>
  return %out : tensor<2x4x8xf32>
}

// -----

/// RoPE with each scaling kind, partial rotary width and GPT-J pairing.
// CHECK-LABEL: func.func @rope_scalings
func.func @rope_scalings(%query: tensor<1x4x16xf32>, %positions: tensor<1x4xi64>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: tvc.rope %{{.*}}, %{{.*}} heads 2 theta 1.000000e+04 : tensor<1x4x16xf32>, tensor<1x4xi64>
  %plain = tvc.rope %query, %positions heads 2 theta 10000.0 : tensor<1x4x16xf32>, tensor<1x4xi64>
  // CHECK: tvc.rope %{{.*}}, %{{.*}} heads 2 theta 1.000000e+04 rotary_dim 4 interleaved scaling <kind = linear, factor = 2.000000e+00>
  %linear = tvc.rope %query, %positions heads 2 theta 10000.0 rotary_dim 4 interleaved scaling <kind = linear, factor = 2.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  // CHECK: scaling <kind = ntk, factor = 4.000000e+00>
  %ntk = tvc.rope %query, %positions heads 2 theta 10000.0 scaling <kind = ntk, factor = 4.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  // CHECK: scaling <kind = yarn, factor = 8.000000e+00, original_max_positions = 4096, beta_fast = 1.600000e+01, beta_slow = 2.000000e+00>
  %yarn = tvc.rope %query, %positions heads 2 theta 500000.0 scaling <kind = yarn, factor = 8.0, original_max_positions = 4096, beta_fast = 16.0, beta_slow = 2.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  // CHECK: scaling <kind = llama3, factor = 8.000000e+00, original_max_positions = 8192, low_freq_factor = 2.000000e+00, high_freq_factor = 8.000000e+00>
  %llama3 = tvc.rope %query, %positions heads 2 theta 500000.0 scaling <kind = llama3, factor = 8.0, original_max_positions = 8192, low_freq_factor = 2.0, high_freq_factor = 8.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  return %plain, %linear, %ntk, %yarn : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// -----

/// Layer norm with and without bias, RMS norm.
// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<1x4x8xbf16>, %scale: tensor<8xbf16>, %bias: tensor<8xbf16>) -> (tensor<1x4x8xbf16>, tensor<1x4x8xbf16>, tensor<1x4x8xbf16>) {
  // CHECK: tvc.layer_norm %{{.*}}, %{{.*}}, %{{.*}} epsilon 1.000000e-05 : tensor<1x4x8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  %ln = tvc.layer_norm %x, %scale, %bias epsilon 1.0e-5 : tensor<1x4x8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  // CHECK: tvc.layer_norm %{{.*}}, %{{.*}} epsilon 1.000000e-05 : tensor<1x4x8xbf16>, tensor<8xbf16>
  %ln_nobias = tvc.layer_norm %x, %scale epsilon 1.0e-5 : tensor<1x4x8xbf16>, tensor<8xbf16>
  // CHECK: tvc.rms_norm %{{.*}}, %{{.*}} epsilon 9.9999999999999995E-7 : tensor<1x4x8xbf16>, tensor<8xbf16>
  %rms = tvc.rms_norm %x, %scale epsilon 1.0e-6 : tensor<1x4x8xbf16>, tensor<8xbf16>
  return %ln, %ln_nobias, %rms : tensor<1x4x8xbf16>, tensor<1x4x8xbf16>, tensor<1x4x8xbf16>
}

// -----

/// Dense linear with and without bias; the structure is elided when dense
/// and still parses when written.
// CHECK-LABEL: func.func @linear_dense
func.func @linear_dense(%x: tensor<1x?x8xf32>, %weight: tensor<24x8xf32>, %bias: tensor<24xf32>) -> (tensor<1x?x24xf32>, tensor<1x?x24xf32>) {
  // CHECK: tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<1x?x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  %with_bias = tvc.linear %x, %weight bias %bias : (tensor<1x?x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<1x?x8xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  %explicit = tvc.linear %x, %weight structure(#tvc.dense) : (tensor<1x?x8xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  return %with_bias, %explicit : tensor<1x?x24xf32>, tensor<1x?x24xf32>
}

// -----

/// A 2:4 sparse weight: compressed values [out, in/2] and index bytes
/// [out, in/8]; the output width comes from the values.
// CHECK-LABEL: func.func @linear_sparse_2to4
func.func @linear_sparse_2to4(%x: tensor<1x?x16xf32>, %values: tensor<24x8xf32>, %indices: tensor<24x2xi8>) -> tensor<1x?x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x?x16xf32>, tensor<24x8xf32>, tensor<24x2xi8>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x?x16xf32>, tensor<24x8xf32>, tensor<24x2xi8>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// A low-rank weight: V [rank, in] then U [out, rank]; the output width
/// comes from U.
// CHECK-LABEL: func.func @linear_low_rank
func.func @linear_low_rank(%x: tensor<1x?x16xf32>, %v: tensor<4x16xf32>, %u: tensor<24x4xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.low_rank<rank = 4>) : (tensor<1x?x16xf32>, tensor<4x16xf32>, tensor<24x4xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %v, %u bias %bias structure(#tvc.low_rank<rank = 4>) : (tensor<1x?x16xf32>, tensor<4x16xf32>, tensor<24x4xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// A BlockDense weight: 4 stacked [2, 4] blocks over a 16-wide input, then
/// L [24, 8].
// CHECK-LABEL: func.func @linear_block_dense
func.func @linear_block_dense(%x: tensor<1x?x16xf32>, %blocks: tensor<4x2x4xf32>, %l: tensor<24x8xf32>) -> tensor<1x?x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.block_dense<blocks = 4>) : (tensor<1x?x16xf32>, tensor<4x2x4xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %blocks, %l structure(#tvc.block_dense<blocks = 4>) : (tensor<1x?x16xf32>, tensor<4x2x4xf32>, tensor<24x8xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// A block-shuffle (Monarch) weight: 4 blocks [3, 4] over a 16-wide input,
/// the 12 results shuffled and cut into 6 slices of 2, each mapped by a
/// [5, 2] block, with a bias.
// CHECK-LABEL: func.func @linear_block_shuffle
func.func @linear_block_shuffle(%x: tensor<1x?x16xf32>, %b1: tensor<4x3x4xf32>, %b2: tensor<6x5x2xf32>, %bias: tensor<30xf32>) -> tensor<1x?x30xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.block_shuffle<blocks = 4, out_blocks = 6>) : (tensor<1x?x16xf32>, tensor<4x3x4xf32>, tensor<6x5x2xf32>, tensor<30xf32>) -> tensor<1x?x30xf32>
  %y = tvc.linear %x, %b1, %b2 bias %bias structure(#tvc.block_shuffle<blocks = 4, out_blocks = 6>) : (tensor<1x?x16xf32>, tensor<4x3x4xf32>, tensor<6x5x2xf32>, tensor<30xf32>) -> tensor<1x?x30xf32>
  return %y : tensor<1x?x30xf32>
}

// -----

/// A LoRA weight: base W [out, in], adapter A [rank, in] and B [out, rank];
/// alpha always prints.
// CHECK-LABEL: func.func @linear_lora
func.func @linear_lora(%x: tensor<1x?x16xf32>, %w: tensor<24x16xf32>, %a: tensor<2x16xf32>, %b: tensor<24x2xf32>) -> tensor<1x?x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.lora<rank = 2, alpha = 4.000000e+00>) : (tensor<1x?x16xf32>, tensor<24x16xf32>, tensor<2x16xf32>, tensor<24x2xf32>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x?x16xf32>, tensor<24x16xf32>, tensor<2x16xf32>, tensor<24x2xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// A LoRA weight over an [in, out] base (GPT-2's Conv1D); A and B keep
/// PEFT's order. The layout prints only when it is not out_in.
// CHECK-LABEL: func.func @linear_lora_in_out
func.func @linear_lora_in_out(%x: tensor<1x?x16xf32>, %w: tensor<16x24xf32>, %a: tensor<2x16xf32>, %b: tensor<24x2xf32>) -> (tensor<1x?x24xf32>, tensor<1x?x24xf32>) {
  // CHECK: structure(#tvc.lora<rank = 2, alpha = 4.000000e+00, in_out>) : (tensor<1x?x16xf32>, tensor<16x24xf32>, tensor<2x16xf32>, tensor<24x2xf32>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, in_out>) : (tensor<1x?x16xf32>, tensor<16x24xf32>, tensor<2x16xf32>, tensor<24x2xf32>) -> tensor<1x?x24xf32>
  // CHECK: structure(#tvc.lora<rank = 2, alpha = 4.000000e+00>) : (tensor<1x?x16xf32>, tensor<24x16xf32>
  %t = tensor.empty() : tensor<24x16xf32>
  %z = tvc.linear %x, %t, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, out_in>) : (tensor<1x?x16xf32>, tensor<24x16xf32>, tensor<2x16xf32>, tensor<24x2xf32>) -> tensor<1x?x24xf32>
  return %y, %z : tensor<1x?x24xf32>, tensor<1x?x24xf32>
}

// -----

/// Index weights are integer globals.
// CHECK: tvc.global @indices : tensor<2x1xi8> = dense<{{\[}}[7], [-28]]> : tensor<2x1xi8>
tvc.global @indices : tensor<2x1xi8> = dense<[[7], [-28]]> : tensor<2x1xi8>

// -----

/// A Conv1D-layout ([in, out]) weight, as in Hugging Face GPT-2.
// CHECK-LABEL: func.func @linear_dense_in_out
func.func @linear_dense_in_out(%x: tensor<1x?x8xf32>, %weight: tensor<8x24xf32>) -> tensor<1x?x24xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x8xf32>, tensor<8x24xf32>) -> tensor<1x?x24xf32>
  %y = tvc.linear %x, %weight structure(#tvc.dense<in_out>) : (tensor<1x?x8xf32>, tensor<8x24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// Splitting a fused QKV projection.
// CHECK-LABEL: func.func @split_fused_qkv
func.func @split_fused_qkv(%qkv: tensor<1x?x24xf32>) -> (tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>) {
  // CHECK: %{{.*}}:3 = tvc.split %{{.*}} sizes [8, 8, 8] : tensor<1x?x24xf32>
  %query, %key, %value = tvc.split %qkv sizes [8, 8, 8] : tensor<1x?x24xf32>
  return %query, %key, %value : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
}

// -----

/// 16-bit weights with f32 activations: the weight widens, the result is
/// f32 (tvc-convert-precision's form).
// CHECK-LABEL: func.func @half_weights
func.func @half_weights(%x: tensor<1x4x8xf32>, %w: tensor<16x8xbf16>, %b: tensor<16xf32>, %t: tensor<8x16xf16>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<1x4x8xf32>, tensor<16x8xbf16>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %y = tvc.linear %x, %w bias %b : (tensor<1x4x8xf32>, tensor<16x8xbf16>, tensor<16xf32>) -> tensor<1x4x16xf32>
  // CHECK: tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x4x8xf32>, tensor<8x16xf16>) -> tensor<1x4x16xf32>
  %z = tvc.linear %x, %t structure(#tvc.dense<in_out>) : (tensor<1x4x8xf32>, tensor<8x16xf16>) -> tensor<1x4x16xf32>
  // CHECK: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xbf16>
  %logits = tvc.lm_head %x, %w : tensor<1x4x8xf32>, tensor<16x8xbf16>
  return %y, %z, %logits : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

/// Tied and untied LM heads.
// CHECK-LABEL: func.func @lm_head
func.func @lm_head(%hidden: tensor<1x4x8xf32>, %table: tensor<16x8xf32>) -> tensor<1x4x16xf32> {
  // CHECK: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xf32>
  %logits = tvc.lm_head %hidden, %table : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %logits : tensor<1x4x16xf32>
}

// -----

/// Attention with each mask kind, GQA, an explicit scale, decode shapes.
// CHECK-LABEL: func.func @attention_masks
func.func @attention_masks(%query: tensor<1x4x16xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>, %decode_q: tensor<1x1x16xf32>, %cache_k: tensor<1x9x4xf32>, %cache_v: tensor<1x9x4xf32>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x1x16xf32>) {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  %causal = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.full) scale 1.250000e-01
  %full = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.full) scale 0.125 : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.sliding_window<window = 3>)
  %window = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.sliding_window<window = 3>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 1 mask(#tvc.causal) : tensor<1x1x16xf32>, tensor<1x9x4xf32>, tensor<1x9x4xf32>
  %decode = tvc.attention %decode_q, %cache_k, %cache_v heads 4 kv_heads 1 mask(#tvc.causal) : tensor<1x1x16xf32>, tensor<1x9x4xf32>, tensor<1x9x4xf32>
  return %causal, %full, %window, %decode : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x1x16xf32>
}

// -----

/// The sparse mask kinds with more than a window: window + global tokens,
/// block-local (global blocks optional) and data-dependent top-k.
// CHECK-LABEL: func.func @attention_sparse_masks
func.func @attention_sparse_masks(%query: tensor<1x4x16xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: mask(#tvc.window_global<window = 256, global = 4>)
  %window_global = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.window_global<window = 256, global = 4>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.block_local<block = 64, local = 4, global = 1>)
  %block_local = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.block_local<block = 64, local = 4, global = 1>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.block_local<block = 2, local = 1, global = 0>)
  %block_only = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.block_local<block = 2, local = 1, global = 0>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.top_k<k = 32>) scale 1.250000e-01
  %top_k = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.top_k<k = 32>) scale 0.125 : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.block_top_k<block = 64, k = 4>)
  %block_top_k = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.block_top_k<block = 64, k = 4>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.vertical_slash<vertical = 64, slash = 256, last = 64>)
  %vertical_slash = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.vertical_slash<vertical = 64, slash = 256, last = 64>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  // CHECK: mask(#tvc.alisa<window = 256, k = 64>)
  %alisa = tvc.attention %query, %key, %value heads 4 kv_heads 2 mask(#tvc.alisa<window = 256, k = 64>) : tensor<1x4x16xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %window_global, %block_local, %block_only, %top_k, %block_top_k, %vertical_slash, %alisa : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// -----

/// Activations, the gated FFN product and the residual add.
// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<1x4x8xf32>, %up: tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  // CHECK: tvc.gelu %{{.*}} : tensor<1x4x8xf32>
  %gelu = tvc.gelu %x : tensor<1x4x8xf32>
  // CHECK: tvc.gelu %{{.*}} approximate tanh : tensor<1x4x8xf32>
  %gelu_tanh = tvc.gelu %x approximate tanh : tensor<1x4x8xf32>
  // CHECK: tvc.silu %{{.*}} : tensor<1x4x8xf32>
  %silu = tvc.silu %x : tensor<1x4x8xf32>
  // CHECK: tvc.relu %{{.*}} : tensor<1x4x8xf32>
  %relu = tvc.relu %x : tensor<1x4x8xf32>
  // CHECK: tvc.glu %{{.*}}, %{{.*}} activation gelu_tanh : tensor<1x4x8xf32>
  %geglu = tvc.glu %x, %up activation gelu_tanh : tensor<1x4x8xf32>
  // CHECK: tvc.add %{{.*}}, %{{.*}} : tensor<1x4x8xf32>
  %sum = tvc.add %x, %up : tensor<1x4x8xf32>
  return %gelu, %gelu_tanh, %silu, %relu, %geglu, %sum : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// -----

/// Softmax and argmax over logits.
// CHECK-LABEL: func.func @logits
func.func @logits(%logits: tensor<1x4x16xf32>) -> (tensor<1x4x16xf32>, tensor<1x4xi64>) {
  // CHECK: tvc.softmax %{{.*}} : tensor<1x4x16xf32>
  %probs = tvc.softmax %logits : tensor<1x4x16xf32>
  // CHECK: tvc.argmax %{{.*}} : tensor<1x4x16xf32>
  %next = tvc.argmax %logits : tensor<1x4x16xf32>
  return %probs, %next : tensor<1x4x16xf32>, tensor<1x4xi64>
}

// -----

/// A layer region with two inputs and an encoder role; weights are read
/// inside the isolated region.
tvc.global @scale : tensor<8xf32> = dense<1.0> : tensor<8xf32>
// CHECK-LABEL: func.func @layer_region
func.func @layer_region(%hidden: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  // CHECK: tvc.layer 3 (%{{.*}}, %{{.*}}) : (tensor<1x4x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  // CHECK: tvc.weight @scale
  // CHECK: tvc.yield %{{.*}} : tensor<1x4x8xf32>
  %out = tvc.layer 3 (%hidden, %positions) : (tensor<1x4x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>):
    %scale = tvc.weight @scale : tensor<8xf32>
    %normed = tvc.rms_norm %x, %scale epsilon 1.0e-6 : tensor<1x4x8xf32>, tensor<8xf32>
    tvc.yield %normed : tensor<1x4x8xf32>
  }
  // CHECK: tvc.layer 0 role encoder (%{{.*}}) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %encoded = tvc.layer 0 role encoder (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    tvc.yield %x : tensor<1x4x8xf32>
  }
  return %out, %encoded : tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// -----

/// A kernel call on tensors returns its destinations; on memrefs it has no
/// results. Both print back the same.
// CHECK-LABEL: func.func @kernel_call_forms
func.func @kernel_call_forms(%x: tensor<2x8xf32>, %init: tensor<2x8xf32>, %buf: memref<2x8xf32>, %out: memref<2x8xf32>, %n: i64, %s: f64) -> tensor<2x8xf32> {
  // CHECK: %{{.*}} = tvc.kernel_call "tvc_kernel_demo" ins(%{{.*}} : tensor<2x8xf32>) outs(%{{.*}} : tensor<2x8xf32>) scalars(%{{.*}}, %{{.*}} : i64, f64) -> tensor<2x8xf32>
  %r = tvc.kernel_call "tvc_kernel_demo" ins(%x : tensor<2x8xf32>) outs(%init : tensor<2x8xf32>) scalars(%n, %s : i64, f64) -> tensor<2x8xf32>
  // CHECK: tvc.kernel_call "tvc_kernel_demo" ins(%{{.*}} : memref<2x8xf32>) outs(%{{.*}} : memref<2x8xf32>){{$}}
  tvc.kernel_call "tvc_kernel_demo" ins(%buf : memref<2x8xf32>) outs(%out : memref<2x8xf32>)
  return %r : tensor<2x8xf32>
}
