// RUN: tvc-opt %s -split-input-file -convert-tvc-to-linalg | FileCheck %s

// Reductions over the last dimension: linalg.generic ops whose last
// iterator is a reduction write one value per row; per-row quantities are
// computed once, then one elementwise generic writes the result. Numbers:
// run-normalization.mlir.

/// Layer norm: row sum, mean, sum of squared deviations from the mean
/// (two passes, not E[x^2] - mean^2), 1 / sqrt(var + eps), then
/// (x - mean) * rstd * scale + bias with scale and bias read per channel.
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[CHAN3:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x64xf32>, %[[SCALE:.*]]: tensor<64xf32>, %[[BIAS:.*]]: tensor<64xf32>)
func.func @layer_norm_dynamic_seq_f32(%x: tensor<1x?x64xf32>, %scale: tensor<64xf32>, %bias: tensor<64xf32>) -> tensor<1x?x64xf32> {
  // CHECK-DAG: %[[COUNT:.*]] = arith.constant 6.400000e+01 : f32
  // CHECK-DAG: %[[T:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<1x?x64xf32>
  // CHECK: %[[ZEROS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x?xf32>)
  // CHECK: %[[SUMS:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]}
  // CHECK-SAME: ins(%[[X]] : tensor<1x?x64xf32>) outs(%[[ZEROS]] : tensor<1x?xf32>)
  // CHECK: arith.addf
  // CHECK: %[[MEANS:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
  // CHECK-SAME: ins(%[[SUMS]] : tensor<1x?xf32>)
  // CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
  // CHECK: %[[SQUARES:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]}
  // CHECK-SAME: ins(%[[X]], %[[MEANS]] : tensor<1x?x64xf32>, tensor<1x?xf32>)
  // CHECK: ^bb0(%[[IN:.*]]: f32, %[[MEAN:.*]]: f32, %[[ACC:.*]]: f32):
  // CHECK: %[[DEV:.*]] = arith.subf %[[IN]], %[[MEAN]] : f32
  // CHECK: %[[SQ:.*]] = arith.mulf %[[DEV]], %[[DEV]] : f32
  // CHECK: arith.addf %[[ACC]], %[[SQ]] : f32
  // CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
  // CHECK: %[[RSTD:.*]] = linalg.generic
  // CHECK-SAME: ins(%[[SQUARES]] : tensor<1x?xf32>)
  // CHECK: %[[VAR:.*]] = arith.divf %{{.*}}, %[[COUNT]] : f32
  // CHECK: %[[SHIFTED:.*]] = arith.addf %[[VAR]], %[[EPS]] : f32
  // CHECK: %[[ROOT:.*]] = math.sqrt %[[SHIFTED]] : f32
  // CHECK: arith.divf %{{.*}}, %[[ROOT]] : f32
  // CHECK: %[[INIT:.*]] = tensor.empty(%[[T]]) : tensor<1x?x64xf32>
  // CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]], #[[ROW3]], #[[CHAN3]], #[[CHAN3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%[[X]], %[[MEANS]], %[[RSTD]], %[[SCALE]], %[[BIAS]] : tensor<1x?x64xf32>, tensor<1x?xf32>, tensor<1x?xf32>, tensor<64xf32>, tensor<64xf32>)
  // CHECK-SAME: outs(%[[INIT]] : tensor<1x?x64xf32>)
  // CHECK: ^bb0(%[[V:.*]]: f32, %[[M:.*]]: f32, %[[R:.*]]: f32, %[[S:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[C:.*]] = arith.subf %[[V]], %[[M]] : f32
  // CHECK: %[[N:.*]] = arith.mulf %[[C]], %[[R]] : f32
  // CHECK: %[[SC:.*]] = arith.mulf %[[N]], %[[S]] : f32
  // CHECK: %[[OUT:.*]] = arith.addf %[[SC]], %[[B]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  // CHECK: return %[[Y]]
  %y = tvc.layer_norm %x, %scale, %bias epsilon 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %y : tensor<1x?x64xf32>
}

// -----

/// Without bias the last generic takes only the scale.
// CHECK-LABEL: func.func @layer_norm_no_bias_f32
func.func @layer_norm_no_bias_f32(%x: tensor<2x?x8xf32>, %scale: tensor<8xf32>) -> tensor<2x?x8xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x?x8xf32>, tensor<2x?xf32>, tensor<2x?xf32>, tensor<8xf32>)
  // CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %[[S:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[OUT:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
  // CHECK-NEXT: linalg.yield %[[OUT]] : f32
  %y = tvc.layer_norm %x, %scale epsilon 1.0e-05 : tensor<2x?x8xf32>, tensor<8xf32>
  return %y : tensor<2x?x8xf32>
}

// -----

