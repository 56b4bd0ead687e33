//===- KernelStatusTest.cpp - Kernel failures reported by compiled code ---===//
//
// tvc_runtime_kernel_failed keeps the first failure of each thread until
// tvc_runtime_kernel_error reads (and clears) it; the message names the
// kernel and its status; threads do not see each other's failures.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/api/tvc_runtime.h"

#include "gtest/gtest.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

/// Starts every test on a clean slate (an earlier test may have left one).
void clearThread() { tvc_runtime_kernel_error(nullptr); }

TEST(KernelStatusTest, NoFailureReadsOk) {
  clearThread();
  const char *message = nullptr;
  EXPECT_EQ(tvc_runtime_kernel_error(&message), TVC_OK);
  EXPECT_STREQ(message, "ok");
}

TEST(KernelStatusTest, MessageNamesKernelAndStatus) {
  clearThread();
  tvc_runtime_kernel_failed("tvc_kernel_attention_f32", TVC_INVALID_ARGUMENT);
  const char *message = nullptr;
  EXPECT_EQ(tvc_runtime_kernel_error(&message), TVC_INVALID_ARGUMENT);
  EXPECT_STREQ(message,
               "tvc_kernel_attention_f32 failed: invalid argument (status 1)");
}

TEST(KernelStatusTest, FirstFailureIsKept) {
  clearThread();
  tvc_runtime_kernel_failed("tvc_kernel_linear_f32", TVC_OUT_OF_MEMORY);
  tvc_runtime_kernel_failed("tvc_kernel_attention_f32", TVC_INVALID_ARGUMENT);
  const char *message = nullptr;
  EXPECT_EQ(tvc_runtime_kernel_error(&message), TVC_OUT_OF_MEMORY);
  EXPECT_STREQ(message,
               "tvc_kernel_linear_f32 failed: out of memory (status 3)");
}

TEST(KernelStatusTest, ReadingClears) {
  clearThread();
  tvc_runtime_kernel_failed("tvc_kernel_linear_f32", TVC_INTERNAL);
  const char *first = nullptr;
  ASSERT_EQ(tvc_runtime_kernel_error(&first), TVC_INTERNAL);
  // The message outlives the clear; the next read finds nothing.
  std::string kept = first;
  const char *second = nullptr;
  EXPECT_EQ(tvc_runtime_kernel_error(&second), TVC_OK);
  EXPECT_STREQ(second, "ok");
  EXPECT_EQ(kept, "tvc_kernel_linear_f32 failed: internal error (status 5)");
  // After the clear, a new failure is recorded again.
  tvc_runtime_kernel_failed("tvc_kernel_attention_f32", TVC_UNAVAILABLE);
  EXPECT_EQ(tvc_runtime_kernel_error(nullptr), TVC_UNAVAILABLE);
}

TEST(KernelStatusTest, OkStatusAndOddInputs) {
  clearThread();
  // TVC_OK is no failure.
  tvc_runtime_kernel_failed("tvc_kernel_linear_f32", TVC_OK);
  EXPECT_EQ(tvc_runtime_kernel_error(nullptr), TVC_OK);
  // An unnamed kernel and a status outside the enum still read clearly.
  tvc_runtime_kernel_failed(nullptr, 42);
  const char *message = nullptr;
  EXPECT_EQ(static_cast<int>(tvc_runtime_kernel_error(&message)), 42);
  EXPECT_STREQ(message, "a kernel failed: unknown status (status 42)");
  // A very long name is truncated, not overrun.
  std::string longName(2000, 'k');
  tvc_runtime_kernel_failed(longName.c_str(), TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_runtime_kernel_error(&message), TVC_INVALID_ARGUMENT);
  EXPECT_LT(std::string(message).size(), longName.size());
  EXPECT_EQ(std::string(message).substr(0, 10), longName.substr(0, 10));
}

/// A CUDA kernel's failure reads like a CPU one's (plus the CUDA runtime's
/// pending error, when it has one; none is pending here).
TEST(KernelStatusTest, CudaKernelName) {
  clearThread();
  const char *cuda = nullptr;
  tvc_cuda_last_error(&cuda); // Clear what earlier tests left.
  tvc_runtime_kernel_failed("tvc_cuda_kernel_linear_f32", TVC_UNAVAILABLE);
  const char *message = nullptr;
  EXPECT_EQ(tvc_runtime_kernel_error(&message), TVC_UNAVAILABLE);
  std::string text = message;
  EXPECT_EQ(text.rfind("tvc_cuda_kernel_linear_f32 failed: unavailable "
                       "(status 4)",
                       0),
            0u)
      << text;
}

/// Each thread keeps and reads its own first failure, however many threads
/// record at once.
TEST(KernelStatusTest, ThreadsKeepTheirOwnFailure) {
  clearThread();
  constexpr int kThreads = 8, kRounds = 200;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &mismatches] {
      std::string first = "kernel_" + std::to_string(t);
      std::string expected =
          first + " failed: " +
          tvc_status_string(static_cast<tvc_status_t>(1 + t % 5)) +
          " (status " + std::to_string(1 + t % 5) + ")";
      for (int round = 0; round < kRounds; ++round) {
        tvc_runtime_kernel_failed(first.c_str(), 1 + t % 5);
        tvc_runtime_kernel_failed("later_kernel", TVC_INTERNAL);
        const char *message = nullptr;
        if (tvc_runtime_kernel_error(&message) != 1 + t % 5 ||
            expected != message || tvc_runtime_kernel_error(nullptr) != TVC_OK)
          ++mismatches;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  // Nothing leaked to this thread.
  EXPECT_EQ(tvc_runtime_kernel_error(nullptr), TVC_OK);
}

} // namespace
