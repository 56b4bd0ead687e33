// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn=policy=merge | FileCheck %s --check-prefix=MERGE
// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn=policy=keep | FileCheck %s --check-prefix=KEEP
// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn | FileCheck %s --check-prefix=COST
// RUN: tvc-opt %s -split-input-file '-tvc-premerge-ffn=report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-premerge-ffn=policy=merge report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=MERGE-REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-premerge-ffn=workload=prefill tokens=128 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=PREFILL

/// A small low-rank linear: U V = [[1, 1, 1], [2, 0, 4]] is written once as
/// a dense global; the factors go. The cost model merges it too: the
/// factors are larger (40 bytes) than the product (24) and take two calls.
tvc.global @fc.v : tensor<2x3xf32> = dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]> : tensor<2x3xf32>
tvc.global @fc.u : tensor<2x2xf32> = dense<[[1.0, 1.0], [2.0, 0.0]]> : tensor<2x2xf32>
// MERGE-LABEL: func.func @premerge_low_rank_small
// KEEP-LABEL: func.func @premerge_low_rank_small
// COST-LABEL: func.func @premerge_low_rank_small
func.func @premerge_low_rank_small(%x: tensor<1x?x3xf32>, %bias: tensor<2xf32>) -> tensor<1x?x2xf32> {
  // MERGE: %[[W:.*]] = tvc.weight @fc.u.merged : tensor<2x3xf32>
  // MERGE: tvc.linear %{{.*}}, %[[W]] bias %{{.*}} : (tensor<1x?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  // KEEP: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.low_rank<rank = 2>)
  // COST: tvc.weight @fc.u.merged
  %v = tvc.weight @fc.v : tensor<2x3xf32>
  %u = tvc.weight @fc.u : tensor<2x2xf32>
  %y = tvc.linear %x, %v, %u bias %bias structure(#tvc.low_rank<rank = 2>) : (tensor<1x?x3xf32>, tensor<2x3xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  return %y : tensor<1x?x2xf32>
}
// MERGE-NOT: tvc.global @fc.v
// MERGE-NOT: tvc.global @fc.u :
// MERGE: tvc.global @fc.u.merged : tensor<2x3xf32> = dense_resource<fc.u.merged>
// MERGE: fc.u.merged: "0x080000000000803F0000803F0000803F000000400000000000008040"
// REPORT: remark: merged: low-rank [2 x 3] rank 2, decode (1 rows): factored
// REPORT-SAME: (40 weight bytes, 2 calls) vs merged
// REPORT-SAME: (24 weight bytes, 1 call)
// MERGE-REPORT: remark: merged low-rank (policy=merge) into @fc.u.merged
// MERGE-REPORT: remark: tvc-premerge-ffn: 1 structured linears merged, 0 kept factored, 0 left alone
// PREFILL: remark: merged: low-rank [2 x 3] rank 2, prefill (128 rows)

// -----

/// LoRA: W + (alpha / rank) B A = W + 2 [[1], [2]] [[1, 2, 3]]; always
/// merged by the cost model (the adapter only adds bytes and calls).
tvc.global @q.w : tensor<2x3xf32> = dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]> : tensor<2x3xf32>
tvc.global @q.a : tensor<1x3xf32> = dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
tvc.global @q.b : tensor<2x1xf32> = dense<[[1.0], [2.0]]> : tensor<2x1xf32>
// MERGE-LABEL: func.func @premerge_lora
// KEEP-LABEL: func.func @premerge_lora
// COST-LABEL: func.func @premerge_lora
func.func @premerge_lora(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  // MERGE: %[[W:.*]] = tvc.weight @q.w.merged : tensor<2x3xf32>
  // MERGE: tvc.linear %{{.*}}, %[[W]] : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
  // KEEP: structure(#tvc.lora<rank = 1, alpha = 2.000000e+00>)
  // COST: tvc.weight @q.w.merged
  %w = tvc.weight @q.w : tensor<2x3xf32>
  %a = tvc.weight @q.a : tensor<1x3xf32>
  %b = tvc.weight @q.b : tensor<2x1xf32>
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 1, alpha = 2.0>) : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<1x3xf32>, tensor<2x1xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
// MERGE: q.w.merged: "0x0800000000004040000080400000C040000080400000104100004041"
// REPORT: remark: merged: LoRA [2 x 3] rank 1, decode (1 rows)
// REPORT-SAME: (44 weight bytes, 4 calls) vs merged
// PREFILL: remark: merged: LoRA [2 x 3] rank 1, prefill (128 rows)

// -----

