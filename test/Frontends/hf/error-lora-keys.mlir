// Adapter tensors and adapter_config.json must describe the same modules of
// the base model: a targeted module without its lora_A/lora_B tensor,
// tensors for a module that is not a linear of the model (lm_head, a layer
// that does not exist) or that the config does not target, a tensor that is
// not a LoRA factor (a DoRA magnitude, a key without PEFT's prefix), and a
// target_modules entry that names nothing are all reported in one message;
// no output file is written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/adapter --set 'target_modules=["q_proj", "v_proj", "o_proj", "up_proj", "down_proj", "qkv_proj"]' --drop base_model.model.model.layers.1.mlp.up_proj.lora_B.weight --drop base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight --drop base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight --extra base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight --extra base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight --extra base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight --extra base_model.model.lm_head.lora_A.weight --extra base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector --extra model.layers.0.self_attn.q_proj.lora_A.weight
// RUN: not tvc-import %t/base --lora %t/adapter -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: the LoRA adapter does not fit the llama model (8 problem(s)):
// CHECK-NEXT: adapter_model.safetensors: module 'model.layers.0.self_attn.o_proj' is targeted by adapter_config.json but the file has no 'base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight'
// CHECK-NEXT: adapter_model.safetensors: module 'model.layers.1.mlp.up_proj' is targeted by adapter_config.json but the file has no 'base_model.model.model.layers.1.mlp.up_proj.lora_B.weight'
// CHECK-NEXT: adapter_model.safetensors: adapter tensors for 'lm_head', which is not a linear layer of the base model
// CHECK-NEXT: adapter_model.safetensors: adapter tensors for 'model.layers.0.self_attn.k_proj', which adapter_config.json does not target
// CHECK-NEXT: adapter_model.safetensors: adapter tensors for 'model.layers.7.self_attn.q_proj', which is not a linear layer of the base model
// CHECK-NEXT: adapter_model.safetensors: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector' is not a LoRA weight ('base_model.model.<module>.lora_A.weight' or '.lora_B.weight'; DoRA magnitudes, embedding adapters and biases are not supported)
// CHECK-NEXT: adapter_model.safetensors: tensor 'model.layers.0.self_attn.q_proj.lora_A.weight' is not a LoRA weight
// CHECK-NEXT: adapter_config.json: target_modules entry 'qkv_proj' matches no linear layer of the base model
