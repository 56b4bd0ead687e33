// tvc-import --lora with an adapter directory that is not there, lacks
// adapter_config.json or adapter_model.safetensors, or holds only a pickled
// adapter_model.bin; --lora on an ONNX model; an output over one of the
// adapter's files. Each is an error naming the path, and no output file is
// written (or the adapter file is left as it was).
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
//
// RUN: not tvc-import %t/base --lora %t/nowhere -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NODIR
// RUN: not test -e %t/out.mlir
// NODIR: tvc-import: error: {{.*}}nowhere: not a directory (--lora expects a PEFT adapter directory)
//
// RUN: mkdir -p %t/empty
// RUN: not tvc-import %t/base --lora %t/empty -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOCONFIG
// RUN: not test -e %t/out.mlir
// NOCONFIG: tvc-import: error: {{.*}}empty{{/|\\}}adapter_config.json: {{.*}}
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/noweights
// RUN: rm %t/noweights/adapter_model.safetensors
// RUN: not tvc-import %t/base --lora %t/noweights -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOWEIGHTS
// RUN: not test -e %t/out.mlir
// NOWEIGHTS: tvc-import: error: {{.*}}noweights{{/|\\}}adapter_model.safetensors: no such file
//
// RUN: touch %t/noweights/adapter_model.bin
// RUN: not tvc-import %t/base --lora %t/noweights -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=PICKLE
// RUN: not test -e %t/out.mlir
// PICKLE: tvc-import: error: {{.*}}adapter_model.bin: pickled PyTorch adapters are not read; save the adapter with safe_serialization=True
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/adapter
// RUN: printf 'not onnx' > %t/model.onnxtext
// RUN: not tvc-import %t/model.onnxtext --lora %t/adapter -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=ONNX2
// RUN: not test -e %t/out.mlir
// ONNX2: tvc-import: error: --lora applies to a Hugging Face checkpoint directory, not to {{.*}}model.onnxtext
//
// RUN: cp %t/adapter/adapter_config.json %t/config.before
// RUN: not tvc-import %t/base --lora %t/adapter -o %t/adapter/adapter_config.json 2>&1 | FileCheck %s --check-prefix=OVERWRITE
// RUN: cmp %t/adapter/adapter_config.json %t/config.before
// RUN: not tvc-import %t/base --lora %t/adapter -o %t/adapter/adapter_model.safetensors 2>&1 | FileCheck %s --check-prefix=OVERWRITE
// OVERWRITE: tvc-import: error: refusing to write the output over an input file: {{.*}}adapter
