//===- CudaGpuRuntimeTest.cpp - The mgpu* functions of generated host code ===//
//
// Calls the mgpu* functions (runtime/base/CudaGpuRuntime.cpp) the way
// MLIR's gpu-to-llvm host code does, on a hand-written PTX module. Without
// a driver or a device (CI) the loader must fail cleanly with a message
// from tvc_cuda_last_error and the device tests skip; on a GPU the kernel
// runs and its results, the stream and event order, copies and memsets are
// checked. Only built with CUDA.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"

#include "CudaTestUtils.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// The signatures MLIR 22's gpu-to-llvm and gpu-module-to-binary declare.
extern "C" {
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes);
void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes);
}

namespace {

/// out[i] = lhs[i] + rhs[i] for i < n; thread 0 of each block first sleeps
/// `spins` microseconds, so a reader not ordered after the kernel would see
/// stale data. Assembles with `ptxas -arch=sm_80` (CUDA 13).
const char kAddPtx[] = R"ptx(
.version 8.0
.target sm_80
.address_size 64

.visible .entry tvc_test_add_f32(
	.param .u64 lhs,
	.param .u64 rhs,
	.param .u64 out,
	.param .u32 n,
	.param .u32 spins
)
{
	.reg .pred %p<3>;
	.reg .b32 %r<8>;
	.reg .b64 %rd<8>;
	.reg .f32 %f<4>;

	ld.param.u32 %r1, [spins];
	mov.u32 %r2, %tid.x;
	setp.ne.u32 %p1, %r2, 0;
	@%p1 bra SLEPT;
	mov.u32 %r3, 0;
SLEEP:
	setp.ge.u32 %p2, %r3, %r1;
	@%p2 bra SLEPT;
	nanosleep.u32 1000;
	add.u32 %r3, %r3, 1;
	bra SLEEP;
SLEPT:
	bar.sync 0;
	mov.u32 %r4, %ctaid.x;
	mov.u32 %r5, %ntid.x;
	mad.lo.u32 %r6, %r4, %r5, %r2;
	ld.param.u32 %r7, [n];
	setp.ge.u32 %p1, %r6, %r7;
	@%p1 bra DONE;
	ld.param.u64 %rd1, [lhs];
	ld.param.u64 %rd2, [rhs];
	ld.param.u64 %rd3, [out];
	cvta.to.global.u64 %rd1, %rd1;
	cvta.to.global.u64 %rd2, %rd2;
	cvta.to.global.u64 %rd3, %rd3;
	mul.wide.u32 %rd4, %r6, 4;
	add.s64 %rd5, %rd1, %rd4;
	add.s64 %rd6, %rd2, %rd4;
	add.s64 %rd7, %rd3, %rd4;
	ld.global.f32 %f1, [%rd5];
	ld.global.f32 %f2, [%rd6];
	add.rn.f32 %f3, %f1, %f2;
	st.global.f32 [%rd7], %f3;
DONE:
	ret;
}
)ptx";

constexpr const char *kKernelName = "tvc_test_add_f32";

void *ptxData() { return const_cast<char *>(kAddPtx); }

/// Clears the error record; returns what it held.
std::string takeLastError(tvc_status_t *out_status = nullptr) {
  const char *message = nullptr;
  tvc_status_t status = tvc_cuda_last_error(&message);
  if (out_status)
    *out_status = status;
  return message ? message : "";
}


/// The error record is clean: asserts and prints what it held otherwise.
#define EXPECT_NO_MGPU_ERROR()                                                 \
  do {                                                                         \
    tvc_status_t status;                                                       \
    std::string message = takeLastError(&status);                              \
    EXPECT_EQ(status, TVC_OK) << message;                                      \
  } while (false)

TEST(MgpuRuntime, LastErrorIsOkAndClears) {
  takeLastError();
  tvc_status_t status = TVC_INTERNAL;
  EXPECT_EQ(takeLastError(&status), "ok");
  EXPECT_EQ(status, TVC_OK);
  EXPECT_EQ(tvc_cuda_last_error(nullptr), TVC_OK);
}

TEST(MgpuRuntime, ModuleLoadLoadsOrExplains) {
  takeLastError();
  void *module = mgpuModuleLoad(ptxData(), sizeof(kAddPtx));
  tvc_status_t status;
  std::string message = takeLastError(&status);
  std::string why;
  if (tvc::test::haveCudaDevice(why)) {
    ASSERT_NE(module, nullptr) << message;
    EXPECT_EQ(status, TVC_OK) << message;
    mgpuModuleUnload(module);
    EXPECT_NO_MGPU_ERROR();
    return;
  }
  // No driver or no device (CI): a clean failure that says which.
  EXPECT_EQ(module, nullptr);
  EXPECT_EQ(status, TVC_UNAVAILABLE) << message;
  EXPECT_NE(message.find("mgpuModuleLoad"), std::string::npos) << message;
  EXPECT_TRUE(message.find("driver") != std::string::npos ||
              message.find("device") != std::string::npos)
      << message;
  // The unload of a failed load is quiet, as in a generated destructor.
  mgpuModuleUnload(module);
  EXPECT_NO_MGPU_ERROR();
}

