// Signed maximum of two int16 tensors (maxsi: a signless i16 is int16).
#map = affine_map<(d0) -> (d0)>
func.func @max_i16(%lhs: tensor<3xi16>, %rhs: tensor<3xi16>) -> tensor<3xi16> {
  %init = tensor.empty() : tensor<3xi16>
  %max = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]} ins(%lhs, %rhs : tensor<3xi16>, tensor<3xi16>) outs(%init : tensor<3xi16>) {
  ^bb0(%a: i16, %b: i16, %out: i16):
    %m = arith.maxsi %a, %b : i16
    linalg.yield %m : i16
  } -> tensor<3xi16>
  return %max : tensor<3xi16>
}
