//===- OffloadOpen.cpp - Open the offload executor from a manifest --------===//
//
// Implements OffloadOpen.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/OffloadOpen.h"

namespace tvc {

tvc_status_t openOffloadExecutor(const Manifest &manifest,
                                 const char *weightsPath, const char *kvDir,
                                 bool dropPageCache, void **outBlob) {
  tvc_offload_options_t options{};
  options.budget_bytes = manifest.offloadBudget;
  options.drop_page_cache = dropPageCache ? 1 : 0;
  options.kv_items = manifest.offloadKvItems.data();
  options.num_kv_items = static_cast<int64_t>(manifest.offloadKvItems.size());
  options.kv_dir = kvDir && *kvDir ? kvDir : nullptr;
  // The compiler's pool slots, when the manifest gives them.
  options.pool_bytes = manifest.offloadPoolBytes;
  int64_t count = static_cast<int64_t>(manifest.offloadItems.size());
  // A CUDA artifact's plan: the blob in device memory (its KV caches are
  // resident, the caller's device buffers).
  if (manifest.target == "cuda")
    return tvc_offload_open_cuda(weightsPath, manifest.weightsBytes,
                                 manifest.offloadItems.data(), count, &options,
                                 outBlob);
  return tvc_offload_open(weightsPath, manifest.weightsBytes,
                          manifest.offloadItems.data(), count, &options,
                          outBlob);
}

std::vector<bool> hostAttentionCaches(const Manifest &manifest) {
  std::vector<bool> host;
  for (const tvc_offload_kv_item_t &item : manifest.offloadKvItems)
    host.push_back(item.placement == TVC_OFFLOAD_HOST_ATTENTION);
  return host;
}

std::vector<bool> streamedCaches(const Manifest &manifest) {
  std::vector<bool> streamed;
  for (const tvc_offload_kv_item_t &item : manifest.offloadKvItems)
    streamed.push_back(item.placement == TVC_OFFLOAD_STREAMED);
  return streamed;
}

} // namespace tvc
