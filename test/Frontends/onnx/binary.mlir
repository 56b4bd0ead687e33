// Binary protobuf models (Inputs/make_onnx_models.py). tiny.onnx keeps its
// initializers in raw_data (w, shape, keep, zero) and float_data (b); node
// names become node_name. external/model.onnx is the same
// model with the raw_data initializers in external/weights.bin: the import
// reads them from there (patching w[0][0] in a copy of weights.bin to 10.0
// shows up in the output) and writes the float ones to the safetensors file
// beside the output as usual. A single-element float initializer (zero, f16)
// is a constant.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import --no-raise %S/Inputs/tiny.onnx --quiet | FileCheck %s --check-prefixes=CHECK,INLINE
// RUN: tvc-import --no-raise %S/Inputs/tiny.onnx -o %t/tiny.mlir --quiet
// RUN: FileCheck %s --check-prefixes=CHECK,EXT --input-file=%t/tiny.mlir
// RUN: tvc-opt %t/tiny.mlir --tvc-check-weights=base-dir=%t | FileCheck %s --check-prefixes=CHECK,EXT
//
// RUN: tvc-import --no-raise %S/Inputs/external/model.onnx --quiet | FileCheck %s --check-prefixes=CHECK,INLINE
// RUN: cp %S/Inputs/external/model.onnx %S/Inputs/external/weights.bin %t
// RUN: tvc-import --no-raise %t/model.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --check-prefixes=CHECK,EXT-MODEL --input-file=%t/out.mlir
// RUN: tvc-opt %t/out.mlir --tvc-check-weights=base-dir=%t | FileCheck %s --check-prefixes=CHECK,EXT-MODEL
// RUN: cmp %t/weights.bin %S/Inputs/external/weights.bin
// RUN: printf '\000\000\040\101' | dd of=%t/weights.bin bs=1 seek=0 conv=notrunc status=none
// RUN: tvc-import --no-raise %t/model.onnx --quiet | FileCheck %s --check-prefix=PATCHED
//
// An opset-13 binary model with attributes of each converted kind. Its
// output type has no shape, which ONNX's checker rejects, so it is not
// version-converted (the converter is only trusted with checked models)
// and keeps opset 13.
// RUN: tvc-import --no-raise %S/Inputs/attrs.onnx --quiet | FileCheck %s --check-prefix=ATTRS

// INLINE-DAG: tvc.global @w : tensor<4x2xf32> = dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
// INLINE-DAG: tvc.global @b : tensor<2xf32> = dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// EXT-DAG: tvc.global @w : tensor<4x2xf32> = #tvc.external<"tiny.weights.safetensors", "w">
// EXT-DAG: tvc.global @b : tensor<2xf32> = #tvc.external<"tiny.weights.safetensors", "b">
// EXT-MODEL-DAG: tvc.global @w : tensor<4x2xf32> = #tvc.external<"out.weights.safetensors", "w">
// EXT-MODEL-DAG: tvc.global @b : tensor<2xf32> = #tvc.external<"out.weights.safetensors", "b">
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[X:.*]]: tensor<1x4xf32> {tvc.name = "x"}) -> (tensor<2x1xf32>, tensor<1x2xf32>)
// CHECK-DAG: %[[W:.*]] = tvc.weight @w : tensor<4x2xf32>
// CHECK-DAG: %[[B:.*]] = tvc.weight @b : tensor<2xf32>
// CHECK-DAG: %[[SHAPE:.*]] = arith.constant dense<[2, 1]> : tensor<2xi64>
// CHECK-DAG: %[[KEEP:.*]] = arith.constant dense<[true, false]> : tensor<2xi1>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<1xf16>
// CHECK: %[[M:.*]] = tvc_onnx.node "MatMul"(%[[X]], %[[W]]) {attrs = {}, domain = "", node_name = "fc/MatMul", version = 17 : i64} : (tensor<1x4xf32>, tensor<4x2xf32>) -> tensor<1x2xf32>
// CHECK: %[[Y0:.*]] = tvc_onnx.node "Add"(%[[M]], %[[B]]) {attrs = {}, domain = "", node_name = "fc/Add", version = 17 : i64} : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
// CHECK: %[[Y:.*]] = tvc_onnx.node "Reshape"(%[[Y0]], %[[SHAPE]]) {attrs = {}, domain = "", node_name = "reshape", version = 17 : i64} : (tensor<1x2xf32>, tensor<2xi64>) -> tensor<2x1xf32>
// CHECK: %[[Z32:.*]] = tvc_onnx.node "Cast"(%[[ZERO]]) {attrs = {to = 1 : i64}, domain = "", node_name = "cast", version = 17 : i64} : (tensor<1xf16>) -> tensor<1xf32>
// CHECK: %[[Z:.*]] = tvc_onnx.node "Where"(%[[KEEP]], %[[Y0]], %[[Z32]]) {attrs = {}, domain = "", node_name = "mask/Where", version = 17 : i64} : (tensor<2xi1>, tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x2xf32>
// CHECK: return %[[Y]], %[[Z]] : tensor<2x1xf32>, tensor<1x2xf32>

// SUMMARY-NOT: error
// SUMMARY: tvc-import: onnx opset 17, 5 nodes, 2 weights (1 Add, 1 Cast, 1 MatMul, 1 Reshape, 1 Where); generic form, not raised

// PATCHED: tvc.global @w : tensor<4x2xf32> = dense<{{\[\[}}1.000000e+01, 2.000000e+00], [3.000000e+00, 4.000000e+00],

// ATTRS-LABEL: func.func @main_graph(
// ATTRS-SAME: %{{.*}}: tensor<?x4xf32> {tvc.name = "x"})
// ATTRS: tvc_onnx.node "Gemm"({{.*}}) {attrs = {alpha = 5.000000e-01 : f32, transB = 1 : i64}, domain = "", version = 13 : i64} : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<?x3xf32>
// ATTRS: tvc_onnx.node "Constant"() {attrs = {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>}, domain = "", version = 13 : i64} : () -> tensor<3xf32>
// ATTRS: tvc_onnx.node "Softmax"({{.*}}) {attrs = {axis = -1 : i64}, domain = "", version = 13 : i64}
// ATTRS: tvc_onnx.node "ReduceMean"({{.*}}) {attrs = {axes = [1], keepdims = 1 : i64}, domain = "", version = 13 : i64} : (tensor<?x3xf32>) -> tensor<?x1xf32>
// ATTRS: tvc_onnx.node "Constant"() {attrs = {value_ints = [0]}, domain = "", version = 13 : i64} : () -> tensor<1xi64>
// ATTRS: tvc_onnx.node "Constant"() {attrs = {value_floats = [1.500000e+00 : f32, 2.500000e+00 : f32]}, domain = "", version = 13 : i64} : () -> tensor<2xf32>
// ATTRS: tvc_onnx.node "LeakyRelu"({{.*}}) {attrs = {alpha = 2.500000e-01 : f32}, domain = "", version = 13 : i64} : (tensor<2xf32>) -> tensor<2xf32>
// ATTRS: tvc_onnx.node "Unsqueeze"({{.*}}) {attrs = {}, domain = "", version = 13 : i64}
