// RUN: rm -rf %t && mkdir -p %t && cp %S/Inputs/model.safetensors %t/model.safetensors
// RUN: tvc-opt %s '-tvc-convert-precision=weights=bf16 weights-file=half.safetensors base-dir=%t' -o %t/out.mlir
// RUN: FileCheck %s --input-file=%t/out.mlir
// RUN: tvc-opt %t/out.mlir '-tvc-check-weights=base-dir=%t' -o /dev/null
// RUN: cmp %t/model.safetensors %S/Inputs/model.safetensors
// RUN: not tvc-opt %s '-tvc-convert-precision=weights=bf16 weights-file=model.safetensors base-dir=%t' -o /dev/null 2>&1 | FileCheck %s --check-prefix=INPUT
// RUN: cmp %t/model.safetensors %S/Inputs/model.safetensors

/// Converted weights go to one new safetensors file that the globals name;
/// the input file is read, never written (asking to write over it fails
/// and leaves it as it was). Inputs/model.safetensors: wte [4, 2] F32,
/// ln_f.scale [2] F32.
// CHECK-NOT: tvc.global @wte :
// CHECK: tvc.global @ln_f.scale : tensor<2xf32> = #tvc.external<"model.safetensors", "ln_f.scale">
// CHECK: tvc.lm_head %{{.*}}, %{{.*}} : tensor<1x3x2xf32>, tensor<4x2xbf16>
// CHECK: tvc.global @wte.bf16 : tensor<4x2xbf16> = #tvc.external<"half.safetensors", "wte.bf16">
// INPUT: error: tvc-convert-precision: refusing to write new weights to '{{.*}}model.safetensors': @wte is read from it
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"model.safetensors", "wte">
tvc.global @ln_f.scale : tensor<2xf32> = #tvc.external<"model.safetensors", "ln_f.scale">

func.func @forward(%ids: tensor<1x3xi64>) -> tensor<1x3x4xf32> {
  %wte = tvc.weight @wte : tensor<4x2xf32>
  %h = tvc.embedding %wte, %ids : tensor<4x2xf32>, tensor<1x3xi64>
  %scale = tvc.weight @ln_f.scale : tensor<2xf32>
  %n = tvc.rms_norm %h, %scale epsilon 1.0e-05 : tensor<1x3x2xf32>, tensor<2xf32>
  %logits = tvc.lm_head %n, %wte : tensor<1x3x2xf32>, tensor<4x2xf32>
  return %logits : tensor<1x3x4xf32>
}
