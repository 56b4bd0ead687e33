// RUN: tvc-opt %s --tvc-plan-memory=report --split-input-file --allow-unregistered-dialect -verify-diagnostics | FileCheck %s

// Three temporaries: %a dies before %c is made, so %c reuses %a's bytes;
// %b lives across both. The returned buffer stays on the heap. Sizes of
// dynamic buffers are taken at the bound tvc.max_shape gives (64 rows).

// CHECK-LABEL: func.func @chain
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<1x?xf32> {tvc.max_shape = array<i64: 1, 64>}
// CHECK-SAME: %[[ARENA:[a-z0-9]+]]: memref<?xi8> {tvc.arena}
// CHECK-SAME: attributes {tvc.arena_buffers = 3 : i64, tvc.arena_bytes = 512 : i64, tvc.heap_buffers = 1 : i64}
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[T:.*]] = memref.dim %[[X]], %c1
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][%[[T]]] : memref<?xi8> to memref<1x?xf32>
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%[[C256]]][%[[T]]] : memref<?xi8> to memref<1x?xf32>
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%[[C0]]][%[[T]]] : memref<?xi8> to memref<1x?xf32>
// CHECK: %[[R:.*]] = memref.alloc(%[[T]])
// CHECK-NOT: memref.alloc
// CHECK: return %[[R]]
// expected-remark @below {{memory plan: 3 buffers in an arena of 512 B (512 bytes; 768 B without reuse); on the heap: 1 escape the function}}
func.func @chain(%x: memref<1x?xf32> {tvc.max_shape = array<i64: 1, 64>}) -> memref<1x?xf32> {
  %c1 = arith.constant 1 : index
  %t = memref.dim %x, %c1 : memref<1x?xf32>
  %a = memref.alloc(%t) {alignment = 64 : i64} : memref<1x?xf32>
  memref.copy %x, %a : memref<1x?xf32> to memref<1x?xf32>
  %b = memref.alloc(%t) {alignment = 64 : i64} : memref<1x?xf32>
  memref.copy %a, %b : memref<1x?xf32> to memref<1x?xf32>
  %c = memref.alloc(%t) {alignment = 64 : i64} : memref<1x?xf32>
  memref.copy %b, %c : memref<1x?xf32> to memref<1x?xf32>
  %r = memref.alloc(%t) {alignment = 64 : i64} : memref<1x?xf32>
  memref.copy %c, %r : memref<1x?xf32> to memref<1x?xf32>
  memref.copy %b, %r : memref<1x?xf32> to memref<1x?xf32>
  return %r : memref<1x?xf32>
}

// -----

// A ring cache's reads (tvc-derive-decode): the concatenation of two
// slices of a 4-row ring and the new rows has size head + tail + T, where
// head = min(past, 4 - start) and tail = past' - head; sums (affine.apply),
// differences (at most the minuend), minima and remainders are bounded, so
// the buffer is in the arena, at 4 + 4 + 64 rows of 4 floats (each slice
// is bounded by the ring on its own: the bound does not know that head +
// tail <= 4).

// CHECK-LABEL: func.func @ring_rows
// CHECK-SAME: tvc.arena_bytes = 1152 : i64
// CHECK-NOT: memref.alloc(
// expected-remark @below {{memory plan: 1 buffers in an arena of 1.1 KiB (1152 bytes; 1.1 KiB without reuse)}}
func.func @ring_rows(%x: memref<1x?x4xf32> {tvc.max_shape = array<i64: 1, 64, 4>}, %past: index, %y: memref<1x?x4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.dim %x, %c1 : memref<1x?x4xf32>
  %kept = arith.minsi %past, %c4 : index
  %oldest = arith.subi %past, %kept : index
  %start = arith.remsi %oldest, %c4 : index
  %room = arith.subi %c4, %start : index
  %head = arith.minsi %kept, %room : index
  %tail = arith.subi %kept, %head : index
  %rows = affine.apply affine_map<()[s0, s1, s2] -> (s0 + s1 + s2)>()[%head, %tail, %t]
  %a = memref.alloc(%rows) {alignment = 64 : i64} : memref<1x?x4xf32>
  "test.use"(%a, %y) : (memref<1x?x4xf32>, memref<1x?x4xf32>) -> ()
  return
}

// -----

// A view keeps its buffer alive: %a is read through %v after %b is made,
// so the two do not share bytes. Static shapes, odd sizes rounded to 64.

// CHECK-LABEL: func.func @through_view
// CHECK-SAME: tvc.arena_bytes = 128 : i64
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<?xi8> to memref<2x3xf32>
// CHECK: memref.view %{{.*}}[%[[C64]]][] : memref<?xi8> to memref<6xf32>
// expected-remark @below {{memory plan: 2 buffers in an arena of 128 B (128 bytes; 48 B without reuse)}}
func.func @through_view(%x: memref<6xf32>, %y: memref<6xf32>) {
  %a = memref.alloc() : memref<2x3xf32>
  %v = memref.collapse_shape %a [[0, 1]] : memref<2x3xf32> into memref<6xf32>
  memref.copy %x, %v : memref<6xf32> to memref<6xf32>
  %b = memref.alloc() : memref<6xf32>
  memref.copy %x, %b : memref<6xf32> to memref<6xf32>
  memref.copy %v, %y : memref<6xf32> to memref<6xf32>
  memref.copy %b, %y : memref<6xf32> to memref<6xf32>
  return
}

