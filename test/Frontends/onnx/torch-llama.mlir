/// A LLaMA-style decoder from plain torch.nn (Inputs/export_torch_models.py:
/// GQA with HF's repeat_kv, rotary embeddings from cos/sin tables with
/// rotate_half, hand-written RMSNorm, SwiGLU, untied head) imports with
/// every attention, norm, rotary embedding and MLP raised. The rotary
/// theta is read back from the tables; only the position-id arithmetic
/// stays generic.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import %S/Inputs/llama_opset17.onnx -o %t/llama.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/llama.mlir
// RUN: tvc-opt %t/llama.mlir --tvc-check-weights=base-dir=%t > /dev/null
// SUMMARY: tvc-import: onnx opset 17, 477 nodes, 23 weights: 4 add, 2 attention, 1 embedding, 2 glu, 15 linear, 5 rms_norm, 4 rope; 9 unsupported (1 Cast, 3 Constant, 1 Gather, 1 Range, 1 Shape, 2 Unsqueeze, kept generic)

// CHECK-LABEL: func.func @main_graph
// CHECK: tvc.embedding
// Layer 0: norm, q/k/v projections, rotary q and k, GQA causal attention,
// output projection, residual; norm, SwiGLU, residual.
// CHECK: tvc.rms_norm %{{.*}} epsilon 9.9999999747524271E-7 : tensor<1x?x32xf32>, tensor<32xf32>
// CHECK-DAG: %[[Q:.*]] = tvc.linear %{{.*}} -> tensor<1x?x32xf32>
// CHECK-DAG: %[[K:.*]] = tvc.linear %{{.*}} -> tensor<1x?x16xf32>
// CHECK-DAG: %[[V:.*]] = tvc.linear %{{.*}} -> tensor<1x?x16xf32>
// CHECK: %[[RQ:.*]] = tvc.rope %[[Q]], %[[POS:.*]] heads 4 theta 1.000000e+04 : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: %[[RK:.*]] = tvc.rope %[[K]], %[[POS]] heads 2 theta 1.000000e+04 : tensor<1x?x16xf32>, tensor<1x?xi64>
// CHECK: tvc.attention %[[RQ]], %[[RK]], %[[V]] heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>
// CHECK: tvc.add
// CHECK: tvc.rms_norm
// CHECK: tvc.glu %{{.*}}, %{{.*}} activation silu
// CHECK: tvc.add
// Layer 1.
// CHECK: tvc.rope %{{.*}} heads 4 theta 1.000000e+04
// CHECK: tvc.attention %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal)
// CHECK: tvc.glu
// Final norm and untied head.
// CHECK: tvc.rms_norm
// CHECK: tvc.linear %{{.*}} -> tensor<1x?x64xf32>
// CHECK-NOT: tvc_onnx.node "{{Softmax|MatMul|Transpose|Reshape|Expand|Neg|Concat|Sigmoid|Pow|ReduceMean}}"
