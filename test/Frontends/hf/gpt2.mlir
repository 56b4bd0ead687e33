// tvc-import of a Hugging Face GPT-2 checkpoint (Inputs/make_hf_checkpoint.py:
// vocab 256, n_embd 64, 4 heads, 2 layers, n_positions 64, n_inner null,
// gelu_new; keys without the "transformer." prefix; Conv1D weights stored
// [in, out]; fused c_attn; attn.bias / attn.masked_bias buffers; no
// lm_head.weight).
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t
// RUN: tvc-import %t -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DDIR=%t
// RUN: FileCheck %s --input-file=%t/model.mlir --check-prefix=NOBUF
// RUN: grep -c "tvc.global" %t/model.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: awk 'BEGIN { n = "-" } /= tvc\./ { s = $0; sub(/.*= tvc\./, "", s); sub(/ .*/, "", s); if (s != "weight") c[n " " s]++ } /= tvc\.layer / { n = $4 } /^ *}$/ { n = "-" } END { for (k in c) print k, c[k] }' %t/model.mlir | env LC_ALL=C sort | FileCheck %s --check-prefix=COUNTS
// RUN: tvc-opt %t/model.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
//
// --quiet prints nothing and writes the same module.
// RUN: tvc-import %t -o %t/quiet.mlir --quiet 2>&1 | count 0
// RUN: diff %t/model.mlir %t/quiet.mlir

/// One summary line with the op counts; the four buffers are not imported.
// SUMMARY-NOT: error
// SUMMARY: tvc-import: gpt2, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}5 layer_norm
// SUMMARY-DAG: {{[ :,]}}2 gelu
// SUMMARY-DAG: {{[ :,]}}8 linear
// SUMMARY-DAG: {{[ :,]}}2 split
// SUMMARY-DAG: {{[ :,]}}1 lm_head
// SUMMARY-DAG: {{[ :,]}}0 unsupported

/// One global per used tensor, named by its safetensors key, referencing the
/// file by absolute path and keeping GPT-2's [in, out] shapes.
// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @wte.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "wte.weight">
// CHECK-DAG: tvc.global @wpe.weight : tensor<64x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "wpe.weight">
// CHECK-DAG: tvc.global @h.0.ln_1.weight : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.0.ln_1.weight">
// CHECK-DAG: tvc.global @h.0.attn.c_attn.weight : tensor<64x192xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.0.attn.c_attn.weight">
// CHECK-DAG: tvc.global @h.0.attn.c_attn.bias : tensor<192xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.0.attn.c_attn.bias">
// CHECK-DAG: tvc.global @h.0.mlp.c_fc.weight : tensor<64x256xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.0.mlp.c_fc.weight">
// CHECK-DAG: tvc.global @h.0.mlp.c_proj.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.0.mlp.c_proj.weight">
// CHECK-DAG: tvc.global @h.1.attn.c_proj.bias : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "h.1.attn.c_proj.bias">
// CHECK-DAG: tvc.global @ln_f.bias : tensor<64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "ln_f.bias">

/// Token embedding plus learned positions.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^:]+]]: tensor<1x?xi64>{{.*}}, %[[POS:[^:]+]]: tensor<1x?xi64>{{.*}}) -> tensor<1x?x256xf32>
// CHECK-DAG: %[[WTE:.*]] = tvc.weight @wte.weight : tensor<256x64xf32>
// CHECK-DAG: %[[WPE:.*]] = tvc.weight @wpe.weight : tensor<64x64xf32>
// CHECK-DAG: %[[TOKENS:.*]] = tvc.embedding %[[WTE]], %[[IDS]] : tensor<256x64xf32>, tensor<1x?xi64>
// CHECK: %[[EMBEDDED:.*]] = tvc.learned_positions %[[TOKENS]], %[[WPE]], %[[POS]] : tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<1x?xi64>

