//===- HfImporter.cpp - Hugging Face checkpoints to tvc IR ----------------===//
//
// Reads config.json with llvm::json and the safetensors headers of the
// checkpoint (one file or an index of shards), then builds the model's
// graph with tvc ops: one tvc.global per used tensor referencing its file in
// place, and a @forward function whose blocks are tvc.layer regions. Every
// tensor's shape is checked against what config.json implies, and every
// tensor of the checkpoint must be used (or be a known buffer), so a
// checkpoint the importer does not fully understand is an error rather than
// a silently different model. The same holds for a LoRA adapter: every
// targeted linear must find its two factors with the shapes the base module
// and the rank imply, and every adapter tensor must land on a targeted
// linear; all adapter problems are reported together.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/HfImporter.h"
#include "frontends/hf/LoraAdapter.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/SafeTensors.h"
#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

using llvm::Error;
using llvm::Expected;

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

/// Joins the errors of every failed value (all config problems are
/// reported at once); success when all hold values.
template <typename... Ts> static Error collectErrors(Expected<Ts> &...values) {
  Error result = Error::success();
  ((result = llvm::joinErrors(std::move(result),
                              values ? Error::success() : values.takeError())),
   ...);
  return result;
}

llvm::ArrayRef<llvm::StringRef> mlir::tvc::getSupportedHfModelTypes() {
  static const llvm::StringRef kTypes[] = {"gpt2", "llama", "mistral", "qwen2"};
  return kTypes;
}

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

namespace {

/// Typed access to config.json with errors that name the file and field.
class Config {
public:
  static Expected<Config> load(StringRef path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return makeError(path + ": " + buffer.getError().message());
    Expected<llvm::json::Value> json =
        llvm::json::parse((*buffer)->getBuffer());
    if (!json)
      return makeError(path +
                       ": invalid JSON: " + llvm::toString(json.takeError()));
    if (!json->getAsObject())
      return makeError(path + ": expected a JSON object at the top level");
    return Config(path.str(), std::move(*json));
  }

  const llvm::json::Object &object() const { return *root.getAsObject(); }

  /// A required positive integer.
  Expected<int64_t> getPositive(StringRef key) const {
    std::optional<int64_t> value = object().getInteger(key);
    if (!value)
      return makeError(path + ": missing or non-integer field '" + key + "'");
    if (*value <= 0)
      return makeError(path + ": field '" + key + "' must be positive, got " +
                       llvm::Twine(*value));
    return *value;
  }

  /// An optional positive integer (absent or null gives `fallback`).
  Expected<int64_t> getPositiveOr(StringRef key, int64_t fallback) const {
    const llvm::json::Value *value = object().get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return fallback;
    return getPositive(key);
  }

  /// An optional number (absent or null gives `fallback`).
  Expected<double> getNumberOr(StringRef key, double fallback) const {
    const llvm::json::Value *value = object().get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      return fallback;
    if (std::optional<double> number = value->getAsNumber())
      return *number;
    return makeError(path + ": field '" + key + "' must be a number");
  }

  std::optional<StringRef> getString(StringRef key) const {
    return object().getString(key);
  }

  bool getBoolOr(StringRef key, bool fallback) const {
    return object().getBoolean(key).value_or(fallback);
  }

  StringRef getPath() const { return path; }

private:
  Config(std::string path, llvm::json::Value root)
      : path(std::move(path)), root(std::move(root)) {}

  std::string path;
  llvm::json::Value root;
};

//===----------------------------------------------------------------------===//
// Checkpoint tensors
//===----------------------------------------------------------------------===//

/// Where each tensor of the checkpoint lives.
struct TensorLocation {
  SafeTensorsFile *file;
  const TensorInfo *info;
};

class Checkpoint {
public:
  /// Opens model.safetensors, or the shards listed by
  /// model.safetensors.index.json, in `directory`.
  static Expected<std::unique_ptr<Checkpoint>> open(StringRef directory) {
    auto checkpoint = std::make_unique<Checkpoint>();
    SmallString<256> single(directory), index(directory);
    llvm::sys::path::append(single, "model.safetensors");
    llvm::sys::path::append(index, "model.safetensors.index.json");
    if (llvm::sys::fs::exists(single)) {
      if (Error error = checkpoint->addFile(single, /*onlyKeys=*/nullptr))
        return std::move(error);
      return std::move(checkpoint);
    }
    if (!llvm::sys::fs::exists(index))
      return makeError(directory + ": no model.safetensors or "
                                   "model.safetensors.index.json");
    if (Error error = checkpoint->addIndex(directory, index))
      return std::move(error);
    return std::move(checkpoint);
  }

  const TensorLocation *lookup(StringRef key) const {
    auto it = tensors.find(key);
    return it == tensors.end() ? nullptr : &it->second;
  }

