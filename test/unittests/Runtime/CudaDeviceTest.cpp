//===- CudaDeviceTest.cpp - CUDA plumbing of the runtime ------------------===//
//
// Without a driver or a GPU (or in a build without CUDA) the runtime must
// report TVC_UNAVAILABLE with a reason, and these tests skip; on a GPU they
// run the check kernel against a host reference.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_runtime.h"

#include "CudaTestUtils.h"

#include "gtest/gtest.h"

#include <cstring>
#include <vector>

namespace {


TEST(CudaDevice, QueryEitherSucceedsOrExplains) {
  tvc_cuda_device_info_t info;
  std::memset(&info, 0xff, sizeof(info));
  const char *message = nullptr;
  tvc_status_t status = tvc_cuda_device_query(0, &info, &message);
  ASSERT_NE(message, nullptr);
  if (status == TVC_OK) {
    EXPECT_GT(info.device_count, 0);
    EXPECT_GT(info.sm_major, 0);
    EXPECT_GT(info.total_memory, 0u);
    EXPECT_GT(std::strlen(info.name), 0u);
  } else {
    EXPECT_EQ(status, TVC_UNAVAILABLE) << message;
    EXPECT_EQ(info.device_count, 0);
    EXPECT_GT(std::strlen(message), 0u);
  }
}

TEST(CudaDevice, QueryRejectsNullOutput) {
  // Without CUDA the stub accepts NULL and reports unavailability instead.
  tvc_status_t status = tvc_cuda_device_query(0, nullptr, nullptr);
  EXPECT_TRUE(status == TVC_INVALID_ARGUMENT || status == TVC_UNAVAILABLE);
}

TEST(CudaDevice, StatusNamesAreStable) {
  EXPECT_STREQ(tvc_status_string(TVC_OK), "ok");
  EXPECT_STREQ(tvc_status_string(TVC_UNAVAILABLE), "unavailable");
  EXPECT_STREQ(tvc_status_string(static_cast<tvc_status_t>(99)),
               "unknown status");
}

TEST(CudaDevice, AddKernelMatchesHost) {
  REQUIRE_CUDA_DEVICE();
  // Odd size: exercises the grid-stride tail.
  const size_t count = (1u << 20) + 3;
  std::vector<float> lhs(count), rhs(count), out(count, -1.0f);
  for (size_t i = 0; i < count; ++i) {
    lhs[i] = static_cast<float>(i % 1000) * 0.5f;
    rhs[i] = 1.0f - static_cast<float>(i % 7);
  }
  void *deviceLhs = nullptr, *deviceRhs = nullptr, *deviceOut = nullptr;
  size_t bytes = count * sizeof(float);
  ASSERT_EQ(tvc_cuda_malloc(bytes, &deviceLhs), TVC_OK);
  ASSERT_EQ(tvc_cuda_malloc(bytes, &deviceRhs), TVC_OK);
  ASSERT_EQ(tvc_cuda_malloc(bytes, &deviceOut), TVC_OK);
  ASSERT_EQ(tvc_cuda_copy_to_device(deviceLhs, lhs.data(), bytes), TVC_OK);
  ASSERT_EQ(tvc_cuda_copy_to_device(deviceRhs, rhs.data(), bytes), TVC_OK);
  ASSERT_EQ(tvc_cuda_add_f32(static_cast<float *>(deviceLhs),
                             static_cast<float *>(deviceRhs),
                             static_cast<float *>(deviceOut), count),
            TVC_OK);
  ASSERT_EQ(tvc_cuda_copy_to_host(out.data(), deviceOut, bytes), TVC_OK);
  for (size_t i = 0; i < count; ++i)
    ASSERT_EQ(out[i], lhs[i] + rhs[i]) << "at " << i;
  EXPECT_EQ(tvc_cuda_free(deviceLhs), TVC_OK);
  EXPECT_EQ(tvc_cuda_free(deviceRhs), TVC_OK);
  EXPECT_EQ(tvc_cuda_free(deviceOut), TVC_OK);
}

} // namespace
