// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=window=4' | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=layers=1-2 window=4' | FileCheck %s --check-prefix=LAYERS
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=layers=0,2 window=4' | FileCheck %s --check-prefix=LIST
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=full-layers=0 window=4' | FileCheck %s --check-prefix=MAS
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=full-layers=0 window=4 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT

/// The other kinds, each with a layer schedule: window + global tokens on
/// every layer, block-local (global defaults to one block) on a list, and
/// top-k under the MASFormer schedule.
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=window-global window=4 global=2' | FileCheck %s --check-prefix=WINDOW-GLOBAL
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=2 local=3 layers=0,2' | FileCheck %s --check-prefix=BLOCK-LOCAL
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=2 local=3 global=0' | FileCheck %s --check-prefix=BLOCK-NO-GLOBAL
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k k=3 full-layers=0' | FileCheck %s --check-prefix=TOP-K
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k k=3 full-layers=0 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=TOP-K-REPORT
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-top-k block=2 k=1 layers=2' | FileCheck %s --check-prefix=BLOCK-TOP-K
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=2 slash=3 full-layers=1' | FileCheck %s --check-prefix=VERTICAL-SLASH
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=2 slash=3 last=5 layers=1' | FileCheck %s --check-prefix=VERTICAL-SLASH-LAST
// RUN: tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=alisa window=4 k=2 full-layers=0' | FileCheck %s --check-prefix=ALISA

