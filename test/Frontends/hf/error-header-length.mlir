// A safetensors header length that lies: far beyond the file, or shorter
// than the JSON header (which then ends mid-object). No output is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --header-length 1099511627776
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=LONG
// RUN: not test -e %t/out.mlir
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --header-length 16
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not test -e %t/out.mlir
//
// In the first shard of a sharded checkpoint.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --shards 2 --header-length 1099511627776
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHARD
// RUN: not test -e %t/out.mlir

// LONG: tvc-import: error: {{.*}}model.safetensors: header length 1099511627776 exceeds file size
// SHORT: tvc-import: error: {{.*}}model.safetensors: header is not valid JSON
// SHARD: tvc-import: error: {{.*}}model-00001-of-00002.safetensors: header length 1099511627776 exceeds file size
