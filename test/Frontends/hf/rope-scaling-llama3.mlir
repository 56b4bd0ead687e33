// Llama 3.1's rope_scaling ("llama3": factor, low/high_freq_factor,
// original_max_position_embeddings) is carried into every tvc.rope.
// rope_scaling types tvc has no kind for (here "longrope") are refused
// instead of being imported as plain RoPE; no output is written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --rope-scaling llama3:8.0
// RUN: tvc-import --quiet %t -o %t/out.mlir
// RUN: FileCheck %s --input-file=%t/out.mlir
// RUN: tvc-opt %t/out.mlir --tvc-check-weights --canonicalize | FileCheck %s
// CHECK-LABEL: func.func @forward
// CHECK-COUNT-4: tvc.rope %{{.*}} heads {{[24]}} theta 1.000000e+04 scaling <kind = llama3, factor = 8.000000e+00, original_max_positions = {{[0-9]+}}> :
//
// RUN: rm -rf %t.longrope && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t.longrope --rope-scaling longrope:4.0
// RUN: not tvc-import %t.longrope -o %t.longrope/out.mlir 2>&1 | FileCheck %s --check-prefix=REFUSED
// RUN: not test -e %t.longrope/out.mlir
// REFUSED: tvc-import: error: {{.*}}config.json: rope_scaling type 'longrope' is not supported (supported: default, linear, yarn, llama3)
