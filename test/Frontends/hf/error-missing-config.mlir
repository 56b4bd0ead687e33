// A checkpoint directory without config.json, and a directory that does not
// exist, are errors; no output file is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: rm %t/config.json
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir
//
// RUN: not tvc-import %t/no-such-dir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NODIR
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}config.json{{.*}}No such file or directory
// CHECK-NOT: layers

// NODIR: tvc-import: error: {{.*}}no-such-dir{{.*}}
