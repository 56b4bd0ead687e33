// RUN: tvc-opt %s -split-input-file -convert-tvc-to-runtime | FileCheck %s

/// A dense [out, in] linear with a bias over a dynamic sequence: m is the
/// product of the leading dims, flags = 1 (bias, out_in), and the
/// destination has the input's dynamic sequence length.
// CHECK-LABEL: func.func @linear_bias_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x64xf32>, %[[W:.*]]: tensor<256x64xf32>, %[[B:.*]]: tensor<256xf32>)
func.func @linear_bias_dynamic_seq_f32(%x: tensor<2x?x64xf32>, %w: tensor<256x64xf32>, %b: tensor<256xf32>) -> tensor<2x?x256xf32> {
  // CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 64 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 256 : i64
  // CHECK: %[[T:.*]] = tensor.dim %[[X]], %{{.*}}
  // CHECK: %[[TI:.*]] = arith.index_cast %[[T]] : index to i64
  // CHECK: %[[M:.*]] = arith.muli %[[TI]], %[[C2]]
  // CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<2x?x256xf32>
  // CHECK: %[[Y:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[X]], %[[W]], %[[B]] : tensor<2x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) outs(%[[INIT]] : tensor<2x?x256xf32>) scalars(%[[M]], %[[N]], %[[K]], %[[C1]] : i64, i64, i64, i64) -> tensor<2x?x256xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %w bias %b : (tensor<2x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<2x?x256xf32>
  return %y : tensor<2x?x256xf32>
}

// -----

/// An [in, out] weight (HF GPT-2 Conv1D) without bias: flags = 2, and the
/// weight fills the unused bias slot.
// CHECK-LABEL: func.func @linear_in_out_no_bias_f32
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>, %[[W:.*]]: tensor<64x32xf32>)
func.func @linear_in_out_no_bias_f32(%x: tensor<4x64xf32>, %w: tensor<64x32xf32>) -> tensor<4x32xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 32 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 64 : i64
  // CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x32xf32>
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[X]], %[[W]], %[[W]] : {{.*}}) outs(%[[INIT]] : tensor<4x32xf32>) scalars(%{{.*}}, %[[N]], %[[K]], %[[FLAGS]] : i64, i64, i64, i64)
  %y = tvc.linear %x, %w structure(#tvc.dense<in_out>) : (tensor<4x64xf32>, tensor<64x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

/// The LM head is a linear without bias against the [vocab, d] table.
// CHECK-LABEL: func.func @lm_head_tied_f32
// CHECK-SAME: (%[[H:.*]]: tensor<1x?x64xf32>, %[[WTE:.*]]: tensor<256x64xf32>)
func.func @lm_head_tied_f32(%hidden: tensor<1x?x64xf32>, %wte: tensor<256x64xf32>) -> tensor<1x?x256xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 256 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[H]], %[[WTE]], %[[WTE]] : {{.*}}) outs(%{{.*}} : tensor<1x?x256xf32>) scalars(%{{.*}}, %[[N]], %{{.*}}, %[[FLAGS]] : i64, i64, i64, i64) -> tensor<1x?x256xf32>
  %logits = tvc.lm_head %hidden, %wte : tensor<1x?x64xf32>, tensor<256x64xf32>
  return %logits : tensor<1x?x256xf32>
}

// -----

