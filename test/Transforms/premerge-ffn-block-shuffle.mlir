// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn=policy=merge | FileCheck %s --check-prefix=MERGE
// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn=policy=keep | FileCheck %s --check-prefix=KEEP
// RUN: tvc-opt %s -split-input-file -tvc-premerge-ffn | FileCheck %s --check-prefix=COST
// RUN: tvc-opt %s -split-input-file '-tvc-premerge-ffn=report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-premerge-ffn=workload=prefill tokens=128 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=PREFILL

// tvc-premerge-ffn on #tvc.block_shuffle (Monarch) linears: the merged
// matrix blockdiag(B2) P blockdiag(B1), and the cost model's choice.

/// A tiny block-shuffle: 2 blocks [3 x 2] over a 4-wide input give
/// z = (a0, a1, a2, b0, b1, b2) with a = (x0, 2 x1, x0 + x1) and
/// b = (2 x2, x3, x2 - x3); the shuffle (the (2, 3) grid transposed) gives
/// z' = (a0, b0, a1, b1, a2, b2), cut into 2 slices of 3 (not the Monarch
/// case: out_blocks 2, not 3) mapped by [1 2 3] and [4 5 6]:
/// y0 = a0 + 2 b0 + 3 a1 = x0 + 6 x1 + 4 x2, y1 = 4 b1 + 5 a2 + 6 b2 =
/// 5 x0 + 5 x1 + 6 x2 - 2 x3, so the merged matrix is [[1, 6, 4, 0],
/// [5, 5, 6, -2]], named after B2. The cost model merges it: 18 factor
/// weights against 8 and two calls against one.
tvc.global @bs.b1 : tensor<2x3x2xf32> = dense<[[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 1.0], [1.0, -1.0]]]> : tensor<2x3x2xf32>
tvc.global @bs.b2 : tensor<2x1x3xf32> = dense<[[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0]]]> : tensor<2x1x3xf32>
// MERGE-LABEL: func.func @premerge_block_shuffle_small
// KEEP-LABEL: func.func @premerge_block_shuffle_small
// COST-LABEL: func.func @premerge_block_shuffle_small
func.func @premerge_block_shuffle_small(%x: tensor<1x?x4xf32>, %bias: tensor<2xf32>) -> tensor<1x?x2xf32> {
  // MERGE: %[[W:.*]] = tvc.weight @bs.b2.merged : tensor<2x4xf32>
  // MERGE: tvc.linear %{{.*}}, %[[W]] bias %{{.*}} : (tensor<1x?x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  // MERGE-NOT: tvc.global @bs.b1
  // KEEP: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>)
  // COST: tvc.weight @bs.b2.merged
  %b1 = tvc.weight @bs.b1 : tensor<2x3x2xf32>
  %b2 = tvc.weight @bs.b2 : tensor<2x1x3xf32>
  %y = tvc.linear %x, %b1, %b2 bias %bias structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<1x?x4xf32>, tensor<2x3x2xf32>, tensor<2x1x3xf32>, tensor<2xf32>) -> tensor<1x?x2xf32>
  return %y : tensor<1x?x2xf32>
}
// MERGE: bs.b2.merged: "0x080000000000803F0000C04000008040000000000000A0400000A0400000C040000000C0"
// REPORT: remark: merged: block-shuffle [2 x 4] blocks 2 -> 2, decode (1 rows): factored 0.81 us (72 weight bytes, 2 calls and a transpose) vs merged 0.40 us (32 weight bytes, 1 call)
// PREFILL: remark: merged: block-shuffle [2 x 4] blocks 2 -> 2, prefill (128 rows): factored 1.50 us (72 weight bytes, 2 calls and a transpose) vs merged 0.54 us (32 weight bytes, 1 call)

// -----

/// A Monarch FFN projection, [256 x 64]: 4 blocks [16 x 16], the (4, 16)
/// grid transposed, 16 blocks [16 x 4] (each reading one value of every
/// first-stage block). Its factors hold 2048 weights against 16384, so the
/// cost model keeps them at decode (fewer bytes by far more than a call's
/// overhead) and at prefill (an eighth of the multiply-adds, even with the
/// transpose's pass over [128 x 64]).
tvc.global @up.b1 : tensor<4x16x16xf32> = dense<0.5> : tensor<4x16x16xf32>
tvc.global @up.b2 : tensor<16x16x4xf32> = dense<0.25> : tensor<16x16x4xf32>
// MERGE-LABEL: func.func @premerge_block_shuffle_monarch
// COST-LABEL: func.func @premerge_block_shuffle_monarch
func.func @premerge_block_shuffle_monarch(%x: tensor<1x?x64xf32>) -> tensor<1x?x256xf32> {
  // MERGE: tvc.weight @up.b2.merged : tensor<256x64xf32>
  // COST: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.block_shuffle<blocks = 4, out_blocks = 16>)
  %b1 = tvc.weight @up.b1 : tensor<4x16x16xf32>
  %b2 = tvc.weight @up.b2 : tensor<16x16x4xf32>
  %y = tvc.linear %x, %b1, %b2 structure(#tvc.block_shuffle<blocks = 4, out_blocks = 16>) : (tensor<1x?x64xf32>, tensor<4x16x16xf32>, tensor<16x16x4xf32>) -> tensor<1x?x256xf32>
  return %y : tensor<1x?x256xf32>
}
// REPORT: remark: kept factored: block-shuffle [256 x 64] blocks 4 -> 16, decode (1 rows): factored 1.28 us (8192 weight bytes, 2 calls and a transpose) vs merged 3.44 us (65536 weight bytes, 1 call)
// PREFILL: remark: kept factored: block-shuffle [256 x 64] blocks 4 -> 16, prefill (128 rows): factored 14.58 us (8192 weight bytes, 2 calls and a transpose) vs merged 27.29 us (65536 weight bytes, 1 call)

// -----

/// Factors that are function arguments cannot be multiplied at compile
/// time: left alone, with the reason in the report.
// MERGE-LABEL: func.func @negative_premerge_block_shuffle_arguments
func.func @negative_premerge_block_shuffle_arguments(%x: tensor<2x4xf32>, %b1: tensor<2x3x2xf32>, %b2: tensor<2x1x3xf32>) -> tensor<2x2xf32> {
  // MERGE: structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>)
  %y = tvc.linear %x, %b1, %b2 structure(#tvc.block_shuffle<blocks = 2, out_blocks = 2>) : (tensor<2x4xf32>, tensor<2x3x2xf32>, tensor<2x1x3xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
// REPORT: remark: not merged: a factor is not read from a tvc.global
