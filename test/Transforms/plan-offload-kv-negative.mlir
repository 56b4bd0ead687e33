// RUN: tvc-opt %s -split-input-file '-tvc-plan-offload=budget=1MiB' -verify-diagnostics

/// A KV cache needs a static shape to be planned: its bytes are the budget's.
tvc.global @w : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
// expected-error @below {{KV cache argument 1 of 'negative_dynamic_decode' needs a static [batch, rows, ...] shape of whole bytes to be planned}}
func.func @negative_dynamic_decode(%x: tensor<1x1x4xf32>, %k: tensor<1x?x4xf32> {tvc.kv_cache})
    -> tensor<1x1x4xf32> {
  %w = tvc.weight @w : tensor<4x4xf32>
  %y = tvc.linear %x, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}

// -----

/// The same cache (by ordinal) must have one size in every entry point.
tvc.global @w : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
func.func @negative_prefill(%x: tensor<1x1x4xf32>, %k: tensor<1x64x4xf32> {tvc.kv_cache})
    -> tensor<1x1x4xf32> {
  %w = tvc.weight @w : tensor<4x4xf32>
  %y = tvc.linear %x, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}
// expected-error @below {{KV cache 0 of 'negative_decode' differs in size from the same cache of another entry point}}
func.func @negative_decode(%x: tensor<1x1x4xf32>, %k: tensor<1x2048x4xf32> {tvc.kv_cache})
    -> tensor<1x1x4xf32> {
  %w = tvc.weight @w : tensor<4x4xf32>
  %y = tvc.linear %x, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}
