// RUN: tvc-opt %s '-tvc-prune=format=auto' | FileCheck %s
// RUN: tvc-opt %s '-tvc-prune=format=auto workload=prefill' | FileCheck %s --check-prefix=PREFILL
// RUN: tvc-opt %s '-tvc-prune=format=auto report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: not tvc-opt %s '-tvc-prune=format=auto workload=train' 2>&1 | FileCheck %s --check-prefix=WORKLOAD
// RUN: not tvc-opt %s '-tvc-prune=format=auto target=cuda' 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not tvc-opt %s '-tvc-prune=format=auto strategy=heads' 2>&1 | FileCheck %s --check-prefix=STRUCTURED

/// format=auto asks the CPU cost model per matrix: for decode, the 2:4
/// kernel wins on rows of 256 inputs (@wide stays compressed) and loses on
/// rows of 128 (@narrow is stored masked, dense kernel); for prefill it
/// never wins.
tvc.global @wide : tensor<4x256xf32> = dense<1.0> : tensor<4x256xf32>
tvc.global @narrow : tensor<4x128xf32> = dense<1.0> : tensor<4x128xf32>
// CHECK-LABEL: func.func @auto_format
// PREFILL-LABEL: func.func @auto_format
func.func @auto_format(%x: tensor<1x256xf32>, %z: tensor<1x128xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  // CHECK: tvc.linear %{{.*}}, %{{.*}}, %{{.*}} structure(#tvc.sparse_nm<n = 2, m = 4>) : (tensor<1x256xf32>, tensor<4x128xf32>, tensor<4x32xi8>) -> tensor<1x4xf32>
  // CHECK: %[[M:.*]] = tvc.weight @narrow.2to4_masked : tensor<4x128xf32>
  // CHECK: tvc.linear %{{.*}}, %[[M]] : (tensor<1x128xf32>, tensor<4x128xf32>) -> tensor<1x4xf32>
  // PREFILL: tvc.weight @wide.2to4_masked : tensor<4x256xf32>
  // PREFILL: tvc.weight @narrow.2to4_masked : tensor<4x128xf32>
  // PREFILL-NOT: sparse_nm
  %w = tvc.weight @wide : tensor<4x256xf32>
  %n = tvc.weight @narrow : tensor<4x128xf32>
  %y = tvc.linear %x, %w : (tensor<1x256xf32>, tensor<4x256xf32>) -> tensor<1x4xf32>
  %v = tvc.linear %z, %n : (tensor<1x128xf32>, tensor<4x128xf32>) -> tensor<1x4xf32>
  return %y, %v : tensor<1x4xf32>, tensor<1x4xf32>
}
// REPORT: remark: pruned to 2:4: @wide [4 x 256], 512 of 1024 weights kept, 4096 -> 2176 bytes
// REPORT: remark: pruned to 2:4 (masked: on the CPU the dense kernel is faster for decode at input width 128): @narrow [4 x 128], 256 of 512 weights kept, stored dense
// REPORT: remark: tvc-prune: 2 linears pruned to 2:4 (1 masked by the cost model), 0 left alone; their distinct weights 6144 -> 4224 bytes
// WORKLOAD: error: tvc-prune: expects 'workload' decode or prefill, got 'train'
// TARGET: error: tvc-prune: no 2:4 cost model for target 'cuda' (known: cpu)
// STRUCTURED: error: tvc-prune: format=auto chooses between the 2:4 and the dense kernel (strategy=nm); heads always shrinks the weights
