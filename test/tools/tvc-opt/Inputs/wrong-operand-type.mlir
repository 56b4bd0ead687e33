// tvc.silu on an i32 tensor: tvc activations take float tensors.
// Used by ../malformed-input.mlir.
func.func @silu_of_integers(%hidden: tensor<1x4x8xi32>) -> tensor<1x4x8xi32> {
  %out = tvc.silu %hidden : tensor<1x4x8xi32>
  return %out : tensor<1x4x8xi32>
}
