//===- ModelMain.cpp - main() of an executable emitted by tvc-compile -----===//
//
//   ./model --prompt-ids 1,2,3 --max-new-tokens 32
//           [--temperature T --top-k K --top-p P --seed S] [--weights FILE]
//   ./model --prompt "text"          (byte-level vocabularies: 256 tokens)
//   ./model --inputs DIR [--outputs DIR] [--expected DIR [--rtol R --atol A
//           | --max-error-scale S]]
//
// Reads the artifact's manifest and finds the weights (embedded with
// --embed-weights, else the file at the executable's path + ".weights",
// mapped read-only; or, when the manifest has an offload plan, opened by
// the offload executor, runtime/api/tvc_offload.h, which reads and drops
// weights as the compiled code asks; docs/Offload.md). Generation allocates
// the KV caches once (except those the plan streams: the executor holds
// them in its spill file, and the compiled code reads and writes them in
// the executor's pool), runs the prefill entry point on the prompt (in
// calls of at most the tokens it was compiled for, tvc-compile
// --max-prefill-tokens, each after the ones before) and then one decode
// step per new token, sampling with the runtime's sampler;
// generated ids go to stdout (as text for a byte-level vocabulary), timings
// to stderr. The host side allocates nothing per token: argument storage,
// the token buffers and the last logits row are sized once. With --inputs,
// the forward entry point (the full graph) runs once on ONNX test data
// (runtime/tools/Evaluate.h). A runtime kernel that fails in any entry call
// (tvc_runtime_kernel_error) ends the run with its message and status 1, and
// so does a failed read or write of the offload executor.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/HostTensor.h"
#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_offload.h"
#include "runtime/api/tvc_runtime.h"
#include "runtime/api/tvc_sampling.h"
#include "runtime/tools/EntryCaller.h"
#include "runtime/tools/Manifest.h"
#include "runtime/tools/OffloadOpen.h"
#include "runtime/tools/WeightsFile.h"
#ifdef TVC_HAVE_TENSOR_PROTO
#include "runtime/tools/Evaluate.h"
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

// Defined by the compiled model (tvc-compile); the weights only with
// --embed-weights.
extern "C" const char tvc_model_manifest[];
extern "C" const char tvc_model_weights[] __attribute__((weak));
extern "C" void tvc_model_forward(void **arguments) __attribute__((weak));
extern "C" void tvc_model_prefill(void **arguments) __attribute__((weak));
extern "C" void tvc_model_decode(void **arguments) __attribute__((weak));

