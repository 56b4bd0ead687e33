//===- HfConfigFuzzer.cpp - libFuzzer target for the HF importer ----------===//
//
// Feeds arbitrary bytes as config.json (or, when the first byte is '#', as
// model.safetensors.index.json after the '#'; when it is '@', as a LoRA
// adapter's adapter_config.json after the '@') to
// mlir::tvc::importHuggingFace over a fixed, valid checkpoint of a tiny
// GPT-2 and a tiny LLaMA (tensors of both families live in one
// model.safetensors, so any model_type finds its weights and the
// unused-tensor check is exercised too) and a fixed rank-2 adapter of the
// LLaMA's q_proj and v_proj. The import must fail with an llvm::Error or
// produce a module that verifies and prints; nothing may crash, whatever
// the config claims about sizes or whatever regular expressions it holds.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/HfImporter.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/SafeTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;

namespace {

/// Writes `bytes` to `path`, aborting on failure (the harness is broken).
void writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    std::fprintf(stderr, "tvc-fuzz-hf: cannot write %s\n", path.str().c_str());
    std::abort();
  }
  os << bytes;
}

/// A directory with model.safetensors holding tiny GPT-2 (vocab 8, d 4,
/// 2 heads, 1 layer, context 4) and LLaMA (vocab 8, d 4, 2 heads, 1 KV
/// head, 1 layer, FFN 8) tensors.
struct Checkpoint {
  llvm::SmallString<128> dir, config, index, shardIndexTarget, adapter,
      adapterConfig;

  Checkpoint() {
    if (llvm::sys::fs::createUniqueDirectory("tvc-fuzz-hf", dir))
      std::abort();
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
        // GPT-2 (Conv1D [in, out]).
        {"wte.weight", {8, 4}}, {"wpe.weight", {4, 4}},
        {"h.0.ln_1.weight", {4}}, {"h.0.ln_1.bias", {4}},
        {"h.0.attn.c_attn.weight", {4, 12}}, {"h.0.attn.c_attn.bias", {12}},
        {"h.0.attn.c_proj.weight", {4, 4}}, {"h.0.attn.c_proj.bias", {4}},
        {"h.0.ln_2.weight", {4}}, {"h.0.ln_2.bias", {4}},
        {"h.0.mlp.c_fc.weight", {4, 16}}, {"h.0.mlp.c_fc.bias", {16}},
        {"h.0.mlp.c_proj.weight", {16, 4}}, {"h.0.mlp.c_proj.bias", {4}},
        {"ln_f.weight", {4}}, {"ln_f.bias", {4}},
        // LLaMA ([out, in]).
        {"model.embed_tokens.weight", {8, 4}},
        {"model.layers.0.input_layernorm.weight", {4}},
        {"model.layers.0.self_attn.q_proj.weight", {4, 4}},
        {"model.layers.0.self_attn.k_proj.weight", {2, 4}},
        {"model.layers.0.self_attn.v_proj.weight", {2, 4}},
        {"model.layers.0.self_attn.o_proj.weight", {4, 4}},
        {"model.layers.0.post_attention_layernorm.weight", {4}},
        {"model.layers.0.mlp.gate_proj.weight", {8, 4}},
        {"model.layers.0.mlp.up_proj.weight", {8, 4}},
        {"model.layers.0.mlp.down_proj.weight", {4, 8}},
        {"model.norm.weight", {4}}, {"lm_head.weight", {8, 4}},
    };
    std::vector<std::string> storage;
    storage.reserve(shapes.size());
    std::vector<mlir::tvc::TensorToWrite> tensors;
    for (const auto &[name, shape] : shapes) {
      int64_t elements = 1;
      for (int64_t dim : shape)
        elements *= dim;
      storage.emplace_back(static_cast<size_t>(elements) * 4, '\0');
      tensors.push_back({name, mlir::tvc::DType::F32,
                         llvm::SmallVector<int64_t, 4>(shape.begin(),
                                                       shape.end()),
                         llvm::ArrayRef<char>(storage.back().data(),
                                              storage.back().size())});
    }
    llvm::SmallString<128> weights(dir);
    llvm::sys::path::append(weights, "model.safetensors");
    if (llvm::Error error = mlir::tvc::writeSafeTensors(weights, tensors)) {
      llvm::consumeError(std::move(error));
      std::abort();
    }
    config = dir;
    llvm::sys::path::append(config, "config.json");

