// An attribute the tvc dialect does not define, in a mask position.
// Used by ../malformed-input.mlir.
func.func @unknown_mask(%query: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %out = tvc.attention %query, %query, %query heads 2 kv_heads 2 mask(#tvc.nonsense) : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
  return %out : tensor<1x4x8xf32>
}
