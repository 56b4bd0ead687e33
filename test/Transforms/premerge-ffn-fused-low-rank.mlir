// RUN: tvc-opt %s '-tvc-premerge-ffn=workload=auto report fused-low-rank' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s
// RUN: tvc-opt %s '-tvc-premerge-ffn=workload=auto report' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=TWO

/// fused-low-rank prices a low-rank pair as the CPU pipeline runs it: one
/// tvc_kernel_low_rank_f32 call. The rank-16 factors of a [128 x 32] matrix
/// at decode read 11008 bytes in one call (0.90 us) against 17024 bytes of
/// the merged matrix (1.17 us), so they stay; priced as two calls (1.30 us,
/// the default, as for CUDA) the decode step merges, as in
/// premerge-ffn-auto.mlir. The prefill (128 rows) makes the same two GEMMs
/// either way and keeps the factors.
tvc.global @v : tensor<16x32xf32> = dense<0.5> : tensor<16x32xf32>
tvc.global @u : tensor<128x16xf32> = dense<0.25> : tensor<128x16xf32>

// CHECK: remark: kept factored: low-rank [128 x 32] rank 16, prefill (128 rows): factored {{.*}} (10240 weight bytes, 2 calls)
// CHECK: remark: kept factored: low-rank [128 x 32] rank 16, decode (1 rows): factored 0.90 us (10240 weight bytes, 1 fused call) vs merged 1.17 us
// CHECK: remark: tvc-premerge-ffn: 0 structured linears merged, 2 kept factored, 0 left alone
// CHECK-NOT: @u.merged

// TWO: remark: kept factored: low-rank [128 x 32] rank 16, prefill (128 rows)
// TWO: remark: merged: low-rank [128 x 32] rank 16, decode (1 rows): factored 1.30 us (10240 weight bytes, 2 calls) vs merged 1.17 us
// TWO: tvc.global @u.merged

func.func @model_prefill(%x: tensor<1x?x32xf32>) -> tensor<1x?x128xf32> {
  %v = tvc.weight @v : tensor<16x32xf32>
  %u = tvc.weight @u : tensor<128x16xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 16>) : (tensor<1x?x32xf32>, tensor<16x32xf32>, tensor<128x16xf32>) -> tensor<1x?x128xf32>
  return %y : tensor<1x?x128xf32>
}

func.func @model_decode(%x: tensor<1x1x32xf32>) -> tensor<1x1x128xf32> {
  %v = tvc.weight @v : tensor<16x32xf32>
  %u = tvc.weight @u : tensor<128x16xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 16>) : (tensor<1x1x32xf32>, tensor<16x32xf32>, tensor<128x16xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}
