// A LLaMA checkpoint sharded over two files with model.safetensors.index.json
// imports to the same module as the single-file checkpoint, apart from the
// file each global names: the shard the index maps its key to.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/single
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/sharded --shards 2
// RUN: tvc-import %t/single -o %t/single.mlir --quiet
// RUN: tvc-import %t/sharded -o %t/sharded.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/sharded.mlir -DDIR=%t/sharded
// RUN: tvc-opt %t/sharded.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT
//
// Same ops, types and globals once the file names are normalized.
// RUN: sed -e 's|%t/single/model.safetensors|WEIGHTS|' %t/single.mlir > %t/single.norm
// RUN: sed -e 's|%t/sharded/model-0000[12]-of-00002.safetensors|WEIGHTS|' %t/sharded.mlir > %t/sharded.norm
// RUN: diff %t/single.norm %t/sharded.norm
// RUN: grep -c "WEIGHTS" %t/sharded.norm | FileCheck %s --check-prefix=NGLOBALS

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-DAG: {{[ :,]}}2 attention
// SUMMARY-DAG: {{[ :,]}}5 rms_norm
// SUMMARY-DAG: {{[ :,]}}14 linear
// SUMMARY-DAG: {{[ :,]}}4 rope
// SUMMARY-DAG: {{[ :,]}}2 glu
// SUMMARY-DAG: {{[ :,]}}1 lm_head
// SUMMARY-DAG: {{[ :,]}}0 unsupported

/// Inputs/make_hf_checkpoint.py splits the tensors in module order: the
/// embedding and layer 0 land in the first shard, the head in the second.
// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @model.embed_tokens.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model-00001-of-00002.safetensors", "model.embed_tokens.weight">
// CHECK-DAG: tvc.global @model.layers.0.self_attn.q_proj.weight : tensor<64x64xf32> = #tvc.external<"[[DIR]]/model-00001-of-00002.safetensors", "model.layers.0.self_attn.q_proj.weight">
// CHECK-DAG: tvc.global @model.norm.weight : tensor<64xf32> = #tvc.external<"[[DIR]]/model-00002-of-00002.safetensors", "model.norm.weight">
// CHECK-DAG: tvc.global @lm_head.weight : tensor<256x64xf32> = #tvc.external<"[[DIR]]/model-00002-of-00002.safetensors", "lm_head.weight">
// CHECK-NOT: "[[DIR]]/model.safetensors"
// CHECK-LABEL: func.func @forward(
// CHECK-COUNT-2: tvc.attention %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// CHECK: tvc.lm_head

// NGLOBALS: {{^}}21{{$}}

// OPT-LABEL: func.func @forward
// OPT: tvc.lm_head
