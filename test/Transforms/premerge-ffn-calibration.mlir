// tvc-premerge-ffn calibration=FILE: the cost model's constants from a
// calibration file instead of the built-in ones (hand-written files in
// Inputs/premerge-calibration/), the decisions they flip, the errors a bad
// file gives before anything changes, and a file tvc-calibrate writes.
// DEFINE: %{in} = %S/Inputs/premerge-calibration
// DEFINE: %{opt} = tvc-opt %s -mlir-print-op-on-diagnostic=false

/// The built-in constants keep the rank-8 factors at decode (10 KB read
/// instead of 64 KB) and at prefill (8 % of the multiply-adds).
// RUN: %{opt} '-tvc-premerge-ffn=report' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BUILTIN
// RUN: %{opt} '-tvc-premerge-ffn=report workload=prefill' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BUILTIN
// BUILTIN: remark: kept factored: low-rank [256 x 64] rank 8
// BUILTIN: remark: tvc-premerge-ffn: 0 structured linears merged, 1 kept factored, 0 left alone{{$}}

/// A 1 ms per-call overhead (a launch-bound target): one call beats two at
/// decode, so the factors are merged.
// RUN: %{opt} '-tvc-premerge-ffn=report calibration=%{in}/overhead.json' -mlir-elide-resource-strings-if-larger=16 2>&1 | FileCheck %s --check-prefix=OVERHEAD
// OVERHEAD: remark: merged: low-rank [256 x 64] rank 8, decode (1 rows): factored 2000.53 us {{.*}} vs merged 1003.04 us
// OVERHEAD: remark: tvc-premerge-ffn: 1 structured linears merged, 0 kept factored, 0 left alone (costs from {{.*}}overhead.json)
// OVERHEAD: tvc.weight @up.u.merged : tensor<256x64xf32>
// OVERHEAD-NOT: structure(

/// GEMM rates by shape: calls 8 wide (in or out) run at 100 FLOPs/us, the
/// [256 x 64] matrix at 1e5, so at prefill (128 rows) the two narrow calls
/// cost 1311.12 + 5243.28 us against 42.34 for the merged one.
// RUN: %{opt} '-tvc-premerge-ffn=report workload=prefill calibration=%{in}/shapes.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SHAPES
// SHAPES: remark: merged: low-rank [256 x 64] rank 8, prefill (128 rows): factored 6554.40 us {{.*}} vs merged 42.34 us

/// Bad files are errors before anything changes.
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%t.missing/none.json' 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: tvc-premerge-ffn: cannot read calibration file '{{.*}}none.json': {{[Nn]}}o such file or directory
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%{in}/malformed.json' 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: error: tvc-premerge-ffn: calibration file '{{.*}}malformed.json': invalid JSON: [6:3, byte=91]: Expected , or } after object property
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%{in}/version.json' 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: error: tvc-premerge-ffn: calibration file '{{.*}}version.json': unknown version 2 (this tvc reads version 1)
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%{in}/missing-field.json' 2>&1 | FileCheck %s --check-prefix=FIELD
// FIELD: error: tvc-premerge-ffn: calibration file '{{.*}}missing-field.json': missing 'bytes_per_us'
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%{in}/nonpositive.json' 2>&1 | FileCheck %s --check-prefix=NONPOSITIVE
// NONPOSITIVE: error: tvc-premerge-ffn: calibration file '{{.*}}nonpositive.json': 'call_overhead_us' must be a positive number, got 0
// RUN: not %{opt} '-tvc-premerge-ffn=calibration=%{in}/grid.json' 2>&1 | FileCheck %s --check-prefix=GRID
// GRID: error: tvc-premerge-ffn: calibration file '{{.*}}grid.json': 'gemm.flops_per_us' must be a 1 x 1 x 1 array (rows, out, in) of positive numbers
// Under any policy, before anything changes:
// RUN: not %{opt} '-tvc-premerge-ffn=policy=merge calibration=%{in}/version.json' 2>&1 | FileCheck %s --check-prefix=VERSION

