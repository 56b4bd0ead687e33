// RUN: tvc-opt %s '-tvc-plan-offload=budget=100%' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: tvc-opt %s '-tvc-plan-offload=budget=20KiB planner=reference report=%t.json' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=REF
// RUN: FileCheck %s --input-file=%t.json --check-prefix=JSON
// RUN: tvc-opt %s '-tvc-plan-offload=budget=20KiB' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=COST
// RUN: tvc-opt %s '-tvc-plan-offload=budget=16384' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s --check-prefix=TIGHT
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=12KiB' 2>&1 | FileCheck %s --check-prefix=MINIMUM
// RUN: not tvc-opt %s '-tvc-plan-offload' 2>&1 | FileCheck %s --check-prefix=NOBUDGET
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=lots' 2>&1 | FileCheck %s --check-prefix=BADBUDGET
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=0' 2>&1 | FileCheck %s --check-prefix=BADBUDGET
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=150%' 2>&1 | FileCheck %s --check-prefix=OVER
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=50% planner=magic' 2>&1 | FileCheck %s --check-prefix=PLANNER
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=50% read-bandwidth=0' 2>&1 | FileCheck %s --check-prefix=BANDWIDTH
// RUN: not tvc-opt %s '-tvc-plan-offload=budget=50% compute-flops=0' 2>&1 | FileCheck %s --check-prefix=BANDWIDTH

/// A tied table (gathered by the embedding, read densely by the head) of
/// two pages, and two layers of two one-page matrices: 6 pages, 24 KiB.
tvc.global @table : tensor<128x16xf32> = dense<1.0> : tensor<128x16xf32>
tvc.global @l0.a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32>
tvc.global @l0.b : tensor<16x64xf32> = dense<1.0> : tensor<16x64xf32>
tvc.global @l1.a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32>
tvc.global @l1.b : tensor<16x64xf32> = dense<1.0> : tensor<16x64xf32>
/// Not read by any entry point: not an item.
tvc.global @unused : tensor<4xf32> = dense<1.0> : tensor<4xf32>

func.func @decode(%ids: tensor<1x1xi64>) -> tensor<1x1x128xf32> {
  %t = tvc.weight @table : tensor<128x16xf32>
  %h = tvc.embedding %t, %ids : tensor<128x16xf32>, tensor<1x1xi64>
  %h1 = tvc.layer 0 (%h) : (tensor<1x1x16xf32>) -> tensor<1x1x16xf32> {
  ^bb0(%x: tensor<1x1x16xf32>):
    %a = tvc.weight @l0.a : tensor<64x16xf32>
    %y = tvc.linear %x, %a : (tensor<1x1x16xf32>, tensor<64x16xf32>) -> tensor<1x1x64xf32>
    %b = tvc.weight @l0.b : tensor<16x64xf32>
    %z = tvc.linear %y, %b : (tensor<1x1x64xf32>, tensor<16x64xf32>) -> tensor<1x1x16xf32>
    tvc.yield %z : tensor<1x1x16xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x1x16xf32>) -> tensor<1x1x16xf32> {
  ^bb0(%x: tensor<1x1x16xf32>):
    %a = tvc.weight @l1.a : tensor<64x16xf32>
    %y = tvc.linear %x, %a : (tensor<1x1x16xf32>, tensor<64x16xf32>) -> tensor<1x1x64xf32>
    %b = tvc.weight @l1.b : tensor<16x64xf32>
    %z = tvc.linear %y, %b : (tensor<1x1x64xf32>, tensor<16x64xf32>) -> tensor<1x1x16xf32>
    tvc.yield %z : tensor<1x1x16xf32>
  }
  %t2 = tvc.weight @table : tensor<128x16xf32>
  %logits = tvc.lm_head %h2, %t2 : tensor<1x1x16xf32>, tensor<128x16xf32>
  return %logits : tensor<1x1x128xf32>
}

/// Everything fits: every weight resident, nothing read per call. The
/// embedding's gather of one row is bounded (two pages per row).
// ALL: remark: offload plan (cost): budget 24576 of 24576 bytes of weights held with nothing streamed; resident 24576, streamed 0, paged 0 bytes; peak 24576; decode: reads 0 bytes per call
// ALL: tvc.global @table {{.*}}tvc.gather_bytes = 8192 : i64, tvc.placement = "resident"
// ALL: tvc.global @l0.a {{.*}}tvc.offload_layer = 0 : i64, tvc.placement = "resident"
// ALL: tvc.global @unused : tensor<4xf32> = dense<1.000000e+00> : tensor<4xf32>{{$}}

