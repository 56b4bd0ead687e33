//===- CudaHostAttentionTest.cpp - Attention on the host in a CUDA model --===//
//
// tvc_cuda_host_alloc / tvc_cuda_host_free and
// tvc_cuda_kernel_host_attention_f32. On a device: the pinned caches come
// zero-filled and are usable by device copies through the same pointer; the
// entry's output equals, bit for bit, tvc_kernel_attention_f32 run directly
// on host copies of its inputs (it is the same CPU kernel on the same data)
// for causal, sliding-window, window + global, top-k, block top-k,
// vertical-slash and ALISA masks, prefill and decode shapes, grouped heads
// and batch 2, on the default and on a created stream; cache rows written
// through the mapped pointer by a copy queued on the stream just before the
// call (behind a long copy) are seen by it; the thread's staging grows for a
// bigger call and is reused for smaller ones. Without a device (suites not
// starting with "Cuda", which scripts/gpu-check.sh would count as failures
// when skipped): bad arguments are TVC_INVALID_ARGUMENT before any CUDA
// call, empty problems TVC_OK, and valid calls TVC_UNAVAILABLE.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"

#include "CudaTestUtils.h"
#include "KernelTestUtils.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace tvc::test;

namespace {

/// Pinned mapped host memory from tvc_cuda_host_alloc, freed on destruction.
class HostCache {
public:
  explicit HostCache(size_t count) : count(count) {
    EXPECT_EQ(tvc_cuda_host_alloc(count * sizeof(float), &pointer), TVC_OK);
  }
  ~HostCache() {
    if (pointer)
      EXPECT_EQ(tvc_cuda_host_free(pointer), TVC_OK);
  }
  HostCache(const HostCache &) = delete;
  HostCache &operator=(const HostCache &) = delete;

  float *get() const { return static_cast<float *>(pointer); }
  std::vector<float> copy() const {
    return pointer ? std::vector<float>(get(), get() + count)
                   : std::vector<float>();
  }

private:
  void *pointer = nullptr;
  size_t count;
};

/// Device memory holding `host`, freed on destruction.
class DeviceFloats {
public:
  explicit DeviceFloats(const std::vector<float> &host) : count(host.size()) {
    EXPECT_EQ(
        tvc_cuda_malloc(std::max<size_t>(1, count) * sizeof(float), &pointer),
        TVC_OK);
    if (pointer && count)
      EXPECT_EQ(
          tvc_cuda_copy_to_device(pointer, host.data(), count * sizeof(float)),
          TVC_OK);
    // The copy may still be in flight on the legacy stream.
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  ~DeviceFloats() {
    if (pointer)
      tvc_cuda_free(pointer);
  }
  DeviceFloats(const DeviceFloats &) = delete;
  DeviceFloats &operator=(const DeviceFloats &) = delete;

  float *get() const { return static_cast<float *>(pointer); }
  /// Waits for the current stream, then copies the contents back.
  std::vector<float> download() const {
    std::vector<float> host(count, std::nanf(""));
    EXPECT_EQ(tvc_cuda_stream_synchronize(), TVC_OK);
    if (pointer && count)
      EXPECT_EQ(
          tvc_cuda_copy_to_host(host.data(), pointer, count * sizeof(float)),
          TVC_OK);
    return host;
  }

private:
  void *pointer = nullptr;
  size_t count;
};

/// One attention call; fields a kind does not read stay 0.
struct HostCase {
  int64_t batch, qLen, kvLen, kvCapacity, heads, kvHeads, headDim, maskKind;
  int64_t window = 0, global = 0, block = 0, topK = 0, vertical = 0, slash = 0,
          lastQueries = 0;
};

tvc_attention_f32_params_t paramsOf(const HostCase &c) {
  tvc_attention_f32_params_t p = {};
  p.batch = c.batch;
  p.q_len = c.qLen;
  p.kv_len = c.kvLen;
  p.kv_capacity = c.kvCapacity;
  p.heads = c.heads;
  p.kv_heads = c.kvHeads;
  p.head_dim = c.headDim;
  p.mask_kind = c.maskKind;
  p.window = c.window;
  p.global = c.global;
  p.block = c.block;
  p.top_k = c.topK;
  p.vertical = c.vertical;
  p.slash = c.slash;
  p.last_queries = c.lastQueries;
  p.scale = 1.0 / std::sqrt(double(c.headDim));
  return p;
}

/// Fills the caches with random rows 0..kvLen-1 and NaN beyond, runs the
/// host entry on the current stream and expects out to be bit-identical to
/// tvc_kernel_attention_f32 on host copies.
void checkHostAttention(const HostCase &c, uint32_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "batch=" << c.batch << " q_len=" << c.qLen << " kv_len="
               << c.kvLen << " heads=" << c.heads << "/" << c.kvHeads
               << " head_dim=" << c.headDim << " mask=" << c.maskKind);
  int64_t kvWidth = c.kvHeads * c.headDim;
  int64_t cacheCount = c.batch * c.kvCapacity * kvWidth;
  int64_t qCount = c.batch * c.qLen * c.heads * c.headDim;
  HostCache k(cacheCount), v(cacheCount);
  ASSERT_NE(k.get(), nullptr);
  ASSERT_NE(v.get(), nullptr);
  std::vector<float> keys = randomFloats(cacheCount, seed);
  std::vector<float> values = randomFloats(cacheCount, seed + 1);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t row = c.kvLen; row < c.kvCapacity; ++row)
      for (int64_t i = 0; i < kvWidth; ++i) {
        int64_t index = (b * c.kvCapacity + row) * kvWidth + i;
        keys[index] = values[index] = std::nanf("");
      }
  std::memcpy(k.get(), keys.data(), keys.size() * sizeof(float));
  std::memcpy(v.get(), values.data(), values.size() * sizeof(float));
  std::vector<float> q = randomFloats(qCount, seed + 2);
  DeviceFloats deviceQ(q);
  DeviceFloats deviceOut(std::vector<float>(qCount, std::nanf("")));

