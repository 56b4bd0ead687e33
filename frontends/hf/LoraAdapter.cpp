//===- LoraAdapter.cpp - PEFT LoRA adapters for the HF importer -----------===//
//
// Parses adapter_config.json with llvm::json, refusing every option that
// would change the computation in a way #tvc.lora cannot express (DoRA,
// trained biases, modules_to_save, layer replication), and indexes
// adapter_model.safetensors by module. Module selection follows PEFT's
// rules: a target_modules string is a regular expression the whole module
// name must match; a list entry matches the whole name or its last
// dot-separated parts, optionally restricted to layers_to_transform; a
// rank_pattern/alpha_pattern key P applies when `(.*\.)?(P)$` matches from
// the start. Python's regular expressions are read as POSIX extended ones
// after translating the common Python-only escapes (\d, \w, \s, (?:...));
// other Python-only syntax is refused by name.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/LoraAdapter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tvc;

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

/// PEFT's key prefix in adapter_model.safetensors and the two weights of a
/// module's adapter.
static constexpr StringRef kKeyPrefix = "base_model.model.";
static constexpr StringRef kASuffix = ".lora_A.weight";
static constexpr StringRef kBSuffix = ".lora_B.weight";

/// Translates a Python regular expression into POSIX extended syntax for
/// llvm::Regex: \d, \w, \s (and their negations) outside brackets become
/// bracket expressions and (?:...) a plain group. Other Python-only syntax
/// (lookarounds, lazy quantifiers, named groups) is an error.
static Expected<std::string> translatePythonRegex(StringRef pattern) {
  std::string out;
  bool inBracket = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
    if (inBracket) {
      if (c == ']' && out.back() != '[' && !StringRef(out).ends_with("[^"))
        inBracket = false;
      if (c == '\\')
        return makeError("backslash inside a bracket expression");
      out += c;
      continue;
    }
    if (c == '[') {
      inBracket = true;
      out += c;
      continue;
    }
    if (c == '\\') {
      switch (next) {
      case 'd':
        out += "[0-9]";
        break;
      case 'D':
        out += "[^0-9]";
        break;
      case 'w':
        out += "[A-Za-z0-9_]";
        break;
      case 'W':
        out += "[^A-Za-z0-9_]";
        break;
      case 's':
        out += "[ \t\n\r\f\v]";
        break;
      case 'S':
        out += "[^ \t\n\r\f\v]";
        break;
      case '\0':
        return makeError("a trailing backslash");
      default:
        if (llvm::isAlnum(next))
          return makeError("the escape \\" + std::string(1, next) +
                           " has no POSIX equivalent");
        out += c;
        out += next;
      }
      ++i;
      continue;
    }
    if (c == '(' && next == '?') {
      if (i + 2 < pattern.size() && pattern[i + 2] == ':') {
        out += '(';
        i += 2;
        continue;
      }
      return makeError("'(?' groups other than (?:...) (lookarounds, named "
                       "groups, flags) are not supported");
    }
    if ((c == '*' || c == '+' || c == '?' || c == '}') && next == '?')
      return makeError("lazy quantifiers ('" + std::string(1, c) +
                       "?') are not supported");
    out += c;
  }
  return out;
}

/// Compiles `^(pattern)$`-style wrappers of a Python regex.
static Expected<std::unique_ptr<llvm::Regex>>
compileAnchored(StringRef prefix, StringRef pattern) {
  Expected<std::string> posix = translatePythonRegex(pattern);
  if (!posix)
    return posix.takeError();
  auto regex = std::make_unique<llvm::Regex>(
      (llvm::Twine("^") + prefix + "(" + *posix + ")$").str());
  std::string problem;
  if (!regex->isValid(problem))
    return makeError(problem);
  return std::move(regex);
}

static bool fullMatch(StringRef pattern, StringRef text) {
  auto regex = compileAnchored("", pattern);
  if (!regex) {
    llvm::consumeError(regex.takeError());
    return false;
  }
  return (*regex)->match(text);
}

