/// tvc-import without an input, or with an input it cannot read, explains
/// itself and fails.
// RUN: not tvc-import 2>&1 | FileCheck %s --check-prefix=NO-INPUT
// NO-INPUT: error: no input: give a checkpoint directory, a .onnx or a .onnxtext file
// RUN: not tvc-import %t.does-not-exist 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: {{.*}}does-not-exist: no such file or directory
// RUN: not tvc-import %s 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: {{.*}}usage.mlir: expected a checkpoint directory (with config.json), a .onnx or a .onnxtext file
// RUN: tvc-import --help | FileCheck %s --check-prefix=HELP
// HELP: --emit-bytecode
// HELP: --input-shape
// HELP: --list-onnx-ops
// HELP: --lora=<adapter-dir> {{.*}}PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors)
