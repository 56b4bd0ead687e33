//===- CublasLibraryTest.cpp - cuBLAS loaded on first use -----------------===//
//
// Binaries do not link cuBLAS (it cost ~210 MiB of RSS at start-up): the
// CUDA kernels load it the first time they need a handle. Runs without a
// GPU: loading the library needs none.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/CublasLibrary.h"
#include "runtime/kernels/cuda/CublasLt.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <fstream>
#include <string>

namespace {

bool mapped(const char *library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(library) != std::string::npos)
      return true;
  return false;
}

bool cublasMapped() { return mapped("libcublas.so"); }

TEST(CublasLibrary, LoadedOnFirstUseOnly) {
  if (cublasMapped())
    GTEST_SKIP() << "an earlier test of this process loaded cuBLAS";
  const tvc::runtime::cuda::CublasLibrary *library =
      tvc::runtime::cuda::cublasLibrary();
  ASSERT_NE(library, nullptr) << tvc::runtime::cuda::cublasLoadError();
  EXPECT_NE(library->create, nullptr);
  EXPECT_NE(library->destroy, nullptr);
  EXPECT_NE(library->setStream, nullptr);
  EXPECT_NE(library->setWorkspace, nullptr);
  EXPECT_NE(library->gemmEx, nullptr);
  EXPECT_NE(library->gemmStridedBatchedEx, nullptr);
  EXPECT_STREQ(tvc::runtime::cuda::cublasLoadError(), "");
  EXPECT_TRUE(cublasMapped());
  // Loaded once: the same table again.
  EXPECT_EQ(tvc::runtime::cuda::cublasLibrary(), library);
}

/// cuBLASLt (the linear entries' fused epilogues) loads the same way
/// (libcublas needs it, so whether it was mapped before says nothing), with
/// every entry point they call. TVC_CUDA_CUBLASLT=0 would turn it off.
TEST(CublasLibrary, CublasLtResolvesItsEntryPoints) {
  if (const char *setting = std::getenv("TVC_CUDA_CUBLASLT"))
    if (std::string(setting) == "0")
      GTEST_SKIP() << "TVC_CUDA_CUBLASLT=0 turns cuBLASLt off";
  const tvc::runtime::cuda::CublasLtLibrary *library =
      tvc::runtime::cuda::cublasLtLibrary();
  ASSERT_NE(library, nullptr);
  for (void *entry :
       {(void *)library->create, (void *)library->destroy,
        (void *)library->descCreate, (void *)library->descDestroy,
        (void *)library->descSetAttribute, (void *)library->layoutCreate,
        (void *)library->layoutDestroy, (void *)library->preferenceCreate,
        (void *)library->preferenceDestroy,
        (void *)library->preferenceSetAttribute,
        (void *)library->algoGetHeuristic, (void *)library->matmul})
    EXPECT_NE(entry, nullptr);
  EXPECT_TRUE(mapped("libcublasLt.so"));
  EXPECT_EQ(tvc::runtime::cuda::cublasLtLibrary(), library);
}

} // namespace
