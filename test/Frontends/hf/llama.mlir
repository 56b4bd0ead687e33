// tvc-import of a Hugging Face LLaMA checkpoint (Inputs/make_hf_checkpoint.py:
// vocab 256, hidden 64, 4 heads, 2 KV heads, 2 layers, intermediate 176,
// silu, rms_norm_eps 1e-05, rope_theta 10000, rope_scaling null,
// tie_word_embeddings false).
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: tvc-import %t -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DDIR=%t
// RUN: grep -c "tvc.global" %t/model.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: awk 'BEGIN { n = "-" } /= tvc\./ { s = $0; sub(/.*= tvc\./, "", s); sub(/ .*/, "", s); if (s != "weight") c[n " " s]++ } /= tvc\.layer / { n = $4 } /^ *}$/ { n = "-" } END { for (k in c) print k, c[k] }' %t/model.mlir | env LC_ALL=C sort | FileCheck %s --check-prefix=COUNTS
// RUN: tvc-opt %t/model.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}5 rms_norm
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}4 rope
// SUMMARY-DAG: {{[ :,]}}2 glu
// SUMMARY-DAG: {{[ :,]}}1 lm_head
// SUMMARY-DAG: {{[ :,]}}0 unsupported

/// Globals keep the full HF key (with "model."); k/v are [kv_heads * 16, 64].
// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @model.embed_tokens.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.embed_tokens.weight">
// CHECK-DAG: tvc.global @model.layers.0.input_layernorm.weight : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.input_layernorm.weight">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.q_proj.weight">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.k_proj.weight : tensor<32x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.k_proj.weight">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.v_proj.weight : tensor<32x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.v_proj.weight">
// CHECK-DAG: tvc.global @model.layers.1.mlp.gate_proj.weight : tensor<176x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.1.mlp.gate_proj.weight">
// CHECK-DAG: tvc.global @model.layers.1.mlp.down_proj.weight : tensor<64x176xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.1.mlp.down_proj.weight">
// CHECK-DAG: tvc.global @model.norm.weight : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.norm.weight">
// CHECK-DAG: tvc.global @lm_head.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "lm_head.weight">

/// Token embedding only: positions enter through RoPE.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^:]+]]: tensor<1x?xi64>{{.*}}, %[[POS:[^:]+]]: tensor<1x?xi64>{{.*}}) -> tensor<1x?x256xf32>
// CHECK-DAG: %[[EMBED_W:.*]] = tvc.weight @model.embed_tokens.weight : tensor<256x64xf32>
// CHECK-DAG: %[[EMBEDDED:.*]] = tvc.embedding %[[EMBED_W]], %[[IDS]] : tensor<256x64xf32>, tensor<1x?xi64>
// CHECK-NOT: tvc.learned_positions