//===----------------------------------------------------------------------===//
// adapter_config.json
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<LoraAdapter>> LoraAdapter::open(StringRef directory) {
  if (!llvm::sys::fs::is_directory(directory))
    return makeError(directory + ": not a directory (--lora expects a PEFT "
                                 "adapter directory)");
  std::unique_ptr<LoraAdapter> adapter(new LoraAdapter());
  llvm::SmallString<256> config(directory), weights(directory);
  llvm::sys::path::append(config, "adapter_config.json");
  llvm::sys::path::append(weights, "adapter_model.safetensors");
  adapter->configPath = std::string(config);

  auto buffer = llvm::MemoryBuffer::getFile(config);
  if (!buffer)
    return makeError(config + ": " + buffer.getError().message());
  if (Error error = adapter->parseConfig((*buffer)->getBuffer()))
    return std::move(error);

  if (!llvm::sys::fs::exists(weights)) {
    llvm::SmallString<256> bin(directory);
    llvm::sys::path::append(bin, "adapter_model.bin");
    if (llvm::sys::fs::exists(bin))
      return makeError(bin + ": pickled PyTorch adapters are not read; save "
                             "the adapter with safe_serialization=True "
                             "(adapter_model.safetensors)");
    return makeError(weights + ": no such file");
  }
  if (std::error_code ec = llvm::sys::fs::make_absolute(weights))
    return makeError(weights + ": " + ec.message());
  auto file = SafeTensorsFile::open(weights);
  if (!file)
    return file.takeError();
  adapter->file = std::move(*file);
  if (Error error = adapter->indexTensors())
    return std::move(error);
  return std::move(adapter);
}

Error LoraAdapter::parseConfig(StringRef text) {
  Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json)
    return makeError(configPath +
                     ": invalid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return makeError(configPath + ": expected a JSON object at the top level");

  std::vector<std::string> problems;
  auto problem = [&](const llvm::Twine &message) {
    problems.push_back(message.str());
  };
  auto isNull = [&](StringRef key) {
    const llvm::json::Value *value = root->get(key);
    return !value || value->kind() == llvm::json::Value::Null;
  };
  // A list of strings into `names`.
  auto getStrings = [&](StringRef key, std::vector<std::string> &names) {
    const llvm::json::Array *array = root->getArray(key);
    if (!array) {
      problem("'" + key + "' must be a string or a list of strings");
      return;
    }
    for (const llvm::json::Value &item : *array) {
      if (std::optional<StringRef> name = item.getAsString())
        names.push_back(name->str());
      else
        problem("'" + key + "' must be a list of strings");
    }
  };

  std::optional<StringRef> peftType = root->getString("peft_type");
  if (!peftType)
    problem("missing string field 'peft_type'");
  else if (*peftType != "LORA")
    problem("peft_type '" + *peftType + "' is not supported (only LORA)");

  if (std::optional<int64_t> r = root->getInteger("r"); r && *r > 0)
    rank = *r;
  else
    problem("'r' must be a positive integer");
  if (std::optional<double> a = root->getNumber("lora_alpha"))
    alpha = *a;
  else
    problem("'lora_alpha' must be a number");
  rsLora = root->getBoolean("use_rslora").value_or(false);
  // PEFT stores A [r, in] and B [out, r] whatever fan_in_fan_out says: the
  // flag only tells how the base weight is laid out (true for GPT-2's
  // Conv1D, which PEFT forces; PEFT resets it for nn.Linear), which the
  // importer knows from the model. Only its type is checked.
  if (!isNull("fan_in_fan_out") && !root->getBoolean("fan_in_fan_out"))
    problem("'fan_in_fan_out' must be a boolean");

  // What #tvc.lora cannot express.
  if (root->getBoolean("use_dora").value_or(false))
    problem("use_dora is true: DoRA (weight-decomposed LoRA) is not "
            "supported");
  if (std::optional<StringRef> bias = root->getString("bias");
      bias && *bias != "none")
    problem("bias '" + *bias +
            "' is not supported (only \"none\": the "
            "adapter may not train biases)");
  if (root->getBoolean("lora_bias").value_or(false))
    problem("lora_bias is true: a bias on lora_B is not supported");
  if (!isNull("modules_to_save")) {
    const llvm::json::Array *saved = root->getArray("modules_to_save");
    if (!saved || !saved->empty())
      problem("modules_to_save is not empty: the adapter replaces whole "
              "modules, which is not supported");
  }
  for (StringRef key : {"layer_replication", "trainable_token_indices",
                        "target_parameters", "alora_invocation_tokens"}) {
    const llvm::json::Array *array = root->getArray(key);
    if (!isNull(key) && !(array && array->empty()))
      problem("'" + key + "' is set, which is not supported");
  }

  // target_modules: a regex string, "all-linear", or a list.
  if (isNull("target_modules")) {
    problem("'target_modules' is missing or null");
  } else if (std::optional<StringRef> regex =
                 root->getString("target_modules")) {
    if (*regex == "all-linear")
      allLinear = true;
    else if (auto compiled = compileAnchored("", *regex); !compiled)
      problem("target_modules '" + *regex +
              "' is not a regular expression "
              "this reader understands: " +
              llvm::toString(compiled.takeError()));
    else
      targetRegex = regex->str();
  } else {
    getStrings("target_modules", targetNames);
  }
  if (!isNull("exclude_modules")) {
    if (std::optional<StringRef> regex = root->getString("exclude_modules")) {
      if (auto compiled = compileAnchored("", *regex); !compiled)
        problem("exclude_modules '" + *regex +
                "' is not a regular "
                "expression this reader understands: " +
                llvm::toString(compiled.takeError()));
      else
        excludeRegex = regex->str();
    } else {
      getStrings("exclude_modules", excludeNames);
    }
  }
  if (!isNull("layers_to_transform")) {
    if (std::optional<int64_t> layer = root->getInteger("layers_to_transform"))
      layers.push_back(*layer);
    else if (const llvm::json::Array *array =
                 root->getArray("layers_to_transform"))
      for (const llvm::json::Value &item : *array) {
        if (std::optional<int64_t> layer = item.getAsInteger())
          layers.push_back(*layer);
        else
          problem("'layers_to_transform' must be an integer or a list of "
                  "integers");
      }
    else
      problem("'layers_to_transform' must be an integer or a list of "
              "integers");
  }
  if (!isNull("layers_pattern")) {
    if (std::optional<StringRef> pattern = root->getString("layers_pattern"))
      layersPatterns.push_back(pattern->str());
    else
      getStrings("layers_pattern", layersPatterns);
    for (const std::string &pattern : layersPatterns)
      if (Expected<std::string> posix = translatePythonRegex(pattern); !posix)
        problem("layers_pattern '" + pattern +
                "' is not a regular "
                "expression this reader understands: " +
                llvm::toString(posix.takeError()));
  }

  // Per-module overrides.
  auto getPatterns = [&](StringRef key, bool integer,
                         std::vector<std::pair<std::string, double>> &out) {
    if (isNull(key))
      return;
    const llvm::json::Object *object = root->getObject(key);
    if (!object) {
      problem("'" + key + "' must be an object");
      return;
    }
    for (const auto &[pattern, value] : *object) {
      std::optional<double> number = value.getAsNumber();
      std::optional<int64_t> whole = value.getAsInteger();
      if (integer ? !whole || *whole <= 0 : !number) {
        problem(key + "['" + pattern.str() + "'] must be " +
                (integer ? "a positive integer" : "a number"));
        continue;
      }
      if (auto compiled = compileAnchored("(.*\\.)?", pattern.str());
          !compiled) {
        problem(key + " key '" + pattern.str() +
                "' is not a regular "
                "expression this reader understands: " +
                llvm::toString(compiled.takeError()));
        continue;
      }
      out.emplace_back(pattern.str(),
                       integer ? static_cast<double>(*whole) : *number);
    }
    llvm::sort(out);
  };
  getPatterns("rank_pattern", /*integer=*/true, rankPattern);
  getPatterns("alpha_pattern", /*integer=*/false, alphaPattern);

  if (problems.empty())
    return Error::success();
  if (problems.size() == 1)
    return makeError(configPath + ": " + problems.front());
  return makeError(llvm::formatv("{0}: {1} problems:\n  {2}", configPath,
                                 problems.size(),
                                 llvm::join(problems, "\n  ")));
}

