// RUN: tvc-opt %s -tvc-materialize-offload=host-attention -verify-diagnostics | FileCheck %s

/// With `host-attention` (the CUDA pipeline), a cache placed where attention
/// runs (host_attention: the caller's host buffer, attention on the host
/// CPU) gets no executor calls and holds no budget; a streamed cache beside
/// it still gets its prefetch, wait and evict. The 4 KiB budget holds the
/// streamed cache's slot only.
module attributes {tvc.offload = {budget = 4096 : i64, depth = 1 : i64, kv_caches = 2 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // CHECK-LABEL: func.func @step_decode
  // CHECK-SAME: %[[K:[a-z0-9]+]]: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"
  // CHECK-SAME: %[[V:[a-z0-9]+]]: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "host_attention"}
  func.func @step_decode(%row: memref<1x1x16xf32>, %out: memref<1x1x16xf32>,
                         %past: memref<i64> {tvc.name = "past_len"},
                         %k: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "streamed"},
                         %v: memref<1x64x16xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "host_attention"},
                         %blob: memref<?xi8> {tvc.weights}) {
    // CHECK: call @tvc_offload_kv_prefetch
    // CHECK: call @tvc_offload_kv_wait
    // CHECK-NOT: call @tvc_offload_kv_{{.*}}%c1_i64
    // CHECK: memref.subview %[[V]]
    %p = memref.load %past[] : memref<i64>
    %at = arith.index_cast %p : i64 to index
    %ks = memref.subview %k[0, %at, 0] [1, 1, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    memref.copy %row, %ks : memref<1x1x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    %vs = memref.subview %v[0, %at, 0] [1, 1, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    memref.copy %row, %vs : memref<1x1x16xf32> to memref<1x1x16xf32, strided<[1024, 16, 1], offset: ?>>
    // CHECK: tvc.kernel_call "tvc_kernel_attention_f32" ins(%{{.*}}, %{{.*}}, %[[V]] :
    // CHECK: call @tvc_offload_kv_evict
    // CHECK-NOT: call @tvc_offload_kv
    // CHECK: return
    tvc.kernel_call "tvc_kernel_attention_f32" ins(%row, %k, %v : memref<1x1x16xf32>, memref<1x64x16xf32>, memref<1x64x16xf32>) outs(%out : memref<1x1x16xf32>) scalars(%p : i64)
    return
  }
}
