//===- ModelMain.cpp - main() of an executable emitted by tvc-compile -----===//
//
//   ./model --prompt-ids 1,2,3 --max-new-tokens 32
//           [--temperature T --top-k K --top-p P --seed S] [--weights FILE]
//   ./model --prompt "text"          (byte-level vocabularies: 256 tokens)
//
// Reads the artifact's manifest, maps the weights file (default: the
// executable's path + ".weights"), allocates the KV caches once, runs the
// prefill entry point on the prompt and then one decode step per new token,
// sampling with the runtime's sampler. Generated ids go to stdout (as text
// for a byte-level vocabulary); timings go to stderr. Nothing is allocated
// per token except the logits the compiled code returns.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_sampling.h"
#include "runtime/base/MemrefDescriptor.h"
#include "runtime/tools/Manifest.h"

#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

// Defined by the compiled model (tvc-compile).
extern "C" const char tvc_model_manifest[];
extern "C" void tvc_model_prefill(void **arguments) __attribute__((weak));
extern "C" void tvc_model_decode(void **arguments) __attribute__((weak));

namespace {

constexpr const char *kWeightsMagic = "TVCWGT01";
constexpr size_t kWeightsHeader = 64;

void usage(const char *program) {
  std::printf(
      "usage: %s (--prompt-ids ID,ID,... | --prompt TEXT) [options]\n\n"
      "Generates tokens with the compiled model (KV-cached decode).\n\n"
      "  --prompt-ids LIST     comma-separated prompt token ids\n"
      "  --prompt TEXT         prompt text (byte-level vocabularies only)\n"
      "  --max-new-tokens N    tokens to generate (default 32)\n"
      "  --temperature T       0 = greedy (default 0)\n"
      "  --top-k K             keep the K most likely tokens (default off)\n"
      "  --top-p P             nucleus sampling mass (default off)\n"
      "  --seed S              sampling seed (default 0)\n"
      "  --weights FILE        weights file (default: <executable>.weights)\n"
      "  --threads N           kernel threads (default: all cores)\n"
      "  --help                this text\n",
      program);
}

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}


