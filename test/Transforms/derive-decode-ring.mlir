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

/// Window + 1 global token (StreamingLLM's attention sink): the caches
/// have the global row first, then a ring of 4. Prefill attends over the
/// filled global rows, the ring's rows in position order and the new rows;
/// new rows of positions below 1 go to their own rows, the last 4 others
/// into the ring from row 1 + (position - 1) mod 4. Decode writes at its
/// own row before the ring and at 1 + (past - 1) mod 4 after, and attends
/// to min(past + 1, 5) rows under #tvc.full.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: %[[KC:[^:]*]]: tensor<1x5x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"}
// CHECK: %[[P:.*]] = arith.index_cast
// CHECK: %[[LATER:.*]] = arith.maxsi %{{.*}}, %{{.*}} : index
// CHECK: %[[GLOBALS:.*]] = arith.minsi %[[P]], %[[C1:.*]] : index
// CHECK: %[[G:.*]] = tensor.extract_slice %[[KC]][0, 0, 0] [1, %[[GLOBALS]], 4] [1, 1, 1]
// CHECK: %[[R1:.*]] = tensor.extract_slice %[[KC]][0, %{{.*}}, 0] [1, %{{.*}}, 4] [1, 1, 1]
// CHECK: %[[R2:.*]] = tensor.extract_slice %[[KC]][0, 1, 0] [1, %{{.*}}, 4] [1, 1, 1]
// CHECK: %[[KEYS:.*]] = tensor.concat dim(1) %[[G]], %[[R1]], %[[R2]], %{{.*}} :
// CHECK: %[[W1:.*]] = tensor.insert_slice %{{.*}} into %[[KC]][0, %{{.*}}, 0]
// CHECK: %[[W2:.*]] = tensor.insert_slice %{{.*}} into %[[W1]][0, %{{.*}}, 0]
// CHECK: %[[W3:.*]] = tensor.insert_slice %{{.*}} into %[[W2]][0, 1, 0]
// CHECK: tvc.attention %{{.*}}, %[[KEYS]], %{{.*}} mask(#tvc.window_global<window = 4, global = 1>) :

// CHECK-LABEL: func.func @forward_decode(
// CHECK-SAME: %[[KC:[^:]*]]: tensor<1x5x4xf32> {tvc.kv_cache
// CHECK: %[[P:.*]] = arith.index_cast
// CHECK: %[[EARLY:.*]] = arith.cmpi slt, %[[P]], %{{.*}} : index
// CHECK: %[[ROW:.*]] = arith.select %[[EARLY]], %[[P]], %{{.*}} : index
// CHECK: tensor.insert_slice %{{.*}} into %[[KC]][0, %[[ROW]], 0] [1, 1, 4]
// CHECK: tvc.attention {{.*}} mask(#tvc.full) kv_len(%{{.*}}) : tensor<1x1x8xf32>, tensor<1x5x4xf32>, tensor<1x5x4xf32>
func.func @forward(%x: tensor<1x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @table : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %table, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %k, %v = tvc.split %h sizes [4, 4] : tensor<1x?x8xf32>
  %a = tvc.attention %h, %k, %v heads 2 kv_heads 1 mask(#tvc.window_global<window = 4, global = 1>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  return %a : tensor<1x?x8xf32>
}

// -----

/// A window as long as the context, a window + global tokens that fill it,
/// and other masks keep linear caches.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"}
// CHECK-SAME: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.1.key"}
// CHECK-SAME: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.2.key"}
// CHECK-NOT: tensor.concat
// CHECK: mask(#tvc.sliding_window<window = 32>) kv_len
// CHECK: mask(#tvc.window_global<window = 30, global = 2>) kv_len
// CHECK: mask(#tvc.block_local<block = 4, local = 2, global = 0>) kv_len
// CHECK-LABEL: func.func @forward_decode(
// CHECK: mask(#tvc.sliding_window<window = 32>) kv_len
// CHECK: mask(#tvc.window_global<window = 30, global = 2>) kv_len
// CHECK: mask(#tvc.block_local<block = 4, local = 2, global = 0>) kv_len
func.func @forward(%x: tensor<1x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @table : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %table, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %k, %v = tvc.split %h sizes [4, 4] : tensor<1x?x8xf32>
  %a = tvc.attention %h, %k, %v heads 2 kv_heads 1 mask(#tvc.sliding_window<window = 32>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %k2, %v2 = tvc.split %a sizes [4, 4] : tensor<1x?x8xf32>
  %b = tvc.attention %a, %k2, %v2 heads 2 kv_heads 1 mask(#tvc.window_global<window = 30, global = 2>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %k3, %v3 = tvc.split %b sizes [4, 4] : tensor<1x?x8xf32>
  %c = tvc.attention %b, %k3, %v3 heads 2 kv_heads 1 mask(#tvc.block_local<block = 4, local = 2, global = 0>) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  return %c : tensor<1x?x8xf32>
}
