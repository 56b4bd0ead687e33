//===- CublasLibraryTest.cpp - cuBLAS loaded on first use -----------------===//
//
// Binaries do not link cuBLAS (it cost ~210 MiB of RSS at start-up): the
// CUDA kernels load it the first time they need a handle. Runs without a
// GPU: loading the library needs none.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cuda/CublasLibrary.h"

#include "gtest/gtest.h"

#include <fstream>
#include <string>

namespace {

bool cublasMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("libcublas.so") != std::string::npos)
      return true;
  return false;
}

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

} // namespace
