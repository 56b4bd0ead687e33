// RUN: tvc-opt %s -split-input-file -convert-tvc-to-linalg | FileCheck %s

// Activations and elementwise ops become one parallel linalg.generic over
// the operands, with the scalar formula in the body. Numbers: run-elementwise.mlir.

/// Exact GELU calls math.erf; the dynamic sequence length sizes the init
/// tensor through tensor.dim.
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @gelu_erf_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x64xf32>)
func.func @gelu_erf_dynamic_seq_f32(%x: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  // CHECK-NOT: tvc.gelu
  // CHECK: %[[C1:.*]] = arith.constant 1 : index
  // CHECK: %[[T:.*]] = tensor.dim %[[X]], %[[C1]] : tensor<1x?x64xf32>
  // CHECK: %[[INIT:.*]] = tensor.empty(%[[T]]) : tensor<1x?x64xf32>
  // CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%[[X]] : tensor<1x?x64xf32>) outs(%[[INIT]] : tensor<1x?x64xf32>)
  // CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
  // CHECK: %[[SCALED:.*]] = arith.mulf %[[IN]], %[[RSQRT2]] : f32
  // CHECK: %[[ERF:.*]] = math.erf %[[SCALED]] : f32
  // CHECK: %[[ONE_PLUS:.*]] = arith.addf %{{.*}}, %[[ERF]] : f32
  // CHECK: %[[HALF_X:.*]] = arith.mulf %{{.*}}, %[[IN]] : f32
  // CHECK: %[[OUT:.*]] = arith.mulf %[[HALF_X]], %[[ONE_PLUS]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  // CHECK: return %[[Y]]
  %y = tvc.gelu %x : tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}

// -----

/// The tanh approximation uses sqrt(2/pi) and 0.044715 and no erf; a static
/// shape needs no tensor.dim.
// CHECK-LABEL: func.func @gelu_tanh_static_f32
func.func @gelu_tanh_static_f32(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NOT: tensor.dim
  // CHECK: tensor.empty() : tensor<2x8xf32>
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel"]
  // CHECK-NOT: math.erf
  // CHECK: arith.constant 4.471500e-02 : f32
  // CHECK: arith.constant 0.797884583 : f32
  // CHECK: math.tanh
  // CHECK-NOT: math.erf
  // CHECK: return
  %y = tvc.gelu %x approximate tanh : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

/// SiLU is x / (1 + exp(-x)).
// CHECK-LABEL: func.func @silu_f32
func.func @silu_f32(%x: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[NEG:.*]] = arith.negf %[[IN]] : f32
  // CHECK: %[[EXP:.*]] = math.exp %[[NEG]] : f32
  // CHECK: %[[DEN:.*]] = arith.addf %{{.*}}, %[[EXP]] : f32
  // CHECK: %[[OUT:.*]] = arith.divf %[[IN]], %[[DEN]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  %y = tvc.silu %x : tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

/// ReLU is maximumf with 0 (NaN propagates, as in PyTorch).
// CHECK-LABEL: func.func @relu_f32
func.func @relu_f32(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK: %[[OUT:.*]] = arith.maximumf %[[IN]], %[[ZERO]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  %y = tvc.relu %x : tensor<4x?xf32>
  return %y : tensor<4x?xf32>
}

// -----

/// add reads both operands through identity maps.
// CHECK-LABEL: func.func @add_dynamic_seq_f32
// CHECK-SAME: (%[[LHS:.*]]: tensor<1x?x16xf32>, %[[RHS:.*]]: tensor<1x?x16xf32>)
func.func @add_dynamic_seq_f32(%lhs: tensor<1x?x16xf32>, %rhs: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[LHS]], %[[RHS]] : tensor<1x?x16xf32>, tensor<1x?x16xf32>)
  // CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[SUM:.*]] = arith.addf %[[A]], %[[B]] : f32
  // CHECK: linalg.yield %[[SUM]] : f32
  %sum = tvc.add %lhs, %rhs : tensor<1x?x16xf32>
  return %sum : tensor<1x?x16xf32>
}

// -----

/// SwiGLU: silu(gate) * up in one generic.
// CHECK-LABEL: func.func @glu_silu_f32
// CHECK-SAME: (%[[GATE:.*]]: tensor<1x?x16xf32>, %[[UP:.*]]: tensor<1x?x16xf32>)
func.func @glu_silu_f32(%gate: tensor<1x?x16xf32>, %up: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[GATE]], %[[UP]] : tensor<1x?x16xf32>, tensor<1x?x16xf32>)
  // CHECK: ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32, %{{.*}}: f32):
  // CHECK: math.exp
  // CHECK: %[[ACT:.*]] = arith.divf %[[G]], %{{.*}} : f32
  // CHECK: %[[OUT:.*]] = arith.mulf %[[ACT]], %[[U]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  %h = tvc.glu %gate, %up activation silu : tensor<1x?x16xf32>
  return %h : tensor<1x?x16xf32>
}

// -----

/// GeGLU with the exact and the tanh GELU, ReGLU with maximumf.
// CHECK-LABEL: func.func @glu_gelu_relu_f32
func.func @glu_gelu_relu_f32(%gate: tensor<2x16xf32>, %up: tensor<2x16xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  // CHECK: linalg.generic
  // CHECK: math.erf
  // CHECK: linalg.generic
  // CHECK: math.tanh
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[ACT:.*]] = arith.maximumf %[[G]], %{{.*}} : f32
  // CHECK: arith.mulf %[[ACT]], %[[U]] : f32
  %a = tvc.glu %gate, %up activation gelu : tensor<2x16xf32>
  %b = tvc.glu %gate, %up activation gelu_tanh : tensor<2x16xf32>
  %c = tvc.glu %gate, %up activation relu : tensor<2x16xf32>
  return %a, %b, %c : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

/// The conversion is partial: heavy ops and weights stay for other passes,
/// light ops around them are lowered.
// CHECK-LABEL: func.func @heavy_ops_untouched_f32
tvc.global @w : tensor<32x16xf32> = dense<1.0> : tensor<32x16xf32>
func.func @heavy_ops_untouched_f32(%x: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  // CHECK: %[[W:.*]] = tvc.weight @w : tensor<32x16xf32>
  // CHECK: %[[Y:.*]] = tvc.linear %{{.*}}, %[[W]]
  // CHECK: %[[ACT:.*]] = linalg.generic
  // CHECK-SAME: ins(%[[Y]] : tensor<1x?x32xf32>)
  // CHECK-NOT: tvc.gelu
  // CHECK: return %[[ACT]]
  %w = tvc.weight @w : tensor<32x16xf32>
  %y = tvc.linear %x, %w : (tensor<1x?x16xf32>, tensor<32x16xf32>) -> tensor<1x?x32xf32>
  %a = tvc.gelu %y : tensor<1x?x32xf32>
  return %a : tensor<1x?x32xf32>
}
