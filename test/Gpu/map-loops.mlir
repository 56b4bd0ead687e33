// RUN: tvc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(tvc-gpu-map-loops))' | FileCheck %s
// RUN: tvc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(tvc-gpu-map-loops,convert-parallel-loops-to-gpu,canonicalize))' | FileCheck %s --check-prefix=LAUNCH
// RUN: not tvc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(tvc-gpu-map-loops{threads=2000}))' 2>&1 | FileCheck %s --check-prefix=BAD

/// [1, T, 64]: 64 threads on the innermost dimension, the 4 rows left to y;
/// blocks over T / 4 rows. The innermost dimension maps to x.
// CHECK-LABEL: func.func @rows
// CHECK: %[[S0:.*]] = arith.muli %c1, %c1{{.*}}
// CHECK: %[[S1:.*]] = arith.muli %c1, %c4
// CHECK: %[[S2:.*]] = arith.muli %c1, %c64
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c1, %arg1, %c64) step (%[[S0]], %[[S1]], %[[S2]])
// CHECK:   scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = ({{.*}}) to (%[[S0]], %[[S1]], %[[S2]])
// CHECK:     scf.if
// CHECK:   } {mapping = [#gpu.loop_dim_map<processor = thread_z, {{.*}}>, #gpu.loop_dim_map<processor = thread_y, {{.*}}>, #gpu.loop_dim_map<processor = thread_x, {{.*}}>]}
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_z, {{.*}}>, #gpu.loop_dim_map<processor = block_y, {{.*}}>, #gpu.loop_dim_map<processor = block_x, {{.*}}>]}
// LAUNCH-LABEL: func.func @rows
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %{{.*}}, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c64, {{.*}} = %c4, {{.*}} = %c1)
func.func @rows(%x: memref<1x?x64xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %cst = arith.constant 2.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %t, %c64) step (%c1, %c1, %c1) {
    %v = memref.load %x[%i, %j, %k] : memref<1x?x64xf32>
    %w = arith.mulf %v, %cst : f32
    memref.store %w, %x[%i, %j, %k] : memref<1x?x64xf32>
    scf.reduce
  }
  return
}

// -----

/// A dynamic innermost extent takes all 256 threads; a fourth dimension
/// runs sequentially in each block.
// CHECK-LABEL: func.func @four_dims
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential, {{.*}}>, #gpu.loop_dim_map<processor = thread_z, {{.*}}>, #gpu.loop_dim_map<processor = thread_y, {{.*}}>, #gpu.loop_dim_map<processor = thread_x, {{.*}}>]
// CHECK: mapping = [#gpu.loop_dim_map<processor = sequential, {{.*}}>, #gpu.loop_dim_map<processor = block_z, {{.*}}>, #gpu.loop_dim_map<processor = block_y, {{.*}}>, #gpu.loop_dim_map<processor = block_x, {{.*}}>]
// LAUNCH-LABEL: func.func @four_dims
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %c5, {{.*}} = %c3) threads({{.*}}) in ({{.*}} = %c256, {{.*}} = %c1, {{.*}} = %c1)
// LAUNCH: scf.for {{.*}} to %c2
func.func @four_dims(%x: memref<2x3x5x?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%a, %b, %c, %d) = (%c0, %c0, %c0, %c0) to (%c2, %c3, %c5, %n) step (%c1, %c1, %c1, %c1) {
    memref.store %cst, %x[%a, %b, %c, %d] : memref<2x3x5x?xf32>
    scf.reduce
  }
  return
}

// -----

/// Small static extents: [3, 5, 6] takes 8 x 8 threads for the last two,
/// the 4 left for the first, one block.
// LAUNCH-LABEL: func.func @small
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c8, {{.*}} = %c8, {{.*}} = %c4)
func.func @small(%x: memref<3x5x6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%a, %b, %c) = (%c0, %c0, %c0) to (%c3, %c5, %c6) step (%c1, %c1, %c1) {
    memref.store %cst, %x[%a, %b, %c] : memref<3x5x6xf32>
    scf.reduce
  }
  return
}

// BAD: threads must be in [1, 1024], got 2000