TEST(MgpuRuntime, ModuleLoadJITLoadsOrExplains) {
  takeLastError();
  void *module = mgpuModuleLoadJIT(ptxData(), /*optLevel=*/2);
  tvc_status_t status;
  std::string message = takeLastError(&status);
  std::string why;
  if (tvc::test::haveCudaDevice(why)) {
    ASSERT_NE(module, nullptr) << message;
    mgpuModuleUnload(module);
  } else {
    EXPECT_EQ(module, nullptr);
    EXPECT_EQ(status, TVC_UNAVAILABLE) << message;
    EXPECT_NE(message.find("mgpuModuleLoadJIT"), std::string::npos);
  }
}

/// What generated code does after a failed load must report, not crash.
TEST(MgpuRuntime, NullHandlesAreReported) {
  takeLastError();
  EXPECT_EQ(mgpuModuleGetFunction(nullptr, kKernelName), nullptr);
  tvc_status_t status;
  std::string message = takeLastError(&status);
  EXPECT_NE(status, TVC_OK);
  EXPECT_NE(message.find(kKernelName), std::string::npos) << message;

  void *params[] = {nullptr};
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, params, nullptr, 1);
  message = takeLastError(&status);
  EXPECT_EQ(status, TVC_INVALID_ARGUMENT);
  EXPECT_NE(message.find("mgpuLaunchKernel"), std::string::npos) << message;

  mgpuModuleUnload(nullptr);
  mgpuEventDestroy(nullptr);
  mgpuMemFree(nullptr, nullptr);
  EXPECT_EQ(mgpuMemAlloc(0, nullptr, false), nullptr);
  EXPECT_NO_MGPU_ERROR();
}

/// Needs no device: the stream handed out is the thread's tvc stream, and
/// destroying it leaves it alone.
TEST(MgpuRuntime, StreamCreateReturnsTheCurrentTvcStream) {
  void *saved = tvc_cuda_get_stream();
  EXPECT_EQ(mgpuStreamCreate(), saved);
  // A stand-in handle: mgpuStreamCreate/Destroy must not use it.
  int standIn = 0;
  ASSERT_EQ(tvc_cuda_set_stream(&standIn), TVC_OK);
  void *stream = mgpuStreamCreate();
  EXPECT_EQ(stream, &standIn);
  EXPECT_EQ(mgpuStreamCreate(), stream);
  mgpuStreamDestroy(stream);
  EXPECT_EQ(tvc_cuda_get_stream(), &standIn);
  // Another thread has its own (default) current stream.
  void *other = &standIn;
  std::thread([&] { other = mgpuStreamCreate(); }).join();
  EXPECT_EQ(other, nullptr);
  ASSERT_EQ(tvc_cuda_set_stream(saved), TVC_OK);
  EXPECT_NO_MGPU_ERROR();
}

//===----------------------------------------------------------------------===//
// With a device
//===----------------------------------------------------------------------===//

/// Device buffers for one launch of the add kernel, freed at scope exit.
struct AddBuffers {
  size_t count;
  void *lhs = nullptr, *rhs = nullptr, *out = nullptr;
  std::vector<float> hostLhs, hostRhs;

  explicit AddBuffers(size_t count)
      : count(count), hostLhs(count), hostRhs(count) {
    for (size_t i = 0; i < count; ++i) {
      hostLhs[i] = static_cast<float>(i % 1000) * 0.25f;
      hostRhs[i] = 3.0f - static_cast<float>(i % 13);
    }
    lhs = mgpuMemAlloc(bytes(), mgpuStreamCreate(), false);
    rhs = mgpuMemAlloc(bytes(), mgpuStreamCreate(), false);
    out = mgpuMemAlloc(bytes(), mgpuStreamCreate(), false);
  }
  ~AddBuffers() {
    mgpuMemFree(lhs, nullptr);
    mgpuMemFree(rhs, nullptr);
    mgpuMemFree(out, nullptr);
  }
  size_t bytes() const { return count * sizeof(float); }