// -----

// Without a bound on the dynamic extent, inside a loop, or returned through
// a view, a buffer stays on the heap, and a function that places nothing
// gets no arena argument.

// CHECK-LABEL: func.func @heap_only(%{{[a-z0-9]+}}: memref<?xf32>, %{{[a-z0-9]+}}: index) -> memref<4xf32>
// CHECK-SAME: tvc.arena_buffers = 0 : i64, tvc.arena_bytes = 0 : i64, tvc.heap_buffers = 3 : i64
// CHECK-COUNT-3: memref.alloc
// expected-remark @below {{memory plan: 0 buffers in an arena of 0 B (0 bytes; 0 B without reuse); on the heap: 1 escape the function, 1 have no size bound, 1 are allocated inside a region}}
func.func @heap_only(%x: memref<?xf32>, %n: index) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = memref.dim %x, %c0 : memref<?xf32>
  %a = memref.alloc(%d) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %l = memref.alloc() : memref<4xf32>
    "test.use"(%l) : (memref<4xf32>) -> ()
  }
  %r = memref.alloc() : memref<2x2xf32>
  %v = memref.collapse_shape %r [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  return %v : memref<4xf32>
}

// -----

// Callers make a function private to the plan: its signature is left alone.

// CHECK-LABEL: func.func @callee
// CHECK-NOT: tvc.arena
// CHECK: memref.alloc
func.func @callee() {
  %a = memref.alloc() : memref<4xf32>
  "test.use"(%a) : (memref<4xf32>) -> ()
  return
}
func.func @caller() {
  call @callee() : () -> ()
  return
}

// -----

// A dealloc written before planning is dropped with its allocation (the
// arena owns the bytes); a buffer in another memory space stays.

// CHECK-LABEL: func.func @with_dealloc
// CHECK-NOT: memref.dealloc %{{.*}} : memref<8xf32>
// CHECK: memref.view
// CHECK: memref.alloc() : memref<8xf32, 1>
// CHECK: memref.dealloc %{{.*}} : memref<8xf32, 1>
// expected-remark @below {{memory plan: 1 buffers in an arena of 64 B (64 bytes; 32 B without reuse); on the heap: 1 have a layout, memory space or element type an arena cannot hold}}
func.func @with_dealloc(%x: memref<8xf32>) {
  %a = memref.alloc() : memref<8xf32>
  memref.copy %x, %a : memref<8xf32> to memref<8xf32>
  memref.dealloc %a : memref<8xf32>
  %b = memref.alloc() : memref<8xf32, 1>
  memref.copy %x, %b : memref<8xf32> to memref<8xf32, 1>
  memref.dealloc %b : memref<8xf32, 1>
  return
}

// -----

// With `results`, a returned buffer (here through a view) lives in the
// arena until the return, beside the temporaries live at that point.

// RUN: tvc-opt %s --tvc-plan-memory=results=true --split-input-file --allow-unregistered-dialect | FileCheck %s --check-prefix=RESULTS
// RESULTS-LABEL: func.func @returned
// RESULTS-SAME: tvc.arena_buffers = 2 : i64, tvc.arena_bytes = 128 : i64, tvc.heap_buffers = 0 : i64
// RESULTS-NOT: memref.alloc
// RESULTS: %[[V:.*]] = memref.view
// RESULTS: %[[R:.*]] = memref.collapse_shape %[[V]]
// RESULTS: return %[[R]]
// expected-remark @below {{memory plan: 1 buffers in an arena of 64 B (64 bytes; 16 B without reuse); on the heap: 1 escape the function}}
func.func @returned(%x: memref<4xf32>) -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  %r = memref.alloc() : memref<2x2xf32>
  %v = memref.collapse_shape %r [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  memref.copy %a, %v : memref<4xf32> to memref<4xf32>
  "test.use"(%a) : (memref<4xf32>) -> ()
  return %v : memref<4xf32>
}

// -----

// Memrefs are not bit-packed: 100 bools take 100 bytes, not 13, so the
// second buffer starts at 128, not at 64 (a plan of 13 bytes let the
// lowered stores write past the buffer).

// CHECK-LABEL: func.func @booleans
// CHECK-SAME: tvc.arena_bytes = 256 : i64
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<?xi8> to memref<100xi1>
// CHECK: memref.view %{{.*}}[%[[C128]]][] : memref<?xi8> to memref<100xi1>
// expected-remark @below {{memory plan: 2 buffers in an arena of 256 B (256 bytes; 200 B without reuse)}}
func.func @booleans(%x: memref<100xi1>, %y: memref<100xi1>) {
  %a = memref.alloc() : memref<100xi1>
  %b = memref.alloc() : memref<100xi1>
  memref.copy %x, %a : memref<100xi1> to memref<100xi1>
  memref.copy %x, %b : memref<100xi1> to memref<100xi1>
  memref.copy %a, %y : memref<100xi1> to memref<100xi1>
  memref.copy %b, %y : memref<100xi1> to memref<100xi1>
  return
}
