// RUN: tvc-opt %s -split-input-file -convert-onnx-to-linalg | FileCheck %s

/// Shape reads dynamic sizes with tensor.dim and static ones as constants.
// CHECK-LABEL: func.func @shape_dynamic
// CHECK-SAME: (%[[IDS:.*]]: tensor<1x?xi64>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[SEQ:.*]] = tensor.dim %[[IDS]], %{{.*}} : tensor<1x?xi64>
// CHECK: %[[SEQ64:.*]] = arith.index_cast %[[SEQ]] : index to i64
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %[[ONE]], %[[SEQ64]] : tensor<2xi64>
// CHECK: return %[[SHAPE]]
func.func @shape_dynamic(%ids: tensor<1x?xi64>) -> tensor<2xi64> {
  %s = tvc_onnx.node "Shape"(%ids) {attrs = {}, domain = "", version = 17 : i64} : (tensor<1x?xi64>) -> tensor<2xi64>
  return %s : tensor<2xi64>
}

// -----

/// Opset 15's start/end select sizes [1, 3) (end -1 counts from the back).
// CHECK-LABEL: func.func @shape_start_end
// CHECK-DAG: %[[FOUR:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[SEQ:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<2x?x4x8xf32>
// CHECK: %[[SEQ64:.*]] = arith.index_cast %[[SEQ]] : index to i64
// CHECK: tensor.from_elements %[[SEQ64]], %[[FOUR]] : tensor<2xi64>
func.func @shape_start_end(%x: tensor<2x?x4x8xf32>) -> tensor<2xi64> {
  %s = tvc_onnx.node "Shape"(%x) {attrs = {start = 1 : i64, end = -1 : i64}, domain = "", version = 15 : i64} : (tensor<2x?x4x8xf32>) -> tensor<2xi64>
  return %s : tensor<2xi64>
}

// -----

