/// A number the textual ONNX parser cannot read (it throws from inside
/// libonnx) is a clear error, not a crash, and nothing is written.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: printf '<\n ir_version: 8, opset_import: ["" : 17]\n>\ng (float[2] x) => (float[4, 4] y) <int64[2] shp = {4, 4}>\n{\n  y = ConstantOfShape <value = float[1] {-inf}> (shp)\n}\n' > %t/inf.onnxtext
// RUN: not tvc-import %t/inf.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir
// CHECK: error: {{.*}}inf.onnxtext: invalid textual ONNX (stof)
