// RUN: tvc-opt %s --tvc-approximate-math | FileCheck %s

// f32 tanh, erf, exp and log become arithmetic (no libm call left to
// block vectorization); f64 and other functions are left alone.

// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
// CHECK: return
func.func @gelu_tanh(%x: f32) -> f32 {
  %y = math.tanh %x : f32
  return %y : f32
}

// CHECK-LABEL: func.func @vector_erf_exp_log
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK: return
func.func @vector_erf_exp_log(%x: vector<8xf32>) -> vector<8xf32> {
  %a = math.erf %x : vector<8xf32>
  %b = math.exp %a : vector<8xf32>
  %c = math.log %b : vector<8xf32>
  return %c : vector<8xf32>
}

// CHECK-LABEL: func.func @kept
// CHECK: math.tanh %{{.*}} : f64
// CHECK: math.sqrt %{{.*}} : f32
func.func @kept(%x: f64, %y: f32) -> (f64, f32) {
  %a = math.tanh %x : f64
  %b = math.sqrt %y : f32
  return %a, %b : f64, f32
}
