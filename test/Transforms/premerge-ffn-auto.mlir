// RUN: tvc-opt %s '-tvc-premerge-ffn=workload=auto report' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s
// RUN: tvc-opt %s '-tvc-premerge-ffn=workload=decode' | FileCheck %s --check-prefix=DECODE

/// workload=auto costs each linear for its own entry point: the prefill
/// (128 rows) and the decode step (one row) read the same rank-16 factors
/// of a [128 x 32] matrix. Prefill: the factors do 16 x (32 + 128) = 2560
/// multiply-adds per row against 4096 merged, so they stay. Decode: reading
/// 10 KiB of factors in two calls loses to one 16 KiB GEMV (the cost
/// model's measured per-call overhead), so the decode step reads a merged
/// matrix; the factors stay for the prefill.
tvc.global @v : tensor<16x32xf32> = dense<0.5> : tensor<16x32xf32>
tvc.global @u : tensor<128x16xf32> = dense<0.25> : tensor<128x16xf32>

// CHECK: remark: kept factored: low-rank [128 x 32] rank 16, prefill (128 rows)
// CHECK: remark: merged: low-rank [128 x 32] rank 16, decode (1 rows)
// CHECK: remark: tvc-premerge-ffn: 1 structured linears merged, 1 kept factored, 0 left alone
// CHECK: tvc.global @v : tensor<16x32xf32>
// CHECK: tvc.global @u : tensor<128x16xf32>

// CHECK-LABEL: func.func @model_prefill
// CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.low_rank<rank = 16>)
func.func @model_prefill(%x: tensor<1x?x32xf32>) -> tensor<1x?x128xf32> {
  %v = tvc.weight @v : tensor<16x32xf32>
  %u = tvc.weight @u : tensor<128x16xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 16>) : (tensor<1x?x32xf32>, tensor<16x32xf32>, tensor<128x16xf32>) -> tensor<1x?x128xf32>
  return %y : tensor<1x?x128xf32>
}

// CHECK-LABEL: func.func @model_decode
// CHECK: %[[W:.*]] = tvc.weight @u.merged : tensor<128x32xf32>
// CHECK: tvc.linear %{{.*}}, %[[W]] : (tensor<1x1x32xf32>, tensor<128x32xf32>) -> tensor<1x1x128xf32>
func.func @model_decode(%x: tensor<1x1x32xf32>) -> tensor<1x1x128xf32> {
  %v = tvc.weight @v : tensor<16x32xf32>
  %u = tvc.weight @u : tensor<128x16xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 16>) : (tensor<1x1x32xf32>, tensor<16x32xf32>, tensor<128x16xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}
// CHECK: tvc.global @u.merged : tensor<128x32xf32>

/// One workload for the whole module: both entry points merge.
// DECODE-LABEL: func.func @model_prefill
// DECODE: tvc.weight @u.merged
// DECODE-LABEL: func.func @model_decode
// DECODE: tvc.weight @u.merged
// DECODE-NOT: tvc.global @v
