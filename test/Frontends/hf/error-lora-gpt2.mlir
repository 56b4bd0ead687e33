// LoRA on GPT-2 is refused by name: its Conv1D weights are stored
// [in, out] (#tvc.dense<in_out>) and #tvc.lora takes W as [out, in], so the
// adapter could not reference the base weights in place. No output file is
// written.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t/base
// RUN: /usr/bin/python3 %S/Inputs/make_lora_adapter.py %t/base %t/adapter --set 'target_modules=["c_attn"]' --set rank_pattern={} --set alpha_pattern={} --set fan_in_fan_out=true
// RUN: not tvc-import %t/base --lora %t/adapter -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}adapter: LoRA adapters on gpt2 are not supported: its Conv1D weights are stored [in, out] and #tvc.lora takes W as [out, in] (supported: llama, mistral, qwen2)
