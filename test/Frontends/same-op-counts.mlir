/// The same architecture reaches the same tvc ops by either frontend: a
/// Hugging Face-layout checkpoint (written by the HF tests' generator) and
/// a torch.onnx export of a plain torch.nn model (Inputs of the ONNX tests)
/// give equal counts of every semantic op. The HF importer emits the head
/// as tvc.lm_head and GPT-2's positions as tvc.learned_positions, which the
/// ONNX path leaves as a linear and generic index arithmetic: the counts
/// below fold those in.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: /usr/bin/python3 %S/hf/Inputs/make_hf_checkpoint.py gpt2 %t/hf-gpt2
// RUN: /usr/bin/python3 %S/hf/Inputs/make_hf_checkpoint.py llama %t/hf-llama
// RUN: tvc-import --quiet %t/hf-gpt2 -o %t/hf-gpt2.mlir
// RUN: tvc-import --quiet %t/hf-llama -o %t/hf-llama.mlir
// RUN: tvc-import --quiet %S/onnx/Inputs/gpt2_opset17.onnx -o %t/onnx-gpt2.mlir
// RUN: tvc-import --quiet %S/onnx/Inputs/llama_opset17.onnx -o %t/onnx-llama.mlir
//
// Count semantic ops (lm_head as linear, learned_positions as the
// embedding of the position table that the ONNX graph gathers).
// RUN: for m in hf-gpt2 onnx-gpt2 hf-llama onnx-llama; do \
// RUN:   sed -e 's/tvc.lm_head/tvc.linear/' -e 's/tvc.learned_positions/tvc.embedding/' %t/$m.mlir | \
// RUN:   grep -o -E 'tvc\.(attention|layer_norm|rms_norm|gelu|glu|rope|linear|add|embedding) ' | \
// RUN:   sort | uniq -c > %t/$m.counts; done
// RUN: diff %t/hf-gpt2.counts %t/onnx-gpt2.counts
// RUN: diff %t/hf-llama.counts %t/onnx-llama.counts
// RUN: FileCheck %s --check-prefix=GPT2 --input-file=%t/hf-gpt2.counts
// RUN: FileCheck %s --check-prefix=LLAMA --input-file=%t/hf-llama.counts
// GPT2: 4 tvc.add
// GPT2-NEXT: 2 tvc.attention
// GPT2-NEXT: 2 tvc.embedding
// GPT2-NEXT: 2 tvc.gelu
// GPT2-NEXT: 5 tvc.layer_norm
// GPT2-NEXT: 9 tvc.linear
// LLAMA: 4 tvc.add
// LLAMA-NEXT: 2 tvc.attention
// LLAMA-NEXT: 1 tvc.embedding
// LLAMA-NEXT: 2 tvc.glu
// LLAMA-NEXT: 15 tvc.linear
// LLAMA-NEXT: 5 tvc.rms_norm
// LLAMA-NEXT: 4 tvc.rope
