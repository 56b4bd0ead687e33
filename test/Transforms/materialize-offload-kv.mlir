// RUN: tvc-opt %s -split-input-file -tvc-materialize-offload -verify-diagnostics | FileCheck %s

/// A decode step as the CPU pipeline has it when the pass runs: the new
/// row is copied into a subview of each cache at past_len, then attention
/// reads the caches. Cache 0 is streamed (it lives in the executor's spill
/// file), cache 1 resident (the caller's buffer): a 16 KiB budget holds
/// the resident cache and one slot.
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 2 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // The streamed cache's pool slot, recorded for the manifest (the
  // arguments do not survive lowering) and on its argument.
  // CHECK: tvc.offload = {{{.*}}kv_slot_offsets = array<i64: 0, -1>, planner = "cost", pool_bytes = 4096 : i64
  // CHECK: func.func private @tvc_offload_kv_prefetch(memref<?xi8>, i64, i64)
  // CHECK: func.func private @tvc_offload_kv_wait(memref<?xi8>, i64, i64) -> i64
  // CHECK: func.func private @tvc_offload_kv_evict(memref<?xi8>, i64, i64, i64)
  // CHECK-LABEL: func.func @step_decode
  // CHECK-SAME: %[[PAST:[a-z0-9]+]]: memref<i64> {tvc.name = "past_len"}
  // CHECK-SAME: %[[K:[a-z0-9]+]]: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed", tvc.kv_slot_offset = 0 : i64}
  // CHECK-SAME: %[[V:[a-z0-9]+]]: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "resident"}
  // CHECK-SAME: %[[BLOB:[a-z0-9]+]]: memref<?xi8> {tvc.weights}
  func.func @step_decode(%row: memref<1x1x16xf32>, %out: memref<1x1x16xf32>,
                         %past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"},
                         %v: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "resident"},
                         %blob: memref<?xi8> {tvc.weights}) {
    // The prefetch is issued as early as the budget allows: at the start,
    // with the valid rows (past_len).
    // CHECK: %[[P0:.*]] = memref.load %[[PAST]][] : memref<i64>
    // CHECK: call @tvc_offload_kv_prefetch(%[[BLOB]], %{{.*}}, %[[P0]])
    %p = memref.load %past[] : memref<i64>
    %at = arith.index_cast %p : i64 to index
    %n = arith.addi %p, %p : i64
    // Before the first use of the cache, the wait: a slot's view of the
    // blob, or (-1) the caller's buffer.
    // CHECK: arith.addi %{{.*}} : i64
    // CHECK: %[[P1:.*]] = memref.load %[[PAST]][] : memref<i64>
    // CHECK: %[[WHERE:.*]] = call @tvc_offload_kv_wait(%[[BLOB]], %c0_i64{{.*}}, %[[P1]])
    // CHECK: %[[CALLER:.*]] = arith.cmpi slt, %[[WHERE]], %c0_i64
    // CHECK: %[[AT:.*]] = arith.maxsi %[[WHERE]], %c0_i64
    // CHECK: %[[SHIFT:.*]] = arith.index_cast %[[AT]] : i64 to index
    // CHECK: %[[SLOT:.*]] = memref.view %[[BLOB]][%[[SHIFT]]][] : memref<?xi8> to memref<1x64x16xf32>
    // CHECK: %[[CACHE:.*]] = arith.select %[[CALLER]], %[[K]], %[[SLOT]] : memref<1x64x16xf32>
    // CHECK: %[[SUB:.*]] = memref.subview %[[CACHE]][0, %[[ROW:.*]], 0] [1, 1, 16]
    // CHECK: memref.copy %{{.*}}, %[[SUB]]
    // CHECK: memref.subview %[[V]]
    %ks = memref.subview %k[0, %at, 0] [1, 1, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    memref.copy %row, %ks : memref<1x1x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    %vs = memref.subview %v[0, %at, 0] [1, 1, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    memref.copy %row, %vs : memref<1x1x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    // CHECK: tvc.kernel_call "tvc_kernel_attention_f32" ins(%{{.*}}, %[[CACHE]], %[[V]] :
    tvc.kernel_call "tvc_kernel_attention_f32" ins(%row, %k, %v : memref<1x1x16xf32>, memref<1x64x16xf32>, memref<1x64x16xf32>) outs(%out : memref<1x1x16xf32>) scalars(%n : i64)
    // After its last use, the rows the copies wrote go back: [row, row + 1).
    // CHECK: %[[FIRST:.*]] = arith.index_cast %[[ROW]] : index to i64
    // CHECK: %[[END:.*]] = arith.addi %[[FIRST]], %c1_i64
    // CHECK: call @tvc_offload_kv_evict(%[[BLOB]], %c0_i64{{.*}}, %[[FIRST]], %[[END]])
    // CHECK-NOT: tvc_offload_kv
    // CHECK: return
    return
  }
}

// -----

/// Attention where the KV cache lives is a plan for a target that has a
/// tier running attention; the CPU pipeline has none.
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // expected-error @below {{KV cache argument 1 is placed where attention runs (host_attention): attention offload is not lowered for this target}}
  func.func @negative_host_decode(%past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "host_attention"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}

// -----

module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // expected-error @below {{KV cache argument 0 needs a static memref type, tvc.kv_item and tvc.kv_placement (run tvc-plan-offload)}}
  func.func @negative_unplanned_decode(%k: memref<1x64x16xf32> {tvc.kv_cache},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}

// -----

module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // expected-error @below {{keeps KV caches but has no past_len argument of type memref<i64>}}
  func.func @negative_no_past_decode(%k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}

// -----

/// A streamed cache that nothing copies into: the rows to write back are
/// unknown.
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  func.func @negative_unwritten_decode(%out: memref<1x1x16xf32>, %past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"},
                         %blob: memref<?xi8> {tvc.weights}) {
    %c1 = arith.constant 1 : i64
    // expected-error @below {{cannot find the rows written into KV cache 0 (expected memref.copy into subviews of it)}}
    tvc.kernel_call "tvc_kernel_attention_f32" ins(%out, %k, %k : memref<1x1x16xf32>, memref<1x64x16xf32>, memref<1x64x16xf32>) outs(%out : memref<1x1x16xf32>) scalars(%c1 : i64)
    return
  }
}

// -----

module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // expected-error @below {{KV cache argument 1 has an unknown tvc.kv_placement 'swapped'}}
  func.func @negative_placement_decode(%past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "swapped"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}

// -----

/// Cache 0 is streamed in prefill but resident in decode: one cache, one
/// placement.
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  func.func @negative_prefill(%past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
  // expected-error @below {{KV cache argument 1 differs from KV cache 0 of another entry point}}
  func.func @negative_decode(%past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "resident"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}

// -----

/// Caches numbered 0 and 2: cache 1 is missing.
// expected-error @below {{the entry points' tvc.kv_item 1 names no KV cache argument}}
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, kv_caches = 2 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  func.func @negative_gap_decode(%past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "resident"},
                         %v: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 2 : i64, tvc.kv_placement = "resident"},
                         %blob: memref<?xi8> {tvc.weights}) {
    return
  }
}
