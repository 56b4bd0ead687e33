// The bundled gpt2-tiny model (test/models/gpt2-tiny, written by
// test/models/make_models.py): every weight it declares is in its
// safetensors file with the declared dtype and shape, it canonicalizes, and it
// survives a round trip through the generic form. The model lives outside
// this folder because lit does not discover test/models.
//
// RUN: tvc-opt %S/../models/gpt2-tiny/model.mlir -tvc-check-weights=base-dir=%S/../models/gpt2-tiny --canonicalize | FileCheck %s
// RUN: tvc-opt %S/../models/gpt2-tiny/model.mlir --mlir-print-op-generic | tvc-opt -tvc-check-weights=base-dir=%S/../models/gpt2-tiny --canonicalize | FileCheck %s
// With the weights missing, every global is reported and tvc-opt fails.
// RUN: not tvc-opt %S/../models/gpt2-tiny/model.mlir -tvc-check-weights=base-dir=%S/../models/no-such-model 2>&1 | FileCheck %s --check-prefix=MISSING

/// Every tensor is external, keyed by its HF GPT-2 style name; there is no
/// separate LM head weight (the head is tied).
// CHECK: tvc.global @wte.weight : tensor<256x64xf32> = #tvc.external<"model.safetensors", "transformer.wte.weight">
// CHECK-NEXT: tvc.global @wpe.weight : tensor<64x64xf32> = #tvc.external<"model.safetensors", "transformer.wpe.weight">
// CHECK-NEXT: tvc.global @h.0.ln_1.weight : tensor<64xf32> = #tvc.external<"model.safetensors", "transformer.h.0.ln_1.weight">
// CHECK: tvc.global @h.0.attn.q_proj.weight : tensor<64x64xf32> = #tvc.external<"model.safetensors", "transformer.h.0.attn.q_proj.weight">
// CHECK: tvc.global @h.1.mlp.c_fc.weight : tensor<256x64xf32> = #tvc.external<"model.safetensors", "transformer.h.1.mlp.c_fc.weight">
// CHECK-NEXT: tvc.global @h.1.mlp.c_fc.bias : tensor<256xf32> = #tvc.external<"model.safetensors", "transformer.h.1.mlp.c_fc.bias">
// CHECK-NEXT: tvc.global @h.1.mlp.c_proj.weight : tensor<64x256xf32> = #tvc.external<"model.safetensors", "transformer.h.1.mlp.c_proj.weight">
// CHECK: tvc.global @ln_f.bias : tensor<64xf32> = #tvc.external<"model.safetensors", "transformer.ln_f.bias">
// CHECK-NOT: tvc.global

/// Embedding plus learned positions, two causal layers, final norm, and a
/// head that reads the token embedding's global.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^ :]+]]: tensor<1x?xi64>, %[[POS:[^ :]+]]: tensor<1x?xi64>) -> tensor<1x?x256xf32>
// CHECK: %[[WTE:.*]] = tvc.weight @wte.weight : tensor<256x64xf32>
// CHECK: %[[WPE:.*]] = tvc.weight @wpe.weight : tensor<64x64xf32>
// CHECK: %[[TOKENS:.*]] = tvc.embedding %[[WTE]], %[[IDS]]
// CHECK: %[[EMBEDDED:.*]] = tvc.learned_positions %[[TOKENS]], %[[WPE]], %[[POS]]
// CHECK: %[[H0:.*]] = tvc.layer 0 (%[[EMBEDDED]], %[[POS]]) : (tensor<1x?x64xf32>, tensor<1x?xi64>) -> tensor<1x?x64xf32> {
// CHECK: tvc.weight @h.0.ln_1.weight
// CHECK: tvc.layer_norm {{.*}} epsilon 1.000000e-05
// CHECK: %[[Q0:.*]] = tvc.linear {{.*}} bias {{.*}} -> tensor<1x?x64xf32>
// CHECK: %[[K0:.*]] = tvc.linear {{.*}} bias {{.*}} -> tensor<1x?x64xf32>
// CHECK: %[[V0:.*]] = tvc.linear {{.*}} bias {{.*}} -> tensor<1x?x64xf32>
// CHECK: tvc.attention %[[Q0]], %[[K0]], %[[V0]] heads 4 kv_heads 4 mask(#tvc.causal)
// CHECK: tvc.gelu {{.*}} approximate tanh : tensor<1x?x256xf32>
// CHECK: tvc.yield
// CHECK: %[[H1:.*]] = tvc.layer 1 (%[[H0]], %[[POS]])
// CHECK: tvc.weight @h.1.ln_1.weight
// CHECK: tvc.attention {{.*}} heads 4 kv_heads 4 mask(#tvc.causal)
// CHECK: tvc.yield
// CHECK-NOT: tvc.layer
// CHECK: %[[FINAL:.*]] = tvc.layer_norm %[[H1]]
// CHECK: %[[LOGITS:.*]] = tvc.lm_head %[[FINAL]], %[[WTE]] : tensor<1x?x64xf32>, tensor<256x64xf32>
// CHECK: return %[[LOGITS]] : tensor<1x?x256xf32>

/// Without the weights file every global is reported, the first and last too.
// MISSING: error: @wte.weight: {{.*}}no-such-model{{/|\\}}model.safetensors: cannot open
// MISSING: error: @ln_f.bias: {{.*}}model.safetensors: cannot open