/// Layer 0: ln_1, one fused c_attn linear in [in, out] layout split into
/// q/k/v, causal attention, c_proj, residual; ln_2, c_fc, gelu (tanh),
/// c_proj, residual. Weights are bound to the ops that read them.
// CHECK: %[[H0:.*]] = tvc.layer 0 (%[[EMBEDDED]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[X0:[^:]+]]: tensor<1x?x64xf32>, %{{[^:]+}}: tensor<1x?xi64>):
// CHECK-DAG: %[[L0_LN1_W:.*]] = tvc.weight @h.0.ln_1.weight : tensor<64xf32>
// CHECK-DAG: %[[L0_LN1_B:.*]] = tvc.weight @h.0.ln_1.bias : tensor<64xf32>
// CHECK-DAG: %[[L0_LN1:.*]] = tvc.layer_norm %[[X0]], %[[L0_LN1_W]], %[[L0_LN1_B]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L0_QKV_W:.*]] = tvc.weight @h.0.attn.c_attn.weight : tensor<64x192xf32>
// CHECK-DAG: %[[L0_QKV_B:.*]] = tvc.weight @h.0.attn.c_attn.bias : tensor<192xf32>
// CHECK-DAG: %[[L0_QKV:.*]] = tvc.linear %[[L0_LN1]], %[[L0_QKV_W]] bias %[[L0_QKV_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x?x192xf32>
// CHECK-DAG: %[[L0_SPLIT:.*]]:3 = tvc.split %[[L0_QKV]] sizes [64, 64, 64] : tensor<1x?x192xf32>
// CHECK: %[[L0_ATTN:.*]] = tvc.attention %[[L0_SPLIT]]#0, %[[L0_SPLIT]]#1, %[[L0_SPLIT]]#2 heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_PROJ_W:.*]] = tvc.weight @h.0.attn.c_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L0_PROJ_B:.*]] = tvc.weight @h.0.attn.c_proj.bias : tensor<64xf32>
// CHECK-DAG: %[[L0_PROJ:.*]] = tvc.linear %[[L0_ATTN]], %[[L0_PROJ_W]] bias %[[L0_PROJ_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_RES:.*]] = tvc.add %[[X0]], %[[L0_PROJ]] : tensor<1x?x64xf32>
// CHECK-DAG: %[[L0_LN2_W:.*]] = tvc.weight @h.0.ln_2.weight : tensor<64xf32>
// CHECK-DAG: %[[L0_LN2_B:.*]] = tvc.weight @h.0.ln_2.bias : tensor<64xf32>
// CHECK-DAG: %[[L0_LN2:.*]] = tvc.layer_norm %[[L0_RES]], %[[L0_LN2_W]], %[[L0_LN2_B]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L0_FC_W:.*]] = tvc.weight @h.0.mlp.c_fc.weight : tensor<64x256xf32>
// CHECK-DAG: %[[L0_FC_B:.*]] = tvc.weight @h.0.mlp.c_fc.bias : tensor<256xf32>
// CHECK-DAG: %[[L0_FC:.*]] = tvc.linear %[[L0_LN2]], %[[L0_FC_W]] bias %[[L0_FC_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
// CHECK-DAG: %[[L0_ACT:.*]] = tvc.gelu %[[L0_FC]] approximate tanh : tensor<1x?x256xf32>
// CHECK-DAG: %[[L0_DOWN_W:.*]] = tvc.weight @h.0.mlp.c_proj.weight : tensor<256x64xf32>
// CHECK-DAG: %[[L0_DOWN_B:.*]] = tvc.weight @h.0.mlp.c_proj.bias : tensor<64xf32>
// CHECK-DAG: %[[L0_DOWN:.*]] = tvc.linear %[[L0_ACT]], %[[L0_DOWN_W]] bias %[[L0_DOWN_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x256xf32>, tensor<256x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK: %[[L0_OUT:.*]] = tvc.add %[[L0_RES]], %[[L0_DOWN]] : tensor<1x?x64xf32>
// CHECK-NEXT: tvc.yield %[[L0_OUT]] : tensor<1x?x64xf32>
// CHECK-NEXT: }

