// tvc-import of a textual ONNX MLP (Inputs/mlp.onnxtext: MatMul, Add, Relu,
// MatMul, Add, Softmax over x : float[N, 4]) into generic tvc_onnx.node ops.
// The float initializers go to <output stem>.weights.safetensors beside the
// output, named relative to it, and tvc-check-weights accepts the result.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import --no-raise %S/Inputs/mlp.onnxtext -o %t/mlp.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/mlp.mlir
// RUN: tvc-opt %t/mlp.mlir --tvc-check-weights=base-dir=%t | FileCheck %s
//
// The safetensors header names each initializer with its shape, and the
// bytes are the model's (b2, the last tensor, is {0.25, 0.5, 0.75}).
// RUN: grep -a -o '"[wb][12]":{[^}]*}' %t/mlp.weights.safetensors | FileCheck %s --check-prefix=HEADER
// RUN: tail -c 12 %t/mlp.weights.safetensors | od -An -tf4 | FileCheck %s --check-prefix=BYTES
//
// --quiet prints nothing; a weights file elsewhere is named by its path.
// RUN: rm -rf %t && mkdir -p %t/w
// RUN: tvc-import --no-raise %S/Inputs/mlp.onnxtext -o %t/mlp.mlir --weights %t/w/params.safetensors --quiet 2>&1 | count 0
// RUN: FileCheck %s --input-file=%t/mlp.mlir --check-prefix=ELSEWHERE -DDIR=%t
// RUN: not test -e %t/mlp.weights.safetensors
// RUN: tvc-opt %t/mlp.mlir --tvc-check-weights | FileCheck %s --check-prefix=ELSEWHERE -DDIR=%t

// SUMMARY-NOT: error
// SUMMARY: tvc-import: onnx opset 17, 6 nodes, 4 weights (2 Add, 2 MatMul, 1 Relu, 1 Softmax); generic form, not raised

// CHECK-LABEL: module {
// CHECK-DAG: tvc.global @w1 : tensor<4x8xf32> = #tvc.external<"mlp.weights.safetensors", "w1">
// CHECK-DAG: tvc.global @b1 : tensor<8xf32> = #tvc.external<"mlp.weights.safetensors", "b1">
// CHECK-DAG: tvc.global @w2 : tensor<8x3xf32> = #tvc.external<"mlp.weights.safetensors", "w2">
// CHECK-DAG: tvc.global @b2 : tensor<3xf32> = #tvc.external<"mlp.weights.safetensors", "b2">
// CHECK: func.func @main_graph(%[[X:.*]]: tensor<?x4xf32> {tvc.name = "x"}) -> tensor<?x3xf32> {
// CHECK-DAG: %[[W1:.*]] = tvc.weight @w1 : tensor<4x8xf32>
// CHECK-DAG: %[[B1:.*]] = tvc.weight @b1 : tensor<8xf32>
// CHECK-DAG: %[[W2:.*]] = tvc.weight @w2 : tensor<8x3xf32>
// CHECK-DAG: %[[B2:.*]] = tvc.weight @b2 : tensor<3xf32>
// CHECK: %[[H0:.*]] = tvc_onnx.node "MatMul"(%[[X]], %[[W1]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
// CHECK: %[[H1:.*]] = tvc_onnx.node "Add"(%[[H0]], %[[B1]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// CHECK: %[[H:.*]] = tvc_onnx.node "Relu"(%[[H1]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK: %[[O0:.*]] = tvc_onnx.node "MatMul"(%[[H]], %[[W2]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<?x8xf32>, tensor<8x3xf32>) -> tensor<?x3xf32>
// CHECK: %[[O:.*]] = tvc_onnx.node "Add"(%[[O0]], %[[B2]]) {attrs = {}, domain = "", version = 17 : i64} : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: %[[Y:.*]] = tvc_onnx.node "Softmax"(%[[O]]) {attrs = {axis = -1 : i64}, domain = "", version = 17 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK: return %[[Y]] : tensor<?x3xf32>

// HEADER: "w1":{"dtype":"F32","shape":[4,8],"data_offsets":[0,128]}
// HEADER: "b1":{"dtype":"F32","shape":[8],"data_offsets":[128,160]}
// HEADER: "w2":{"dtype":"F32","shape":[8,3],"data_offsets":[160,256]}
// HEADER: "b2":{"dtype":"F32","shape":[3],"data_offsets":[256,268]}

// BYTES: {{^ *}}0.25{{ +}}0.5{{ +}}0.75{{ *$}}

// ELSEWHERE-DAG: tvc.global @w1 : tensor<4x8xf32> = #tvc.external<"[[DIR]]/w/params.safetensors", "w1">
// ELSEWHERE-DAG: tvc.global @b2 : tensor<3xf32> = #tvc.external<"[[DIR]]/w/params.safetensors", "b2">
