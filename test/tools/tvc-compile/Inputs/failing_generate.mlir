// prefill/decode entry points (one float KV "cache" [1, 8, 2], zeros) whose
// logits [1, 1, 2] come from tvc_kernel_linear_f32 over the cache: the
// prefill's row count is -1, which the kernel rejects; kernel-failure.test
// also runs copies with it 1 (the control, greedy tokens 0) and with the
// decode's -1 instead.
func.func @tiny_prefill(%ids: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 8>}, %positions: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 8>}, %past: tensor<i64>, %cache: tensor<1x8x2xf32> {tvc.kv_cache}) -> (tensor<1x1x2xf32>, tensor<1x8x2xf32> {tvc.updates_arg = 3 : i64}) {
  %init = tensor.empty() : tensor<1x1x2xf32>
  %prefill_rows = arith.constant -1 : i64
  %n = arith.constant 2 : i64
  %k = arith.constant 2 : i64
  %flags = arith.constant 0 : i64
  %logits = tvc.kernel_call "tvc_kernel_linear_f32" ins(%cache, %cache, %cache : tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>) outs(%init : tensor<1x1x2xf32>) scalars(%prefill_rows, %n, %k, %flags : i64, i64, i64, i64) -> tensor<1x1x2xf32>
  return %logits, %cache : tensor<1x1x2xf32>, tensor<1x8x2xf32>
}
func.func @tiny_decode(%ids: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 8>}, %positions: tensor<1x?xi64> {tvc.max_shape = array<i64: 1, 8>}, %past: tensor<i64>, %cache: tensor<1x8x2xf32> {tvc.kv_cache}) -> (tensor<1x1x2xf32>, tensor<1x8x2xf32> {tvc.updates_arg = 3 : i64}) {
  %init = tensor.empty() : tensor<1x1x2xf32>
  %decode_rows = arith.constant 1 : i64
  %n = arith.constant 2 : i64
  %k = arith.constant 2 : i64
  %flags = arith.constant 0 : i64
  %logits = tvc.kernel_call "tvc_kernel_linear_f32" ins(%cache, %cache, %cache : tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>) outs(%init : tensor<1x1x2xf32>) scalars(%decode_rows, %n, %k, %flags : i64, i64, i64, i64) -> tensor<1x1x2xf32>
  return %logits, %cache : tensor<1x1x2xf32>, tensor<1x8x2xf32>
}
