// RUN: tvc-opt %s -split-input-file -convert-onnx-to-linalg | FileCheck %s

/// ReduceMean over the last axis with keepdims: a sum reduction, a division
/// by the axis size, and the unit dimension reinserted.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ROWS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @reduce_mean_keepdims
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 3.200000e+01 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x?xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROWS]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[ACC]] : tensor<1x?xf32>)
// CHECK: arith.addf
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<1x?xf32>)
// CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
// CHECK: tensor.expand_shape %[[MEAN]] {{\[\[}}0], [1, 2]] output_shape [1, %{{.*}}, 1] : tensor<1x?xf32> into tensor<1x?x1xf32>
func.func @reduce_mean_keepdims(%x: tensor<1x?x32xf32>) -> tensor<1x?x1xf32> {
  %y = tvc_onnx.node "ReduceMean"(%x) {attrs = {axes = [-1 : i64]}, domain = "", version = 17 : i64} : (tensor<1x?x32xf32>) -> tensor<1x?x1xf32>
  return %y : tensor<1x?x1xf32>
}

// -----

/// ReduceSum of opset 13 reads its axes from a constant input.
// CHECK-DAG: #[[$KEPT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @reduce_sum_axes_input
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$KEPT]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: arith.addi %{{.*}}, %{{.*}} : i64
// CHECK: } -> tensor<2x4xi64>
func.func @reduce_sum_axes_input(%x: tensor<2x?x4xi64>) -> tensor<2x4xi64> {
  %axes = arith.constant dense<1> : tensor<1xi64>
  %y = tvc_onnx.node "ReduceSum"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", version = 13 : i64} : (tensor<2x?x4xi64>, tensor<1xi64>) -> tensor<2x4xi64>
  return %y : tensor<2x4xi64>
}

// -----

