// External data that is missing, shorter than the range a tensor names, or
// outside the model's directory is reported per initializer, and nothing is
// written.
//
// A missing external data file (the model copied without weights.bin):
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t/m
// RUN: cp %S/Inputs/external/model.onnx %t/m
// RUN: not tvc-import %t/m/model.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
//
// weights.bin cut to 40 of its 52 bytes: w [0, 32) is still there, shape,
// keep and zero are not.
// RUN: head -c 40 %S/Inputs/external/weights.bin > %t/m/weights.bin
// RUN: not tvc-import %t/m/model.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
//
// An offset past the end of the file (4096 in the 52-byte weights.bin):
// RUN: not tvc-import %S/Inputs/external/bad-range.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=OFFSET
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
//
// location "../x" is refused even though %t/x exists.
// RUN: cp %S/Inputs/bad-location.onnx %t/m/model.onnx
// RUN: cp %S/Inputs/external/weights.bin %t/x
// RUN: not tvc-import %t/m/model.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=ESCAPE
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors

// MISSING: tvc-import: error: {{.*}}model.onnx: {{[0-9]+}} problem(s) in the model:
// MISSING-NEXT: initializer 'w': external data file {{.*}}weights.bin: No such file or directory
// MISSING-NEXT: initializer 'shape': external data file {{.*}}weights.bin: No such file or directory
// MISSING-NEXT: initializer 'keep': external data file {{.*}}weights.bin: No such file or directory
// MISSING-NEXT: initializer 'zero': external data file {{.*}}weights.bin: No such file or directory

// SHORT: tvc-import: error: {{.*}}model.onnx: {{[0-9]+}} problem(s) in the model:
// SHORT-NOT: initializer 'w'
// SHORT: initializer 'shape': external range [32, 32+16) exceeds {{.*}}weights.bin (40 bytes)
// SHORT-NEXT: initializer 'keep': external range [48, 48+2) exceeds {{.*}}weights.bin (40 bytes)
// SHORT-NEXT: initializer 'zero': external range [50, 50+2) exceeds {{.*}}weights.bin (40 bytes)

// OFFSET: tvc-import: error: {{.*}}bad-range.onnx: {{[0-9]+}} problem(s) in the model:
// OFFSET-NEXT: initializer 'w': external range [4096, 4096+32) exceeds {{.*}}weights.bin (52 bytes)

// ESCAPE: tvc-import: error: {{.*}}model.onnx: {{[0-9]+}} problem(s) in the model:
// ESCAPE-NEXT: initializer 'w': external data location '../x' must be a relative path inside the model directory
