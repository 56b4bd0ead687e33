// model.safetensors.index.json maps keys to a shard that is not there; the
// error names the shard and no output file is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --shards 2
// RUN: rm %t/model-00002-of-00002.safetensors
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}model-00002-of-00002.safetensors{{.*}}
