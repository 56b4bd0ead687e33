// RUN: tvc-opt %s '-tvc-prune=score=activation calibration=%S/Inputs/prune-norms.safetensors' | FileCheck %s
// RUN: not tvc-opt %s -tvc-prune=score=activation 2>&1 | FileCheck %s --check-prefix=NO-FILE
// RUN: not tvc-opt %s '-tvc-prune=score=activation calibration=%t.missing' 2>&1 | FileCheck %s --check-prefix=MISSING-FILE
// RUN: not tvc-opt %s -tvc-prune=score=random 2>&1 | FileCheck %s --check-prefix=SCORE
// RUN: sed -e 's/@fc\b/@other/g' %s | not tvc-opt '-tvc-prune=score=activation calibration=%S/Inputs/prune-norms.safetensors' 2>&1 | FileCheck %s --check-prefix=NO-ENTRY
// RUN: sed -e 's/@fc\b/@short/g' %s | not tvc-opt '-tvc-prune=score=activation calibration=%S/Inputs/prune-norms.safetensors' 2>&1 | FileCheck %s --check-prefix=BAD-SHAPE

/// score=activation: |W| times the input channel's norm. Input channel 1
/// barely moves (norm 0.01), so in row 0's first group -3 loses to 2 and 1
/// (by magnitude it would win): kept values 1, 2 at positions 0, 2
/// (nibble 0x8); every other group as by magnitude (0x4, 0x4, 0xE).
tvc.global @fc : tensor<2x8xf32> = dense<[[1.0, -3.0, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0], [4.0, 4.0, -4.0, 1.0, 0.1, -0.2, 0.3, -0.4]]> : tensor<2x8xf32>
// CHECK-LABEL: func.func @prune_activation_aware_f32
func.func @prune_activation_aware_f32(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>)
  %w = tvc.weight @fc : tensor<2x8xf32>
  %y = tvc.linear %x, %w : (tensor<1x8xf32>, tensor<2x8xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
// Row 1's first group: channel 1 (norm 0.01) drops out of the 4/4/-4 tie:
// positions 0 and 2 (nibble 0x8), values 4, -4.
// CHECK: fc.2to4_values: "0x080000000000803F00000040000000000000000000008040000080C09A99993ECDCCCCBE"
// CHECK: fc.2to4_indices: "0x0800000048E8"
// NO-FILE: error: tvc-prune: score=activation needs a 'calibration' file (tvc-run --calibrate)
// MISSING-FILE: error: tvc-prune: {{.*}}.missing
// SCORE: error: tvc-prune: expects 'score' magnitude or activation, got 'random'
// NO-ENTRY: error: tvc-prune: {{.*}}prune-norms.safetensors has no input norms for @other; calibrate the same model
// BAD-SHAPE: error: tvc-prune: {{.*}}prune-norms.safetensors: the norms of @short must be F32 [8]