/// Layer 0: rms_norm; q/k/v projections without bias; RoPE on q (4 heads)
/// and k (2 heads) at the layer's positions; GQA attention 4/2, causal;
/// o_proj; residual; rms_norm; SwiGLU (gate, up, glu silu, down); residual.
// CHECK: %[[H0:.*]] = tvc.layer 0 (%[[EMBEDDED]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[X0:[^:]+]]: tensor<1x?x64xf32>, %[[P0:[^:]+]]: tensor<1x?xi64>):
// CHECK-DAG: %[[L0_N1_W:.*]] = tvc.weight @model.layers.0.input_layernorm.weight : tensor<64xf32>
// CHECK-DAG: %[[L0_N1:.*]] = tvc.rms_norm %[[X0]], %[[L0_N1_W]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L0_Q_W:.*]] = tvc.weight @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L0_QP:.*]] = tvc.linear %[[L0_N1]], %[[L0_Q_W]] : (tensor<1x?x64xf32>, tensor<64x64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_K_W:.*]] = tvc.weight @model.layers.0.self_attn.k_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[L0_KP:.*]] = tvc.linear %[[L0_N1]], %[[L0_K_W]] : (tensor<1x?x64xf32>, tensor<32x64xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[L0_V_W:.*]] = tvc.weight @model.layers.0.self_attn.v_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[L0_V:.*]] = tvc.linear %[[L0_N1]], %[[L0_V_W]] : (tensor<1x?x64xf32>, tensor<32x64xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[L0_Q:.*]] = tvc.rope %[[L0_QP]], %[[P0]] heads 4 theta 1.000000e+04 : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK-DAG: %[[L0_K:.*]] = tvc.rope %[[L0_KP]], %[[P0]] heads 2 theta 1.000000e+04 : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: %[[L0_ATTN:.*]] = tvc.attention %[[L0_Q]], %[[L0_K]], %[[L0_V]] heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK-DAG: %[[L0_O_W:.*]] = tvc.weight @model.layers.0.self_attn.o_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L0_O:.*]] = tvc.linear %[[L0_ATTN]], %[[L0_O_W]] : (tensor<1x?x64xf32>, tensor<64x64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_RES:.*]] = tvc.add %[[X0]], %[[L0_O]] : tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_N2_W:.*]] = tvc.weight @model.layers.0.post_attention_layernorm.weight : tensor<64xf32>
// CHECK-DAG: %[[L0_N2:.*]] = tvc.rms_norm %[[L0_RES]], %[[L0_N2_W]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L0_GATE_W:.*]] = tvc.weight @model.layers.0.mlp.gate_proj.weight : tensor<176x64xf32>
// CHECK-DAG: %[[L0_GATE:.*]] = tvc.linear %[[L0_N2]], %[[L0_GATE_W]] : (tensor<1x?x64xf32>, tensor<176x64xf32>) -> tensor<1x?x176xf32>
// CHECK-DAG: %[[L0_UP_W:.*]] = tvc.weight @model.layers.0.mlp.up_proj.weight : tensor<176x64xf32>
// CHECK-DAG: %[[L0_UP:.*]] = tvc.linear %[[L0_N2]], %[[L0_UP_W]] : (tensor<1x?x64xf32>, tensor<176x64xf32>) -> tensor<1x?x176xf32>
// CHECK-DAG: %[[L0_ACT:.*]] = tvc.glu %[[L0_GATE]], %[[L0_UP]] activation silu : tensor<1x?x176xf32>
// CHECK-DAG: %[[L0_DOWN_W:.*]] = tvc.weight @model.layers.0.mlp.down_proj.weight : tensor<64x176xf32>
// CHECK-DAG: %[[L0_DOWN:.*]] = tvc.linear %[[L0_ACT]], %[[L0_DOWN_W]] : (tensor<1x?x176xf32>, tensor<64x176xf32>) -> tensor<1x?x64xf32>
// CHECK: %[[L0_OUT:.*]] = tvc.add %[[L0_RES]], %[[L0_DOWN]] : tensor<1x?x64xf32>
// CHECK-NEXT: tvc.yield %[[L0_OUT]] : tensor<1x?x64xf32>
// CHECK-NEXT: }

