// RUN: tvc-opt %s -split-input-file -convert-tvc-to-runtime -tvc-fuse-linear-activation | FileCheck %s

/// GPT-2's MLP: the tanh GELU after the up projection goes into its flags
/// (1 bias | 24 GELU tanh = 25); the down projection keeps flags 1.
// CHECK-LABEL: func.func @gpt2_mlp
func.func @gpt2_mlp(%x: tensor<1x?x64xf32>, %w1: tensor<256x64xf32>, %b1: tensor<256xf32>, %w2: tensor<64x256xf32>, %b2: tensor<64xf32>) -> tensor<1x?x64xf32> {
  // CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
  // CHECK-DAG: %[[C25:.*]] = arith.constant 25 : i64
  // CHECK: %[[H:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[C25]] : i64, i64, i64, i64)
  // CHECK-NOT: tvc.gelu
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" ins(%[[H]], {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[C1]] : i64, i64, i64, i64)
  %h = tvc.linear %x, %w1 bias %b1 : (tensor<1x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
  %g = tvc.gelu %h approximate tanh : tensor<1x?x256xf32>
  %y = tvc.linear %g, %w2 bias %b2 : (tensor<1x?x256xf32>, tensor<64x256xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}

// -----

/// Each activation's value: exact GELU 16, SiLU 32, ReLU 8, added to the
/// layout flag of an [in, out] weight without bias (2).
// CHECK-LABEL: func.func @each_activation
func.func @each_activation(%x: tensor<4x64xf32>, %w: tensor<64x32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  // CHECK-DAG: %[[GELU:.*]] = arith.constant 18 : i64
  // CHECK-DAG: %[[SILU:.*]] = arith.constant 34 : i64
  // CHECK-DAG: %[[RELU:.*]] = arith.constant 10 : i64
  // CHECK: %[[A:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[GELU]] :
  // CHECK: %[[B:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[SILU]] :
  // CHECK: %[[C:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[RELU]] :
  // CHECK-NOT: tvc.gelu
  // CHECK-NOT: tvc.silu
  // CHECK-NOT: tvc.relu
  // CHECK: return %[[A]], %[[B]], %[[C]]
  %y0 = tvc.linear %x, %w structure(#tvc.dense<in_out>) : (tensor<4x64xf32>, tensor<64x32xf32>) -> tensor<4x32xf32>
  %a = tvc.gelu %y0 : tensor<4x32xf32>
  %y1 = tvc.linear %x, %w structure(#tvc.dense<in_out>) : (tensor<4x64xf32>, tensor<64x32xf32>) -> tensor<4x32xf32>
  %b = tvc.silu %y1 : tensor<4x32xf32>
  %y2 = tvc.linear %x, %w structure(#tvc.dense<in_out>) : (tensor<4x64xf32>, tensor<64x32xf32>) -> tensor<4x32xf32>
  %c = tvc.relu %y2 : tensor<4x32xf32>
  return %a, %b, %c : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

/// 16-bit weights: the same fields, the bf16 entry.
// CHECK-LABEL: func.func @bf16_weights
func.func @bf16_weights(%x: tensor<2x64xf32>, %w: tensor<32x64xbf16>, %b: tensor<32xf32>) -> tensor<2x32xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 33 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_bf16w_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]] :
  // CHECK-NOT: tvc.silu
  %y = tvc.linear %x, %w bias %b : (tensor<2x64xf32>, tensor<32x64xbf16>, tensor<32xf32>) -> tensor<2x32xf32>
  %s = tvc.silu %y : tensor<2x32xf32>
  return %s : tensor<2x32xf32>
}

// -----

/// negative_: the linear's result is also read elsewhere (the activation
/// must not change what the other user sees).
// CHECK-LABEL: func.func @negative_other_user
func.func @negative_other_user(%x: tensor<2x64xf32>, %w: tensor<32x64xf32>) -> (tensor<2x32xf32>, tensor<2x32xf32>) {
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: %[[Y:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]] :
  // CHECK: %[[G:.*]] = tvc.gelu %[[Y]]
  // CHECK: return %[[G]], %[[Y]]
  %y = tvc.linear %x, %w : (tensor<2x64xf32>, tensor<32x64xf32>) -> tensor<2x32xf32>
  %g = tvc.gelu %y : tensor<2x32xf32>
  return %g, %y : tensor<2x32xf32>, tensor<2x32xf32>
}

// -----

/// negative_: a structured kernel (2:4) takes no activation; of two
/// activations in a row only the first is fused.
// CHECK-LABEL: func.func @negative_structured_and_twice
func.func @negative_structured_and_twice(%x: tensor<2x64xf32>, %v: tensor<32x32xf32>, %i: tensor<32x8xi8>, %w: tensor<32x64xf32>) -> (tensor<2x32xf32>, tensor<2x32xf32>) {
  // CHECK-DAG: %[[RELU:.*]] = arith.constant 8 : i64
  // CHECK: %[[S:.*]] = tvc.kernel_call "tvc_kernel_linear_2to4_f32"
  // CHECK: tvc.relu %[[S]]
  // CHECK: %[[D:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[RELU]] :
  // CHECK-NOT: tvc.relu
  // CHECK: tvc.silu %[[D]]
  %s = tvc.linear %x, %v, %i structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<2x64xf32>, tensor<32x32xf32>, tensor<32x8xi8>) -> tensor<2x32xf32>
  %r = tvc.relu %s : tensor<2x32xf32>
  %d = tvc.linear %x, %w : (tensor<2x64xf32>, tensor<32x64xf32>) -> tensor<2x32xf32>
  %r2 = tvc.relu %d : tensor<2x32xf32>
  %s2 = tvc.silu %r2 : tensor<2x32xf32>
  return %r, %s2 : tensor<2x32xf32>, tensor<2x32xf32>
}

// -----

/// negative_: flags that are not a constant are left as they are.
// CHECK-LABEL: func.func @negative_dynamic_flags
func.func @negative_dynamic_flags(%x: tensor<2x64xf32>, %w: tensor<32x64xf32>, %init: tensor<2x32xf32>, %flags: i64) -> tensor<2x32xf32> {
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %arg3 :
  // CHECK: tvc.gelu
  %c2 = arith.constant 2 : i64
  %c32 = arith.constant 32 : i64
  %c64 = arith.constant 64 : i64
  %y = tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %w : tensor<2x64xf32>, tensor<32x64xf32>, tensor<32x64xf32>) outs(%init : tensor<2x32xf32>) scalars(%c2, %c32, %c64, %flags : i64, i64, i64, i64) -> tensor<2x32xf32>
  %g = tvc.gelu %y : tensor<2x32xf32>
  return %g : tensor<2x32xf32>
}

// -----

/// Row chunks of one linear (tvc-chunk-weights) joined by tensor.concat:
/// the activation goes into every chunk's call, so the chunked linear
/// computes what the whole one does.
// CHECK-LABEL: func.func @chunks
func.func @chunks(%x: tensor<2x64xf32>, %w0: tensor<16x64xf32>, %w1: tensor<16x64xf32>) -> tensor<2x32xf32> {
  // CHECK-DAG: %[[FLAGS:.*]] = arith.constant 24 : i64
  // CHECK: %[[A:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]] :
  // CHECK: %[[B:.*]] = tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[FLAGS]] :
  // CHECK: %[[C:.*]] = tensor.concat dim(1) %[[A]], %[[B]]
  // CHECK-NOT: tvc.gelu
  // CHECK: return %[[C]]
  %a = tvc.linear %x, %w0 : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
  %b = tvc.linear %x, %w1 : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
  %c = tensor.concat dim(1) %a, %b : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x32xf32>
  %g = tvc.gelu %c approximate tanh : tensor<2x32xf32>
  return %g : tensor<2x32xf32>
}

// -----

/// negative_: a concat with a part that is not a linear call stays as it is.
// CHECK-LABEL: func.func @negative_mixed_concat
func.func @negative_mixed_concat(%x: tensor<2x64xf32>, %w0: tensor<16x64xf32>, %other: tensor<2x16xf32>) -> tensor<2x32xf32> {
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: tvc.kernel_call "tvc_kernel_linear_f32" {{.*}} scalars(%{{.*}}, %{{.*}}, %{{.*}}, %[[ZERO]] :
  // CHECK: %[[C:.*]] = tensor.concat
  // CHECK: tvc.gelu %[[C]]
  %a = tvc.linear %x, %w0 : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
  %c = tensor.concat dim(1) %a, %other : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x32xf32>
  %g = tvc.gelu %c : tensor<2x32xf32>
  return %g : tensor<2x32xf32>
}