namespace {

/// Writes `bytes` to `path` whole or not at all: into a temporary file next
/// to it, renamed over it once complete.
bool writeWhole(const std::string &path, const void *data, size_t bytes,
                std::string &error) {
  std::string temporary = path + ".tmp" + std::to_string(getpid());
  std::FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  bool written = std::fwrite(data, 1, bytes, file) == bytes;
  written &= std::fclose(file) == 0;
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

void usage(const char *program) {
  std::printf(
      "usage: %s (--prompt-ids ID,ID,... | --prompt TEXT) [options]\n"
      "       %s --inputs DIR [--outputs DIR] [--expected DIR]\n\n"
      "Generates tokens with the compiled model (KV-cached decode), or\n"
      "evaluates the full graph once on ONNX test data.\n\n"
      "  --prompt-ids LIST     comma-separated prompt token ids\n"
      "  --prompt TEXT         prompt text (byte-level vocabularies only)\n"
      "  --max-new-tokens N    tokens to generate (default 32)\n"
      "  --temperature T       0 = greedy (default 0)\n"
      "  --top-k K             keep the K most likely tokens (default off)\n"
      "  --top-p P             nucleus sampling mass (default off)\n"
      "  --seed S              sampling seed (default 0)\n"
      "  --logits-out FILE     write the logits each step sampled from\n"
      "                        (the prompt's last row, then one row per\n"
      "                        decode step) as float32, little endian,\n"
      "                        [steps, vocab]; written whole at the end\n"
      "  --weights FILE        weights file (default: <executable>.weights;\n"
      "                        not with embedded weights)\n"
      "  --threads N           kernel threads (default: all cores)\n"
      "  --no-offload          map the whole weights file even when the model\n"
      "                        has an offload plan (the baseline)\n"
      "  --offload-stats       print the offload executor's counters and the\n"
      "                        peak RSS to stderr at exit\n"
      "  --offload-calibrate   time the offload executor's reads of the\n"
      "                        weights file (as cached now) and print the\n"
      "                        tvc-compile options that describe them\n"
      "  --drop-page-cache     with the offload executor: drop the file's\n"
      "                        page cache after each explicit read\n"
      "  --offload-kv-dir DIR  where the executor's spill file of the KV\n"
      "                        caches the plan streams is created (default:\n"
      "                        $TMPDIR, else /tmp; unlinked, never kept)\n"
      "  --inputs DIR          evaluate on DIR/input_N.pb (ONNX TensorProto,\n"
      "                        in graph-input order)\n"
      "  --outputs DIR         write output_N.pb there (created if missing)\n"
      "  --expected DIR        compare with DIR/output_N.pb; exit status 1\n"
      "                        on a mismatch\n"
      "  --rtol R, --atol A    per element |got - want| <= A + R * |want|\n"
      "                        (default 1e-3, 1e-7)\n"
      "  --max-error-scale S   instead: max |got - want| <= S * max |want|\n"
      "  --help                this text\n\n"
      "With an offload plan, a failed read of the weights or of a KV cache\n"
      "or a failed write of a KV cache (tvc_offload_last_error) ends the run\n"
      "with status 1 after its output.\n",
      program, program);
}

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

double toMiB(uint64_t bytes) { return bytes / (1024.0 * 1024.0); }

/// --offload-stats: the executor's counters (when one is open) and the
/// process's peak RSS, one line to stderr.
void printOffloadStats(bool offloading, uint64_t budget) {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  double peakRssMiB = usage.ru_maxrss / 1024.0; // ru_maxrss is in KiB
  tvc_offload_stats_t stats{};
  if (!offloading || tvc_offload_get_stats(&stats) != TVC_OK) {
    std::fprintf(stderr, "offload: off; peak RSS %.1f MiB\n", peakRssMiB);
    return;
  }
  std::fprintf(
      stderr,
      "offload: read %.1f MiB in %" PRIu64 " reads; %" PRIu64
      " stalls (%.3f s); peak resident %.1f MiB of a %.1f MiB "
      "budget; %" PRIu64 " budget violations; %" PRIu64
      " read errors; page pool %.1f MiB, %" PRIu64
      " pool fallbacks; %.1f MiB read at open; KV caches %.1f MiB "
      "read, %.1f MiB written, spill file %.1f MiB; peak RSS %.1f "
      "MiB\n",
      toMiB(stats.bytes_read), stats.reads, stats.stalls, stats.stall_seconds,
      toMiB(stats.peak_resident_bytes), toMiB(budget), stats.budget_violations,
      stats.io_errors, toMiB(stats.pool_bytes), stats.pool_fallbacks,
      toMiB(stats.bytes_read_at_open), toMiB(stats.kv_bytes_read),
      toMiB(stats.kv_bytes_written), toMiB(stats.kv_spill_bytes), peakRssMiB);
}

/// --offload-calibrate: times the executor's reads of the weights file in
/// its current page-cache state, 4 MiB reads for the bandwidth and 4 KiB
/// reads for the fixed cost of one, and prints the planner options that
/// say so. Returns the exit status.
int calibrateOffload(const std::string &path, uint64_t blobBytes) {
  constexpr uint64_t kLarge = 4u << 20, kSmall = 4096;
  uint64_t large = std::min<uint64_t>(blobBytes / 2 / kLarge, 64);
  uint64_t smallBase = large * kLarge;
  uint64_t small =
      std::min<uint64_t>((blobBytes - std::min(blobBytes, smallBase)) /
                             (2 * kSmall),
                         64);
  if (large < 2 || small < 8) {
    std::fprintf(stderr, "error: --offload-calibrate needs a weights file of "
                         "at least 17 MiB\n");
    return 1;
  }
  std::vector<tvc_offload_item_t> items;
  for (uint64_t index = 0; index < large; ++index)
    items.push_back({index * kLarge, kLarge, TVC_OFFLOAD_STREAMED, 0, 0});
  for (uint64_t index = 0; index < small; ++index)
    items.push_back(
        {smallBase + index * 2 * kSmall, kSmall, TVC_OFFLOAD_STREAMED, 0, 0});
  tvc_offload_options_t options{};
  options.budget_bytes = 2 * kLarge;
  void *blob = nullptr;
  if (tvc_offload_open(path.c_str(), blobBytes, items.data(),
                       static_cast<int64_t>(items.size()), &options,
                       &blob) != TVC_OK) {
    std::fprintf(stderr, "error: %s\n", tvc_offload_last_error());
    return 1;
  }
  // Each read issued by the wait itself, one at a time; the first pass
  // (the file as cached now) and the best of three (cached).
  double firstPass = 0;
  auto timeReads = [&](uint64_t first, uint64_t count) {
    double best = 1e30;
    for (int pass = 0; pass < 3; ++pass) {
      auto start = std::chrono::steady_clock::now();
      for (uint64_t index = first; index < first + count; ++index) {
        int64_t home = static_cast<int64_t>(items[index].offset);
        tvc_offload_wait(blob, blob, 0, 0, 1, static_cast<int64_t>(index),
                         home);
        tvc_offload_evict(blob, blob, 0, 0, 1, static_cast<int64_t>(index));
      }
      std::chrono::duration<double> spent =
          std::chrono::steady_clock::now() - start;
      best = std::min(best, spent.count() / static_cast<double>(count));
      if (pass == 0)
        firstPass = spent.count() / static_cast<double>(count);
    }
    return best;
  };
  double perLarge = timeReads(0, large);
  double coldLarge = firstPass;
  double perSmall = timeReads(large, small);
  tvc_offload_stats_t stats{};
  tvc_offload_get_stats(&stats);
  tvc_offload_close();
  if (stats.io_errors || stats.pool_fallbacks) {
    std::fprintf(stderr, "error: the calibration reads failed or fell back "
                         "(%s)\n", tvc_offload_last_error());
    return 1;
  }
  double bandwidth = static_cast<double>(kLarge - kSmall) /
                     std::max(perLarge - perSmall, 1e-9);
  double overhead =
      std::max(0.0, perSmall - static_cast<double>(kSmall) / bandwidth);
  std::printf("offload calibration of %s: %" PRIu64
              " reads of 4 MiB at %.3f ms (first pass, the file as cached "
              "before: %.2f GB/s), %" PRIu64
              " of 4 KiB at %.1f us: %.2f GB/s cached, %.1f us per read\n"
              "tvc-compile options: --offload-read-bandwidth=%.3g "
              "--offload-read-overhead=%.3g\n",
              path.c_str(), large, perLarge * 1e3,
              static_cast<double>(kLarge) / std::max(coldLarge, 1e-9) / 1e9,
              small, perSmall * 1e6, bandwidth / 1e9, overhead * 1e6,
              bandwidth, overhead);
  return 0;
}

/// Parses the comma-separated token ids of --prompt-ids.
bool parsePromptIds(const std::string &text, int64_t vocab,
                    std::vector<int64_t> &prompt, std::string &error) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma - start);
    char *end = nullptr;
    long long id = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || id < 0 || id >= vocab) {
      error = "--prompt-ids: '" + item + "' is not a token id in [0, " +
              std::to_string(vocab) + ")";
      return false;
    }
    prompt.push_back(id);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
}

