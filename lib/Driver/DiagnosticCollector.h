//===- DiagnosticCollector.h - Diagnostics into one llvm::Error -*- C++ -*-===//
//
// Drivers run pass pipelines whose failures are reported as diagnostics;
// tools want them as one error message. While alive, a DiagnosticCollector
// captures every diagnostic (with its notes) of a context.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_DIAGNOSTICCOLLECTOR_H
#define TVC_LIB_DRIVER_DIAGNOSTICCOLLECTOR_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::tvc {

class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](Diagnostic &diagnostic) {
          llvm::raw_string_ostream os(messages);
          if (!messages.empty())
            os << "\n";
          os << diagnostic.getLocation() << ": " << diagnostic;
          for (Diagnostic &note : diagnostic.getNotes())
            os << "\n  note: " << note;
          return success();
        }) {}

  /// `what`, followed by the diagnostics seen so far.
  llvm::Error error(const llvm::Twine &what) const {
    return llvm::createStringError(what + (messages.empty() ? "" : ":\n") +
                                   messages);
  }

private:
  std::string messages;
  ScopedDiagnosticHandler handler;
};

/// Appends each remark emitted while it lives to `lines` (a newline
/// between them); other diagnostics go on to the handlers registered
/// before it (a DiagnosticCollector).
class RemarkLines {
public:
  RemarkLines(MLIRContext *context, std::string &lines)
      : handler(context, [&lines](Diagnostic &diagnostic) {
          if (diagnostic.getSeverity() != DiagnosticSeverity::Remark)
            return failure();
          if (!lines.empty())
            lines += "\n";
          lines += diagnostic.str();
          return success();
        }) {}

private:
  ScopedDiagnosticHandler handler;
};

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_DIAGNOSTICCOLLECTOR_H
