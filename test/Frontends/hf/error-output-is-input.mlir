// -o naming one of the checkpoint's own files is refused, however the path
// is spelled, and the file is left untouched.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t %t.orig && mkdir -p %t.orig && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: cp %t/config.json %t/model.safetensors %t.orig
//
// RUN: not tvc-import %t -o %t/config.json 2>&1 | FileCheck %s
// RUN: cmp %t/config.json %t.orig/config.json
// RUN: not tvc-import %t -o %t/model.safetensors 2>&1 | FileCheck %s
// RUN: cmp %t/model.safetensors %t.orig/model.safetensors
// RUN: not tvc-import %t -o %t/./model.safetensors 2>&1 | FileCheck %s
// RUN: not tvc-import %t -o %t/../%basename_t.tmp/model.safetensors 2>&1 | FileCheck %s
// RUN: cmp %t/model.safetensors %t.orig/model.safetensors
// RUN: not tvc-import %t --emit-bytecode -o %t/model.safetensors 2>&1 | FileCheck %s
// RUN: cmp %t/model.safetensors %t.orig/model.safetensors
//
// Sharded: the index and a shard.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --shards 2
// RUN: cp %t/model.safetensors.index.json %t/model-00002-of-00002.safetensors %t.orig
// RUN: not tvc-import %t -o %t/model.safetensors.index.json 2>&1 | FileCheck %s
// RUN: cmp %t/model.safetensors.index.json %t.orig/model.safetensors.index.json
// RUN: not tvc-import %t -o %t/model-00002-of-00002.safetensors 2>&1 | FileCheck %s
// RUN: cmp %t/model-00002-of-00002.safetensors %t.orig/model-00002-of-00002.safetensors

/// The message says why, and names the path as given.
// CHECK: tvc-import: error: {{.*}}over an input file
