// RUN: tvc-opt %s -split-input-file -convert-onnx-to-linalg="strict=true" -verify-diagnostics | FileCheck %s

/// With strict, one error lists every node left generic (op type, domain
/// when not the default one, opset, name and why it stayed), and the pass
/// fails.
// expected-error-re@below {{3 ONNX node(s) could not be lowered to linalg:{{.*}}NonMaxSuppression opset 17 '/nms': unsupported op (no handler){{.*}}Unsqueeze opset 17 '/unsqueeze': {{.*}}FusedMatMul (domain 'com.microsoft') opset 1 '<unnamed>': not in the default domain}}
module {
  func.func @strict_lists_leftovers(%x: tensor<2x?x8xf32>, %axes: tensor<?xi64>) -> tensor<?x?x?x?xf32> {
    %a = tvc_onnx.node "NonMaxSuppression"(%x) {attrs = {}, domain = "", node_name = "/nms", version = 17 : i64} : (tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
    %b = tvc_onnx.node "Unsqueeze"(%a, %axes) {attrs = {}, domain = "", node_name = "/unsqueeze", version = 17 : i64} : (tensor<2x?x8xf32>, tensor<?xi64>) -> tensor<?x?x?x?xf32>
    %c = tvc_onnx.node "FusedMatMul"(%b) {attrs = {}, domain = "com.microsoft", version = 1 : i64} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
    return %c : tensor<?x?x?x?xf32>
  }
}

// -----

/// A node whose axes are read at run time from a tensor of unknown length
/// stays generic; the error gives its handler's reason.
// expected-error-re@below {{1 ONNX node(s) could not be lowered to linalg:{{.*}}Unsqueeze opset 17 '/unsqueeze': axes are neither constant nor a 1-D tensor of static length}}
module {
  func.func @strict_runtime_axes(%x: tensor<2x?x8xf32>, %axes: tensor<?xi64>) -> tensor<?x?x?x?xf32> {
    %b = tvc_onnx.node "Unsqueeze"(%x, %axes) {attrs = {}, domain = "", node_name = "/unsqueeze", version = 17 : i64} : (tensor<2x?x8xf32>, tensor<?xi64>) -> tensor<?x?x?x?xf32>
    return %b : tensor<?x?x?x?xf32>
  }
}

// -----

/// A node of an opset older than any handler of its op says so.
// expected-error-re@below {{1 ONNX node(s) could not be lowered to linalg:{{.*}}Relu opset 1 '<unnamed>': unsupported opset version (no handler this old)}}
module {
  func.func @strict_old_opset(%x: tensor<4xf32>) -> tensor<4xf32> {
    %y = tvc_onnx.node "Relu"(%x) {attrs = {}, domain = "", version = 1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
    return %y : tensor<4xf32>
  }
}

// -----

/// A refused element type is named (ONNX's test_add_uint8).
// expected-error-re@below {{1 ONNX node(s) could not be lowered to linalg:{{.*}}Add opset 14 '<unnamed>': unsupported element type 'ui8' (floats, signless integers and bool are computed with)}}
module {
  func.func @strict_unsigned_add(%x: tensor<4xui8>) -> tensor<4xui8> {
    %y = tvc_onnx.node "Add"(%x, %x) {attrs = {}, domain = "", version = 14 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
    return %y : tensor<4xui8>
  }
}

// -----

/// A fully lowered module passes strict without a diagnostic.
// CHECK-LABEL: func.func @strict_all_lowered
// CHECK-NOT: tvc_onnx
func.func @strict_all_lowered(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tvc_onnx.node "Relu"(%x) {attrs = {}, domain = "", version = 14 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
