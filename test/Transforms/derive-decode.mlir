// RUN: tvc-opt %s -split-input-file -tvc-derive-decode -verify-diagnostics | FileCheck %s

/// A one-layer model: prefill gets past_len and a key/value cache per
/// attention, writes the step's keys and values at row past_len, and attends
/// over past_len + T rows; decode is the same for one token, with static
/// types. The model itself stays.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %{{.*}}: tensor<1x?x8xf32>, %{{.*}}: tensor<1x?xi64>) -> tensor<1x?x8xf32>
// CHECK: tvc.attention {{.*}} mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: %[[X:.*]]: tensor<1x?x8xf32> {tvc.max_shape = array<i64: 1, 32, 8>}, %[[POS:.*]]: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 32>}, %[[PAST:.*]]: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: %[[KC:.*]]: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"},
// CHECK-SAME: %[[VC:.*]]: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.value"})
// CHECK-SAME: -> (tensor<1x?x8xf32>, tensor<1x32x4xf32> {tvc.updates_arg = 3 : i64}, tensor<1x32x4xf32> {tvc.updates_arg = 4 : i64})
// CHECK-SAME: attributes {tvc.kv_cache_capacity = 32 : i64}
// CHECK: %[[P:.*]] = tensor.extract %[[PAST]][] : tensor<i64>
// CHECK: %[[PI:.*]] = arith.index_cast %[[P]] : i64 to index
// CHECK-NOT: tvc.layer
// CHECK: %[[T:.*]] = tensor.dim %[[K:.*]], %{{.*}} : tensor<1x?x4xf32>
// CHECK: %[[KC2:.*]] = tensor.insert_slice %[[K]] into %[[KC]][0, %[[PI]], 0] [1, %[[T]], 4] [1, 1, 1] : tensor<1x?x4xf32> into tensor<1x32x4xf32>
// CHECK: %[[VC2:.*]] = tensor.insert_slice %{{.*}} into %[[VC]][0, %[[PI]], 0]
// CHECK: %[[N:.*]] = arith.addi %[[PI]], %{{.*}} : index
// CHECK: %[[O:.*]] = tvc.attention %{{.*}}, %[[KC2]], %[[VC2]] heads 2 kv_heads 1 mask(#tvc.causal) kv_len(%[[N]]) : tensor<1x?x8xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>
// CHECK: return %{{.*}}, %[[KC2]], %[[VC2]]

// CHECK-LABEL: func.func @forward_decode(
// CHECK-SAME: %{{.*}}: tensor<1x1x8xf32>, %{{.*}}: tensor<1x1xi64>, %{{.*}}: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: -> (tensor<1x1x8xf32>, tensor<1x32x4xf32> {tvc.updates_arg = 3 : i64}, tensor<1x32x4xf32> {tvc.updates_arg = 4 : i64})
// CHECK: tvc.learned_positions {{.*}} : tensor<1x1x8xf32>, tensor<32x8xf32>, tensor<1x1xi64>
// CHECK: tvc.attention {{.*}} kv_len(%{{.*}}) : tensor<1x1x8xf32>, tensor<1x32x4xf32>, tensor<1x32x4xf32>
// CHECK: tvc.gelu %{{.*}} : tensor<1x1x8xf32>
func.func @forward(%x: tensor<1x?x8xf32>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @table : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %table, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %out = tvc.layer 0 (%h) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%in: tensor<1x?x8xf32>):
    %k, %v = tvc.split %in sizes [4, 4] : tensor<1x?x8xf32>
    %a = tvc.attention %in, %k, %v heads 2 kv_heads 1 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
    %g = tvc.gelu %a : tensor<1x?x8xf32>
    tvc.yield %g : tensor<1x?x8xf32>
  }
  return %out : tensor<1x?x8xf32>
}

// -----

