// Models older than opset 17 go through libonnx's version converter, and
// every node records the version the model ends up at. Opset 11's
// Unsqueeze and ReduceSum take axes as attributes; at 17 the axes are an
// input, fed by a Constant node the converter adds. Opset 13's ReduceMean
// keeps its axes attribute at 17. A model the converter rejects (libonnx
// 1.12 converts only the default domain, so any custom-domain node) is
// imported at its own opset.
//
// REQUIRES: onnx
// RUN: tvc-import --no-raise %S/Inputs/opset11.onnxtext --quiet | FileCheck %s --check-prefix=OPSET11
// RUN: tvc-import --no-raise %S/Inputs/opset13.onnxtext --quiet | FileCheck %s --check-prefix=OPSET13
// RUN: tvc-import --no-raise %S/Inputs/opset13-custom-domain.onnxtext --quiet | FileCheck %s --check-prefix=KEPT
// RUN: tvc-import --no-raise %S/Inputs/opset11.onnxtext -o - 2>&1 >/dev/null | FileCheck %s --check-prefix=SUMMARY

// OPSET11-LABEL: func.func @main_graph(
// OPSET11-SAME: %[[X:.*]]: tensor<2x3xf32> {tvc.name = "x"}) -> (tensor<1x2x3xf32>, tensor<1x3xf32>)
// OPSET11-NOT: version = 11
// OPSET11: %[[AX0:.*]] = tvc_onnx.node "Constant"() {attrs = {value = dense<0> : tensor<1xi64>}, domain = "", version = 17 : i64} : () -> tensor<1xi64>
// OPSET11: %[[U:.*]] = tvc_onnx.node "Unsqueeze"(%[[X]], %[[AX0]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<1x2x3xf32>
// OPSET11: tvc_onnx.node "Relu"(%[[U]]) {attrs = {}, domain = "", version = 17 : i64}
// OPSET11: %[[AX1:.*]] = tvc_onnx.node "Constant"() {attrs = {value = dense<1> : tensor<1xi64>}, domain = "", version = 17 : i64} : () -> tensor<1xi64>
// OPSET11: tvc_onnx.node "ReduceSum"(%[[U]], %[[AX1]]) {attrs = {keepdims = 0 : i64}, domain = "", version = 17 : i64} : (tensor<1x2x3xf32>, tensor<1xi64>) -> tensor<1x3xf32>
// OPSET11-NOT: version = 11

// OPSET13: tvc_onnx.node "ReduceMean"(%{{.*}}) {attrs = {axes = [1]}, domain = "", version = 17 : i64} : (tensor<2x3xf32>) -> tensor<2x1xf32>

// KEPT: tvc_onnx.node "ReduceMean"(%{{.*}}) {attrs = {axes = [1]}, domain = "", version = 13 : i64} : (tensor<2x3xf32>) -> tensor<2x1xf32>
// KEPT: tvc_onnx.node "Gelu"(%{{.*}}) {attrs = {}, domain = "com.microsoft", version = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>

// SUMMARY: tvc-import: onnx opset 17, 5 nodes, 0 weights (2 Constant, 1 ReduceSum, 1 Relu, 1 Unsqueeze); generic form, not raised