  tvc_attention_f32_params_t params = paramsOf(c);
  params.q = deviceQ.get();
  params.k = k.get();
  params.v = v.get();
  params.out = deviceOut.get();
  ASSERT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_OK);
  std::vector<float> out = deviceOut.download();

  std::vector<float> expected(qCount, std::nanf(""));
  params.q = q.data();
  params.k = keys.data();
  params.v = values.data();
  params.out = expected.data();
  ASSERT_EQ(tvc_kernel_attention_f32(&params), TVC_OK);
  ASSERT_EQ(out.size(), expected.size());
  EXPECT_EQ(
      std::memcmp(out.data(), expected.data(), out.size() * sizeof(float)), 0);
  // Rows past kv_len are NaN but never read: the expected output has no NaN,
  // so a match also says that the entry wrote every output.
  for (float value : expected)
    ASSERT_FALSE(std::isnan(value));
}

/// Prefill and decode shapes of every kind the tests cover: grouped heads
/// (4 query heads on 2 KV heads) and batch 2 throughout.
std::vector<HostCase> maskCases() {
  std::vector<HostCase> cases;
  for (int64_t qLen : {int64_t(9), int64_t(1)}) {
    int64_t kvLen = qLen == 1 ? 21 : 9;
    HostCase base = {2, qLen, kvLen, 24, 4, 2, 16, TVC_MASK_CAUSAL};
    cases.push_back(base);
    HostCase sliding = base;
    sliding.maskKind = TVC_MASK_SLIDING_WINDOW;
    sliding.window = 4;
    cases.push_back(sliding);
    HostCase global = sliding;
    global.maskKind = TVC_MASK_WINDOW_GLOBAL;
    global.global = 2;
    cases.push_back(global);
    HostCase topK = base;
    topK.maskKind = TVC_MASK_TOP_K;
    topK.topK = 3;
    cases.push_back(topK);
    HostCase blockTopK = base;
    blockTopK.maskKind = TVC_MASK_BLOCK_TOP_K;
    blockTopK.block = 4;
    blockTopK.topK = 1;
    cases.push_back(blockTopK);
    HostCase verticalSlash = base;
    verticalSlash.maskKind = TVC_MASK_VERTICAL_SLASH;
    verticalSlash.vertical = 3;
    verticalSlash.slash = 2;
    verticalSlash.lastQueries = 4;
    cases.push_back(verticalSlash);
  }
  // ALISA through this entry is one call from position 0.
  HostCase alisa = {2, 8, 8, 8, 4, 2, 16, TVC_MASK_ALISA};
  alisa.window = 3;
  alisa.topK = 2;
  cases.push_back(alisa);
  // Full attention, one KV head for all, an odd head size.
  cases.push_back({2, 3, 11, 11, 6, 1, 40, TVC_MASK_FULL});
  return cases;
}

