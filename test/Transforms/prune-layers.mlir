// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=layers layers=0,2' | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-prune=strategy=layers layers=0,2 report' -mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: not tvc-opt %s -split-input-file '-tvc-prune=strategy=layers layers=3' 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tvc-opt %s -split-input-file -tvc-prune=strategy=layers 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not tvc-opt %s -split-input-file -tvc-prune=strategy=rows 2>&1 | FileCheck %s --check-prefix=STRATEGY
// RUN: not tvc-opt %S/Inputs/prune-not-residual.mlir '-tvc-prune=strategy=layers layers=0' 2>&1 | FileCheck %s --check-prefix=RESIDUAL
// RESIDUAL: error: tvc-prune: cannot remove layer 0: it must have one result of its first input's type (the residual stream), got 1 result(s)

/// strategy=layers removes layers 0 and 2: layer 1 reads the function's
/// input, the function returns layer 1's result, and the weights only the
/// removed layers read go (the shared one stays).
tvc.global @l0 : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
tvc.global @l1 : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
tvc.global @l2 : tensor<4x4xf32> = dense<1.0> : tensor<4x4xf32>
tvc.global @shared : tensor<4xf32> = dense<0.5> : tensor<4xf32>
// CHECK-NOT: tvc.global @l0
// CHECK: tvc.global @l1
// CHECK-NOT: tvc.global @l2
// CHECK: tvc.global @shared
// CHECK-LABEL: func.func @prune_layers_residual
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
func.func @prune_layers_residual(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK-NOT: tvc.layer 0
  // CHECK: %[[H:.*]] = tvc.layer 1 (%[[X]])
  // CHECK-NOT: tvc.layer 2
  // CHECK: return %[[H]]
  %h0 = tvc.layer 0 (%x) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @l0 : tensor<4x4xf32>
    %b = tvc.weight @shared : tensor<4xf32>
    %y = tvc.linear %in, %w bias %b : (tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    tvc.yield %y : tensor<2x4xf32>
  }
  %h1 = tvc.layer 1 (%h0) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @l1 : tensor<4x4xf32>
    %b = tvc.weight @shared : tensor<4xf32>
    %y = tvc.linear %in, %w bias %b : (tensor<2x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    tvc.yield %y : tensor<2x4xf32>
  }
  %h2 = tvc.layer 2 (%h1) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @l2 : tensor<4x4xf32>
    %y = tvc.linear %in, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    tvc.yield %y : tensor<2x4xf32>
  }
  return %h2 : tensor<2x4xf32>
}
// REPORT: remark: removed layer 0
// REPORT: remark: removed layer 2
// REPORT: remark: tvc-prune: 2 layers removed, 2 weights (128 bytes) with them
// MISSING: error: tvc-prune: there is no tvc.layer 3 to remove
// EMPTY: error: tvc-prune: strategy=layers needs the layers to remove ('layers=3,5')
// STRATEGY: error: tvc-prune: expects 'strategy' nm, heads, channels or layers, got 'rows'
