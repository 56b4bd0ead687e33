//===- WeightsFile.cpp - A model's weights blob at run time ---------------===//
//
// Maps and checks tvc weights files (format in docs/CpuTarget.md).
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
  std::string headerError;
  if (!checkWeightsHeader(fd, path, bytes, headerError)) {
    close(fd);
    error = headerError;
    return false;
  }
  size_t size = static_cast<size_t>(kWeightsFileHeaderBytes + bytes);
  void *mapped = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED) {
    error = "cannot map '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (mapping)
    munmap(mapping, mappingBytes);
  mapping = mapped;
  mappingBytes = size;
  blob = static_cast<char *>(mapped) + kWeightsFileHeaderBytes;
  return true;
}

bool tvc::checkWeightsHeader(int fd, const std::string &path, uint64_t bytes,
                             std::string &error) {
  struct stat info;
  if (fstat(fd, &info) != 0) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  // The magic first: an old file also has another size, and the version is
  // the better message.
  char magic[8] = {};
  ssize_t got = pread(fd, magic, sizeof(magic), 0);
  if (got == static_cast<ssize_t>(sizeof(magic)) &&
      std::memcmp(magic, "TVCWGT01", 8) == 0) {
    error = "'" + path +
            "' was written by an older tvc-compile; compile the model again";
    return false;
  }
  if (got != static_cast<ssize_t>(sizeof(magic)) ||
      std::memcmp(magic, kWeightsFileMagic, 8) != 0) {
    error = "'" + path + "' is not a tvc weights file";
    return false;
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size != kWeightsFileHeaderBytes + bytes) {
    error = "'" + path + "' holds " + std::to_string(size) +
            " bytes; this model needs " +
            std::to_string(kWeightsFileHeaderBytes + bytes) +
            " (a weights file of another model?)";
    return false;
  }
  return true;
}