/// 16-bit weights with f32 activations: the same operands, the kernel of
/// the weight's type; the bias and the result stay f32.
// CHECK-LABEL: func.func @linear_half_weights
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>, %[[W:.*]]: tensor<32x64xbf16>, %[[B:.*]]: tensor<32xf32>, %[[T:.*]]: tensor<64x32xf16>, %[[WTE:.*]]: tensor<256x64xbf16>)
func.func @linear_half_weights(%x: tensor<4x64xf32>, %w: tensor<32x64xbf16>, %b: tensor<32xf32>, %t: tensor<64x32xf16>, %wte: tensor<256x64xbf16>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x256xf32>) {
  // CHECK-DAG: %[[C0:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_bf16w_f32" ins(%[[X]], %[[W]], %[[B]] : tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32xf32>) outs(%{{.*}} : tensor<4x32xf32>) scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[C1]] : i64, i64, i64, i64) -> tensor<4x32xf32>
  %y = tvc.linear %x, %w bias %b : (tensor<4x64xf32>, tensor<32x64xbf16>, tensor<32xf32>) -> tensor<4x32xf32>
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f16w_f32" ins(%[[X]], %[[T]], %[[T]] : tensor<4x64xf32>, tensor<64x32xf16>, tensor<64x32xf16>) outs(%{{.*}} : tensor<4x32xf32>) scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[C2]] : i64, i64, i64, i64) -> tensor<4x32xf32>
  %z = tvc.linear %x, %t structure(#tvc.dense<in_out>) : (tensor<4x64xf32>, tensor<64x32xf16>) -> tensor<4x32xf32>
  // CHECK: tvc.kernel_call "tvc_kernel_linear_bf16w_f32" ins(%[[X]], %[[WTE]], %[[WTE]] : {{.*}}) outs(%{{.*}} : tensor<4x256xf32>) scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[C0]] : i64, i64, i64, i64) -> tensor<4x256xf32>
  %logits = tvc.lm_head %x, %wte : tensor<4x64xf32>, tensor<256x64xbf16>
  return %y, %z, %logits : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x256xf32>
}

// -----

/// Light ops are not this pass's business and stay as they are.
// CHECK-LABEL: func.func @negative_light_ops_untouched
func.func @negative_light_ops_untouched(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NEXT: tvc.gelu
  // CHECK-NEXT: return
  %y = tvc.gelu %x : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

/// A 2:4 sparse weight (compressed values and indices) with a bias calls the
/// 2:4 kernel: {x, values, indices, bias} in, flags = 1.
// CHECK-LABEL: func.func @linear_sparse_2to4_bias_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x64xf32>, %[[V:.*]]: tensor<32x32xf32>, %[[I:.*]]: tensor<32x8xi8>, %[[B:.*]]: tensor<32xf32>)
func.func @linear_sparse_2to4_bias_f32(%x: tensor<1x?x64xf32>, %values: tensor<32x32xf32>, %indices: tensor<32x8xi8>, %b: tensor<32xf32>) -> tensor<1x?x32xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 32 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 64 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_2to4_f32" ins(%[[X]], %[[V]], %[[I]], %[[B]] : tensor<1x?x64xf32>, tensor<32x32xf32>, tensor<32x8xi8>, tensor<32xf32>) outs(%{{.*}} : tensor<1x?x32xf32>) scalars(%{{.*}}, %[[N]], %[[K]], %[[FLAGS]] : i64, i64, i64, i64) -> tensor<1x?x32xf32>
  %y = tvc.linear %x, %values, %indices bias %b structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x?x64xf32>, tensor<32x32xf32>, tensor<32x8xi8>, tensor<32xf32>) -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

/// Without a bias the values fill the unused bias slot (flags = 0).
// CHECK-LABEL: func.func @linear_sparse_2to4_no_bias_f32
// CHECK-SAME: (%[[X:.*]]: tensor<3x12xf32>, %[[V:.*]]: tensor<5x6xf32>, %[[I:.*]]: tensor<5x2xi8>)
func.func @linear_sparse_2to4_no_bias_f32(%x: tensor<3x12xf32>, %values: tensor<5x6xf32>, %indices: tensor<5x2xi8>) -> tensor<3x5xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_2to4_f32" ins(%[[X]], %[[V]], %[[I]], %[[V]] : {{.*}}) outs(%{{.*}} : tensor<3x5xf32>) scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]] : i64, i64, i64, i64)
  %y = tvc.linear %x, %values, %indices structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<3x12xf32>, tensor<5x6xf32>, tensor<5x2xi8>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

/// BlockDense (4 blocks of [2 x 3]) with a bias over a dynamic sequence: the
/// block-diagonal kernel into [..., 8] {x, B, B (unused bias slot); m,
/// blocks, block_n, block_k, flags = 0}, then the dense kernel by L with the
/// bias.
// CHECK-LABEL: func.func @linear_block_dense_bias_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x12xf32>, %[[BLOCKS:.*]]: tensor<4x2x3xf32>, %[[L:.*]]: tensor<24x8xf32>, %[[B:.*]]: tensor<24xf32>)
func.func @linear_block_dense_bias_dynamic_seq_f32(%x: tensor<1x?x12xf32>, %blocks: tensor<4x2x3xf32>, %l: tensor<24x8xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-DAG: %[[FLAGS0:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[FLAGS1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[BN:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[BK:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[NB:.*]] = arith.constant 4 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 8 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 24 : i64
  // CHECK: %[[HINIT:.*]] = tensor.empty(%{{.*}}) : tensor<1x?x8xf32>
  // CHECK: %[[H:.*]] = tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[X]], %[[BLOCKS]], %[[BLOCKS]] : tensor<1x?x12xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) outs(%[[HINIT]] : tensor<1x?x8xf32>) scalars(%{{.*}}, %[[NB]], %[[BN]], %[[BK]], %[[FLAGS0]] : i64, i64, i64, i64, i64) -> tensor<1x?x8xf32>
  // CHECK: %[[Y:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[H]], %[[L]], %[[B]] : tensor<1x?x8xf32>, tensor<24x8xf32>, tensor<24xf32>) outs(%{{.*}} : tensor<1x?x24xf32>) scalars(%{{.*}}, %[[N]], %[[K]], %[[FLAGS1]] : i64, i64, i64, i64) -> tensor<1x?x24xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %blocks, %l bias %bias structure(#tvc.block_dense<blocks = 4>) : (tensor<1x?x12xf32>, tensor<4x2x3xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// Without a bias the dense call by L fills its bias slot with L (flags = 0).
// CHECK-LABEL: func.func @linear_block_dense_no_bias_f32
// CHECK-SAME: (%[[X:.*]]: tensor<3x6xf32>, %[[BLOCKS:.*]]: tensor<3x1x2xf32>, %[[L:.*]]: tensor<5x3xf32>)
func.func @linear_block_dense_no_bias_f32(%x: tensor<3x6xf32>, %blocks: tensor<3x1x2xf32>, %l: tensor<5x3xf32>) -> tensor<3x5xf32> {
  // CHECK: %[[H:.*]] = tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[X]], %[[BLOCKS]], %[[BLOCKS]] : {{.*}}) outs(%{{.*}} : tensor<3x3xf32>)
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[H]], %[[L]], %[[L]] : {{.*}}) outs(%{{.*}} : tensor<3x5xf32>)
  %y = tvc.linear %x, %blocks, %l structure(#tvc.block_dense<blocks = 3>) : (tensor<3x6xf32>, tensor<3x1x2xf32>, tensor<5x3xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

/// A block-shuffle linear over a dynamic sequence: 4 blocks [3 x 2] into
/// z [..., 12], z viewed as a (4, 3) grid and transposed (the views are
/// reshapes, the transpose one pass), then 6 blocks [5 x 2] of the shuffled
/// z with the bias {flags = 1}.
// CHECK-LABEL: func.func @linear_block_shuffle_bias_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x8xf32>, %[[B1:.*]]: tensor<4x3x2xf32>, %[[B2:.*]]: tensor<6x5x2xf32>, %[[B:.*]]: tensor<30xf32>)
func.func @linear_block_shuffle_bias_dynamic_seq_f32(%x: tensor<1x?x8xf32>, %b1: tensor<4x3x2xf32>, %b2: tensor<6x5x2xf32>, %bias: tensor<30xf32>) -> tensor<1x?x30xf32> {
  // CHECK-DAG: %[[FLAGS0:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[FLAGS1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[THREE:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[FOUR:.*]] = arith.constant 4 : i64
  // CHECK-DAG: %[[FIVE:.*]] = arith.constant 5 : i64
  // CHECK-DAG: %[[SIX:.*]] = arith.constant 6 : i64
  // CHECK: %[[Z:.*]] = tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[X]], %[[B1]], %[[B1]] : tensor<1x?x8xf32>, tensor<4x3x2xf32>, tensor<4x3x2xf32>) outs(%{{.*}} : tensor<1x?x12xf32>) scalars(%{{.*}}, %[[FOUR]], %[[THREE]], %[[TWO]], %[[FLAGS0]] : i64, i64, i64, i64, i64) -> tensor<1x?x12xf32>
  // CHECK: %[[GRID:.*]] = tensor.expand_shape %[[Z]] {{\[}}[0], [1], [2, 3]] output_shape [1, %{{.*}}, 4, 3] : tensor<1x?x12xf32> into tensor<1x?x4x3xf32>
  // CHECK: %[[T:.*]] = linalg.transpose ins(%[[GRID]] : tensor<1x?x4x3xf32>) outs(%{{.*}} : tensor<1x?x3x4xf32>) permutation = [0, 1, 3, 2]
  // CHECK: %[[SHUFFLED:.*]] = tensor.collapse_shape %[[T]] {{\[}}[0], [1], [2, 3]] : tensor<1x?x3x4xf32> into tensor<1x?x12xf32>
  // CHECK: %[[Y:.*]] = tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[SHUFFLED]], %[[B2]], %[[B]] : tensor<1x?x12xf32>, tensor<6x5x2xf32>, tensor<30xf32>) outs(%{{.*}} : tensor<1x?x30xf32>) scalars(%{{.*}}, %[[SIX]], %[[FIVE]], %[[TWO]], %[[FLAGS1]] : i64, i64, i64, i64, i64) -> tensor<1x?x30xf32>
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %b1, %b2 bias %bias structure(#tvc.block_shuffle<blocks = 4, out_blocks = 6>) : (tensor<1x?x8xf32>, tensor<4x3x2xf32>, tensor<6x5x2xf32>, tensor<30xf32>) -> tensor<1x?x30xf32>
  return %y : tensor<1x?x30xf32>
}

// -----

/// Without a bias the second call fills its bias slot with B2 (flags = 0);
/// a grid of one block is its own transpose, so nothing lies between the
/// calls.
// CHECK-LABEL: func.func @linear_block_shuffle_no_bias_one_block_f32
// CHECK-SAME: (%[[X:.*]]: tensor<3x6xf32>, %[[B1:.*]]: tensor<1x4x6xf32>, %[[B2:.*]]: tensor<2x5x2xf32>)
func.func @linear_block_shuffle_no_bias_one_block_f32(%x: tensor<3x6xf32>, %b1: tensor<1x4x6xf32>, %b2: tensor<2x5x2xf32>) -> tensor<3x10xf32> {
  // CHECK-DAG: %[[FLAGS0:.*]] = arith.constant 0 : i64
  // CHECK: %[[Z:.*]] = tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[X]], %[[B1]], %[[B1]] : {{.*}}) outs(%{{.*}} : tensor<3x4xf32>)
  // CHECK-NOT: linalg.transpose
  // CHECK: tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%[[Z]], %[[B2]], %[[B2]] : {{.*}}) outs(%{{.*}} : tensor<3x10xf32>) scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS0]] : i64, i64, i64, i64, i64)
  %y = tvc.linear %x, %b1, %b2 structure(#tvc.block_shuffle<blocks = 1, out_blocks = 2>) : (tensor<3x6xf32>, tensor<1x4x6xf32>, tensor<2x5x2xf32>) -> tensor<3x10xf32>
  return %y : tensor<3x10xf32>
}

// -----

/// A low-rank linear is one fused call {x, V, U, bias, y, m, n, k, r, flags}.
// CHECK-LABEL: func.func @linear_low_rank_bias_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x12xf32>, %[[V:.*]]: tensor<3x12xf32>, %[[U:.*]]: tensor<20x3xf32>, %[[B:.*]]: tensor<20xf32>)
func.func @linear_low_rank_bias_dynamic_seq_f32(%x: tensor<1x?x12xf32>, %v: tensor<3x12xf32>, %u: tensor<20x3xf32>, %bias: tensor<20xf32>) -> tensor<1x?x20xf32> {
  // CHECK-DAG: %[[FLAGS1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[R:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 12 : i64
  // CHECK-DAG: %[[N:.*]] = arith.constant 20 : i64
  // CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<1x?x20xf32>
  // CHECK: %[[Y:.*]] = tvc.kernel_call "tvc_kernel_low_rank_f32" ins(%[[X]], %[[V]], %[[U]], %[[B]] : tensor<1x?x12xf32>, tensor<3x12xf32>, tensor<20x3xf32>, tensor<20xf32>) outs(%[[INIT]] : tensor<1x?x20xf32>) scalars(%{{.*}}, %[[N]], %[[K]], %[[R]], %[[FLAGS1]] : i64, i64, i64, i64, i64) -> tensor<1x?x20xf32>
  // CHECK-NOT: tvc_kernel_linear_f32
  // CHECK: return %[[Y]]
  %y = tvc.linear %x, %v, %u bias %bias structure(#tvc.low_rank<rank = 3>) : (tensor<1x?x12xf32>, tensor<3x12xf32>, tensor<20x3xf32>, tensor<20xf32>) -> tensor<1x?x20xf32>
  return %y : tensor<1x?x20xf32>
}

// -----

/// Without a bias V fills the bias slot and flags = 0.
// CHECK-LABEL: func.func @linear_low_rank_no_bias_f32
// CHECK-SAME: (%[[X:.*]]: tensor<4x6xf32>, %[[V:.*]]: tensor<1x6xf32>, %[[U:.*]]: tensor<5x1xf32>)
func.func @linear_low_rank_no_bias_f32(%x: tensor<4x6xf32>, %v: tensor<1x6xf32>, %u: tensor<5x1xf32>) -> tensor<4x5xf32> {
  // CHECK-DAG: %[[FLAGS0:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[M:.*]] = arith.constant 4 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_low_rank_f32" ins(%[[X]], %[[V]], %[[U]], %[[V]] : tensor<4x6xf32>, tensor<1x6xf32>, tensor<5x1xf32>, tensor<1x6xf32>) outs(%{{.*}} : tensor<4x5xf32>) scalars(%[[M]], %{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS0]] : i64, i64, i64, i64, i64)
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 1>) : (tensor<4x6xf32>, tensor<1x6xf32>, tensor<5x1xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}
