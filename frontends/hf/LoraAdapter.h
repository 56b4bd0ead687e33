//===- LoraAdapter.h - PEFT LoRA adapters for the HF importer ---*- C++ -*-===//
//
// Reads a PEFT LoRA adapter directory (adapter_config.json and
// adapter_model.safetensors) into plain data: which modules of the base
// model it targets, each module's rank and scaling, and where its lora_A /
// lora_B tensors live. Only the safetensors header is read; the importer
// references the tensors in place. Nothing here depends on MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_FRONTENDS_HF_LORAADAPTER_H
#define TVC_FRONTENDS_HF_LORAADAPTER_H

#include "lib/Support/SafeTensors.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tvc {

/// The adapter of one targeted module.
struct LoraModule {
  /// Rank r (rank_pattern, else the config's r).
  int64_t rank = 0;
  /// PEFT's scaling of the branch: lora_alpha / r, or lora_alpha / sqrt(r)
  /// with use_rslora (alpha_pattern overrides lora_alpha).
  double scaling = 0.0;
  /// The tensors A [r, in] and B [out, r]; null when the file lacks them.
  const TensorInfo *a = nullptr;
  const TensorInfo *b = nullptr;
  std::string aKey, bKey;
};

/// A PEFT LoRA adapter opened for import. Module names are those of the
/// base model's state dict without the ".weight" suffix (e.g.
/// "model.layers.0.self_attn.q_proj"), as PEFT matches them.
class LoraAdapter {
public:
  /// Opens `directory`; all problems of adapter_config.json are reported
  /// in one error.
  static llvm::Expected<std::unique_ptr<LoraAdapter>>
  open(llvm::StringRef directory);

  /// Whether adapter_config.json targets `module` (target_modules,
  /// layers_to_transform, exclude_modules, as PEFT decides).
  bool isTargeted(llvm::StringRef module);

  /// The rank, scaling and tensors of a targeted `module`; an error when
  /// rank_pattern or alpha_pattern are ambiguous for it.
  llvm::Expected<LoraModule> getModule(llvm::StringRef module) const;

  /// Problems found after the whole base model was seen: adapter tensors
  /// of modules that were never asked for (`seen` holds the names given to
  /// isTargeted), and target_modules entries that matched no module.
  std::vector<std::string> checkUnused() const;

  /// Whether the file holds tensors of a module whose name starts with
  /// `prefix` (e.g. "transformer." for a GPT-2 adapter trained on
  /// GPT2LMHeadModel).
  bool hasModulesUnder(llvm::StringRef prefix) const;

  /// The safetensors file (absolute path) the tensors live in.
  llvm::StringRef getWeightsPath() const { return file->getPath(); }
  llvm::StringRef getConfigPath() const { return configPath; }

private:
  LoraAdapter() = default;

  llvm::Error parseConfig(llvm::StringRef text);
  llvm::Error indexTensors();

  /// PEFT's rank_pattern/alpha_pattern lookup: the value of the pattern P
  /// with `^(.*\.)?(P)$` matching `module`, if any.
  llvm::Expected<std::optional<double>>
  lookupPattern(const std::vector<std::pair<std::string, double>> &patterns,
                llvm::StringRef field, llvm::StringRef module) const;

  std::string configPath;
  std::unique_ptr<SafeTensorsFile> file;

  int64_t rank = 0;
  double alpha = 0.0;
  bool rsLora = false;
  /// target_modules: a regex (fullmatch) or a list of names/suffixes.
  std::optional<std::string> targetRegex;
  bool allLinear = false;
  std::vector<std::string> targetNames;
  std::optional<std::string> excludeRegex;
  std::vector<std::string> excludeNames;
  /// layers_to_transform (empty: all) and layers_pattern.
  std::vector<int64_t> layers;
  std::vector<std::string> layersPatterns;
  std::vector<std::pair<std::string, double>> rankPattern, alphaPattern;

  /// Module name -> its lora_A/lora_B keys as found in the file.
  llvm::StringMap<std::pair<const TensorInfo *, const TensorInfo *>> tensors;
  /// Keys that are not a module's lora_A/lora_B weight.
  std::vector<std::string> strayKeys;
  /// Modules isTargeted was asked about, and target names that matched.
  llvm::StringMap<bool> seen;
  llvm::StringMap<bool> matchedTargets;
};

} // namespace mlir::tvc

#endif // TVC_FRONTENDS_HF_LORAADAPTER_H
