/// A LLaMA-style decoder from plain torch.nn (Inputs/export_torch_models.py:
/// GQA, rotary embeddings, hand-written RMSNorm, SwiGLU, untied head).
/// Today its norms, projections, SwiGLU MLPs and residuals are raised; the
/// attention (rotary embedding and KV-head repetition inside the head
/// split) stays generic until those patterns are matched. This test pins
/// the current state so progress shows up as a diff.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import %S/Inputs/llama_opset17.onnx -o %t/llama.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/llama.mlir
// RUN: tvc-opt %t/llama.mlir --tvc-check-weights=base-dir=%t > /dev/null
// SUMMARY: tvc-import: onnx opset 17, 477 nodes, 23 weights: 4 add, 3 embedding, 2 glu, 15 linear, 5 rms_norm;
// SUMMARY-SAME: unsupported
// CHECK-LABEL: func.func @main_graph
// CHECK: tvc.rms_norm %{{.*}} epsilon 9.9999999747524271E-7 : tensor<1x?x32xf32>, tensor<32xf32>
// CHECK: tvc.linear %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x32xf32>, tensor<32x32xf32>) -> tensor<1x?x32xf32>
// CHECK: tvc.linear %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x32xf32>, tensor<32x16xf32>) -> tensor<1x?x16xf32>
// CHECK: tvc.glu %{{.*}}, %{{.*}} activation silu
// CHECK: tvc.rms_norm
// CHECK: tvc.linear %{{.*}} -> tensor<1x?x64xf32>
