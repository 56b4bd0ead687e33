// Qwen2: LLaMA's graph plus biases on the q/k/v projections (not on o_proj
// or the MLP), rope_theta 1e6, rms_norm_eps 1e-6. Like the released Qwen2
// configs it carries "sliding_window": 32768 with "use_sliding_window":
// false, so attention stays causal. With use_sliding_window true, layers at
// or above max_window_layers use the window.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py qwen2 %t/base
// RUN: tvc-import %t/base -o %t/base.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/base.mlir -DDIR=%t/base
// RUN: grep -c "tvc.global" %t/base.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: tvc-opt %t/base.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
//
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py qwen2 %t/window --sliding-window 16 --set max_window_layers=1
// RUN: tvc-import %t/window -o %t/window.mlir --quiet
// RUN: FileCheck %s --input-file=%t/window.mlir --check-prefix=WINDOW

// SUMMARY-NOT: error
// SUMMARY: tvc-import: qwen2, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}5 rms_norm
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}4 rope
// SUMMARY-DAG: {{[ :,]}}0 unsupported

// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @model.layers.0.self_attn.q_proj.bias : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.q_proj.bias">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.k_proj.bias : tensor<32xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.k_proj.bias">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.v_proj.bias : tensor<32xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.v_proj.bias">
// CHECK-DAG: tvc.global @model.layers.1.self_attn.v_proj.bias : tensor<32xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.1.self_attn.v_proj.bias">
// CHECK-LABEL: func.func @forward(
// CHECK: tvc.layer 0 (
// CHECK-NEXT: ^bb0(%[[X0:[^:]+]]: tensor<1x?x64xf32>, %[[P0:[^:]+]]: tensor<1x?xi64>):
// CHECK-DAG: %[[N:.*]] = tvc.rms_norm %[[X0]], %{{[^ ]+}} epsilon {{1.000000e-06|9.9999999999999995E-7}} : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[Q_W:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[Q_B:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.bias : tensor<64xf32>
// CHECK-DAG: %[[QP:.*]] = tvc.linear %[[N]], %[[Q_W]] bias %[[Q_B]] : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[K_W:.*]] = tvc.weight @model.layers.0.self_attn.k_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[K_B:.*]] = tvc.weight @model.layers.0.self_attn.k_proj.bias : tensor<32xf32>
// CHECK-DAG: %[[KP:.*]] = tvc.linear %[[N]], %[[K_W]] bias %[[K_B]] : (tensor<1x?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[V_W:.*]] = tvc.weight @model.layers.0.self_attn.v_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[V_B:.*]] = tvc.weight @model.layers.0.self_attn.v_proj.bias : tensor<32xf32>
// CHECK-DAG: %[[V:.*]] = tvc.linear %[[N]], %[[V_W]] bias %[[V_B]] : (tensor<1x?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[Q:.*]] = tvc.rope %[[QP]], %[[P0]] heads 4 theta 1.000000e+06 : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK-DAG: %[[K:.*]] = tvc.rope %[[KP]], %[[P0]] heads 2 theta 1.000000e+06 : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: %[[ATTN:.*]] = tvc.attention %[[Q]], %[[K]], %[[V]] heads 4 kv_heads 2 mask(#tvc.causal)
/// o_proj and the MLP have no bias.
// CHECK-NOT: bias
// CHECK: tvc.linear %[[ATTN]], %{{[^ ]+}} : (tensor<1x?x64xf32>, tensor<64x64xf32>) -> tensor<1x?x64xf32>
// CHECK-NOT: bias
// CHECK: tvc.yield
// CHECK: tvc.layer 1 (
// CHECK-COUNT-3: tvc.linear %{{[^ ]+}}, %{{[^ ]+}} bias %{{[^ ]+}} :
// CHECK: tvc.attention {{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// CHECK-NOT: bias
// CHECK: tvc.lm_head

/// 21 LLaMA tensors plus 3 biases in each of the 2 layers.
// NGLOBALS: {{^}}27{{$}}

// OPT-LABEL: func.func @forward
// OPT: tvc.lm_head

// WINDOW: tvc.layer 0 (
// WINDOW: tvc.attention {{.*}} mask(#tvc.causal)
// WINDOW: tvc.layer 1 (
// WINDOW: tvc.attention {{.*}} mask(#tvc.sliding_window<window = 16>)
