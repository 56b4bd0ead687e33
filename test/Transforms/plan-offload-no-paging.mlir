// RUN: tvc-opt %s '-tvc-plan-offload=budget=12KiB' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=PAGED
// RUN: tvc-opt %s '-tvc-plan-offload=budget=20KiB paging=false' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=NOPAGE
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=16KiB paging=false' 2>&1 | FileCheck %s --check-prefix=NOPAGE-MIN

/// paging=false (the CUDA target: device memory is not demand paged): a
/// table that is only gathered is read whole by its gather, like a dense
/// weight. Here: a 4-page embedding table (gathered only) and two one-page
/// matrices, 24 KiB.
tvc.global @table : tensor<256x16xf32> = dense<1.0> : tensor<256x16xf32>
tvc.global @a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32>
tvc.global @b : tensor<16x64xf32> = dense<1.0> : tensor<16x64xf32>

func.func @decode(%ids: tensor<1x1xi64>) -> tensor<1x1x16xf32> {
  %t = tvc.weight @table : tensor<256x16xf32>
  %h = tvc.embedding %t, %ids : tensor<256x16xf32>, tensor<1x1xi64>
  %a = tvc.weight @a : tensor<64x16xf32>
  %y = tvc.linear %h, %a : (tensor<1x1x16xf32>, tensor<64x16xf32>) -> tensor<1x1x64xf32>
  %b = tvc.weight @b : tensor<16x64xf32>
  %z = tvc.linear %y, %b : (tensor<1x1x64xf32>, tensor<16x64xf32>) -> tensor<1x1x16xf32>
  return %z : tensor<1x1x16xf32>
}

/// Paged (the default): the gather touches two pages of the table, which
/// is left to demand paging.
// PAGED: remark: offload plan (cost): {{.*}} paged 16384 bytes
// PAGED: tvc.global @table {{.*}}tvc.gather_bytes = 8192 : i64, tvc.placement = "paged"

/// Without paging the table is an ordinary item, read whole by its gather
/// and live until the op that consumes the gathered rows (lowered, the
/// gather fuses into an elementwise consumer): here the first linear. At
/// 20 KiB it stays resident and the matrices share one slot; no gather
/// bytes.
// NOPAGE: remark: offload plan (cost): {{.*}} resident 16384, streamed 8192, paged 0 bytes
// NOPAGE: tvc.offload = {{{.*}}paging = false
// NOPAGE-NOT: tvc.gather_bytes
// NOPAGE: tvc.global @table {{.*}}{tvc.placement = "resident"}

/// The least budget now holds the whole table and the first matrix at the
/// linear (with paging, 12 KiB suffice: two touched pages and a matrix).
// NOPAGE-MIN: error: tvc-plan-offload: a budget of 16384 bytes is below the 20480 bytes {{.*}}(the items read at step 1 of 'decode': table
