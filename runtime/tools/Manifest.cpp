//===- Manifest.cpp - What a compiled tvc model says about itself ---------===//
//
// A line parser for the manifest format of Manifest.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/Manifest.h"

#include "lib/Support/HostTensor.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

using namespace tvc;

const ManifestEntry *Manifest::find(const std::string &role) const {
  for (const ManifestEntry &entry : entries)
    if (entry.role == role)
      return &entry;
  return nullptr;
}

int64_t Manifest::prefillTokenBound() const {
  int64_t bound = 0;
  if (const ManifestEntry *prefill = find("prefill"))
    for (const ManifestTensor &input : prefill->inputs)
      if (!input.isCache && input.maxDims.size() >= 2)
        bound = std::max(bound, input.maxDims[1]);
  return bound;
}

int64_t Manifest::contextPositions() const {
  if (context > 0)
    return context;
  if (int64_t bound = prefillTokenBound())
    return bound;
  // The caches of sliding-window layers are rings shorter than the
  // context: the longest is the context.
  int64_t rows = 0;
  if (const ManifestEntry *prefill = find("prefill"))
    for (const ManifestTensor &input : prefill->inputs)
      if (input.isCache && input.dims.size() >= 2)
        rows = std::max(rows, input.dims[1]);
  return rows;
}

static bool parseDims(const std::string &text, std::vector<int64_t> &dims) {
  dims.clear();
  if (text == "-")
    return true;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    char *end = nullptr;
    long long value = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0')
      return false;
    dims.push_back(value);
  }
  return true;
}

/// An optional last field: nothing left (false in `present`), or one
/// unsigned decimal number and then nothing.
static bool parseOptionalSize(std::stringstream &words, bool &present,
                              uint64_t &value) {
  std::string word, extra;
  present = static_cast<bool>(words >> word);
  if (!present)
    return true;
  if (word.find_first_not_of("0123456789") != std::string::npos ||
      word.size() > 19 || static_cast<bool>(words >> extra))
    return false;
  value = std::strtoull(word.c_str(), nullptr, 10);
  return true;
}

static bool parsePlacement(const std::string &word, int32_t &placement) {
  if (word == "resident")
    placement = TVC_OFFLOAD_RESIDENT;
  else if (word == "streamed")
    placement = TVC_OFFLOAD_STREAMED;
  else if (word == "paged")
    placement = TVC_OFFLOAD_PAGED;
  else if (word == "host_attention")
    placement = TVC_OFFLOAD_HOST_ATTENTION;
  else
    return false;
  return true;
}

/// Checks the plan's KV items against the prefill entry point's cache
/// inputs, in order: as many, each [batch, rows, ...] with batch = dim 0,
/// rows = dim 1 and row_bytes = the other dims times the element size.
/// A plan without KV items is valid.
static bool checkKvItems(const Manifest &manifest, std::string &error) {
  if (manifest.offloadKvItems.empty())
    return true;
  const ManifestEntry *prefill = manifest.find("prefill");
  std::vector<const ManifestTensor *> caches;
  if (prefill)
    for (const ManifestTensor &input : prefill->inputs)
      if (input.isCache)
        caches.push_back(&input);
  if (caches.size() != manifest.offloadKvItems.size()) {
    error = "the offload plan lists " +
            std::to_string(manifest.offloadKvItems.size()) +
            " KV caches, but the prefill entry point takes " +
            std::to_string(caches.size());
    return false;
  }
  for (size_t index = 0; index < caches.size(); ++index) {
    const ManifestTensor &cache = *caches[index];
    const tvc_offload_kv_item_t &item = manifest.offloadKvItems[index];
    uint64_t rowBytes = mlir::tvc::getElementSize(cache.elementType);
    bool fits = cache.dims.size() >= 2 && rowBytes > 0;
    for (size_t dim = 2; fits && dim < cache.dims.size(); ++dim) {
      fits = cache.dims[dim] > 0;
      rowBytes *= static_cast<uint64_t>(fits ? cache.dims[dim] : 0);
    }
    if (!fits || cache.dims[0] != item.batch || cache.dims[1] != item.rows ||
        rowBytes != item.row_bytes) {
      std::string dims;
      for (int64_t dim : cache.dims)
        dims += (dims.empty() ? "" : "x") + std::to_string(dim);
      error = "the offload plan's KV cache " + std::to_string(index) + " is " +
              std::to_string(item.batch) + " x " + std::to_string(item.rows) +
              " rows of " + std::to_string(item.row_bytes) +
              " bytes, but the prefill's cache input '" + cache.name +
              "' is [" + dims + "] (" + std::to_string(rowBytes) +
              "-byte rows)";
      return false;
    }
  }
  return true;
}

