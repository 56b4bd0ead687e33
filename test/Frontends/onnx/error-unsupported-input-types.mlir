/// Graph inputs of a type tvc does not compute with (unsigned integers
/// wider than 8 bits, strings) are refused by name and type, as ONNX's
/// conformance tests test_max_uint16 and test_cast_STRING_to_FLOAT need.
//
// REQUIRES: onnx
// RUN: not tvc-import %S/Inputs/unsupported-input-types.onnxtext -o - 2>&1 | FileCheck %s

// CHECK: error: {{.*}}unsupported-input-types.onnxtext: 2 problem(s) in the model:
// CHECK-NEXT: graph input 'small' has an unsupported type (tensor(UINT16))
// CHECK-NEXT: graph input 'words' has an unsupported type (tensor(STRING))