/// Invalid options are errors that name the option; nothing is rewritten.
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=topk window=4' 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: tvc-sparsify-attention: kind 'topk' is not supported; supported kinds: window, window-global, block-local, top-k, block-top-k, vertical-slash, alisa
// RUN: not tvc-opt %s -split-input-file -tvc-sparsify-attention 2>&1 | FileCheck %s --check-prefix=NO-WINDOW
// NO-WINDOW: error: tvc-sparsify-attention: kind=window needs 'window' (keys per query, the diagonal included, e.g. window=256)
// RUN: not tvc-opt %s -split-input-file -tvc-sparsify-attention=window=-3 2>&1 | FileCheck %s --check-prefix=NEGATIVE-WINDOW
// NEGATIVE-WINDOW: error: tvc-sparsify-attention: kind=window needs 'window' >= 1 (keys per query, the diagonal included, e.g. window=256), got -3
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=window=4 k=2' 2>&1 | FileCheck %s --check-prefix=K-WITH-WINDOW
// K-WITH-WINDOW: error: tvc-sparsify-attention: 'k' does not apply to kind=window, whose options are: window
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=4 local=2 window=8' 2>&1 | FileCheck %s --check-prefix=WINDOW-WITH-BLOCKS
// WINDOW-WITH-BLOCKS: error: tvc-sparsify-attention: 'window' does not apply to kind=block-local, whose options are: block, local, global
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k k=4 global=1' 2>&1 | FileCheck %s --check-prefix=GLOBAL-WITH-TOP-K
// GLOBAL-WITH-TOP-K: error: tvc-sparsify-attention: 'global' does not apply to kind=top-k, whose options are: k
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=window-global window=4' 2>&1 | FileCheck %s --check-prefix=NO-GLOBAL
// NO-GLOBAL: error: tvc-sparsify-attention: kind=window-global needs 'global' (leading tokens every query sees, e.g. global=4)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=window-global window=4 global=0' 2>&1 | FileCheck %s --check-prefix=ZERO-GLOBAL
// ZERO-GLOBAL: error: tvc-sparsify-attention: kind=window-global needs 'global' >= 1 (leading tokens every query sees, e.g. global=4), got 0
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=window-global global=2' 2>&1 | FileCheck %s --check-prefix=GLOBAL-NO-WINDOW
// GLOBAL-NO-WINDOW: error: tvc-sparsify-attention: kind=window-global needs 'window' (keys per query, the diagonal included, e.g. window=256)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=4' 2>&1 | FileCheck %s --check-prefix=NO-LOCAL
// NO-LOCAL: error: tvc-sparsify-attention: kind=block-local needs 'local' (blocks per query, its own included, e.g. local=4)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local local=2' 2>&1 | FileCheck %s --check-prefix=NO-BLOCK
// NO-BLOCK: error: tvc-sparsify-attention: kind=block-local needs 'block' (positions per block, e.g. block=64)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=-2 local=1' 2>&1 | FileCheck %s --check-prefix=NEGATIVE-BLOCK
// NEGATIVE-BLOCK: error: tvc-sparsify-attention: kind=block-local needs 'block' >= 1 (positions per block, e.g. block=64), got -2
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-local block=2 local=1 global=-2' 2>&1 | FileCheck %s --check-prefix=NEGATIVE-GLOBAL-BLOCKS
// NEGATIVE-GLOBAL-BLOCKS: error: tvc-sparsify-attention: kind=block-local needs 'global' >= 0 (leading blocks every query sees, default 1, e.g. global=0), got -2
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k' 2>&1 | FileCheck %s --check-prefix=NO-K
// NO-K: error: tvc-sparsify-attention: kind=top-k needs 'k' (keys with the largest scores each query keeps, e.g. k=32)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=top-k k=-1' 2>&1 | FileCheck %s --check-prefix=NEGATIVE-K
// NEGATIVE-K: error: tvc-sparsify-attention: kind=top-k needs 'k' >= 1 (keys with the largest scores each query keeps, e.g. k=32), got -1
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-top-k k=2' 2>&1 | FileCheck %s --check-prefix=BLOCK-TOP-K-NO-BLOCK
// BLOCK-TOP-K-NO-BLOCK: error: tvc-sparsify-attention: kind=block-top-k needs 'block' (positions per block, e.g. block=64)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=block-top-k block=4 local=2' 2>&1 | FileCheck %s --check-prefix=LOCAL-WITH-BLOCK-TOP-K
// LOCAL-WITH-BLOCK-TOP-K: error: tvc-sparsify-attention: 'local' does not apply to kind=block-top-k, whose options are: block, k
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=8' 2>&1 | FileCheck %s --check-prefix=VERTICAL-SLASH-NO-SLASH
// VERTICAL-SLASH-NO-SLASH: error: tvc-sparsify-attention: kind=vertical-slash needs 'slash' (diagonal offsets each head keeps, e.g. slash=256)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=8 slash=8 window=4' 2>&1 | FileCheck %s --check-prefix=WINDOW-WITH-VERTICAL-SLASH
// WINDOW-WITH-VERTICAL-SLASH: error: tvc-sparsify-attention: 'window' does not apply to kind=vertical-slash, whose options are: vertical, slash, last
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=8 slash=8 last=-1' 2>&1 | FileCheck %s --check-prefix=NEGATIVE-LAST
// NEGATIVE-LAST: error: tvc-sparsify-attention: kind=vertical-slash needs 'last' >= 1 (last queries the pattern is estimated from, default 64, e.g. last=128), got -1
/// Values each option accepts but the mask's verifier does not: its message.
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=vertical-slash vertical=2147483647 slash=8' 2>&1 | FileCheck %s --check-prefix=HUGE-VERTICAL
// HUGE-VERTICAL: error: tvc-sparsify-attention: kind=vertical-slash: expects 'vertical' + 'slash' to fit in 32 bits
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=alisa window=8' 2>&1 | FileCheck %s --check-prefix=ALISA-NO-K
// ALISA-NO-K: error: tvc-sparsify-attention: kind=alisa needs 'k' (older keys kept by accumulated attention weight, e.g. k=64)
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=kind=alisa window=8 k=2 global=1' 2>&1 | FileCheck %s --check-prefix=GLOBAL-WITH-ALISA
// GLOBAL-WITH-ALISA: error: tvc-sparsify-attention: 'global' does not apply to kind=alisa, whose options are: window, k
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=layers=1 full-layers=0 window=4' 2>&1 | FileCheck %s --check-prefix=EXCLUSIVE
// EXCLUSIVE: error: tvc-sparsify-attention: 'layers' and 'full-layers' are mutually exclusive: give the layers to sparsify, or the ones that keep full attention
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=layers=1,7 window=4' 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: tvc-sparsify-attention: there is no tvc.layer 7 (named in 'layers')
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=full-layers=0-3 window=4' 2>&1 | FileCheck %s --check-prefix=MISSING-FULL
// MISSING-FULL: error: tvc-sparsify-attention: there is no tvc.layer 3 (named in 'full-layers')
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=layers=2-1 window=4' 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: error: tvc-sparsify-attention: expects 'layers' as layer indices or ranges (e.g. 0,2-5), got '2-1'
// RUN: not tvc-opt %s -split-input-file '-tvc-sparsify-attention=full-layers=first window=4' 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: error: tvc-sparsify-attention: expects 'full-layers' as layer indices or ranges (e.g. 0,2-5), got 'first'

