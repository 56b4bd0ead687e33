// RUN: tvc-opt %s -split-input-file '-tvc-convert-precision=weights=f16' | FileCheck %s
// RUN: tvc-opt %s -split-input-file '-tvc-convert-precision=weights=f16 report' -mlir-print-op-on-diagnostic=false -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: tvc-opt %s -split-input-file '-tvc-convert-precision=weights=bf16' | FileCheck %s --check-prefix=BF16
// RUN: tvc-opt %s -split-input-file '-tvc-convert-precision=weights=f32' | FileCheck %s --check-prefix=F32
// RUN: tvc-opt %s -split-input-file -tvc-convert-precision | FileCheck %s --check-prefix=KEEP
// RUN: not tvc-opt %s -split-input-file '-tvc-convert-precision=weights=fp8' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: tvc-convert-precision: 'weights' must be keep, f32, bf16 or f16, got 'fp8'

/// An f32 model made f16: the tied table (embedding + LM head) and the dense
/// linear weight become f16 matrices; the gathered rows widen with
/// arith.extf; norm parameters, the bias and the low-rank factors (no
/// 16-bit kernel) stay f32. The f16 bytes are rounded to nearest even:
/// 1.0 = 0x3C00, 0.1 = 0x2E66, -2.5 = 0xC100, 3e-6 = 50 x 2^-24 (a
/// subnormal, 0x0032), 65520 = infinity (0x7C00), 1 + 2^-8 = 0x3C04 (a tie
/// to even), 1 + 3 x 2^-8 = 0x3C0C.
// REMARK: remark: tvc-convert-precision: activations f32; weights converted: 2 to f16; weight bytes 1696 -> 1056
// CHECK-NOT: tvc.global @wte :
// CHECK-NOT: tvc.global @fc.w :
// CHECK: tvc.global @ln.w : tensor<8xf32>
// CHECK: tvc.global @fc.b : tensor<24xf32>
// CHECK: tvc.global @v : tensor<2x8xf32>
// CHECK: tvc.global @u : tensor<24x2xf32>
// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> (tensor<1x4x16xf32>, tensor<1x4x24xf32>, tensor<1x4x24xf32>)
// CHECK: %[[WTE:.*]] = tvc.weight @wte.f16 : tensor<16x8xf16>
// CHECK: %[[ROWS:.*]] = tvc.embedding %[[WTE]], %{{.*}} : tensor<16x8xf16>, tensor<1x4xi64>
// CHECK: %[[H:.*]] = arith.extf %[[ROWS]] : tensor<1x4x8xf16> to tensor<1x4x8xf32>
// CHECK: %[[N:.*]] = tvc.layer_norm %[[H]], {{.*}} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK: %[[W:.*]] = tvc.weight @fc.w.f16 : tensor<24x8xf16>
// CHECK: tvc.linear %[[N]], %[[W]] bias %{{.*}} : (tensor<1x4x8xf32>, tensor<24x8xf16>, tensor<24xf32>) -> tensor<1x4x24xf32>
// CHECK: structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x8xf32>, tensor<24x2xf32>) -> tensor<1x4x24xf32>
// CHECK: tvc.lm_head %[[N]], %[[WTE]] : tensor<1x4x8xf32>, tensor<16x8xf16>
// CHECK: tvc.global @wte.f16 : tensor<16x8xf16> = dense_resource<wte.f16>
// CHECK: tvc.global @fc.w.f16 : tensor<24x8xf16> = dense_resource<fc.w.f16>
// CHECK: wte.f16: "0x08000000003C662E00C13200007C043C0C3C0000003C
// CHECK: fc.w.f16: "0x080000000038003800380038
//
// bf16: 1.0 = 0x3F80, 0.1 = 0x3DCD, -2.5 = 0xC020, 3e-6 = 0x3649, 65520 =
// 0x4780, 1 + 2^-8 = 0x3F80 (a tie to even: down), 1 + 3 x 2^-8 = 0x3F82 (up).
// BF16: tvc.global @wte.bf16 : tensor<16x8xbf16>
// BF16: tvc.global @fc.w.bf16 : tensor<24x8xbf16>
// BF16: wte.bf16: "0x08000000803FCD3D20C0493680478
// BF16-SAME: 03F823F0000803F
//
/// weights=f32 and keep change nothing in an f32 model.
// F32-LABEL: func.func @forward
// F32-NOT: dense_resource
// F32-NOT: arith.extf
// F32: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xf32>
// KEEP-LABEL: func.func @forward
// KEEP-NOT: dense_resource
// KEEP-NOT: arith.extf
// KEEP: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<16x8xf32>
tvc.global @wte : tensor<16x8xf32> = dense<[[1.0, 0.1, -2.5, 3.0e-6, 65520.0, 1.00390625, 1.01171875, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<16x8xf32>
tvc.global @ln.w : tensor<8xf32> = dense<1.0> : tensor<8xf32>
tvc.global @ln.b : tensor<8xf32> = dense<0.0> : tensor<8xf32>
tvc.global @fc.w : tensor<24x8xf32> = dense<0.5> : tensor<24x8xf32>
tvc.global @fc.b : tensor<24xf32> = dense<0.25> : tensor<24xf32>
tvc.global @v : tensor<2x8xf32> = dense<1.0> : tensor<2x8xf32>
tvc.global @u : tensor<24x2xf32> = dense<1.0> : tensor<24x2xf32>

func.func @forward(%ids: tensor<1x4xi64>) -> (tensor<1x4x16xf32>, tensor<1x4x24xf32>, tensor<1x4x24xf32>) {
  %wte = tvc.weight @wte : tensor<16x8xf32>
  %h = tvc.embedding %wte, %ids : tensor<16x8xf32>, tensor<1x4xi64>
  %lw = tvc.weight @ln.w : tensor<8xf32>
  %lb = tvc.weight @ln.b : tensor<8xf32>
  %n = tvc.layer_norm %h, %lw, %lb epsilon 1.0e-05 : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %w = tvc.weight @fc.w : tensor<24x8xf32>
  %b = tvc.weight @fc.b : tensor<24xf32>
  %y = tvc.linear %n, %w bias %b : (tensor<1x4x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<1x4x24xf32>
  %v = tvc.weight @v : tensor<2x8xf32>
  %u = tvc.weight @u : tensor<24x2xf32>
  %z = tvc.linear %n, %v, %u structure(#tvc.low_rank<rank = 2>) : (tensor<1x4x8xf32>, tensor<2x8xf32>, tensor<24x2xf32>) -> tensor<1x4x24xf32>
  %logits = tvc.lm_head %n, %wte : tensor<1x4x8xf32>, tensor<16x8xf32>
  return %logits, %y, %z : tensor<1x4x16xf32>, tensor<1x4x24xf32>, tensor<1x4x24xf32>
}

// -----

/// A bf16 checkpoint kept as stored: activations become f32 everywhere
/// (arguments, the layer's region and results, constants, the function
/// type); the matrices stay bf16 (the same globals); the norm scale becomes
/// f32. weights=f32 widens the matrices too.
// REMARK: remark: tvc-convert-precision: activations f32; weights converted: 3 to f16, 1 to f32; weight bytes 656 -> 672
// KEEP-NOT: tvc.global @ln.w :
// KEEP: tvc.global @wte : tensor<16x8xbf16>
// KEEP: tvc.global @fc.w : tensor<8x8xbf16>
// KEEP: tvc.global @head : tensor<16x8xbf16>
// KEEP-LABEL: func.func @forward
// KEEP-SAME: -> tensor<1x4x16xf32>
// KEEP: %[[ROWS:.*]] = tvc.embedding %{{.*}} : tensor<16x8xbf16>, tensor<1x4xi64>
// KEEP: %[[H:.*]] = arith.extf %[[ROWS]] : tensor<1x4x8xbf16> to tensor<1x4x8xf32>
// KEEP: tvc.layer 0 (%[[H]]) : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
// KEEP: ^bb0(%{{.*}}: tensor<1x4x8xf32>):
// KEEP: tvc.weight @ln.w.f32 : tensor<8xf32>
// KEEP: tvc.rms_norm {{.*}} : tensor<1x4x8xf32>, tensor<8xf32>
// KEEP: tvc.linear {{.*}} : (tensor<1x4x8xf32>, tensor<8x8xbf16>) -> tensor<1x4x8xf32>
// KEEP: tvc.silu {{.*}} : tensor<1x4x8xf32>
// KEEP: arith.constant dense<2.000000e+00> : tensor<1x4x8xf32>
// KEEP: tvc.yield {{.*}} : tensor<1x4x8xf32>
// KEEP: tvc.lm_head {{.*}} : tensor<1x4x8xf32>, tensor<16x8xbf16>
// KEEP: return {{.*}} : tensor<1x4x16xf32>
// KEEP: tvc.global @ln.w.f32 : tensor<8xf32> = dense_resource<ln.w.f32>
// KEEP: ln.w.f32: "0x080000000000C03F0000C03F
// F32-LABEL: func.func @forward
// F32-NOT: bf16
// F32: return
tvc.global @wte : tensor<16x8xbf16> = dense<1.0> : tensor<16x8xbf16>
tvc.global @ln.w : tensor<8xbf16> = dense<1.5> : tensor<8xbf16>
tvc.global @fc.w : tensor<8x8xbf16> = dense<0.5> : tensor<8x8xbf16>
tvc.global @head : tensor<16x8xbf16> = dense<0.5> : tensor<16x8xbf16>

func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4x16xbf16> {
  %wte = tvc.weight @wte : tensor<16x8xbf16>
  %h = tvc.embedding %wte, %ids : tensor<16x8xbf16>, tensor<1x4xi64>
  %o = tvc.layer 0 (%h) : (tensor<1x4x8xbf16>) -> tensor<1x4x8xbf16> {
  ^bb0(%x: tensor<1x4x8xbf16>):
    %lw = tvc.weight @ln.w : tensor<8xbf16>
    %n = tvc.rms_norm %x, %lw epsilon 1.0e-05 : tensor<1x4x8xbf16>, tensor<8xbf16>
    %w = tvc.weight @fc.w : tensor<8x8xbf16>
    %y = tvc.linear %n, %w : (tensor<1x4x8xbf16>, tensor<8x8xbf16>) -> tensor<1x4x8xbf16>
    %g = tvc.silu %y : tensor<1x4x8xbf16>
    %c = arith.constant dense<2.0> : tensor<1x4x8xbf16>
    %r = tvc.add %g, %c : tensor<1x4x8xbf16>
    tvc.yield %r : tensor<1x4x8xbf16>
  }
  %hw = tvc.weight @head : tensor<16x8xbf16>
  %logits = tvc.lm_head %o, %hw : tensor<1x4x8xbf16>, tensor<16x8xbf16>
  return %logits : tensor<1x4x16xbf16>
}

// -----

/// A second run over a converted model: the widening of the first goes
/// away when the table becomes f32 again.
// F32-LABEL: func.func @second_run
// F32: %[[W:.*]] = tvc.weight @t.f32 : tensor<16x8xf32>
// F32-NEXT: %[[H:.*]] = tvc.embedding %[[W]], %{{.*}} : tensor<16x8xf32>, tensor<1x4xi64>
// F32-NEXT: return %[[H]] : tensor<1x4x8xf32>
tvc.global @t : tensor<16x8xbf16> = dense<1.0> : tensor<16x8xbf16>
func.func @second_run(%ids: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  %t = tvc.weight @t : tensor<16x8xbf16>
  %rows = tvc.embedding %t, %ids : tensor<16x8xbf16>, tensor<1x4xi64>
  %h = arith.extf %rows : tensor<1x4x8xbf16> to tensor<1x4x8xf32>
  return %h : tensor<1x4x8xf32>
}