  /// Queues the inputs' upload and the kernel on `stream`, as generated
  /// code does: `params` points at each argument's value.
  void launch(void *function, void *stream, uint32_t spins) {
    mgpuMemcpy(lhs, hostLhs.data(), bytes(), stream);
    mgpuMemcpy(rhs, hostRhs.data(), bytes(), stream);
    uint32_t n = static_cast<uint32_t>(count);
    void *params[] = {&lhs, &rhs, &out, &n, &spins};
    const intptr_t block = 256;
    intptr_t grid = static_cast<intptr_t>((count + block - 1) / block);
    mgpuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, stream, params,
                     nullptr, 5);
  }

  void expectSums(const std::vector<float> &got) const {
    ASSERT_EQ(got.size(), count);
    for (size_t i = 0; i < count; ++i)
      ASSERT_EQ(got[i], hostLhs[i] + hostRhs[i]) << "at " << i;
  }
};

/// A tvc stream made current for the test's duration.
struct CurrentStream {
  void *stream = nullptr, *saved = nullptr;
  CurrentStream() {
    saved = tvc_cuda_get_stream();
    EXPECT_EQ(tvc_cuda_stream_create(&stream), TVC_OK);
    EXPECT_EQ(tvc_cuda_set_stream(stream), TVC_OK);
  }
  ~CurrentStream() {
    tvc_cuda_set_stream(saved);
    tvc_cuda_stream_destroy(stream);
  }
};

TEST(MgpuRuntimeDevice, LaunchAddsArraysOnTheCurrentStream) {
  REQUIRE_CUDA_DEVICE();
  takeLastError();
  CurrentStream current;
  void *stream = mgpuStreamCreate();
  ASSERT_EQ(stream, current.stream);
  for (bool jit : {false, true}) {
    SCOPED_TRACE(jit ? "mgpuModuleLoadJIT" : "mgpuModuleLoad");
    void *module = jit ? mgpuModuleLoadJIT(ptxData(), 3)
                       : mgpuModuleLoad(ptxData(), sizeof(kAddPtx));
    ASSERT_NE(module, nullptr) << takeLastError();
    void *function = mgpuModuleGetFunction(module, kKernelName);
    ASSERT_NE(function, nullptr) << takeLastError();
    // Odd size: the last block is partial.
    AddBuffers buffers((1u << 16) + 7);
    buffers.launch(function, stream, 0);
    std::vector<float> got(buffers.count, -1.0f);
    mgpuMemcpy(got.data(), buffers.out, buffers.bytes(), stream);
    mgpuStreamSynchronize(stream);
    EXPECT_NO_MGPU_ERROR();
    buffers.expectSums(got);
    mgpuStreamDestroy(stream);
    // Still usable: destroying a tvc stream does nothing.
    EXPECT_EQ(tvc_cuda_stream_synchronize(), TVC_OK);
    mgpuModuleUnload(module);
    EXPECT_NO_MGPU_ERROR();
  }
}

TEST(MgpuRuntimeDevice, EventOrdersAReaderStreamAfterTheKernel) {
  REQUIRE_CUDA_DEVICE();
  takeLastError();
  CurrentStream current;
  void *module = mgpuModuleLoad(ptxData(), sizeof(kAddPtx));
  ASSERT_NE(module, nullptr) << takeLastError();
  void *function = mgpuModuleGetFunction(module, kKernelName);
  ASSERT_NE(function, nullptr) << takeLastError();

  AddBuffers buffers(4096);
  void *writer = mgpuStreamCreate();
  mgpuMemset32(buffers.out, 0, buffers.count, writer);
  // About 2 ms of sleep before the kernel writes anything.
  buffers.launch(function, writer, 2000);
  void *written = mgpuEventCreate();
  ASSERT_NE(written, nullptr) << takeLastError();
  mgpuEventRecord(written, writer);

  // A second stream that reads only after the event.
  void *reader = nullptr;
  ASSERT_EQ(tvc_cuda_stream_create(&reader), TVC_OK);
  mgpuStreamWaitEvent(reader, written);
  std::vector<float> got(buffers.count, -1.0f);
  mgpuMemcpy(got.data(), buffers.out, buffers.bytes(), reader);
  mgpuStreamSynchronize(reader);
  EXPECT_NO_MGPU_ERROR();
  buffers.expectSums(got);

  // mgpuEventSynchronize waits for the event's work on the host.
  buffers.launch(function, writer, 1000);
  mgpuEventRecord(written, writer);
  mgpuEventSynchronize(written);
  std::fill(got.begin(), got.end(), -1.0f);
  mgpuMemcpy(got.data(), buffers.out, buffers.bytes(), reader);
  mgpuStreamSynchronize(reader);
  EXPECT_NO_MGPU_ERROR();
  buffers.expectSums(got);

  mgpuEventDestroy(written);
  EXPECT_EQ(tvc_cuda_stream_destroy(reader), TVC_OK);
  mgpuModuleUnload(module);
  EXPECT_NO_MGPU_ERROR();
}

