// Input of prune-layers.mlir: a layer whose result is not its first
// input's type cannot be bypassed by tvc-prune=strategy=layers.
tvc.global @wide : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
func.func @not_residual(%x: tensor<2x4xf32>) -> tensor<2x8xf32> {
  %h = tvc.layer 0 (%x) : (tensor<2x4xf32>) -> tensor<2x8xf32> {
  ^bb0(%in: tensor<2x4xf32>):
    %w = tvc.weight @wide : tensor<8x4xf32>
    %y = tvc.linear %in, %w : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
    tvc.yield %y : tensor<2x8xf32>
  }
  return %h : tensor<2x8xf32>
}
