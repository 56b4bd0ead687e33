// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=window=4 report' -verify-diagnostics | FileCheck %s

/// The same cases asked for another kind (top-k) show the rules are the
/// kind's, not the window's: the diagnostics are checked by FileCheck here
/// (the expected-* annotations belong to the run above).
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k k=8 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=TOP-K

// Attention a sparse kind does not apply to, or that is sparse already,
// is left as it is, with a warning where the request cannot be honoured and
// a remark (under `report`) where it already is.

/// A layer that already has the requested window: unchanged, a remark.
// CHECK-LABEL: func.func @negative_already_same_window
// CHECK: mask(#tvc.sliding_window<window = 4>)
// expected-remark @below {{tvc-sparsify-attention: 0 of 1 attention ops now #tvc.sliding_window<window = 4>}}
module {
func.func @negative_already_same_window(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 0 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-remark @below {{layer 0: already #tvc.sliding_window<window = 4>}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h1 : tensor<1x8x16xf32>
}
}
// TOP-K: warning: layer 0: already sparse (#tvc.sliding_window<window = 4>), not #tvc.top_k<k = 8> as requested; left as it is
// TOP-K: remark: tvc-sparsify-attention: 0 of 1 attention ops now #tvc.top_k<k = 8>

// -----

/// A layer with another window (e.g. a Mistral checkpoint's own) keeps it:
/// the pass never widens or narrows a window the model was built with, and
/// warns that the request was not applied.
// CHECK-LABEL: func.func @negative_already_other_window
// CHECK: mask(#tvc.sliding_window<window = 4096>)
// expected-remark @below {{tvc-sparsify-attention: 0 of 1 attention ops now #tvc.sliding_window<window = 4>}}
module {
func.func @negative_already_other_window(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 3 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 3: already sparse (#tvc.sliding_window<window = 4096>), not #tvc.sliding_window<window = 4> as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4096>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h1 : tensor<1x8x16xf32>
}
}
// TOP-K: warning: layer 3: already sparse (#tvc.sliding_window<window = 4096>), not #tvc.top_k<k = 8> as requested; left as it is
// TOP-K: remark: tvc-sparsify-attention: 0 of 1 attention ops now #tvc.top_k<k = 8>

// -----

/// Bidirectional attention (an encoder's #tvc.full): the window is a causal
/// kind, so it does not apply; a warning, and the causal layer next to it is
/// still rewritten.
// CHECK-LABEL: func.func @negative_bidirectional_full
// CHECK: tvc.layer 0 role encoder
// CHECK: mask(#tvc.full)
// CHECK: tvc.layer 1
// CHECK: mask(#tvc.sliding_window<window = 4>)
// expected-remark @below {{tvc-sparsify-attention: 1 of 2 attention ops now #tvc.sliding_window<window = 4> (layers 1)}}
module {
func.func @negative_bidirectional_full(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 0 role encoder (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 0: bidirectional attention (#tvc.full); kind=window applies to causal attention only, left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.full) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-remark @below {{layer 1: causal -> #tvc.sliding_window<window = 4>}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h2 : tensor<1x8x16xf32>
}
}
// TOP-K: warning: layer 0: bidirectional attention (#tvc.full); kind=top-k applies to causal attention only, left as it is
// TOP-K: remark: layer 1: causal -> #tvc.top_k<k = 8>
// TOP-K: remark: tvc-sparsify-attention: 1 of 2 attention ops now #tvc.top_k<k = 8> (layers 1)

// -----

/// Causal sparse masks of every kind are the model's own: never rewritten,
/// whichever kind is asked for. A warning names both masks when they differ
/// (another kind, or the same kind with another k); the requested mask
/// itself gets a remark (the top-k run).
// CHECK-LABEL: func.func @negative_already_sparse_other_kinds
// CHECK: mask(#tvc.top_k<k = 8>)
// CHECK: mask(#tvc.top_k<k = 2>)
// CHECK: mask(#tvc.block_local<block = 4, local = 2, global = 1>)
// CHECK: mask(#tvc.window_global<window = 4, global = 1>)
// expected-remark @below {{tvc-sparsify-attention: 0 of 4 attention ops now #tvc.sliding_window<window = 4>}}
module {
func.func @negative_already_sparse_other_kinds(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %h1 = tvc.layer 0 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 0: already sparse (#tvc.top_k<k = 8>), not #tvc.sliding_window<window = 4> as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.top_k<k = 8>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 1: already sparse (#tvc.top_k<k = 2>), not #tvc.sliding_window<window = 4> as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.top_k<k = 2>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h3 = tvc.layer 2 (%h2) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 2: already sparse (#tvc.block_local<block = 4, local = 2, global = 1>), not #tvc.sliding_window<window = 4> as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.block_local<block = 4, local = 2, global = 1>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h4 = tvc.layer 3 (%h3) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    // expected-warning @below {{layer 3: already sparse (#tvc.window_global<window = 4, global = 1>), not #tvc.sliding_window<window = 4> as requested; left as it is}}
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.window_global<window = 4, global = 1>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h4 : tensor<1x8x16xf32>
}
}
// TOP-K: remark: layer 0: already #tvc.top_k<k = 8>
// TOP-K: warning: layer 1: already sparse (#tvc.top_k<k = 2>), not #tvc.top_k<k = 8> as requested; left as it is
// TOP-K: warning: layer 2: already sparse (#tvc.block_local<block = 4, local = 2, global = 1>), not #tvc.top_k<k = 8> as requested; left as it is
// TOP-K: warning: layer 3: already sparse (#tvc.window_global<window = 4, global = 1>), not #tvc.top_k<k = 8> as requested; left as it is
// TOP-K: remark: tvc-sparsify-attention: 0 of 4 attention ops now #tvc.top_k<k = 8>

// -----

/// A module without attention: nothing to do, not an error.
// CHECK-LABEL: func.func @negative_no_attention
// expected-remark @below {{tvc-sparsify-attention: 0 of 0 attention ops now #tvc.sliding_window<window = 4>}}
module {
func.func @negative_no_attention(%x: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %y = tvc.gelu %x : tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}
}
// TOP-K: remark: tvc-sparsify-attention: 0 of 0 attention ops now #tvc.top_k<k = 8>