/// Reference planner: the table (outside layers) resident, the layers
/// streamed, at most one layer ahead of the running one; the end of a call
/// reads the next call's first weights ahead. Each streamed weight has one
/// pool slot in every call: three pages ahead in a cycle of four weights
/// would hold every pair at some point (four slots, over the budget), so
/// the plan reads two ahead, in two slots shared by the layers.
// REF: remark: offload plan (reference): budget 20480 of 24576 bytes of weights held with nothing streamed; resident 8192, streamed 16384, paged 0 bytes; peak 16384; decode: reads 16384 bytes per call
// REF: tvc.offload = {budget = 20480 : i64, depth = 1 : i64, kv_caches = 0 : i64, planner = "reference", pool_bytes = 8192 : i64, predicted_seconds = {decode = {{.*}} : f64}, read_bandwidth = 2.000000e+09 : f64, reserved = 0 : i64}
// REF: tvc.global @table {{.*}}tvc.placement = "resident"}
// REF: tvc.global @l0.a {{.*}}tvc.placement = "streamed", tvc.slot_offset = 0 : i64
// REF: tvc.global @l0.b {{.*}}tvc.placement = "streamed", tvc.slot_offset = 4096 : i64
// REF: tvc.global @l1.a {{.*}}tvc.placement = "streamed", tvc.slot_offset = 0 : i64
// REF: tvc.global @l1.b {{.*}}tvc.offload_layer = 1 : i64, tvc.placement = "streamed", tvc.slot_offset = 4096 : i64
// JSON: "budget_bytes": 20480
// JSON: "0 before prefetch l0.a"
// JSON-NEXT: "0 before prefetch l0.b"
// JSON-NEXT: "1 before wait l0.a"
// JSON-NEXT: "1 after evict l0.a"
// JSON-NEXT: "1 after prefetch l1.a"
// JSON-NEXT: "2 before wait l0.b"
// JSON-NEXT: "2 after evict l0.b"
// JSON-NEXT: "2 after prefetch l1.b"
// JSON: "name": "l1.b"
// JSON: "slot_offset": 4096
// JSON: "peak_bytes": 16384
// JSON: "planner": "reference"
// JSON: "pool_bytes": 8192

/// The cost planner keeps more resident under the same budget (the first
/// layer too), so a call reads half as much.
// COST: remark: offload plan (cost): budget 20480 of 24576 bytes of weights held with nothing streamed; resident 16384, streamed 8192, paged 0 bytes; peak 20480; decode: reads 8192 bytes per call
// COST: tvc.offload = {{{.*}}pool_bytes = 4096 : i64
// COST: tvc.global @l0.b {{.*}}tvc.placement = "resident"
// COST: tvc.global @l1.a {{.*}}tvc.placement = "streamed", tvc.slot_offset = 0 : i64
// COST: tvc.global @l1.b {{.*}}tvc.placement = "streamed", tvc.slot_offset = 0 : i64

/// At the minimum (the head reads the two-page table; with the table
/// streamed its gathered pages are held too, so the table stays resident
/// and the layers stream one matrix at a time).
// TIGHT: remark: offload plan (cost): budget 16384 of 24576 bytes of weights held with nothing streamed; resident 12288, streamed 12288, paged 0 bytes; peak 16384

// MINIMUM: error: tvc-plan-offload: a budget of 12288 bytes is below the 16384 bytes (0.02 MiB) that any plan needs (the items read at step 5 of 'decode': table, plus the pages gathers touch)
// NOBUDGET: error: tvc-plan-offload: budget: needs a size (N bytes, e.g. 512MiB, or P% of the weights)
// BADBUDGET: error: tvc-plan-offload: budget: cannot read '{{lots|0}}': expected a positive number of bytes
// OVER: error: tvc-plan-offload: budget: more than 100% of the weights: nothing to plan
// PLANNER: error: tvc-plan-offload: unknown planner 'magic' (expected reference or cost)
// BANDWIDTH: error: tvc-plan-offload: bandwidths and compute-flops must be positive
