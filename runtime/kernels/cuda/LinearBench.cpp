//===- LinearBench.cpp - Timings of the CUDA linear entries ---------------===//
//
// tvc_cuda_kernel_linear_f32 against the 16-bit weight entries
// (tvc_cuda_kernel_linear_bf16w_f32, _f16w_f32) on one GPU, interleaved, on
// decode shapes (m = 1 and 4: the GEMV path, bound by the weight bytes it
// reads) and prefill shapes (m = 512: the rounded-x cuBLAS path), both weight
// layouts. One timed sample queues one call per weight copy (copies rotate
// over at least 256 MiB, at most 32 of them, so that weights come from
// memory rather than the 50 MiB L2 where the matrix allows) and waits for
// the stream; a call's time is the sample's over the copies, launch cost
// included. Prints per shape the median microseconds of each form, the
// weight bandwidth (weight bytes / time) for decode or TFLOP/s for
// prefill, and f32 time / 16-bit time. Built on request (`ninja
// tvc-cuda-linear-bench`), never by default or by ctest. Usage:
// tvc-cuda-linear-bench [--quick]. Exit status 2 without a device.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_cuda.h"
#include "runtime/kernels/cpu/BenchUtils.h"
#include "runtime/kernels/cuda/BenchDevice.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

namespace {

using tvc::bench::copiesFor;
using tvc::bench::DeviceBuffer;
using tvc::bench::medianMsInterleaved;
using tvc::bench::upload;

/// `count` elements of `bytes` each, made of a cheap pattern (the values do
/// not change the timings; finite in fp32, bf16 and f16 alike).
std::vector<uint8_t> pattern(size_t count, size_t bytes) {
  std::vector<uint8_t> data(count * bytes);
  for (size_t i = 0; i < count; ++i) {
    float value = float(int(i % 97) - 48) / 64.0f;
    if (bytes == 4) {
      std::memcpy(&data[i * 4], &value, 4);
    } else {
      // 0x3c00 is 1.0 in f16, 0x3f80 in bf16; small mantissa noise on top.
      uint16_t bits = uint16_t(0x3800 + i % 251);
      std::memcpy(&data[i * 2], &bits, 2);
    }
  }
  return data;
}

struct Shape {
  const char *name;
  int64_t m, n, k;
};

bool runShape(const Shape &s, bool inOut, bool quick) {
  size_t elements = size_t(s.n) * size_t(s.k);
  // Per form: weight copies of 4 or 2 bytes per element.
  size_t copies32 = copiesFor(elements * 4), copies16 = copiesFor(elements * 2);
  std::vector<uint8_t> w32 = pattern(elements, 4), w16 = pattern(elements, 2);
  std::vector<uint8_t> x = pattern(size_t(s.m) * s.k, 4);
  std::vector<uint8_t> bias = pattern(size_t(s.n), 4);
  DeviceBuffer dx(x.size()), dbias(bias.size()),
      dy(size_t(s.m) * s.n * sizeof(float));
  DeviceBuffer d32(elements * 4 * copies32), d16(elements * 2 * copies16);
  if (!dx.get() || !dbias.get() || !dy.get() || !d32.get() || !d16.get()) {
    std::fprintf(stderr, "%s: cannot allocate device memory\n", s.name);
    return false;
  }
  bool copied = upload(dx, x, 1) && upload(dbias, bias, 1) &&
                upload(d32, w32, copies32) && upload(d16, w16, copies16);
  if (!copied || tvc_cuda_stream_synchronize() != TVC_OK) {
    std::fprintf(stderr, "%s: cannot copy to the device\n", s.name);
    return false;
  }

  int64_t flags = TVC_LINEAR_HAS_BIAS | (inOut ? TVC_LINEAR_WEIGHT_IN_OUT : 0);
  const float *px = static_cast<const float *>(dx.get());
  const float *pbias = static_cast<const float *>(dbias.get());
  float *py = static_cast<float *>(dy.get());
  bool failed = false;
  auto f32 = [&] {
    for (size_t c = 0; c < copies32; ++c) {
      tvc_linear_f32_params_t p = {
          px,    static_cast<const float *>(d32.get()) + c * elements,
          pbias, py,
          s.m,   s.n,
          s.k,   flags};
      failed |= tvc_cuda_kernel_linear_f32(&p) != TVC_OK;
    }
    failed |= tvc_cuda_stream_synchronize() != TVC_OK;
  };
  auto w16Form = [&](auto entry) {
    return [&, entry] {
      for (size_t c = 0; c < copies16; ++c) {
        tvc_linear_w16_f32_params_t p = {
            px,    static_cast<const uint16_t *>(d16.get()) + c * elements,
            pbias, py,
            s.m,   s.n,
            s.k,   flags};
        failed |= entry(&p) != TVC_OK;
      }
      failed |= tvc_cuda_stream_synchronize() != TVC_OK;
    };
  };
  std::vector<double> ms = medianMsInterleaved(
      {f32, w16Form(tvc_cuda_kernel_linear_bf16w_f32),
       w16Form(tvc_cuda_kernel_linear_f16w_f32)},
      /*minRuns=*/quick ? 3 : 7, /*minMs=*/quick ? 60 : 300, /*rotate=*/true,
      /*warmupMs=*/quick ? 20 : 50);
  if (failed) {
    std::fprintf(stderr, "%s: a kernel call failed\n", s.name);
    return false;
  }
  double us[3] = {ms[0] * 1e3 / copies32, ms[1] * 1e3 / copies16,
                  ms[2] * 1e3 / copies16};
  bool decode = s.m <= 8;
  auto rate = [&](double micros, size_t bytesPerWeight) {
    // GB/s of weights for decode, TFLOP/s for prefill.
    return decode ? double(elements * bytesPerWeight) / (micros * 1e3)
                  : 2.0 * s.m * double(elements) / (micros * 1e6);
  };
  std::printf("| %-14s | %6s | %4lld | %6lld | %6lld | %8.1f | %8.1f | %8.1f "
              "| %7.1f | %7.1f | %7.1f | %5.2f | %5.2f |\n",
              s.name, inOut ? "in_out" : "out_in", (long long)s.m,
              (long long)s.n, (long long)s.k, us[0], us[1], us[2],
              rate(us[0], 4), rate(us[1], 2), rate(us[2], 2), us[0] / us[1],
              us[0] / us[2]);
  std::fflush(stdout);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  tvc_cuda_device_info_t info;
  const char *message = nullptr;
  if (tvc_cuda_device_query(0, &info, &message) != TVC_OK) {
    std::fprintf(stderr, "tvc-cuda-linear-bench: no CUDA device: %s\n",
                 message ? message : "");
    return 2;
  }
  const Shape shapes[] = {
      {"gpt2 qkv", 1, 2304, 768},      {"gpt2 proj", 1, 768, 768},
      {"gpt2 fc", 1, 3072, 768},       {"gpt2 fc proj", 1, 768, 3072},
      {"gpt2 lm head", 1, 50257, 768}, {"7b qkv-ish", 1, 4096, 4096},
      {"7b up", 1, 11008, 4096},       {"7b down", 1, 4096, 11008},
      {"7b qkv-ish", 4, 4096, 4096},   {"7b qkv-ish", 8, 4096, 4096},
      {"gpt2 fc", 512, 3072, 768},     {"7b qkv-ish", 512, 4096, 4096},
  };
  std::printf("Decode rates are weight GB/s, prefill (m > 8) TFLOP/s; x is "
              "f32 time / 16-bit time.\n\n");
  std::printf("| shape          | layout |    m |      n |      k |  f32 us | "
              " bf16 us |  f16 us |  f32 r. | bf16 r. |  f16 r. | x bf16 | x "
              "f16 |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
              "\n");
  bool ok = true;
  for (const Shape &shape : shapes)
    for (bool inOut : {false, true})
      ok &= runShape(shape, inOut, quick);
  return ok ? 0 : 1;
}
