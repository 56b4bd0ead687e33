// RUN: tvc-opt %s -split-input-file -tvc-derive-decode="max-prefill-tokens=4" | FileCheck %s
// RUN: tvc-opt %s -split-input-file -tvc-derive-decode="max-prefill-tokens=32" | FileCheck %s --check-prefix=WHOLE
// RUN: tvc-opt %s -split-input-file -tvc-derive-decode="max-prefill-tokens=-1" -verify-diagnostics
// RUN: tvc-opt %s -split-input-file -tvc-derive-decode="max-prefill-tokens=33" -verify-diagnostics
// RUN: not tvc-opt %s -tvc-derive-decode="max-prefill-tokens=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not tvc-opt %s -tvc-derive-decode="max-prefill-tokens=33" 2>&1 | FileCheck %s --check-prefix=ABOVE

/// A prefill bounded to 4 new tokens per call: its sequence inputs get
/// max_shape [1, 4], while the caches keep the 32 rows of the positions
/// table and both entry points keep the capacity 32. With K = 32 (the
/// capacity) the bound is the capacity, as without the option. Outside
/// [1, 32] the option is rejected.
tvc.global @table : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>

// CHECK-LABEL: func.func @forward_prefill(
// CHECK-SAME: %{{.*}}: tensor<1x?x8xf32> {tvc.max_shape = array<i64: 1, 4, 8>}, %{{.*}}: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 4>}, %{{.*}}: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: %{{.*}}: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.key"},
// CHECK-SAME: %{{.*}}: tensor<1x32x4xf32> {tvc.kv_cache, tvc.name = "past_key_values.0.value"})
// CHECK-SAME: attributes {tvc.kv_cache_capacity = 32 : i64}
// CHECK-LABEL: func.func @forward_decode(
// CHECK-SAME: %{{.*}}: tensor<1x1x8xf32>, %{{.*}}: tensor<1x1xi64>, %{{.*}}: tensor<i64> {tvc.name = "past_len"},
// CHECK-SAME: attributes {tvc.kv_cache_capacity = 32 : i64}

// WHOLE-LABEL: func.func @forward_prefill(
// WHOLE-SAME: %{{.*}}: tensor<1x?x8xf32> {tvc.max_shape = array<i64: 1, 32, 8>}, %{{.*}}: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 32>},
// NEGATIVE: error: max-prefill-tokens must be in [1, 32] (the KV cache capacity; 0: all of it), got -1{{$}}
// ABOVE: error: max-prefill-tokens must be in [1, 32] (the KV cache capacity; 0: all of it), got 33{{$}}
// expected-error @+1 {{max-prefill-tokens must be in [1, 32] (the KV cache capacity; 0: all of it), got}}
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
