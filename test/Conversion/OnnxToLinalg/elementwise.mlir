// RUN: tvc-opt %s -split-input-file -convert-onnx-to-linalg | FileCheck %s

/// The position-embedding sum: [1, ?, 32] + [?, 32], the second operand
/// right-aligned (dims 1 and 2), the dynamic size read from the first.
// CHECK-DAG: #[[$ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$LAST2:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @add_broadcast_dynamic_f32
// CHECK-SAME: (%[[TOKENS:.*]]: tensor<1x?x32xf32>, %[[POSITIONS:.*]]: tensor<?x32xf32>)
// CHECK: %[[SEQ:.*]] = tensor.dim %[[TOKENS]], %{{.*}} : tensor<1x?x32xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[SEQ]]) : tensor<1x?x32xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$LAST2]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[TOKENS]], %[[POSITIONS]] : tensor<1x?x32xf32>, tensor<?x32xf32>) outs(%[[INIT]] : tensor<1x?x32xf32>)
// CHECK: arith.addf
// CHECK: return %[[SUM]]
// CHECK-NOT: tvc_onnx
func.func @add_broadcast_dynamic_f32(%tokens: tensor<1x?x32xf32>, %positions: tensor<?x32xf32>) -> tensor<1x?x32xf32> {
  %sum = tvc_onnx.node "Add"(%tokens, %positions) {attrs = {}, domain = "", node_name = "/Add", version = 17 : i64} : (tensor<1x?x32xf32>, tensor<?x32xf32>) -> tensor<1x?x32xf32>
  return %sum : tensor<1x?x32xf32>
}

// -----

/// A static unit dimension stretches (constant 0 in the map); a scalar
/// operand has an empty map; integers use arith's integer ops.
// CHECK-DAG: #[[$STRETCH:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @sub_i64_unit_and_scalar
// CHECK: %[[D:.*]] = linalg.generic {indexing_maps = [#[[$STRETCH]], #[[$ROW]], #{{.*}}]
// CHECK: arith.subi %{{.*}}, %{{.*}} : i64
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$SCALAR]], #{{.*}}]
// CHECK-SAME: ins(%[[D]], %{{.*}} : tensor<4x3xi64>, tensor<i64>)
// CHECK: arith.divsi %{{.*}}, %{{.*}} : i64
func.func @sub_i64_unit_and_scalar(%lengths: tensor<4x1xi64>, %offset: tensor<i64>) -> tensor<4x3xi64> {
  %row = arith.constant dense<[1, 2, 3]> : tensor<3xi64>
  %d = tvc_onnx.node "Sub"(%lengths, %row) {attrs = {}, domain = "", version = 17 : i64} : (tensor<4x1xi64>, tensor<3xi64>) -> tensor<4x3xi64>
  %q = tvc_onnx.node "Div"(%d, %offset) {attrs = {}, domain = "", version = 17 : i64} : (tensor<4x3xi64>, tensor<i64>) -> tensor<4x3xi64>
  return %q : tensor<4x3xi64>
}

// -----

