// A tensor whose stored shape disagrees with config.json is an error naming
// the key and both shapes; no output file is written. Transposed weights
// are the realistic case: an nn.Linear [out, in] where GPT-2's Conv1D
// [in, out] is expected, and the reverse.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --corrupt-shape model.layers.1.self_attn.k_proj.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=LLAMA
// RUN: not test -e %t/out.mlir
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t --corrupt-shape h.1.attn.c_attn.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GPT2
// RUN: not test -e %t/out.mlir
//
// A norm scale one element too long.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --corrupt-shape model.norm.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NORM
// RUN: not test -e %t/out.mlir

// LLAMA: tvc-import: error: {{.*}}'model.layers.1.self_attn.k_proj.weight'{{.*}}[64, 32]{{.*}}[32, 64]
// GPT2: tvc-import: error: {{.*}}'h.1.attn.c_attn.weight'{{.*}}[192, 64]{{.*}}[64, 192]
// NORM: tvc-import: error: {{.*}}'model.norm.weight'{{.*}}[65]{{.*}}[64]
