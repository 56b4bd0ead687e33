// RUN: tvc-opt %s -split-input-file -tvc-materialize-offload -verify-diagnostics | FileCheck %s

/// Bufferized code as the CPU pipeline has it when the pass runs: weights
/// are views of the blob argument at their laid-out offsets. Two streamed
/// one-page matrices read by kernel calls, a resident one, and a paged
/// table read by a gather (a load nested in a loop body). The plan's pool
/// slots (stale here) are derived again for the lowered order.
module attributes {tvc.offload = {budget = 16384 : i64, depth = 1 : i64, planner = "cost", pool_bytes = 65536 : i64, read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @table : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 0 : i64, tvc.placement = "paged", tvc.gather_bytes = 8192 : i64}
  tvc.global @a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 4096 : i64, tvc.placement = "streamed", tvc.offload_layer = 0 : i64, tvc.slot_offset = 40960 : i64}
  tvc.global @b : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 8192 : i64, tvc.placement = "streamed", tvc.offload_layer = 1 : i64}
  tvc.global @c : tensor<16xf32> = dense<1.0> : tensor<16xf32> {tvc.offset = 12288 : i64, tvc.placement = "resident"}

  // The executor's entry points are declared, and each laid-out weight
  // gets its item index (its position in the blob).
  // CHECK: tvc.offload = {{{.*}}pool_bytes = 8192 : i64
  // CHECK: func.func private @tvc_offload_wait(memref<?xi8>, i64, i64) -> i64
  // CHECK: func.func private @tvc_offload_evict(memref<?xi8>, i64)
  // CHECK: tvc.global @table {{.*}}tvc.offload_item = 0 : i64, tvc.offset = 0 : i64, tvc.placement = "paged"}
  // CHECK: tvc.global @a {{.*}}tvc.placement = "streamed", tvc.slot_offset = 0 : i64}
  // CHECK: tvc.global @b {{.*}}tvc.placement = "streamed", tvc.slot_offset = 4096 : i64}
  // CHECK: tvc.global @c {{.*}}tvc.offload_item = 3 : i64, tvc.offset = 12288 : i64, tvc.placement = "resident"}
  // CHECK-LABEL: func.func @step_decode
  func.func @step_decode(%x: memref<1x16xf32>, %y: memref<1x64xf32>, %id: index, %row: memref<16xf32>, %blob: memref<?xi8> {tvc.weights}) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %c4096 = arith.constant 4096 : index
    %c8192 = arith.constant 8192 : index
    %c12288 = arith.constant 12288 : index
    %t = memref.view %blob[%c0][] : memref<?xi8> to memref<64x16xf32>
    %a = memref.view %blob[%c4096][] : memref<?xi8> to memref<64x16xf32>
    %b = memref.view %blob[%c8192][] : memref<?xi8> to memref<64x16xf32>
    %c = memref.view %blob[%c12288][] : memref<?xi8> to memref<16xf32>
    // The start of the call reads both streamed matrices ahead (they fit).
    // CHECK: %[[I1:.*]] = arith.constant 1 : i64
    // CHECK-NEXT: call @tvc_offload_prefetch(%{{.*}}, %[[I1]])
    // CHECK: %[[I2:.*]] = arith.constant 2 : i64
    // CHECK-NEXT: call @tvc_offload_prefetch(%{{.*}}, %[[I2]])
    // The gather: paged, evicted (its touched pages dropped) after it.
    // CHECK: scf.for
    // CHECK: memref.load
    // CHECK: }
    // CHECK-NEXT: %[[I0:.*]] = arith.constant 0 : i64
    // CHECK-NEXT: call @tvc_offload_evict(%{{.*}}, %[[I0]])
    scf.for %j = %c0 to %c16 step %c1 {
      %v = memref.load %t[%id, %j] : memref<64x16xf32>
      memref.store %v, %row[%j] : memref<16xf32>
    }
    // The wait says where @a's bytes are (its home offset, 4096, when no
    // executor runs); the kernel reads a view there.
    // CHECK: %[[HOME:.*]] = arith.constant 4096 : i64
    // CHECK-NEXT: %[[WHERE:.*]] = call @tvc_offload_wait(%[[BLOB:.*]], %{{.*}}, %[[HOME]]) : (memref<?xi8>, i64, i64) -> i64
    // CHECK-NEXT: %[[SHIFT:.*]] = arith.index_cast %[[WHERE]] : i64 to index
    // CHECK-NEXT: %[[A:.*]] = memref.view %[[BLOB]][%[[SHIFT]]][] : memref<?xi8> to memref<64x16xf32>
    // CHECK-NEXT: tvc.kernel_call "tvc_kernel_linear_f32" ins(%{{.*}}, %[[A]] : memref<1x16xf32>, memref<64x16xf32>)
    // CHECK-NEXT: arith.constant 1 : i64
    // CHECK-NEXT: call @tvc_offload_evict
    // Its pages free, the next call's @a is read ahead at once.
    // CHECK-NEXT: arith.constant 1 : i64
    // CHECK-NEXT: call @tvc_offload_prefetch
    tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %a : memref<1x16xf32>, memref<64x16xf32>) outs(%y : memref<1x64xf32>)
    // Then @b, and after it the next call's @b.
    // CHECK: call @tvc_offload_wait
    // CHECK-NEXT: arith.index_cast
    // CHECK-NEXT: %[[B:.*]] = memref.view
    // CHECK-NEXT: tvc.kernel_call "tvc_kernel_linear_f32" ins(%{{.*}}, %[[B]] : memref<1x16xf32>, memref<64x16xf32>)
    // CHECK-NEXT: arith.constant 2 : i64
    // CHECK-NEXT: call @tvc_offload_evict
    // CHECK-NEXT: arith.constant 2 : i64
    // CHECK-NEXT: call @tvc_offload_prefetch
    tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %b : memref<1x16xf32>, memref<64x16xf32>) outs(%y : memref<1x64xf32>)
    // The resident vector gets no calls.
    // CHECK-NEXT: memref.copy
    // CHECK-NEXT: return
    memref.copy %c, %row : memref<16xf32> to memref<16xf32>
    return
  }
}

