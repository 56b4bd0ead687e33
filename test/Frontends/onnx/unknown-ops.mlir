// Ops libonnx 1.12 has no schema for, a com.microsoft op and the opset-23
// Attention in a model importing opset 17, are imported with their domain
// and the model's version for it; shape inference knows nothing of them,
// so their results are unranked, with the first input's element type. A
// known op after them gets the type the graph declares for its output.
// Binary: a float16 model with a two-result Split after them.
//
// REQUIRES: onnx
// RUN: tvc-import --no-raise %S/Inputs/unknown-ops.onnxtext --quiet | FileCheck %s
// RUN: tvc-import --no-raise %S/Inputs/unknown-ops.onnxtext 2>&1 >/dev/null | FileCheck %s --check-prefix=SUMMARY
// RUN: tvc-import --no-raise %S/Inputs/unknown-ops.onnx --quiet | FileCheck %s --check-prefix=F16

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x5x8xf32> {tvc.name = "x"}, %[[SKIP:[^:]*]]: tensor<2x5x8xf32> {tvc.name = "skip"}, %[[G:[^:]*]]: tensor<8xf32> {tvc.name = "gamma"}, %[[K:[^:]*]]: tensor<2x5x8xf32> {tvc.name = "k"}) -> tensor<2x5x8xf32>
// CHECK: %[[S:.*]] = tvc_onnx.node "SkipLayerNormalization"(%[[X]], %[[SKIP]], %[[G]]) {attrs = {epsilon = 9.99999974E-6 : f32}, domain = "com.microsoft", version = 1 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>) -> tensor<*xf32>
// CHECK: %[[A:.*]] = tvc_onnx.node "Attention"(%[[S]], %[[K]], %[[K]]) {attrs = {is_causal = 1 : i64}, domain = "", version = 17 : i64} : (tensor<*xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<*xf32>
// CHECK: %[[Y:.*]] = tvc_onnx.node "Relu"(%[[A]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<*xf32>) -> tensor<2x5x8xf32>
// CHECK: return %[[Y]] : tensor<2x5x8xf32>

// SUMMARY: tvc-import: onnx opset 17, 3 nodes, 0 weights (1 Attention, 1 Relu, 1 com.microsoft::SkipLayerNormalization); generic form, not raised

// F16-DAG: tvc.global @g : tensor<8xf16> = dense<1.000000e+00> : tensor<8xf16>
// F16-LABEL: func.func @main_graph(
// F16-SAME: %[[X:.*]]: tensor<2x5x8xf16> {tvc.name = "x"}) -> (tensor<*xf16>, tensor<*xf16>)
// F16: %[[G:.*]] = tvc.weight @g : tensor<8xf16>
// F16: %[[S:.*]] = tvc_onnx.node "SkipLayerNormalization"(%[[X]], %[[X]], %[[G]]) {{.*}}domain = "com.microsoft", version = 1 : i64} : ({{.*}}) -> tensor<*xf16>
// F16: %[[A:.*]] = tvc_onnx.node "Attention"(%[[S]], %[[S]], %[[S]]) {{.*}}domain = "", version = 17 : i64} : ({{.*}}) -> tensor<*xf16>
// F16: %[[P:.*]]:2 = tvc_onnx.node "Split"(%[[A]]) {attrs = {axis = 2 : i64, names = ["p", "q"]}, domain = "", version = 17 : i64} : (tensor<*xf16>) -> (tensor<*xf16>, tensor<*xf16>)
// F16: return %[[P]]#0, %[[P]]#1 : tensor<*xf16>, tensor<*xf16>
