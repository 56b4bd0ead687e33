// y[1] = x[2] . x[2] through tvc_kernel_linear_f32 (m = rows, n = 1, k = 2,
// x as both input and weight) with rows = -1, which the kernel rejects
// (invalid argument): kernel-failure.test runs it, and a copy with rows = 1
// as the control.
func.func @forward(%x: tensor<2xf32>) -> tensor<1xf32> {
  %init = tensor.empty() : tensor<1xf32>
  %rows = arith.constant -1 : i64
  %one = arith.constant 1 : i64
  %two = arith.constant 2 : i64
  %flags = arith.constant 0 : i64
  %y = tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %x, %x : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%init : tensor<1xf32>) scalars(%rows, %one, %two, %flags : i64, i64, i64, i64) -> tensor<1xf32>
  return %y : tensor<1xf32>
}