  /// Keys in a stable order.
  std::vector<std::string> getKeys() const {
    std::vector<std::string> keys;
    for (const auto &entry : tensors)
      keys.push_back(entry.getKey().str());
    llvm::sort(keys);
    return keys;
  }

private:
  Error addFile(StringRef path, const llvm::StringSet<> *onlyKeys) {
    SmallString<256> absolute(path);
    if (std::error_code ec = llvm::sys::fs::make_absolute(absolute))
      return makeError(path + ": " + ec.message());
    auto file = SafeTensorsFile::open(absolute);
    if (!file)
      return file.takeError();
    for (const TensorInfo &info : (*file)->getTensors()) {
      if (onlyKeys && !onlyKeys->contains(info.name))
        continue;
      if (!tensors.try_emplace(info.name, TensorLocation{file->get(), &info})
               .second)
        return makeError(absolute + ": tensor '" + info.name +
                         "' also appears in another shard");
    }
    files.push_back(std::move(*file));
    return Error::success();
  }

  Error addIndex(StringRef directory, StringRef indexPath) {
    auto buffer = llvm::MemoryBuffer::getFile(indexPath);
    if (!buffer)
      return makeError(indexPath + ": " + buffer.getError().message());
    Expected<llvm::json::Value> json =
        llvm::json::parse((*buffer)->getBuffer());
    if (!json)
      return makeError(indexPath +
                       ": invalid JSON: " + llvm::toString(json.takeError()));
    const llvm::json::Object *root = json->getAsObject();
    const llvm::json::Object *weightMap =
        root ? root->getObject("weight_map") : nullptr;
    if (!weightMap)
      return makeError(indexPath + ": missing object 'weight_map'");
    // Group keys by shard; open each shard once.
    std::map<std::string, llvm::StringSet<>> shards;
    for (const auto &[key, value] : *weightMap) {
      std::optional<StringRef> shard = value.getAsString();
      if (!shard)
        return makeError(indexPath + ": weight_map entry '" + key.str() +
                         "' is not a file name");
      if (llvm::sys::path::has_parent_path(*shard) || *shard == "." ||
          *shard == "..")
        return makeError(indexPath + ": shard '" + *shard +
                         "' must be a file name in the checkpoint directory");
      shards[shard->str()].insert(key.str());
    }
    for (const auto &[shard, keys] : shards) {
      SmallString<256> path(directory);
      llvm::sys::path::append(path, shard);
      if (Error error = addFile(path, &keys))
        return error;
      for (const auto &key : keys)
        if (!tensors.count(key.getKey()))
          return makeError(path + ": index.json places tensor '" +
                           key.getKey() + "' here, but the file lacks it");
    }
    return Error::success();
  }

  std::vector<std::unique_ptr<SafeTensorsFile>> files;
  llvm::StringMap<TensorLocation> tensors;
};

//===----------------------------------------------------------------------===//
// Graph building
//===----------------------------------------------------------------------===//

/// Builds tvc IR for a checkpoint: weights on demand, ops through helpers
/// that keep the family builders short.
class GraphBuilder {
public:
  GraphBuilder(MLIRContext &context, const Checkpoint &checkpoint,
               LoraAdapter *adapter, const HfImportOptions &options)
      : context(context), builder(&context), checkpoint(checkpoint),
        adapter(adapter), options(options), loc(UnknownLoc::get(&context)) {
    module = ModuleOp::create(loc);
  }

  /// Fixes the element type from the stored dtype of `key`.
  Error setElementTypeFrom(StringRef key) {
    const TensorLocation *location = checkpoint.lookup(key);
    if (!location)
      return makeError("checkpoint has no tensor '" + key + "'");
    switch (location->info->dtype) {
    case DType::F32:
      elementType = builder.getF32Type();
      break;
    case DType::F16:
      elementType = builder.getF16Type();
      break;
    case DType::BF16:
      elementType = builder.getBF16Type();
      break;
    default:
      return makeError(location->file->getPath() + ": tensor '" + key +
                       "' is " + getDTypeName(location->info->dtype) +
                       "; the importer supports F32, F16 and BF16 weights");
    }
    return Error::success();
  }

  /// Starts `@forward(%input_ids, %positions) -> logits`.
  void beginForward(int64_t vocab) {
    builder.setInsertionPointToEnd(module->getBody());
    int64_t batch = options.batch, seq = options.sequence;
    auto ids = RankedTensorType::get({batch, seq}, builder.getI64Type());
    auto logits = RankedTensorType::get({batch, seq, vocab}, elementType);
    auto function = func::FuncOp::create(
        builder, loc, "forward", builder.getFunctionType({ids, ids}, {logits}));
    function.setArgAttr(0, "tvc.name", builder.getStringAttr("input_ids"));
    function.setArgAttr(1, "tvc.name", builder.getStringAttr("positions"));
    Block *entry = function.addEntryBlock();
    builder.setInsertionPointToStart(entry);
    inputIds = entry->getArgument(0);
    positions = entry->getArgument(1);
    globalInsertionPoint = function;
  }

