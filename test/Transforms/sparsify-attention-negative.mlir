// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=window=4 report' -verify-diagnostics | FileCheck %s

// Attention the window kind does not apply to, or that is sparse already,
// is left as it is, with a warning where the request cannot be honoured and
// a remark (under `report`) where it already is.

/// A layer that already has the requested window: unchanged, a remark.
// CHECK-LABEL: func.func @negative_already_same_window
// CHECK: mask(#tvc.sliding_window<window = 4>)
// expected-remark @below {{tvc-sparsify-attention: 0 of 1 attention ops now a sliding window of 4 keys}}
module {
func.func @negative_already_same_window(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 0 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-remark @below {{layer 0: already a sliding window of 4 keys}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h1 : tensor<1x8x16xf32>
}
}

// -----

/// A layer with another window (e.g. a Mistral checkpoint's own) keeps it:
/// the pass never widens or narrows a window the model was built with, and
/// warns that the request was not applied.
// CHECK-LABEL: func.func @negative_already_other_window
// CHECK: mask(#tvc.sliding_window<window = 4096>)
// expected-remark @below {{tvc-sparsify-attention: 0 of 1 attention ops now a sliding window of 4 keys}}
module {
func.func @negative_already_other_window(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 3 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 3: already a sliding window of 4096 keys, not 4 as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4096>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h1 : tensor<1x8x16xf32>
}
}

// -----

/// Bidirectional attention (an encoder's #tvc.full): the window is a causal
/// kind, so it does not apply; a warning, and the causal layer next to it is
/// still rewritten.
// CHECK-LABEL: func.func @negative_bidirectional_full
// CHECK: tvc.layer 0 role encoder
// CHECK: mask(#tvc.full)
// CHECK: tvc.layer 1
// CHECK: mask(#tvc.sliding_window<window = 4>)
// expected-remark @below {{tvc-sparsify-attention: 1 of 2 attention ops now a sliding window of 4 keys (layers 1)}}
module {
func.func @negative_bidirectional_full(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 0 role encoder (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 0: bidirectional attention (#tvc.full); the window kind applies to causal attention only, left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.full) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-remark @below {{layer 1: causal -> sliding window of 4 keys}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h2 : tensor<1x8x16xf32>
}
}

// -----

/// A module without attention: nothing to do, not an error.
// CHECK-LABEL: func.func @negative_no_attention
// expected-remark @below {{tvc-sparsify-attention: 0 of 0 attention ops now a sliding window of 4 keys}}
module {
func.func @negative_no_attention(%x: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %y = tvc.gelu %x : tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}
}
