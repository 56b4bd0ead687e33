// Float initializers stay inline (dense<...>) with --inline-weights and
// when the output is stdout; then no safetensors file is written.
// Non-float initializers (an int64 Reshape shape, a bool Where mask, int32)
// and single-element float ones are arith.constant in every mode; double
// tensors are weights like float ones.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import --no-raise %S/Inputs/mlp.onnxtext --inline-weights -o %t/mlp.mlir --quiet
// RUN: FileCheck %s --check-prefix=MLP --input-file=%t/mlp.mlir
// RUN: not test -e %t/mlp.weights.safetensors
// RUN: tvc-opt %t/mlp.mlir --tvc-check-weights | FileCheck %s --check-prefix=MLP
// RUN: tvc-import --no-raise %S/Inputs/mlp.onnxtext --quiet | FileCheck %s --check-prefix=MLP
// RUN: tvc-import --no-raise %S/Inputs/mlp.onnxtext -o - --quiet | FileCheck %s --check-prefix=MLP
//
// RUN: tvc-import --no-raise %S/Inputs/constants.onnxtext --quiet | FileCheck %s --check-prefix=CONST
// RUN: tvc-import --no-raise %S/Inputs/constants.onnxtext -o %t/c.mlir --quiet
// RUN: FileCheck %s --check-prefix=CONST-EXT --input-file=%t/c.mlir
// RUN: tvc-opt %t/c.mlir --tvc-check-weights=base-dir=%t | FileCheck %s --check-prefix=CONST-EXT

// MLP-NOT: #tvc.external
// MLP-DAG: tvc.global @w1 : tensor<4x8xf32> = dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00], [1.000000e+00, {{.*}}], [-1.000000e+00, {{.*}}]]> : tensor<4x8xf32>
// MLP-DAG: tvc.global @b1 : tensor<8xf32> = dense<5.000000e-01> : tensor<8xf32>
// MLP-DAG: tvc.global @w2 : tensor<8x3xf32> = dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], {{.*}}, [2.200000e+01, 2.300000e+01, 2.400000e+01]]> : tensor<8x3xf32>
// MLP-DAG: tvc.global @b2 : tensor<3xf32> = dense<[2.500000e-01, 5.000000e-01, 7.500000e-01]> : tensor<3xf32>
// MLP: func.func @main_graph(%{{.*}}: tensor<?x4xf32> {tvc.name = "x"}) -> tensor<?x3xf32>
// MLP: tvc.weight @w1 : tensor<4x8xf32>
// MLP-NOT: #tvc.external

// CONST-NOT: #tvc.external
// CONST-DAG: tvc.global @fill : tensor<4xf32> = dense<[-2.500000e+00, -1.000000e+00, 0.000000e+00, 1.000000e+00]> : tensor<4xf32>
// CONST-DAG: tvc.global @d : tensor<2xf64> = dense<[1.500000e+00, -3.000000e+00]> : tensor<2xf64>
// CONST-LABEL: func.func @main_graph(
// CONST-SAME: %[[X:.*]]: tensor<2x6xf32> {tvc.name = "x"}) -> (tensor<3x4xf32>, tensor<3x4xf32>)
// CONST-DAG: %[[SHAPE:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CONST-DAG: %[[MASK:.*]] = arith.constant dense<{{\[\[}}true, false, true, false], [false, true, false, true], [true, true, false, false]]> : tensor<3x4xi1>
// CONST-DAG: %[[FILL:.*]] = tvc.weight @fill : tensor<4xf32>
// CONST-DAG: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CONST-DAG: arith.constant dense<[7, -9]> : tensor<2xi32>
// CONST-DAG: tvc.weight @d : tensor<2xf64>
// CONST: %[[R:.*]] = tvc_onnx.node "Reshape"(%[[X]], %[[SHAPE]]) {{.*}} : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<3x4xf32>
// CONST: tvc_onnx.node "Where"(%[[MASK]], %[[R]], %[[FILL]]) {{.*}} : (tensor<3x4xi1>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CONST: tvc_onnx.node "Mul"(%[[R]], %[[HALF]]) {{.*}} : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>

// CONST-EXT-DAG: tvc.global @fill : tensor<4xf32> = #tvc.external<"c.weights.safetensors", "fill">
// CONST-EXT-DAG: tvc.global @d : tensor<2xf64> = #tvc.external<"c.weights.safetensors", "d">
// CONST-EXT-DAG: arith.constant dense<[3, 4]> : tensor<2xi64>
// CONST-EXT-DAG: arith.constant dense<{{\[\[}}true, false, true, false], [false, true, false, true], [true, true, false, false]]> : tensor<3x4xi1>
// CONST-EXT-DAG: arith.constant dense<5.000000e-01> : tensor<f32>
// CONST-EXT-DAG: arith.constant dense<[7, -9]> : tensor<2xi32>