// -----

/// A view derived from a streamed weight's view before the wait (a
/// collapse made early) follows the wait's view.
module attributes {tvc.offload = {budget = 4096 : i64, depth = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 0 : i64, tvc.placement = "streamed"}
  // CHECK-LABEL: func.func @derived
  func.func @derived(%out: memref<1024xf32>, %blob: memref<?xi8> {tvc.weights}) {
    %c0 = arith.constant 0 : index
    %a = memref.view %blob[%c0][] : memref<?xi8> to memref<64x16xf32>
    %flat = memref.collapse_shape %a [[0, 1]] : memref<64x16xf32> into memref<1024xf32>
    // CHECK: %[[WHERE:.*]] = call @tvc_offload_wait
    // CHECK-NEXT: %[[SHIFT:.*]] = arith.index_cast %[[WHERE]]
    // CHECK-NEXT: %[[A:.*]] = memref.view %{{.*}}[%[[SHIFT]]][]
    // CHECK-NEXT: %[[FLAT:.*]] = memref.collapse_shape %[[A]]
    // CHECK-NEXT: memref.copy %[[FLAT]], %{{.*}}
    memref.copy %flat, %out : memref<1024xf32> to memref<1024xf32>
    return
  }
}

// -----

/// A plan without paging (tvc-plan-offload paging=false, the CUDA target):
/// a streamed table read by a gather is waited for before the loop, the
/// loop reads it where the wait says, and it is evicted after.
module attributes {tvc.offload = {budget = 8192 : i64, depth = 1 : i64, paging = false, planner = "cost", pool_bytes = 4096 : i64, read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @table : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 0 : i64, tvc.placement = "streamed", tvc.slot_offset = 0 : i64}
  // CHECK-LABEL: func.func @gather_streamed_decode
  func.func @gather_streamed_decode(%id: index, %row: memref<16xf32>, %blob: memref<?xi8> {tvc.weights}) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %t = memref.view %blob[%c0][] : memref<?xi8> to memref<64x16xf32>
    // CHECK: %[[WHERE:.*]] = call @tvc_offload_wait(%[[BLOB:.*]], %{{.*}}, %{{.*}}) : (memref<?xi8>, i64, i64) -> i64
    // CHECK-NEXT: %[[SHIFT:.*]] = arith.index_cast %[[WHERE]] : i64 to index
    // CHECK-NEXT: %[[T:.*]] = memref.view %[[BLOB]][%[[SHIFT]]][] : memref<?xi8> to memref<64x16xf32>
    // CHECK-NEXT: scf.for
    // CHECK-NEXT: memref.load %[[T]]
    // CHECK: }
    // CHECK-NEXT: arith.constant 0 : i64
    // CHECK-NEXT: call @tvc_offload_evict
    scf.for %j = %c0 to %c16 step %c1 {
      %v = memref.load %t[%id, %j] : memref<64x16xf32>
      memref.store %v, %row[%j] : memref<16xf32>
    }
    return
  }
}

