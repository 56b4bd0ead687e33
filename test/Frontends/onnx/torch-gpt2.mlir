/// A GPT-2-style decoder written in plain torch.nn and exported by
/// torch.onnx.export (Inputs/export_torch_models.py) imports and raises to
/// tvc ops: every attention (with its causal mask read from the tril
/// buffer), layer norm (one op at opset 17, the decomposed chain at opset
/// 14), GELU (erf form), linear, residual add, embedding and the fused-qkv
/// split. Only the position-id arithmetic stays generic.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import --quiet %S/Inputs/gpt2_opset17.onnx -o %t/gpt2_17.mlir
// RUN: tvc-opt %t/gpt2_17.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s
// RUN: tvc-import --quiet %S/Inputs/gpt2_opset14.onnx -o %t/gpt2_14.mlir
// RUN: tvc-opt %t/gpt2_14.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @main_graph
// CHECK-COUNT-1: tvc.embedding
// Layer 0.
// CHECK: tvc.layer_norm
// CHECK: tvc.linear
// CHECK: tvc.split %{{.*}} sizes [32, 32, 32]
// CHECK: tvc.attention %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x?x32xf32>
// CHECK: tvc.linear
// CHECK: tvc.add
// CHECK: tvc.layer_norm
// CHECK: tvc.linear
// CHECK: tvc.gelu %{{.*}} : tensor<1x?x128xf32>
// CHECK: tvc.linear
// CHECK: tvc.add
// Layer 1.
// CHECK: tvc.layer_norm
// CHECK: tvc.attention %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal)
// CHECK: tvc.gelu
// Final norm and the (untied in ONNX) head as a linear.
// CHECK: tvc.layer_norm
// CHECK: tvc.linear %{{.*}} structure(#tvc.dense<in_out>) : (tensor<1x?x32xf32>, tensor<32x64xf32>) -> tensor<1x?x64xf32>
// CHECK: return

// Counted over the whole function: nothing left of the attention,
// normalization or MLP nodes.
// RUN: tvc-opt %t/gpt2_17.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=COUNT
// RUN: tvc-opt %t/gpt2_14.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=COUNT
// COUNT-COUNT-2: tvc.attention
// COUNT-NOT: tvc.attention
// COUNT-NOT: tvc_onnx.node "{{Softmax|Erf|MatMul|ReduceMean|LayerNormalization|Transpose|Reshape|Where}}"

/// tvc-import raises by default and says what it recognised.
// RUN: tvc-import %S/Inputs/gpt2_opset17.onnx -o %t/raised.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// SUMMARY: tvc-import: onnx opset 17, 205 nodes, 30 weights: 4 add, 2 attention, 2 embedding, 2 gelu, 5 layer_norm, 9 linear, 2 split; 8 unsupported (1 Add, 1 Cast, 3 Constant, 1 Gather, 1 Range, 1 Shape, kept generic)