//===----------------------------------------------------------------------===//
// adapter_model.safetensors
//===----------------------------------------------------------------------===//

Error LoraAdapter::indexTensors() {
  for (const TensorInfo &info : file->getTensors()) {
    StringRef key = info.name;
    StringRef module = key;
    bool isA = module.consume_back(kASuffix);
    bool isB = !isA && module.consume_back(kBSuffix);
    if (!module.consume_front(kKeyPrefix) || (!isA && !isB)) {
      strayKeys.push_back(info.name);
      continue;
    }
    auto &entry = tensors[module];
    (isA ? entry.first : entry.second) = &info;
  }
  if (tensors.empty() && strayKeys.empty())
    return makeError(file->getPath() + ": the adapter holds no tensors");
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Module selection
//===----------------------------------------------------------------------===//

bool LoraAdapter::isTargeted(StringRef module) {
  auto matches = [&](const std::optional<std::string> &regex,
                     const std::vector<std::string> &names,
                     bool markTargets) -> bool {
    if (regex)
      return fullMatch(*regex, module);
    bool found = false;
    for (const std::string &name : names) {
      if (module == name || module.ends_with("." + name)) {
        found = true;
        if (markTargets)
          matchedTargets[name] = true;
      }
    }
    return found;
  };

  // A list entry counts as found once it names a module, whether or not
  // layers_to_transform or exclude_modules then drop that module.
  bool targeted = allLinear || matches(targetRegex, targetNames, true);
  // layers_to_transform applies to list targets only (as in PEFT) and to
  // names that are not the module's full name.
  if (targeted && !layers.empty() && !targetRegex && !allLinear &&
      !llvm::is_contained(targetNames, module)) {
    // PEFT: re.match(r".*\.[^.]*\.(\d+)\.") or, per layers_pattern P,
    // re.match(rf".*\.{P}\.(\d+)\."); the index is the last group.
    std::optional<int64_t> index;
    llvm::SmallVector<std::string, 1> patterns;
    if (layersPatterns.empty())
      patterns.push_back("[^.]*");
    for (const std::string &pattern : layersPatterns)
      if (Expected<std::string> posix = translatePythonRegex(pattern))
        patterns.push_back(*posix);
      else
        llvm::consumeError(posix.takeError());
    for (const std::string &pattern : patterns) {
      llvm::Regex layer("^.*\\.(" + pattern + ")\\.([0-9]+)\\.");
      llvm::SmallVector<StringRef, 4> groups;
      int64_t value;
      if (layer.isValid() && layer.match(module, &groups) &&
          !groups.back().getAsInteger(10, value)) {
        index = value;
        break;
      }
    }
    targeted = index && llvm::is_contained(layers, *index);
  }
  if (targeted && (excludeRegex || !excludeNames.empty()) &&
      matches(excludeRegex, excludeNames, false))
    targeted = false;
  seen[module] = targeted;
  return targeted;
}

Expected<std::optional<double>> LoraAdapter::lookupPattern(
    const std::vector<std::pair<std::string, double>> &patterns,
    StringRef field, StringRef module) const {
  std::optional<std::pair<std::string, double>> found;
  for (const auto &[pattern, value] : patterns) {
    auto regex = compileAnchored("(.*\\.)?", pattern);
    if (!regex)
      return regex.takeError();
    if (!(*regex)->match(module))
      continue;
    // PEFT takes the first matching key in file order, which a JSON object
    // does not keep here: two keys with different values are ambiguous.
    if (found && found->second != value)
      return makeError(llvm::formatv(
          "{0}: {1} keys '{2}' and '{3}' both match module '{4}' with "
          "different values",
          configPath, field, found->first, pattern, module));
    found = {pattern, value};
  }
  if (!found)
    return std::nullopt;
  return found->second;
}

Expected<LoraModule> LoraAdapter::getModule(StringRef module) const {
  LoraModule result;
  auto r = lookupPattern(rankPattern, "rank_pattern", module);
  if (!r)
    return r.takeError();
  auto a = lookupPattern(alphaPattern, "alpha_pattern", module);
  if (!a)
    return a.takeError();
  result.rank = *r ? static_cast<int64_t>(**r) : rank;
  double moduleAlpha = *a ? **a : alpha;
  result.scaling =
      moduleAlpha / (rsLora ? std::sqrt(static_cast<double>(result.rank))
                            : static_cast<double>(result.rank));
  result.aKey = (kKeyPrefix + module + kASuffix).str();
  result.bKey = (kKeyPrefix + module + kBSuffix).str();
  auto it = tensors.find(module);
  if (it != tensors.end()) {
    result.a = it->second.first;
    result.b = it->second.second;
  }
  if (!result.a || !result.b)
    return makeError(file->getPath() + ": module '" + module +
                     "' is targeted by adapter_config.json but the file has "
                     "no '" +
                     (result.a ? result.bKey : result.aKey) + "'");
  return result;
}

bool LoraAdapter::hasModulesUnder(StringRef prefix) const {
  return llvm::any_of(tensors, [&](const auto &entry) {
    return entry.getKey().starts_with(prefix);
  });
}

std::vector<std::string> LoraAdapter::checkUnused() const {
  std::vector<std::string> problems;
  std::vector<std::string> modules;
  for (const auto &entry : tensors)
    modules.push_back(entry.getKey().str());
  llvm::sort(modules);
  for (const std::string &module : modules) {
    auto it = seen.find(module);
    if (it == seen.end())
      problems.push_back(file->getPath().str() + ": adapter tensors for '" +
                         module +
                         "', which is not a linear layer of the base model");
    else if (!it->second)
      problems.push_back(file->getPath().str() + ": adapter tensors for '" +
                         module +
                         "', which adapter_config.json does not "
                         "target");
  }
  for (const std::string &key : strayKeys)
    problems.push_back(
        file->getPath().str() + ": tensor '" + key +
        "' is not a LoRA weight ('" + kKeyPrefix.str() + "<module>" +
        kASuffix.str() + "' or '" + kBSuffix.str() +
        "'; DoRA magnitudes, embedding adapters and biases are not "
        "supported)");
  for (const std::string &name : targetNames)
    if (!matchedTargets.count(name))
      problems.push_back(configPath + ": target_modules entry '" + name +
                         "' matches no linear layer of the base model");
  return problems;
}