/// Empty axes with noop_with_empty_axes leave the input as it is.
// CHECK-LABEL: func.func @reduce_sum_noop
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reduce_sum_noop(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = tvc_onnx.node "ReduceSum"(%x) {attrs = {noop_with_empty_axes = 1 : i64}, domain = "", version = 13 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

/// Axes computed at run time in a tensor of unknown length are not
/// lowered.
// CHECK-LABEL: func.func @negative_reduce_max_runtime_axes_unknown_length
// CHECK: tvc_onnx.node "ReduceMax"
func.func @negative_reduce_max_runtime_axes_unknown_length(%x: tensor<2x3xf32>, %axes: tensor<?xi64>) -> tensor<2x1xf32> {
  %y = tvc_onnx.node "ReduceMax"(%x, %axes) {attrs = {}, domain = "", version = 18 : i64} : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

/// ReduceMean averages floats only.
// CHECK-LABEL: func.func @negative_reduce_mean_integer
// CHECK: tvc_onnx.node "ReduceMean"
func.func @negative_reduce_mean_integer(%x: tensor<2x3xi64>) -> tensor<2x1xi64> {
  %y = tvc_onnx.node "ReduceMean"(%x) {attrs = {axes = [1 : i64]}, domain = "", version = 13 : i64} : (tensor<2x3xi64>) -> tensor<2x1xi64>
  return %y : tensor<2x1xi64>
}

// -----

/// Softmax (opset 13) over the last axis: max, sum of exp(x - max), then
/// exp(x - max) / sum, the row statistics broadcast back as unit dims.
// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$UNIT4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
// CHECK-LABEL: func.func @softmax_last_axis
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x?x?xf32>)
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT_MAX:.*]] = linalg.fill ins(%[[NEG_INF]] : f32)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]] : {{.*}}) outs(%[[INIT_MAX]] : tensor<1x4x?xf32>)
// CHECK: arith.maximumf
// CHECK: %[[MAX_B:.*]] = tensor.expand_shape %[[MAX]] {{\[\[}}0], [1], [2, 3]]
// CHECK: %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$UNIT4]], #[[$ID4]]], {{.*}} ins(%[[X]], %[[MAX_B]] :
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], {{.*}} ins(%[[EXP]] :
// CHECK: arith.addf
// CHECK: %[[SUM_B:.*]] = tensor.expand_shape %[[SUM]]
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$UNIT4]], #[[$ID4]]], {{.*}} ins(%[[EXP]], %[[SUM_B]] :
// CHECK: arith.divf
// CHECK: return %[[Y]]
func.func @softmax_last_axis(%x: tensor<1x4x?x?xf32>) -> tensor<1x4x?x?xf32> {
  %y = tvc_onnx.node "Softmax"(%x) {attrs = {axis = -1 : i64}, domain = "", version = 13 : i64} : (tensor<1x4x?x?xf32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

/// Before opset 13, Softmax at axis 1 normalizes over all dims from 1 on.
// CHECK-DAG: #[[$BATCH:.+]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-DAG: #[[$UNITS:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, 0)>
// CHECK-LABEL: func.func @softmax_opset11_coerced
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$BATCH]]], iterator_types = ["parallel", "reduction", "reduction"]}
// CHECK: tensor.expand_shape %[[MAX]] {{\[\[}}0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$UNITS]], #{{.*}}]
func.func @softmax_opset11_coerced(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %y = tvc_onnx.node "Softmax"(%x) {attrs = {}, domain = "", version = 11 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

/// ArgMax: one reduction carrying the best value and its i64 index.
// CHECK-LABEL: func.func @argmax_last
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: %[[BEST:.*]] = linalg.fill ins(%[[NEG_INF]] : f32) outs(%{{.*}} : tensor<1x?xf32>)
// CHECK: %[[INDEX:.*]] = linalg.fill ins(%[[ZERO]] : i64) outs(%{{.*}} : tensor<1x?xi64>)
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: outs(%[[BEST]], %[[INDEX]] : tensor<1x?xf32>, tensor<1x?xi64>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[MAX:.*]]: f32, %[[ARG:.*]]: i64):
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[IN]], %[[MAX]] : f32
// CHECK: %[[BETTER:.*]] = arith.ori %[[GT]], %{{.*}} : i1
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[V:.*]] = arith.select %[[BETTER]], %[[IN]], %[[MAX]] : f32
// CHECK: %[[J:.*]] = arith.select %[[BETTER]], %[[I64]], %[[ARG]] : i64
// CHECK: linalg.yield %[[V]], %[[J]] : f32, i64
// CHECK: return %[[R]]#1
func.func @argmax_last(%x: tensor<1x?x50xf32>) -> tensor<1x?xi64> {
  %y = tvc_onnx.node "ArgMax"(%x) {attrs = {axis = -1 : i64, keepdims = 0 : i64}, domain = "", version = 13 : i64} : (tensor<1x?x50xf32>) -> tensor<1x?xi64>
  return %y : tensor<1x?xi64>
}

// -----

/// LayerNormalization over the last axis: mean, mean of squared deviations,
/// 1 / sqrt(var + epsilon), then the scaled and shifted quotient; Mean and
/// InvStdDev are returned with the normalized dim kept as a unit.
// CHECK-DAG: #[[$UNIT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-DAG: #[[$CHANNEL:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm_with_statistics
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x8xf32>, %[[SCALE:.*]]: tensor<8xf32>, %[[BIAS:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] :
// CHECK: %[[MEAN_ROW:.*]] = linalg.generic {{.*}} ins(%[[SUM]] :
// CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
// CHECK: %[[MEAN:.*]] = tensor.expand_shape %[[MEAN_ROW]] {{\[\[}}0], [1, 2]]
// CHECK: %[[CENTERED:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$UNIT]], #{{.*}}], {{.*}} ins(%[[X]], %[[MEAN]] :
// CHECK: arith.subf
// CHECK: %[[SQUARES:.*]] = linalg.generic {{.*}} ins(%[[CENTERED]] :
// CHECK: %[[SQUARE:.*]] = arith.mulf %[[C:.*]], %[[C]] : f32
// CHECK: arith.addf %[[SQUARE]], %{{.*}} : f32
// CHECK: %[[VARIANCE:.*]] = linalg.generic {{.*}} ins(%[[SQUARES]] :
// CHECK: %[[INV_ROW:.*]] = linalg.generic {{.*}} ins(%[[VARIANCE]] :
// CHECK: %[[SHIFTED:.*]] = arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK: %[[ROOT:.*]] = math.sqrt %[[SHIFTED]] : f32
// CHECK: arith.divf %{{.*}}, %[[ROOT]] : f32
// CHECK: %[[INV:.*]] = tensor.expand_shape %[[INV_ROW]]
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$UNIT]], #[[$CHANNEL]], #[[$CHANNEL]], #{{.*}}], {{.*}} ins(%[[CENTERED]], %[[INV]], %[[SCALE]], %[[BIAS]] :
// CHECK: return %[[Y]], %[[MEAN]], %[[INV]]
func.func @layer_norm_with_statistics(%x: tensor<1x?x8xf32>, %scale: tensor<8xf32>, %bias: tensor<8xf32>) -> (tensor<1x?x8xf32>, tensor<1x?x1xf32>, tensor<1x?x1xf32>) {
  %y, %mean, %inv = tvc_onnx.node "LayerNormalization"(%x, %scale, %bias) {attrs = {axis = -1 : i64, epsilon = 1.0e-05 : f32}, domain = "", version = 17 : i64} : (tensor<1x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<1x?x8xf32>, tensor<1x?x1xf32>, tensor<1x?x1xf32>)
  return %y, %mean, %inv : tensor<1x?x8xf32>, tensor<1x?x1xf32>, tensor<1x?x1xf32>
}