/// Where selects with an i1 condition broadcast against the data.
// CHECK-DAG: #[[$MASK:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
// CHECK-DAG: #[[$FILL:.+]] = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-LABEL: func.func @where_bool_mask
// CHECK: linalg.generic {indexing_maps = [#[[$MASK]], #{{.*}}, #[[$FILL]], #{{.*}}]
// CHECK: ^bb0(%[[COND:.*]]: i1, %[[SCORE:.*]]: f32, %[[LOW:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.select %[[COND]], %[[SCORE]], %[[LOW]] : f32
func.func @where_bool_mask(%mask: tensor<1x1x?x?xi1>, %scores: tensor<1x4x?x?xf32>, %fill: tensor<f32>) -> tensor<1x4x?x?xf32> {
  %y = tvc_onnx.node "Where"(%mask, %scores, %fill) {attrs = {}, domain = "", version = 17 : i64} : (tensor<1x1x?x?xi1>, tensor<1x4x?x?xf32>, tensor<f32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

/// Comparisons produce i1; Not is a xor with true.
// CHECK-LABEL: func.func @less_not
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: arith.cmpf olt, %{{.*}}, %{{.*}} : f32
// CHECK: } -> tensor<8xi1>
// CHECK: arith.xori %{{.*}}, %[[TRUE]] : i1
func.func @less_not(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xi1> {
  %lt = tvc_onnx.node "Less"(%x, %y) {attrs = {}, domain = "", version = 13 : i64} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xi1>
  %not = tvc_onnx.node "Not"(%lt) {attrs = {}, domain = "", version = 1 : i64} : (tensor<8xi1>) -> tensor<8xi1>
  return %not : tensor<8xi1>
}

// -----

/// Erf (GELU's exact form) is math.erf; Sigmoid is 1 / (1 + exp(-x)).
// CHECK-LABEL: func.func @erf_sigmoid
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: math.erf
// CHECK: %[[NEG:.*]] = arith.negf
// CHECK: %[[EXP:.*]] = math.exp %[[NEG]]
// CHECK: %[[DEN:.*]] = arith.addf %[[EXP]], %[[ONE]]
// CHECK: arith.divf %[[ONE]], %[[DEN]]
func.func @erf_sigmoid(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %e = tvc_onnx.node "Erf"(%x) {attrs = {}, domain = "", version = 13 : i64} : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %s = tvc_onnx.node "Sigmoid"(%e) {attrs = {}, domain = "", version = 13 : i64} : (tensor<2x?xf32>) -> tensor<2x?xf32>
  return %s : tensor<2x?xf32>
}

// -----

/// Pow takes an exponent of another type, converted to the base's.
// CHECK-LABEL: func.func @pow_integer_exponent
// CHECK: ^bb0(%[[BASE:.*]]: f32, %[[EXPONENT:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[E:.*]] = arith.sitofp %[[EXPONENT]] : i64 to f32
// CHECK: math.powf %[[BASE]], %[[E]] : f32
func.func @pow_integer_exponent(%x: tensor<4xf32>, %e: tensor<i64>) -> tensor<4xf32> {
  %y = tvc_onnx.node "Pow"(%x, %e) {attrs = {}, domain = "", version = 15 : i64} : (tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

/// An integer base is raised in f64 and truncated back to its type, as
/// ONNX's reference does (test_pow_types_int32_int32).
// CHECK-LABEL: func.func @pow_integer_base
// CHECK: ^bb0(%[[BASE:.*]]: i32, %[[EXPONENT:.*]]: i32, %{{.*}}: i32):
// CHECK: %[[B:.*]] = arith.sitofp %[[BASE]] : i32 to f64
// CHECK: %[[E:.*]] = arith.sitofp %[[EXPONENT]] : i32 to f64
// CHECK: %[[P:.*]] = math.powf %[[B]], %[[E]] : f64
// CHECK: arith.fptosi %[[P]] : f64 to i32
func.func @pow_integer_base(%x: tensor<3xi32>, %e: tensor<3xi32>) -> tensor<3xi32> {
  %y = tvc_onnx.node "Pow"(%x, %e) {attrs = {}, domain = "", version = 15 : i64} : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %y : tensor<3xi32>
}

// -----

/// Unsigned integers are not computed with (arith works on signless ones):
/// the node stays.
// CHECK-LABEL: func.func @negative_add_unsigned
// CHECK: tvc_onnx.node "Add"
func.func @negative_add_unsigned(%x: tensor<4xui8>) -> tensor<4xui8> {
  %y = tvc_onnx.node "Add"(%x, %x) {attrs = {}, domain = "", version = 17 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %y : tensor<4xui8>
}

// -----

/// Sqrt is defined on floats only.
// CHECK-LABEL: func.func @negative_sqrt_integer
// CHECK: tvc_onnx.node "Sqrt"
func.func @negative_sqrt_integer(%x: tensor<4xi64>) -> tensor<4xi64> {
  %y = tvc_onnx.node "Sqrt"(%x) {attrs = {}, domain = "", version = 13 : i64} : (tensor<4xi64>) -> tensor<4xi64>
  return %y : tensor<4xi64>
}

// -----

/// Only the default domain is lowered; before opset 7 Add broadcast by its
/// `broadcast`/`axis` attributes, which are not implemented.
// CHECK-LABEL: func.func @negative_domain_and_old_opset
// CHECK: tvc_onnx.node "Add"{{.*}}domain = "com.microsoft"
// CHECK: tvc_onnx.node "Add"{{.*}}version = 6
func.func @negative_domain_and_old_opset(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = tvc_onnx.node "Add"(%x, %x) {attrs = {}, domain = "com.microsoft", version = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = tvc_onnx.node "Add"(%a, %x) {attrs = {}, domain = "", version = 6 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

/// Static sizes that do not broadcast (3 against 4) leave the node alone.
// CHECK-LABEL: func.func @negative_broadcast_mismatch
// CHECK: tvc_onnx.node "Mul"
func.func @negative_broadcast_mismatch(%x: tensor<3xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %z = tvc_onnx.node "Mul"(%x, %y) {attrs = {}, domain = "", version = 17 : i64} : (tensor<3xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %z : tensor<4xf32>
}


// -----

/// Trilu keeps one triangle of the last two dims: with upper = 0, element
/// (i, j) survives when j - i <= k, k read at run time.
// CHECK-LABEL: func.func @trilu_lower_runtime_k
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xf32>, %[[K:.*]]: tensor<i64>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[KV:.*]] = tensor.extract %[[K]][] : tensor<i64>
// CHECK: %[[DIAGONAL:.*]] = arith.index_cast %[[KV]] : i64 to index
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<?x?xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[OFFSET:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK: %[[KEEP:.*]] = arith.cmpi sle, %[[OFFSET]], %[[DIAGONAL]] : index
// CHECK: arith.select %[[KEEP]], %[[IN]], %[[ZERO]] : f32
func.func @trilu_lower_runtime_k(%x: tensor<?x?xf32>, %k: tensor<i64>) -> tensor<?x?xf32> {
  %y = tvc_onnx.node "Trilu"(%x, %k) {attrs = {upper = 0 : i64}, domain = "", version = 14 : i64} : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

/// Clip from opset 11 takes optional scalar bounds as inputs (read at run
/// time here, as in ONNX's test_clip): max with the low bound, min with the
/// high one.
// CHECK-LABEL: func.func @clip_runtime_bounds
// CHECK: ^bb0(%[[X:.*]]: f32, %[[LOW:.*]]: f32, %[[HIGH:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[CLAMPED:.*]] = arith.maximumf %[[X]], %[[LOW]] : f32
// CHECK: arith.minimumf %[[CLAMPED]], %[[HIGH]] : f32
func.func @clip_runtime_bounds(%x: tensor<3x4xf32>, %low: tensor<f32>, %high: tensor<f32>) -> tensor<3x4xf32> {
  %y = tvc_onnx.node "Clip"(%x, %low, %high) {attrs = {}, domain = "", version = 13 : i64} : (tensor<3x4xf32>, tensor<f32>, tensor<f32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

/// An omitted bound does not clip (test_clip_default_min).
// CHECK-LABEL: func.func @clip_high_only
// CHECK: arith.minimumf
// CHECK-NOT: arith.maximumf
func.func @clip_high_only(%x: tensor<4xf32>, %high: tensor<f32>) -> tensor<4xf32> {
  %none = tvc_onnx.none : none
  %y = tvc_onnx.node "Clip"(%x, %none, %high) {attrs = {}, domain = "", version = 13 : i64} : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
