// "rope_scaling": {"type": "linear", "factor": 2.0} (the older "type"
// spelling) reaches every tvc.rope as scaling <kind = linear, factor = 2.0>.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --rope-scaling linear:2.0
// RUN: tvc-import %t -o %t/model.mlir 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t/model.mlir
// RUN: tvc-opt %t/model.mlir --tvc-check-weights --canonicalize | FileCheck %s --check-prefix=OPT

// SUMMARY-NOT: error
// SUMMARY: tvc-import: llama, 2 layers
// SUMMARY-DAG: {{[ :,]}}4 rope
// SUMMARY-DAG: {{[ :,]}}0 unsupported

// CHECK-LABEL: func.func @forward(
// CHECK: tvc.layer 0 (
// CHECK-DAG: tvc.rope %{{[^ ]+}}, %{{[^ ]+}} heads 4 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK-DAG: tvc.rope %{{[^ ]+}}, %{{[^ ]+}} heads 2 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: tvc.attention
// CHECK: tvc.layer 1 (
// CHECK-DAG: tvc.rope %{{[^ ]+}}, %{{[^ ]+}} heads 4 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x64xf32>, tensor<1x?xi64>
// CHECK-DAG: tvc.rope %{{[^ ]+}}, %{{[^ ]+}} heads 2 theta 1.000000e+04 scaling <kind = linear, factor = 2.000000e+00> : tensor<1x?x32xf32>, tensor<1x?xi64>
// CHECK: tvc.attention
// CHECK-NOT: tvc.rope

/// The scaling is not dropped by canonicalization.
// OPT-LABEL: func.func @forward
// OPT-COUNT-4: tvc.rope {{.*}} scaling <kind = linear, factor = 2.000000e+00>
// OPT-NOT: tvc.rope
