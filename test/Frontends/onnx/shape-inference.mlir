// Intermediate values without value_info get the types ONNX shape
// inference computes, ranked, with the symbolic batch B dynamic; the
// Reshape target (Shape -> Gather -> Concat) is known through data
// propagation, so its result is ?x3x8, not unranked.
//
// REQUIRES: onnx
// RUN: tvc-import %S/Inputs/shape-inference.onnxtext --quiet | FileCheck %s

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[X:.*]]: tensor<?x6x4xf32> {tvc.name = "x"}) -> tensor<?x6xf32>
// CHECK-NOT: tensor<*
// CHECK: %[[T:.*]] = tvc_onnx.node "Transpose"(%[[X]]) {attrs = {perm = [0, 2, 1]}, domain = "", version = 17 : i64} : (tensor<?x6x4xf32>) -> tensor<?x4x6xf32>
// CHECK: %[[SH:.*]] = tvc_onnx.node "Shape"(%[[T]]) {{.*}} : (tensor<?x4x6xf32>) -> tensor<3xi64>
// CHECK: %[[I0:.*]] = tvc_onnx.node "Constant"() {attrs = {value = dense<0> : tensor<1xi64>}, {{.*}}} : () -> tensor<1xi64>
// CHECK: %[[B:.*]] = tvc_onnx.node "Gather"(%[[SH]], %[[I0]]) {attrs = {axis = 0 : i64}, {{.*}}} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK: %[[M:.*]] = tvc_onnx.node "Constant"() {attrs = {value = dense<[3, 8]> : tensor<2xi64>}, {{.*}}} : () -> tensor<2xi64>
// CHECK: %[[SHP:.*]] = tvc_onnx.node "Concat"(%[[B]], %[[M]]) {attrs = {axis = 0 : i64}, {{.*}}} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
// CHECK: %[[R:.*]] = tvc_onnx.node "Reshape"(%[[T]], %[[SHP]]) {{.*}} : (tensor<?x4x6xf32>, tensor<3xi64>) -> tensor<?x3x8xf32>
// CHECK: %[[C:.*]] = tvc_onnx.node "Concat"(%[[R]], %[[R]]) {attrs = {axis = 1 : i64}, {{.*}}} : (tensor<?x3x8xf32>, tensor<?x3x8xf32>) -> tensor<?x6x8xf32>
// CHECK: %[[Y:.*]] = tvc_onnx.node "ReduceMean"(%[[C]]) {attrs = {axes = [2], keepdims = 0 : i64}, {{.*}}} : (tensor<?x6x8xf32>) -> tensor<?x6xf32>
// CHECK: return %[[Y]] : tensor<?x6xf32>