/// RMS norm: row sum of squares, 1 / sqrt(mean + eps), x * rrms * scale.
/// A dynamic last dimension is counted with tensor.dim.
// CHECK-LABEL: func.func @rms_norm_dynamic_width_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x?xf32>, %[[SCALE:.*]]: tensor<?xf32>)
func.func @rms_norm_dynamic_width_f32(%x: tensor<1x4x?xf32>, %scale: tensor<?xf32>) -> tensor<1x4x?xf32> {
  // CHECK: %[[C2:.*]] = arith.constant 2 : index
  // CHECK: %[[D:.*]] = tensor.dim %[[X]], %[[C2]] : tensor<1x4x?xf32>
  // CHECK: %[[DI:.*]] = arith.index_castui %[[D]] : index to i64
  // CHECK: %[[COUNT:.*]] = arith.uitofp %[[DI]] : i64 to f32
  // CHECK: %[[SQUARES:.*]] = linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK: ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
  // CHECK: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]] : f32
  // CHECK: arith.addf %[[ACC]], %[[SQ]] : f32
  // CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
  // CHECK: %[[RRMS:.*]] = linalg.generic
  // CHECK-SAME: ins(%[[SQUARES]] : tensor<1x4xf32>)
  // CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
  // CHECK: arith.addf %{{.*}}, %[[EPS]] : f32
  // CHECK: math.sqrt
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[X]], %[[RRMS]], %[[SCALE]] : tensor<1x4x?xf32>, tensor<1x4xf32>, tensor<?xf32>)
  // CHECK: ^bb0(%[[V:.*]]: f32, %[[R:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[N:.*]] = arith.mulf %[[V]], %[[R]] : f32
  // CHECK: %[[OUT:.*]] = arith.mulf %[[N]], %[[S]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  %y = tvc.rms_norm %x, %scale epsilon 1.0e-06 : tensor<1x4x?xf32>, tensor<?xf32>
  return %y : tensor<1x4x?xf32>
}

// -----

/// Softmax: row max from -inf, sum of exp(x - max), then exp(x - max) / sum.
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW2:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax_dynamic_rows_f32
// CHECK-SAME: (%[[X:.*]]: tensor<?x50xf32>)
func.func @softmax_dynamic_rows_f32(%x: tensor<?x50xf32>) -> tensor<?x50xf32> {
  // CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[MAX_INIT:.*]] = linalg.fill ins(%[[NEG_INF]] : f32) outs(%{{.*}} : tensor<?xf32>)
  // CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW2]]], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: ins(%[[X]] : tensor<?x50xf32>) outs(%[[MAX_INIT]] : tensor<?xf32>)
  // CHECK: arith.maximumf
  // CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW2]], #[[ROW2]]], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: ins(%[[X]], %[[MAX]] : tensor<?x50xf32>, tensor<?xf32>)
  // CHECK: ^bb0(%[[IN:.*]]: f32, %[[M:.*]]: f32, %[[ACC:.*]]: f32):
  // CHECK: %[[SHIFT:.*]] = arith.subf %[[IN]], %[[M]] : f32
  // CHECK: %[[E:.*]] = math.exp %[[SHIFT]] : f32
  // CHECK: arith.addf %[[ACC]], %[[E]] : f32
  // CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW2]], #[[ROW2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
  // CHECK-SAME: ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<?x50xf32>, tensor<?xf32>, tensor<?xf32>)
  // CHECK: ^bb0(%[[IN2:.*]]: f32, %[[M2:.*]]: f32, %[[S2:.*]]: f32, %{{.*}}: f32):
  // CHECK: %[[SHIFT2:.*]] = arith.subf %[[IN2]], %[[M2]] : f32
  // CHECK: %[[E2:.*]] = math.exp %[[SHIFT2]] : f32
  // CHECK: %[[OUT:.*]] = arith.divf %[[E2]], %[[S2]] : f32
  // CHECK: linalg.yield %[[OUT]] : f32
  // CHECK: return %[[P]]
  %p = tvc.softmax %x : tensor<?x50xf32>
  return %p : tensor<?x50xf32>
}

// -----

/// Argmax: one reduction carrying (value, index) from (-inf, 0); the index
/// is linalg.index of the reduced dimension; the op's result is the index.
// CHECK-LABEL: func.func @argmax_dynamic_seq_f32
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x100xf32>)
func.func @argmax_dynamic_seq_f32(%x: tensor<1x?x100xf32>) -> tensor<1x?xi64> {
  // CHECK: %[[VALUES:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x?xf32>)
  // CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: %[[INDICES:.*]] = linalg.fill ins(%[[ZERO]] : i64) outs(%{{.*}} : tensor<1x?xi64>)
  // CHECK: %[[BEST:.*]]:2 = linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK-SAME: ins(%[[X]] : tensor<1x?x100xf32>) outs(%[[VALUES]], %[[INDICES]] : tensor<1x?xf32>, tensor<1x?xi64>)
  // CHECK: ^bb0(%[[IN:.*]]: f32, %[[BV:.*]]: f32, %[[BI:.*]]: i64):
  // CHECK: %[[I:.*]] = linalg.index 2 : index
  // CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
  // CHECK: arith.cmpf ogt, %[[IN]], %[[BV]] : f32
  // CHECK: arith.cmpf uno, %[[IN]], %[[IN]] : f32
  // CHECK: arith.cmpf oeq, %[[IN]], %[[BV]] : f32
  // CHECK: arith.cmpi slt, %[[I64]], %[[BI]] : i64
  // CHECK: %[[NV:.*]] = arith.select %[[BETTER:.*]], %[[IN]], %[[BV]] : f32
  // CHECK: %[[NI:.*]] = arith.select %[[BETTER]], %[[I64]], %[[BI]] : i64
  // CHECK: linalg.yield %[[NV]], %[[NI]] : f32, i64
  // CHECK: return %[[BEST]]#1 : tensor<1x?xi64>
  %next = tvc.argmax %x : tensor<1x?x100xf32>
  return %next : tensor<1x?xi64>
}

// -----

/// A vector reduces to a 0-d index tensor.
// CHECK-LABEL: func.func @argmax_vector_f32
func.func @argmax_vector_f32(%x: tensor<16xf32>) -> tensor<i64> {
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["reduction"]
  // CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<i64>)
  %next = tvc.argmax %x : tensor<16xf32>
  return %next : tensor<i64>
}