/// The current stream set for a scope and a created stream destroyed after.
class ScopedStream {
public:
  ScopedStream() {
    EXPECT_EQ(tvc_cuda_stream_create(&stream), TVC_OK);
    EXPECT_EQ(tvc_cuda_set_stream(stream), TVC_OK);
  }
  ~ScopedStream() {
    EXPECT_EQ(tvc_cuda_stream_synchronize(), TVC_OK);
    EXPECT_EQ(tvc_cuda_set_stream(nullptr), TVC_OK);
    if (stream)
      EXPECT_EQ(tvc_cuda_stream_destroy(stream), TVC_OK);
  }
  cudaStream_t get() const { return static_cast<cudaStream_t>(stream); }

private:
  void *stream = nullptr;
};

/// A runtime or machine that cannot run CUDA code skips the test.
#define SKIP_WITH_CUDA_DEVICE()                                                \
  do {                                                                         \
    std::string why_;                                                          \
    if (::tvc::test::haveCudaDevice(why_))                                     \
      GTEST_SKIP() << "a CUDA device is present";                              \
  } while (false)

/// A valid decode call; its pointers are never dereferenced by the tests
/// that use it (rejected or unavailable before any access).
tvc_attention_f32_params_t validDummyParams(float *dummy) {
  tvc_attention_f32_params_t p = {};
  p.q = p.k = p.v = p.out = dummy;
  p.batch = 1;
  p.q_len = 2;
  p.kv_len = 3;
  p.kv_capacity = 4;
  p.heads = 4;
  p.kv_heads = 2;
  p.head_dim = 8;
  p.mask_kind = TVC_MASK_CAUSAL;
  p.scale = 0.5;
  return p;
}

//===----------------------------------------------------------------------===//
// Everywhere: argument checks, empty problems
//===----------------------------------------------------------------------===//

TEST(HostAttentionArguments, RejectedBeforeAnyCudaCall) {
  float dummy[64] = {};
  tvc_attention_f32_params_t valid = validDummyParams(dummy);
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(nullptr), TVC_INVALID_ARGUMENT);
  auto expectRejected = [&](auto change) {
    tvc_attention_f32_params_t params = valid;
    change(params);
    EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_INVALID_ARGUMENT)
        << "mask_kind " << params.mask_kind;
  };
  expectRejected([](auto &p) { p.q = nullptr; });
  expectRejected([](auto &p) { p.k = nullptr; });
  expectRejected([](auto &p) { p.v = nullptr; });
  expectRejected([](auto &p) { p.out = nullptr; });
  expectRejected([](auto &p) { p.batch = -1; });
  expectRejected([](auto &p) { p.q_len = 4; });    // > kv_len
  expectRejected([](auto &p) { p.kv_len = 5; });   // > kv_capacity
  expectRejected([](auto &p) { p.kv_heads = 3; }); // 4 % 3 != 0
  expectRejected([](auto &p) { p.head_dim = TVC_ATTENTION_MAX_HEAD_DIM + 1; });
  expectRejected([](auto &p) { p.mask_kind = TVC_MASK_ALISA + 1; });
  expectRejected([](auto &p) {
    p.mask_kind = TVC_MASK_SLIDING_WINDOW;
    p.window = 0;
  });
  expectRejected([](auto &p) {
    p.mask_kind = TVC_MASK_TOP_K;
    p.top_k = 0;
  });
  // ALISA without state needs one call from position 0.
  expectRejected([](auto &p) {
    p.mask_kind = TVC_MASK_ALISA;
    p.window = 1;
  });
  expectRejected([](auto &p) { p.scale = std::nan(""); });
  expectRejected(
      [](auto &p) { p.batch = std::numeric_limits<int64_t>::max() / 2; });
  // fitsAttentionKeyIndices: 32-bit key indices of vertical-slash and ALISA.
  expectRejected([](auto &p) {
    p.mask_kind = TVC_MASK_VERTICAL_SLASH;
    p.vertical = std::numeric_limits<int32_t>::max();
    p.slash = p.last_queries = 1;
  });
  expectRejected([](auto &p) {
    p.mask_kind = TVC_MASK_ALISA;
    p.q_len = p.kv_len = p.kv_capacity = int64_t(1) << 31;
    p.heads = p.kv_heads = p.head_dim = 1;
    p.window = 1;
  });
  // Rejected even when there is nothing to compute.
  expectRejected([](auto &p) {
    p.batch = 0;
    p.mask_kind = TVC_MASK_ALISA;
  });
}

