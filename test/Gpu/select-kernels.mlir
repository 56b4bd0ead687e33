// RUN: tvc-opt %s -split-input-file -verify-diagnostics -tvc-gpu-select-kernels | FileCheck %s
// RUN: tvc-opt %s -split-input-file -verify-diagnostics '-tvc-gpu-select-kernels=precision=tf32' | FileCheck %s --check-prefix=TF32
// RUN: not tvc-opt %s -split-input-file '-tvc-gpu-select-kernels=precision=fp8' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: tvc-gpu-select-kernels: precision must be fp32 or tf32, got 'fp8'

/// The CPU entries with a CUDA version are renamed; operands and scalars
/// stay (the params structs are the same).
// CHECK-LABEL: func.func @linear_and_causal_attention
// CHECK: tvc.kernel_call "tvc_cuda_kernel_linear_f32" ins(%arg0, %arg1 : {{.*}}) outs(%arg2 : {{.*}}) scalars(%c1_i64, %c8_i64, %c4_i64, %c0_i64
// CHECK: tvc.kernel_call "tvc_cuda_kernel_attention_f32"
// CHECK-NOT: "tvc_kernel_
/// With precision=tf32 the linear's flags gain TVC_LINEAR_ALLOW_TF32 (4).
// TF32-LABEL: func.func @linear_and_causal_attention
// TF32: %[[ALLOW:c4_i64_[0-9]+]] = arith.constant 4 : i64
// TF32-NEXT: %[[FLAGS:.*]] = arith.ori %c0_i64, %[[ALLOW]] : i64
// TF32: tvc.kernel_call "tvc_cuda_kernel_linear_f32" {{.*}} scalars(%c1_i64, %c8_i64, %c4_i64, %[[FLAGS]] :
func.func @linear_and_causal_attention(%x: memref<1x4xf32>, %w: memref<8x4xf32>, %y: memref<1x8xf32>, %q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  %scale = arith.constant 0.5 : f64
  tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w : memref<1x4xf32>, memref<8x4xf32>) outs(%y : memref<1x8xf32>) scalars(%c1, %c8, %c4, %c0 : i64, i64, i64, i64)
  // batch, q_len, kv_len, capacity, heads, kv_heads, head_dim, mask_kind (1: causal), window, scale
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c1, %c0, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}

// -----

/// 16-bit weight linears have CUDA entries; precision=tf32 leaves their
/// flags alone (the kernels reject TVC_LINEAR_ALLOW_TF32).
// CHECK-LABEL: func.func @half_weight_linears
// CHECK: tvc.kernel_call "tvc_cuda_kernel_linear_bf16w_f32" {{.*}} scalars(%c1_i64, %c8_i64, %c4_i64, %c0_i64 :
// CHECK: tvc.kernel_call "tvc_cuda_kernel_linear_f16w_f32" {{.*}} scalars(%c1_i64, %c8_i64, %c4_i64, %c0_i64 :
// TF32-LABEL: func.func @half_weight_linears
// TF32-NOT: arith.ori
// TF32: tvc.kernel_call "tvc_cuda_kernel_linear_bf16w_f32" {{.*}} scalars(%c1_i64, %c8_i64, %c4_i64, %c0_i64 :
// TF32: tvc.kernel_call "tvc_cuda_kernel_linear_f16w_f32" {{.*}} scalars(%c1_i64, %c8_i64, %c4_i64, %c0_i64 :
func.func @half_weight_linears(%x: memref<1x4xf32>, %w: memref<8x4xbf16>, %h: memref<8x4xf16>, %y: memref<1x8xf32>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  tvc.kernel_call "tvc_kernel_linear_bf16w_f32" ins(%x, %w : memref<1x4xf32>, memref<8x4xbf16>) outs(%y : memref<1x8xf32>) scalars(%c1, %c8, %c4, %c0 : i64, i64, i64, i64)
  tvc.kernel_call "tvc_kernel_linear_f16w_f32" ins(%x, %h : memref<1x4xf32>, memref<8x4xf16>) outs(%y : memref<1x8xf32>) scalars(%c1, %c8, %c4, %c0 : i64, i64, i64, i64)
  return
}

// -----

/// Sliding window (2) and block-local (4) are the CUDA kernel's too.
// CHECK-LABEL: func.func @window_and_block_local
// CHECK-COUNT-2: "tvc_cuda_kernel_attention_f32"
func.func @window_and_block_local(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>) {
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  %scale = arith.constant 0.5 : f64
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c2, %c4, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c4, %c4, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}

// -----