/// Every layer by default; a layer list (indices or ranges) sparsifies only
/// those layers; the MASFormer schedule keeps full attention in layer 0 and
/// makes all the others sparse. Only the mask changes.
// CHECK-LABEL: func.func @sparsify_window_layers
// LAYERS-LABEL: func.func @sparsify_window_layers
// LIST-LABEL: func.func @sparsify_window_layers
// MAS-LABEL: func.func @sparsify_window_layers
// WINDOW-GLOBAL-LABEL: func.func @sparsify_window_layers
// BLOCK-LOCAL-LABEL: func.func @sparsify_window_layers
// BLOCK-NO-GLOBAL-LABEL: func.func @sparsify_window_layers
// TOP-K-LABEL: func.func @sparsify_window_layers
func.func @sparsify_window_layers(%h0: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  // CHECK: tvc.layer 0
  // CHECK: tvc.attention %{{.*}} heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 4>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  // CHECK: tvc.layer 1
  // CHECK: mask(#tvc.sliding_window<window = 4>)
  // CHECK: tvc.layer 2
  // CHECK: mask(#tvc.sliding_window<window = 4>)
  // LAYERS: tvc.layer 0
  // LAYERS: mask(#tvc.causal)
  // LAYERS: tvc.layer 1
  // LAYERS: mask(#tvc.sliding_window<window = 4>)
  // LAYERS: tvc.layer 2
  // LAYERS: mask(#tvc.sliding_window<window = 4>)
  // LIST: tvc.layer 0
  // LIST: mask(#tvc.sliding_window<window = 4>)
  // LIST: tvc.layer 1
  // LIST: mask(#tvc.causal)
  // LIST: tvc.layer 2
  // LIST: mask(#tvc.sliding_window<window = 4>)
  // MAS: tvc.layer 0
  // MAS: mask(#tvc.causal)
  // MAS: tvc.layer 1
  // MAS: mask(#tvc.sliding_window<window = 4>)
  // MAS: tvc.layer 2
  // MAS: mask(#tvc.sliding_window<window = 4>)
  // WINDOW-GLOBAL: tvc.layer 0
  // WINDOW-GLOBAL: tvc.attention %{{.*}} heads 2 kv_heads 2 mask(#tvc.window_global<window = 4, global = 2>) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  // WINDOW-GLOBAL: tvc.layer 1
  // WINDOW-GLOBAL: mask(#tvc.window_global<window = 4, global = 2>)
  // WINDOW-GLOBAL: tvc.layer 2
  // WINDOW-GLOBAL: mask(#tvc.window_global<window = 4, global = 2>)
  // BLOCK-LOCAL: tvc.layer 0
  // BLOCK-LOCAL: mask(#tvc.block_local<block = 2, local = 3, global = 1>)
  // BLOCK-LOCAL: tvc.layer 1
  // BLOCK-LOCAL: mask(#tvc.causal)
  // BLOCK-LOCAL: tvc.layer 2
  // BLOCK-LOCAL: mask(#tvc.block_local<block = 2, local = 3, global = 1>)
  // BLOCK-NO-GLOBAL: tvc.layer 0
  // BLOCK-NO-GLOBAL: mask(#tvc.block_local<block = 2, local = 3, global = 0>)
  // TOP-K: tvc.layer 0
  // TOP-K: mask(#tvc.causal)
  // TOP-K: tvc.layer 1
  // TOP-K: mask(#tvc.top_k<k = 3>)
  // TOP-K: tvc.layer 2
  // TOP-K: mask(#tvc.top_k<k = 3>)
  // BLOCK-TOP-K: tvc.layer 1
  // BLOCK-TOP-K: mask(#tvc.causal)
  // BLOCK-TOP-K: tvc.layer 2
  // BLOCK-TOP-K: mask(#tvc.block_top_k<block = 2, k = 1>)
  // VERTICAL-SLASH: tvc.layer 0
  // VERTICAL-SLASH: mask(#tvc.vertical_slash<vertical = 2, slash = 3, last = 64>)
  // VERTICAL-SLASH: tvc.layer 1
  // VERTICAL-SLASH: mask(#tvc.causal)
  // VERTICAL-SLASH: tvc.layer 2
  // VERTICAL-SLASH: mask(#tvc.vertical_slash<vertical = 2, slash = 3, last = 64>)
  // VERTICAL-SLASH-LAST: tvc.layer 0
  // VERTICAL-SLASH-LAST: mask(#tvc.causal)
  // VERTICAL-SLASH-LAST: tvc.layer 1
  // VERTICAL-SLASH-LAST: mask(#tvc.vertical_slash<vertical = 2, slash = 3, last = 5>)
  // VERTICAL-SLASH-LAST: tvc.layer 2
  // VERTICAL-SLASH-LAST: mask(#tvc.causal)
  // ALISA: tvc.layer 0
  // ALISA: mask(#tvc.causal)
  // ALISA: tvc.layer 1
  // ALISA: mask(#tvc.alisa<window = 4, k = 2>)
  // ALISA: tvc.layer 2
  // ALISA: mask(#tvc.alisa<window = 4, k = 2>)
  %h1 = tvc.layer 0 (%h0) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  %h3 = tvc.layer 2 (%h2) : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  ^bb0(%x: tensor<1x8x16xf32>):
    %attn = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
    tvc.yield %attn : tensor<1x8x16xf32>
  }
  return %h3 : tensor<1x8x16xf32>
}
// REPORT: remark: layer 0: keeps full attention (full-layers)
// REPORT: remark: layer 1: causal -> #tvc.sliding_window<window = 4>
// REPORT: remark: layer 2: causal -> #tvc.sliding_window<window = 4>
// REPORT: remark: tvc-sparsify-attention: 2 of 3 attention ops now #tvc.sliding_window<window = 4> (layers 1, 2); full attention kept in layers 0
// TOP-K-REPORT: remark: layer 0: keeps full attention (full-layers)
// TOP-K-REPORT: remark: layer 1: causal -> #tvc.top_k<k = 3>
// TOP-K-REPORT: remark: layer 2: causal -> #tvc.top_k<k = 3>
// TOP-K-REPORT: remark: tvc-sparsify-attention: 2 of 3 attention ops now #tvc.top_k<k = 3> (layers 1, 2); full attention kept in layers 0

