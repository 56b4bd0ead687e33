// RUN: tvc-opt %s -split-input-file -tvc-expand-structured-linear=expand-low-rank=false | FileCheck %s

/// expand-low-rank=false (the CPU pipeline) leaves a low-rank linear whole
/// for convert-tvc-to-runtime's fused kernel call.
// CHECK-LABEL: func.func @negative_low_rank_left_alone
func.func @negative_low_rank_left_alone(%x: tensor<1x?x16xf32>, %v: tensor<4x16xf32>, %u: tensor<24x4xf32>, %bias: tensor<24xf32>) -> tensor<1x?x24xf32> {
  // CHECK-NEXT: %[[Y:.*]] = tvc.linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} structure(#tvc.low_rank<rank = 4>)
  // CHECK-NEXT: return %[[Y]]
  %y = tvc.linear %x, %v, %u bias %bias structure(#tvc.low_rank<rank = 4>) : (tensor<1x?x16xf32>, tensor<4x16xf32>, tensor<24x4xf32>, tensor<24xf32>) -> tensor<1x?x24xf32>
  return %y : tensor<1x?x24xf32>
}

// -----

/// LoRA is still expanded: the runtime has no kernel for it.
// CHECK-LABEL: func.func @expand_lora_still
func.func @expand_lora_still(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %a: tensor<2x8xf32>, %b: tensor<4x2xf32>) -> tensor<2x4xf32> {
  // CHECK-NOT: #tvc.lora
  // CHECK: tvc.linear %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  // CHECK: tvc.add
  %y = tvc.linear %x, %w, %a, %b structure(#tvc.lora<rank = 2, alpha = 2.0>) : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x2xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
