//===- StructuredLinearBench.cpp - Timings of the CUDA structured linears -===//
//
// The CUDA block-diagonal and 2:4 entries against tvc_cuda_kernel_linear_f32
// on the dense matrix of the same map, interleaved, on one GPU: decode rows
// (m = 1 and 8: the 2:4 GEMV, bound by the weight bytes) and prefill rows
// (m = 512: the 2:4 expansion + cuBLAS; the block-diagonal entry is one
// batched GEMM at every m). As in tvc-cuda-linear-bench, one timed sample
// queues one call per weight copy (copies rotate over at least 256 MiB, at
// most 32 of them, so that weights come from memory rather than L2) and waits
// for the stream. Prints per shape the median microseconds of both forms,
// the structured form's weight bandwidth (decode) or dense-equivalent
// TFLOP/s (prefill), and dense time / structured time. Built on request
// (`ninja tvc-cuda-structured-bench`). Usage: tvc-cuda-structured-bench
// [--quick]. Exit status 2 without a device.
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

/// `count` floats of a cheap pattern, as bytes.
std::vector<uint8_t> floats(size_t count) {
  std::vector<uint8_t> data(count * sizeof(float));
  for (size_t i = 0; i < count; ++i) {
    float value = float(int(i % 97) - 48) / 64.0f;
    std::memcpy(&data[i * sizeof(float)], &value, sizeof(float));
  }
  return data;
}

/// One benchmarked map: the dense form is y[m,n] = x[m,k] W^T with W
/// [n,k]; `blocks` > 0 makes the structured form block-diagonal with that
/// many blocks, 0 makes it 2:4 sparse.
struct Shape {
  const char *name;
  int64_t m, n, k;
  int64_t blocks;
};

