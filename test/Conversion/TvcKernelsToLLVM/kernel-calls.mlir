// RUN: tvc-opt %s -split-input-file -convert-tvc-kernels-to-llvm -verify-diagnostics | FileCheck %s

/// A bufferized kernel call becomes: the aligned pointer of each buffer, a
/// struct {pointers..., scalars...} stored to a stack slot made once in the
/// entry block, a call of the declared C entry point, and a test of its
/// status that reports a failure to the runtime with the kernel's name.
// CHECK-LABEL: func.func @linear_call
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[W:.*]]: memref<16x8xf32>, %[[Y:.*]]: memref<4x16xf32>, %[[M:.*]]: i64)
func.func @linear_call(%x: memref<4x8xf32>, %w: memref<16x8xf32>, %y: memref<4x16xf32>, %m: i64) {
  // CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
  // CHECK: %[[SLOT:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(ptr, ptr, ptr, ptr, i64, i64, i64, i64)> {alignment = 8 : i64} : (i64) -> !llvm.ptr
  // CHECK: %[[XI:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
  // CHECK: %[[XC:.*]] = arith.index_cast %[[XI]] : index to i64
  // CHECK: %[[XP:.*]] = llvm.inttoptr %[[XC]] : i64 to !llvm.ptr
  // CHECK: %[[S0:.*]] = llvm.insertvalue %[[XP]], %{{.*}}[0]
  // CHECK: llvm.insertvalue %{{.*}}[3]
  // CHECK: llvm.insertvalue %[[M]], %{{.*}}[4]
  // CHECK: %[[S:.*]] = llvm.insertvalue %{{.*}}[7]
  // CHECK: llvm.store %[[S]], %[[SLOT]]
  // CHECK: %[[STATUS:.*]] = call @tvc_kernel_linear_f32(%[[SLOT]]) : (!llvm.ptr) -> i32
  // CHECK: %[[ZERO:.*]] = arith.constant 0 : i32
  // CHECK: %[[FAILED:.*]] = arith.cmpi ne, %[[STATUS]], %[[ZERO]] : i32
  // CHECK: scf.if %[[FAILED]] {
  // CHECK:   %[[NAME:.*]] = llvm.mlir.addressof @__tvc_kernel_name.tvc_kernel_linear_f32 : !llvm.ptr
  // CHECK:   func.call @tvc_runtime_kernel_failed(%[[NAME]], %[[STATUS]]) : (!llvm.ptr, i32) -> ()
  // CHECK: }
  // CHECK: return
  %c16 = arith.constant 16 : i64
  %c8 = arith.constant 8 : i64
  %flags = arith.constant 0 : i64
  tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %w : memref<4x8xf32>, memref<16x8xf32>, memref<16x8xf32>) outs(%y : memref<4x16xf32>) scalars(%m, %c16, %c8, %flags : i64, i64, i64, i64)
  return
}
// CHECK: func.func private @tvc_kernel_linear_f32(!llvm.ptr) -> i32
// CHECK: func.func private @tvc_runtime_kernel_failed(!llvm.ptr, i32)
// CHECK: llvm.mlir.global private constant @__tvc_kernel_name.tvc_kernel_linear_f32("tvc_kernel_linear_f32\00")

// -----

/// Two calls with the same struct type share one stack slot and one
/// declaration; an f64 scalar keeps its type in the struct. Each call gets
/// its own status test (the second runs whether or not the first failed),
/// and the kernel's name constant and the reporter are made once.
// CHECK-LABEL: func.func @two_calls_one_slot
func.func @two_calls_one_slot(%a: memref<8xf32>, %b: memref<8xf32>, %s: f64) {
  // CHECK-COUNT-1: llvm.alloca
  // CHECK-NOT: llvm.alloca
  // CHECK: %[[FIRST:.*]] = call @tvc_kernel_scale_f32
  // CHECK: arith.cmpi ne, %[[FIRST]]
  // CHECK: scf.if
  // CHECK: func.call @tvc_runtime_kernel_failed(%{{.*}}, %[[FIRST]])
  // CHECK: %[[SECOND:.*]] = call @tvc_kernel_scale_f32
  // CHECK: arith.cmpi ne, %[[SECOND]]
  // CHECK: scf.if
  // CHECK: func.call @tvc_runtime_kernel_failed(%{{.*}}, %[[SECOND]])
  tvc.kernel_call "tvc_kernel_scale_f32" ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) scalars(%s : f64)
  tvc.kernel_call "tvc_kernel_scale_f32" ins(%b : memref<8xf32>) outs(%a : memref<8xf32>) scalars(%s : f64)
  return
}
// CHECK-COUNT-1: func.func private @tvc_kernel_scale_f32(!llvm.ptr) -> i32
// CHECK-COUNT-1: func.func private @tvc_runtime_kernel_failed
// CHECK-COUNT-1: llvm.mlir.global private constant @__tvc_kernel_name.tvc_kernel_scale_f32
// CHECK-NOT: llvm.mlir.global

