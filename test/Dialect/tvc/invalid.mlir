// RUN: tvc-opt %s -split-input-file -verify-diagnostics

// Every user-visible verifier error of the tvc dialect (TvcOps.cpp,
// TvcAttrs.cpp) and the important ODS-generated constraint failures, one
// case per split-input-file chunk. Ops whose result type is inferred are written
// in the pretty form where the parser accepts the operands; cases whose
// inference would fail at parse time use the generic form so that the
// verifier reports the precise problem.

//===----------------------------------------------------------------------===//
// tvc.global
//===----------------------------------------------------------------------===//

/// An inline value must have exactly the declared type; otherwise readers of
/// the bytes would see a different layout than the uses of the global.
// expected-error @+1 {{expects the value's type 'tensor<8xf32>' to equal the declared type 'tensor<4xf32>'}}
tvc.global @global_value_type_mismatch : tensor<4xf32> = dense<0.0> : tensor<8xf32>

// -----

/// A weight has one byte layout: dynamic sizes cannot be checked against a
/// file or planned in memory.
// expected-error @+1 {{expects a statically shaped weight, got 'tensor<?x2xf32>'}}
tvc.global @global_dynamic_shape : tensor<?x2xf32> = #tvc.external<"model.safetensors", "wte">

// -----

/// Weights are float or signless integer tensors (ODS: Tvc_WeightTensor).
// expected-error @+1 {{attribute 'type' failed to satisfy constraint: type attribute of ranked tensor of floating-point or signless integer values}}
tvc.global @global_unsigned_type : tensor<4xui32> = dense<1> : tensor<4xui32>

// -----

/// The value is an elements attribute or #tvc.external, not a scalar.
// expected-error @+1 {{attribute 'value' failed to satisfy constraint: constant vector/tensor attribute or a tensor stored in a safetensors file, by name}}
tvc.global @global_scalar_value : tensor<4xf32> = 1.0 : f32

// -----

tvc.global @whole : tensor<8x4xf32> = dense<0.0> : tensor<8x4xf32>
// expected-error @+1 {{takes rows 6 to 10 of @whole, which has 8}}
tvc.global @rows_past_end : tensor<4x4xf32> = #tvc.rows<@whole, 6>

// -----

// expected-error @+1 {{takes rows of @missing, which names no tvc.global}}
tvc.global @rows_of_nothing : tensor<4x4xf32> = #tvc.rows<@missing, 0>

// -----

tvc.global @whole : tensor<8x4xf32> = dense<0.0> : tensor<8x4xf32>
// expected-error @+1 {{takes rows of @whole ('tensor<8x4xf32>'), whose other dimensions or element type differ from 'tensor<4x2xf32>'}}
tvc.global @rows_other_width : tensor<4x2xf32> = #tvc.rows<@whole, 0>

// -----

tvc.global @whole : tensor<8x4xf32> = dense<0.0> : tensor<8x4xf32>
tvc.global @half : tensor<4x4xf32> = #tvc.rows<@whole, 0>
// expected-error @+1 {{takes rows of @half, which is itself rows of another global}}
tvc.global @quarter : tensor<2x4xf32> = #tvc.rows<@half, 0>

// -----

// expected-error @+1 {{takes rows of itself}}
tvc.global @itself : tensor<4x4xf32> = #tvc.rows<@itself, 0>

// -----

tvc.global @whole : tensor<8x4xf32> = dense<0.0> : tensor<8x4xf32>
// expected-error @+1 {{expects a non-negative first row, got -1}}
tvc.global @negative_start : tensor<4x4xf32> = #tvc.rows<@whole, -1>

// -----

/// A global is a module-level symbol (HasParent<ModuleOp>): one declared
/// inside a function is rejected.
func.func @global_inside_function() {
  // expected-error @+1 {{'tvc.global' op expects parent op 'builtin.module'}}
  tvc.global @inner : tensor<4xf32> = dense<0.0> : tensor<4xf32>
  return
}

// -----

/// A global inside a tvc.layer body is not at module level either.
func.func @global_inside_layer(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %out = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    // expected-error @+1 {{'tvc.global' op expects parent op 'builtin.module'}}
    tvc.global @in_layer : tensor<4xf32> = dense<0.0> : tensor<4xf32>
    tvc.yield %x : tensor<1x4x8xf32>
  }
  return %out : tensor<1x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.external
//===----------------------------------------------------------------------===//

/// An external weight must name a file.
// expected-error @+1 {{expects a non-empty file name}}
tvc.global @external_empty_file : tensor<4xf32> = #tvc.external<"", "wte.weight">

// -----

/// An external weight must name a tensor key in its file.
// expected-error @+1 {{expects a non-empty tensor key}}
tvc.global @external_empty_key : tensor<4xf32> = #tvc.external<"model.safetensors", "">

// -----

//===----------------------------------------------------------------------===//
// tvc.weight
//===----------------------------------------------------------------------===//

/// A weight must name an existing symbol.
func.func @weight_unknown_symbol() -> tensor<4xf32> {
  // expected-error @+1 {{expects 'missing' to name a tvc.global}}
  %w = tvc.weight @missing : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

/// A weight must name a tvc.global, not another kind of symbol.
func.func private @not_a_global()

func.func @weight_names_function() -> tensor<4xf32> {
  // expected-error @+1 {{expects 'not_a_global' to name a tvc.global}}
  %w = tvc.weight @not_a_global : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

/// The result type of tvc.weight must equal the global's type.
tvc.global @wte : tensor<16x8xf32> = dense<0.0> : tensor<16x8xf32>

func.func @weight_type_mismatch() -> tensor<8x16xf32> {
  // expected-error @+1 {{expects the result type 'tensor<8x16xf32>' to equal the type of @wte, 'tensor<16x8xf32>'}}
  %wte = tvc.weight @wte : tensor<8x16xf32>
  return %wte : tensor<8x16xf32>
}

// -----

/// tvc.weight produces a float or signless integer tensor (ODS result
/// constraint).
func.func @weight_unsigned_result() -> tensor<4xui32> {
  // expected-error @+1 {{result #0 must be ranked tensor of floating-point or signless integer values}}
  %w = tvc.weight @ids : tensor<4xui32>
  return %w : tensor<4xui32>
}

// -----

//===----------------------------------------------------------------------===//
// tvc.embedding
//===----------------------------------------------------------------------===//

/// The table is [vocab, width].
func.func @embedding_table_rank_1(%table: tensor<16xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'table [vocab, width]' of rank 2, got 'tensor<16xf32>'}}
  %hidden = tvc.embedding %table, %ids : tensor<16xf32>, tensor<1x4xi64>
  return
}

// -----

/// Token ids are integers (ODS: Tvc_IndexTensor).
func.func @embedding_float_ids(%table: tensor<16x8xf32>, %ids: tensor<1x4xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values}}
  %hidden = tvc.embedding %table, %ids : tensor<16x8xf32>, tensor<1x4xf32>
  return
}

