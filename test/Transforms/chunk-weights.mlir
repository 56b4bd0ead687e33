// RUN: tvc-opt %s '-tvc-chunk-weights=max-bytes=1KiB' -mlir-print-op-on-diagnostic=false 2>&1 | FileCheck %s
// RUN: tvc-opt %s '-tvc-chunk-weights=max-bytes=100%' | FileCheck %s --check-prefix=WHOLE
// RUN: not tvc-opt %s '-tvc-chunk-weights' 2>&1 | FileCheck %s --check-prefix=NOSIZE
// RUN: not tvc-opt %s '-tvc-chunk-weights=max-bytes=big' 2>&1 | FileCheck %s --check-prefix=BADSIZE

/// A tied 24x16 table (1536 bytes): the gather keeps the whole table, the
/// head reads two chunks of 12 rows.
tvc.global @table : tensor<24x16xf32> = dense<1.0> : tensor<24x16xf32>
/// A 40x16 linear with bias (2560 bytes): three chunks of 13, 13, 14 rows
/// and the matching rows of the bias.
tvc.global @w : tensor<40x16xf32> = dense<1.0> : tensor<40x16xf32>
tvc.global @b : tensor<40xf32> = dense<1.0> : tensor<40xf32>
/// A small matrix (512 bytes) stays whole.
tvc.global @small : tensor<8x16xf32> = dense<1.0> : tensor<8x16xf32>
/// An in_out matrix (GPT-2's Conv1D) has input channels as rows: left
/// whole.
tvc.global @t : tensor<16x40xf32> = dense<1.0> : tensor<16x40xf32>
/// Low-rank factors are not a dense matrix: left alone.
tvc.global @v : tensor<4x16xf32> = dense<1.0> : tensor<4x16xf32>
tvc.global @u : tensor<40x4xf32> = dense<1.0> : tensor<40x4xf32>

// CHECK: remark: tvc-chunk-weights: split 2 op(s) over 1024 bytes into row chunks
// CHECK: tvc.global @table : tensor<24x16xf32>
// CHECK-NEXT: tvc.global @table.rows0 : tensor<12x16xf32> = #tvc.rows<@table, 0>
// CHECK-NEXT: tvc.global @table.rows12 : tensor<12x16xf32> = #tvc.rows<@table, 12>
// CHECK-NEXT: tvc.global @w : tensor<40x16xf32>
// CHECK-NEXT: tvc.global @w.rows0 : tensor<13x16xf32> = #tvc.rows<@w, 0>
// CHECK-NEXT: tvc.global @w.rows13 : tensor<13x16xf32> = #tvc.rows<@w, 13>
// CHECK-NEXT: tvc.global @w.rows26 : tensor<14x16xf32> = #tvc.rows<@w, 26>
// CHECK-NEXT: tvc.global @b : tensor<40xf32>
// CHECK-NEXT: tvc.global @b.rows0 : tensor<13xf32> = #tvc.rows<@b, 0>
// CHECK-NEXT: tvc.global @b.rows13 : tensor<13xf32> = #tvc.rows<@b, 13>
// CHECK-NEXT: tvc.global @b.rows26 : tensor<14xf32> = #tvc.rows<@b, 26>
// CHECK-LABEL: func.func @model
func.func @model(%ids: tensor<1x?xi64>) -> (tensor<1x?x24xf32>, tensor<1x?x40xf32>, tensor<1x?x8xf32>, tensor<1x?x40xf32>, tensor<1x?x40xf32>) {
  // CHECK: %[[T:.*]] = tvc.weight @table : tensor<24x16xf32>
  // CHECK: %[[H:.*]] = tvc.embedding %[[T]]
  %t = tvc.weight @table : tensor<24x16xf32>
  %h = tvc.embedding %t, %ids : tensor<24x16xf32>, tensor<1x?xi64>
  // CHECK: %[[C0:.*]] = tvc.weight @table.rows0 : tensor<12x16xf32>
  // CHECK: %[[L0:.*]] = tvc.lm_head %[[H]], %[[C0]] : tensor<1x?x16xf32>, tensor<12x16xf32>
  // CHECK: %[[C1:.*]] = tvc.weight @table.rows12 : tensor<12x16xf32>
  // CHECK: %[[L1:.*]] = tvc.lm_head %[[H]], %[[C1]] : tensor<1x?x16xf32>, tensor<12x16xf32>
  // CHECK: %[[LOGITS:.*]] = tensor.concat dim(2) %[[L0]], %[[L1]] : (tensor<1x?x12xf32>, tensor<1x?x12xf32>) -> tensor<1x?x24xf32>
  %logits = tvc.lm_head %h, %t : tensor<1x?x16xf32>, tensor<24x16xf32>
  // CHECK: %[[W0:.*]] = tvc.weight @w.rows0 : tensor<13x16xf32>
  // CHECK: %[[B0:.*]] = tvc.weight @b.rows0 : tensor<13xf32>
  // CHECK: tvc.linear %[[H]], %[[W0]] bias %[[B0]] : (tensor<1x?x16xf32>, tensor<13x16xf32>, tensor<13xf32>) -> tensor<1x?x13xf32>
  // CHECK: tvc.weight @w.rows26 : tensor<14x16xf32>
  // CHECK: tensor.concat dim(2) {{.*}} : (tensor<1x?x13xf32>, tensor<1x?x13xf32>, tensor<1x?x14xf32>) -> tensor<1x?x40xf32>
  %w = tvc.weight @w : tensor<40x16xf32>
  %b = tvc.weight @b : tensor<40xf32>
  %y = tvc.linear %h, %w bias %b : (tensor<1x?x16xf32>, tensor<40x16xf32>, tensor<40xf32>) -> tensor<1x?x40xf32>
  // CHECK: tvc.weight @small : tensor<8x16xf32>
  %s = tvc.weight @small : tensor<8x16xf32>
  %z = tvc.linear %h, %s : (tensor<1x?x16xf32>, tensor<8x16xf32>) -> tensor<1x?x8xf32>
  // CHECK: %[[T:.*]] = tvc.weight @t : tensor<16x40xf32>
  // CHECK: tvc.linear %{{.*}}, %[[T]] structure(#tvc.dense<in_out>)
  %tw = tvc.weight @t : tensor<16x40xf32>
  %ty = tvc.linear %h, %tw structure(#tvc.dense<in_out>) : (tensor<1x?x16xf32>, tensor<16x40xf32>) -> tensor<1x?x40xf32>
  // CHECK: tvc.linear {{.*}} structure(#tvc.low_rank<rank = 4>)
  %v = tvc.weight @v : tensor<4x16xf32>
  %u = tvc.weight @u : tensor<40x4xf32>
  %r = tvc.linear %h, %v, %u structure(#tvc.low_rank<rank = 4>) : (tensor<1x?x16xf32>, tensor<4x16xf32>, tensor<40x4xf32>) -> tensor<1x?x40xf32>
  return %logits, %y, %z, %r, %ty : tensor<1x?x24xf32>, tensor<1x?x40xf32>, tensor<1x?x8xf32>, tensor<1x?x40xf32>, tensor<1x?x40xf32>
}

// WHOLE-NOT: tvc.rows
// NOSIZE: error: tvc-chunk-weights: max-bytes: needs a size
// BADSIZE: error: tvc-chunk-weights: max-bytes: cannot read 'big'
