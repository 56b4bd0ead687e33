//===- ModelLibrary.cpp - The offload calls of an emitted library ---------===//
//
// `tvc-compile --emit=lib` links this file into a library whose model has
// an offload plan. A library keeps the runtime's symbols local
// (--exclude-libs,ALL), so its host cannot reach the offload executor
// inside it; these four exported functions do it for the host, from the
// plan in the library's own manifest (runtime/api/tvc_model.h documents
// them). Everything else here is hidden (built with -fvisibility=hidden).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_model.h"
#include "runtime/api/tvc_offload.h"
#include "runtime/tools/Manifest.h"
#include "runtime/tools/OffloadOpen.h"

#include <string>

#define TVC_MODEL_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

/// Whether this library's executor is open (by tvc_model_offload_open).
bool executorOpen = false;
/// The last failed tvc_model_offload_* call's message; "" after a success.
std::string lastError;

tvc_status_t failWith(tvc_status_t status, std::string message) {
  lastError = std::move(message);
  return status;
}

} // namespace

TVC_MODEL_EXPORT tvc_status_t tvc_model_offload_open(const char *weights_path,
                                                     const char *kv_dir,
                                                     int drop_page_cache,
                                                     void **out_blob) {
  if (!weights_path || !out_blob)
    return failWith(TVC_INVALID_ARGUMENT,
                    "tvc_model_offload_open: weights_path and out_blob must "
                    "not be NULL");
  *out_blob = nullptr;
  // The runtime inside holds one executor: a second would replace the
  // blob the host is still passing to the entry points.
  if (executorOpen)
    return failWith(TVC_UNAVAILABLE,
                    "the offload executor is already open (call "
                    "tvc_model_offload_close first)");
  tvc::Manifest manifest;
  std::string error;
  if (!tvc::parseManifest(tvc_model_manifest, manifest, error)) {
    // Appended, not `+`: its instantiation would be exported.
    lastError = "the library's manifest: ";
    lastError += error;
    return TVC_INTERNAL;
  }
  // tvc-compile links this file only with a plan; an edited manifest may
  // still lack one.
  if (!manifest.hasOffload)
    return failWith(TVC_NOT_FOUND, "this library has no offload plan "
                                   "(compile it with --offload-budget)");
  tvc_status_t status = tvc::openOffloadExecutor(
      manifest, weights_path, kv_dir, drop_page_cache != 0, out_blob);
  if (status != TVC_OK)
    return failWith(status, tvc_offload_last_error());
  executorOpen = true;
  lastError.clear();
  return TVC_OK;
}

TVC_MODEL_EXPORT void tvc_model_offload_close(void) {
  tvc_offload_close();
  executorOpen = false;
  lastError.clear();
}

TVC_MODEL_EXPORT tvc_status_t
tvc_model_offload_stats(tvc_offload_stats_t *out_stats) {
  if (!out_stats)
    return failWith(TVC_INVALID_ARGUMENT,
                    "tvc_model_offload_stats: out_stats must not be NULL");
  *out_stats = tvc_offload_stats_t{};
  if (!executorOpen)
    return failWith(TVC_NOT_FOUND, "no offload executor is open (call "
                                   "tvc_model_offload_open first)");
  tvc_status_t status = tvc_offload_get_stats(out_stats);
  if (status != TVC_OK)
    return failWith(status, tvc_offload_last_error());
  lastError.clear();
  return TVC_OK;
}

TVC_MODEL_EXPORT const char *tvc_model_offload_error(void) {
  // Else the executor's first failed read or write since open ("" if none).
  return lastError.empty() ? tvc_offload_last_error() : lastError.c_str();
}