  /// Reads weight `key` (declaring its global on first use), checking the
  /// stored shape against `shape`.
  Expected<Value> weight(StringRef key, ArrayRef<int64_t> shape) {
    const TensorLocation *location = checkpoint.lookup(key);
    if (!location)
      return makeError("checkpoint has no tensor '" + key + "'");
    return declareWeight(key, location->file->getPath(), *location->info, shape,
                         "config.json implies");
  }

  /// Reads tensor `info` of `file` (declaring its global on first use),
  /// checking its shape against `shape`; `impliedBy` says where that shape
  /// comes from in errors.
  Expected<Value> declareWeight(StringRef key, StringRef file,
                                const TensorInfo &info, ArrayRef<int64_t> shape,
                                StringRef impliedBy) {
    auto format = [](ArrayRef<int64_t> dims) {
      std::string text = "[";
      llvm::raw_string_ostream os(text);
      llvm::interleaveComma(dims, os);
      os << "]";
      return text;
    };
    if (ArrayRef<int64_t>(info.shape) != shape)
      return makeError(file + ": tensor '" + key + "' has shape " +
                       format(info.shape) + ", " + impliedBy + " " +
                       format(shape));
    std::optional<DType> expected = getDTypeForElementType(elementType);
    if (info.dtype != *expected)
      return makeError(file + ": tensor '" + key + "' is " +
                       getDTypeName(info.dtype) + ", the model is " +
                       getDTypeName(*expected) +
                       " (mixed dtypes are not supported)");
    auto type = RankedTensorType::get(shape, elementType);
    if (used.insert(key).second) {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(globalInsertionPoint);
      GlobalOp::create(builder, loc, builder.getStringAttr(key),
                       TypeAttr::get(type),
                       ExternalWeightAttr::get(&context, file, key));
    }
    return WeightOp::create(builder, loc, type,
                            FlatSymbolRefAttr::get(&context, key))
        .getResult();
  }

  /// True when the checkpoint has `key`.
  bool has(StringRef key) const { return checkpoint.lookup(key) != nullptr; }

  /// y = x W^T (+ b) with a dense [out, in] (or [in, out]) weight; a
  /// #tvc.lora linear when the adapter targets module `prefix`.
  Expected<Value> linear(Value input, StringRef prefix, int64_t in, int64_t out,
                         bool bias, WeightLayout layout) {
    SmallVector<int64_t, 2> shape = layout == WeightLayout::OutIn
                                        ? SmallVector<int64_t, 2>{out, in}
                                        : SmallVector<int64_t, 2>{in, out};
    Expected<Value> w = weight((prefix + ".weight").str(), shape);
    if (!w)
      return w.takeError();
    Value b;
    if (bias) {
      Expected<Value> loaded = weight((prefix + ".bias").str(), {out});
      if (!loaded)
        return loaded.takeError();
      b = *loaded;
    }
    auto resultType = withLastDim(input, out);
    std::string module = getAdapterModuleName(prefix);
    if (adapter && adapter->isTargeted(module)) {
      // A problem of the adapter is recorded and the linear stays dense, so
      // that one import reports every such problem.
      Expected<Value> lora =
          loraLinear(input, *w, b, module, in, out, layout, resultType);
      if (lora)
        return *lora;
      // One line per problem (joined errors come newline-separated).
      std::string text = llvm::toString(lora.takeError());
      SmallVector<StringRef> lines;
      StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
      for (StringRef line : lines)
        loraProblems.push_back(line.str());
    }
    auto structure = DenseStructureAttr::get(&context, layout);
    return LinearOp::create(builder, loc, resultType, input, ValueRange{*w}, b,
                            structure)
        .getResult();
  }

  /// The adapter's name of the module whose checkpoint keys start with
  /// `prefix`: the two may disagree on a model-level prefix (GPT-2's
  /// "transformer.", see adapterModulePrefix).
  std::string getAdapterModuleName(StringRef prefix) const {
    StringRef rest = prefix;
    if (rest.consume_front(checkpointModulePrefix))
      return (adapterModulePrefix + rest).str();
    return prefix.str();
  }