// -----

/// ReduceSum's axes read at run time (ONNX's test_reduce_sum_keepdims_*
/// feed them as an input): per dimension a reduction kept as a unit
/// dimension and a generic choosing it or the tensor as it was.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes_keepdims
// CHECK-COUNT-3: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-NOT: tvc_onnx.node
func.func @reduce_sum_runtime_axes_keepdims(%data: tensor<3x2x2xf32>, %axes: tensor<1xi64>) -> tensor<?x?x?xf32> {
  %y = tvc_onnx.node "ReduceSum"(%data, %axes) {attrs = {keepdims = 1 : i64}, domain = "", version = 13 : i64} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<?x?x?xf32>
  return %y : tensor<?x?x?xf32>
}

// -----

/// Without keepdims, a reshape to the sizes of the dimensions not reduced.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes_drop
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}} : tensor<2xindex>
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]]) : (tensor<?x?x?xf32>, tensor<2xindex>) -> tensor<?x?xf32>
func.func @reduce_sum_runtime_axes_drop(%data: tensor<3x2x2xf32>, %axes: tensor<1xi64>) -> tensor<?x?xf32> {
  %y = tvc_onnx.node "ReduceSum"(%data, %axes) {attrs = {keepdims = 0 : i64}, domain = "", version = 13 : i64} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

/// An empty axes input, read at run time or not, means no axes: with
/// noop_with_empty_axes the input itself (test_reduce_sum_empty_axes_input_noop).
// CHECK-LABEL: func.func @reduce_sum_empty_runtime_axes_noop
// CHECK-SAME: (%[[DATA:.*]]: tensor<3x2xf32>
// CHECK: return %[[DATA]]
func.func @reduce_sum_empty_runtime_axes_noop(%data: tensor<3x2xf32>, %axes: tensor<0xi64>) -> tensor<3x2xf32> {
  %y = tvc_onnx.node "ReduceSum"(%data, %axes) {attrs = {keepdims = 1 : i64, noop_with_empty_axes = 1 : i64}, domain = "", version = 13 : i64} : (tensor<3x2xf32>, tensor<0xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

/// ReduceL2 squares the elements, sums them and takes the square root
/// (ONNX's test_reduce_l2_*); L1, SumSquare, LogSum and LogSumExp map and
/// finish the same sum likewise.
// CHECK-LABEL: func.func @reduce_l2
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: math.sqrt
func.func @reduce_l2(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  %y = tvc_onnx.node "ReduceL2"(%x) {attrs = {axes = [1], keepdims = 0 : i64}, domain = "", version = 13 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

/// ReduceProd multiplies from one.
// CHECK-LABEL: func.func @reduce_prod
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ONE]] : f32)
// CHECK: arith.mulf
func.func @reduce_prod(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %y = tvc_onnx.node "ReduceProd"(%x) {attrs = {axes = [1]}, domain = "", version = 13 : i64} : (tensor<3x4xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