/// Layer 1: the same with the model.layers.1 tensors.
// CHECK: %[[H1:.*]] = tvc.layer 1 (%[[H0]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[X1:[^:]+]]: tensor<1x?x64xf32>, %[[P1:[^:]+]]: tensor<1x?xi64>):
// CHECK-DAG: %[[L1_N1_W:.*]] = tvc.weight @model.layers.1.input_layernorm.weight : tensor<64xf32>
// CHECK-DAG: %[[L1_N1:.*]] = tvc.rms_norm %[[X1]], %[[L1_N1_W]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L1_Q_W:.*]] = tvc.weight @model.layers.1.self_attn.q_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L1_QP:.*]] = tvc.linear %[[L1_N1]], %[[L1_Q_W]] : (tensor<1x?x64xf32>, tensor<64x64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_K_W:.*]] = tvc.weight @model.layers.1.self_attn.k_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[L1_KP:.*]] = tvc.linear %[[L1_N1]], %[[L1_K_W]] : (tensor<1x?x64xf32>, tensor<32x64xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[L1_V_W:.*]] = tvc.weight @model.layers.1.self_attn.v_proj.weight : tensor<32x64xf32>
// CHECK-DAG: %[[L1_V:.*]] = tvc.linear %[[L1_N1]], %[[L1_V_W]] : (tensor<1x?x64xf32>, tensor<32x64xf32>) -> tensor<1x?x32xf32>
// CHECK-DAG: %[[L1_Q:.*]] = tvc.rope %[[L1_QP]], %[[P1]] heads 4 theta 1.000000e+04 : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK-DAG: %[[L1_K:.*]] = tvc.rope %[[L1_KP]], %[[P1]] heads 2 theta 1.000000e+04 : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: %[[L1_ATTN:.*]] = tvc.attention %[[L1_Q]], %[[L1_K]], %[[L1_V]] heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>
// CHECK-DAG: %[[L1_O_W:.*]] = tvc.weight @model.layers.1.self_attn.o_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L1_O:.*]] = tvc.linear %[[L1_ATTN]], %[[L1_O_W]] : (tensor<1x?x64xf32>, tensor<64x64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_RES:.*]] = tvc.add %[[X1]], %[[L1_O]] : tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_N2_W:.*]] = tvc.weight @model.layers.1.post_attention_layernorm.weight : tensor<64xf32>
// CHECK-DAG: %[[L1_N2:.*]] = tvc.rms_norm %[[L1_RES]], %[[L1_N2_W]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L1_GATE_W:.*]] = tvc.weight @model.layers.1.mlp.gate_proj.weight : tensor<176x64xf32>
// CHECK-DAG: %[[L1_GATE:.*]] = tvc.linear %[[L1_N2]], %[[L1_GATE_W]] : (tensor<1x?x64xf32>, tensor<176x64xf32>) -> tensor<1x?x176xf32>
// CHECK-DAG: %[[L1_UP_W:.*]] = tvc.weight @model.layers.1.mlp.up_proj.weight : tensor<176x64xf32>
// CHECK-DAG: %[[L1_UP:.*]] = tvc.linear %[[L1_N2]], %[[L1_UP_W]] : (tensor<1x?x64xf32>, tensor<176x64xf32>) -> tensor<1x?x176xf32>
// CHECK-DAG: %[[L1_ACT:.*]] = tvc.glu %[[L1_GATE]], %[[L1_UP]] activation silu : tensor<1x?x176xf32>
// CHECK-DAG: %[[L1_DOWN_W:.*]] = tvc.weight @model.layers.1.mlp.down_proj.weight : tensor<64x176xf32>
// CHECK-DAG: %[[L1_DOWN:.*]] = tvc.linear %[[L1_ACT]], %[[L1_DOWN_W]] : (tensor<1x?x176xf32>, tensor<64x176xf32>) -> tensor<1x?x64xf32>
// CHECK: %[[L1_OUT:.*]] = tvc.add %[[L1_RES]], %[[L1_DOWN]] : tensor<1x?x64xf32>
// CHECK-NEXT: tvc.yield %[[L1_OUT]] : tensor<1x?x64xf32>
// CHECK-NEXT: }
// CHECK-NOT: tvc.layer

/// Final norm and the separate (untied) head.
// CHECK-DAG: %[[NORM_W:.*]] = tvc.weight @model.norm.weight : tensor<64xf32>
// CHECK-DAG: %[[FINAL:.*]] = tvc.rms_norm %[[H1]], %[[NORM_W]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[HEAD_W:.*]] = tvc.weight @lm_head.weight : tensor<256x64xf32>
// CHECK: %[[LOGITS:.*]] = tvc.lm_head %[[FINAL]], %[[HEAD_W]] : tensor<1x?x64xf32>, tensor<256x64xf32>
// CHECK-NEXT: return %[[LOGITS]] : tensor<1x?x256xf32>

/// Every tensor of the checkpoint is used.
// NGLOBALS: {{^}}21{{$}}

// COUNTS: {{^}}- embedding 1{{$}}
// COUNTS-NEXT: {{^}}- layer 2{{$}}
// COUNTS-NEXT: {{^}}- lm_head 1{{$}}
// COUNTS-NEXT: {{^}}- rms_norm 1{{$}}
// COUNTS-NEXT: {{^}}0 add 2{{$}}
// COUNTS-NEXT: {{^}}0 attention 1{{$}}
// COUNTS-NEXT: {{^}}0 glu 1{{$}}
// COUNTS-NEXT: {{^}}0 linear 7{{$}}
// COUNTS-NEXT: {{^}}0 rms_norm 2{{$}}
// COUNTS-NEXT: {{^}}0 rope 2{{$}}
// COUNTS-NEXT: {{^}}1 add 2{{$}}
// COUNTS-NEXT: {{^}}1 attention 1{{$}}
// COUNTS-NEXT: {{^}}1 glu 1{{$}}
// COUNTS-NEXT: {{^}}1 linear 7{{$}}
// COUNTS-NEXT: {{^}}1 rms_norm 2{{$}}
// COUNTS-NEXT: {{^}}1 rope 2{{$}}
// COUNTS-NOT: {{.}}

// OPT-LABEL: func.func @forward
// OPT-COUNT-2: tvc.attention %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// OPT: tvc.lm_head