  /// The #tvc.lora linear of adapter module `prefix`: W (in `layout`, which
  /// the structure records) plus the adapter's A [r, in] and B [out, r],
  /// which PEFT stores so for nn.Linear and Conv1D alike, with alpha =
  /// scaling * r so that alpha / r is PEFT's scaling (lora_alpha / r, or
  /// lora_alpha / sqrt(r) with rsLoRA).
  Expected<Value> loraLinear(Value input, Value w, Value b, StringRef prefix,
                             int64_t in, int64_t out, WeightLayout layout,
                             Type resultType) {
    Expected<LoraModule> module = adapter->getModule(prefix);
    if (!module)
      return module.takeError();
    std::string implied =
        layout == WeightLayout::OutIn
            ? llvm::formatv(
                  "the rank {0} and the module's [{1} x {2}] weight imply",
                  module->rank, out, in)
                  .str()
            : llvm::formatv("the rank {0} and the module's [{1} x {2}] "
                            "([in, out]) weight imply",
                            module->rank, in, out)
                  .str();
    Expected<Value> a = declareWeight(module->aKey, adapter->getWeightsPath(),
                                      *module->a, {module->rank, in}, implied);
    Expected<Value> up =
        declareWeight(module->bKey, adapter->getWeightsPath(), *module->b,
                      {out, module->rank}, implied);
    if (Error error = collectErrors(a, up))
      return std::move(error);
    double alpha = module->scaling * static_cast<double>(module->rank);
    if (!std::isfinite(alpha))
      return makeError(adapter->getConfigPath() + ": module '" + prefix +
                       "' has a non-finite scaling");
    ++numLoraLinears;
    return LinearOp::create(
               builder, loc, resultType, input, ValueRange{w, *a, *up}, b,
               LoraStructureAttr::get(&context, module->rank, alpha, layout))
        .getResult();
  }

  /// Layer norm (with bias) or RMS norm over the last dimension.
  Expected<Value> layerNorm(Value input, StringRef prefix, int64_t width,
                            double epsilon) {
    Expected<Value> scale = weight((prefix + ".weight").str(), {width});
    if (!scale)
      return scale.takeError();
    Expected<Value> bias = weight((prefix + ".bias").str(), {width});
    if (!bias)
      return bias.takeError();
    return LayerNormOp::create(builder, loc, input, *scale, *bias,
                               builder.getF64FloatAttr(epsilon))
        .getResult();
  }
  Expected<Value> rmsNorm(Value input, StringRef prefix, int64_t width,
                          double epsilon) {
    Expected<Value> scale = weight((prefix + ".weight").str(), {width});
    if (!scale)
      return scale.takeError();
    return RmsNormOp::create(builder, loc, input, *scale,
                             builder.getF64FloatAttr(epsilon))
        .getResult();
  }

  /// Opens `tvc.layer index (hidden, positions)`; the body's arguments
  /// replace them until endLayer().
  void beginLayer(int64_t index, Value &hidden) {
    layerOp = LayerOp::create(builder, loc, TypeRange{hidden.getType()},
                              static_cast<uint64_t>(index), LayerRole::Decoder,
                              ValueRange{hidden, positions});
    Block *body = builder.createBlock(&layerOp.getBody());
    hidden = body->addArgument(hidden.getType(), loc);
    outerPositions = positions;
    positions = body->addArgument(positions.getType(), loc);
  }
  void endLayer(Value &hidden) {
    YieldOp::create(builder, loc, ValueRange{hidden});
    builder.setInsertionPointAfter(layerOp);
    hidden = layerOp.getResult(0);
    positions = outerPositions;
    if (options.onLayer)
      options.onLayer(layerOp.getIndex(), numLayers);
  }

  /// Ends @forward, verifies, and checks that every tensor was used.
  Expected<OwningOpRef<ModuleOp>> finish(Value logits,
                                         HfImportSummary &summary) {
    func::ReturnOp::create(builder, loc, ValueRange{logits});
    if (adapter) {
      for (std::string &problem : adapter->checkUnused())
        loraProblems.push_back(std::move(problem));
      if (!loraProblems.empty()) {
        // Enough lines to see the pattern of a systematic mismatch.
        constexpr size_t kMaxListed = 12;
        size_t count = loraProblems.size();
        if (count > kMaxListed) {
          loraProblems.resize(kMaxListed);
          loraProblems.push_back(
              llvm::formatv("... and {0} more", count - kMaxListed));
        }
        return makeError(llvm::formatv(
            "the LoRA adapter does not fit the {0} model ({1} problem(s)):\n  "
            "{2}",
            summary.modelType, count, llvm::join(loraProblems, "\n  ")));
      }
      summary.numLoraLinears = numLoraLinears;
    }
    std::vector<std::string> unused;
    for (const std::string &key : checkpoint.getKeys()) {
      if (used.contains(key))
        continue;
      if (isKnownBuffer(key)) {
        ++summary.numIgnoredTensors;
        continue;
      }
      unused.push_back(key);
    }
    if (!unused.empty()) {
      std::string list;
      for (size_t i = 0; i < unused.size() && i < 8; ++i)
        list += (i ? ", '" : "'") + unused[i] + "'";
      if (unused.size() > 8)
        list += ", ...";
      return makeError(llvm::formatv(
          "{0} tensor(s) of the checkpoint are not part of the {1} graph "
          "({2}); refusing to import a model that would differ from it",
          unused.size(), summary.modelType, list));
    }
    if (failed(verify(*module)))
      return makeError("the imported module does not verify (see the "
                       "diagnostics above)");
    return std::move(module);
  }

