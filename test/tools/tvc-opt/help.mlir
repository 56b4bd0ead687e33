/// `tvc-opt --help` lists the tvc passes with their one-line summaries, and
/// the upstream passes tvc lowering relies on.
// RUN: tvc-opt --help | FileCheck %s
// CHECK-DAG: --convert-gpu-to-nvvm
// CHECK-DAG: --convert-linalg-to-loops
// CHECK-DAG: --one-shot-bufferize
// CHECK: --tvc-check-weights
// CHECK-SAME: Check that every weight's bytes exist and match its type
// CHECK: base-dir
