//===- Evaluate.cpp - One graph evaluation of an artifact -----------------===//
//
// Reads the inputs, checks them against the manifest, calls the forward
// entry point through EntryCaller and writes or compares the results.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/Evaluate.h"

#include "frontends/onnx/TensorProtoFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

using namespace tvc;
using mlir::tvc::HostTensor;

namespace {

std::string join(const std::string &dir, const std::string &name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

/// mkdir -p.
bool createDirectories(const std::string &path, std::string &error) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0777) != 0 &&
        errno != EEXIST) {
      error = "cannot create '" + prefix + "': " + std::strerror(errno);
      return false;
    }
    if (slash == std::string::npos)
      return true;
  }
}

} // namespace

EvaluateStatus tvc::evaluateForward(EntryFunction forward,
                                    const Manifest &manifest,
                                    const void *weights,
                                    const EvaluateOptions &options,
                                    std::string &error) {
  const ManifestEntry *entry = manifest.find("forward");
  if (!entry || !forward) {
    error = "this model has no forward entry point";
    return EvaluateStatus::Error;
  }
  std::vector<HostTensor> inputs(entry->inputs.size());
  std::vector<TensorRef> references(entry->inputs.size());
  for (size_t index = 0; index < inputs.size(); ++index) {
    std::string path =
        join(options.inputsDir, "input_" + std::to_string(index) + ".pb");
    if (!mlir::tvc::readTensorProtoFile(path, inputs[index], error)) {
      error += " (input #" + std::to_string(index) + " '" +
               entry->inputs[index].name + "')";
      return EvaluateStatus::Error;
    }
    if (!checkInput(*entry, index, inputs[index].elementType,
                    inputs[index].shape, error))
      return EvaluateStatus::Error;
    references[index] = {inputs[index].bytes.data(),
                         inputs[index].shape.data()};
  }

  EntryCaller caller;
  caller.prepare(forward, *entry, weights, manifest.weightsBytes, options.space,
                 options.kernelErrors);
  // A failed kernel left its output unwritten: nothing to compare or write.
  if (!caller.call(references.data(), error))
    return EvaluateStatus::Error;

  std::vector<HostTensor> outputs;
  for (const ResultView &view : caller.results()) {
    HostTensor output;
    output.name = "output_" + std::to_string(outputs.size());
    output.elementType = view.elementType;
    output.shape = view.shape;
    output.bytes.assign(view.data, view.data + view.bytes);
    outputs.push_back(std::move(output));
  }
  caller.release();

  bool mismatch = false;
  if (!options.expectedDir.empty()) {
    for (size_t index = 0; index < outputs.size(); ++index) {
      std::string name = "output_" + std::to_string(index);
      HostTensor expected;
      if (!mlir::tvc::readTensorProtoFile(
              join(options.expectedDir, name + ".pb"), expected, error))
        return EvaluateStatus::Error;
      mlir::tvc::ComparisonResult result = mlir::tvc::compareTensors(
          outputs[index], expected, options.tolerance);
      std::printf("%s: %s\n", name.c_str(), result.message.c_str());
      mismatch |= !result.ok;
    }
  }
  if (options.outputsDir.empty() && options.expectedDir.empty())
    for (const HostTensor &output : outputs)
      std::printf("%s: %s [%s]\n", output.name.c_str(),
                  mlir::tvc::getElementTypeName(output.elementType),
                  mlir::tvc::formatShape(output.shape).c_str());
  std::fflush(stdout);
  if (!options.outputsDir.empty()) {
    if (!createDirectories(options.outputsDir, error))
      return EvaluateStatus::Error;
    for (const HostTensor &output : outputs)
      if (!mlir::tvc::writeTensorProtoFile(
              join(options.outputsDir, output.name + ".pb"), output, error))
        return EvaluateStatus::Error;
  }
  return mismatch ? EvaluateStatus::Mismatch : EvaluateStatus::Ok;
}