bool runShape(const Shape &s, bool quick) {
  size_t denseElements = size_t(s.n) * size_t(s.k);
  // The structured form's weights: the blocks, or values + index bytes.
  size_t structuredBytes =
      s.blocks ? denseElements / size_t(s.blocks) * sizeof(float)
               : denseElements / 2 * sizeof(float) +
                     size_t(s.n) * size_t((s.k + 7) / 8);
  std::vector<uint8_t> dense = floats(denseElements);
  // The blocks; or the values, then index bytes 0x1b (positions 3 and 2 in
  // every group: any byte is a valid pair).
  std::vector<uint8_t> structured =
      floats(s.blocks ? structuredBytes / sizeof(float) : denseElements / 2);
  structured.resize(structuredBytes, 0x1b);
  size_t denseCopies = copiesFor(dense.size());
  size_t structuredCopies = copiesFor(structured.size());
  std::vector<uint8_t> x = floats(size_t(s.m) * size_t(s.k));
  std::vector<uint8_t> bias = floats(size_t(s.n));
  DeviceBuffer dx(x.size()), dbias(bias.size()),
      dy(size_t(s.m) * size_t(s.n) * sizeof(float));
  DeviceBuffer dDense(dense.size() * denseCopies),
      dStructured(structured.size() * structuredCopies);
  if (!dx.get() || !dbias.get() || !dy.get() || !upload(dx, x, 1) ||
      !upload(dbias, bias, 1) || !upload(dDense, dense, denseCopies) ||
      !upload(dStructured, structured, structuredCopies) ||
      tvc_cuda_stream_synchronize() != TVC_OK) {
    std::fprintf(stderr, "%s: cannot allocate or fill device memory\n", s.name);
    return false;
  }

  const float *px = dx.as<const float>(), *pbias = dbias.as<const float>();
  float *py = dy.as<float>();
  bool failed = false;
  auto denseForm = [&] {
    for (size_t c = 0; c < denseCopies; ++c) {
      tvc_linear_f32_params_t p = {
          px,    dDense.as<const float>(c * dense.size()),
          pbias, py,
          s.m,   s.n,
          s.k,   TVC_LINEAR_HAS_BIAS};
      failed |= tvc_cuda_kernel_linear_f32(&p) != TVC_OK;
    }
    failed |= tvc_cuda_stream_synchronize() != TVC_OK;
  };
  auto structuredForm = [&] {
    for (size_t c = 0; c < structuredCopies; ++c) {
      size_t offset = c * structured.size();
      if (s.blocks) {
        tvc_block_diagonal_f32_params_t p = {
            px,
            dStructured.as<const float>(offset),
            pbias,
            py,
            s.m,
            s.blocks,
            s.n / s.blocks,
            s.k / s.blocks,
            TVC_LINEAR_HAS_BIAS};
        failed |= tvc_cuda_kernel_block_diagonal_f32(&p) != TVC_OK;
      } else {
        tvc_linear_2to4_f32_params_t p = {
            px,
            dStructured.as<const float>(offset),
            dStructured.as<const uint8_t>(offset +
                                          denseElements / 2 * sizeof(float)),
            pbias,
            py,
            s.m,
            s.n,
            s.k,
            TVC_LINEAR_HAS_BIAS};
        failed |= tvc_cuda_kernel_linear_2to4_f32(&p) != TVC_OK;
      }
    }
    failed |= tvc_cuda_stream_synchronize() != TVC_OK;
  };
  std::vector<double> ms = medianMsInterleaved(
      {denseForm, structuredForm}, /*minRuns=*/quick ? 3 : 7,
      /*minMs=*/quick ? 60 : 300, /*rotate=*/true,
      /*warmupMs=*/quick ? 20 : 50);
  if (failed) {
    std::fprintf(stderr, "%s: a kernel call failed\n", s.name);
    return false;
  }
  double denseUs = ms[0] * 1e3 / denseCopies;
  double structuredUs = ms[1] * 1e3 / structuredCopies;
  bool decode = s.m <= 8;
  // GB/s of the structured weights for decode, dense-equivalent TFLOP/s for
  // prefill.
  double rate =
      decode ? double(structuredBytes) / (structuredUs * 1e3)
             : 2.0 * double(s.m) * double(denseElements) / (structuredUs * 1e6);
  std::printf("| %-16s | %-5s | %4lld | %6lld | %6lld | %9.1f | %9.1f | %7.1f "
              "| %5.2f |\n",
              s.name, s.blocks ? "block" : "2:4", (long long)s.m,
              (long long)s.n, (long long)s.k, denseUs, structuredUs, rate,
              denseUs / structuredUs);
  std::fflush(stdout);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  tvc_cuda_device_info_t info;
  const char *message = nullptr;
  if (tvc_cuda_device_query(0, &info, &message) != TVC_OK) {
    std::fprintf(stderr, "tvc-cuda-structured-bench: no CUDA device: %s\n",
                 message ? message : "");
    return 2;
  }
  const Shape shapes[] = {
      {"gpt2 fc", 1, 3072, 768, 0},
      {"7b up", 1, 11008, 4096, 0},
      {"7b down", 1, 4096, 11008, 0},
      {"7b up", 8, 11008, 4096, 0},
      {"gpt2 fc", 512, 3072, 768, 0},
      {"7b up", 512, 11008, 4096, 0},
      {"4096 / 4 blocks", 1, 4096, 4096, 4},
      {"4096 / 16 blocks", 1, 4096, 4096, 16},
      {"4096 / 4 blocks", 8, 4096, 4096, 4},
      {"4096 / 4 blocks", 512, 4096, 4096, 4},
      {"4096 / 16 blocks", 512, 4096, 4096, 16},
  };
  std::printf("Structured entries against the fp32 dense linear of the same "
              "map. Rate: structured weight GB/s (m <= 8) or dense-equivalent "
              "TFLOP/s; x is dense time / structured time.\n\n");
  std::printf("| shape            | form  |    m |      n |      k |  dense us "
              "| struct us |    rate |     x |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  bool ok = true;
  for (const Shape &shape : shapes)
    ok &= runShape(shape, quick);
  return ok ? 0 : 1;
}
