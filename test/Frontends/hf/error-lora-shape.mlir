// Adapter tensors whose shape disagrees with the base module and the rank
// of adapter_config.json, or whose dtype is not the model's: an error
// naming the file, the key and both shapes (or dtypes), every such tensor
// in one message; no output file is written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
//
/// One A with a row too many; one B with a row too many (out + 1).
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/corrupt --corrupt-shape base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight --corrupt-shape base_model.model.model.layers.1.mlp.up_proj.lora_B.weight
// RUN: not tvc-import %t/base --lora %t/corrupt -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=CORRUPT
// RUN: not test -e %t/out.mlir
// CORRUPT: tvc-import: error: the LoRA adapter does not fit the llama model (2 problem(s)):
// CORRUPT-NEXT: corrupt{{/|\\}}adapter_model.safetensors: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [5, 64], the rank 4 and the module's [64 x 64] weight imply [4, 64]
// CORRUPT-NEXT: corrupt{{/|\\}}adapter_model.safetensors: tensor 'base_model.model.model.layers.1.mlp.up_proj.lora_B.weight' has shape [177, 4], the rank 4 and the module's [176 x 64] weight imply [176, 4]
//
/// The tensors were saved with rank 16 for down_proj, the config lost its
/// rank_pattern: both factors of both layers disagree.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/rank --config-set 'rank_pattern={}'
// RUN: not tvc-import %t/base --lora %t/rank -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not test -e %t/out.mlir
// RANK: tvc-import: error: the LoRA adapter does not fit the llama model (4 problem(s)):
// RANK-NEXT: tensor 'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight' has shape [16, 176], the rank 4 and the module's [64 x 176] weight imply [4, 176]
// RANK-NEXT: tensor 'base_model.model.model.layers.0.mlp.down_proj.lora_B.weight' has shape [64, 16], the rank 4 and the module's [64 x 176] weight imply [64, 4]
// RANK-NEXT: layers.1.mlp.down_proj.lora_A.weight' has shape [16, 176]
// RANK-NEXT: layers.1.mlp.down_proj.lora_B.weight' has shape [64, 16]
//
/// An f16 adapter on an f32 model: 20 tensors, 12 listed.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/f16 --dtype f16
// RUN: not tvc-import %t/base --lora %t/f16 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not test -e %t/out.mlir
// DTYPE: tvc-import: error: the LoRA adapter does not fit the llama model (20 problem(s)):
// DTYPE-NEXT: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' is F16, the model is F32 (mixed dtypes are not supported)
// DTYPE: ... and 8 more
