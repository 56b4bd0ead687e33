// An adapter_model.safetensors whose header lies about its length, or that
// is cut short inside the data, is reported with the file name by the
// checkpoint reader; no output file is written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t/base
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/length --header-length 99999
// RUN: not tvc-import %t/base --lora %t/length -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=LENGTH
// RUN: not test -e %t/out.mlir
// LENGTH: tvc-import: error: {{.*}}length{{/|\\}}adapter_model.safetensors: header length 99999 exceeds file size {{[0-9]+}}
//
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/cut
// RUN: head -c 20000 %t/cut/adapter_model.safetensors > %t/cut/short && mv %t/cut/short %t/cut/adapter_model.safetensors
// RUN: not tvc-import %t/base --lora %t/cut -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DATA
// RUN: not test -e %t/out.mlir
// DATA: tvc-import: error: {{.*}}cut{{/|\\}}adapter_model.safetensors: {{.*}}exceed the data section
