// RUN: not tvc-opt %s -tvc-premerge-ffn=policy=fast 2>&1 | FileCheck %s --check-prefix=POLICY
// RUN: not tvc-opt %s -tvc-premerge-ffn=workload=train 2>&1 | FileCheck %s --check-prefix=WORKLOAD
// RUN: not tvc-opt %s '-tvc-premerge-ffn=workload=prefill tokens=0' 2>&1 | FileCheck %s --check-prefix=TOKENS
// RUN: not tvc-opt %s '-tvc-premerge-ffn=policy=merge base-dir=%t.missing' 2>&1 | FileCheck %s --check-prefix=MISSING

// Option errors of tvc-premerge-ffn, reported before anything changes, and a
// factor whose bytes cannot be read.
// POLICY: error: tvc-premerge-ffn: expects 'policy' keep, merge or cost, got 'fast'
// WORKLOAD: error: tvc-premerge-ffn: expects 'workload' decode, prefill or auto, got 'train'
// TOKENS: error: tvc-premerge-ffn: expects 'tokens' (rows per prefill call) >= 1, got 0
// MISSING: error: tvc-premerge-ffn: {{.*}}missing.safetensors

tvc.global @v : tensor<2x4xf32> = #tvc.external<"missing.safetensors", "v">
tvc.global @u : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32>
func.func @premerge_unreadable(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %v = tvc.weight @v : tensor<2x4xf32>
  %u = tvc.weight @u : tensor<4x2xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<3x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