TEST(HostAttentionArguments, EmptyProblemsNeedNoCudaCall) {
  // A runtime built without CUDA has only the stub.
  float dummy[64] = {};
  tvc_attention_f32_params_t params = validDummyParams(dummy);
  if (tvc_cuda_kernel_host_attention_f32(nullptr) == TVC_UNAVAILABLE)
    GTEST_SKIP() << "this runtime was built without CUDA";
  params.batch = 0;
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_OK);
  params.batch = 1;
  params.q_len = 0;
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_OK);
  params.q_len = 2;
  params.head_dim = 0;
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_OK);
}

TEST(HostAttentionArguments, HostAllocArguments) {
  EXPECT_EQ(tvc_cuda_host_alloc(16, nullptr), TVC_INVALID_ARGUMENT);
  void *pointer = &pointer;
  EXPECT_EQ(tvc_cuda_host_alloc(0, &pointer), TVC_OK);
  EXPECT_EQ(pointer, nullptr);
  EXPECT_EQ(tvc_cuda_host_free(nullptr), TVC_OK);
}

TEST(WithoutCudaDevice, HostAttentionIsUnavailable) {
  SKIP_WITH_CUDA_DEVICE();
  float dummy[64] = {};
  tvc_attention_f32_params_t params = validDummyParams(dummy);
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_UNAVAILABLE);
  params.mask_kind = TVC_MASK_TOP_K;
  params.top_k = 1;
  EXPECT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_UNAVAILABLE);
}

TEST(WithoutCudaDevice, HostAllocIsUnavailable) {
  SKIP_WITH_CUDA_DEVICE();
  void *pointer = &pointer;
  EXPECT_EQ(tvc_cuda_host_alloc(4096, &pointer), TVC_UNAVAILABLE);
  EXPECT_EQ(pointer, nullptr);
}

//===----------------------------------------------------------------------===//
// On a device
//===----------------------------------------------------------------------===//

TEST(CudaHostAttention, HostAllocZeroFillsAndIsMapped) {
  REQUIRE_CUDA_DEVICE();
  constexpr size_t kCount = 1 << 20;
  // Dirty pinned memory first, so a recycled block would show.
  for (int round = 0; round < 2; ++round) {
    void *pointer = nullptr;
    ASSERT_EQ(tvc_cuda_host_alloc(kCount * sizeof(float), &pointer), TVC_OK);
    ASSERT_NE(pointer, nullptr);
    float *values = static_cast<float *>(pointer);
    for (size_t i = 0; i < kCount; ++i)
      ASSERT_EQ(values[i], 0.0f) << "index " << i << " round " << round;
    for (size_t i = 0; i < kCount; ++i)
      values[i] = float(i % 977) + 0.5f;
    // The same pointer works as a device address: a device copy reads it.
    DeviceFloats device(std::vector<float>(kCount, 0.0f));
    ASSERT_EQ(
        tvc_cuda_copy_on_device(device.get(), pointer, kCount * sizeof(float)),
        TVC_OK);
    std::vector<float> back = device.download();
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(std::memcmp(back.data(), values, kCount * sizeof(float)), 0);
    EXPECT_EQ(tvc_cuda_host_free(pointer), TVC_OK);
  }
}

TEST(CudaHostAttention, MatchesCpuEntry) {
  REQUIRE_CUDA_DEVICE();
  uint32_t seed = 10;
  for (const HostCase &c : maskCases())
    checkHostAttention(c, seed += 3);
}

TEST(CudaHostAttention, NonDefaultStream) {
  REQUIRE_CUDA_DEVICE();
  ScopedStream stream;
  uint32_t seed = 100;
  for (const HostCase &c : maskCases())
    checkHostAttention(c, seed += 3);
}

TEST(CudaHostAttention, StagingGrowsAndIsReused) {
  REQUIRE_CUDA_DEVICE();
  // Small, then far bigger (the staging grows from 1 to 2 MiB), small again
  // (reused), bigger still (grows again) on another stream, small on the
  // first: every call's result must be the CPU entry's.
  // A new thread starts without staging (and frees it when it ends).
  std::thread worker([] {
    HostCase small = {1, 1, 5, 8, 2, 1, 8, TVC_MASK_CAUSAL};
    HostCase big = {2, 96, 96, 128, 8, 4, 128, TVC_MASK_CAUSAL};
    checkHostAttention(small, 1);
    checkHostAttention(big, 2);
    {
      ScopedStream stream;
      checkHostAttention(small, 3);
      HostCase bigger = big;
      // 2 MiB each of q and out: past the 2 MiB the big call left.
      bigger.qLen = bigger.kvLen = 128;
      bigger.heads = 16;
      checkHostAttention(bigger, 4);
    }
    checkHostAttention(small, 5);
  });
  worker.join();
}