// -----

/// Operands must be ranked: the pretty form rejects an unranked table
/// before inference runs.
func.func @embedding_unranked_table(%table: tensor<*xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{invalid kind of type specified}}
  %hidden = tvc.embedding %table, %ids : tensor<*xf32>, tensor<1x4xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.learned_positions
//===----------------------------------------------------------------------===//

/// Hidden states need a channel dimension.
func.func @learned_positions_scalar_hidden(%hidden: tensor<f32>, %table: tensor<16x8xf32>, %positions: tensor<i64>) {
  // expected-error @+1 {{expects 'hidden' of rank >= 1, got 'tensor<f32>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<f32>, tensor<16x8xf32>, tensor<i64>
  return
}

// -----

/// The position table is [max_positions, width].
func.func @learned_positions_table_rank_3(%hidden: tensor<1x4x8xf32>, %table: tensor<2x16x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'table [max_positions, width]' of rank 2, got 'tensor<2x16x8xf32>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<1x4x8xf32>, tensor<2x16x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// The table width must be the hidden width.
func.func @learned_positions_table_width_mismatch(%hidden: tensor<1x4x8xf32>, %table: tensor<16x6xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects the table width and element type to match the hidden states 'tensor<1x4x8xf32>', got 'tensor<16x6xf32>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<1x4x8xf32>, tensor<16x6xf32>, tensor<1x4xi64>
  return
}

// -----

/// The table element type must be the hidden element type.
func.func @learned_positions_table_element_type_mismatch(%hidden: tensor<1x4x8xf32>, %table: tensor<16x8xf16>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects the table width and element type to match the hidden states 'tensor<1x4x8xf32>', got 'tensor<16x8xf16>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<1x4x8xf32>, tensor<16x8xf16>, tensor<1x4xi64>
  return
}

// -----

/// Positions have the hidden shape without the channel dimension.
func.func @learned_positions_positions_shape_mismatch(%hidden: tensor<1x4x8xf32>, %table: tensor<16x8xf32>, %positions: tensor<1x5xi64>) {
  // expected-error @+1 {{expects 'positions' to have the leading shape of the hidden states 'tensor<1x4x8xf32>', got 'tensor<1x5xi64>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<1x5xi64>
  return
}

// -----

/// A positions rank different from the hidden rank minus one is rejected
/// (and must not crash the shape comparison).
func.func @learned_positions_positions_rank_mismatch(%hidden: tensor<1x4x8xf32>, %table: tensor<16x8xf32>, %positions: tensor<4xi64>) {
  // expected-error @+1 {{expects 'positions' to have the leading shape of the hidden states 'tensor<1x4x8xf32>', got 'tensor<4xi64>'}}
  %out = tvc.learned_positions %hidden, %table, %positions : tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<4xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.rope
//===----------------------------------------------------------------------===//

/// The input is [batch, seq, heads * head_dim].
func.func @rope_input_rank_2(%query: tensor<4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'input [batch, seq, heads * head_dim]' of rank 3, got 'tensor<4x8xf32>'}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 : tensor<4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// Positions are [batch, seq].
func.func @rope_positions_rank_1(%query: tensor<1x4x8xf32>, %positions: tensor<4xi64>) {
  // expected-error @+1 {{expects 'positions [batch, seq]' of rank 2, got 'tensor<4xi64>'}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 : tensor<1x4x8xf32>, tensor<4xi64>
  return
}

// -----

/// Positions must match the input's batch and sequence sizes.
func.func @rope_positions_shape_mismatch(%query: tensor<1x4x8xf32>, %positions: tensor<1x3xi64>) {
  // expected-error @+1 {{expects 'positions' 'tensor<1x3xi64>' to match the batch and sequence of 'tensor<1x4x8xf32>'}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 : tensor<1x4x8xf32>, tensor<1x3xi64>
  return
}

// -----

/// The head count must divide the packed width.
func.func @rope_heads_not_dividing_width(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'heads' (3) to divide the input width 8}}
  %rotated = tvc.rope %query, %positions heads 3 theta 1.0e+04 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// Rotation pairs channels, so a head must have an even width.
func.func @rope_odd_head_width(%query: tensor<1x4x6xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects an even head width, got 3}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 : tensor<1x4x6xf32>, tensor<1x4xi64>
  return
}

// -----

/// rotary_dim pairs channels too: it must be even.
func.func @rope_odd_rotary_dim(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'rotary_dim' (3) to be even and at most the head width 4}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 rotary_dim 3 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// rotary_dim cannot exceed the head width.
func.func @rope_rotary_dim_exceeds_head(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'rotary_dim' (6) to be even and at most the head width 4}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 rotary_dim 6 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// The frequency base must be positive.
func.func @rope_theta_zero(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'theta' to be positive, got 0.000000e+00}}
  %rotated = tvc.rope %query, %positions heads 2 theta 0.0 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// heads = 0 violates IntPositive (ODS), before any division by it.
