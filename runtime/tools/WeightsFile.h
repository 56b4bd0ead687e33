//===- WeightsFile.h - A model's weights blob at run time -------*- C++ -*-===//
//
// The weights of a tvc artifact come from one of two places: the artifact
// itself (`tvc-compile --embed-weights`: the symbol `tvc_model_weights`)
// or a tvc weights file mapped read-only (docs/CpuTarget.md gives the
// format: "TVCWGT02", the blob size, zero padding to 4096 bytes, the blob;
// the offload executor, runtime/api/tvc_offload.h, maps the same files).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_TOOLS_WEIGHTSFILE_H
#define TVC_RUNTIME_TOOLS_WEIGHTSFILE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace tvc {

/// The magic of the current weights file format and the header size (the
/// blob starts at this file offset, page aligned).
constexpr const char *kWeightsFileMagic = "TVCWGT02";
constexpr uint64_t kWeightsFileHeaderBytes = 4096;

/// Checks the header and size of the open weights file `fd` (named `path` in
/// messages) for a blob of `bytes`; a file of the older 64-byte-header
/// format ("TVCWGT01") is named as such.
bool checkWeightsHeader(int fd, const std::string &path, uint64_t bytes,
                        std::string &error);

class WeightsBlob {
public:
  WeightsBlob() = default;
  WeightsBlob(const WeightsBlob &) = delete;
  WeightsBlob &operator=(const WeightsBlob &) = delete;
  ~WeightsBlob();

  /// Uses weights that are part of the artifact.
  void useEmbedded(const void *data) { blob = data; }
  /// Maps the weights file `path`, which must hold a blob of `bytes`.
  /// `openHint` is appended to the message when the file cannot be opened.
  bool mapFile(const std::string &path, uint64_t bytes, std::string &error,
               const std::string &openHint = "");
  /// The blob (null before one of the above).
  const void *data() const { return blob; }

private:
  const void *blob = nullptr;
  void *mapping = nullptr;
  size_t mappingBytes = 0;
};

} // namespace tvc

#endif // TVC_RUNTIME_TOOLS_WEIGHTSFILE_H
