/// Decoders with explicit past-KV inputs. A GPT-2-style one, exported by
/// torch.onnx.export with static shapes (Inputs/export_torch_past_kv.py:
/// P = 5 cached positions, T = 3 new tokens, 3 layers): every attention is
/// one tvc.attention over the packed past keys followed by the new ones,
/// with the causal mask at the queries' positions 5..7, whichever way its
/// layer builds the mask (layer 0: sliced tril buffer, layer 1:
/// tril(ones)[-T:], layer 2: additive triu of -inf). The present outputs
/// stay the generic Concats.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import --quiet %S/Inputs/gpt2_past_kv.onnx -o %t/past.mlir
// RUN: tvc-opt %t/past.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @main_graph
// CHECK-COUNT-3: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 4 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK-NOT: tvc.attention
// CHECK: return

/// Each layer's attention reads its own past keys and values.
// RUN: tvc-opt %t/past.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=LAYER
// LAYER-LABEL: func.func @main_graph
// LAYER-SAME: %[[PK0:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_0"}, %[[PV0:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_0"}, %[[PK1:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_1"}, %[[PV1:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_1"}, %[[PK2:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_key_2"}, %[[PV2:[^:]*]]: tensor<1x4x5x8xf32> {tvc.name = "past_value_2"}
// LAYER: tvc_onnx.node "Transpose"(%[[PK0]])
// LAYER: tvc_onnx.node "Transpose"(%[[PV0]])
// LAYER: tvc.attention {{.*}} mask(#tvc.causal)
// LAYER: tvc_onnx.node "Transpose"(%[[PK1]])
// LAYER: tvc_onnx.node "Transpose"(%[[PV1]])
// LAYER: tvc.attention {{.*}} mask(#tvc.causal)
// LAYER: tvc_onnx.node "Transpose"(%[[PK2]])
// LAYER: tvc_onnx.node "Transpose"(%[[PV2]])
// LAYER: tvc.attention {{.*}} mask(#tvc.causal)

/// Nothing of the attention arithmetic stays generic.
// RUN: tvc-opt %t/past.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=GENERIC
// GENERIC-LABEL: func.func @main_graph
// GENERIC-NOT: tvc_onnx.node "{{Softmax|MatMul|Where|Trilu|Equal|Slice|Div}}"
// GENERIC: return

/// The mask bias[:, :, :T, :P+T] forgets the offset (query i sees keys
/// 0..i): not causal at positions 5..7, so nothing is raised to attention.
// RUN: tvc-import --quiet %S/Inputs/gpt2_past_kv_topleft.onnx -o %t/topleft.mlir
// RUN: tvc-opt %t/topleft.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=TOPLEFT
// TOPLEFT-LABEL: func.func @main_graph
// TOPLEFT-NOT: tvc.attention
// TOPLEFT: tvc_onnx.node "Where"
// TOPLEFT: tvc.softmax
// TOPLEFT-NOT: tvc.attention

/// Compiled for the CPU and run, the logits and every present key/value
/// match PyTorch's (max abs error <= 1e-4 * max |value|); the top-left
/// model runs generic.
// RUN: tvc-run %t/past.mlir --inputs %S/Inputs/gpt2_past_kv.test_data_set --expected %S/Inputs/gpt2_past_kv.test_data_set --max-error-scale 1e-4 | FileCheck %s --check-prefix=GOLDEN
// GOLDEN-COUNT-7: output_{{[0-6]}}: ok: max abs error
// RUN: tvc-run %t/topleft.mlir --inputs %S/Inputs/gpt2_past_kv_topleft.test_data_set --expected %S/Inputs/gpt2_past_kv_topleft.test_data_set --max-error-scale 1e-4 | FileCheck %s --check-prefix=TOPLEFT-GOLDEN
// TOPLEFT-GOLDEN-COUNT-3: output_{{[0-2]}}: ok: max abs error

/// LLaMA style with a cache (Inputs/export_torch_past_kv.py): RoPE on the
/// new q and k with the position_ids input ([1, T], 5..7) becomes tvc.rope
/// (theta read from the tables), repeat_kv after the concat the GQA ratio,
/// and the additive triu mask causal over the 5 + 3 keys.
// RUN: tvc-import --quiet %S/Inputs/llama_past_kv.onnx -o %t/llama.mlir
// RUN: tvc-opt %t/llama.mlir --convert-onnx-to-tvc=weights-dir=%t --canonicalize | FileCheck %s --check-prefix=LLAMA
// LLAMA-LABEL: func.func @main_graph
// LLAMA-SAME: %[[POS:[^:]*]]: tensor<1x3xi64> {tvc.name = "position_ids"}
// LLAMA-COUNT-2: tvc.rope %{{.*}}, %[[POS]] heads {{4|2}} theta 1.000000e+04
// LLAMA: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
// LLAMA-COUNT-2: tvc.rope %{{.*}}, %[[POS]] heads {{4|2}} theta 1.000000e+04
// LLAMA: tvc.attention %{{.*}}, %{{.*}}, %{{.*}} heads 4 kv_heads 2 mask(#tvc.causal) : tensor<1x3x32xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
// LLAMA-NOT: tvc.attention
// LLAMA-NOT: tvc_onnx.node "{{Softmax|MatMul|Expand|Div}}"
// RUN: tvc-run %t/llama.mlir --inputs %S/Inputs/llama_past_kv.test_data_set --expected %S/Inputs/llama_past_kv.test_data_set --max-error-scale 1e-4 | FileCheck %s --check-prefix=LLAMA-GOLDEN
// LLAMA-GOLDEN-COUNT-5: output_{{[0-4]}}: ok: max abs error
