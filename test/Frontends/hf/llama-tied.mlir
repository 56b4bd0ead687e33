// LLaMA with tie_word_embeddings true: the checkpoint has no lm_head.weight
// and the head reads the token embedding's global.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --tie
// RUN: tvc-import %t -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DDIR=%t
// RUN: grep -c "tvc.global" %t/model.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: tvc-opt %t/model.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}1 lm_head
// SUMMARY-DAG: {{[ :,]}}0 unsupported

// CHECK-LABEL: module {
// CHECK-NOT: lm_head.weight
// CHECK: tvc.global @model.embed_tokens.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model.safetensors", "model.embed_tokens.weight">
// CHECK-NOT: lm_head.weight
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:[^:]+]]: tensor<1x?xi64>
// CHECK-DAG: %[[EMBED_W:.*]] = tvc.weight @model.embed_tokens.weight : tensor<256x64xf32>
// CHECK-DAG: tvc.embedding %[[EMBED_W]], %[[IDS]] : tensor<256x64xf32>, tensor<1x?xi64>
// CHECK: tvc.layer 0 (
// CHECK: %[[H1:.*]] = tvc.layer 1 (
// CHECK: tvc.yield
// CHECK-NEXT: }
// CHECK: %[[FINAL:.*]] = tvc.rms_norm %[[H1]],
// CHECK-NOT: tvc.weight @lm_head
// CHECK: %[[LOGITS:.*]] = tvc.lm_head %[[FINAL]], %[[EMBED_W]] : tensor<1x?x64xf32>, tensor<256x64xf32>
// CHECK-NEXT: return %[[LOGITS]] : tensor<1x?x256xf32>

/// 21 tensors of the untied model less lm_head.weight.
// NGLOBALS: {{^}}20{{$}}

// OPT-LABEL: func.func @forward
// OPT: tvc.lm_head
