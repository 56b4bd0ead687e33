// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.5' | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.5 format=masked' | FileCheck %s --check-prefix=MASKED
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.5 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.5 score=activation calibration=%S/Inputs/prune-structured-norms.safetensors' | FileCheck %s --check-prefix=ACTIVATION
// RUN: not tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0' 2>&1 | FileCheck %s --check-prefix=AMOUNT
// RUN: not tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=1' 2>&1 | FileCheck %s --check-prefix=AMOUNT1
// RUN: not tvc-opt %s -split-input-file '-tvc-prune=strategy=heads amount=0.5 score=activation calibration=%S/Inputs/prune-norms.safetensors' 2>&1 | FileCheck %s --check-prefix=NO-NORMS
// AMOUNT: error: tvc-prune: expects 'amount' (the fraction of heads to remove) in (0, 1), got 0
// AMOUNT1: error: tvc-prune: expects 'amount' (the fraction of heads to remove) in (0, 1), got 1
// NO-NORMS: error: tvc-prune: {{.*}}prune-norms.safetensors has no input norms for @o; calibrate the same model
/// Two heads of width 2, separate [out, in] projections with biases. By
/// magnitude head 1 (rows 2-3 of q/k/v, columns 2-3 of o) is the weaker:
/// it goes, and every width halves. Its query bias keeps entries 0-1 and
/// o keeps columns 0-1.
tvc.global @q : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
tvc.global @qb : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
tvc.global @k : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
tvc.global @v : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
tvc.global @o : tensor<4x4xf32> = dense<[[1.0, 2.0, 0.1, 0.1], [3.0, 4.0, 0.1, 0.1], [5.0, 6.0, 0.1, 0.1], [7.0, 8.0, 0.1, 0.1]]> : tensor<4x4xf32>
tvc.global @ob : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
// CHECK-LABEL: func.func @heads_separate_out_in
// MASKED-LABEL: func.func @heads_separate_out_in
// ACTIVATION-LABEL: func.func @heads_separate_out_in
func.func @heads_separate_out_in(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  // CHECK-DAG: %[[QW:.*]] = tvc.weight @q.pruned : tensor<2x4xf32>
  // CHECK-DAG: %[[QB:.*]] = tvc.weight @qb.pruned : tensor<2xf32>
  // CHECK: %[[Q:.*]] = tvc.linear %{{.*}}, %[[QW]] bias %[[QB]] : (tensor<1x3x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x3x2xf32>
  // CHECK: %[[A:.*]] = tvc.attention %[[Q]], %{{.*}}, %{{.*}} heads 1 kv_heads 1 mask(#tvc.causal) : tensor<1x3x2xf32>, tensor<1x3x2xf32>, tensor<1x3x2xf32>
  // CHECK: %[[OW:.*]] = tvc.weight @o.pruned : tensor<4x2xf32>
  // CHECK: tvc.linear %[[A]], %[[OW]] bias %[[OB:.*]] : (tensor<1x3x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  // MASKED: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  // MASKED: tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %qw = tvc.weight @q : tensor<4x4xf32>
  %qb = tvc.weight @qb : tensor<4xf32>
  %kw = tvc.weight @k : tensor<4x4xf32>
  %vw = tvc.weight @v : tensor<4x4xf32>
  %ow = tvc.weight @o : tensor<4x4xf32>
  %ob = tvc.weight @ob : tensor<4xf32>
  %q = tvc.linear %x, %qw bias %qb : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  %k = tvc.linear %x, %kw : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %vw : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %ow bias %ob : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}
// The originals are gone.
// CHECK-NOT: tvc.global @q :
// CHECK-NOT: tvc.global @o :
// CHECK-DAG: qb.pruned: "0x080000000000803F00000040"
// CHECK-DAG: q.pruned: "0x080000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
// CHECK-DAG: o.pruned: "0x080000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
// Masked: q/k/v stay, o's columns 2-3 are zero.
// MASKED-NOT: tvc.global @o :
// MASKED: o.pruned: "0x080000000000803F000000400000000000000000000040400000804000000000000000000000A0400000C04000000000000000000000E040000000410000000000000000"
// Activation-aware: the calibration says head 1's output channels (norms
// 10, 10) carry far more than head 0's (0.01, 0.01): head 0 goes.
// ACTIVATION: tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} : (tensor<1x3x2xf32>, tensor<4x2xf32>, tensor<4xf32>)
// ACTIVATION-DAG: o.pruned: "0x08000000CDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3D"
// REPORT: remark: removed heads 1 of 2: 72 -> 38 parameters
// REPORT: remark: tvc-prune: 1 attention blocks pruned (0 left alone): 1 of 2 heads removed, their projections 72 -> 38 parameters

// -----

