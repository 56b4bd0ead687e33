//===- CudaTestUtils.h - Skipping CUDA tests without a device ---*- C++ -*-===//
//
// The CUDA tests run where a device is and skip, saying why, where none is
// (the build machines): one check for all of them.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_TEST_UNITTESTS_RUNTIME_CUDATESTUTILS_H
#define TVC_TEST_UNITTESTS_RUNTIME_CUDATESTUTILS_H

#include "runtime/api/tvc_runtime.h"

#include "gtest/gtest.h"

#include <string>

namespace tvc::test {

/// True when a CUDA device can run kernels here; otherwise `why` says why.
inline bool haveCudaDevice(std::string &why) {
  tvc_cuda_device_info_t info;
  const char *message = nullptr;
  tvc_status_t status = tvc_cuda_device_query(0, &info, &message);
  why = message ? message : "";
  return status == TVC_OK;
}

} // namespace tvc::test

/// Skips the test (with the reason) when no CUDA device is usable.
#define REQUIRE_CUDA_DEVICE()                                                  \
  do {                                                                         \
    std::string why_;                                                          \
    if (!::tvc::test::haveCudaDevice(why_))                                    \
      GTEST_SKIP() << "no CUDA device: " << why_;                              \
  } while (false)

#endif // TVC_TEST_UNITTESTS_RUNTIME_CUDATESTUTILS_H