struct Buffer {
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

size_t elementSize(int32_t onnxType) {
  switch (onnxType) {
  case 1: case 6: return 4;   // float, int32
  case 7: case 11: return 8;  // int64, double
  case 9: case 2: case 3: return 1;
  case 10: case 16: return 2;
  default: return 0;
  }
}

/// Calls entry `entry` with `inputs`; returns the logits (result 0) as a
/// float buffer and copies cache results that came back (not in place)
/// into their inputs.
bool call(void (*function)(void **), const tvc::ManifestEntry &entry,
          std::vector<Buffer *> &inputs, void *weights, uint64_t weightsBytes,
          std::vector<float> &logits, std::vector<int64_t> &logitsShape) {
  std::vector<std::vector<int64_t>> descriptors;
  for (Buffer *input : inputs)
    descriptors.push_back(tvc::makeMemrefDescriptor(
        input->bytes.data(), input->shape.data(), input->shape.size()));
  if (entry.takesWeights) {
    int64_t size = static_cast<int64_t>(weightsBytes);
    descriptors.push_back(tvc::makeMemrefDescriptor(weights, &size, 1));
  }
  std::vector<size_t> returned;
  size_t words = 0;
  for (size_t index = 0; index < entry.results.size(); ++index)
    if (!entry.inPlaceDropped || entry.results[index].updatesInput < 0) {
      returned.push_back(index);
      words += 3 + 2 * entry.results[index].dims.size();
    }
  std::vector<int64_t> results(words, 0);
  std::vector<void *> arguments{results.data()};
  for (auto &d : descriptors)
    arguments.push_back(d.data());
  function(arguments.data());

  size_t word = 0;
  for (size_t index : returned) {
    const tvc::ManifestTensor &result = entry.results[index];
    size_t rank = result.dims.size();
    auto *allocated = reinterpret_cast<char *>(results[word]);
    auto *aligned = reinterpret_cast<char *>(results[word + 1]);
    int64_t offset = results[word + 2];
    size_t count = 1;
    std::vector<int64_t> shape;
    for (size_t dim = 0; dim < rank; ++dim) {
      shape.push_back(results[word + 3 + dim]);
      count *= shape.back();
    }
    size_t size = elementSize(result.elementType);
    const char *data = aligned + offset * size;
    if (index == 0) {
      logits.assign(reinterpret_cast<const float *>(data),
                    reinterpret_cast<const float *>(data) + count);
      logitsShape = shape;
    } else if (result.updatesInput >= 0) {
      Buffer *target = inputs[result.updatesInput];
      if (target->bytes.data() != data)
        std::memcpy(target->bytes.data(), data, count * size);
    }
    bool isInput = false;
    for (Buffer *input : inputs)
      isInput |= allocated == input->bytes.data();
    if (!isInput && allocated != weights)
      std::free(allocated);
    word += 3 + 2 * rank;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  std::string promptIds, promptText, weightsPath = std::string(argv[0]) + ".weights";
  long maxNewTokens = 32;
  tvc_sampling_params_t sampling{};
  uint64_t seed = 0;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else if (arg == "--prompt-ids") {
      promptIds = value("--prompt-ids");
    } else if (arg == "--prompt") {
      promptText = value("--prompt");
    } else if (arg == "--max-new-tokens") {
      maxNewTokens = std::strtol(value("--max-new-tokens"), nullptr, 10);
    } else if (arg == "--temperature") {
      sampling.temperature = std::strtof(value("--temperature"), nullptr);
    } else if (arg == "--top-k") {
      sampling.top_k = std::atoi(value("--top-k"));
    } else if (arg == "--top-p") {
      sampling.top_p = std::strtof(value("--top-p"), nullptr);
    } else if (arg == "--seed") {
      seed = std::strtoull(value("--seed"), nullptr, 10);
    } else if (arg == "--weights") {
      weightsPath = value("--weights");
    } else if (arg == "--threads") {
      threads = std::atoi(value("--threads"));
    } else {
      usage(argv[0]);
      return fail("unknown argument '" + arg + "'");
    }
  }

  tvc::Manifest manifest;
  std::string error;
  if (!tvc::parseManifest(tvc_model_manifest, manifest, error))
    return fail(error);
  const tvc::ManifestEntry *prefill = manifest.find("prefill");
  const tvc::ManifestEntry *decode = manifest.find("decode");
  if (!prefill || !decode || !tvc_model_prefill || !tvc_model_decode)
    return fail("this model has no prefill/decode entry points (compile a "
                "model with attention; tvc-compile derives them)");
  if (maxNewTokens < 0)
    return fail("--max-new-tokens must not be negative");
  if (threads < 0 || tvc_runtime_set_num_threads(threads) != TVC_OK)
    return fail("--threads must be in [0, 1024]");

  // The vocabulary size is the logits' last dim.
  int64_t vocab = prefill->results[0].dims.back();
  std::vector<int64_t> prompt;
  if (!promptText.empty()) {
    if (vocab != 256)
      return fail("--prompt needs a byte-level vocabulary (256 tokens); this "
                  "model has " + std::to_string(vocab) + ": use --prompt-ids");
    for (unsigned char byte : promptText)
      prompt.push_back(byte);
  } else if (!promptIds.empty()) {
    size_t start = 0;
    while (start <= promptIds.size()) {
      size_t comma = promptIds.find(',', start);
      std::string item = promptIds.substr(start, comma - start);
      char *end = nullptr;
      long long id = std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || id < 0 || id >= vocab)
        return fail("--prompt-ids: '" + item + "' is not a token id in [0, " +
                    std::to_string(vocab) + ")");
      prompt.push_back(id);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  } else {
    usage(argv[0]);
    return fail("give a prompt with --prompt-ids or --prompt");
  }

  // Weights: a 64-byte header, then the blob, mapped read-only.
  void *weights = nullptr;
  void *mapping = nullptr;
  size_t mappingBytes = 0;
  if (manifest.weightsBytes > 0) {
    int fd = open(weightsPath.c_str(), O_RDONLY);
    if (fd < 0)
      return fail("cannot open the weights file '" + weightsPath + "': " +
                  std::strerror(errno) + " (use --weights FILE)");
    struct stat info;
    fstat(fd, &info);
    mappingBytes = static_cast<size_t>(info.st_size);
    if (mappingBytes != kWeightsHeader + manifest.weightsBytes) {
      close(fd);
      return fail("'" + weightsPath + "' holds " + std::to_string(mappingBytes) +
                  " bytes; this model needs " +
                  std::to_string(kWeightsHeader + manifest.weightsBytes) +
                  " (a weights file of another model?)");
    }
    mapping = mmap(nullptr, mappingBytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mapping == MAP_FAILED)
      return fail("cannot map '" + weightsPath + "'");
    if (std::memcmp(mapping, kWeightsMagic, 8) != 0)
      return fail("'" + weightsPath + "' is not a tvc weights file");
    weights = static_cast<char *>(mapping) + kWeightsHeader;
  }

  // Inputs of prefill: the model's inputs, past_len, then the caches.
  std::vector<Buffer> caches;
  int64_t capacity = 0;
  for (const tvc::ManifestTensor &input : prefill->inputs)
    if (input.isCache) {
      Buffer cache;
      cache.shape = input.dims;
      size_t count = 1;
      for (int64_t dim : input.dims)
        count *= dim;
      cache.bytes.assign(count * elementSize(input.elementType), 0);
      capacity = input.dims[1];
      caches.push_back(std::move(cache));
    }
  int64_t total = static_cast<int64_t>(prompt.size()) + maxNewTokens;
  if (total > capacity)
    return fail("prompt + new tokens = " + std::to_string(total) +
                " exceeds the model's context of " + std::to_string(capacity));
  size_t modelInputs = prefill->inputs.size() - caches.size() - 1;
  if (modelInputs != 2)
    return fail("generation expects entry points taking (input_ids, "
                "positions); this model takes " +
                std::to_string(modelInputs) + " inputs");

  tvc_rng_t rng;
  tvc_rng_seed(&rng, seed);
  std::vector<char> scratch(tvc_sample_scratch_bytes(vocab) + 8);
  void *aligned = reinterpret_cast<void *>(
      (reinterpret_cast<uintptr_t>(scratch.data()) + 7) & ~uintptr_t{7});

  auto makeI64 = [](std::vector<int64_t> shape, const std::vector<int64_t> &values) {
    Buffer buffer;
    buffer.shape = std::move(shape);
    buffer.bytes.resize(values.size() * sizeof(int64_t));
    std::memcpy(buffer.bytes.data(), values.data(), buffer.bytes.size());
    return buffer;
  };
  bool byteText = !promptText.empty();
  std::vector<int64_t> generated;
  std::vector<float> logits;
  std::vector<int64_t> logitsShape;
  double prefillMs = 0, decodeMs = 0;
  int64_t past = 0;
  std::vector<int64_t> step = prompt;
  if (byteText) {
    // Text in, text out: the continuation follows the prompt as typed.
    std::fputs(promptText.c_str(), stdout);
    std::fflush(stdout);
  }
  for (long produced = 0; produced < maxNewTokens; ++produced) {
    int64_t length = static_cast<int64_t>(step.size());
    std::vector<int64_t> positions(length);
    for (int64_t i = 0; i < length; ++i)
      positions[i] = past + i;
    Buffer ids = makeI64({1, length}, step);
    Buffer pos = makeI64({1, length}, positions);
    Buffer pastLen = makeI64({}, {past});
    std::vector<Buffer *> inputs{&ids, &pos, &pastLen};
    for (Buffer &cache : caches)
      inputs.push_back(&cache);
    auto start = std::chrono::steady_clock::now();
    call(past == 0 ? tvc_model_prefill : tvc_model_decode,
         past == 0 ? *prefill : *decode, inputs, weights,
         manifest.weightsBytes, logits, logitsShape);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    (past == 0 ? prefillMs : decodeMs) += ms;
    const float *last = logits.data() + (length - 1) * vocab;
    int64_t token = 0;
    if (tvc_sample(last, vocab, &sampling, &rng, aligned, &token) != TVC_OK)
      return fail("invalid sampling options (temperature >= 0, top-k >= 0, "
                  "0 <= top-p <= 1) or non-finite logits");
    generated.push_back(token);
    if (byteText) {
      std::fputc(static_cast<int>(token), stdout);
      std::fflush(stdout);
    }
    past += length;
    step = {token};
  }
  if (byteText) {
    std::fputc('\n', stdout);
  } else {
    for (size_t i = 0; i < generated.size(); ++i)
      std::printf("%s%" PRId64, i ? "," : "", generated[i]);
    std::printf("\n");
  }
  std::fflush(stdout);
  long decoded = maxNewTokens > 1 ? maxNewTokens - 1 : 0;
  std::fprintf(stderr,
               "prefill: %zu tokens in %.2f ms; decode: %ld tokens in %.2f ms "
               "(%.1f tokens/s)\n",
               prompt.size(), prefillMs, decoded, decodeMs,
               decoded && decodeMs > 0 ? decoded * 1000.0 / decodeMs : 0.0);
  if (mapping)
    munmap(mapping, mappingBytes);
  return 0;
}
