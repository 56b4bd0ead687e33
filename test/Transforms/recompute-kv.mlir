// RUN: tvc-opt %s -split-input-file -tvc-derive-decode -tvc-recompute-kv | FileCheck %s
// RUN: tvc-opt %s -split-input-file -tvc-derive-decode '-tvc-recompute-kv=report' 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: tvc-opt %s -split-input-file -tvc-derive-decode '-tvc-recompute-kv=report windowed-only' 2>&1 >/dev/null | FileCheck %s --check-prefix=WINDOWED

/// windowed-only: the sliding window's ring changes, full-length caches
/// stay.
// WINDOWED: remark: tvc-recompute-kv: 0 of 1 key/value cache pairs {{.*}}; kept past_key_values.0.key: not a sliding window's ring (windowed-only)
// WINDOWED: remark: tvc-recompute-kv: 1 of 1 key/value cache pairs {{.*}} (256 bytes less held)
// WINDOWED: remark: tvc-recompute-kv: 0 of 3

/// GPT-2's attention: keys and values projected from the normalised hidden
/// states (32 floats a row) by two linear maps (32 + 32 floats). The key
/// cache becomes a cache of the hidden states, the value cache goes, and
/// the attention reads keys and values recomputed from the first %n rows.
// REMARK: remark: tvc-recompute-kv: 1 of 1 key/value cache pairs recompute their keys and values from a cache of their input (8192 bytes less held)
// CHECK-LABEL: func.func @gpt2_prefill(
// CHECK-SAME: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: %[[XC:[^:]*]]: tensor<1x64x32xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.kv_input"})
// CHECK-SAME: -> (tensor<1x?x32xf32>, tensor<1x64x32xf32> {tvc.updates_arg = 3 : i64})
// CHECK: %[[X:.*]] = tvc.layer_norm
// CHECK: %[[NEW:.*]] = tensor.insert_slice %[[X]] into %[[XC]][0, %{{.*}}, 0] [1, %{{.*}}, 32] [1, 1, 1] : tensor<1x?x32xf32> into tensor<1x64x32xf32>
// CHECK: %[[N:.*]] = arith.minsi %{{.*}}, %c64 : index
// CHECK: %[[ROWS:.*]] = tensor.extract_slice %[[NEW]][0, 0, 0] [1, %[[N]], 32] [1, 1, 1] : tensor<1x64x32xf32> to tensor<1x?x32xf32>
// CHECK: %[[K:.*]] = tvc.linear %[[ROWS]], %{{.*}} bias %{{.*}} : (tensor<1x?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
// CHECK: %[[V:.*]] = tvc.linear %[[ROWS]], %{{.*}} bias %{{.*}} : (tensor<1x?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
// CHECK: tvc.attention %{{.*}}, %[[K]], %[[V]] heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x32xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK: return %{{.*}}, %[[NEW]] : tensor<1x?x32xf32>, tensor<1x64x32xf32>
// CHECK-LABEL: func.func @gpt2_decode(
// CHECK-SAME: tensor<1x64x32xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.kv_input"})
// CHECK-SAME: -> (tensor<1x1x32xf32>, tensor<1x64x32xf32> {tvc.updates_arg = 3 : i64})
// CHECK: tensor.insert_slice %{{.*}} [1, 1, 32] [1, 1, 1] : tensor<1x1x32xf32> into tensor<1x64x32xf32>
// CHECK: tvc.attention {{.*}} mask(#tvc.causal) : tensor<1x1x32xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK-NOT: kv_len
tvc.global @wpe : tensor<64x32xf32> = dense<0.5> : tensor<64x32xf32>
tvc.global @g : tensor<32xf32> = dense<1.0> : tensor<32xf32>
tvc.global @b : tensor<32xf32> = dense<0.0> : tensor<32xf32>
tvc.global @wq : tensor<32x32xf32> = dense<0.1> : tensor<32x32xf32>
tvc.global @wk : tensor<32x32xf32> = dense<0.2> : tensor<32x32xf32>
tvc.global @wv : tensor<32x32xf32> = dense<0.3> : tensor<32x32xf32>
tvc.global @bk : tensor<32xf32> = dense<0.1> : tensor<32xf32>
tvc.global @wo : tensor<32x32xf32> = dense<0.1> : tensor<32x32xf32>
tvc.global @bv : tensor<32xf32> = dense<0.2> : tensor<32xf32>
func.func @gpt2(%x: tensor<1x?x32xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x32xf32> {
  %pt = tvc.weight @wpe : tensor<64x32xf32>
  %h = tvc.learned_positions %x, %pt, %positions : tensor<1x?x32xf32>, tensor<64x32xf32>, tensor<1x?xi64>
  %out = tvc.layer 0 (%h) : (tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  ^bb0(%in: tensor<1x?x32xf32>):
    %g = tvc.weight @g : tensor<32xf32>
    %b = tvc.weight @b : tensor<32xf32>
    %n = tvc.layer_norm %in, %g, %b epsilon 1.0e-05 : tensor<1x?x32xf32>, tensor<32xf32>, tensor<32xf32>
    %wq = tvc.weight @wq : tensor<32x32xf32>
    %wk = tvc.weight @wk : tensor<32x32xf32>
    %wv = tvc.weight @wv : tensor<32x32xf32>
    %bk = tvc.weight @bk : tensor<32xf32>
    %bv = tvc.weight @bv : tensor<32xf32>
    %q = tvc.linear %n, %wq : (tensor<1x?x32xf32>, tensor<32x32xf32>) -> tensor<1x?x32xf32>
    %k = tvc.linear %n, %wk bias %bk : (tensor<1x?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
    %v = tvc.linear %n, %wv bias %bv : (tensor<1x?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
    %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x32xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
    %wo = tvc.weight @wo : tensor<32x32xf32>
    %w = tvc.linear %a, %wo : (tensor<1x?x32xf32>, tensor<32x32xf32>) -> tensor<1x?x32xf32>
    tvc.yield %w : tensor<1x?x32xf32>
  }
  return %out : tensor<1x?x32xf32>
}

// -----

/// A sliding window of 4 in a context of 32 with one fused QKV map and a
/// split (wider than the input): the ring keeps 4 rows of hidden states.
/// Prefill concatenates the ring's rows in position order with the new
/// ones and recomputes keys and values of all of them from one clone of
/// the fused map; decode recomputes the ring's filled rows.
// REMARK: remark: tvc-recompute-kv: 1 of 1 key/value cache pairs recompute their keys and values from a cache of their input (256 bytes less held)
// CHECK-LABEL: func.func @window_prefill(
// CHECK-SAME: %[[XC:[^:]*]]: tensor<1x4x16xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.kv_input"})
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[XC]][0, %{{.*}}, 0] [1, %{{.*}}, 16] [1, 1, 1] : tensor<1x4x16xf32> to tensor<1x?x16xf32>
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[XC]][0, 0, 0] [1, %{{.*}}, 16] [1, 1, 1] : tensor<1x4x16xf32> to tensor<1x?x16xf32>
// CHECK: %[[ROWS:.*]] = tensor.concat dim(1) %[[S1]], %[[S2]], %[[X:.*]] : (tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> tensor<1x?x16xf32>
// CHECK: %[[QKV:.*]] = tvc.linear %[[ROWS]], %{{.*}} : (tensor<1x?x16xf32>, tensor<48x16xf32>) -> tensor<1x?x48xf32>
// CHECK-NEXT: %[[KV:.*]]:3 = tvc.split %[[QKV]] sizes [16, 16, 16] : tensor<1x?x48xf32>
// CHECK-NOT: tvc.linear %[[ROWS]]
// CHECK: tvc.attention %{{.*}}, %[[KV]]#1, %[[KV]]#2 heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4>) : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
// CHECK-LABEL: func.func @window_decode(
// CHECK: %[[R:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, %{{.*}}, 0] [1, 1, 16] [1, 1, 1] : tensor<1x1x16xf32> into tensor<1x4x16xf32>
// CHECK: %[[FILLED:.*]] = tensor.extract_slice %[[R]][0, 0, 0] [1, %{{.*}}, 16] [1, 1, 1] : tensor<1x4x16xf32> to tensor<1x?x16xf32>
// CHECK: tvc.attention {{.*}} mask(#tvc.full) : tensor<1x1x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
// CHECK: return %{{.*}}, %[[R]]
tvc.global @wpe : tensor<32x16xf32> = dense<0.5> : tensor<32x16xf32>
tvc.global @qkv : tensor<48x16xf32> = dense<0.1> : tensor<48x16xf32>
func.func @window(%x: tensor<1x?x16xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x16xf32> {
  %pt = tvc.weight @wpe : tensor<32x16xf32>
  %h = tvc.learned_positions %x, %pt, %positions : tensor<1x?x16xf32>, tensor<32x16xf32>, tensor<1x?xi64>
  %out = tvc.layer 0 (%h) : (tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  ^bb0(%in: tensor<1x?x16xf32>):
    %w = tvc.weight @qkv : tensor<48x16xf32>
    %all = tvc.linear %in, %w : (tensor<1x?x16xf32>, tensor<48x16xf32>) -> tensor<1x?x48xf32>
    %q, %k, %v = tvc.split %all sizes [16, 16, 16] : tensor<1x?x48xf32>
    %a = tvc.attention %q, %k, %v heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4>) : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
    tvc.yield %a : tensor<1x?x16xf32>
  }
  return %out : tensor<1x?x16xf32>
}

// -----

/// Left alone: keys rotated by position (tvc.rope), grouped-query attention
/// whose input is wider than a key and a value row, and ALISA's per-key
/// state.
// REMARK: remark: tvc-recompute-kv: 0 of 3 key/value cache pairs recompute their keys and values from a cache of their input (0 bytes less held)
// REMARK-SAME: kept past_key_values.0.key: its keys and values are not computed row by row from one input (e.g. tvc.rope reads positions)
// REMARK-SAME: kept past_key_values.1.key: its input rows (64 bytes) are not smaller than a key and a value row (32 bytes)
// REMARK-SAME: kept past_key_values.2.key: its mask keeps per-key state of the cache's rows
// CHECK-LABEL: func.func @kept_decode(
// CHECK-SAME: {tvc.kv_cache, tvc.name = "past_key_values.0.key"}
// CHECK-SAME: {tvc.kv_cache, tvc.name = "past_key_values.0.value"}
tvc.global @wpe : tensor<32x16xf32> = dense<0.5> : tensor<32x16xf32>
tvc.global @wk : tensor<16x16xf32> = dense<0.1> : tensor<16x16xf32>
tvc.global @wkv : tensor<4x16xf32> = dense<0.1> : tensor<4x16xf32>
func.func @kept(%x: tensor<1x?x16xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x16xf32> {
  %pt = tvc.weight @wpe : tensor<32x16xf32>
  %h = tvc.learned_positions %x, %pt, %positions : tensor<1x?x16xf32>, tensor<32x16xf32>, tensor<1x?xi64>
  %wk = tvc.weight @wk : tensor<16x16xf32>
  %k = tvc.linear %h, %wk : (tensor<1x?x16xf32>, tensor<16x16xf32>) -> tensor<1x?x16xf32>
  %kr = tvc.rope %k, %positions heads 2 theta 1.0e+04 : tensor<1x?x16xf32>, tensor<1x?xi64>
  %a0 = tvc.attention %h, %kr, %k heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  %wkv = tvc.weight @wkv : tensor<4x16xf32>
  %k1 = tvc.linear %a0, %wkv : (tensor<1x?x16xf32>, tensor<4x16xf32>) -> tensor<1x?x4xf32>
  %v1 = tvc.linear %a0, %wkv : (tensor<1x?x16xf32>, tensor<4x16xf32>) -> tensor<1x?x4xf32>
  %a1 = tvc.attention %a0, %k1, %v1 heads 4 kv_heads 1 mask(#tvc.causal) : tensor<1x?x16xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  %k2 = tvc.linear %a1, %wk : (tensor<1x?x16xf32>, tensor<16x16xf32>) -> tensor<1x?x16xf32>
  %v2 = tvc.linear %a1, %wk : (tensor<1x?x16xf32>, tensor<16x16xf32>) -> tensor<1x?x16xf32>
  %a2 = tvc.attention %a1, %k2, %v2 heads 2 kv_heads 2 mask(#tvc.alisa<window = 4, k = 2>) : tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
  return %a2 : tensor<1x?x16xf32>
}
