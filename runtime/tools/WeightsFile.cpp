//===- WeightsFile.cpp - A model's weights blob at run time ---------------===//
//
// Maps and checks tvc weights files.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/WeightsFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tvc;

namespace {
constexpr const char *kWeightsMagic = "TVCWGT01";
constexpr size_t kWeightsHeader = 64;
} // namespace

WeightsBlob::~WeightsBlob() {
  if (mapping)
    munmap(mapping, mappingBytes);
}

bool WeightsBlob::mapFile(const std::string &path, uint64_t bytes,
                          std::string &error, const std::string &openHint) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    error = "cannot open the weights file '" + path +
            "': " + std::strerror(errno) + openHint;
    return false;
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    close(fd);
    return false;
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size != kWeightsHeader + bytes) {
    close(fd);
    error = "'" + path + "' holds " + std::to_string(size) +
            " bytes; this model needs " +
            std::to_string(kWeightsHeader + bytes) +
            " (a weights file of another model?)";
    return false;
  }
  void *mapped = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    error = "cannot map '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (std::memcmp(mapped, kWeightsMagic, 8) != 0) {
    munmap(mapped, size);
    error = "'" + path + "' is not a tvc weights file";
    return false;
  }
  if (mapping)
    munmap(mapping, mappingBytes);
  mapping = mapped;
  mappingBytes = size;
  blob = static_cast<char *>(mapped) + kWeightsHeader;
  return true;
}
