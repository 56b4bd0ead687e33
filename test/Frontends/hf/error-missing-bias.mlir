// Qwen2's q/k/v projections always have biases (Qwen2Attention builds them
// with bias=True; there is no config switch). A checkpoint that lacks one is
// incomplete and must be refused, not imported without that bias.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py qwen2 %t --drop model.layers.0.self_attn.q_proj.bias
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}'model.layers.0.self_attn.q_proj.bias'