// -----

/// Kernel calls in a loop body (scf.for keeps one block): the status test is
/// an scf.if inside the loop, lowered later by convert-scf-to-cf. Two
/// kernels get one name constant each.
// CHECK-LABEL: func.func @calls_in_loop
func.func @calls_in_loop(%a: memref<8xf32>, %b: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // CHECK: scf.for
  // CHECK:   %[[S:.*]] = func.call @tvc_kernel_copy_f32
  // CHECK:   scf.if
  // CHECK:     llvm.mlir.addressof @__tvc_kernel_name.tvc_kernel_copy_f32
  // CHECK:   %[[T:.*]] = func.call @tvc_kernel_negate_f32
  // CHECK:   scf.if
  // CHECK:     llvm.mlir.addressof @__tvc_kernel_name.tvc_kernel_negate_f32
  scf.for %i = %c0 to %n step %c1 {
    tvc.kernel_call "tvc_kernel_copy_f32" ins(%a : memref<8xf32>) outs(%b : memref<8xf32>)
    tvc.kernel_call "tvc_kernel_negate_f32" ins(%b : memref<8xf32>) outs(%a : memref<8xf32>)
  }
  return
}
// CHECK-DAG: llvm.mlir.global private constant @__tvc_kernel_name.tvc_kernel_copy_f32("tvc_kernel_copy_f32\00")
// CHECK-DAG: llvm.mlir.global private constant @__tvc_kernel_name.tvc_kernel_negate_f32("tvc_kernel_negate_f32\00")

// -----

/// A module that already defines the reporter with another type cannot get
/// the status test.
func.func private @tvc_runtime_kernel_failed(i32)
// expected-error @-1 {{'func.func' op is the runtime's failure reporter, expected of type '(!llvm.ptr, i32) -> ()'}}
func.func @negative_reporter_type_clash(%a: memref<8xf32>) {
  tvc.kernel_call "tvc_kernel_copy_f32" outs(%a : memref<8xf32>)
  return
}

// -----

/// A strided view cannot be passed as a plain pointer (bufferization copies
/// such views before the call; this guards against calls built by hand).
func.func @negative_strided_buffer(%a: memref<8x8xf32>, %b: memref<8x4xf32, strided<[8, 1]>>) {
  // expected-error @+1 {{'tvc.kernel_call' op expects contiguous buffers, got 'memref<8x4xf32, strided<[8, 1]>>'}}
  tvc.kernel_call "tvc_kernel_copy_f32" ins(%a : memref<8x8xf32>) outs(%b : memref<8x4xf32, strided<[8, 1]>>)
  return
}

// -----

/// A call still on tensors has not been bufferized.
func.func @negative_tensor_call(%a: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tvc.kernel_call' op must be bufferized before convert-tvc-kernels-to-llvm}}
  %r = tvc.kernel_call "tvc_kernel_copy_f32" outs(%a : tensor<8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

/// The first rows of a [1, capacity, width] cache are one row-major run
/// from the aligned pointer (the batch dimension's stride is never used):
/// passed as they are. tvc-recompute-kv's linear maps read such views.
// CHECK-LABEL: func.func @leading_rows
// CHECK: memref.extract_aligned_pointer_as_index %{{.*}} : memref<1x?x8xf32, strided<[64, 8, 1]>> -> index
// CHECK: call @tvc_kernel_copy_f32
func.func @leading_rows(%a: memref<1x?x8xf32, strided<[64, 8, 1]>>) {
  tvc.kernel_call "tvc_kernel_copy_f32" outs(%a : memref<1x?x8xf32, strided<[64, 8, 1]>>)
  return
}

// -----

/// Rows that do not start at the buffer's start are refused (the kernels
/// get the aligned pointer only).
func.func @negative_rows_with_offset(%a: memref<1x?x8xf32, strided<[64, 8, 1], offset: 8>>) {
  // expected-error @+1 {{'tvc.kernel_call' op expects contiguous buffers, got 'memref<1x?x8xf32, strided<[64, 8, 1], offset: 8>>'}}
  tvc.kernel_call "tvc_kernel_copy_f32" outs(%a : memref<1x?x8xf32, strided<[64, 8, 1], offset: 8>>)
  return
}
