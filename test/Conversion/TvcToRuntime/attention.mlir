// RUN: tvc-opt %s -split-input-file -convert-tvc-to-runtime | FileCheck %s

/// Causal GQA attention: scalars are batch, q_len, kv_len, kv_capacity
/// (= kv_len without a cache), heads, kv_heads, head_dim, mask kind 1,
/// window 0, the default scale 1/sqrt(16), and global, block, top_k 0.
// CHECK-LABEL: func.func @attention_causal_gqa_f32
// CHECK-SAME: (%[[Q:.*]]: tensor<1x?x64xf32>, %[[K:.*]]: tensor<1x?x32xf32>, %[[V:.*]]: tensor<1x?x32xf32>)
func.func @attention_causal_gqa_f32(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>, %v: tensor<1x?x32xf32>) -> tensor<1x?x64xf32> {
  // CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK-DAG: %[[DH:.*]] = arith.constant 16 : i64
  // CHECK-DAG: %[[KVH:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[H:.*]] = arith.constant 4 : i64
  // CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
  // CHECK: %[[TK:.*]] = tensor.dim %[[K]]
  // CHECK: %[[KVLEN:.*]] = arith.index_cast %[[TK]]
  // CHECK: %[[TQ:.*]] = tensor.dim %[[Q]]
  // CHECK: %[[QLEN:.*]] = arith.index_cast %[[TQ]]
  // CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<1x?x64xf32>
  // CHECK: %[[O:.*]] = tvc.kernel_call "tvc_kernel_attention_f32" ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[INIT]] : tensor<1x?x64xf32>)
  // CHECK-SAME: scalars(%[[ONE]], %[[QLEN]], %[[KVLEN]], %[[KVLEN]], %[[H]], %[[KVH]], %[[DH]], %[[ONE]], %[[ZERO]], %[[SCALE]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]] : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  // CHECK: return %[[O]]
  %o = tvc.attention %q, %k, %v heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

/// A sliding window keeps its width (mask kind 2) and an explicit scale wins.
// CHECK-LABEL: func.func @attention_sliding_window_scale_f32
func.func @attention_sliding_window_scale_f32(%q: tensor<2x8x32xf32>) -> tensor<2x8x32xf32> {
  // CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f64
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[WINDOW:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[WINDOW]], %[[SCALE]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.sliding_window<window = 3>) scale 0.125 : tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>
  return %o : tensor<2x8x32xf32>
}

// -----

/// Bidirectional attention is mask kind 0.
// CHECK-LABEL: func.func @attention_full_f32
func.func @attention_full_f32(%q: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[KIND]], %{{[^,]*}}, %[[KIND]], %[[KIND]], %[[KIND]], %[[KIND]], %[[KIND]], %[[KIND]] :
  %o = tvc.attention %q, %q, %q heads 1 kv_heads 1 mask(#tvc.full) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

/// Window + global tokens is mask kind 3 with window and global; block and
/// top_k are 0.
// CHECK-LABEL: func.func @attention_window_global_f32
func.func @attention_window_global_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[WINDOW:.*]] = arith.constant 6 : i64
  // CHECK-DAG: %[[GLOBAL:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[WINDOW]], %{{[^,]*}}, %[[GLOBAL]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 1 kv_heads 1 mask(#tvc.window_global<window = 6, global = 2>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// Block-local is mask kind 4: the kernel's window carries `local` (window
/// and global count blocks for this kind), then global and block; top_k 0.
// CHECK-LABEL: func.func @attention_block_local_f32
func.func @attention_block_local_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 4 : i64
  // CHECK-DAG: %[[LOCAL:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[GLOBAL:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[BLOCK:.*]] = arith.constant 6 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[LOCAL]], %{{[^,]*}}, %[[GLOBAL]], %[[BLOCK]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 1 kv_heads 1 mask(#tvc.block_local<block = 6, local = 3, global = 2>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// Top-k is mask kind 5 with top_k last; window, global and block are 0.
// CHECK-LABEL: func.func @attention_top_k_f32
func.func @attention_top_k_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 5 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 7 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[ZERO]], %{{[^,]*}}, %[[ZERO]], %[[ZERO]], %[[K]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 1 kv_heads 1 mask(#tvc.top_k<k = 7>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// Block top-k is mask kind 6 with block and top_k last; window and global
/// are 0.
// CHECK-LABEL: func.func @attention_block_top_k_f32
func.func @attention_block_top_k_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 6 : i64
  // CHECK-DAG: %[[BLOCK:.*]] = arith.constant 16 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[ZERO]], %{{[^,]*}}, %[[ZERO]], %[[BLOCK]], %[[K]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.block_top_k<block = 16, k = 3>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// Vertical-slash is mask kind 7 with vertical, slash and last queries
/// appended; window, global, block and top_k are 0.
// CHECK-LABEL: func.func @attention_vertical_slash_f32
func.func @attention_vertical_slash_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 7 : i64
  // CHECK-DAG: %[[VERTICAL:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[SLASH:.*]] = arith.constant 5 : i64
  // CHECK-DAG: %[[LAST:.*]] = arith.constant 4 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[ZERO]], %{{[^,]*}}, %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[VERTICAL]], %[[SLASH]], %[[LAST]] :
  %o = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.vertical_slash<vertical = 3, slash = 5, last = 4>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// ALISA is mask kind 8 with the window and the heavy keys in top_k.
// CHECK-LABEL: func.func @attention_alisa_f32
func.func @attention_alisa_f32(%q: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  // CHECK-DAG: %[[KIND:.*]] = arith.constant 8 : i64
  // CHECK-DAG: %[[WINDOW:.*]] = arith.constant 3 : i64
  // CHECK-DAG: %[[K:.*]] = arith.constant 2 : i64
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_attention_f32"
  // CHECK-SAME: scalars(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KIND]], %[[WINDOW]], %{{[^,]*}}, %[[ZERO]], %[[ZERO]], %[[K]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
  %o = tvc.attention %q, %q, %q heads 2 kv_heads 2 mask(#tvc.alisa<window = 3, k = 2>) : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o : tensor<1x8x32xf32>
}

// -----

/// ALISA with its carried state: the state entry point, the state as the
/// second destination (its pointer follows out in the params struct).
// CHECK-LABEL: func.func @attention_alisa_state_f32
func.func @attention_alisa_state_f32(%q: tensor<1x1x32xf32>, %kv: tensor<1x8x32xf32>, %n: index, %s: tensor<1x2x8xf32>) -> (tensor<1x1x32xf32>, tensor<1x2x8xf32>) {
  // CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x1x32xf32>
  // CHECK: %[[CALL:.*]]:2 = tvc.kernel_call "tvc_kernel_attention_state_f32" ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>) outs(%[[INIT]], %{{.*}} : tensor<1x1x32xf32>, tensor<1x2x8xf32>)
  // CHECK: return %[[CALL]]#0, %[[CALL]]#1
  %o, %ns = tvc.attention %q, %kv, %kv heads 2 kv_heads 2 mask(#tvc.alisa<window = 3, k = 2>) kv_len(%n) state(%s : tensor<1x2x8xf32>) : tensor<1x1x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
  return %o, %ns : tensor<1x1x32xf32>, tensor<1x2x8xf32>
}
