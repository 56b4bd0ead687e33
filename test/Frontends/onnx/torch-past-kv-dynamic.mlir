/// The GPT-2-style decoder with past KV of torch-past-kv.mlir exported with
/// dynamic axes (Inputs/export_torch_past_kv.py: T on input_ids, P on the
/// past inputs), as Hugging Face/optimum export decoders with a cache: each
/// layer computes its mask's slice bounds, sizes and triu diagonal from
/// Shape -> Gather -> arithmetic at run time.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t

/// With --input-shape pinning T = 3 and P = 5, shape inference makes those
/// sizes static, the mask expressions fold and every layer is one causal
/// tvc.attention over the 5 + 3 keys, as in the static export.
// RUN: tvc-import --quiet %S/Inputs/gpt2_past_kv_dynamic.onnx -o %t/pinned.mlir --input-shape=input_ids=1x3 --input-shape=past_key_0=1x4x5x8 --input-shape=past_value_0=1x4x5x8 --input-shape=past_key_1=1x4x5x8 --input-shape=past_value_1=1x4x5x8 --input-shape=past_key_2=1x4x5x8 --input-shape=past_value_2=1x4x5x8
// RUN: FileCheck %s < %t/pinned.mlir
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: %[[PK0:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_0"}, %[[PV0:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_0"}, %[[PK1:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_1"}, %[[PV1:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_1"}, %[[PK2:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_2"}, %[[PV2:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_2"}
// CHECK: tvc_onnx.node "Transpose"(%[[PK0]])
// CHECK: tvc_onnx.node "Transpose"(%[[PV0]])
// CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK: tvc_onnx.node "Transpose"(%[[PK1]])
// CHECK: tvc_onnx.node "Transpose"(%[[PV1]])
// CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK: tvc_onnx.node "Transpose"(%[[PK2]])
// CHECK: tvc_onnx.node "Transpose"(%[[PV2]])
// CHECK: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK-NOT: tvc.attention
// CHECK-NOT: tvc_onnx.node "{{Softmax|MatMul|Where|Trilu|Equal|Slice|Div}}"
// CHECK: return

/// Compiled for the CPU and run, the logits and every present key/value
/// match PyTorch's (the same inputs and goldens as gpt2_past_kv).
// RUN: tvc-run %t/pinned.mlir --inputs %S/Inputs/gpt2_past_kv_dynamic.test_data_set --expected %S/Inputs/gpt2_past_kv_dynamic.test_data_set --max-error-scale 1e-4 | FileCheck %s --check-prefix=PINNED-GOLDEN
// PINNED-GOLDEN-COUNT-7: output_{{[0-6]}}: ok: max abs error

/// Without pins the sizes stay unknown: no mask folds, nothing is raised to
/// attention (never a guessed mask), and the generic graph still runs and
/// matches PyTorch.
// RUN: tvc-import --quiet %S/Inputs/gpt2_past_kv_dynamic.onnx -o %t/dynamic.mlir
// RUN: FileCheck %s --check-prefix=DYNAMIC < %t/dynamic.mlir
// DYNAMIC-LABEL: func.func @main_graph
// DYNAMIC-SAME: tensor<1x?xi64> {tvc.name = "input_ids"}, %{{[^:]*}}: tensor<1x4x?x8xf32> {tvc.name = "past_key_0"}
// DYNAMIC-NOT: tvc.attention
// DYNAMIC-COUNT-3: {{tvc_onnx.node "Softmax"|tvc.softmax}}
// DYNAMIC-NOT: tvc.attention
// RUN: tvc-run %t/dynamic.mlir --inputs %S/Inputs/gpt2_past_kv_dynamic.test_data_set --expected %S/Inputs/gpt2_past_kv_dynamic.test_data_set --max-error-scale 1e-4 | FileCheck %s --check-prefix=DYNAMIC-GOLDEN
// DYNAMIC-GOLDEN-COUNT-7: output_{{[0-6]}}: ok: max abs error

/// Pinning only T leaves P unknown: still generic.
// RUN: tvc-import --quiet %S/Inputs/gpt2_past_kv_dynamic.onnx --input-shape=input_ids=1x3 | FileCheck %s --check-prefix=T-ONLY
// T-ONLY-LABEL: func.func @main_graph
// T-ONLY-SAME: tensor<1x3xi64> {tvc.name = "input_ids"}, %{{[^:]*}}: tensor<1x4x?x8xf32> {tvc.name = "past_key_0"}
// T-ONLY-NOT: tvc.attention
// T-ONLY: return
