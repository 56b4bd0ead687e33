// float -> bfloat16 (round to nearest even).
#map = affine_map<(d0) -> (d0)>
func.func @truncf_bf16(%x: tensor<4xf32>) -> tensor<4xbf16> {
  %init = tensor.empty() : tensor<4xbf16>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%init : tensor<4xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<4xbf16>
  return %y : tensor<4xbf16>
}