/// The data-dependent kinds (5 top-k, 6 block top-k, 7 vertical-slash,
/// 8 ALISA) have CUDA kernels too; ALISA with a carried state calls the
/// CUDA state entry (its state buffer is the second destination).
// CHECK-LABEL: func.func @data_dependent_masks
// CHECK-COUNT-4: tvc.kernel_call "tvc_cuda_kernel_attention_f32"
// CHECK: tvc.kernel_call "tvc_cuda_kernel_attention_state_f32" ins(%{{.*}}, %{{.*}}, %{{.*}} : {{.*}}) outs(%{{.*}}, %{{.*}} : memref<1x1x8xf32>, memref<1x1x1xf32>) scalars(%c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c8_i64, %c8_i64, %c1_i64
// CHECK-NOT: "tvc_kernel_
func.func @data_dependent_masks(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>, %state: memref<1x1x1xf32>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c5 = arith.constant 5 : i64
  %c6 = arith.constant 6 : i64
  %c7 = arith.constant 7 : i64
  %c8 = arith.constant 8 : i64
  %scale = arith.constant 0.5 : f64
  // batch, q_len, kv_len, capacity, heads, kv_heads, head_dim, mask_kind, window, scale, global, block, top_k, vertical, slash, last_queries
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c5, %c0, %scale, %c0, %c0, %c1, %c0, %c0, %c0 : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c6, %c0, %scale, %c0, %c1, %c1, %c0, %c0, %c0 : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c7, %c0, %scale, %c0, %c0, %c0, %c1, %c1, %c1 : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c8, %c1, %scale, %c0, %c0, %c1, %c0, %c0, %c0 : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  tvc.kernel_call "tvc_kernel_attention_state_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o, %state : memref<1x1x8xf32>, memref<1x1x1xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c8, %c1, %scale, %c0, %c0, %c1, %c0, %c0, %c0 : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64)
  return
}

// -----

/// A mask kind past the last one (8) has no CUDA kernel: an error naming
/// the kinds that have one.
func.func @unknown_mask_kind(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>) {
  %c1 = arith.constant 1 : i64
  %c9 = arith.constant 9 : i64
  %c8 = arith.constant 8 : i64
  %scale = arith.constant 0.5 : f64
  // expected-error @+1 {{uses attention mask kind 9, which the CUDA attention kernel does not implement (kinds 0-8: full, causal, sliding window, window + global, block-local, top-k, block top-k, vertical-slash, ALISA)}}
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %c9, %c1, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}

// -----

/// A mask kind known only at run time cannot be checked: an error.
func.func @dynamic_mask_kind(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>, %kind: i64) {
  %c1 = arith.constant 1 : i64
  %c8 = arith.constant 8 : i64
  %scale = arith.constant 0.5 : f64
  // expected-error @+1 {{needs a constant mask kind for the CUDA attention kernel}}
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %q, %q : memref<1x1x8xf32>, memref<1x1x8xf32>, memref<1x1x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c1, %c1, %c1, %c8, %kind, %c1, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}

// -----

/// The structured linears have CUDA entries: block-diagonal (flags are
/// scalar 4) and 2:4 sparse (flags are scalar 3); precision=tf32 sets
/// TVC_LINEAR_ALLOW_TF32 in both.
// CHECK-LABEL: func.func @block_diagonal_and_sparse_linears
// CHECK: tvc.kernel_call "tvc_cuda_kernel_block_diagonal_f32" ins(%[[X:.*]], %[[BLOCKS:.*]], %[[BLOCKS]] : {{.*}}) outs(%[[H:.*]] : {{.*}}) scalars(%c1_i64, %c4_i64, %c2_i64, %c2_i64, %c0_i64 :
// CHECK: tvc.kernel_call "tvc_cuda_kernel_linear_2to4_f32" ins(%[[X]], %{{.*}}, %{{.*}}, %{{.*}} : {{.*}}) outs(%{{.*}} : {{.*}}) scalars(%c1_i64, %c4_i64, %c8_i64, %c1_i64 :
// CHECK-NOT: "tvc_kernel_
// TF32-LABEL: func.func @block_diagonal_and_sparse_linears
// TF32: %[[BD_FLAGS:.*]] = arith.ori %c0_i64, %{{.*}} : i64
// TF32: tvc.kernel_call "tvc_cuda_kernel_block_diagonal_f32" {{.*}} scalars(%c1_i64, %c4_i64, %c2_i64, %c2_i64, %[[BD_FLAGS]] :
// TF32: %[[SPARSE_FLAGS:.*]] = arith.ori %c1_i64, %{{.*}} : i64
// TF32: tvc.kernel_call "tvc_cuda_kernel_linear_2to4_f32" {{.*}} scalars(%c1_i64, %c4_i64, %c8_i64, %[[SPARSE_FLAGS]] :
func.func @block_diagonal_and_sparse_linears(%x: memref<1x8xf32>, %blocks: memref<4x2x2xf32>, %h: memref<1x8xf32>, %values: memref<4x4xf32>, %indices: memref<4x1xi8>, %bias: memref<4xf32>, %y: memref<1x4xf32>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  // m, blocks, block_n, block_k, flags
  tvc.kernel_call "tvc_kernel_block_diagonal_f32" ins(%x, %blocks, %blocks : memref<1x8xf32>, memref<4x2x2xf32>, memref<4x2x2xf32>) outs(%h : memref<1x8xf32>) scalars(%c1, %c4, %c2, %c2, %c0 : i64, i64, i64, i64, i64)
  // m, n, k, flags (1: bias)
  tvc.kernel_call "tvc_kernel_linear_2to4_f32" ins(%x, %values, %indices, %bias : memref<1x8xf32>, memref<4x4xf32>, memref<4x1xi8>, memref<4xf32>) outs(%y : memref<1x4xf32>) scalars(%c1, %c4, %c8, %c1 : i64, i64, i64, i64)
  return
}