TEST(MgpuRuntimeDevice, MemsetFillsWordsAndMemcpyCopiesBack) {
  REQUIRE_CUDA_DEVICE();
  takeLastError();
  CurrentStream current;
  void *stream = mgpuStreamCreate();
  const size_t words = 1000;
  void *device = mgpuMemAlloc(words * 4, stream, false);
  ASSERT_NE(device, nullptr) << takeLastError();

  // 32-bit words: `count` is in words, not bytes.
  float one = 1.5f;
  uint32_t bits;
  std::memcpy(&bits, &one, sizeof(bits));
  mgpuMemset32(device, bits, words, stream);
  std::vector<float> floats(words, 0.0f);
  mgpuMemcpy(floats.data(), device, words * 4, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_NO_MGPU_ERROR();
  for (size_t i = 0; i < words; ++i)
    ASSERT_EQ(floats[i], 1.5f) << "at " << i;

  // 16-bit words over the first half of the buffer only.
  mgpuMemset16(device, 0x3c00, words, stream);
  std::vector<uint16_t> halves(2 * words, 0);
  mgpuMemcpy(halves.data(), device, words * 4, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_NO_MGPU_ERROR();
  for (size_t i = 0; i < words; ++i)
    ASSERT_EQ(halves[i], 0x3c00) << "at " << i;
  uint16_t upper = static_cast<uint16_t>(bits >> 16),
           lower = static_cast<uint16_t>(bits & 0xffff);
  for (size_t i = words; i < 2 * words; ++i)
    ASSERT_EQ(halves[i], i % 2 ? upper : lower) << "at " << i;

  // Device to device, then back through a registered host memref.
  void *copy = mgpuMemAlloc(words * 4, stream, false);
  ASSERT_NE(copy, nullptr) << takeLastError();
  mgpuMemcpy(copy, device, words * 4, stream);
  std::vector<uint16_t> back(2 * words, 0);
  int64_t descriptor[5] = {reinterpret_cast<int64_t>(back.data()),
                           reinterpret_cast<int64_t>(back.data()), 0,
                           static_cast<int64_t>(back.size()), 1};
  mgpuMemHostRegisterMemRef(1, descriptor, sizeof(uint16_t));
  mgpuMemcpy(back.data(), copy, words * 4, stream);
  mgpuStreamSynchronize(stream);
  mgpuMemHostUnregisterMemRef(1, descriptor, sizeof(uint16_t));
  EXPECT_NO_MGPU_ERROR();
  EXPECT_EQ(back, halves);
  mgpuMemFree(copy, stream);
  mgpuMemFree(device, stream);
  EXPECT_NO_MGPU_ERROR();
}

TEST(MgpuRuntimeDevice, BadLaunchesAreReportedAndNotSticky) {
  REQUIRE_CUDA_DEVICE();
  takeLastError();
  CurrentStream current;
  void *stream = mgpuStreamCreate();
  void *module = mgpuModuleLoad(ptxData(), sizeof(kAddPtx));
  ASSERT_NE(module, nullptr) << takeLastError();

  tvc_status_t status;
  EXPECT_EQ(mgpuModuleGetFunction(module, "no_such_kernel"), nullptr);
  std::string message = takeLastError(&status);
  EXPECT_EQ(status, TVC_NOT_FOUND) << message;
  EXPECT_NE(message.find("no_such_kernel"), std::string::npos) << message;

  void *function = mgpuModuleGetFunction(module, kKernelName);
  ASSERT_NE(function, nullptr) << takeLastError();
  AddBuffers buffers(512);
  uint32_t n = 512, spins = 0;
  void *params[] = {&buffers.lhs, &buffers.rhs, &buffers.out, &n, &spins};
  // A zero dimension, then more threads per block than any GPU allows.
  mgpuLaunchKernel(function, 1, 1, 1, 0, 1, 1, 0, stream, params, nullptr, 5);
  message = takeLastError(&status);
  EXPECT_EQ(status, TVC_INVALID_ARGUMENT) << message;
  mgpuLaunchKernel(function, 1, 1, 1, 4096, 1, 1, 0, stream, params, nullptr,
                   5);
  message = takeLastError(&status);
  EXPECT_NE(status, TVC_OK);
  EXPECT_NE(message.find("cuLaunchKernel"), std::string::npos) << message;

  // The context survives: a correct launch still works.
  buffers.launch(function, stream, 0);
  std::vector<float> got(buffers.count, -1.0f);
  mgpuMemcpy(got.data(), buffers.out, buffers.bytes(), stream);
  mgpuStreamSynchronize(stream);
  EXPECT_NO_MGPU_ERROR();
  buffers.expectSums(got);
  mgpuModuleUnload(module);
  EXPECT_NO_MGPU_ERROR();
}

} // namespace
