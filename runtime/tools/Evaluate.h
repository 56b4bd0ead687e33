//===- Evaluate.h - One graph evaluation of an artifact ---------*- C++ -*-===//
//
// `./model --inputs DIR --outputs DIR [--expected DIR]` and `tvc-run
// libmodel.so --inputs DIR ...`: run an artifact's forward entry point (the
// full graph) once on DIR/input_N.pb (ONNX TensorProto, in graph-input
// order), write output_N.pb for every result and compare with expected
// ones. Needs the ONNX TensorProto library (builds with TVC_ENABLE_ONNX).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_TOOLS_EVALUATE_H
#define TVC_RUNTIME_TOOLS_EVALUATE_H

#include "lib/Support/TensorCompare.h"
#include "runtime/tools/EntryCaller.h"
#include "runtime/tools/Manifest.h"

#include <string>

namespace tvc {

struct EvaluateOptions {
  /// Directory of input_N.pb (required).
  std::string inputsDir;
  /// Directory to write output_N.pb into (created if missing); may be empty.
  std::string outputsDir;
  /// Directory of the expected output_N.pb; may be empty.
  std::string expectedDir;
  mlir::tvc::CompareTolerance tolerance;
  /// Where the artifact wants its buffers (a CUDA artifact: the device;
  /// `weights` is then device memory).
  MemorySpace space = MemorySpace::Host;
  /// The artifact's kernel failures (EntryCaller::prepare): null for the
  /// runtime linked into this program, a library's tvc_model_kernel_error.
  KernelErrorQuery kernelErrors = nullptr;
};

enum class EvaluateStatus { Ok, Mismatch, Error };

/// Runs `forward` (the manifest's forward entry) with `weights` once.
/// Prints one "output_N: ..." line per result to stdout when comparing, or
/// each result's type and shape when neither outputs nor expected are
/// given. On Error, `error` says why (a runtime kernel that failed in the
/// call among the reasons; then no output is written or compared).
EvaluateStatus evaluateForward(EntryFunction forward, const Manifest &manifest,
                               const void *weights,
                               const EvaluateOptions &options,
                               std::string &error);

} // namespace tvc

#endif // TVC_RUNTIME_TOOLS_EVALUATE_H