// -----

/// Without tvc.offload the pass changes nothing.
// CHECK-LABEL: func.func @no_plan
// CHECK-NOT: tvc_offload
func.func @no_plan(%blob: memref<?xi8> {tvc.weights}) {
  return
}

// -----

/// negative: the budget cannot hold both matrices a step reads at once.
// expected-error @below {{the lowered schedule breaks the offload plan: 'both' needs 0.01 MiB when 'b' is read; the budget is 0.00 MiB}}
module attributes {tvc.offload = {budget = 4096 : i64, depth = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 0 : i64, tvc.placement = "streamed"}
  tvc.global @b : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 4096 : i64, tvc.placement = "streamed"}
  func.func @both(%x: memref<1x16xf32>, %y: memref<1x64xf32>, %blob: memref<?xi8> {tvc.weights}) {
    %c0 = arith.constant 0 : index
    %c4096 = arith.constant 4096 : index
    %a = memref.view %blob[%c0][] : memref<?xi8> to memref<64x16xf32>
    %b = memref.view %blob[%c4096][] : memref<?xi8> to memref<64x16xf32>
    memref.copy %a, %b : memref<64x16xf32> to memref<64x16xf32>
    return
  }
}

// -----

/// negative: a view at an offset that is no weight's.
module attributes {tvc.offload = {budget = 8192 : i64, depth = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @a : tensor<64x16xf32> = dense<1.0> : tensor<64x16xf32> {tvc.offset = 0 : i64, tvc.placement = "streamed"}
  func.func @stray(%blob: memref<?xi8> {tvc.weights}) {
    %c64 = arith.constant 64 : index
    // expected-error @below {{views the weights blob at an offset that is no laid-out weight's}}
    %a = memref.view %blob[%c64][] : memref<?xi8> to memref<16xf32>
    return
  }
}

// -----

/// negative: weights not on pages of their own.
module attributes {tvc.offload = {budget = 8192 : i64, depth = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  // expected-error @below {{is not page aligned in the weights blob}}
  tvc.global @a : tensor<16xf32> = dense<1.0> : tensor<16xf32> {tvc.offset = 64 : i64, tvc.placement = "streamed"}
}

// -----

/// negative: the blob read other than through a view.
module attributes {tvc.offload = {budget = 8192 : i64, depth = 1 : i64, planner = "cost", read_bandwidth = 2.000000e+09 : f64}} {
  tvc.global @a : tensor<16xf32> = dense<1.0> : tensor<16xf32> {tvc.offset = 0 : i64, tvc.placement = "streamed"}
  func.func @whole(%blob: memref<?xi8> {tvc.weights}, %out: memref<?xi8>) {
    // expected-error @below {{reads the weights blob other than through a view}}
    memref.copy %blob, %out : memref<?xi8> to memref<?xi8>
    return
  }
}

