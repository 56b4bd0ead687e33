// An op the tvc dialect does not define. Used by ../malformed-input.mlir.
func.func @unknown_op(%hidden: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %out = tvc.frobnicate %hidden : tensor<1x4x8xf32>
  return %out : tensor<1x4x8xf32>
}
