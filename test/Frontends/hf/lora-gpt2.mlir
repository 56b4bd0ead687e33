// tvc-import --lora on GPT-2: PEFT's adapter for GPT2LMHeadModel
// (Inputs/make_lora_adapter.py's GPT-2 default: module names
// "transformer.h.N.<...>", fan_in_fan_out true, r 4, lora_alpha 8, targets
// c_attn, c_proj, c_fc, rank_pattern {"mlp.c_proj": 8}, alpha_pattern
// {"h.1.attn.c_attn": 3}) read onto the GPT-2 checkpoint of
// Inputs/make_hf_checkpoint.py, whose keys lack "transformer.". Each Conv1D
// becomes a #tvc.lora<..., in_out> linear: W stays the checkpoint's
// [in, out] tensor, A [r, in] and B [out, r] are PEFT's tensors in place;
// alpha is PEFT's scaling times r (8 / 4 = 2 -> alpha 8; mlp.c_proj
// 8 / 8 = 1 -> alpha 8; layer 1's c_attn 3 / 4 -> alpha 3). The fused
// c_attn is adapted whole, then split into q, k, v.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t/base
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/adapter
// RUN: tvc-import %t/base --lora %t/adapter -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir -DADIR=%t/adapter
// RUN: tvc-opt %t/model.mlir --tvc-check-weights -o /dev/null

// SUMMARY-NOT: error
// SUMMARY: tvc-import: gpt2, 2 layers
// SUMMARY-SAME: 8 linear (8 lora)
// SUMMARY-SAME: ; LoRA adapter on 8 linears

/// The adapter's tensors keep PEFT's keys and point into its file.
// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @base_model.model.transformer.h.0.attn.c_attn.lora_A.weight : tensor<4x64xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight">
// CHECK-DAG: tvc.global @base_model.model.transformer.h.0.attn.c_attn.lora_B.weight : tensor<192x4xf32> = #tvc.external<"[[ADIR]]/adapter_model.safetensors", "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight">
// CHECK-DAG: tvc.global @base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight : tensor<8x256xf32>
// CHECK-DAG: tvc.global @base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight : tensor<64x8xf32>

/// Layer 0: the base weights stay [in, out].
// CHECK-LABEL: tvc.layer 0
// CHECK: %[[QKVW:.*]] = tvc.weight @h.0.attn.c_attn.weight : tensor<64x192xf32>
// CHECK: %[[QKVB:.*]] = tvc.weight @h.0.attn.c_attn.bias : tensor<192xf32>
// CHECK: %[[QKVA:.*]] = tvc.weight @base_model.model.transformer.h.0.attn.c_attn.lora_A.weight : tensor<4x64xf32>
// CHECK: %[[QKVUP:.*]] = tvc.weight @base_model.model.transformer.h.0.attn.c_attn.lora_B.weight : tensor<192x4xf32>
// CHECK: %[[QKV:.*]] = tvc.linear %{{.*}}, %[[QKVW]], %[[QKVA]], %[[QKVUP]] bias %[[QKVB]] structure(#tvc.lora<rank = 4, alpha = 8.000000e+00, in_out>) : (tensor<1x?x64xf32>, tensor<64x192xf32>, tensor<4x64xf32>, tensor<192x4xf32>, tensor<192xf32>) -> tensor<1x?x192xf32>
// CHECK: tvc.split %[[QKV]]
// CHECK: structure(#tvc.lora<rank = 4, alpha = 8.000000e+00, in_out>) : (tensor<1x?x64xf32>, tensor<64x64xf32>, tensor<4x64xf32>, tensor<64x4xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
// CHECK: structure(#tvc.lora<rank = 4, alpha = 8.000000e+00, in_out>) : (tensor<1x?x64xf32>, tensor<64x256xf32>, tensor<4x64xf32>, tensor<256x4xf32>, tensor<256xf32>) -> tensor<1x?x256xf32>
// CHECK: structure(#tvc.lora<rank = 8, alpha = 8.000000e+00, in_out>) : (tensor<1x?x256xf32>, tensor<256x64xf32>, tensor<8x256xf32>, tensor<64x8xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>

/// Layer 1's c_attn has its own alpha.
// CHECK-LABEL: tvc.layer 1
// CHECK: structure(#tvc.lora<rank = 4, alpha = 3.000000e+00, in_out>) : (tensor<1x?x64xf32>, tensor<64x192xf32>

/// Both namings meet both checkpoints: a checkpoint with "transformer."
/// keys takes the same adapter, and an adapter of a wrapped GPT2Model
/// ("h.N" names) fits either checkpoint.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t/prefixed --prefix
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/bare --bare-gpt2
// RUN: tvc-import %t/prefixed --lora %t/adapter -o %t/prefixed.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: tvc-import %t/prefixed --lora %t/bare -o %t/prefixed-bare.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: tvc-import %t/base --lora %t/bare -o %t/bare.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/prefixed-bare.mlir --check-prefix=BARE
// BARE: tvc.weight @transformer.h.0.attn.c_attn.weight : tensor<64x192xf32>
// BARE: tvc.weight @base_model.model.h.0.attn.c_attn.lora_A.weight : tensor<4x64xf32>

/// layers_to_transform counts GPT-2's "h.N" layers in PEFT's names.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/layer1 --set layers_to_transform=[1] --set fan_in_fan_out=false
// RUN: tvc-import %t/base --lora %t/layer1 -o %t/layer1.mlir 2>&1 | FileCheck %s --check-prefix=LAYER1
// LAYER1: 8 linear (4 lora)

/// negative: a factor shaped for the wrong layout (B [in, r] instead of
/// [out, r]) is an error naming the Conv1D's [in, out] weight; nothing is
/// written.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/badshape --corrupt-shape base_model.model.transformer.h.0.attn.c_attn.lora_B.weight
// RUN: not tvc-import %t/base --lora %t/badshape -o %t/badshape.mlir 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not test -e %t/badshape.mlir
// SHAPE: tvc-import: error: the LoRA adapter does not fit the gpt2 model (1 problem(s)):
// SHAPE-NEXT: adapter_model.safetensors: tensor 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight' has shape [193, 4], the rank 4 and the module's [64 x 192] ([in, out]) weight imply [192, 4]
