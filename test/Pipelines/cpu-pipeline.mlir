// RUN: tvc-opt %s -tvc-cpu-pipeline | FileCheck %s

// The whole CPU lowering on a one-layer model: heavy ops become runtime
// kernel calls, the rest LLVM loops; the weights come from a trailing blob
// argument whose layout stays recorded on the globals for the artifact
// writer. The temporaries (linear, attention and norm outputs) and the
// returned logits, sized at the bound of 16 positions, live in a trailing
// arena argument: nothing is allocated or freed. Each kernel call's status
// is tested and a failure reported to the runtime.

// CHECK: module attributes {tvc.weights_bytes = 1216 : i64}
// CHECK: tvc.global @w : tensor<8x4xf32> = {{.*}} {tvc.offset = 0 : i64}
// CHECK: tvc.global @scale : tensor<8xf32> = {{.*}} {tvc.offset = 128 : i64}
// CHECK: tvc.global @head : tensor<32x8xf32> = {{.*}} {tvc.offset = 192 : i64}
tvc.global @w : tensor<8x4xf32> = dense<0.5> : tensor<8x4xf32>
tvc.global @scale : tensor<8xf32> = dense<1.0> : tensor<8xf32>
tvc.global @head : tensor<32x8xf32> = dense<0.25> : tensor<32x8xf32>

// CHECK-LABEL: llvm.func @forward
// CHECK-SAME: tvc.arena_buffers = 4 : i64, tvc.arena_bytes = 2560 : i64, tvc.heap_buffers = 0 : i64
// CHECK-NOT: {{(= |^ +)tvc\.}}
// CHECK-NOT: llvm.call @{{malloc|free}}
// CHECK: %[[STATUS:.*]] = llvm.call @tvc_kernel_linear_f32
// CHECK: %[[FAILED:.*]] = llvm.icmp "ne" %[[STATUS]]
// CHECK: llvm.cond_br %[[FAILED]]
// CHECK: llvm.call @tvc_runtime_kernel_failed(%{{.*}}, %[[STATUS]])
// CHECK-NOT: llvm.call @{{malloc|free}}
// CHECK: llvm.call @tvc_kernel_attention_f32
// CHECK-NOT: llvm.call @{{malloc|free}}
// CHECK: llvm.call @tvc_kernel_linear_f32
// CHECK-NOT: llvm.call @{{malloc|free}}
// CHECK: llvm.return
// CHECK: llvm.func @_mlir_ciface_forward
// CHECK-DAG: llvm.func @tvc_kernel_linear_f32(!llvm.ptr) -> i32
// CHECK-DAG: llvm.func @tvc_kernel_attention_f32(!llvm.ptr) -> i32
// CHECK-DAG: llvm.func @tvc_runtime_kernel_failed(!llvm.ptr, i32)
// CHECK-DAG: llvm.mlir.global private constant @__tvc_kernel_name.tvc_kernel_attention_f32("tvc_kernel_attention_f32\00")
func.func @forward(%x: tensor<1x?x4xf32> {tvc.max_shape = array<i64: 1, 16, 4>}) -> tensor<1x?x32xf32> attributes {llvm.emit_c_interface} {
  %h = tvc.layer 0 (%x) : (tensor<1x?x4xf32>) -> tensor<1x?x8xf32> {
  ^bb0(%in: tensor<1x?x4xf32>):
    %w = tvc.weight @w : tensor<8x4xf32>
    %y = tvc.linear %in, %w : (tensor<1x?x4xf32>, tensor<8x4xf32>) -> tensor<1x?x8xf32>
    %a = tvc.attention %y, %y, %y heads 2 kv_heads 2 mask(#tvc.causal) : tensor<1x?x8xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32>
    %s = tvc.weight @scale : tensor<8xf32>
    %n = tvc.rms_norm %a, %s epsilon 1.0e-05 : tensor<1x?x8xf32>, tensor<8xf32>
    tvc.yield %n : tensor<1x?x8xf32>
  }
  %head = tvc.weight @head : tensor<32x8xf32>
  %logits = tvc.lm_head %h, %head : tensor<1x?x8xf32>, tensor<32x8xf32>
  return %logits : tensor<1x?x32xf32>
}