bool tvc::parseManifest(const std::string &text, Manifest &out,
                        std::string &error) {
  std::stringstream lines(text);
  std::string line;
  int number = 0;
  bool sawHeader = false, sawEnd = false;
  int64_t offloadCount = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::stringstream words(line);
    std::string kind;
    words >> kind;
    bool ok = true;
    if (kind == "tvc-model") {
      int version = 0;
      ok = static_cast<bool>(words >> version) && version == 2;
      sawHeader = ok;
    } else if (kind == "target") {
      ok = static_cast<bool>(words >> out.target) &&
           (out.target == "cpu" ||
            (out.target == "cuda" && static_cast<bool>(words >> out.cudaChip)));
    } else if (kind == "weights") {
      ok = static_cast<bool>(words >> out.weightsBytes);
    } else if (kind == "context") {
      std::string extra;
      ok = out.context == 0 && static_cast<bool>(words >> out.context) &&
           out.context > 0 && !static_cast<bool>(words >> extra);
      out.context = ok ? out.context : 0;
    } else if (kind == "offload") {
      bool hasPool = false;
      ok = !out.hasOffload &&
           static_cast<bool>(words >> out.offloadBudget >> offloadCount) &&
           offloadCount >= 0 &&
           parseOptionalSize(words, hasPool, out.offloadPoolBytes) &&
           out.offloadPoolBytes % 4096 == 0;
      out.hasOffload = ok;
    } else if (kind == "offload-item") {
      int64_t index = -1;
      tvc_offload_item_t item{};
      std::string placement;
      bool hasSlot = false;
      // A slot only for a streamed item, and only with the pool's size.
      ok = out.hasOffload &&
           static_cast<bool>(words >> index >> item.offset >> item.bytes >>
                             placement) &&
           index == static_cast<int64_t>(out.offloadItems.size()) &&
           index < offloadCount && placement != "host_attention" &&
           parsePlacement(placement, item.placement) &&
           parseOptionalSize(words, hasSlot, item.slot_offset) &&
           (!hasSlot || (item.placement == TVC_OFFLOAD_STREAMED &&
                         out.offloadPoolBytes > 0));
      item.has_slot = hasSlot;
      if (ok)
        out.offloadItems.push_back(item);
    } else if (kind == "offload-kv") {
      int64_t index = -1, rowBytes = 0;
      tvc_offload_kv_item_t item{};
      std::string placement;
      bool hasSlot = false;
      // After every offload-item line; a KV cache is never paged, and only
      // a KV cache is where attention runs.
      ok = out.hasOffload &&
           static_cast<int64_t>(out.offloadItems.size()) == offloadCount &&
           static_cast<bool>(words >> index >> item.batch >> item.rows >>
                             rowBytes >> placement) &&
           index == static_cast<int64_t>(out.offloadKvItems.size()) &&
           item.batch > 0 && item.rows > 0 && rowBytes > 0 &&
           placement != "paged" && parsePlacement(placement, item.placement) &&
           parseOptionalSize(words, hasSlot, item.slot_offset) &&
           (!hasSlot || (item.placement == TVC_OFFLOAD_STREAMED &&
                         out.offloadPoolBytes > 0));
      item.row_bytes = static_cast<uint64_t>(rowBytes);
      item.has_slot = hasSlot;
      if (ok)
        out.offloadKvItems.push_back(item);
    } else if (kind == "entry") {
      ManifestEntry entry;
      int weights = 0, dropped = 0;
      ok = static_cast<bool>(words >> entry.role >> entry.function >> weights >>
                             dropped >> entry.arenaBytes);
      entry.takesWeights = weights != 0;
      entry.inPlaceDropped = dropped != 0;
      out.entries.push_back(std::move(entry));
    } else if (kind == "input" || kind == "result") {
      ManifestTensor tensor;
      std::string dims;
      int flag = 0;
      if (kind == "input") {
        std::string maxDims;
        ok = static_cast<bool>(words >> tensor.name >> tensor.elementType >>
                               flag >> dims >> maxDims) &&
             parseDims(maxDims, tensor.maxDims);
        tensor.isCache = flag != 0;
      } else {
        ok = static_cast<bool>(words >> tensor.elementType >>
                               tensor.updatesInput >> dims);
      }
      ok = ok && !out.entries.empty() && parseDims(dims, tensor.dims);
      if (ok)
        (kind == "input" ? out.entries.back().inputs
                         : out.entries.back().results)
            .push_back(std::move(tensor));
    } else if (kind == "end") {
      sawEnd = true;
    } else if (!kind.empty()) {
      ok = false;
    }
    if (!ok) {
      error = "malformed manifest line " + std::to_string(number) + ": " + line;
      return false;
    }
  }
  if (!sawHeader || !sawEnd) {
    error = "the manifest lacks its 'tvc-model 2' header or 'end'";
    return false;
  }
  if (static_cast<int64_t>(out.offloadItems.size()) != offloadCount) {
    error = "the manifest's offload plan lists " +
            std::to_string(out.offloadItems.size()) + " of its " +
            std::to_string(offloadCount) + " items";
    return false;
  }
  return checkKvItems(out, error);
}
