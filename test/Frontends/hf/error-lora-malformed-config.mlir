// adapter_config.json that is not JSON or not an object, that asks for what
// #tvc.lora cannot compute (DoRA, trained biases, modules_to_save, another
// PEFT method), that lacks r, or that uses Python regular-expression syntax
// without a POSIX equivalent: each is an error naming the file, with every
// problem of the file in one message; no output file is written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/truncated
// RUN: printf '{"peft_type": "LORA", "r": 4,' > %t/truncated/adapter_config.json
// RUN: not tvc-import %t/base --lora %t/truncated -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=JSON
// RUN: not test -e %t/out.mlir
// JSON: tvc-import: error: {{.*}}truncated{{/|\\}}adapter_config.json: invalid JSON
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/array
// RUN: printf '["LORA"]\n' > %t/array/adapter_config.json
// RUN: not tvc-import %t/base --lora %t/array -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=ARRAY
// ARRAY: tvc-import: error: {{.*}}array{{/|\\}}adapter_config.json: expected a JSON object at the top level
//
/// Five problems, one message.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/many --config-set peft_type=IA3 --config-set r=null --config-set use_dora=true --config-set bias=lora_only --config-set 'modules_to_save=["lm_head"]'
// RUN: not tvc-import %t/base --lora %t/many -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MANY
// RUN: not test -e %t/out.mlir
// MANY: tvc-import: error: {{.*}}many{{/|\\}}adapter_config.json: 5 problems:
// MANY-NEXT: peft_type 'IA3' is not supported (only LORA)
// MANY-NEXT: 'r' must be a positive integer
// MANY-NEXT: use_dora is true: DoRA (weight-decomposed LoRA) is not supported
// MANY-NEXT: bias 'lora_only' is not supported (only "none": the adapter may not train biases)
// MANY-NEXT: modules_to_save is not empty: the adapter replaces whole modules, which is not supported
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/lookahead --set 'target_modules=(?!.*k_proj).*_proj'
// RUN: not tvc-import %t/base --lora %t/lookahead -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=REGEX
// REGEX: tvc-import: error: {{.*}}adapter_config.json: target_modules '(?!.*k_proj).*_proj' is not a regular expression this reader understands: '(?' groups other than (?:...) (lookarounds, named groups, flags) are not supported
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/notargets --config-set target_modules=null --config-set layers_to_transform=one --config-set 'rank_pattern={"q_proj": 0}'
// RUN: not tvc-import %t/base --lora %t/notargets -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=FIELDS
// FIELDS: tvc-import: error: {{.*}}adapter_config.json: 3 problems:
// FIELDS-DAG: 'target_modules' is missing or null
// FIELDS-DAG: 'layers_to_transform' must be an integer or a list of integers
// FIELDS-DAG: rank_pattern['q_proj'] must be a positive integer
//
/// PEFT takes the first matching rank_pattern key in file order; two keys
/// with different values for one module are refused.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/ambiguous --set 'rank_pattern={"q_proj": 4, "self_attn.q_proj": 8}'
// RUN: not tvc-import %t/base --lora %t/ambiguous -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=AMBIGUOUS
// AMBIGUOUS: tvc-import: error: the LoRA adapter does not fit the llama model (2 problem(s)):
// AMBIGUOUS-NEXT: adapter_config.json: rank_pattern keys 'q_proj' and 'self_attn.q_proj' both match module 'model.layers.0.self_attn.q_proj' with different values
// AMBIGUOUS-NEXT: adapter_config.json: rank_pattern keys 'q_proj' and 'self_attn.q_proj' both match module 'model.layers.1.self_attn.q_proj' with different values
//
/// fan_in_fan_out is accepted either way (it does not change how PEFT
/// stores A and B) but must be a boolean.
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/fanin --config-set fan_in_fan_out=yes
// RUN: not tvc-import %t/base --lora %t/fanin -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=FANIN
// RUN: not test -e %t/out.mlir
// FANIN: tvc-import: error: {{.*}}fanin{{/|\\}}adapter_config.json: 'fan_in_fan_out' must be a boolean