TEST(CudaHostAttention, SeesCacheRowsCopiedOnTheStreamBeforeTheCall) {
  REQUIRE_CUDA_DEVICE();
  ScopedStream stream;
  // A decode step: rows 0..kvLen-2 are on the host already, row kvLen-1
  // (each batch entry's) arrives by a device copy into the mapped cache,
  // queued behind a long unrelated copy so that it is still pending when
  // the call is made. The cache row holds NaN until the copy lands.
  HostCase c = {2, 1, 33, 40, 4, 2, 64, TVC_MASK_CAUSAL};
  int64_t kvWidth = c.kvHeads * c.headDim;
  int64_t cacheCount = c.batch * c.kvCapacity * kvWidth;
  HostCache k(cacheCount), v(cacheCount);
  ASSERT_NE(k.get(), nullptr);
  ASSERT_NE(v.get(), nullptr);
  std::vector<float> keys = randomFloats(cacheCount, 41);
  std::vector<float> values = randomFloats(cacheCount, 42);
  std::vector<float> staleK = keys, staleV = values;
  std::vector<float> newK(c.batch * kvWidth), newV(c.batch * kvWidth);
  int64_t last = c.kvLen - 1;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < kvWidth; ++i) {
      int64_t index = (b * c.kvCapacity + last) * kvWidth + i;
      newK[b * kvWidth + i] = keys[index];
      newV[b * kvWidth + i] = values[index];
      staleK[index] = staleV[index] = std::nanf("");
    }
  std::memcpy(k.get(), staleK.data(), cacheCount * sizeof(float));
  std::memcpy(v.get(), staleV.data(), cacheCount * sizeof(float));
  DeviceFloats deviceNewK(newK), deviceNewV(newV);
  std::vector<float> q = randomFloats(c.batch * c.heads * c.headDim, 43);
  DeviceFloats deviceQ(q);
  DeviceFloats deviceOut(std::vector<float>(q.size(), std::nanf("")));
  constexpr size_t kDelayFloats = size_t(64) << 20; // 256 MiB each way
  void *delaySource = nullptr, *delayTarget = nullptr;
  ASSERT_EQ(tvc_cuda_malloc(kDelayFloats * sizeof(float), &delaySource),
            TVC_OK);
  ASSERT_EQ(tvc_cuda_malloc(kDelayFloats * sizeof(float), &delayTarget),
            TVC_OK);

  for (int repeat = 0; repeat < 4; ++repeat)
    ASSERT_EQ(cudaMemcpyAsync(delayTarget, delaySource,
                              kDelayFloats * sizeof(float),
                              cudaMemcpyDeviceToDevice, stream.get()),
              cudaSuccess);
  size_t rowBytes = kvWidth * sizeof(float);
  for (int64_t b = 0; b < c.batch; ++b) {
    int64_t offset = (b * c.kvCapacity + last) * kvWidth;
    ASSERT_EQ(cudaMemcpyAsync(k.get() + offset, deviceNewK.get() + b * kvWidth,
                              rowBytes, cudaMemcpyDeviceToDevice, stream.get()),
              cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(v.get() + offset, deviceNewV.get() + b * kvWidth,
                              rowBytes, cudaMemcpyDeviceToDevice, stream.get()),
              cudaSuccess);
  }
  tvc_attention_f32_params_t params = paramsOf(c);
  params.q = deviceQ.get();
  params.k = k.get();
  params.v = v.get();
  params.out = deviceOut.get();
  ASSERT_EQ(tvc_cuda_kernel_host_attention_f32(&params), TVC_OK);
  std::vector<float> out = deviceOut.download();

  std::vector<float> expected(q.size(), std::nanf(""));
  params.q = q.data();
  params.k = keys.data();
  params.v = values.data();
  params.out = expected.data();
  ASSERT_EQ(tvc_kernel_attention_f32(&params), TVC_OK);
  EXPECT_EQ(
      std::memcmp(out.data(), expected.data(), out.size() * sizeof(float)), 0);
  for (float value : out)
    ASSERT_FALSE(std::isnan(value));
  // The cache holds the copied rows now.
  EXPECT_EQ(std::memcmp(k.get(), keys.data(), cacheCount * sizeof(float)), 0);
  EXPECT_EQ(tvc_cuda_free(delaySource), TVC_OK);
  EXPECT_EQ(tvc_cuda_free(delayTarget), TVC_OK);
}

} // namespace
