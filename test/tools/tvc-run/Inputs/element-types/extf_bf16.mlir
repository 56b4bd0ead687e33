// bfloat16 -> float (exact).
#map = affine_map<(d0) -> (d0)>
func.func @extf_bf16(%x: tensor<4xbf16>) -> tensor<4xf32> {
  %init = tensor.empty() : tensor<4xf32>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<4xbf16>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %e = arith.extf %in : bf16 to f32
    linalg.yield %e : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}