/// Shape -> Gather(scalar constant index) folds to the dimension itself.
// CHECK-LABEL: func.func @gather_shape_folds
// CHECK: %[[SEQ:.*]] = tensor.dim
// CHECK: %[[SEQ64:.*]] = arith.index_cast %[[SEQ]] : index to i64
// CHECK: %[[N:.*]] = tensor.from_elements %[[SEQ64]] : tensor<i64>
// CHECK: return %[[N]]
func.func @gather_shape_folds(%ids: tensor<1x?xi64>) -> tensor<i64> {
  %s = tvc_onnx.node "Shape"(%ids) {attrs = {}, domain = "", version = 17 : i64} : (tensor<1x?xi64>) -> tensor<2xi64>
  %one = tvc_onnx.node "Constant"() {attrs = {value = dense<1> : tensor<i64>}, domain = "", version = 17 : i64} : () -> tensor<i64>
  %n = tvc_onnx.node "Gather"(%s, %one) {attrs = {axis = 0 : i64}, domain = "", version = 17 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  return %n : tensor<i64>
}

// -----

/// Constant's value (and value_ints) become arith.constant.
// CHECK-LABEL: func.func @constant_values
// CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: arith.constant dense<[1, -1, 4]> : tensor<3xi64>
// CHECK-NOT: tvc_onnx
func.func @constant_values() -> (tensor<2x2xf32>, tensor<3xi64>) {
  %a = tvc_onnx.node "Constant"() {attrs = {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>}, domain = "", version = 17 : i64} : () -> tensor<2x2xf32>
  %b = tvc_onnx.node "Constant"() {attrs = {value_ints = [1 : i64, -1 : i64, 4 : i64]}, domain = "", version = 17 : i64} : () -> tensor<3xi64>
  return %a, %b : tensor<2x2xf32>, tensor<3xi64>
}

// -----

/// Gather of rows by ids: a generic over the result reads each id, wraps a
/// negative one by the table size and clamps it into the table.
// CHECK-DAG: #[[$IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @gather_rows
// CHECK-SAME: (%[[TABLE:.*]]: tensor<50x8xf32>, %[[IDS:.*]]: tensor<1x?xi64>)
// CHECK-DAG: %[[LAST:.*]] = arith.constant 49 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[ROWS:.*]] = arith.constant 50 : index
// CHECK: linalg.generic {indexing_maps = [#[[$IDS]], #{{.*}}]
// CHECK-SAME: ins(%[[IDS]] : tensor<1x?xi64>)
// CHECK: ^bb0(%[[ID:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[INDEX:.*]] = arith.index_cast %[[ID]] : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[INDEX]], %[[ZERO]]
// CHECK: %[[WRAPPED:.*]] = arith.addi %[[INDEX]], %[[ROWS]]
// CHECK: %[[SELECTED:.*]] = arith.select %[[NEG]], %[[WRAPPED]], %[[INDEX]]
// CHECK: %[[LOW:.*]] = arith.maxsi %[[SELECTED]], %[[ZERO]]
// CHECK: %[[ROW:.*]] = arith.minsi %[[LOW]], %[[LAST]]
// CHECK: %[[COLUMN:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %[[TABLE]][%[[ROW]], %[[COLUMN]]] : tensor<50x8xf32>
func.func @gather_rows(%table: tensor<50x8xf32>, %ids: tensor<1x?xi64>) -> tensor<1x?x8xf32> {
  %y = tvc_onnx.node "Gather"(%table, %ids) {attrs = {axis = 0 : i64}, domain = "", version = 13 : i64} : (tensor<50x8xf32>, tensor<1x?xi64>) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// -----

/// Reshape by a constant [0, -1, 4]: 0 copies dim 0, -1 is the quotient of
/// the element count by the known sizes.
// CHECK-LABEL: func.func @reshape_zero_minus_one
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf32>)
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]]
// CHECK: %[[A:.*]] = arith.muli %[[SEQ]], %{{.*}} : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[A]], %{{.*}} : index
// CHECK: %[[REST:.*]] = arith.divsi %[[TOTAL]], %{{.*}} : index
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1, 2]] : tensor<2x?x8xf32> into tensor<?xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1, 2]] output_shape [2, %[[REST]], 4] : tensor<?xf32> into tensor<2x?x4xf32>
func.func @reshape_zero_minus_one(%x: tensor<2x?x8xf32>) -> tensor<2x?x4xf32> {
  %shape = arith.constant dense<[0, -1, 4]> : tensor<3xi64>
  %y = tvc_onnx.node "Reshape"(%x, %shape) {attrs = {}, domain = "", version = 14 : i64} : (tensor<2x?x8xf32>, tensor<3xi64>) -> tensor<2x?x4xf32>
  return %y : tensor<2x?x4xf32>
}

// -----

/// A shape read at run time applies the same rules with selects: 0 copies
/// the input's size, -1 is the element count over the other sizes. With
/// several dynamic sizes the reshape is a tensor.reshape.
// CHECK-LABEL: func.func @reshape_runtime_shape
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf32>, %[[SHAPE:.*]]: tensor<3xi64>)
// CHECK-DAG: %[[MINUS_ONE:.*]] = arith.constant -1 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]], %[[ONE]]
// CHECK: %[[E1:.*]] = tensor.extract %[[SHAPE]][%[[ONE]]] : tensor<3xi64>
// CHECK: %[[S1:.*]] = arith.index_cast %[[E1]] : i64 to index
// CHECK: %[[IS_ZERO:.*]] = arith.cmpi eq, %[[S1]], %[[ZERO]] : index
// CHECK: %[[COPY:.*]] = arith.select %[[IS_ZERO]], %[[SEQ]], %[[S1]] : index
// CHECK: %[[KNOWN:.*]] = arith.maxsi %{{.*}}, %[[ONE]] : index
// CHECK: %[[REST:.*]] = arith.divsi %{{.*}}, %[[KNOWN]] : index
// CHECK: %[[IS_INFERRED:.*]] = arith.cmpi eq, %[[COPY]], %[[MINUS_ONE]] : index
// CHECK: %[[D1:.*]] = arith.select %[[IS_INFERRED]], %[[REST]], %[[COPY]] : index
// CHECK: %[[D2:.*]] = arith.select
// CHECK: %[[SIZES:.*]] = tensor.from_elements %{{.*}}, %[[D1]], %[[D2]] : tensor<3xindex>
// CHECK: tensor.reshape %[[X]](%[[SIZES]]) : (tensor<2x?x8xf32>, tensor<3xindex>) -> tensor<2x?x?xf32>
func.func @reshape_runtime_shape(%x: tensor<2x?x8xf32>, %shape: tensor<3xi64>) -> tensor<2x?x?xf32> {
  %y = tvc_onnx.node "Reshape"(%x, %shape) {attrs = {}, domain = "", version = 14 : i64} : (tensor<2x?x8xf32>, tensor<3xi64>) -> tensor<2x?x?xf32>
  return %y : tensor<2x?x?xf32>
}