/// tvc-calibrate on tiny shapes writes a file the pass reads (its figures
/// are only checked to be there).
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-calibrate --quick --num-threads 1 -o %t/costs.json 2>%t/progress | FileCheck %s --check-prefix=TABLE
// RUN: FileCheck %s --check-prefix=PROGRESS < %t/progress
// TABLE: per-call overhead (fitted) {{ *}}{{[0-9.]+}} us
// TABLE: decode bandwidth (cold) {{ *}}{{[0-9.]+}} GB/s
// TABLE: GEMM GFLOP/s (rows x out x in)
// TABLE: decode pairs (weights from memory)
// PROGRESS: calibrating on 1 thread (quick: tiny shapes)
// PROGRESS: wrote {{.*}}costs.json
// RUN: %{opt} '-tvc-premerge-ffn=report calibration=%t/costs.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUICK
// QUICK: remark: tvc-premerge-ffn: {{.*}} (costs from {{.*}}costs.json)
// RUN: not tvc-calibrate --quick -o %t/no/costs.json 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: tvc-calibrate: error: -o {{.*}}no/costs.json: no directory {{.*}}no
// RUN: not tvc-calibrate --quick -o %t 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: tvc-calibrate: error: -o {{.*}}: is a directory
// RUN: not tvc-calibrate --quick --num-threads -1 -o %t/bad.json 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: tvc-calibrate: error: --num-threads expects a count >= 0, got -1
// RUN: not ls %t/bad.json
// RUN: not tvc-calibrate --quick 2>&1 | FileCheck %s --check-prefix=NO-OUTPUT
// NO-OUTPUT: tvc-calibrate: for the -o option: must be specified at least once!

/// tvc-compile passes the file on (structured-ffn's forward, 8 rows: its
/// low-rank up projection kept factored by the built-in constants, one
/// fused tvc_kernel_low_rank_f32 call, merged under a 1 ms overhead; its
/// LoRA down projection merged by both), and wants it with --premerge=cost
/// only.
// DEFINE: %{model} = %S/../models/structured-ffn/factored.mlir
// RUN: tvc-compile %{model} -o %t/builtin.mlir --emit=mlir --premerge=cost
// RUN: FileCheck %s --check-prefix=COMPILE-BUILTIN < %t/builtin.mlir
// COMPILE-BUILTIN-DAG: llvm.call @tvc_kernel_low_rank_f32(
// COMPILE-BUILTIN-DAG: llvm.call @tvc_kernel_linear_f32(
// COMPILE-BUILTIN-NOT: llvm.call @tvc_kernel_linear_f32(
// RUN: tvc-compile %{model} -o %t/overhead.mlir --emit=mlir --premerge=cost --premerge-calibration=%{in}/overhead.json
// RUN: FileCheck %s --check-prefix=COMPILE-OVERHEAD < %t/overhead.mlir
// COMPILE-OVERHEAD-COUNT-2: llvm.call @tvc_kernel_linear_f32(
// COMPILE-OVERHEAD-NOT: llvm.call @tvc_kernel_linear_f32(
// RUN: not tvc-compile %{model} -o %t/x.mlir --emit=mlir --premerge=cost --premerge-calibration=%{in}/version.json 2>&1 | FileCheck %s --check-prefix=COMPILE-VERSION
// COMPILE-VERSION: unknown version 2
// RUN: not tvc-compile %{model} -o %t/x.mlir --emit=mlir --premerge=merge --premerge-calibration=%{in}/overhead.json 2>&1 | FileCheck %s --check-prefix=COMPILE-POLICY
// COMPILE-POLICY: tvc-compile: error: --premerge-calibration needs --premerge=cost

tvc.global @up.v : tensor<8x64xf32> = dense<0.5> : tensor<8x64xf32>
tvc.global @up.u : tensor<256x8xf32> = dense<0.25> : tensor<256x8xf32>
func.func @ffn_up(%x: tensor<1x?x64xf32>) -> tensor<1x?x256xf32> {
  %v = tvc.weight @up.v : tensor<8x64xf32>
  %u = tvc.weight @up.u : tensor<256x8xf32>
  %y = tvc.linear %x, %v, %u structure(#tvc.low_rank<rank = 8>) : (tensor<1x?x64xf32>, tensor<8x64xf32>, tensor<256x8xf32>) -> tensor<1x?x256xf32>
  return %y : tensor<1x?x256xf32>
}
