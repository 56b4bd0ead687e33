//===- OnnxFuzzer.cpp - libFuzzer target for the ONNX importer ------------===//
//
// Writes arbitrary bytes to `model.onnx` in a private temporary directory
// and imports it with mlir::tvc::importOnnx, as `tvc-import` does: protobuf
// parsing, libonnx's version converter and shape inference, then the
// node-by-node import. The directory also holds a fixed 64-byte
// `weights.bin` so that inputs naming it as external data reach the range
// checks with a real file. The import must fail with an llvm::Error or
// succeed with a module that prints and parses back; a success is repeated
// with the weights going to a safetensors file, whose tensors must be
// exactly as large as their shapes say and serialize into a file that the
// safetensors reader accepts.
//
// To replay a crash with the tool, copy the input to model.onnx beside a
// weights.bin of bytes 0..63 and run `tvc-import model.onnx`.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxImporter.h"
#include "lib/Registration/Registration.h"
#include "lib/Support/SafeTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace mlir;

namespace {

/// The per-process directory and the model path inside it.
struct FuzzFiles {
  llvm::SmallString<128> dir;
  llvm::SmallString<128> model;

  FuzzFiles() {
    if (llvm::sys::fs::createUniqueDirectory("tvc-fuzz-onnx", dir)) {
      std::fprintf(stderr, "tvc-fuzz-onnx: cannot create a temporary "
                           "directory\n");
      std::abort();
    }
    model = dir;
    llvm::sys::path::append(model, "model.onnx");
    llvm::SmallString<128> weights(dir);
    llvm::sys::path::append(weights, "weights.bin");
    std::string bytes;
    for (int i = 0; i < 64; ++i)
      bytes.push_back(static_cast<char>(i));
    write(weights, bytes.data(), bytes.size());
  }

  ~FuzzFiles() {
    // Leaves the directory behind if an input created other files there.
    llvm::sys::fs::remove(model);
    llvm::SmallString<128> weights(dir);
    llvm::sys::path::append(weights, "weights.bin");
    llvm::sys::fs::remove(weights);
    llvm::sys::fs::remove(dir);
  }

  static void write(llvm::StringRef path, const void *data, size_t size) {
    std::FILE *file = std::fopen(path.str().c_str(), "wb");
    if (!file || (size && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
      std::fprintf(stderr, "tvc-fuzz-onnx: cannot write %s\n",
                   path.str().c_str());
      std::abort();
    }
  }
};

const DialectRegistry &getRegistry() {
  static const DialectRegistry *registry = [] {
    auto *result = new DialectRegistry();
    tvc::registerAllDialects(*result);
    return result;
  }();
  return *registry;
}

/// Imports `path` in a fresh context with diagnostics swallowed. Returns
/// whether it succeeded; aborts if a successful import breaks an invariant.
bool importAndCheck(llvm::StringRef path, bool externalWeights) {
  MLIRContext context(getRegistry(), MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler swallow(&context,
                                  [](Diagnostic &) { return success(); });
  tvc::OnnxImportOptions options;
  if (externalWeights)
    options.weightsFileName = "model.weights.safetensors";
  llvm::Expected<tvc::OnnxImportResult> result =
      tvc::importOnnx(context, path, options);
  if (!result) {
    llvm::consumeError(result.takeError());
    return false;
  }

  // The module prints and parses back (what tvc-import writes must be
  // readable by tvc-opt).
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    result->module->print(os);
  }
  if (!parseSourceString<ModuleOp>(text, &context)) {
    std::fprintf(stderr, "tvc-fuzz-onnx: the imported module does not parse "
                         "back:\n%s\n",
                 text.c_str());
    std::abort();
  }
  if (!externalWeights) {
    if (!result->weights.empty())
      std::abort();
    return true;
  }

  // Every weight holds exactly its shape's bytes, and the set serializes
  // into a safetensors file that reads back.
  volatile unsigned sum = 0;
  for (const tvc::TensorToWrite &tensor : result->weights) {
    uint64_t elements = 1;
    for (int64_t dim : tensor.shape) {
      if (dim < 0)
        std::abort();
      elements *= uint64_t(dim);
    }
    if (tensor.bytes.size() != elements * tvc::getDTypeSize(tensor.dtype))
      std::abort();
    for (char byte : tensor.bytes)
      sum += static_cast<unsigned char>(byte);
  }
  (void)sum;
  llvm::Expected<std::string> file = tvc::serializeSafeTensors(result->weights);
  if (!file) {
    std::string message = llvm::toString(file.takeError());
    std::fprintf(stderr, "tvc-fuzz-onnx: the weights do not serialize: %s\n",
                 message.c_str());
    std::abort();
  }
  llvm::Expected<std::unique_ptr<tvc::SafeTensorsFile>> reread =
      tvc::SafeTensorsFile::fromBuffer(
          llvm::MemoryBuffer::getMemBufferCopy(*file, "weights"));
  if (!reread) {
    std::string message = llvm::toString(reread.takeError());
    std::fprintf(stderr, "tvc-fuzz-onnx: the weights do not read back: %s\n",
                 message.c_str());
    std::abort();
  }
  if ((*reread)->getTensors().size() != result->weights.size())
    std::abort();
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FuzzFiles files;
  FuzzFiles::write(files.model, data, size);
  if (importAndCheck(files.model, /*externalWeights=*/false))
    importAndCheck(files.model, /*externalWeights=*/true);
  return 0;
}
