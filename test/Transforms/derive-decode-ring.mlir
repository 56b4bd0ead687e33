// RUN: tvc-opt %s -split-input-file -tvc-derive-decode | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-derive-decode=ring-windows=false' | FileCheck %s --check-prefix=LINEAR

/// A sliding window of 4 in a context of 32: the caches are rings of 4
/// rows. Prefill attends over the ring's min(past, 4) rows in position
/// order (two slices from row (past - n) mod 4, concatenated) and the new
/// rows, under the window mask, and writes the last min(T, 4) new rows at
/// their positions mod 4 (two inserts: the ring wraps at most once).
/// Decode writes its row at past mod 4 and attends to the min(past + 1, 4)
/// filled rows under #tvc.full.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: %[[PAST:[^:]*]]: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: %[[KC:[^:]*]]: tensor<1x4x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"},
// CHECK-SAME: %[[VC:[^:]*]]: tensor<1x4x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.value"})
// CHECK-SAME: -> (tensor<1x?x8xf32>, tensor<1x4x4xf32> {tvc.updates_arg = 3 : i64}, tensor<1x4x4xf32> {tvc.updates_arg = 4 : i64})
// CHECK: %[[P:.*]] = arith.index_cast
// CHECK: %[[N:.*]] = arith.minsi %[[P]], %[[C4:.*]] : index
// CHECK: %[[OLDEST:.*]] = arith.subi %[[P]], %[[N]] : index
// CHECK: %[[START:.*]] = arith.remsi %[[OLDEST]], %[[C4]] : index
// CHECK: %[[ROOM:.*]] = arith.subi %[[C4]], %[[START]] : index
// CHECK: %[[HEAD:.*]] = arith.minsi %[[N]], %[[ROOM]] : index
// CHECK: %[[TAIL:.*]] = arith.subi %[[N]], %[[HEAD]] : index
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[KC]][0, %[[START]], 0] [1, %[[HEAD]], 4] [1, 1, 1]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[KC]][0, 0, 0] [1, %[[TAIL]], 4] [1, 1, 1]
// CHECK: %[[KEYS:.*]] = tensor.concat dim(1) %[[S1]], %[[S2]], %[[K:.*]] : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
// CHECK: %[[KR1:.*]] = tensor.insert_slice %{{.*}} into %[[KC]][0, %{{.*}}, 0]
// CHECK: %[[KR2:.*]] = tensor.insert_slice %{{.*}} into %[[KR1]][0, 0, 0]
// CHECK: %[[VALUES:.*]] = tensor.concat dim(1)
// CHECK: %[[VR2:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0]
// CHECK: tvc.attention %{{.*}}, %[[KEYS]], %[[VALUES]] heads 2 kv_heads 1 mask(#tvc.sliding_window<window = 4>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
// CHECK: return %{{.*}}, %[[KR2]], %[[VR2]]

// CHECK-LABEL: func.func @forward_decode(
// CHECK-SAME: %[[PAST:[^:]*]]: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: %[[KC:[^:]*]]: tensor<1x4x4xf32> {tvc.kv_cache
// CHECK: %[[P:.*]] = arith.index_cast
// CHECK: %[[ROW:.*]] = arith.remsi %[[P]], %[[C4:.*]] : index
// CHECK: %[[KR:.*]] = tensor.insert_slice %{{.*}} into %[[KC]][0, %[[ROW]], 0] [1, 1, 4] [1, 1, 1] : tensor<1x1x4xf32> into tensor<1x4x4xf32>
// CHECK: %[[FILLED:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// CHECK: tvc.attention %{{.*}}, %[[KR]], %{{.*}} heads 2 kv_heads 1 mask(#tvc.full) kv_len(%[[FILLED]]) : tensor<1x1x8xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>

// LINEAR-LABEL: func.func @forward_prefill(
// LINEAR-SAME: tensor<1x32x4xf32> {tvc.kv_cache
// LINEAR-NOT: tensor.concat
// LINEAR: tvc.attention {{.*}} mask(#tvc.sliding_window<window = 4>) kv_len
// LINEAR-LABEL: func.func @forward_decode(
// LINEAR: tvc.attention {{.*}} mask(#tvc.sliding_window<window = 4>) kv_len
func.func @forward(%x: tensor<1x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @table : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %table, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %out = tvc.layer 0 (%h) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%in: tensor<1x?x8xf32>):
    %k, %v = tvc.split %in sizes [4, 4] : tensor<1x?x8xf32>
    %a = tvc.attention %in, %k, %v heads 2 kv_heads 1 mask(#tvc.sliding_window<window = 4>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
    tvc.yield %a : tensor<1x?x8xf32>
  }
  return %out : tensor<1x?x8xf32>
}

// -----

/// A window as long as the context, and other masks, keep linear caches.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"}
// CHECK-SAME: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.1.key"}
// CHECK-NOT: tensor.concat
// CHECK: mask(#tvc.sliding_window<window = 32>) kv_len
// CHECK: mask(#tvc.window_global<window = 4, global = 1>) kv_len
// CHECK-LABEL: func.func @forward_decode(
// CHECK: mask(#tvc.sliding_window<window = 32>) kv_len
// CHECK: mask(#tvc.window_global<window = 4, global = 1>) kv_len
func.func @forward(%x: tensor<1x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @table : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %table, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %k, %v = tvc.split %h sizes [4, 4] : tensor<1x?x8xf32>
  %a = tvc.attention %h, %k, %v heads 2 kv_heads 1 mask(#tvc.sliding_window<window = 32>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %k2, %v2 = tvc.split %a sizes [4, 4] : tensor<1x?x8xf32>
  %b = tvc.attention %a, %k2, %v2 heads 2 kv_heads 1 mask(#tvc.window_global<window = 4, global = 1>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  return %b : tensor<1x?x8xf32>
}
