// RUN: not tvc-opt %s -tvc-recompute-kv 2>&1 | FileCheck %s

/// The offload plan counts the caches a module has: recomputing after it
/// would leave the plan describing caches that are gone.
// CHECK: error: tvc-recompute-kv runs before tvc-plan-offload (this function's caches are planned)
func.func @f_decode(%x: tensor<1x1x8xf32>,
    %k: tensor<1x16x8xf32> {tvc.kv_cache, tvc.kv_placement = "resident"})
    -> tensor<1x1x8xf32> {
  return %x : tensor<1x1x8xf32>
}
