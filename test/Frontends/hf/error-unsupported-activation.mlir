// GPT-2 with an activation_function the importer has no op for (relu) is
// refused rather than imported with the wrong nonlinearity.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t --set activation_function=relu
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}config.json: {{.*}}activation_function 'relu'
