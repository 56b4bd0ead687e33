//===- HfImporter.h - Hugging Face checkpoints to tvc IR --------*- C++ -*-===//
//
// Imports a Hugging Face checkpoint directory (config.json plus
// model.safetensors or a sharded model.safetensors.index.json) of the GPT-2
// and LLaMA/Mistral/Qwen2 families straight into tvc ops. Weights are
// referenced in place through #tvc.external; only safetensors headers are
// read. A PEFT LoRA adapter can be read onto the base model: its targeted
// linears become #tvc.lora linears whose factors reference the adapter file.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_FRONTENDS_HF_HFIMPORTER_H
#define TVC_FRONTENDS_HF_HFIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>

namespace mlir::tvc {

struct HfImportOptions {
  /// Batch and sequence sizes of the inputs; ShapedType::kDynamic for `?`.
  int64_t batch = 1;
  int64_t sequence = -1;
  /// A PEFT LoRA adapter directory (adapter_config.json and
  /// adapter_model.safetensors) read onto the base model; empty for none.
  std::string loraAdapter;
  /// Called once per imported layer (index, total) for progress reporting.
  std::function<void(int64_t, int64_t)> onLayer;
};

/// What an import produced, for the summary line.
struct HfImportSummary {
  std::string modelType;
  int64_t numLayers = 0;
  /// Tensors of the checkpoint that the model does not use (e.g. GPT-2's
  /// attention-mask buffers).
  int64_t numIgnoredTensors = 0;
  /// Linears that carry the adapter (#tvc.lora).
  int64_t numLoraLinears = 0;
};

/// Imports the checkpoint in `directory`. Errors name the file and problem;
/// nothing is printed.
llvm::Expected<OwningOpRef<ModuleOp>>
importHuggingFace(MLIRContext &context, llvm::StringRef directory,
                  const HfImportOptions &options, HfImportSummary &summary);

/// The model types importHuggingFace understands.
llvm::ArrayRef<llvm::StringRef> getSupportedHfModelTypes();

} // namespace mlir::tvc

#endif // TVC_FRONTENDS_HF_HFIMPORTER_H
