// GPT-2 checkpoints saved from GPT2LMHeadModel carry the "transformer."
// prefix on every key. The importer takes the keys as they are: globals are
// named by the full key and read from the file under it. This checkpoint
// also stores its attn.bias buffers as U8 (not BOOL) and its floats as f16.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t --prefix --buffer-dtype U8 --dtype f16
// RUN: tvc-import %t -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DDIR=%t
// RUN: grep -c "tvc.global" %t/model.mlir | FileCheck %s --check-prefix=NGLOBALS
// RUN: tvc-opt %t/model.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT

// SUMMARY-NOT: error
// SUMMARY: tvc-import: gpt2, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}5 layer_norm
// SUMMARY-DAG: {{[ :,]}}8 linear
// SUMMARY-DAG: {{[ :,]}}2 split
// SUMMARY-DAG: {{[ :,]}}1 lm_head
// SUMMARY-DAG: {{[ :,]}}0 unsupported

// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @transformer.wte.weight : tensor<256x64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "transformer.wte.weight">
// CHECK-DAG: tvc.global @transformer.wpe.weight : tensor<64x64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "transformer.wpe.weight">
// CHECK-DAG: tvc.global @transformer.h.0.attn.c_attn.weight : tensor<64x192xf16> = #tvc.external<"[[DIR]]/model.safetensors", "transformer.h.0.attn.c_attn.weight">
// CHECK-DAG: tvc.global @transformer.h.1.mlp.c_proj.weight : tensor<256x64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "transformer.h.1.mlp.c_proj.weight">
// CHECK-DAG: tvc.global @transformer.ln_f.bias : tensor<64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "transformer.ln_f.bias">
// CHECK-LABEL: func.func @forward(
// CHECK-DAG: %[[WTE:.*]] = tvc.weight @transformer.wte.weight : tensor<256x64xf16>
// CHECK-DAG: tvc.embedding %[[WTE]], %{{[^ ]+}} : tensor<256x64xf16>, tensor<1x?xi64>
// CHECK: tvc.layer 0 (
// CHECK: %[[QKV:.*]] = tvc.linear %{{[^ ]+}}, %{{[^ ]+}} bias %{{[^ ]+}} structure(#tvc.dense<in_out>) : ({{[^,]+}}, tensor<64x192xf16>, tensor<192xf16>)
// CHECK: tvc.split %[[QKV]] sizes [64, 64, 64]
// CHECK: tvc.layer 1 (
// CHECK: tvc.weight @transformer.h.1.attn.c_attn.weight : tensor<64x192xf16>
// CHECK: tvc.lm_head %{{[^ ]+}}, %[[WTE]] :

/// 32 tensors less the 4 buffers (U8 attn.bias, F32 attn.masked_bias).
// NGLOBALS: {{^}}28{{$}}

// OPT-LABEL: func.func @forward
// OPT: tvc.lm_head