// -----

/// A kernel without a CUDA version (the fused low-rank linear, which the
/// CUDA pipeline expands into two linears before this pass) is an error.
func.func @low_rank_linear(%x: memref<1x8xf32>, %v: memref<2x8xf32>, %u: memref<4x2xf32>, %y: memref<1x4xf32>) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c4 = arith.constant 4 : i64
  %c8 = arith.constant 8 : i64
  // expected-error @+1 {{calls 'tvc_kernel_low_rank_f32', which has no CUDA version in the tvc runtime yet (CUDA kernels: tvc_kernel_linear_f32, tvc_kernel_linear_bf16w_f32, tvc_kernel_linear_f16w_f32, tvc_kernel_attention_f32, tvc_kernel_attention_state_f32, tvc_kernel_block_diagonal_f32, tvc_kernel_linear_2to4_f32)}}
  tvc.kernel_call "tvc_kernel_low_rank_f32" ins(%x, %v, %u, %u : memref<1x8xf32>, memref<2x8xf32>, memref<4x2xf32>, memref<4x2xf32>) outs(%y : memref<1x4xf32>) scalars(%c1, %c4, %c8, %c2, %c0 : i64, i64, i64, i64, i64)
  return
}

// -----

/// Attention over KV caches an offload plan keeps where attention runs
/// (host_attention, `tvc-compile --offload-attention`): the host entry.
// CHECK-LABEL: func.func @host_attention_decode
// CHECK: tvc.kernel_call "tvc_cuda_kernel_host_attention_f32"
// TF32-LABEL: func.func @host_attention_decode
// TF32: tvc.kernel_call "tvc_cuda_kernel_host_attention_f32"
func.func @host_attention_decode(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>,
    %k: memref<1x16x8xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "host_attention"},
    %v: memref<1x16x8xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "host_attention"}) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c8 = arith.constant 8 : i64
  %c16 = arith.constant 16 : i64
  %scale = arith.constant 1.0 : f64
  %kc = memref.cast %k : memref<1x16x8xf32> to memref<1x16x8xf32>
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %kc, %v : memref<1x1x8xf32>, memref<1x16x8xf32>, memref<1x16x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c16, %c1, %c1, %c8, %c1, %c0, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}

// -----

/// One cache on the host and the other not: nothing runs that.
func.func @negative_mixed_host_attention(%q: memref<1x1x8xf32>, %o: memref<1x1x8xf32>,
    %k: memref<1x16x8xf32> {tvc.kv_cache, tvc.kv_item = 0 : i64, tvc.kv_placement = "host_attention"},
    %v: memref<1x16x8xf32> {tvc.kv_cache, tvc.kv_item = 1 : i64, tvc.kv_placement = "resident"}) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c8 = arith.constant 8 : i64
  %c16 = arith.constant 16 : i64
  %scale = arith.constant 1.0 : f64
  // expected-error @below {{reads KV caches placed host_attention, which only tvc_kernel_attention_f32 with both caches there runs on the host}}
  tvc.kernel_call "tvc_kernel_attention_f32" ins(%q, %k, %v : memref<1x1x8xf32>, memref<1x16x8xf32>, memref<1x16x8xf32>) outs(%o : memref<1x1x8xf32>) scalars(%c1, %c1, %c1, %c16, %c1, %c1, %c8, %c1, %c0, %scale : i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
  return
}
