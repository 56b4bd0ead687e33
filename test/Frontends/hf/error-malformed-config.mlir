// config.json that is not JSON, not an object, lacks a required field, has
// a field of the wrong type, or describes an impossible head layout: each is
// an error naming config.json, and no output file is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// Truncated JSON.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/truncated
// RUN: printf '{"model_type": "llama", "hidden_size": 64,' > %t/truncated/config.json
// RUN: not tvc-import %t/truncated -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=JSON
// RUN: not test -e %t/out.mlir
//
// A JSON array, not an object.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/array
// RUN: printf '[1, 2]\n' > %t/array/config.json
// RUN: not tvc-import %t/array -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=ARRAY
// RUN: not test -e %t/out.mlir
//
// No num_hidden_layers.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/missing-field --unset num_hidden_layers
// RUN: not tvc-import %t/missing-field -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: not test -e %t/out.mlir
//
// num_attention_heads is a string.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/wrong-type --set 'num_attention_heads="four"'
// RUN: not tvc-import %t/wrong-type -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not test -e %t/out.mlir
//
// 3 KV heads cannot serve 4 query heads.
// RUN: /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/kv-heads --set num_key_value_heads=3
// RUN: not tvc-import %t/kv-heads -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: not test -e %t/out.mlir

// JSON: tvc-import: error: {{.*}}truncated{{/|\\}}config.json: {{.*}}JSON
// ARRAY: tvc-import: error: {{.*}}array{{/|\\}}config.json: {{.*}}object
// FIELD: tvc-import: error: {{.*}}config.json: {{.*}}'num_hidden_layers'
// TYPE: tvc-import: error: {{.*}}config.json: {{.*}}'num_attention_heads'
// HEADS: tvc-import: error: {{.*}}config.json: {{.*}}num_key_value_heads 3{{.*}}num_attention_heads 4
