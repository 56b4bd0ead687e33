// Mistral with "sliding_window": 32 attends through
// mask(#tvc.sliding_window<window = 32>) in every layer; with
// "sliding_window": null (Mistral v0.2 and later) the mask is causal.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py mistral %t/window --sliding-window 32
// RUN: tvc-import %t/window -o %t/window.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/window.mlir
// RUN: tvc-opt %t/window.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
//
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py mistral %t/null
// RUN: tvc-import %t/null -o %t/null.mlir --quiet
// RUN: FileCheck %s --input-file=%t/null.mlir --check-prefix=NULL

// SUMMARY-NOT: error
// SUMMARY: tvc-import: mistral, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}4 rope
// SUMMARY-DAG: {{[ :,]}}0 unsupported

/// Same graph as LLaMA (GQA 4/2, RoPE, SwiGLU); only the mask differs.
// CHECK-LABEL: func.func @forward(
// CHECK-NOT: #tvc.causal
// CHECK: tvc.layer 0 (
// CHECK: tvc.rope %{{.*}} heads 4 theta 1.000000e+04 :
// CHECK: tvc.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} heads 4 kv_heads 2 mask(#tvc.sliding_window<window = 32>) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK: tvc.glu %{{.*}} activation silu
// CHECK: tvc.layer 1 (
// CHECK: tvc.attention %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} heads 4 kv_heads 2 mask(#tvc.sliding_window<window = 32>) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK-NOT: #tvc.causal
// CHECK: tvc.lm_head

// NULL-LABEL: func.func @forward(
// NULL-NOT: sliding_window
// NULL: tvc.layer 0 (
// NULL: tvc.attention {{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// NULL: tvc.layer 1 (
// NULL: tvc.attention {{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// NULL-NOT: sliding_window

/// The mask survives canonicalization.
// OPT-LABEL: func.func @forward
// OPT-COUNT-2: mask(#tvc.sliding_window<window = 32>)