// -----

/// Unsqueeze's axes read at run time (ONNX's test_unsqueeze_axis_0 feeds
/// them as an input) give the result's sizes at run time: a reshape.
// CHECK-LABEL: func.func @unsqueeze_runtime_axes
// CHECK: tensor.extract %{{.*}} : tensor<2xi64>
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}} : tensor<4xindex>
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]]) : (tensor<3x4xf32>, tensor<4xindex>) -> tensor<?x?x?x?xf32>
// CHECK-NOT: tvc_onnx.node
func.func @unsqueeze_runtime_axes(%x: tensor<3x4xf32>, %axes: tensor<2xi64>) -> tensor<?x?x?x?xf32> {
  %y = tvc_onnx.node "Unsqueeze"(%x, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// -----

/// Squeeze's axes read at run time (ONNX's test_squeeze) likewise.
// CHECK-LABEL: func.func @squeeze_runtime_axes
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}} : tensor<2xindex>
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]]) : (tensor<1x3x1x4xf32>, tensor<2xindex>) -> tensor<?x?xf32>
// CHECK-NOT: tvc_onnx.node
func.func @squeeze_runtime_axes(%x: tensor<1x3x1x4xf32>, %axes: tensor<2xi64>) -> tensor<?x?xf32> {
  %y = tvc_onnx.node "Squeeze"(%x, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x3x1x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

/// Axes of unknown length leave the result's rank unknown: the node stays.
// CHECK-LABEL: func.func @negative_unsqueeze_axes_unknown_length
// CHECK: tvc_onnx.node "Unsqueeze"
func.func @negative_unsqueeze_axes_unknown_length(%x: tensor<4xf32>, %axes: tensor<?xi64>) -> tensor<?x?xf32> {
  %y = tvc_onnx.node "Unsqueeze"(%x, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<4xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

/// Unsqueeze reads axes from the attribute before opset 13 and from a
/// constant input from 13; negative axes count in the result's rank.
// CHECK-LABEL: func.func @unsqueeze_both_opsets
// CHECK: %[[A:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, %{{.*}}] : tensor<?xi64> into tensor<1x?xi64>
// CHECK: tensor.expand_shape %[[A]] {{\[\[}}0], [1, 2]] output_shape [1, %{{.*}}, 1] : tensor<1x?xi64> into tensor<1x?x1xi64>
func.func @unsqueeze_both_opsets(%p: tensor<?xi64>) -> tensor<1x?x1xi64> {
  %a = tvc_onnx.node "Unsqueeze"(%p) {attrs = {axes = [0 : i64]}, domain = "", version = 11 : i64} : (tensor<?xi64>) -> tensor<1x?xi64>
  %axes = arith.constant dense<-1> : tensor<1xi64>
  %b = tvc_onnx.node "Unsqueeze"(%a, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x?xi64>, tensor<1xi64>) -> tensor<1x?x1xi64>
  return %b : tensor<1x?x1xi64>
}

// -----

/// Squeeze without axes drops every static unit dimension.
// CHECK-LABEL: func.func @squeeze_all_units
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x4x1x3xf32> into tensor<4x3xf32>
func.func @squeeze_all_units(%x: tensor<1x4x1x3xf32>) -> tensor<4x3xf32> {
  %y = tvc_onnx.node "Squeeze"(%x) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x4x1x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

/// Without axes, a dynamic dimension might be 1 or not: not lowered.
// CHECK-LABEL: func.func @negative_squeeze_dynamic_no_axes
// CHECK: tvc_onnx.node "Squeeze"
func.func @negative_squeeze_dynamic_no_axes(%x: tensor<1x?xf32>) -> tensor<?xf32> {
  %y = tvc_onnx.node "Squeeze"(%x) {attrs = {}, domain = "", version = 13 : i64} : (tensor<1x?xf32>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

/// Flatten at axis 2 collapses [2, 3] and [4, 5].
// CHECK-LABEL: func.func @flatten_axis_two
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : tensor<2x3x4x5xf32> into tensor<120xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [6, 20] : tensor<120xf32> into tensor<6x20xf32>
func.func @flatten_axis_two(%x: tensor<2x3x4x5xf32>) -> tensor<6x20xf32> {
  %y = tvc_onnx.node "Flatten"(%x) {attrs = {axis = 2 : i64}, domain = "", version = 13 : i64} : (tensor<2x3x4x5xf32>) -> tensor<6x20xf32>
  return %y : tensor<6x20xf32>
}

// -----

/// Transpose is linalg.transpose with the node's perm.
// CHECK-LABEL: func.func @transpose_heads
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x4x8xf32>)
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]]
// CHECK: %[[INIT:.*]] = tensor.empty(%[[SEQ]]) : tensor<1x4x?x8xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<1x?x4x8xf32>) outs(%[[INIT]] : tensor<1x4x?x8xf32>) permutation = [0, 2, 1, 3]
func.func @transpose_heads(%x: tensor<1x?x4x8xf32>) -> tensor<1x4x?x8xf32> {
  %y = tvc_onnx.node "Transpose"(%x) {attrs = {perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]}, domain = "", version = 13 : i64} : (tensor<1x?x4x8xf32>) -> tensor<1x4x?x8xf32>
  return %y : tensor<1x4x?x8xf32>
}

// -----

/// Concat on a dynamic axis: the second input's offset is the first's size.
// CHECK-LABEL: func.func @concat_dynamic
// CHECK-SAME: (%[[PAST:.*]]: tensor<1x?x8xf32>, %[[NEW:.*]]: tensor<1x?x8xf32>)
// CHECK: %[[P:.*]] = tensor.dim %[[PAST]]
// CHECK: %[[N:.*]] = tensor.dim %[[NEW]]
// CHECK: %[[TOTAL:.*]] = arith.addi %[[P]], %[[N]] : index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[TOTAL]]) : tensor<1x?x8xf32>
// CHECK: %[[FIRST:.*]] = tensor.insert_slice %[[PAST]] into %[[INIT]][0, 0, 0]
// CHECK: tensor.insert_slice %[[NEW]] into %[[FIRST]][0, %[[P]], 0]
func.func @concat_dynamic(%past: tensor<1x?x8xf32>, %new: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %y = tvc_onnx.node "Concat"(%past, %new) {attrs = {axis = -2 : i64}, domain = "", version = 13 : i64} : (tensor<1x?x8xf32>, tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// -----

/// Slice [1, INT64_MAX) step 2 on a dynamic axis: the start is clamped to
/// the size, the end to the size, the size is ceil((end - start) / 2).
// CHECK-LABEL: func.func @slice_dynamic_step
// CHECK-SAME: (%[[X:.*]]: tensor<?x6xf32>)
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %[[ZERO]]
// CHECK: %[[START:.*]] = arith.minsi %[[N]], %[[ONE]] : index
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %[[START]] : index
// CHECK: %[[COUNT:.*]] = arith.ceildivsi %[[SPAN]], %[[TWO]] : index
// CHECK: %[[SIZE:.*]] = arith.maxsi %[[COUNT]], %[[ZERO]] : index
// CHECK: tensor.extract_slice %[[X]][%[[START]], 0] [%[[SIZE]], 6] [2, 1] : tensor<?x6xf32> to tensor<?x6xf32>
func.func @slice_dynamic_step(%x: tensor<?x6xf32>) -> tensor<?x6xf32> {
  %starts = arith.constant dense<1> : tensor<1xi64>
  %ends = arith.constant dense<9223372036854775807> : tensor<1xi64>
  %axes = arith.constant dense<0> : tensor<1xi64>
  %steps = arith.constant dense<2> : tensor<1xi64>
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes, %steps) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

/// Static bounds fold: columns -4:-1 of 6 are the slice [2, 5).
// CHECK-LABEL: func.func @slice_static_negative
// CHECK: tensor.extract_slice %{{.*}}[0, 2] [%{{.*}}, 3] [1, 1] : tensor<?x6xf32> to tensor<?x3xf32>
func.func @slice_static_negative(%x: tensor<?x6xf32>) -> tensor<?x3xf32> {
  %starts = arith.constant dense<-4> : tensor<1xi64>
  %ends = arith.constant dense<-1> : tensor<1xi64>
  %axes = arith.constant dense<-1> : tensor<1xi64>
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

/// A negative step reads backwards through a generic of tensor.extract.
// CHECK-LABEL: func.func @slice_reverse
// CHECK-SAME: (%[[X:.*]]: tensor<6xf32>)
// CHECK-DAG: %[[STEP:.*]] = arith.constant -1 : index
// CHECK-DAG: %[[FIRST:.*]] = arith.constant 5 : index
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[SCALED:.*]] = arith.muli %[[I]], %[[STEP]] : index
// CHECK: %[[AT:.*]] = arith.addi %[[SCALED]], %[[FIRST]] : index
// CHECK: tensor.extract %[[X]][%[[AT]]] : tensor<6xf32>
func.func @slice_reverse(%x: tensor<6xf32>) -> tensor<6xf32> {
  %starts = arith.constant dense<-1> : tensor<1xi64>
  %ends = arith.constant dense<-9223372036854775808> : tensor<1xi64>
  %axes = arith.constant dense<0> : tensor<1xi64>
  %steps = arith.constant dense<-1> : tensor<1xi64>
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes, %steps) {attrs = {}, domain = "", version = 13 : i64} : (tensor<6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<6xf32>
  return %y : tensor<6xf32>
}

// -----

/// An end read at run time (x[:n]) is clamped by its sign with a select.
// CHECK-LABEL: func.func @slice_runtime_end
// CHECK-SAME: (%[[X:.*]]: tensor<?x6xf32>, %[[ENDS:.*]]: tensor<1xi64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %[[ZERO]]
// CHECK: %[[E:.*]] = tensor.extract %[[ENDS]][%[[ZERO]]] : tensor<1xi64>
// CHECK: %[[END:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[END]], %[[ZERO]] : index
// CHECK: %[[FROM_BACK:.*]] = arith.addi %[[N]], %[[END]] : index
// CHECK: %[[WRAPPED:.*]] = arith.maxsi %[[FROM_BACK]], %[[ZERO]] : index
// CHECK: %[[CAPPED:.*]] = arith.minsi %[[END]], %[[N]] : index
// CHECK: %[[LAST:.*]] = arith.select %[[NEG]], %[[WRAPPED]], %[[CAPPED]] : index
// CHECK: %[[SIZE:.*]] = arith.maxsi %[[LAST]], %[[ZERO]] : index
// CHECK: tensor.extract_slice %[[X]][0, 0] [%[[SIZE]], 6] [1, 1]
func.func @slice_runtime_end(%x: tensor<?x6xf32>, %ends: tensor<1xi64>) -> tensor<?x6xf32> {
  %starts = arith.constant dense<0> : tensor<1xi64>
  %axes = arith.constant dense<0> : tensor<1xi64>
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

/// Steps read at run time (the direction of the slice) pick the clamp at
/// run time; a strided gather reads the result.
// CHECK-LABEL: func.func @slice_runtime_steps
// CHECK: arith.ceildivsi
// CHECK: linalg.generic
// CHECK-NOT: tvc_onnx.node
func.func @slice_runtime_steps(%x: tensor<?x6xf32>, %steps: tensor<1xi64>) -> tensor<?x6xf32> {
  %starts = arith.constant dense<0> : tensor<1xi64>
  %ends = arith.constant dense<4> : tensor<1xi64>
  %axes = arith.constant dense<0> : tensor<1xi64>
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes, %steps) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

/// Expand by a constant shape: a copy stretching the unit dimension.
// CHECK-DAG: #[[$COLUMN:.+]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @expand_constant
// CHECK: %[[ROWS:.*]] = tensor.dim
// CHECK: %[[SIZE:.*]] = arith.maxsi %[[ROWS]], %{{.*}} : index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[SIZE]]) : tensor<2x?x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$COLUMN]], #{{.*}}]
func.func @expand_constant(%x: tensor<?x1xf32>) -> tensor<2x?x3xf32> {
  %shape = arith.constant dense<[2, 1, 3]> : tensor<3xi64>
  %y = tvc_onnx.node "Expand"(%x, %shape) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<2x?x3xf32>
  return %y : tensor<2x?x3xf32>
}

// -----

/// Split into constant sizes: one extract_slice per output.
// CHECK-LABEL: func.func @split_sizes
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x96xf32>)
// CHECK: %[[SEQ:.*]] = tensor.dim %[[X]]
// CHECK: %[[A:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [1, %[[SEQ]], 32] [1, 1, 1] : tensor<1x?x96xf32> to tensor<1x?x32xf32>
// CHECK: %[[B:.*]] = tensor.extract_slice %[[X]][0, 0, 32] [1, %[[SEQ]], 64] [1, 1, 1] : tensor<1x?x96xf32> to tensor<1x?x64xf32>
// CHECK: return %[[A]], %[[B]]
func.func @split_sizes(%x: tensor<1x?x96xf32>) -> (tensor<1x?x32xf32>, tensor<1x?x64xf32>) {
  %split = arith.constant dense<[32, 64]> : tensor<2xi64>
  %a, %b = tvc_onnx.node "Split"(%x, %split) {attrs = {axis = 2 : i64}, domain = "", version = 13 : i64} : (tensor<1x?x96xf32>, tensor<2xi64>) -> (tensor<1x?x32xf32>, tensor<1x?x64xf32>)
  return %a, %b : tensor<1x?x32xf32>, tensor<1x?x64xf32>
}

// -----

/// Range: the count is max(ceil((limit - start) / delta), 0) and each
/// element start + i * delta.
// CHECK-LABEL: func.func @range_i64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: %[[START:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[LIMIT:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[DELTA:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: %[[SPAN:.*]] = arith.subi %[[LIMIT]], %[[START]] : i64
// CHECK: %[[QUOTIENT:.*]] = arith.ceildivsi %[[SPAN]], %[[DELTA]] : i64
// CHECK: %[[COUNT:.*]] = arith.maxsi %[[QUOTIENT]], %[[ZERO]] : i64
// CHECK: %[[SIZE:.*]] = arith.index_cast %[[COUNT]] : i64 to index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[SIZE]]) : tensor<?xi64>
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] : tensor<?xi64>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[OFFSET:.*]] = arith.muli %[[I64]], %[[DELTA]] : i64
// CHECK: %[[VALUE:.*]] = arith.addi %[[START]], %[[OFFSET]] : i64
// CHECK: linalg.yield %[[VALUE]] : i64
func.func @range_i64(%start: tensor<i64>, %limit: tensor<i64>, %delta: tensor<i64>) -> tensor<?xi64> {
  %y = tvc_onnx.node "Range"(%start, %limit, %delta) {attrs = {}, domain = "", version = 11 : i64} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %y : tensor<?xi64>
}

// -----

/// ConstantOfShape fills a tensor sized by the shape tensor's elements.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK-DAG: %[[SEVEN:.*]] = arith.constant 7 : i64
// CHECK: %[[D0:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<2xi64>
// CHECK: %[[S0:.*]] = arith.index_cast %[[D0]] : i64 to index
// CHECK: %[[D1:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<2xi64>
// CHECK: %[[S1:.*]] = arith.index_cast %[[D1]] : i64 to index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[S0]], %[[S1]]) : tensor<?x?xi64>
// CHECK: linalg.fill ins(%[[SEVEN]] : i64) outs(%[[INIT]] : tensor<?x?xi64>)
func.func @constant_of_shape(%shape: tensor<2xi64>) -> tensor<?x?xi64> {
  %y = tvc_onnx.node "ConstantOfShape"(%shape) {attrs = {value = dense<7> : tensor<1xi64>}, domain = "", version = 9 : i64} : (tensor<2xi64>) -> tensor<?x?xi64>
  return %y : tensor<?x?xi64>
}

// -----

/// Identity and a Cast to the input's own type (torch's i64 -> i64) are
/// their input; Cast f32 -> i64 is fptosi.
// CHECK-LABEL: func.func @identity_and_casts
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[N:.*]]: tensor<i64>)
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xf32>)
// CHECK: arith.fptosi %{{.*}} : f32 to i64
// CHECK: return %[[C]], %[[N]]
func.func @identity_and_casts(%x: tensor<4xf32>, %n: tensor<i64>) -> (tensor<4xi64>, tensor<i64>) {
  %i = tvc_onnx.node "Identity"(%x) {attrs = {}, domain = "", version = 16 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %c = tvc_onnx.node "Cast"(%i) {attrs = {to = 7 : i64}, domain = "", version = 13 : i64} : (tensor<4xf32>) -> tensor<4xi64>
  %m = tvc_onnx.node "Cast"(%n) {attrs = {to = 7 : i64}, domain = "", version = 13 : i64} : (tensor<i64>) -> tensor<i64>
  return %c, %m : tensor<4xi64>, tensor<i64>
}

// -----

/// Cast to uint8 is not supported (arith has no unsigned integers).
// CHECK-LABEL: func.func @negative_cast_unsigned
// CHECK: tvc_onnx.node "Cast"
func.func @negative_cast_unsigned(%x: tensor<4xf32>) -> tensor<4xui8> {
  %c = tvc_onnx.node "Cast"(%x) {attrs = {to = 2 : i64}, domain = "", version = 13 : i64} : (tensor<4xf32>) -> tensor<4xui8>
  return %c : tensor<4xui8>
}

// -----

/// Gather's axis must be inside the data's rank.
// CHECK-LABEL: func.func @negative_gather_axis_out_of_range
// CHECK: tvc_onnx.node "Gather"
func.func @negative_gather_axis_out_of_range(%x: tensor<4x4xf32>, %i: tensor<2xi64>) -> tensor<4x2xf32> {
  %y = tvc_onnx.node "Gather"(%x, %i) {attrs = {axis = 2 : i64}, domain = "", version = 13 : i64} : (tensor<4x4xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

/// Pieces of an empty tensor are empty tensors (extract_slice rejects any
/// offset into a static zero size).
// CHECK-LABEL: func.func @split_empty_input
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[A:.*]] = tensor.empty() : tensor<0xf32>
// CHECK: %[[B:.*]] = tensor.empty() : tensor<0xf32>
// CHECK: return %[[A]], %[[B]]
func.func @split_empty_input(%x: tensor<0xf32>) -> (tensor<0xf32>, tensor<0xf32>) {
  %split = arith.constant dense<0> : tensor<2xi64>
  %a, %b = tvc_onnx.node "Split"(%x, %split) {attrs = {}, domain = "", version = 13 : i64} : (tensor<0xf32>, tensor<2xi64>) -> (tensor<0xf32>, tensor<0xf32>)
  return %a, %b : tensor<0xf32>, tensor<0xf32>
}

// -----

/// CastLike converts to the element type of its second input.
// CHECK-LABEL: func.func @castlike_i64_to_f32
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: } -> tensor<4xf32>
func.func @castlike_i64_to_f32(%x: tensor<4xi64>, %like: tensor<f32>) -> tensor<4xf32> {
  %y = tvc_onnx.node "CastLike"(%x, %like) {attrs = {}, domain = "", version = 15 : i64} : (tensor<4xi64>, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

/// Shape inference left the results unranked (a Reshape by a run-time
/// shape): the ranks come from the operands, the next generic node takes
/// the ranked value as it is, and only the function's return gets a cast.
// CHECK-LABEL: func.func @unranked_results
// CHECK: %[[HEADS:.*]] = tensor.reshape %{{.*}}(%{{.*}}) : (tensor<1x?x8xf32>, tensor<4xindex>) -> tensor<?x?x?x?xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[HEADS]] : tensor<?x?x?x?xf32>) outs(%{{.*}} : tensor<?x?x?x?xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[CAST:.*]] = tensor.cast %[[T]] : tensor<?x?x?x?xf32> to tensor<*xf32>
// CHECK: return %[[CAST]]
func.func @unranked_results(%x: tensor<1x?x8xf32>, %shape: tensor<4xi64>) -> tensor<*xf32> {
  %h = tvc_onnx.node "Reshape"(%x, %shape) {attrs = {}, domain = "", version = 14 : i64} : (tensor<1x?x8xf32>, tensor<4xi64>) -> tensor<*xf32>
  %t = tvc_onnx.node "Transpose"(%h) {attrs = {perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]}, domain = "", version = 13 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return %t : tensor<*xf32>
}

// -----

/// Slice with axes and steps read at run time (ONNX's test_slice feeds all
/// four as inputs): per dimension the start, end and step are picked and
/// clamped at run time, and a strided gather reads the result.
// CHECK-LABEL: func.func @slice_runtime_axes_steps
// CHECK: arith.ceildivsi
// CHECK: linalg.generic
// CHECK: linalg.index
// CHECK: tensor.extract %{{.*}} : tensor<20x10x5xf32>
// CHECK-NOT: tvc_onnx.node
func.func @slice_runtime_axes_steps(%x: tensor<20x10x5xf32>, %starts: tensor<2xi64>, %ends: tensor<2xi64>, %axes: tensor<2xi64>, %steps: tensor<2xi64>) -> tensor<?x?x?xf32> {
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes, %steps) {attrs = {}, domain = "", version = 13 : i64} : (tensor<20x10x5xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?x?xf32>
  return %y : tensor<?x?x?xf32>
}

// -----

/// Axes of another length than the starts cannot be matched up: the node
/// stays.
// CHECK-LABEL: func.func @negative_slice_runtime_axes_length
// CHECK: tvc_onnx.node "Slice"
func.func @negative_slice_runtime_axes_length(%x: tensor<20x10xf32>, %starts: tensor<2xi64>, %ends: tensor<2xi64>, %axes: tensor<?xi64>) -> tensor<?x?xf32> {
  %y = tvc_onnx.node "Slice"(%x, %starts, %ends, %axes) {attrs = {}, domain = "", version = 13 : i64} : (tensor<20x10xf32>, tensor<2xi64>, tensor<2xi64>, tensor<?xi64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

/// Size: the product of the sizes as a 0-D i64 tensor.
// CHECK-LABEL: func.func @size_dynamic
// CHECK: %[[ROWS:.*]] = tensor.dim
// CHECK: %[[COUNT:.*]] = arith.muli %[[ROWS]], %{{.*}} : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[COUNT]] : index to i64
// CHECK: tensor.from_elements %[[I64]] : tensor<i64>
func.func @size_dynamic(%x: tensor<?x4xf32>) -> tensor<i64> {
  %y = tvc_onnx.node "Size"(%x) {attrs = {}, domain = "", version = 13 : i64} : (tensor<?x4xf32>) -> tensor<i64>
  return %y : tensor<i64>
}
