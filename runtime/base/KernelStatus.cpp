//===- KernelStatus.cpp - Failures of kernels called by compiled code -----===//
//
// The record behind tvc_runtime_kernel_failed / tvc_runtime_kernel_error
// (runtime/api/tvc_runtime.h): one fixed-size slot per thread, so compiled
// code on any number of host threads records without locks or allocation,
// and each host thread reads the failures of the entry points it called.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/api/tvc_runtime.h"

#include <cstdio>
#include <cstring>

namespace {

struct KernelFailure {
  int32_t status = TVC_OK;
  /// Kernel name, status text and CUDA detail; truncated when longer.
  char message[512] = {};
};

KernelFailure &threadRecord() {
  thread_local KernelFailure record;
  return record;
}

} // namespace

extern "C" void tvc_runtime_kernel_failed(const char *kernel, int32_t status) {
  KernelFailure &record = threadRecord();
  // The first failure explains the rest: later kernels ran on its garbage.
  if (status == TVC_OK || record.status != TVC_OK)
    return;
  record.status = status;
  const char *name = kernel ? kernel : "a kernel";
  int written = std::snprintf(
      record.message, sizeof(record.message), "%s failed: %s (status %d)", name,
      tvc_status_string(static_cast<tvc_status_t>(status)),
      static_cast<int>(status));
  if (kernel && std::strncmp(kernel, "tvc_cuda_", 9) == 0 && written > 0 &&
      static_cast<size_t>(written) < sizeof(record.message)) {
    const char *detail = nullptr;
    if (tvc_cuda_last_error(&detail) != TVC_OK && detail)
      std::snprintf(record.message + written, sizeof(record.message) - written,
                    "; CUDA: %s", detail);
  }
}

extern "C" tvc_status_t tvc_runtime_kernel_error(const char **out_message) {
  KernelFailure &record = threadRecord();
  // The caller's copy, so that the slot is free for the next failure.
  thread_local KernelFailure reported;
  reported = record;
  record.status = TVC_OK;
  record.message[0] = '\0';
  if (out_message)
    *out_message = reported.status == TVC_OK ? "ok" : reported.message;
  return static_cast<tvc_status_t>(reported.status);
}
