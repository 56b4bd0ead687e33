//===- OffloadOpen.h - The offload executor from a manifest -----*- C++ -*-===//
//
// The one place that turns a manifest's offload plan (its `offload`,
// `offload-item` and `offload-kv` lines, Manifest.h) into the executor's
// open call (runtime/api/tvc_offload.h): the budget, the items, the KV
// items and the compiler's pool. Emitted executables (ModelMain.cpp) and
// libraries (ModelLibrary.cpp, tvc_model_offload_open) both call it.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_TOOLS_OFFLOADOPEN_H
#define TVC_RUNTIME_TOOLS_OFFLOADOPEN_H

#include "runtime/tools/Manifest.h"

#include <vector>

namespace tvc {

/// Opens the executor on the weights file `weightsPath` with the plan of
/// `manifest` (which must have one: hasOffload), its spill file of streamed
/// caches in `kvDir` (null or "": the executor's default) and, when
/// `dropPageCache`, the file's pages dropped after each read. A CUDA
/// artifact's plan (manifest target cuda) opens the CUDA executor on the
/// current device instead (tvc_offload_open_cuda: `*outBlob` is device
/// memory). Returns the open's status, `*outBlob` the blob for the entry
/// points; tvc_offload_last_error says why it failed.
tvc_status_t openOffloadExecutor(const Manifest &manifest,
                                 const char *weightsPath, const char *kvDir,
                                 bool dropPageCache, void **outBlob);

/// Per KV-cache input of the prefill entry point, in order: whether the plan
/// streams it (the caller then passes a descriptor with null data). All
/// false without KV items.
std::vector<bool> streamedCaches(const Manifest &manifest);

/// Per KV-cache input of the prefill entry point, in order: whether the
/// plan keeps it in host memory where attention runs (CUDA attention
/// offload; the caller allocates it with tvc_cuda_host_alloc).
std::vector<bool> hostAttentionCaches(const Manifest &manifest);

} // namespace tvc

#endif // TVC_RUNTIME_TOOLS_OFFLOADOPEN_H
