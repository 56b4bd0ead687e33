// Which linears an adapter targets follows PEFT's rules: a target_modules
// string is a regular expression (Python syntax such as \d and (?:...)
// included) that must match the whole module name; "all-linear" takes every
// linear; list entries match a name's last parts, restricted by
// layers_to_transform (with or without layers_pattern) and reduced by
// exclude_modules. Inputs/make_lora_adapter.py writes tensors for the
// modules PEFT would adapt (by Python's re), so every import below succeeds
// and the summary counts the #tvc.lora linears among the 14.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/regex --set 'target_modules=model\.layers\.\d+\.mlp\.(?:gate|up)_proj' --set rank_pattern={}
// RUN: tvc-import %t/base --lora %t/regex -o %t/regex.mlir 2>&1 | FileCheck %s --check-prefix=REGEX
// RUN: grep -c 'tvc.weight @base_model.model.model.layers.[01].mlp.gate_proj.lora_A' %t/regex.mlir | FileCheck %s --check-prefix=TWO
// REGEX: 14 linear (4 lora)
// TWO: {{^}}2{{$}}
//
/// A bracket expression; the regex is anchored at both ends.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/partial --set 'target_modules=.*layers\.1\.self_attn\.[qk]_proj' --set rank_pattern={}
// RUN: tvc-import %t/base --lora %t/partial -o %t/partial.mlir 2>&1 | FileCheck %s --check-prefix=PARTIAL
// PARTIAL: 14 linear (2 lora)
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/all --set target_modules=all-linear
// RUN: tvc-import %t/base --lora %t/all -o %t/all.mlir 2>&1 | FileCheck %s --check-prefix=ALL
// ALL: 14 linear (14 lora)
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/layer1 --set layers_to_transform=[1]
// RUN: tvc-import %t/base --lora %t/layer1 -o %t/layer1.mlir 2>&1 | FileCheck %s --check-prefix=LAYER1
// RUN: FileCheck %s --check-prefix=LAYER1-IR < %t/layer1.mlir
// LAYER1: 14 linear (5 lora)
// LAYER1-IR-NOT: @base_model.model.model.layers.0.
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/layer0 --set layers_to_transform=0 --set layers_pattern=layers
// RUN: tvc-import %t/base --lora %t/layer0 -o %t/layer0.mlir 2>&1 | FileCheck %s --check-prefix=LAYER0
// LAYER0: 14 linear (5 lora)
//
/// A full module name bypasses layers_to_transform, as in PEFT.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/full --set 'target_modules=["model.layers.0.self_attn.k_proj", "q_proj"]' --set layers_to_transform=[1]
// RUN: tvc-import %t/base --lora %t/full -o %t/full.mlir 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: 14 linear (2 lora)
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/exclude --set 'exclude_modules=["o_proj", "model.layers.1.mlp.up_proj"]'
// RUN: tvc-import %t/base --lora %t/exclude -o %t/exclude.mlir 2>&1 | FileCheck %s --check-prefix=EXCLUDE
// EXCLUDE: 14 linear (7 lora)
//
/// fan_in_fan_out is meaningless for nn.Linear (PEFT resets it), so it is
/// accepted.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/fan --set fan_in_fan_out=true --set modules_to_save=[]
// RUN: tvc-import %t/base --lora %t/fan -o %t/fan.mlir 2>&1 | FileCheck %s --check-prefix=FAN
// FAN: 14 linear (10 lora)