// -----

/// Without a layer list, attention outside any tvc.layer (a flat model) is
/// sparsified too, with grouped KV heads, an explicit scale and a KV cache
/// operand kept as they are; with a list, only attention inside the listed
/// layers is considered (layers without attention are fine).
// CHECK-LABEL: func.func @sparsify_window_flat_cached
// LAYERS-LABEL: func.func @sparsify_window_flat_cached
// LIST-LABEL: func.func @sparsify_window_flat_cached
// MAS-LABEL: func.func @sparsify_window_flat_cached
// WINDOW-GLOBAL-LABEL: func.func @sparsify_window_flat_cached
// BLOCK-NO-GLOBAL-LABEL: func.func @sparsify_window_flat_cached
func.func @sparsify_window_flat_cached(%query: tensor<1x1x32xf32>, %key_cache: tensor<1x64x16xf32>, %value_cache: tensor<1x64x16xf32>, %kv_len: index) -> tensor<1x1x32xf32> {
  // CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 2 mask(#tvc.sliding_window<window = 4>) scale 1.250000e-01 kv_len(%{{.*}}) : tensor<1x1x32xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
  // LAYERS: mask(#tvc.causal)
  // LIST: mask(#tvc.causal)
  // MAS: mask(#tvc.causal)
  // WINDOW-GLOBAL: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 2 mask(#tvc.window_global<window = 4, global = 2>) scale 1.250000e-01 kv_len(%{{.*}}) : tensor<1x1x32xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
  // BLOCK-NO-GLOBAL: mask(#tvc.block_local<block = 2, local = 3, global = 0>) scale 1.250000e-01 kv_len(%{{.*}})
  %o = tvc.attention %query, %key_cache, %value_cache heads 4 kv_heads 2 mask(#tvc.causal) scale 0.125 kv_len(%kv_len) : tensor<1x1x32xf32>, tensor<1x64x16xf32>, tensor<1x64x16xf32>
  %h1 = tvc.layer 0 (%o) : (tensor<1x1x32xf32>) -> tensor<1x1x32xf32> {
  ^bb0(%x: tensor<1x1x32xf32>):
    %y = tvc.gelu %x : tensor<1x1x32xf32>
    tvc.yield %y : tensor<1x1x32xf32>
  }
  %h2 = tvc.layer 1 (%h1) : (tensor<1x1x32xf32>) -> tensor<1x1x32xf32> {
  ^bb0(%x: tensor<1x1x32xf32>):
    %y = tvc.gelu %x : tensor<1x1x32xf32>
    tvc.yield %y : tensor<1x1x32xf32>
  }
  %h3 = tvc.layer 2 (%h2) : (tensor<1x1x32xf32>) -> tensor<1x1x32xf32> {
  ^bb0(%x: tensor<1x1x32xf32>):
    %y = tvc.gelu %x : tensor<1x1x32xf32>
    tvc.yield %y : tensor<1x1x32xf32>
  }
  return %h3 : tensor<1x1x32xf32>
}
// REPORT: remark: attention outside a tvc.layer: not selected, left as it is
// REPORT: remark: tvc-sparsify-attention: 0 of 1 attention ops now #tvc.sliding_window<window = 4>
