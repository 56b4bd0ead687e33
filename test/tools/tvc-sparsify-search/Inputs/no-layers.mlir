// A model with attention but no tvc.layer: nothing to choose masks for.
func.func @forward(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %a = tvc.attention %x, %x, %x heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
  return %a : tensor<1x?x8xf32>
}
