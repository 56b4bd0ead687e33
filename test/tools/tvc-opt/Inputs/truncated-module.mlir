// A tvc module cut in the middle of an op, as an interrupted write leaves it.
// Used by ../malformed-input.mlir.
tvc.global @wte : tensor<16x8xf32> = dense<0.0> : tensor<16x8xf32>
func.func @truncated(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  %wte = tvc.weight @wte : tensor<16x8xf32>
  %hidden = tvc.embedding %wte, %ids : tensor<16x8xf32>, tensor<1x4xi64>
  %logits = tvc.lm_head %hidden, 