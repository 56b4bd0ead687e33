// tie_word_embeddings false (LLaMA's default) but no lm_head.weight in the
// checkpoint: the head's weights are missing. Transformers would initialize
// a random head here; the importer must not silently tie it to the
// embedding, which would import a different model.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --drop lm_head.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir
//
// The same with tie_word_embeddings absent from config.json.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --drop lm_head.weight --unset tie_word_embeddings
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}'lm_head.weight'