/// Without learned positions the cache size must be given.
// expected-error @+1 {{has no learned positions table to size the KV cache; set tvc-derive-decode{max-seq-len=N}}}
func.func @negative_no_capacity(%q: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %a = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
  return %a : tensor<1x?x8xf32>
}

// -----

/// A model without attention has nothing to cache.
tvc.global @t : tensor<16x8xf32> = dense<0.5> : tensor<16x8xf32>
// expected-error @+1 {{has no tvc.attention to cache}}
func.func @negative_no_attention(%x: tensor<1x?x8xf32>, %p: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @t : tensor<16x8xf32>
  %h = tvc.learned_positions %x, %table, %p : tensor<1x?x8xf32>, tensor<16x8xf32>, tensor<1x?xi64>
  return %h : tensor<1x?x8xf32>
}

// -----

/// ALISA carries each query head's accumulated attention weights between
/// calls: a third cache argument per attention, [batch, heads, capacity],
/// passed as the attention's state and returned updated.
// CHECK-LABEL: func.func @alisa_prefill(
// CHECK-SAME: %[[STATE:[^:]*]]: tensor<1x2x16xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.attention_state"})
// CHECK-SAME: tensor<1x2x16xf32> {tvc.updates_arg = 5 : i64})
// CHECK: %[[O:.*]], %[[NEW:.*]] = tvc.attention {{.*}} mask(#tvc.alisa<window = 4, k = 2>) kv_len(%{{.*}}) state(%[[STATE]] : tensor<1x2x16xf32>) : tensor<1x?x8xf32>, tensor<1x16x8xf32>, tensor<1x16x8xf32>
// CHECK: return %[[O]], %{{.*}}, %{{.*}}, %[[NEW]]
// CHECK-LABEL: func.func @alisa_decode(
// CHECK: tvc.attention {{.*}} mask(#tvc.alisa<window = 4, k = 2>) kv_len(%{{.*}}) state(%{{.*}} : tensor<1x2x16xf32>) : tensor<1x1x8xf32>
tvc.global @alisa_table : tensor<16x8xf32> = dense<0.5> : tensor<16x8xf32>
func.func @alisa(%x: tensor<1x?x8xf32>, %p: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %table = tvc.weight @alisa_table : tensor<16x8xf32>
  %q = tvc.learned_positions %x, %table, %p : tensor<1x?x8xf32>, tensor<16x8xf32>, tensor<1x?xi64>
  %a = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.alisa<window = 4, k = 2>) : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
  return %a : tensor<1x?x8xf32>
}

// -----

/// A 16-bit table widened after the gather (tvc-convert-precision's form):
/// the decode step's cast takes the one-token shape and keeps f32.
tvc.global @wte : tensor<16x8xbf16> = dense<1.0> : tensor<16x8xbf16>
tvc.global @wpe : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>
// CHECK-LABEL: func.func @widened_decode(
// CHECK-LABEL: func.func @widened_decode_decode(
// CHECK: %[[ROWS:.*]] = tvc.embedding %{{.*}}, %{{.*}} : tensor<16x8xbf16>, tensor<1x1xi64>
// CHECK: arith.extf %[[ROWS]] : tensor<1x1x8xbf16> to tensor<1x1x8xf32>
func.func @widened_decode(%ids: tensor<1x?xi64>, %positions: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %t = tvc.weight @wte : tensor<16x8xbf16>
  %rows = tvc.embedding %t, %ids : tensor<16x8xbf16>, tensor<1x?xi64>
  %x = arith.extf %rows : tensor<1x?x8xbf16> to tensor<1x?x8xf32>
  %p = tvc.weight @wpe : tensor<32x8xf32>
  %h = tvc.learned_positions %x, %p, %positions : tensor<1x?x8xf32>, tensor<32x8xf32>, tensor<1x?xi64>
  %k, %v = tvc.split %h sizes [4, 4] : tensor<1x?x8xf32>
  %o = tvc.attention %h, %k, %v heads 2 kv_heads 1 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
  return %o : tensor<1x?x8xf32>
}