/// LoRA over an [in, out] base (GPT-2's Conv1D): the same numbers as
/// @premerge_lora with W transposed; the merged matrix keeps W's layout,
/// the transpose of @premerge_lora's, [[3, 4], [4, 9], [6, 12]], read by a
/// #tvc.dense<in_out> linear.
tvc.global @c.w : tensor<3x2xf32> = dense<[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]> : tensor<3x2xf32>
tvc.global @c.a : tensor<1x3xf32> = dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
tvc.global @c.b : tensor<2x1xf32> = dense<[[1.0], [2.0]]> : tensor<2x1xf32>
// MERGE-LABEL: func.func @premerge_lora_in_out
// KEEP-LABEL: func.func @premerge_lora_in_out
// COST-LABEL: func.func @premerge_lora_in_out
func.func @premerge_lora_in_out(%x: tensor<4x3xf32>, %bias: tensor<2xf32>) -> tensor<4x2xf32> {
  // MERGE: %[[W:.*]] = tvc.weight @c.w.merged : tensor<3x2xf32>
  // MERGE: tvc.linear %{{.*}}, %[[W]] bias %{{.*}} structure(#tvc.dense<in_out>) : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  // KEEP: structure(#tvc.lora<rank = 1, alpha = 2.000000e+00, in_out>)
  // COST: tvc.weight @c.w.merged : tensor<3x2xf32>
  // COST: structure(#tvc.dense<in_out>)
  %w = tvc.weight @c.w : tensor<3x2xf32>
  %a = tvc.weight @c.a : tensor<1x3xf32>
  %b = tvc.weight @c.b : tensor<2x1xf32>
  %y = tvc.linear %x, %w, %a, %b bias %bias structure(#tvc.lora<rank = 1, alpha = 2.0, in_out>) : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<1x3xf32>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
// MERGE-NOT: tvc.global @c.w :
// MERGE: tvc.global @c.w.merged : tensor<3x2xf32>
// MERGE: c.w.merged: "0x08000000000040400000804000008040000010410000C04000004041"
// REPORT: remark: merged: LoRA [2 x 3] rank 1, decode (1 rows)

// -----

/// BlockDense: blocks [[1, 2]] and [[3, 4]] over a 4-wide input, then
/// L = [[1, 0], [1, 1]]: L blockdiag(B) = [[1, 2, 0, 0], [1, 2, 3, 4]].
tvc.global @bd.blocks : tensor<2x1x2xf32> = dense<[[[1.0, 2.0]], [[3.0, 4.0]]]> : tensor<2x1x2xf32>
tvc.global @bd.l : tensor<2x2xf32> = dense<[[1.0, 0.0], [1.0, 1.0]]> : tensor<2x2xf32>
// MERGE-LABEL: func.func @premerge_block_dense
// KEEP-LABEL: func.func @premerge_block_dense
func.func @premerge_block_dense(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  // MERGE: %[[W:.*]] = tvc.weight @bd.l.merged : tensor<2x4xf32>
  // MERGE: tvc.linear %{{.*}}, %[[W]] : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
  // KEEP: structure(#tvc.block_dense<blocks = 2>)
  %b = tvc.weight @bd.blocks : tensor<2x1x2xf32>
  %l = tvc.weight @bd.l : tensor<2x2xf32>
  %y = tvc.linear %x, %b, %l structure(#tvc.block_dense<blocks = 2>) : (tensor<3x4xf32>, tensor<2x1x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
// MERGE: bd.l.merged: "0x080000000000803F0000004000000000000000000000803F000000400000404000008040"
// REPORT: remark: merged: BlockDense [2 x 4] rank 2, decode (1 rows)
// REPORT-SAME: (32 weight bytes, 2 calls) vs merged

// -----

/// A large low-rank FFN projection: at one token the factors read 49152
/// bytes instead of 524288, far more than a kernel call's overhead, so the
/// cost model keeps them (for prefill too: 12 % of the multiply-adds).
tvc.global @up.v : tensor<16x256xf32> = dense<0.5> : tensor<16x256xf32>
tvc.global @up.u : tensor<512x16xf32> = dense<0.25> : tensor<512x16xf32>
// MERGE-LABEL: func.func @premerge_low_rank_large
// COST-LABEL: func.func @premerge_low_rank_large
func.func @premerge_low_rank_large(%x: tensor<1x?x256xf32>) -> tensor<1x?x512xf32> {
  // MERGE: tvc.weight @up.u.merged : tensor<512x256xf32>
  // COST: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.low_rank<rank = 16>)
  %v = tvc.weight @up.v : tensor<16x256xf32>
  %u = tvc.weight @up.u : tensor<512x16xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 16>) : (tensor<1x?x256xf32>, tensor<16x256xf32>, tensor<512x16xf32>) -> tensor<1x?x512xf32>
  return %y : tensor<1x?x512xf32>
}
// REPORT: remark: kept factored: low-rank [512 x 256] rank 16, decode (1 rows)
// REPORT-SAME: (49152 weight bytes, 2 calls) vs merged
// REPORT-SAME: (524288 weight bytes, 1 call)
// PREFILL: remark: kept factored: low-rank [512 x 256] rank 16, prefill (128 rows)

// -----

/// Two factors of one structured linear read by two linears: merged once.
tvc.global @s.v : tensor<1x2xf32> = dense<[[1.0, 2.0]]> : tensor<1x2xf32>
tvc.global @s.u : tensor<2x1xf32> = dense<[[1.0], [-1.0]]> : tensor<2x1xf32>
// MERGE-LABEL: func.func @premerge_shared_factors
func.func @premerge_shared_factors(%x: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  // MERGE-COUNT-2: tvc.weight @s.u.merged : tensor<2x2xf32>
  // MERGE-NOT: tvc.weight @s.u.merged_
  %v = tvc.weight @s.v : tensor<1x2xf32>
  %u = tvc.weight @s.u : tensor<2x1xf32>
  %y0 = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 1>) : (tensor<3x2xf32>, tensor<1x2xf32>, tensor<2x1xf32>) -> tensor<3x2xf32>
  %y1 = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 1>) : (tensor<3x2xf32>, tensor<1x2xf32>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y0, %y1 : tensor<3x2xf32>, tensor<3x2xf32>
}
// MERGE: s.u.merged: "0x080000000000803F00000040000080BF000000C0"

// -----

/// A nonlinearity between two dense linears makes them no factorisation:
/// nothing is merged, whatever the policy.
tvc.global @fc1 : tensor<2x4xf32> = dense<1.0> : tensor<2x4xf32>
tvc.global @fc2 : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32>
// MERGE-LABEL: func.func @negative_premerge_gelu_between
func.func @negative_premerge_gelu_between(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  // MERGE: %[[H:.*]] = tvc.linear %{{.*}}, %{{.*}} : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
  // MERGE: %[[G:.*]] = tvc.gelu %[[H]]
  // MERGE: tvc.linear %[[G]], %{{.*}} : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
  %w1 = tvc.weight @fc1 : tensor<2x4xf32>
  %w2 = tvc.weight @fc2 : tensor<4x2xf32>
  %h = tvc.linear %x, %w1 : (tensor<1x3x4xf32>, tensor<2x4xf32>) -> tensor<1x3x2xf32>
  %g = tvc.gelu %h : tensor<1x3x2xf32>
  %y = tvc.linear %g, %w2 : (tensor<1x3x2xf32>, tensor<4x2xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// -----

/// f16 factors: no f16 product is written; left alone with a remark.
tvc.global @h.v : tensor<2x4xf16> = dense<1.0> : tensor<2x4xf16>
tvc.global @h.u : tensor<4x2xf16> = dense<1.0> : tensor<4x2xf16>
// MERGE-LABEL: func.func @negative_premerge_f16
func.func @negative_premerge_f16(%x: tensor<3x4xf16>) -> tensor<3x4xf16> {
  // MERGE: structure(#tvc.low_rank<rank = 2>)
  %v = tvc.weight @h.v : tensor<2x4xf16>
  %u = tvc.weight @h.u : tensor<4x2xf16>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<3x4xf16>, tensor<2x4xf16>, tensor<4x2xf16>) -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}
// MERGE-REPORT: remark: not merged: factor @h.v is f16, not f32

// -----

/// Factors that are function arguments have no bytes to merge at compile
/// time.
// MERGE-LABEL: func.func @negative_premerge_factor_argument
func.func @negative_premerge_factor_argument(%x: tensor<3x4xf32>, %v: tensor<2x4xf32>, %u: tensor<4x2xf32>) -> tensor<3x4xf32> {
  // MERGE: structure(#tvc.low_rank<rank = 2>)
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<3x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
// MERGE-REPORT: remark: not merged: a factor is not read from a tvc.global

// -----

/// A dynamic input width: left alone.
tvc.global @d.v : tensor<2x4xf32> = dense<1.0> : tensor<2x4xf32>
tvc.global @d.u : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32>
// MERGE-LABEL: func.func @negative_premerge_dynamic_width
func.func @negative_premerge_dynamic_width(%x: tensor<3x?xf32>) -> tensor<3x4xf32> {
  // MERGE: structure(#tvc.low_rank<rank = 2>)
  %v = tvc.weight @d.v : tensor<2x4xf32>
  %u = tvc.weight @d.u : tensor<4x2xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<3x?xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
// MERGE-REPORT: remark: not merged: its input width is dynamic