struct GenerateOptions {
  std::vector<int64_t> prompt;
  bool byteText = false;
  long maxNewTokens = 32;
  tvc_sampling_params_t sampling{};
  uint64_t seed = 0;
  /// Where to write every sampled logits row (empty: nowhere).
  std::string logitsOut;
  /// A CUDA artifact: the KV caches live on the device.
  tvc::MemorySpace space = tvc::MemorySpace::Host;
  /// Per KV cache (the prefill's cache inputs in order): whether the open
  /// offload executor holds it (its plan streams it), so the caller
  /// allocates none. Empty: every cache is the caller's.
  std::vector<bool> streamedCaches;
  /// Per KV cache: whether the plan keeps it in host memory where
  /// attention runs (CUDA attention offload): pinned, mapped host memory
  /// (tvc_cuda_host_alloc) instead of a device buffer.
  std::vector<bool> hostCaches;
};

/// Prefill on the prompt, then one decode step per new token.
int generate(const tvc::Manifest &manifest, const void *weights,
             const GenerateOptions &options) {
  const tvc::ManifestEntry *prefill = manifest.find("prefill");
  const tvc::ManifestEntry *decode = manifest.find("decode");
  int64_t vocab = prefill->results[0].dims.back();

  // Inputs of prefill and decode: input_ids, positions, past_len, caches.
  std::vector<std::vector<char>> caches;
  std::vector<std::vector<int64_t>> cacheShapes;
  for (const tvc::ManifestTensor &input : prefill->inputs)
    if (input.isCache) {
      size_t count = 1;
      for (int64_t dim : input.dims)
        count *= dim;
      // A streamed cache lives in the executor's spill file; the compiled
      // code never touches a buffer of ours for it.
      size_t index = caches.size();
      bool streamed = index < options.streamedCaches.size() &&
                      options.streamedCaches[index];
      caches.emplace_back(
          streamed ? 0 : count * mlir::tvc::getElementSize(input.elementType),
          0);
      cacheShapes.push_back(input.dims);
    }
  // The context (the caches' capacity) bounds the whole sequence; one
  // prefill call takes at most `chunk` tokens (its compiled bound), so a
  // longer prompt runs in several, each after the ones before.
  int64_t capacity = manifest.contextPositions();
  int64_t promptLength = static_cast<int64_t>(options.prompt.size());
  int64_t chunk = manifest.prefillTokenBound();
  chunk = chunk > 0 ? std::min(chunk, promptLength) : promptLength;
  int64_t total = promptLength + options.maxNewTokens;
  if (total > capacity)
    return fail("prompt + new tokens = " + std::to_string(total) +
                " exceeds the model's context of " + std::to_string(capacity));
  // A streamed cache has no buffer here to copy an updated cache into.
  bool anyStreamed =
      std::find(options.streamedCaches.begin(), options.streamedCaches.end(),
                true) != options.streamedCaches.end();
  if (anyStreamed && (!prefill->inPlaceDropped || !decode->inPlaceDropped))
    return fail("the offload plan streams KV caches, but the entry points "
                "return the updated caches instead of writing them in place");
  size_t modelInputs = prefill->inputs.size() - caches.size() - 1;
  if (modelInputs != 2 || prefill->results.empty() ||
      prefill->results[0].elementType != 1)
    return fail("generation expects entry points taking (input_ids, "
                "positions) and returning float logits; this model takes " +
                std::to_string(modelInputs) + " inputs");

  tvc_rng_t rng;
  tvc_rng_seed(&rng, options.seed);
  std::vector<char> scratch(tvc_sample_scratch_bytes(vocab) + 8);
  void *sampleScratch = reinterpret_cast<void *>(
      (reinterpret_cast<uintptr_t>(scratch.data()) + 7) & ~uintptr_t{7});

  // Everything the loop touches is sized here: the token and position
  // buffers hold a prefill call's tokens (the longest step), the logits
  // one row.
  std::vector<int64_t> ids(chunk), positions(chunk);
  int64_t stepShape[2] = {1, chunk};
  int64_t past = 0;
  std::vector<tvc::TensorRef> inputs{
      {ids.data(), stepShape}, {positions.data(), stepShape}, {&past, nullptr}};
  // A CUDA artifact's caches are device buffers, zeroed like the host's;
  // one the plan keeps where attention runs is pinned host memory mapped
  // into the device's address space (the same pointer on both sides).
  tvc::DeviceBuffers deviceCaches;
  tvc::HostBuffers hostCaches;
  for (size_t index = 0; index < caches.size(); ++index) {
    // Null for a streamed cache: the descriptor keeps its sizes.
    void *cache = caches[index].empty() ? nullptr : caches[index].data();
    bool onHost =
        index < options.hostCaches.size() && options.hostCaches[index];
    if (options.space == tvc::MemorySpace::CudaDevice && cache && onHost) {
      size_t bytes = caches[index].size();
      std::vector<char>().swap(caches[index]);
      cache = nullptr;
      if (tvc_cuda_host_alloc(bytes, &cache) != TVC_OK)
        return fail("cannot allocate the host-attention KV caches in pinned "
                    "host memory");
      hostCaches.pointers.push_back(cache);
    } else if (options.space == tvc::MemorySpace::CudaDevice && cache) {
      size_t bytes = caches[index].size();
      std::vector<char>().swap(caches[index]);
      cache = nullptr;
      if (tvc_cuda_malloc(bytes, &cache) != TVC_OK ||
          tvc_cuda_memset(cache, 0, bytes) != TVC_OK)
        return fail("cannot allocate the KV caches in device memory");
      deviceCaches.pointers.push_back(cache);
    }
    inputs.push_back({cache, cacheShapes[index].data()});
  }
  tvc::EntryCaller prefillCaller, decodeCaller;
  prefillCaller.prepare(tvc_model_prefill, *prefill, weights,
                        manifest.weightsBytes, options.space);
  decodeCaller.prepare(tvc_model_decode, *decode, weights,
                       manifest.weightsBytes, options.space);
  std::vector<float> lastLogits(vocab);
  std::vector<int64_t> generated;
  generated.reserve(options.maxNewTokens);

  if (options.byteText) {
    // Text in, text out: the continuation follows the prompt as typed.
    for (int64_t byte : options.prompt)
      std::fputc(static_cast<int>(byte), stdout);
    std::fflush(stdout);
  }
  double prefillMs = 0, decodeMs = 0;
  int64_t prefillCalls = 0;
  std::vector<float> allLogits;
  if (!options.logitsOut.empty())
    allLogits.reserve(static_cast<size_t>(options.maxNewTokens) * vocab);
  for (long produced = 0; produced < options.maxNewTokens; ++produced) {
    bool prompting = past == 0;
    tvc::EntryCaller &caller = prompting ? prefillCaller : decodeCaller;
    // The prompt in calls of at most `chunk` tokens, each after the ones
    // before (`past` advancing); then one token per decode call. The
    // last call's last logits row picks the next token.
    int64_t length = 0;
    do {
      length = prompting ? std::min(chunk, promptLength - past) : 1;
      stepShape[1] = length;
      for (int64_t i = 0; i < length; ++i) {
        positions[i] = past + i;
        if (prompting)
          ids[i] = options.prompt[past + i];
      }
      auto start = std::chrono::steady_clock::now();
      std::string error;
      if (!caller.call(inputs.data(), error))
        return fail(error);
      double ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
      (prompting ? prefillMs : decodeMs) += ms;
      prefillCalls += prompting;
      past += length;
      // An earlier chunk's logits are not sampled from.
      if (prompting && past < promptLength)
        caller.release();
    } while (prompting && past < promptLength);
    // Only the last position's logits are needed to pick the next token.
    const tvc::ResultView &logits = caller.results()[0];
    std::memcpy(lastLogits.data(),
                logits.data + (length - 1) * vocab * sizeof(float),
                vocab * sizeof(float));
    caller.release();
    if (!options.logitsOut.empty())
      allLogits.insert(allLogits.end(), lastLogits.begin(), lastLogits.end());
    int64_t token = 0;
    if (tvc_sample(lastLogits.data(), vocab, &options.sampling, &rng,
                   sampleScratch, &token) != TVC_OK)
      return fail("invalid sampling options (temperature >= 0, top-k >= 0, "
                  "0 <= top-p <= 1) or non-finite logits");
    generated.push_back(token);
    if (options.byteText) {
      std::fputc(static_cast<int>(token), stdout);
      std::fflush(stdout);
    }
    ids[0] = token;
  }
  if (!options.logitsOut.empty()) {
    std::string error;
    if (!writeWhole(options.logitsOut, allLogits.data(),
                    allLogits.size() * sizeof(float), error))
      return fail(error);
  }
  if (options.byteText) {
    std::fputc('\n', stdout);
  } else {
    for (size_t i = 0; i < generated.size(); ++i)
      std::printf("%s%" PRId64, i ? "," : "", generated[i]);
    std::printf("\n");
  }
  std::fflush(stdout);
  long decoded = options.maxNewTokens > 1 ? options.maxNewTokens - 1 : 0;
  std::fprintf(stderr,
               "prefill: %zu tokens in %.2f ms; decode: %ld tokens in %.2f ms "
               "(%.1f tokens/s)",
               options.prompt.size(), prefillMs, decoded, decodeMs,
               decoded && decodeMs > 0 ? decoded * 1000.0 / decodeMs : 0.0);
  if (prefillCalls > 1)
    std::fprintf(stderr,
                 "; %" PRId64 " prefill calls of at most %" PRId64 " tokens",
                 prefillCalls, chunk);
  std::fprintf(stderr, "\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // The compiled code mallocs what it returns (logits) per call: from the
  // heap (not fresh mmap pages each time) those bytes are reused.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  std::string promptIds, promptText, weightsPath;
  std::string inputsDir, outputsDir, expectedDir, kvDir;
  double rtol = 1e-3, atol = 1e-7, errorScale = 0;
  GenerateOptions options;
  int threads = 0;
  bool noOffload = false, offloadStats = false, dropPageCache = false;
  bool calibrate = false;
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
      options.maxNewTokens =
          std::strtol(value("--max-new-tokens"), nullptr, 10);
    } else if (arg == "--temperature") {
      options.sampling.temperature =
          std::strtof(value("--temperature"), nullptr);
    } else if (arg == "--top-k") {
      options.sampling.top_k = std::atoi(value("--top-k"));
    } else if (arg == "--top-p") {
      options.sampling.top_p = std::strtof(value("--top-p"), nullptr);
    } else if (arg == "--seed") {
      options.seed = std::strtoull(value("--seed"), nullptr, 10);
    } else if (arg == "--logits-out") {
      options.logitsOut = value("--logits-out");
    } else if (arg == "--weights") {
      weightsPath = value("--weights");
    } else if (arg == "--no-offload") {
      noOffload = true;
    } else if (arg == "--offload-stats") {
      offloadStats = true;
    } else if (arg == "--offload-calibrate") {
      calibrate = true;
    } else if (arg == "--drop-page-cache") {
      dropPageCache = true;
    } else if (arg == "--offload-kv-dir") {
      kvDir = value("--offload-kv-dir");
    } else if (arg == "--threads") {
      threads = std::atoi(value("--threads"));
    } else if (arg == "--inputs") {
      inputsDir = value("--inputs");
    } else if (arg == "--outputs") {
      outputsDir = value("--outputs");
    } else if (arg == "--expected") {
      expectedDir = value("--expected");
    } else if (arg == "--rtol") {
      rtol = std::strtod(value("--rtol"), nullptr);
    } else if (arg == "--atol") {
      atol = std::strtod(value("--atol"), nullptr);
    } else if (arg == "--max-error-scale") {
      errorScale = std::strtod(value("--max-error-scale"), nullptr);
    } else {
      usage(argv[0]);
      return fail("unknown argument '" + arg + "'");
    }
  }

  tvc::Manifest manifest;
  std::string error;
  if (!tvc::parseManifest(tvc_model_manifest, manifest, error))
    return fail(error);
  if (threads < 0 || tvc_runtime_set_num_threads(threads) != TVC_OK)
    return fail("--threads must be in [0, 1024]");
  bool evaluate = !inputsDir.empty();
  if (!evaluate && (!outputsDir.empty() || !expectedDir.empty()))
    return fail("--outputs and --expected need --inputs DIR");
  if (rtol < 0 || atol < 0 || errorScale < 0)
    return fail("tolerances must not be negative");

  if (calibrate) {
    if (tvc_model_weights || manifest.weightsBytes == 0)
      return fail("--offload-calibrate reads a weights file; this model has "
                  "none");
    if (weightsPath.empty())
      weightsPath = std::string(argv[0]) + ".weights";
    return calibrateOffload(weightsPath, manifest.weightsBytes);
  }

  // Check what generation needs before the weights are mapped.
  GenerateOptions &generation = options;
  if (!evaluate) {
    const tvc::ManifestEntry *prefill = manifest.find("prefill");
    if (!prefill || !manifest.find("decode") || !tvc_model_prefill ||
        !tvc_model_decode)
      return fail("this model has no prefill/decode entry points (compile a "
                  "model with attention; tvc-compile derives them)");
    if (generation.maxNewTokens < 0)
      return fail("--max-new-tokens must not be negative");
    // The vocabulary size is the logits' last dim.
    int64_t vocab = prefill->results[0].dims.back();
    if (!promptText.empty()) {
      if (vocab != 256)
        return fail("--prompt needs a byte-level vocabulary (256 tokens); "
                    "this model has " +
                    std::to_string(vocab) + ": use --prompt-ids");
      for (unsigned char byte : promptText)
        generation.prompt.push_back(byte);
      generation.byteText = true;
    } else if (!promptIds.empty()) {
      if (!parsePromptIds(promptIds, vocab, generation.prompt, error))
        return fail(error);
    } else {
      usage(argv[0]);
      return fail("give a prompt with --prompt-ids or --prompt");
    }
  }

  // Weights: part of the executable, a file mapped read-only, or the
  // file opened by the offload executor (the model has an offload plan).
  tvc::WeightsBlob weights;
  const void *blob = nullptr;
  bool offloading = false;
  if (tvc_model_weights) {
    if (!weightsPath.empty())
      return fail("this executable embeds its weights; --weights is not "
                  "accepted");
    // The offload calls do nothing without an executor: the plan is moot.
    if (manifest.hasOffload && !noOffload)
      std::fprintf(stderr, "warning: the weights are embedded; the offload "
                           "plan is ignored\n");
    weights.useEmbedded(tvc_model_weights);
    blob = weights.data();
  } else if (manifest.weightsBytes > 0) {
    if (weightsPath.empty())
      weightsPath = std::string(argv[0]) + ".weights";
    if (manifest.hasOffload && !noOffload) {
      // A CUDA plan opens the CUDA executor on the device: check it first.
      if (manifest.target == "cuda" &&
          !tvc::checkCudaDevice(manifest.cudaChip, error))
        return fail(error);
      void *opened = nullptr;
      tvc_status_t status = tvc::openOffloadExecutor(
          manifest, weightsPath.c_str(), kvDir.c_str(), dropPageCache, &opened);
      if (status != TVC_OK)
        return fail(std::string(tvc_offload_last_error()) +
                    (status == TVC_NOT_FOUND ? " (use --weights FILE)" : ""));
      blob = opened;
      offloading = true;
      generation.streamedCaches = tvc::streamedCaches(manifest);
    } else {
      if (!weights.mapFile(weightsPath, manifest.weightsBytes, error,
                           " (use --weights FILE)"))
        return fail(error);
      blob = weights.data();
    }
  }

  // Caches a plan keeps where attention runs (CUDA attention offload) are
  // host memory whatever the weights do: the compiled code runs their
  // attention on the host, with or without the executor (--no-offload).
  generation.hostCaches = tvc::hostAttentionCaches(manifest);

  // A CUDA artifact: the weights go to device memory once; every entry
  // point reads them there.
  tvc::DeviceBuffers deviceWeights;
  tvc::MemorySpace space = tvc::MemorySpace::Host;
  if (!tvc::placeWeights(manifest, offloading, blob, deviceWeights, space,
                         error))
    return fail(error);
  generation.space = space;

  int status = 0;
  if (evaluate) {
#ifdef TVC_HAVE_TENSOR_PROTO
    tvc::EvaluateOptions evaluation;
    evaluation.inputsDir = inputsDir;
    evaluation.outputsDir = outputsDir;
    evaluation.expectedDir = expectedDir;
    evaluation.tolerance = {rtol, atol, errorScale};
    evaluation.space = space;
    tvc::EvaluateStatus evaluated = tvc::evaluateForward(
        tvc_model_forward, manifest, blob, evaluation, error);
    status = evaluated == tvc::EvaluateStatus::Error      ? fail(error)
             : evaluated == tvc::EvaluateStatus::Mismatch ? 1
                                                          : 0;
#else
    status = fail("--inputs is not available in this build (tvc was built "
                  "without ONNX, which reads TensorProto files)");
#endif
  } else {
    status = generate(manifest, blob, generation);
  }
  if (offloadStats)
    printOffloadStats(offloading, manifest.offloadBudget);
  // A failed weights read was served from the file mapping, but a failed
  // KV-cache read or write loses rows: either way the run is not trusted.
  tvc_offload_stats_t counters{};
  if (offloading && tvc_offload_get_stats(&counters) == TVC_OK &&
      counters.io_errors > 0) {
    std::fprintf(stderr,
                 "error: the offload executor had %" PRIu64
                 " failed reads or writes: %s\n",
                 counters.io_errors, tvc_offload_last_error());
    status = 1;
  }
  if (offloading)
    tvc_offload_close();
  return status;
}