/// GPT-2's fused [in, out] projection split into q, k, v: head 0 (columns
/// 0-1, 4-5, 8-9) is the weaker; the fused weight keeps columns 2-3, 6-7,
/// 10-11, the split becomes [2, 2, 2] and the [in, out] output projection
/// keeps rows 2-3.
tvc.global @c_attn : tensor<4x12xf32> = dense<[[0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0], [0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0], [0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0], [0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0, 0.1, 0.1, 1.0, 1.0]]> : tensor<4x12xf32>
tvc.global @c_attn_bias : tensor<12xf32> = dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]> : tensor<12xf32>
tvc.global @c_proj : tensor<4x4xf32> = dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<4x4xf32>
// CHECK-LABEL: func.func @heads_fused_in_out
// MASKED-LABEL: func.func @heads_fused_in_out
func.func @heads_fused_in_out(%x: tensor<1x?x4xf32>) -> tensor<1x?x4xf32> {
  // CHECK: %[[QKV:.*]] = tvc.linear %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x4xf32>, tensor<4x6xf32>, tensor<6xf32>) -> tensor<1x?x6xf32>
  // CHECK: %[[S:.*]]:3 = tvc.split %[[QKV]] sizes [2, 2, 2] : tensor<1x?x6xf32>
  // CHECK: tvc.attention %[[S]]#0, %[[S]]#1, %[[S]]#2 heads 1 kv_heads 1 mask(#tvc.causal) : tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>
  // CHECK: tvc.linear %{{.*}}, %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  // MASKED: tvc.split %{{.*}} sizes [4, 4, 4] : tensor<1x?x12xf32>
  %w = tvc.weight @c_attn : tensor<4x12xf32>
  %b = tvc.weight @c_attn_bias : tensor<12xf32>
  %wo = tvc.weight @c_proj : tensor<4x4xf32>
  %qkv = tvc.linear %x, %w bias %b structure(#tvc.dense<in_out>) : (tensor<1x?x4xf32>, tensor<4x12xf32>, tensor<12xf32>) -> tensor<1x?x12xf32>
  %q, %k, %v = tvc.split %qkv sizes [4, 4, 4] : tensor<1x?x12xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %y = tvc.linear %a, %wo structure(#tvc.dense<in_out>) : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  return %y : tensor<1x?x4xf32>
}
// CHECK-DAG: c_attn_bias.pruned: "0x0800000000000040000040400000C0400000E0400000204100003041"
// CHECK-DAG: c_proj.pruned: "0x080000000000803F000000400000404000008040
// Masked: rows 0-1 of the [in, out] output projection are zero.
// MASKED: c_proj.pruned: "0x0800000000000000000000000000000000000000000000000000000000000000000000000000803F
// REPORT: remark: removed heads 0 of 2:

// -----

/// Grouped-query attention (4 query heads, 2 key/value heads) with rope:
/// the unit is a key/value group. Group 0 (query heads 0-1, kv head 0) is
/// the weaker and goes; both ropes count their remaining heads.
tvc.global @gq : tensor<8x4xf32> = dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<8x4xf32>
tvc.global @gk : tensor<4x4xf32> = dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32>
tvc.global @gv : tensor<4x4xf32> = dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32>
tvc.global @go : tensor<4x8xf32> = dense<[[0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0]]> : tensor<4x8xf32>
// CHECK-LABEL: func.func @heads_grouped_rope
func.func @heads_grouped_rope(%x: tensor<1x?x4xf32>, %pos: tensor<1x?xi64>) -> tensor<1x?x4xf32> {
  // CHECK: %[[Q:.*]] = tvc.linear %{{.*}}, %{{.*}} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  // CHECK: %[[K:.*]] = tvc.linear %{{.*}}, %{{.*}} : (tensor<1x?x4xf32>, tensor<2x4xf32>) -> tensor<1x?x2xf32>
  // CHECK: %[[V:.*]] = tvc.linear %{{.*}}, %{{.*}} : (tensor<1x?x4xf32>, tensor<2x4xf32>) -> tensor<1x?x2xf32>
  // CHECK: %[[RQ:.*]] = tvc.rope %[[Q]], %{{.*}} heads 2 theta 1.000000e+04 : tensor<1x?x4xf32>, tensor<1x?xi64>
  // CHECK: %[[RK:.*]] = tvc.rope %[[K]], %{{.*}} heads 1 theta 1.000000e+04 : tensor<1x?x2xf32>, tensor<1x?xi64>
  // CHECK: tvc.attention %[[RQ]], %[[RK]], %[[V]] heads 2 kv_heads 1 mask(#tvc.causal) : tensor<1x?x4xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %qw = tvc.weight @gq : tensor<8x4xf32>
  %kw = tvc.weight @gk : tensor<4x4xf32>
  %vw = tvc.weight @gv : tensor<4x4xf32>
  %ow = tvc.weight @go : tensor<4x8xf32>
  %q0 = tvc.linear %x, %qw : (tensor<1x?x4xf32>, tensor<8x4xf32>) -> tensor<1x?x8xf32>
  %k0 = tvc.linear %x, %kw : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %v = tvc.linear %x, %vw : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %q = tvc.rope %q0, %pos heads 4 theta 1.0e+04 : tensor<1x?x8xf32>, tensor<1x?xi64>
  %k = tvc.rope %k0, %pos heads 2 theta 1.0e+04 : tensor<1x?x4xf32>, tensor<1x?xi64>
  %a = tvc.attention %q, %k, %v heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %y = tvc.linear %a, %ow : (tensor<1x?x8xf32>, tensor<4x8xf32>) -> tensor<1x?x4xf32>
  return %y : tensor<1x?x4xf32>
}
// REPORT: remark: removed heads 0, 1 of 4:

// -----

/// negative_: attention over a KV cache (kv_len) is left alone: the cache
/// would have to shrink too; prune before tvc-derive-decode.
tvc.global @nq : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
// CHECK-LABEL: func.func @negative_kv_cache
func.func @negative_kv_cache(%x: tensor<1x1x4xf32>, %kc: tensor<1x8x4xf32>, %vc: tensor<1x8x4xf32>, %n: index) -> tensor<1x1x4xf32> {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %w = tvc.weight @nq : tensor<4x4xf32>
  %q = tvc.linear %x, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  %a = tvc.attention %q, %kc, %vc heads 2 kv_heads 2 mask(#tvc.causal) kv_len(%n) : tensor<1x1x4xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>
  %y = tvc.linear %a, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}
// REPORT: remark: heads not pruned: it reads a KV cache (prune before tvc-derive-decode)

// -----

/// negative_: keys that are not a projection's output (a function argument).
tvc.global @nq : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
// CHECK-LABEL: func.func @negative_key_not_projected
func.func @negative_key_not_projected(%x: tensor<1x3x4xf32>, %k: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %w = tvc.weight @nq : tensor<4x4xf32>
  %q = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}
// REPORT: remark: heads not pruned: its key is not made by a tvc.linear (through split and rope only)

// -----

/// negative_: the attention output is also returned: its width must stay.
tvc.global @nq : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
// CHECK-LABEL: func.func @negative_output_escapes
func.func @negative_output_escapes(%x: tensor<1x3x4xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x4xf32>) {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %w = tvc.weight @nq : tensor<4x4xf32>
  %q = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %k = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y, %a : tensor<1x3x4xf32>, tensor<1x3x4xf32>
}
// REPORT: remark: heads not pruned: its output has other users than one projection

// -----

/// negative_: a query projection that is also read elsewhere.
tvc.global @nq : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
// CHECK-LABEL: func.func @negative_query_shared
func.func @negative_query_shared(%x: tensor<1x3x4xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x4xf32>) {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %w = tvc.weight @nq : tensor<4x4xf32>
  %q = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %k = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y, %q : tensor<1x3x4xf32>, tensor<1x3x4xf32>
}
// REPORT: remark: heads not pruned: its query has other users

// -----

/// negative_: dynamic head widths.
// CHECK-LABEL: func.func @negative_dynamic_width
func.func @negative_dynamic_width(%q: tensor<1x3x?xf32>, %k: tensor<1x3x?xf32>, %v: tensor<1x3x?xf32>) -> tensor<1x3x?xf32> {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x?xf32>, tensor<1x3x?xf32>, tensor<1x3x?xf32>
  return %a : tensor<1x3x?xf32>
}
// REPORT: remark: heads not pruned: its heads have a dynamic width

// -----

/// negative_: an output projection that is already 2:4 sparse.
tvc.global @nq : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]> : tensor<4x4xf32>
tvc.global @nv : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32>
tvc.global @ni : tensor<4x1xi8> = dense<4> : tensor<4x1xi8>
// CHECK-LABEL: func.func @negative_already_sparse
func.func @negative_already_sparse(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 2 kv_heads 2
  %w = tvc.weight @nq : tensor<4x4xf32>
  %sv = tvc.weight @nv : tensor<4x2xf32>
  %si = tvc.weight @ni : tensor<4x1xi8>
  %q = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %k = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = tvc.linear %x, %w : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x3x4xf32>
  %y = tvc.linear %a, %sv, %si structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x3x4xf32>, tensor<4x2xf32>, tensor<4x1xi8>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}
// REPORT: remark: heads not pruned: a projection is already structured (#tvc.sparse_nm<n = 2, m = 4>)