/// Layer 1 reads the h.1 tensors and takes layer 0's output.
// CHECK: %[[H1:.*]] = tvc.layer 1 (%[[H0]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK-NEXT: ^bb0(%[[X1:[^:]+]]: tensor<1x?x64xf32>, %{{[^:]+}}: tensor<1x?xi64>):
// CHECK-DAG: %[[L1_LN1_W:.*]] = tvc.weight @h.1.ln_1.weight : tensor<64xf32>
// CHECK-DAG: %[[L1_LN1_B:.*]] = tvc.weight @h.1.ln_1.bias : tensor<64xf32>
// CHECK-DAG: %[[L1_LN1:.*]] = tvc.layer_norm %[[X1]], %[[L1_LN1_W]], %[[L1_LN1_B]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L1_QKV_W:.*]] = tvc.weight @h.1.attn.c_attn.weight : tensor<64x192xf32>
// CHECK-DAG: %[[L1_QKV_B:.*]] = tvc.weight @h.1.attn.c_attn.bias : tensor<192xf32>
// CHECK-DAG: %[[L1_QKV:.*]] = tvc.linear %[[L1_LN1]], %[[L1_QKV_W]] bias %[[L1_QKV_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x?x192xf32>
// CHECK-DAG: %[[L1_SPLIT:.*]]:3 = tvc.split %[[L1_QKV]] sizes [64, 64, 64] : tensor<1x?x192xf32>
// CHECK: %[[L1_ATTN:.*]] = tvc.attention %[[L1_SPLIT]]#0, %[[L1_SPLIT]]#1, %[[L1_SPLIT]]#2 heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_PROJ_W:.*]] = tvc.weight @h.1.attn.c_proj.weight : tensor<64x64xf32>
// CHECK-DAG: %[[L1_PROJ_B:.*]] = tvc.weight @h.1.attn.c_proj.bias : tensor<64xf32>
// CHECK-DAG: %[[L1_PROJ:.*]] = tvc.linear %[[L1_ATTN]], %[[L1_PROJ_W]] bias %[[L1_PROJ_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_RES:.*]] = tvc.add %[[X1]], %[[L1_PROJ]] : tensor<1x?x64xf32>
// CHECK-DAG: %[[L1_LN2_W:.*]] = tvc.weight @h.1.ln_2.weight : tensor<64xf32>
// CHECK-DAG: %[[L1_LN2_B:.*]] = tvc.weight @h.1.ln_2.bias : tensor<64xf32>
// CHECK-DAG: %[[L1_LN2:.*]] = tvc.layer_norm %[[L1_RES]], %[[L1_LN2_W]], %[[L1_LN2_B]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-DAG: %[[L1_FC_W:.*]] = tvc.weight @h.1.mlp.c_fc.weight : tensor<64x256xf32>
// CHECK-DAG: %[[L1_FC_B:.*]] = tvc.weight @h.1.mlp.c_fc.bias : tensor<256xf32>
// CHECK-DAG: %[[L1_FC:.*]] = tvc.linear %[[L1_LN2]], %[[L1_FC_W]] bias %[[L1_FC_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
// CHECK-DAG: %[[L1_ACT:.*]] = tvc.gelu %[[L1_FC]] approximate tanh : tensor<1x?x256xf32>
// CHECK-DAG: %[[L1_DOWN_W:.*]] = tvc.weight @h.1.mlp.c_proj.weight : tensor<256x64xf32>
// CHECK-DAG: %[[L1_DOWN_B:.*]] = tvc.weight @h.1.mlp.c_proj.bias : tensor<64xf32>
// CHECK-DAG: %[[L1_DOWN:.*]] = tvc.linear %[[L1_ACT]], %[[L1_DOWN_W]] bias %[[L1_DOWN_B]] structure(#tvc.dense<in_out>) : (tensor<1x?x256xf32>, tensor<256x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK: %[[L1_OUT:.*]] = tvc.add %[[L1_RES]], %[[L1_DOWN]] : tensor<1x?x64xf32>
// CHECK-NEXT: tvc.yield %[[L1_OUT]] : tensor<1x?x64xf32>
// CHECK-NEXT: }
// CHECK-NOT: tvc.layer

/// Final layer norm and a head tied to the token embedding: it reads the
/// same value as tvc.embedding, and there is no lm_head global.
// CHECK-DAG: %[[LNF_W:.*]] = tvc.weight @ln_f.weight : tensor<64xf32>
// CHECK-DAG: %[[LNF_B:.*]] = tvc.weight @ln_f.bias : tensor<64xf32>
// CHECK-DAG: %[[FINAL:.*]] = tvc.layer_norm %[[H1]], %[[LNF_W]], %[[LNF_B]] epsilon 1.000000e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK: %[[LOGITS:.*]] = tvc.lm_head %[[FINAL]], %[[WTE]] : tensor<1x?x64xf32>, tensor<256x64xf32>
// CHECK-NEXT: return %[[LOGITS]] : tensor<1x?x256xf32>

/// The attention-mask buffers are not weights of the model.
// NOBUF-NOT: masked_bias
// NOBUF-NOT: "h.{{[0-9]+}}.attn.bias"
// NOBUF-NOT: lm_head.weight
// NOBUF: func.func @forward

/// 32 tensors in the checkpoint, 4 of them buffers.
// NGLOBALS: {{^}}28{{$}}

/// Ops per layer ("-" is outside any layer), tvc.weight left out.
// COUNTS: {{^}}- embedding 1{{$}}
// COUNTS-NEXT: {{^}}- layer 2{{$}}
// COUNTS-NEXT: {{^}}- layer_norm 1{{$}}
// COUNTS-NEXT: {{^}}- learned_positions 1{{$}}
// COUNTS-NEXT: {{^}}- lm_head 1{{$}}
// COUNTS-NEXT: {{^}}0 add 2{{$}}
// COUNTS-NEXT: {{^}}0 attention 1{{$}}
// COUNTS-NEXT: {{^}}0 gelu 1{{$}}
// COUNTS-NEXT: {{^}}0 layer_norm 2{{$}}
// COUNTS-NEXT: {{^}}0 linear 4{{$}}
// COUNTS-NEXT: {{^}}0 split 1{{$}}
// COUNTS-NEXT: {{^}}1 add 2{{$}}
// COUNTS-NEXT: {{^}}1 attention 1{{$}}
// COUNTS-NEXT: {{^}}1 gelu 1{{$}}
// COUNTS-NEXT: {{^}}1 layer_norm 2{{$}}
// COUNTS-NEXT: {{^}}1 linear 4{{$}}
// COUNTS-NEXT: {{^}}1 split 1{{$}}
// COUNTS-NOT: {{.}}

/// Every weight exists with its declared dtype and shape, and the module
/// survives canonicalization (the three-way split stays).
// OPT-LABEL: func.func @forward
// OPT-COUNT-2: tvc.split %{{.*}} sizes [64, 64, 64] : tensor<1x?x192xf32>
// OPT: tvc.lm_head