    // The adapter: A [2, 4] and B [out, 2] for layer 0's q_proj and v_proj.
    adapter = dir;
    llvm::sys::path::append(adapter, "adapter");
    if (llvm::sys::fs::create_directory(adapter))
      std::abort();
    std::string prefix = "base_model.model.model.layers.0.self_attn.";
    std::vector<std::pair<std::string, std::vector<int64_t>>> factors = {
        {prefix + "q_proj.lora_A.weight", {2, 4}},
        {prefix + "q_proj.lora_B.weight", {4, 2}},
        {prefix + "v_proj.lora_A.weight", {2, 4}},
        {prefix + "v_proj.lora_B.weight", {2, 2}},
    };
    std::string zeros(16 * 4, '\0');
    std::vector<mlir::tvc::TensorToWrite> adapterTensors;
    for (const auto &[name, shape] : factors)
      adapterTensors.push_back(
          {name, mlir::tvc::DType::F32,
           llvm::SmallVector<int64_t, 4>(shape.begin(), shape.end()),
           llvm::ArrayRef<char>(zeros.data(),
                                static_cast<size_t>(shape[0] * shape[1]) * 4)});
    llvm::SmallString<128> adapterWeights(adapter);
    llvm::sys::path::append(adapterWeights, "adapter_model.safetensors");
    if (llvm::Error error =
            mlir::tvc::writeSafeTensors(adapterWeights, adapterTensors)) {
      llvm::consumeError(std::move(error));
      std::abort();
    }
    adapterConfig = adapter;
    llvm::sys::path::append(adapterConfig, "adapter_config.json");
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Checkpoint checkpoint;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // '#' + text: a sharded checkpoint whose index is the text; the config is
  // a fixed LLaMA one.
  llvm::SmallString<128> index(checkpoint.dir);
  llvm::sys::path::append(index, "model.safetensors.index.json");
  llvm::SmallString<128> single(checkpoint.dir);
  llvm::sys::path::append(single, "model.safetensors");
  llvm::SmallString<128> hidden(checkpoint.dir);
  llvm::sys::path::append(hidden, "shard.safetensors");
  bool lora = bytes.consume_front("@");
  bool sharded = !lora && bytes.consume_front("#");
  if (lora) {
    if (llvm::sys::fs::exists(hidden))
      llvm::sys::fs::rename(hidden, single);
    llvm::sys::fs::remove(index);
    writeFile(checkpoint.adapterConfig, bytes);
    writeFile(checkpoint.config,
              R"({"model_type": "llama", "hidden_size": 4,
                  "num_attention_heads": 2, "num_key_value_heads": 1,
                  "num_hidden_layers": 1, "intermediate_size": 8,
                  "vocab_size": 8})");
  } else if (sharded) {
    // The weights move to "shard.safetensors"; the fuzzed index names them.
    if (llvm::sys::fs::exists(single))
      llvm::sys::fs::rename(single, hidden);
    writeFile(index, bytes);
    writeFile(checkpoint.config,
              R"({"model_type": "llama", "hidden_size": 4,
                  "num_attention_heads": 2, "num_key_value_heads": 1,
                  "num_hidden_layers": 1, "intermediate_size": 8,
                  "vocab_size": 8})");
  } else {
    if (llvm::sys::fs::exists(hidden))
      llvm::sys::fs::rename(hidden, single);
    llvm::sys::fs::remove(index);
    writeFile(checkpoint.config, bytes);
  }

  DialectRegistry registry;
  mlir::tvc::registerAllDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });
  mlir::tvc::HfImportOptions options;
  options.sequence = ShapedType::kDynamic;
  if (lora)
    options.loraAdapter = std::string(checkpoint.adapter);
  mlir::tvc::HfImportSummary summary;
  auto module = mlir::tvc::importHuggingFace(context, checkpoint.dir, options,
                                             summary);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (failed(verify(module->get())))
    std::abort();
  std::string text;
  llvm::raw_string_ostream os(text);
  module->get()->print(os);
  return 0;
}