  /// Result type of `input` with its last dimension set to `width`.
  RankedTensorType withLastDim(Value input, int64_t width) {
    auto type = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = width;
    return RankedTensorType::get(shape, type.getElementType());
  }

  MLIRContext &context;
  OpBuilder builder;
  const Checkpoint &checkpoint;
  /// The LoRA adapter read onto the model, or null.
  LoraAdapter *adapter;
  const HfImportOptions &options;
  Location loc;
  OwningOpRef<ModuleOp> module;
  Type elementType;
  Value inputIds, positions, outerPositions;
  Operation *globalInsertionPoint = nullptr;
  LayerOp layerOp;
  int64_t numLayers = 0;
  llvm::StringSet<> used;
  /// Adapter problems found while building, reported by finish().
  std::vector<std::string> loraProblems;
  int64_t numLoraLinears = 0;
  /// Checkpoint key prefixes read as another prefix in adapter module names
  /// (GPT-2: the checkpoint may lack "transformer.", the adapter not).
  std::string checkpointModulePrefix, adapterModulePrefix;

private:
  /// Tensors checkpoints carry that are not weights.
  static bool isKnownBuffer(StringRef key) {
    return key.ends_with(".attn.bias") || key.ends_with(".attn.masked_bias") ||
           key.ends_with(".rotary_emb.inv_freq");
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// GPT-2
//===----------------------------------------------------------------------===//

/// Maps a config activation name to a gelu approximation.
static Expected<GeluApproximation> getGeluKind(StringRef name,
                                               StringRef configPath) {
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return GeluApproximation::Tanh;
  if (name == "gelu")
    return GeluApproximation::None;
  return makeError(configPath + ": unsupported activation_function '" + name +
                   "' (supported: gelu, gelu_new, gelu_pytorch_tanh)");
}

static Expected<Value> importGpt2(GraphBuilder &g, const Config &config,
                                  HfImportSummary &summary) {
  auto width = config.getPositive("n_embd");
  auto heads = config.getPositive("n_head");
  auto layers = config.getPositive("n_layer");
  auto vocab = config.getPositive("vocab_size");
  auto context = config.getPositive("n_positions");
  auto epsilon = config.getNumberOr("layer_norm_epsilon", 1e-5);
  if (Error error =
          collectErrors(width, heads, layers, vocab, context, epsilon))
    return std::move(error);
  auto inner = config.getPositiveOr("n_inner", 4 * *width);
  if (!inner)
    return inner.takeError();
  auto gelu =
      getGeluKind(config.getString("activation_function").value_or("gelu_new"),
                  config.getPath());
  if (!gelu)
    return gelu.takeError();
  if (*width % *heads != 0)
    return makeError(config.getPath() + ": n_head " + llvm::Twine(*heads) +
                     " does not divide n_embd " + llvm::Twine(*width));

  // Checkpoints saved from GPT2Model have bare keys; from GPT2LMHeadModel
  // they carry "transformer.".
  std::string prefix = g.has("wte.weight")               ? ""
                       : g.has("transformer.wte.weight") ? "transformer."
                                                         : "";
  if (Error error = g.setElementTypeFrom(prefix + "wte.weight"))
    return std::move(error);
  // PEFT names modules as the model it wrapped does: "transformer.h.N..."
  // for GPT2LMHeadModel (the usual case), "h.N..." for a bare GPT2Model. A
  // checkpoint saved either way takes the adapter's naming.
  if (g.adapter) {
    g.checkpointModulePrefix = prefix + "h.";
    g.adapterModulePrefix = g.adapter->hasModulesUnder("h.") &&
                                    !g.adapter->hasModulesUnder("transformer.")
                                ? "h."
                                : "transformer.h.";
  }
  int64_t d = *width;
  if (!ShapedType::isDynamic(g.options.sequence) &&
      g.options.sequence > *context)
    return makeError(llvm::formatv(
        "{0}: the input sequence {1} exceeds n_positions {2} (the learned "
        "position table)",
        config.getPath(), g.options.sequence, *context));
  summary.numLayers = g.numLayers = *layers;
  g.beginForward(*vocab);

  Expected<Value> wte = g.weight(prefix + "wte.weight", {*vocab, d});
  if (!wte)
    return wte.takeError();
  Expected<Value> wpe = g.weight(prefix + "wpe.weight", {*context, d});
  if (!wpe)
    return wpe.takeError();
  Value hidden = EmbeddingOp::create(g.builder, g.loc, *wte, g.inputIds);
  hidden =
      LearnedPositionsOp::create(g.builder, g.loc, hidden, *wpe, g.positions);

  for (int64_t layer = 0; layer < *layers; ++layer) {
    std::string p = prefix + "h." + std::to_string(layer) + ".";
    g.beginLayer(layer, hidden);
    Value residual = hidden;
    Expected<Value> x = g.layerNorm(hidden, p + "ln_1", d, *epsilon);
    if (!x)
      return x.takeError();
    Expected<Value> qkv =
        g.linear(*x, p + "attn.c_attn", d, 3 * d, true, WeightLayout::InOut);
    if (!qkv)
      return qkv.takeError();
    auto split = SplitOp::create(g.builder, g.loc, *qkv,
                                 g.builder.getDenseI64ArrayAttr({d, d, d}));
    Value attn = AttentionOp::create(g.builder, g.loc, split.getResult(0),
                                     split.getResult(1), split.getResult(2),
                                     /*kv_len=*/Value(), /*state=*/Value(),
                                     static_cast<uint64_t>(*heads),
                                     static_cast<uint64_t>(*heads),
                                     CausalMaskAttr::get(&g.context),
                                     /*scale=*/nullptr)
                     .getResult();
    Expected<Value> proj =
        g.linear(attn, p + "attn.c_proj", d, d, true, WeightLayout::InOut);
    if (!proj)
      return proj.takeError();
    hidden = AddOp::create(g.builder, g.loc, residual, *proj);

    residual = hidden;
    x = g.layerNorm(hidden, p + "ln_2", d, *epsilon);
    if (!x)
      return x.takeError();
    Expected<Value> up =
        g.linear(*x, p + "mlp.c_fc", d, *inner, true, WeightLayout::InOut);
    if (!up)
      return up.takeError();
    Value act = GeluOp::create(g.builder, g.loc, *up, *gelu);
    Expected<Value> down =
        g.linear(act, p + "mlp.c_proj", *inner, d, true, WeightLayout::InOut);
    if (!down)
      return down.takeError();
    hidden = AddOp::create(g.builder, g.loc, residual, *down);
    g.endLayer(hidden);
  }

  Expected<Value> final = g.layerNorm(hidden, prefix + "ln_f", d, *epsilon);
  if (!final)
    return final.takeError();
  // GPT-2 always ties its head to the token embedding.
  return LmHeadOp::create(g.builder, g.loc, *final, *wte).getResult();
}

//===----------------------------------------------------------------------===//
// LLaMA, Mistral, Qwen2
//===----------------------------------------------------------------------===//

/// The glu activation of a config's hidden_act.
static Expected<Activation> getGluActivation(StringRef name,
                                             StringRef configPath) {
  if (name == "silu" || name == "swish")
    return Activation::Silu;
  if (name == "gelu")
    return Activation::Gelu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new")
    return Activation::GeluTanh;
  if (name == "relu")
    return Activation::Relu;
  return makeError(configPath + ": unsupported hidden_act '" + name +
                   "' (supported: silu, gelu, gelu_pytorch_tanh, relu)");
}

/// The RoPE scaling of config.json's rope_scaling.
static Expected<RopeScalingAttr> getRopeScaling(MLIRContext *context,
                                                const Config &config) {
  const llvm::json::Object *scaling = config.object().getObject("rope_scaling");
  if (!scaling)
    return RopeScalingAttr::getNone(context);
  std::optional<StringRef> type = scaling->getString("rope_type");
  if (!type)
    type = scaling->getString("type");
  if (!type || *type == "default")
    return RopeScalingAttr::getNone(context);
  double factor = scaling->getNumber("factor").value_or(1.0);
  if (!(factor > 0.0))
    return makeError(config.getPath() +
                     ": rope_scaling.factor must be positive");
  if (*type == "linear")
    return RopeScalingAttr::get(context, RopeScalingKind::Linear, factor);
  if (*type == "yarn") {
    std::optional<int64_t> original =
        scaling->getInteger("original_max_position_embeddings");
    if (!original)
      original = config.object().getInteger("max_position_embeddings");
    if (!original || *original <= 0)
      return makeError(config.getPath() + ": yarn rope_scaling needs "
                                          "original_max_position_embeddings");
    return RopeScalingAttr::get(context, RopeScalingKind::Yarn, factor,
                                *original,
                                scaling->getNumber("beta_fast").value_or(32.0),
                                scaling->getNumber("beta_slow").value_or(1.0));
  }
  if (*type == "llama3") {
    std::optional<int64_t> original =
        scaling->getInteger("original_max_position_embeddings");
    if (!original || *original <= 0)
      return makeError(config.getPath() + ": llama3 rope_scaling needs "
                                          "original_max_position_embeddings");
    double low = scaling->getNumber("low_freq_factor").value_or(1.0);
    double high = scaling->getNumber("high_freq_factor").value_or(4.0);
    if (!(low > 0.0) || !(high > low))
      return makeError(config.getPath() +
                       ": llama3 rope_scaling needs high_freq_factor > "
                       "low_freq_factor > 0");
    return RopeScalingAttr::get(context, RopeScalingKind::Llama3, factor,
                                *original, 32.0, 1.0, low, high);
  }
  return makeError(config.getPath() + ": rope_scaling type '" + *type +
                   "' is not supported (supported: default, linear, yarn, "
                   "llama3)");
}

static Expected<Value> importLlama(GraphBuilder &g, const Config &config,
                                   HfImportSummary &summary) {
  auto width = config.getPositive("hidden_size");
  auto heads = config.getPositive("num_attention_heads");
  auto layers = config.getPositive("num_hidden_layers");
  auto vocab = config.getPositive("vocab_size");
  auto inner = config.getPositive("intermediate_size");
  if (Error error = collectErrors(width, heads, layers, vocab, inner))
    return std::move(error);
  auto kvHeads = config.getPositiveOr("num_key_value_heads", *heads);
  if (!kvHeads)
    return kvHeads.takeError();
  if (*width % *heads != 0 && !config.object().get("head_dim"))
    return makeError(config.getPath() + ": num_attention_heads " +
                     llvm::Twine(*heads) + " does not divide hidden_size " +
                     llvm::Twine(*width));
  auto headDim = config.getPositiveOr("head_dim", *width / *heads);
  auto epsilon = config.getNumberOr("rms_norm_eps", 1e-6);
  auto theta = config.getNumberOr("rope_theta", 10000.0);
  auto rotaryFactor = config.getNumberOr("partial_rotary_factor", 1.0);
  if (Error error = collectErrors(headDim, epsilon, theta, rotaryFactor))
    return std::move(error);
  if (*heads % *kvHeads != 0)
    return makeError(
        config.getPath() + ": num_key_value_heads " + llvm::Twine(*kvHeads) +
        " does not divide num_attention_heads " + llvm::Twine(*heads));
  auto activation = getGluActivation(
      config.getString("hidden_act").value_or("silu"), config.getPath());
  if (!activation)
    return activation.takeError();
  auto scaling = getRopeScaling(&g.context, config);
  if (!scaling)
    return scaling.takeError();

  // Mistral: sliding_window on every layer when set. Qwen2: only with
  // use_sliding_window, from layer max_window_layers on.
  auto window = config.getPositiveOr("sliding_window", 0);
  if (!window)
    return window.takeError();
  int64_t firstWindowLayer = *layers;
  if (*window > 0) {
    if (summary.modelType == "mistral") {
      firstWindowLayer = 0;
    } else if (summary.modelType == "qwen2" &&
               config.getBoolOr("use_sliding_window", false)) {
      auto first = config.getPositiveOr("max_window_layers", 0);
      if (!first)
        return first.takeError();
      firstWindowLayer = *first;
    }
  }

  // Which projections carry biases follows the family: Qwen2 has q/k/v
  // biases, LLaMA has all four with attention_bias, Mistral none. A
  // checkpoint that disagrees is an error (missing or unused tensor).
  bool qkvBias =
      summary.modelType == "qwen2" || config.getBoolOr("attention_bias", false);
  bool outBias =
      summary.modelType != "qwen2" && config.getBoolOr("attention_bias", false);

  if (Error error = g.setElementTypeFrom("model.embed_tokens.weight"))
    return std::move(error);
  int64_t d = *width, qWidth = *heads * *headDim, kvWidth = *kvHeads * *headDim;
  std::optional<uint64_t> rotaryDim;
  if (*rotaryFactor != 1.0)
    rotaryDim = static_cast<uint64_t>(std::llround(*headDim * *rotaryFactor));
  summary.numLayers = g.numLayers = *layers;
  g.beginForward(*vocab);

  Expected<Value> embed = g.weight("model.embed_tokens.weight", {*vocab, d});
  if (!embed)
    return embed.takeError();
  Value hidden = EmbeddingOp::create(g.builder, g.loc, *embed, g.inputIds);

  auto rope = [&](Value x, int64_t ropeHeads) -> Value {
    auto op = RopeOp::create(g.builder, g.loc, x, g.positions,
                             g.builder.getI64IntegerAttr(ropeHeads),
                             g.builder.getF64FloatAttr(*theta),
                             rotaryDim ? g.builder.getI64IntegerAttr(*rotaryDim)
                                       : IntegerAttr(),
                             /*interleaved=*/nullptr, *scaling);
    return op.getResult();
  };

  for (int64_t layer = 0; layer < *layers; ++layer) {
    std::string p = "model.layers." + std::to_string(layer) + ".";
    g.beginLayer(layer, hidden);
    Value residual = hidden;
    Expected<Value> x = g.rmsNorm(hidden, p + "input_layernorm", d, *epsilon);
    if (!x)
      return x.takeError();
    auto projection = [&](StringRef name, int64_t out) {
      return g.linear(*x, p + "self_attn." + name.str(), d, out, qkvBias,
                      WeightLayout::OutIn);
    };
    Expected<Value> q = projection("q_proj", qWidth);
    if (!q)
      return q.takeError();
    Expected<Value> k = projection("k_proj", kvWidth);
    if (!k)
      return k.takeError();
    Expected<Value> v = projection("v_proj", kvWidth);
    if (!v)
      return v.takeError();
    Attribute mask = CausalMaskAttr::get(&g.context);
    if (layer >= firstWindowLayer)
      mask = SlidingWindowMaskAttr::get(&g.context, *window);
    Value attn =
        AttentionOp::create(g.builder, g.loc, rope(*q, *heads),
                            rope(*k, *kvHeads), *v, /*kv_len=*/Value(),
                            /*state=*/Value(), static_cast<uint64_t>(*heads),
                            static_cast<uint64_t>(*kvHeads),
                            cast<MaskAttrInterface>(mask), /*scale=*/nullptr)
            .getResult();
    Expected<Value> out = g.linear(attn, p + "self_attn.o_proj", qWidth, d,
                                   outBias, WeightLayout::OutIn);
    if (!out)
      return out.takeError();
    hidden = AddOp::create(g.builder, g.loc, residual, *out);

    residual = hidden;
    x = g.rmsNorm(hidden, p + "post_attention_layernorm", d, *epsilon);
    if (!x)
      return x.takeError();
    Expected<Value> gate = g.linear(*x, p + "mlp.gate_proj", d, *inner, false,
                                    WeightLayout::OutIn);
    if (!gate)
      return gate.takeError();
    Expected<Value> up =
        g.linear(*x, p + "mlp.up_proj", d, *inner, false, WeightLayout::OutIn);
    if (!up)
      return up.takeError();
    Value act = GluOp::create(g.builder, g.loc, *gate, *up,
                              ActivationAttr::get(&g.context, *activation));
    Expected<Value> down = g.linear(act, p + "mlp.down_proj", *inner, d, false,
                                    WeightLayout::OutIn);
    if (!down)
      return down.takeError();
    hidden = AddOp::create(g.builder, g.loc, residual, *down);
    g.endLayer(hidden);
  }

  Expected<Value> final = g.rmsNorm(hidden, "model.norm", d, *epsilon);
  if (!final)
    return final.takeError();
  // HF's default for these families is an untied head.
  bool tied = config.getBoolOr("tie_word_embeddings", false);
  Value head = *embed;
  if (!tied) {
    if (!g.has("lm_head.weight"))
      return makeError(config.getPath() +
                       ": tie_word_embeddings is false, but the checkpoint "
                       "has no 'lm_head.weight'");
    Expected<Value> loaded = g.weight("lm_head.weight", {*vocab, d});
    if (!loaded)
      return loaded.takeError();
    head = *loaded;
  }
  return LmHeadOp::create(g.builder, g.loc, *final, head).getResult();
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

Expected<OwningOpRef<ModuleOp>>
mlir::tvc::importHuggingFace(MLIRContext &context, StringRef directory,
                             const HfImportOptions &options,
                             HfImportSummary &summary) {
  context.loadDialect<TvcDialect, func::FuncDialect>();
  SmallString<256> configPath(directory);
  llvm::sys::path::append(configPath, "config.json");
  Expected<Config> config = Config::load(configPath);
  if (!config)
    return config.takeError();
  std::optional<StringRef> modelType = config->getString("model_type");
  if (!modelType)
    return makeError(configPath + ": missing string field 'model_type'");
  if (!llvm::is_contained(getSupportedHfModelTypes(), *modelType)) {
    std::string supported;
    llvm::raw_string_ostream os(supported);
    llvm::interleaveComma(getSupportedHfModelTypes(), os);
    return makeError(configPath + ": model_type '" + *modelType +
                     "' is not supported (supported: " + supported + ")");
  }
  summary.modelType = modelType->str();

  Expected<std::unique_ptr<Checkpoint>> checkpoint =
      Checkpoint::open(directory);
  if (!checkpoint)
    return checkpoint.takeError();
  std::unique_ptr<LoraAdapter> adapter;
  if (!options.loraAdapter.empty()) {
    Expected<std::unique_ptr<LoraAdapter>> opened =
        LoraAdapter::open(options.loraAdapter);
    if (!opened)
      return opened.takeError();
    adapter = std::move(*opened);
  }
  GraphBuilder graph(context, **checkpoint, adapter.get(), options);
  Expected<Value> logits = *modelType == "gpt2"
                               ? importGpt2(graph, *config, summary)
                               : importLlama(graph, *config, summary);
  if (!logits)
    return logits.takeError();
  return graph.finish(*logits, summary);
}