func.func @rope_zero_heads(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %rotated = tvc.rope %query, %positions heads 0 theta 1.0e+04 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// rotary_dim = 0 violates IntPositive (ODS).
func.func @rope_zero_rotary_dim(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{attribute 'rotary_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 rotary_dim 0 : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// Positions are integers (ODS: Tvc_IndexTensor).
func.func @rope_float_positions(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 : tensor<1x4x8xf32>, tensor<1x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.rope_scaling
//===----------------------------------------------------------------------===//

/// A scaling factor must be positive.
func.func @rope_scaling_zero_factor(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'factor' to be positive, got 0.000000e+00}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 scaling <kind = linear, factor = 0.0> : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// Kind none is the identity: any other factor would be silently ignored.
func.func @rope_scaling_none_with_factor(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'factor' = 1 for kind none, got 2.000000e+00}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 scaling <kind = none, factor = 2.0> : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// YaRN needs the trained context length.
func.func @rope_scaling_yarn_without_original_max_positions(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'original_max_positions' > 0 for kind yarn, got 0}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 scaling <kind = yarn, factor = 4.0> : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// YaRN's ramp needs beta_fast > beta_slow > 0.
func.func @rope_scaling_yarn_beta_order(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'beta_fast' > 'beta_slow' > 0 for kind yarn, got 1.000000e+00 and 3.200000e+01}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 scaling <kind = yarn, factor = 4.0, original_max_positions = 128, beta_fast = 1.0, beta_slow = 32.0> : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

/// A negative trained context length is meaningless for every kind.
func.func @rope_scaling_negative_original_max_positions(%query: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'original_max_positions' >= 0, got -1}}
  %rotated = tvc.rope %query, %positions heads 2 theta 1.0e+04 scaling <kind = linear, factor = 2.0, original_max_positions = -1> : tensor<1x4x8xf32>, tensor<1x4xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.layer_norm / tvc.rms_norm
//===----------------------------------------------------------------------===//

/// layer_norm normalizes over the last dimension, which a scalar lacks.
func.func @layer_norm_scalar_input(%input: tensor<f32>, %scale: tensor<8xf32>) {
  // expected-error @+1 {{'tvc.layer_norm' op expects 'input' of rank >= 1, got 'tensor<f32>'}}
  %normed = tvc.layer_norm %input, %scale epsilon 1.0e-05 : tensor<f32>, tensor<8xf32>
  return
}

// -----

/// rms_norm normalizes over the last dimension, which a scalar lacks.
func.func @rms_norm_scalar_input(%input: tensor<f32>, %scale: tensor<8xf32>) {
  // expected-error @+1 {{'tvc.rms_norm' op expects 'input' of rank >= 1, got 'tensor<f32>'}}
  %normed = tvc.rms_norm %input, %scale epsilon 1.0e-06 : tensor<f32>, tensor<8xf32>
  return
}

// -----

/// The layer_norm scale is one value per channel.
func.func @layer_norm_scale_width_mismatch(%input: tensor<1x4x8xf32>, %scale: tensor<6xf32>) {
  // expected-error @+1 {{'tvc.layer_norm' op expects 'scale' to be a 1-D tensor of 8 x 'f32', got 'tensor<6xf32>'}}
  %normed = tvc.layer_norm %input, %scale epsilon 1.0e-05 : tensor<1x4x8xf32>, tensor<6xf32>
  return
}

// -----

/// The rms_norm scale has the input's element type.
func.func @rms_norm_scale_element_type_mismatch(%input: tensor<1x4x8xf32>, %scale: tensor<8xf16>) {
  // expected-error @+1 {{'tvc.rms_norm' op expects 'scale' to be a 1-D tensor of 8 x 'f32', got 'tensor<8xf16>'}}
  %normed = tvc.rms_norm %input, %scale epsilon 1.0e-06 : tensor<1x4x8xf32>, tensor<8xf16>
  return
}

// -----

/// The layer_norm bias is a 1-D per-channel vector, not a matrix.
func.func @layer_norm_bias_rank_2(%input: tensor<1x4x8xf32>, %scale: tensor<8xf32>, %bias: tensor<1x8xf32>) {
  // expected-error @+1 {{'tvc.layer_norm' op expects 'bias' to be a 1-D tensor of 8 x 'f32', got 'tensor<1x8xf32>'}}
  %normed = tvc.layer_norm %input, %scale, %bias epsilon 1.0e-05 : tensor<1x4x8xf32>, tensor<8xf32>, tensor<1x8xf32>
  return
}

// -----

/// A dynamic channel width prints as "?" in the message.
func.func @layer_norm_scale_rank_2_dynamic_width(%input: tensor<1x4x?xf32>, %scale: tensor<1x8xf32>) {
  // expected-error @+1 {{'tvc.layer_norm' op expects 'scale' to be a 1-D tensor of ? x 'f32', got 'tensor<1x8xf32>'}}
  %normed = tvc.layer_norm %input, %scale epsilon 1.0e-05 : tensor<1x4x?xf32>, tensor<1x8xf32>
  return
}

// -----

/// layer_norm's epsilon is added to a variance: it cannot be negative.
func.func @layer_norm_negative_epsilon(%input: tensor<1x4x8xf32>, %scale: tensor<8xf32>) {
  // expected-error @+1 {{'tvc.layer_norm' op expects 'epsilon' to be non-negative, got -1.000000e+00}}
  %normed = tvc.layer_norm %input, %scale epsilon -1.0 : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

/// rms_norm's epsilon is added to a mean square: it cannot be negative.
func.func @rms_norm_negative_epsilon(%input: tensor<1x4x8xf32>, %scale: tensor<8xf32>) {
  // expected-error @+1 {{'tvc.rms_norm' op expects 'epsilon' to be non-negative, got -1.000000e+00}}
  %normed = tvc.rms_norm %input, %scale epsilon -1.0 : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.linear and #tvc.dense
//===----------------------------------------------------------------------===//

/// A linear map acts on the last dimension, which a scalar lacks.
func.func @linear_scalar_input(%input: tensor<f32>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{'tvc.linear' op expects 'input' of rank >= 1, got 'tensor<f32>'}}
  %out = tvc.linear %input, %weight : (tensor<f32>, tensor<16x8xf32>) -> tensor<f32>
  return
}

// -----

/// #tvc.dense takes exactly one weight.
func.func @linear_dense_two_weights(%input: tensor<1x4x8xf32>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{expects exactly one weight for #tvc.dense, got 2}}
  %out = tvc.linear %input, %weight, %weight : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Zero weights (only expressible in the generic form) are rejected, not
/// dereferenced.
func.func @linear_dense_no_weight(%input: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects exactly one weight for #tvc.dense, got 0}}
  %out = "tvc.linear"(%input) <{operandSegmentSizes = array<i32: 1, 0, 0>, structure = #tvc.dense}> : (tensor<1x4x8xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// The dense weight is an [out, in] matrix.
func.func @linear_dense_weight_rank_1(%input: tensor<1x4x8xf32>, %weight: tensor<8xf32>) {
  // expected-error @+1 {{expects a rank-2 [out, in] weight for #tvc.dense, got 'tensor<8xf32>'}}
  %out = tvc.linear %input, %weight : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// The dense weight has the input's element type, or a 16-bit float type
/// for an f32 input.
func.func @linear_dense_weight_element_type_mismatch(%input: tensor<1x4x8xf32>, %weight: tensor<16x8xf64>) {
  // expected-error @+1 {{expects the weight element type 'f32' (the input's) or bf16 or f16, got 'f64'}}
  %out = tvc.linear %input, %weight : (tensor<1x4x8xf32>, tensor<16x8xf64>) -> tensor<1x4x16xf32>
  return
}

// -----

/// 16-bit weights widen into f32 activations only, not the reverse.
func.func @linear_dense_f32_weight_for_bf16_input(%input: tensor<1x4x8xbf16>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{expects the weight element type 'bf16' (the input's), got 'f32'}}
  %out = tvc.linear %input, %weight : (tensor<1x4x8xbf16>, tensor<16x8xf32>) -> tensor<1x4x16xbf16>
  return
}

// -----

/// Only 2:4 has a compressed format.
func.func @linear_sparse_nm_not_2to4(%input: tensor<1x4x8xf32>, %values: tensor<16x2xf32>, %indices: tensor<16x1xi8>) {
  // expected-error @+1 {{expects n = 2, m = 4 (2:4 is the only N:M pattern with a compressed format), got 1:4}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 1, m = 4>) : (tensor<1x4x8xf32>, tensor<16x2xf32>, tensor<16x1xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

/// #tvc.sparse_nm takes values and indices.
func.func @linear_sparse_nm_one_weight(%input: tensor<1x4x8xf32>, %values: tensor<16x4xf32>) {
  // expected-error @+1 {{expects two weights (values, indices) for #tvc.sparse_nm, got 1}}
  %out = tvc.linear %input, %values structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x8xf32>, tensor<16x4xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The indices are bytes.
func.func @linear_sparse_nm_float_indices(%input: tensor<1x4x8xf32>, %values: tensor<16x4xf32>, %indices: tensor<16x1xf32>) {
  // expected-error @+1 {{expects rank-2 i8 [out, in / 8] indices for #tvc.sparse_nm, got 'tensor<16x1xf32>'}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x8xf32>, tensor<16x4xf32>, tensor<16x1xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Values hold n of every m inputs per row.
func.func @linear_sparse_nm_values_width(%input: tensor<1x4x8xf32>, %values: tensor<16x8xf32>, %indices: tensor<16x1xi8>) {
  // expected-error @+1 {{expects 4 values per row (2 of every 4 of 8 inputs), got 8}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<16x1xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Groups need an input width that m divides.
func.func @linear_sparse_nm_ragged_groups(%input: tensor<1x4x10xf32>, %values: tensor<16x5xf32>, %indices: tensor<16x2xi8>) {
  // expected-error @+1 {{expects the input width 10 to be a multiple of m = 4}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x10xf32>, tensor<16x5xf32>, tensor<16x2xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Index bytes: 2 bits per kept value, rounded up to whole bytes.
func.func @linear_sparse_nm_index_bytes(%input: tensor<1x4x12xf32>, %values: tensor<16x6xf32>, %indices: tensor<16x1xi8>) {
  // expected-error @+1 {{expects 2 index bytes per row (2 bits per kept value), got 1}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x12xf32>, tensor<16x6xf32>, tensor<16x1xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Values and indices describe the same rows.
func.func @linear_sparse_nm_row_mismatch(%input: tensor<1x4x8xf32>, %values: tensor<16x4xf32>, %indices: tensor<15x1xi8>) {
  // expected-error @+1 {{expects 16 rows of indices, got 15}}
  %out = tvc.linear %input, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x4x8xf32>, tensor<16x4xf32>, tensor<15x1xi8>) -> tensor<1x4x16xf32>
  return
}

// -----

/// A rank must be positive.
func.func @linear_low_rank_zero_rank(%input: tensor<1x4x8xf32>, %v: tensor<0x8xf32>, %u: tensor<16x0xf32>) {
  // expected-error @+1 {{expects a positive rank for #tvc.low_rank, got 0}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 0>) : (tensor<1x4x8xf32>, tensor<0x8xf32>, tensor<16x0xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// #tvc.low_rank takes V and U.
func.func @linear_low_rank_one_weight(%input: tensor<1x4x8xf32>, %v: tensor<2x8xf32>) {
  // expected-error @+1 {{expects two weights (V [rank, in], U [out, rank]) for #tvc.low_rank, got 1}}
  %out = tvc.linear %input, %v structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x8xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// The factors are matrices.
func.func @linear_low_rank_vector_factor(%input: tensor<1x4x8xf32>, %v: tensor<16xf32>, %u: tensor<16x2xf32>) {
  // expected-error @+1 {{expects a rank-2 [rank, in] V for #tvc.low_rank, got 'tensor<16xf32>'}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<16xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The factors have the input's element type.
func.func @linear_low_rank_element_type(%input: tensor<1x4x8xf32>, %v: tensor<2x8xf32>, %u: tensor<16x2xf16>) {
  // expected-error @+1 {{expects U's element type 'f32' (the input's), got 'f16'}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x8xf32>, tensor<16x2xf16>) -> tensor<1x4x16xf32>
  return
}

// -----

/// V has one row per rank.
func.func @linear_low_rank_v_rows(%input: tensor<1x4x8xf32>, %v: tensor<3x8xf32>, %u: tensor<16x2xf32>) {
  // expected-error @+1 {{expects V to have 2 rows (the rank), got 3}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<3x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// U has one column per rank.
func.func @linear_low_rank_u_cols(%input: tensor<1x4x8xf32>, %v: tensor<2x8xf32>, %u: tensor<16x3xf32>) {
  // expected-error @+1 {{expects U to have 2 columns (the rank), got 3}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x8xf32>, tensor<16x3xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// V reads the whole input.
func.func @linear_low_rank_in_width(%input: tensor<1x4x8xf32>, %v: tensor<2x6xf32>, %u: tensor<16x2xf32>) {
  // expected-error @+1 {{expects V to have 8 columns (the input width), got 6}}
  %out = tvc.linear %input, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x6xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// BlockDense needs at least one block.
func.func @linear_block_dense_zero_blocks(%input: tensor<1x4x8xf32>, %b: tensor<1x2x8xf32>, %l: tensor<16x2xf32>) {
  // expected-error @+1 {{expects a positive number of blocks for #tvc.block_dense, got 0}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 0>) : (tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// #tvc.block_dense takes B and L.
func.func @linear_block_dense_one_weight(%input: tensor<1x4x8xf32>, %b: tensor<2x2x4xf32>) {
  // expected-error @+1 {{expects two weights (B [blocks, rank / blocks, in / blocks], L [out, rank]) for #tvc.block_dense, got 1}}
  %out = tvc.linear %input, %b structure(#tvc.block_dense<blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// The blocks are stacked in a rank-3 tensor.
func.func @linear_block_dense_flat_blocks(%input: tensor<1x4x8xf32>, %b: tensor<4x4xf32>, %l: tensor<16x4xf32>) {
  // expected-error @+1 {{expects rank-3 [blocks, rank / blocks, in / blocks] B for #tvc.block_dense, got 'tensor<4x4xf32>'}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<1x4x8xf32>, tensor<4x4xf32>, tensor<16x4xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// B stacks exactly `blocks` blocks.
func.func @linear_block_dense_block_count(%input: tensor<1x4x8xf32>, %b: tensor<4x2x2xf32>, %l: tensor<16x8xf32>) {
  // expected-error @+1 {{expects B to stack 2 blocks, got 4}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<1x4x8xf32>, tensor<4x2x2xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The blocks divide the input width.
func.func @linear_block_dense_ragged_input(%input: tensor<1x4x10xf32>, %b: tensor<4x2x2xf32>, %l: tensor<16x8xf32>) {
  // expected-error @+1 {{expects the input width 10 to be a multiple of the 4 blocks}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 4>) : (tensor<1x4x10xf32>, tensor<4x2x2xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// Each block reads its slice of the input.
func.func @linear_block_dense_block_width(%input: tensor<1x4x8xf32>, %b: tensor<2x2x3xf32>, %l: tensor<16x4xf32>) {
  // expected-error @+1 {{expects blocks of 4 columns (the input width / blocks), got 3}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x3xf32>, tensor<16x4xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// L reads every block's rows.
func.func @linear_block_dense_l_width(%input: tensor<1x4x8xf32>, %b: tensor<2x2x4xf32>, %l: tensor<16x3xf32>) {
  // expected-error @+1 {{expects L to have 4 columns (blocks x block rows), got 3}}
  %out = tvc.linear %input, %b, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>, tensor<16x3xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// A block-shuffle needs at least one first-stage block.
func.func @linear_block_shuffle_zero_blocks(%input: tensor<1x4x8xf32>, %b1: tensor<1x2x8xf32>, %b2: tensor<2x4x1xf32>) {
  // expected-error @+1 {{expects a positive number of blocks for #tvc.block_shuffle, got 0}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 0, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x4x1xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// ... and at least one second-stage block.
func.func @linear_block_shuffle_negative_out_blocks(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf32>, %b2: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects a positive number of out_blocks for #tvc.block_shuffle, got -1}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = -1>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>, tensor<2x4x2xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// #tvc.block_shuffle takes B1 and B2.
func.func @linear_block_shuffle_one_weight(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf32>) {
  // expected-error @+1 {{expects two weights (B1 [blocks, q, in / blocks], B2 [out_blocks, s, blocks q / out_blocks]) for #tvc.block_shuffle, got 1}}
  %out = tvc.linear %input, %b1 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// B1's blocks are stacked in a rank-3 tensor.
func.func @linear_block_shuffle_flat_first(%input: tensor<1x4x8xf32>, %b1: tensor<4x4xf32>, %b2: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects rank-3 [blocks, q, in / blocks] B1 for #tvc.block_shuffle, got 'tensor<4x4xf32>'}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<4x4xf32>, tensor<2x4x2xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// So are B2's.
func.func @linear_block_shuffle_flat_second(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf32>, %b2: tensor<8x2xf32>) {
  // expected-error @+1 {{expects rank-3 [out_blocks, s, blocks q / out_blocks] B2 for #tvc.block_shuffle, got 'tensor<8x2xf32>'}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>, tensor<8x2xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// B1 has the input's element type.
func.func @linear_block_shuffle_first_f16(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf16>, %b2: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects B1's element type 'f32' (the input's), got 'f16'}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf16>, tensor<2x4x2xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// So does B2.
func.func @linear_block_shuffle_second_f16(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf32>, %b2: tensor<2x4x2xf16>) {
  // expected-error @+1 {{expects B2's element type 'f32' (the input's), got 'f16'}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>, tensor<2x4x2xf16>) -> tensor<1x4x8xf32>
  return
}

// -----

/// B1 stacks exactly `blocks` blocks.
func.func @linear_block_shuffle_first_count(%input: tensor<1x4x8xf32>, %b1: tensor<4x2x2xf32>, %b2: tensor<2x4x4xf32>) {
  // expected-error @+1 {{expects B1 to stack 2 blocks, got 4}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<4x2x2xf32>, tensor<2x4x4xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// B2 stacks exactly `out_blocks` blocks.
func.func @linear_block_shuffle_second_count(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x4xf32>, %b2: tensor<4x2x1xf32>) {
  // expected-error @+1 {{expects B2 to stack 2 blocks, got 4}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x4xf32>, tensor<4x2x1xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// The first-stage blocks divide the input width.
func.func @linear_block_shuffle_ragged_input(%input: tensor<1x4x10xf32>, %b1: tensor<4x2x2xf32>, %b2: tensor<2x4x4xf32>) {
  // expected-error @+1 {{expects the input width 10 to be a multiple of the 4 blocks}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 4, out_blocks = 2>) : (tensor<1x4x10xf32>, tensor<4x2x2xf32>, tensor<2x4x4xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// Each first-stage block reads its slice of the input.
func.func @linear_block_shuffle_first_width(%input: tensor<1x4x8xf32>, %b1: tensor<2x2x3xf32>, %b2: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects B1's blocks to have 4 columns (the input width / blocks), got 3}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x2x3xf32>, tensor<2x4x2xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// The shuffled grid (2 x 3 values) must split into `out_blocks` equal slices.
func.func @linear_block_shuffle_ragged_grid(%input: tensor<1x4x8xf32>, %b1: tensor<2x3x4xf32>, %b2: tensor<4x2x1xf32>) {
  // expected-error @+1 {{expects the 6 first-stage outputs (blocks x B1's block rows) to be a multiple of the 4 out_blocks}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 4>) : (tensor<1x4x8xf32>, tensor<2x3x4xf32>, tensor<4x2x1xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// Each second-stage block reads its slice of the shuffled grid.
func.func @linear_block_shuffle_second_width(%input: tensor<1x4x8xf32>, %b1: tensor<2x3x4xf32>, %b2: tensor<2x4x2xf32>) {
  // expected-error @+1 {{expects B2's blocks to have 3 columns (blocks x B1's block rows / out_blocks), got 2}}
  %out = tvc.linear %input, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x4x8xf32>, tensor<2x3x4xf32>, tensor<2x4x2xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// A LoRA rank must be positive.
func.func @linear_lora_negative_rank(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<2x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+1 {{expects a positive rank for #tvc.lora, got -2}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = -2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// #tvc.lora takes W, A and B.
func.func @linear_lora_two_weights(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<2x8xf32>) {
  // expected-error @+1 {{expects three weights (W [out, in], A [rank, in], B [out, rank]) for #tvc.lora, got 2}}
  %out = tvc.linear %input, %w, %a structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<2x8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The base matrix reads the whole input.
func.func @linear_lora_base_width(%input: tensor<1x4x8xf32>, %w: tensor<16x6xf32>, %a: tensor<2x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+1 {{expects W to have 8 columns (the input width), got 6}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x6xf32>, tensor<2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The adapter's output has the base's width.
func.func @linear_lora_b_rows(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<2x8xf32>, %b: tensor<12x2xf32>) {
  // expected-error @+1 {{expects B to have 16 rows (W's), got 12}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<2x8xf32>, tensor<12x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// A has one row per rank.
func.func @linear_lora_a_rows(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<4x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+1 {{expects A to have 2 rows (the rank), got 4}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<4x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// B is a matrix.
func.func @linear_lora_b_rank3(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<2x8xf32>, %b: tensor<1x16x2xf32>) {
  // expected-error @+1 {{expects a rank-2 [out, rank] B for #tvc.lora, got 'tensor<1x16x2xf32>'}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<2x8xf32>, tensor<1x16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// An in_out W is [in, out]: its rows read the input.
func.func @linear_lora_in_out_base_width(%input: tensor<1x4x8xf32>, %w: tensor<6x16xf32>, %a: tensor<2x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+1 {{expects W to have 8 rows (the input width), got 6}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, in_out>) : (tensor<1x4x8xf32>, tensor<6x16xf32>, tensor<2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// With an in_out W, B's rows match W's columns.
func.func @linear_lora_in_out_b_rows(%input: tensor<1x4x8xf32>, %w: tensor<8x16xf32>, %a: tensor<2x8xf32>, %b: tensor<12x2xf32>) {
  // expected-error @+1 {{expects B to have 16 rows (W's columns), got 12}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, in_out>) : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<2x8xf32>, tensor<12x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// An out_in-shaped W under in_out: the output width comes from W's
/// columns, which disagree with the result.
func.func @linear_lora_in_out_transposed_w(%input: tensor<1x4x8xf32>, %w: tensor<16x8xf32>, %a: tensor<2x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+1 {{expects W to have 8 rows (the input width), got 16}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, in_out>) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The layout is out_in or in_out.
func.func @linear_lora_bad_layout(%input: tensor<1x4x8xf32>, %w: tensor<8x16xf32>, %a: tensor<2x8xf32>, %b: tensor<16x2xf32>) {
  // expected-error @+2 {{expected one of [out_in, in_out] for storage order of a dense weight matrix, got: sideways}}
  // expected-error @+1 {{failed to parse}}
  %out = tvc.linear %input, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 4.0, sideways>) : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<2x8xf32>, tensor<16x2xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The weight's input width must be the input's last dimension.
func.func @linear_dense_in_width_mismatch(%input: tensor<1x4x8xf32>, %weight: tensor<16x6xf32>) {
  // expected-error @+1 {{expects the weight's input width 6 to equal the input width 8}}
  %out = tvc.linear %input, %weight : (tensor<1x4x8xf32>, tensor<16x6xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The bias is one value per output channel.
func.func @linear_bias_width_mismatch(%input: tensor<1x4x8xf32>, %weight: tensor<16x8xf32>, %bias: tensor<8xf32>) {
  // expected-error @+1 {{'tvc.linear' op expects 'bias' to be a 1-D tensor of 16 x 'f32', got 'tensor<8xf32>'}}
  %out = tvc.linear %input, %weight bias %bias : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

/// The declared result type must be the inferred one (InferTypeOpInterface).
func.func @linear_wrong_result_type(%input: tensor<1x4x8xf32>, %weight: tensor<16x8xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{inferred type(s) 'tensor<1x4x16xf32>' are incompatible with return type(s) of operation 'tensor<1x4x8xf32>'}}
  %out = tvc.linear %input, %weight : (tensor<1x4x8xf32>, tensor<16x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// The structure must implement LinearStructureAttrInterface; a mask is not
/// a weight structure.
func.func @linear_structure_not_a_structure(%input: tensor<1x4x8xf32>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{invalid kind of attribute specified}}
  %out = tvc.linear %input, %weight structure(#tvc.causal) : (tensor<1x4x8xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.lm_head
//===----------------------------------------------------------------------===//

/// Scalar hidden states are rejected by inference in the pretty form.
func.func @lm_head_scalar_hidden_inferred(%hidden: tensor<f32>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{expects hidden states of rank >= 1}}
  %logits = tvc.lm_head %hidden, %weight : tensor<f32>, tensor<16x8xf32>
  return
}

// -----

/// The verifier rejects scalar hidden states too (generic form, no
/// inference at parse time).
func.func @lm_head_scalar_hidden(%hidden: tensor<f32>, %weight: tensor<16x8xf32>) {
  // expected-error @+1 {{'tvc.lm_head' op expects 'hidden' of rank >= 1, got 'tensor<f32>'}}
  %logits = "tvc.lm_head"(%hidden, %weight) : (tensor<f32>, tensor<16x8xf32>) -> tensor<f32>
  return
}

// -----

/// The head weight is [vocab, width].
func.func @lm_head_weight_rank_1(%hidden: tensor<1x4x8xf32>, %weight: tensor<8xf32>) {
  // expected-error @+1 {{expects 'weight [vocab, width]' of rank 2, got 'tensor<8xf32>'}}
  %logits = tvc.lm_head %hidden, %weight : tensor<1x4x8xf32>, tensor<8xf32>
  return
}

// -----

/// The head weight's width must be the hidden width.
func.func @lm_head_weight_width_mismatch(%hidden: tensor<1x4x8xf32>, %weight: tensor<16x6xf32>) {
  // expected-error @+1 {{expects the weight width and element type (or bf16 or f16 for f32 hidden states) to match the hidden states 'tensor<1x4x8xf32>', got 'tensor<16x6xf32>'}}
  %logits = tvc.lm_head %hidden, %weight : tensor<1x4x8xf32>, tensor<16x6xf32>
  return
}

// -----

/// The head weight's element type must be the hidden element type (or a
/// 16-bit float type for f32 hidden states).
func.func @lm_head_weight_element_type_mismatch(%hidden: tensor<1x4x8xf16>, %weight: tensor<16x8xbf16>) {
  // expected-error @+1 {{expects the weight width and element type (or bf16 or f16 for f32 hidden states) to match the hidden states 'tensor<1x4x8xf16>', got 'tensor<16x8xbf16>'}}
  %logits = tvc.lm_head %hidden, %weight : tensor<1x4x8xf16>, tensor<16x8xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.attention
//===----------------------------------------------------------------------===//

/// Inference needs rank-3 query and value: the pretty form fails to parse
/// with a rank-2 query.
func.func @attention_query_rank_2_inferred(%query: tensor<4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects rank-3 query, key and value}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// The verifier names the query layout (generic form).
func.func @attention_query_rank_2(%query: tensor<4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'query [batch, queries, width]' of rank 3, got 'tensor<4x8xf32>'}}
  %out = "tvc.attention"(%query, %key, %value) <{heads = 2 : i64, kv_heads = 2 : i64, mask = #tvc.causal, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// The key is [batch, keys, width].
func.func @attention_key_rank_2(%query: tensor<1x4x8xf32>, %key: tensor<4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'key [batch, keys, width]' of rank 3, got 'tensor<4x8xf32>'}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// The value is [batch, keys, width] (generic form: inference needs it).
func.func @attention_value_rank_2(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<4x8xf32>) {
  // expected-error @+1 {{expects 'value [batch, keys, width]' of rank 3, got 'tensor<4x8xf32>'}}
  %out = "tvc.attention"(%query, %key, %value) <{heads = 2 : i64, kv_heads = 2 : i64, mask = #tvc.causal, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<4x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// Query, key and value share one element type.
func.func @attention_element_type_mismatch(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf16>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects query, key and value of one element type}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf16>, tensor<1x4x8xf32>
  return
}

// -----

/// Query, key and value share the batch size.
func.func @attention_batch_mismatch(%query: tensor<2x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<?x4x8xf32>) {
  // expected-error @+1 {{expects query, key and value to share the batch size, got 2, 1 and ?}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<2x4x8xf32>, tensor<1x4x8xf32>, tensor<?x4x8xf32>
  return
}

// -----

/// Each key has a value.
func.func @attention_key_value_positions_mismatch(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x5x8xf32>) {
  // expected-error @+1 {{expects key and value to have the same number of positions, got 4 and 5}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x5x8xf32>
  return
}

// -----

/// heads must divide the packed query width.
func.func @attention_heads_not_dividing_query(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'heads' (3) to divide the query width 8}}
  %out = tvc.attention %query, %key, %value heads 3 kv_heads 1 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// GQA groups query heads evenly over key/value heads.
func.func @attention_kv_heads_not_dividing_heads(%query: tensor<1x4x8xf32>, %key: tensor<1x4x6xf32>, %value: tensor<1x4x6xf32>) {
  // expected-error @+1 {{expects 'kv_heads' (3) to divide 'heads' (4)}}
  %out = tvc.attention %query, %key, %value heads 4 kv_heads 3 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x6xf32>, tensor<1x4x6xf32>
  return
}

// -----

/// The key width is kv_heads times the query head width.
func.func @attention_key_width_mismatch(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x4xf32>) {
  // expected-error @+1 {{expects the key width 8 to equal kv_heads * head width = 1 * 4 = 4}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 1 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x4xf32>
  return
}

// -----

/// kv_heads must divide the packed value width.
func.func @attention_kv_heads_not_dividing_value(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x5xf32>) {
  // expected-error @+1 {{expects 'kv_heads' (2) to divide the value width 5}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x5xf32>
  return
}

// -----

/// An explicit score scale must be positive.
func.func @attention_negative_scale(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'scale' to be positive, got -5.000000e-01}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) scale -5.0e-01 : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Under a causal mask, more queries than keys would put a query before
/// position 0.
func.func @attention_causal_more_queries_than_keys(%query: tensor<1x8x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects at most as many queries as keys under a causal mask, got 8 > 4}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// A sliding window is causal too, so the same rule applies.
func.func @attention_sliding_window_more_queries_than_keys(%query: tensor<1x8x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects at most as many queries as keys under a causal mask, got 8 > 4}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 2>) : tensor<1x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// heads = 0 violates IntPositive (ODS).
func.func @attention_zero_heads(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %out = tvc.attention %query, %key, %value heads 0 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// kv_heads = 0 violates IntPositive (ODS).
func.func @attention_zero_kv_heads(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{attribute 'kv_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 0 mask(#tvc.causal) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// The mask must implement MaskAttrInterface; a weight structure is not a
/// mask.
func.func @attention_mask_not_a_mask(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{invalid kind of attribute specified}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.dense) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Query, key and value are float tensors (ODS).
func.func @attention_integer_query(%query: tensor<1x4x8xi32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x4x8xi32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.sliding_window
//===----------------------------------------------------------------------===//

/// A window counts the diagonal, so it holds at least one key.
func.func @sliding_window_zero(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'window' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// A negative window is rejected the same way.
func.func @sliding_window_negative(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'window' >= 1, got -3}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.sliding_window<window = -3>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.window_global, #tvc.block_local, #tvc.top_k
//===----------------------------------------------------------------------===//

/// The window of window + global counts the diagonal like a sliding window.
func.func @window_global_zero_window(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'window' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.window_global<window = 0, global = 4>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Without global tokens the mask is a sliding window: one spelling per mask.
func.func @window_global_no_global(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'global' >= 1, got 0 (without global tokens use #tvc.sliding_window)}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.window_global<window = 4, global = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// A block holds at least one position.
func.func @block_local_zero_block(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'block' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.block_local<block = 0, local = 1, global = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// The local blocks include the query's own.
func.func @block_local_zero_local(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'local' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.block_local<block = 4, local = 0, global = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Global blocks may be none, never negative.
func.func @block_local_negative_global(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'global' >= 0, got -1}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.block_local<block = 4, local = 1, global = -1>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Top-k keeps at least one key.
func.func @top_k_zero(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'k' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.top_k<k = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Block top-k needs a positive block size and keeps at least one block.
func.func @block_top_k_zero_block(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'block' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.block_top_k<block = 0, k = 2>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @block_top_k_zero_k(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'k' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.block_top_k<block = 4, k = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// Vertical-slash keeps at least one column and one offset, estimated from
/// at least one query.
func.func @vertical_slash_zero_vertical(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'vertical' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.vertical_slash<vertical = 0, slash = 2, last = 4>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @vertical_slash_zero_slash(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'slash' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.vertical_slash<vertical = 2, slash = 0, last = 4>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @vertical_slash_zero_last(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'last' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.vertical_slash<vertical = 2, slash = 2, last = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @vertical_slash_too_large(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'vertical' + 'slash' to fit in 32 bits}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.vertical_slash<vertical = 2147483647, slash = 2, last = 1>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

/// ALISA needs a window and at least one heavy key (without, it is a
/// sliding window).
func.func @alisa_zero_window(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'window' >= 1, got 0}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.alisa<window = 0, k = 2>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @alisa_zero_k(%query: tensor<1x4x8xf32>, %key: tensor<1x4x8xf32>, %value: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects 'k' >= 1, got 0 (without heavy keys use #tvc.sliding_window)}}
  %out = tvc.attention %query, %key, %value heads 2 kv_heads 2 mask(#tvc.alisa<window = 4, k = 0>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise ops and argmax
//===----------------------------------------------------------------------===//

/// Activations take float tensors (ODS: Tvc_FloatTensor).
func.func @silu_integer_input(%hidden: tensor<1x4x8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %out = tvc.silu %hidden : tensor<1x4x8xi32>
  return
}

// -----

/// Elementwise ops keep the operand type (SameOperandsAndResultType); only
/// the generic form can spell a mismatch.
func.func @add_operand_type_mismatch(%lhs: tensor<1x4x8xf32>, %rhs: tensor<1x4x6xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %sum = "tvc.add"(%lhs, %rhs) : (tensor<1x4x8xf32>, tensor<1x4x6xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

/// argmax of a scalar fails inference in the pretty form.
func.func @argmax_scalar_input_inferred(%logits: tensor<f32>) {
  // expected-error @+1 {{expects an input of rank >= 1}}
  %next = tvc.argmax %logits : tensor<f32>
  return
}

// -----

/// The verifier rejects a scalar argmax input too (generic form).
func.func @argmax_scalar_input(%logits: tensor<f32>) {
  // expected-error @+1 {{'tvc.argmax' op expects 'input' of rank >= 1, got 'tensor<f32>'}}
  %next = "tvc.argmax"(%logits) : (tensor<f32>) -> tensor<i64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.layer / tvc.yield
//===----------------------------------------------------------------------===//

/// The body takes one argument per input.
func.func @layer_body_argument_count_mismatch(%hidden: tensor<1x4x8xf32>, %positions: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{expects the body to take one argument per input (2), got 1}}
  %out = tvc.layer 0 (%hidden, %positions) : (tensor<1x4x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    tvc.yield %x : tensor<1x4x8xf32>
  }
  return %out : tensor<1x4x8xf32>
}

// -----

/// Each body argument has its input's type.
func.func @layer_body_argument_type_mismatch(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf16> {
  // expected-error @+1 {{expects body argument #0 to have the input's type 'tensor<1x4x8xf32>', got 'tensor<1x4x8xf16>'}}
  %out = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf16> {
  ^bb0(%x: tensor<1x4x8xf16>):
    tvc.yield %x : tensor<1x4x8xf16>
  }
  return %out : tensor<1x4x8xf16>
}

// -----

/// The body ends with tvc.yield; another terminator (one without a parent
/// constraint) is rejected.
func.func @layer_body_ends_without_yield(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{expects the body to end with tvc.yield}}
  %out = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    llvm.unreachable
  }
  return %out : tensor<1x4x8xf32>
}

// -----

/// The yielded values have the layer's result types.
func.func @layer_yield_type_mismatch(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{expects the yielded types to equal the result types}}
  %out = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    tvc.yield
  }
  return %out : tensor<1x4x8xf32>
}

// -----

/// The layer index is a position in the model (ODS: IntNonNegative).
func.func @layer_negative_index(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{attribute 'index' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %out = tvc.layer -1 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    tvc.yield %x : tensor<1x4x8xf32>
  }
  return %out : tensor<1x4x8xf32>
}

// -----

/// The body is isolated from above: values of the enclosing function must
/// come in as inputs.
func.func @layer_uses_value_from_above(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %out = tvc.layer 0 (%hidden) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  ^bb0(%x: tensor<1x4x8xf32>):
    // expected-error @+1 {{using value defined outside the region}}
    %y = tvc.add %x, %hidden : tensor<1x4x8xf32>
    tvc.yield %y : tensor<1x4x8xf32>
  }
  return %out : tensor<1x4x8xf32>
}

// -----

/// tvc.yield only terminates a tvc.layer (HasParent<LayerOp>).
func.func @yield_outside_layer(%hidden: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'tvc.yield' op expects parent op 'tvc.layer'}}
  tvc.yield %hidden : tensor<1x4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.dense<in_out>
//===----------------------------------------------------------------------===//

/// The Conv1D layout names the rank-2 shape it expects.
func.func @dense_in_out_rank(%x: tensor<1x4x8xf32>, %weight: tensor<8xf32>) {
  // expected-error @+1 {{expects a rank-2 [in, out] weight for #tvc.dense, got 'tensor<8xf32>'}}
  %y = "tvc.linear"(%x, %weight) <{operandSegmentSizes = array<i32: 1, 1, 0>, structure = #tvc.dense<in_out>}> : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

/// With [in, out] storage the input width is the first dimension: a
/// [out, in] matrix in its place is caught.
func.func @dense_in_out_width(%x: tensor<1x4x8xf32>, %weight: tensor<24x8xf32>) {
  // expected-error @+1 {{expects the weight's input width 24 to equal the input width 8}}
  %y = tvc.linear %x, %weight structure(#tvc.dense<in_out>) : (tensor<1x4x8xf32>, tensor<24x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tvc.split
//===----------------------------------------------------------------------===//

/// The pieces must cover the last dimension exactly.
func.func @split_sizes_do_not_sum(%x: tensor<1x4x24xf32>) {
  // expected-error @+1 {{expects the sizes to sum to the last dimension 24, got 16}}
  %a, %b = tvc.split %x sizes [8, 8] : tensor<1x4x24xf32>
  return
}

// -----

/// Empty pieces are meaningless.
func.func @split_non_positive_size(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects positive sizes, got 0}}
  %a, %b = "tvc.split"(%x) <{sizes = array<i64: 8, 0>}> : (tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x?xf32>)
  return
}

// -----

/// At least one piece.
func.func @split_no_sizes(%x: tensor<1x4x8xf32>) {
  // expected-error @+1 {{expects at least one size}}
  "tvc.split"(%x) <{sizes = array<i64>}> : (tensor<1x4x8xf32>) -> ()
  return
}

// -----

/// A scalar has no last dimension to split.
func.func @split_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{expects 'input' of rank >= 1}}
  %a = "tvc.split"(%x) <{sizes = array<i64: 1>}> : (tensor<f32>) -> tensor<1xf32>
  return
}

// -----

/// Sizes whose sum overflows are rejected, not wrapped.
func.func @split_sizes_overflow(%x: tensor<1x4x?xf32>) {
  // expected-error @+1 {{expects sizes whose sum fits in 64 bits}}
  %a, %b = tvc.split %x sizes [9223372036854775807, 9223372036854775807] : tensor<1x4x?xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #tvc.rope_scaling<kind = llama3>
//===----------------------------------------------------------------------===//

/// Llama 3 scaling measures wavelengths against the trained context.
func.func @rope_llama3_without_context(%q: tensor<1x4x16xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'original_max_positions' > 0 for kind llama3, got 0}}
  %r = tvc.rope %q, %p heads 2 theta 10000.0 scaling <kind = llama3, factor = 8.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  return
}

// -----

/// The smoothing band needs high_freq_factor > low_freq_factor > 0.
func.func @rope_llama3_inverted_band(%q: tensor<1x4x16xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{expects 'high_freq_factor' > 'low_freq_factor' > 0 for kind llama3, got 1.000000e+00 and 4.000000e+00}}
  %r = tvc.rope %q, %p heads 2 theta 10000.0 scaling <kind = llama3, factor = 8.0, original_max_positions = 8192, low_freq_factor = 4.0, high_freq_factor = 1.0> : tensor<1x4x16xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @kernel_call_mixed_forms(%x: tensor<8xf32>, %out: memref<8xf32>) {
  // expected-error @+1 {{'tvc.kernel_call' op expects every shaped operand to be a memref like the first output, got 'tensor<8xf32>'}}
  tvc.kernel_call "k" ins(%x : tensor<8xf32>) outs(%out : memref<8xf32>)
  return
}

// -----

func.func @kernel_call_result_types(%init: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tvc.kernel_call' op expects one result per output with the output's type}}
  %r = tvc.kernel_call "k" outs(%init : tensor<8xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @kernel_call_memref_results(%out: memref<8xf32>) {
  // expected-error @+1 {{'tvc.kernel_call' op expects no results on memrefs, got 1}}
  %r = "tvc.kernel_call"(%out) {callee = "k", operandSegmentSizes = array<i32: 0, 1, 0>} : (memref<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @kernel_call_empty_callee(%init: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tvc.kernel_call' op expects a non-empty callee}}
  %r = tvc.kernel_call "" outs(%init : tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

/// Only a mask that carries state from call to call takes one.
func.func @state_without_alisa(%query: tensor<1x4x8xf32>, %state: tensor<1x2x4xf32>) {
  // expected-error @+1 {{takes a state only with a mask that carries one from call to call (#tvc.alisa), not #tvc.causal}}
  %out, %new = tvc.attention %query, %query, %query heads 2 kv_heads 2 mask(#tvc.causal) state(%state : tensor<1x2x4xf32>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}

// -----

func.func @state_wrong_shape(%query: tensor<1x4x8xf32>, %state: tensor<1x4x4xf32>) {
  // expected-error @+1 {{expects the state to be [batch, heads, keys] = [1, 2, 4] f32, got 'tensor<1x4x4xf32>'}}
  %out, %new = tvc.attention %query, %query, %query heads 2 kv_heads 2 mask(#tvc.alisa<window = 2, k = 1>) state(%state : tensor<1x4x4xf32>) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return
}
