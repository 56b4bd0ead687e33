// The bundled llama-tiny model (test/models/llama-tiny, written by
// test/models/make_models.py): every weight it declares is in its
// safetensors file with the declared dtype and shape, it canonicalizes, and it
// survives a round trip through the generic form. The model lives outside
// this folder because lit does not discover test/models.
//
// RUN: tvc-opt %S/../models/llama-tiny/model.mlir -tvc-check-weights=base-dir=%S/../models/llama-tiny --canonicalize | FileCheck %s
// RUN: tvc-opt %S/../models/llama-tiny/model.mlir --mlir-print-op-generic | tvc-opt -tvc-check-weights=base-dir=%S/../models/llama-tiny --canonicalize | FileCheck %s
// With the weights missing, every global is reported and tvc-opt fails.
// RUN: not tvc-opt %S/../models/llama-tiny/model.mlir -tvc-check-weights=base-dir=%S/../models/no-such-model 2>&1 | FileCheck %s --check-prefix=MISSING

/// Every tensor is external, keyed by its HF LLaMA name; k/v are narrower
/// than q (2 KV heads) and the LM head has its own weight.
// CHECK: tvc.global @embed_tokens.weight : tensor<256x64xf32> = #tvc.external<"model.safetensors", "model.embed_tokens.weight">
// CHECK-NEXT: tvc.global @layers.0.input_layernorm.weight : tensor<64xf32> = #tvc.external<"model.safetensors", "model.layers.0.input_layernorm.weight">
// CHECK-NEXT: tvc.global @layers.0.self_attn.q_proj.weight : tensor<64x64xf32> = #tvc.external<"model.safetensors", "model.layers.0.self_attn.q_proj.weight">
// CHECK-NEXT: tvc.global @layers.0.self_attn.k_proj.weight : tensor<32x64xf32> = #tvc.external<"model.safetensors", "model.layers.0.self_attn.k_proj.weight">
// CHECK-NEXT: tvc.global @layers.0.self_attn.v_proj.weight : tensor<32x64xf32> = #tvc.external<"model.safetensors", "model.layers.0.self_attn.v_proj.weight">
// CHECK: tvc.global @layers.1.mlp.gate_proj.weight : tensor<176x64xf32> = #tvc.external<"model.safetensors", "model.layers.1.mlp.gate_proj.weight">
// CHECK-NEXT: tvc.global @layers.1.mlp.up_proj.weight : tensor<176x64xf32> = #tvc.external<"model.safetensors", "model.layers.1.mlp.up_proj.weight">
// CHECK-NEXT: tvc.global @layers.1.mlp.down_proj.weight : tensor<64x176xf32> = #tvc.external<"model.safetensors", "model.layers.1.mlp.down_proj.weight">
// CHECK-NEXT: tvc.global @norm.weight : tensor<64xf32> = #tvc.external<"model.safetensors", "model.norm.weight">
// CHECK-NEXT: tvc.global @lm_head.weight : tensor<256x64xf32> = #tvc.external<"model.safetensors", "lm_head.weight">
// CHECK-NOT: tvc.global

/// Embedding, two causal GQA layers with SwiGLU (plain RoPE in layer 0,
/// linear-scaled RoPE on both q and k in layer 1), final norm, untied head.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^ :]+]]: tensor<1x?xi64>, %[[POS:[^ :]+]]: tensor<1x?xi64>) -> tensor<1x?x256xf32>
// CHECK: %[[EMBED:.*]] = tvc.weight @embed_tokens.weight : tensor<256x64xf32>
// CHECK: %[[EMBEDDED:.*]] = tvc.embedding %[[EMBED]], %[[IDS]]
// CHECK: %[[H0:.*]] = tvc.layer 0 (%[[EMBEDDED]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[X0:[^ :]+]]: tensor<1x?x64xf32>, %[[P0:[^ :]+]]: tensor<1x?xi64>):
// CHECK: tvc.rms_norm %[[X0]], {{.*}} epsilon 1.000000e-05
// CHECK: %[[Q0:.*]] = tvc.rope {{.*}}, %[[P0]] heads 4 theta 1.000000e+04 : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK: %[[K0:.*]] = tvc.rope {{.*}}, %[[P0]] heads 2 theta 1.000000e+04 : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: tvc.attention %[[Q0]], %[[K0]], {{.*}} heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK: %[[GATE0:.*]] = tvc.linear {{.*}} -> tensor<1x?x176xf32>
// CHECK: %[[UP0:.*]] = tvc.linear {{.*}} -> tensor<1x?x176xf32>
// CHECK: tvc.glu %[[GATE0]], %[[UP0]] activation silu : tensor<1x?x176xf32>
// CHECK: tvc.yield
// CHECK: %[[H1:.*]] = tvc.layer 1 (%[[H0]], %[[POS]])
// CHECK: tvc.rope {{.*}} heads 4 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x64xf32>
// CHECK: tvc.rope {{.*}} heads 2 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x32xf32>
// CHECK: tvc.attention {{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// CHECK: tvc.glu {{.*}} activation silu
// CHECK: tvc.yield
// CHECK-NOT: tvc.layer
// CHECK: %[[FINAL:.*]] = tvc.rms_norm %[[H1]]
// CHECK: %[[HEAD:.*]] = tvc.weight @lm_head.weight : tensor<256x64xf32>
// CHECK: %[[LOGITS:.*]] = tvc.lm_head %[[FINAL]], %[[HEAD]] : tensor<1x?x64xf32>, tensor<256x64xf32>
// CHECK: return %[[LOGITS]] : tensor<1x?x256xf32>

/// Without the weights file every global is reported, the first and last too.
// MISSING: error: @embed_tokens.weight: {{.*}}no-such-model{{/|\\}}model.safetensors: cannot open
// MISSING: error: @lm_head.weight: {{.*}}model.safetensors: cannot open
