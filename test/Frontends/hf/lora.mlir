// tvc-import --lora: a PEFT LoRA adapter (Inputs/make_lora_adapter.py: r 4,
// lora_alpha 8, use_rslora, targets q/v/o_proj and up/down_proj,
// rank_pattern {"mlp.down_proj": 16}, alpha_pattern
// {"layers.1.self_attn.v_proj": 3}) read onto the LLaMA checkpoint of
// Inputs/make_hf_checkpoint.py. Each targeted linear becomes a #tvc.lora
// linear whose A [r, in] and B [out, r] are globals referencing the adapter
// file in place; alpha is PEFT's scaling times r (rsLoRA: lora_alpha /
// sqrt(r), so 8 / 2 = 4 -> alpha 16; down_proj 8 / 4 = 2 -> alpha 32;
// layer 1's v_proj 3 / 2 = 1.5 -> alpha 6). k_proj and gate_proj stay dense.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/adapter
// RUN: tvc-import %t/base --lora %t/adapter -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DADIR=%t/adapter
// RUN: grep -c "tvc.global" %t/model.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: tvc-opt %t/model.mlir --tvc-check-weights -o /dev/null

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-SAME: 14 linear (10 lora)
// SUMMARY-SAME: ; LoRA adapter on 10 linears

/// The adapter's tensors keep PEFT's keys and point into its file.
// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight : tensor<4x64xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight">
// CHECK-DAG: tvc.global @base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight : tensor<64x4xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight">
// CHECK-DAG: tvc.global @base_model.model.model.layers.1.mlp.down_proj.lora_A.weight : tensor<16x176xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight">
// CHECK-DAG: tvc.global @base_model.model.model.layers.1.mlp.down_proj.lora_B.weight : tensor<64x16xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight">
// CHECK-NOT: k_proj.lora
// CHECK-NOT: gate_proj.lora

/// Layer 0: q, v, o, up, down adapted; k and gate dense.
// CHECK-LABEL: tvc.layer 0
// CHECK: %[[QW:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32>
// CHECK-NEXT: %[[QA:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight : tensor<4x64xf32>
// CHECK-NEXT: %[[QB:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight : tensor<64x4xf32>
// CHECK-NEXT: tvc.linear %[[X:.*]], %[[QW]], %[[QA]], %[[QB]] structure(#tvc.lora<rank = 4, alpha = 1.600000e+01>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<4x64xf32>, tensor<64x4xf32>) -> tensor<1x?x64xf32>
// CHECK-NEXT: %[[KW:.*]] = tvc.weight @model.layers.0.self_attn.k_proj.weight : tensor<32x64xf32>
// CHECK-NEXT: tvc.linear %[[X]], %[[KW]] : (tensor<1x?x64xf32>, tensor<32x64xf32>) -> tensor<1x?x32xf32>
// CHECK-NEXT: %[[VW:.*]] = tvc.weight @model.layers.0.self_attn.v_proj.weight : tensor<32x64xf32>
// CHECK-NEXT: %[[VA:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight : tensor<4x64xf32>
// CHECK-NEXT: %[[VB:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight : tensor<32x4xf32>
// CHECK-NEXT: tvc.linear %[[X]], %[[VW]], %[[VA]], %[[VB]] structure(#tvc.lora<rank = 4, alpha = 1.600000e+01>) : (tensor<1x?x64xf32>, tensor<32x64xf32>, tensor<4x64xf32>, tensor<32x4xf32>) -> tensor<1x?x32xf32>
// CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.lora<rank = 4, alpha = 1.600000e+01>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<4x64xf32>, tensor<64x4xf32>) -> tensor<1x?x64xf32>
// CHECK: %[[GW:.*]] = tvc.weight @model.layers.0.mlp.gate_proj.weight : tensor<176x64xf32>
// CHECK-NEXT: tvc.linear %{{.*}}, %[[GW]] : (tensor<1x?x64xf32>, tensor<176x64xf32>) -> tensor<1x?x176xf32>
// CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.lora<rank = 4, alpha = 1.600000e+01>) : (tensor<1x?x64xf32>, tensor<176x64xf32>, tensor<4x64xf32>, tensor<176x4xf32>) -> tensor<1x?x176xf32>
// CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.lora<rank = 16, alpha = 3.200000e+01>) : (tensor<1x?x176xf32>, tensor<64x176xf32>, tensor<16x176xf32>, tensor<64x16xf32>) -> tensor<1x?x64xf32>

/// Layer 1: alpha_pattern gives v_proj lora_alpha 3.
// CHECK-LABEL: tvc.layer 1
// CHECK: tvc.weight @base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight
// CHECK-NEXT: tvc.linear {{.*}} structure(#tvc.lora<rank = 4, alpha = 6.000000e+00>) : (tensor<1x?x64xf32>, tensor<32x64xf32>, tensor<4x64xf32>, tensor<32x4xf32>) -> tensor<1x?x32xf32>
// CHECK: tvc.lm_head

/// 21 base tensors and 20 adapter tensors.
// NGLOBALS: {{^}}41{{$}}

/// Without rsLoRA the scaling is lora_alpha / r: 8 / 4 = 2 (alpha 8),
/// down_proj 8 / 16 (alpha 8), layer 1's v_proj 3 / 4 (alpha 3).
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/plain --set use_rslora=false
// RUN: tvc-import %t/base --lora %t/plain -o %t/plain.mlir
// RUN: grep -o 'structure(#tvc.lora<[^>]*>)' %t/plain.mlir | sort | uniq -c | FileCheck %s --check-prefix=PLAIN
// PLAIN: {{^ *}}2 structure(#tvc.lora<rank = 16, alpha = 8.000000e+00>)
// PLAIN-NEXT: {{^ *}}1 structure(#tvc.lora<rank = 4, alpha = 3.000000e+00>)
// PLAIN-NEXT: {{^ *}}7 structure(#tvc.lora<rank = 4, alpha = 8.000000e+00>)

/// Qwen2's q/k/v projections carry biases: the adapted linear keeps its
/// bias (y = W x + (alpha / r) B (A x) + b). A sharded Mistral checkpoint
/// takes the same adapter.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py qwen2 %t/qwen2
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/qwen2 %t/qwen2-adapter
// RUN: tvc-import %t/qwen2 --lora %t/qwen2-adapter -o %t/qwen2.mlir 2>&1 | FileCheck %s --check-prefix=QWEN-SUMMARY
// RUN: FileCheck %s --check-prefix=QWEN < %t/qwen2.mlir
// QWEN-SUMMARY: tvc-import: qwen2, 2 layers: {{.*}}14 linear (10 lora)
// QWEN-LABEL: tvc.layer 0
// QWEN: %[[QW:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32>
// QWEN-NEXT: %[[QBIAS:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.bias : tensor<64xf32>
// QWEN-NEXT: %[[QA:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight : tensor<4x64xf32>
// QWEN-NEXT: %[[QB:.*]] = tvc.weight @base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight : tensor<64x4xf32>
// QWEN-NEXT: tvc.linear %{{.*}}, %[[QW]], %[[QA]], %[[QB]] bias %[[QBIAS]] structure(#tvc.lora<rank = 4, alpha = 1.600000e+01>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<4x64xf32>, tensor<64x4xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
//
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py mistral %t/mistral --shards 2
// RUN: tvc-import %t/mistral --lora %t/adapter -o %t/mistral.mlir 2>&1 | FileCheck %s --check-prefix=MISTRAL
// MISTRAL: tvc-import: mistral, 2 layers: {{.*}}14 linear (10 lora)
