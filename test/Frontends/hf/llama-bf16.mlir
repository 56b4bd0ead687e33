// Half-precision checkpoints: the globals take the element type stored in
// the safetensors file (BF16 -> bf16, F16 -> f16), and tvc-check-weights
// confirms that the declared types match the files.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/bf16 --dtype bf16
// RUN: tvc-import %t/bf16 -o %t/bf16.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/bf16.mlir -DDIR=%t/bf16
// RUN: tvc-opt %t/bf16.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
// RUN: grep -c "tvc.global.*xbf16> = " %t/bf16.mlir | FileCheck %s --check-prefix=NGLOBALS
//
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/f16 --dtype f16
// RUN: tvc-import %t/f16 -o %t/f16.mlir --quiet
// RUN: FileCheck %s --input-file=%t/f16.mlir -DDIR=%t/f16 --check-prefix=F16
// RUN: tvc-opt %t/f16.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
// RUN: grep -c "tvc.global.*xf16> = " %t/f16.mlir | FileCheck %s --check-prefix=NGLOBALS

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}0 unsupported

/// No f32 weight anywhere.
// CHECK-LABEL: module {
// CHECK-NOT: xf32> =
// CHECK: tvc.global @model.embed_tokens.weight : tensor<256x64xbf16> = #tvc.external<"[[DIR]]/model.safetensors", "model.embed_tokens.weight">
// CHECK-NOT: xf32> =
// CHECK: tvc.global @model.layers.0.self_attn.k_proj.weight : tensor<32x64xbf16> = #tvc.external<"[[DIR]]/model.safetensors", "model.layers.0.self_attn.k_proj.weight">
// CHECK-NOT: xf32> =
// CHECK: tvc.global @lm_head.weight : tensor<256x64xbf16> = #tvc.external<"[[DIR]]/model.safetensors", "lm_head.weight">
// CHECK-NOT: xf32> =
// CHECK-LABEL: func.func @forward(
// CHECK-DAG: %[[EMBED_W:.*]] = tvc.weight @model.embed_tokens.weight : tensor<256x64xbf16>
// CHECK-DAG: tvc.embedding %[[EMBED_W]], %{{[^ ]+}} : tensor<256x64xbf16>, tensor<1x?xi64>
// CHECK: tvc.layer 0 (
// CHECK: tvc.weight @model.layers.0.input_layernorm.weight : tensor<64xbf16>
// CHECK: tvc.weight @model.layers.0.self_attn.q_proj.weight : tensor<64x64xbf16>
// CHECK: tvc.weight @model.layers.0.mlp.down_proj.weight : tensor<64x176xbf16>
// CHECK: tvc.weight @lm_head.weight : tensor<256x64xbf16>
// CHECK: tvc.lm_head %{{.*}} : {{.*}}, tensor<256x64xbf16>

// F16-LABEL: module {
// F16-NOT: xf32> =
// F16: tvc.global @model.embed_tokens.weight : tensor<256x64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "model.embed_tokens.weight">
// F16-NOT: xf32> =
// F16: tvc.global @lm_head.weight : tensor<256x64xf16> = #tvc.external<"[[DIR]]/model.safetensors", "lm_head.weight">
// F16-NOT: xf32> =
// F16-LABEL: func.func @forward(
// F16: tvc.lm_head %{{.*}} : {{.*}}, tensor<256x64xf16>

// NGLOBALS: {{^}}21{{$}}

// OPT-LABEL: func.func @forward
// OPT: tvc.lm_head
