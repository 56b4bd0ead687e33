//===- WeightStore.h - Reading the weights of a tvc module ------*- C++ -*-===//
//
// The one API through which compiler code reads weight bytes. A weight is a
// `tvc.global`; its bytes are inline (an elements attribute) or in a
// safetensors file named by `#tvc.external`. The store opens each file once
// (memory-mapped), checks that the tensor exists with the declared element
// type and shape, and hands out read-only views. Writers of new weights
// (pruning, merging, packing) create new globals; bytes are never modified
// in place.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_WEIGHTSTORE_H
#define TVC_LIB_SUPPORT_WEIGHTSTORE_H

#include "lib/Support/SafeTensors.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>

namespace mlir::tvc {

/// Read-only bytes of one weight with their layout. `bytes` stays valid as
/// long as the WeightStore (and, for inline weights, the MLIRContext) lives.
struct WeightView {
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  llvm::ArrayRef<char> bytes;
};

/// Maps an MLIR element type to a safetensors dtype; std::nullopt when the
/// type has no safetensors spelling.
std::optional<DType> getDTypeForElementType(Type elementType);

class WeightStore {
public:
  /// Relative file names of #tvc.external are resolved against `baseDir`
  /// (the current directory when empty).
  explicit WeightStore(std::string baseDir = "");
  ~WeightStore();

  /// Reads the bytes of `global`, inline or external, checking them against
  /// the declared type. Errors name the global, file and problem.
  llvm::Expected<WeightView> read(GlobalOp global);

  /// Reads tensor `attr.getKey()` of `attr.getFile()` and checks it against
  /// `type`.
  llvm::Expected<WeightView> readExternal(ExternalWeightAttr attr,
                                          RankedTensorType type);

  /// The opened safetensors file at `file` (resolved against the base
  /// directory), opening it on first use.
  llvm::Expected<SafeTensorsFile *> getFile(llvm::StringRef file);

  /// The path `file` resolves to.
  std::string resolvePath(llvm::StringRef file) const;

private:
  std::string baseDir;
  llvm::StringMap<std::unique_ptr<SafeTensorsFile>> files;
  /// Owned expansions of splat inline weights (kept so views stay valid).
  std::vector<std::unique_ptr<std::vector<char>>> expandedSplats;
};

/// Creates the new weights of a pass that rewrites them (pruning, merging):
/// each becomes a tvc.global with a fresh name at the end of the module.
/// Without a file the bytes go inline, as `dense_resource` blobs owned by the
/// context; with a file they are kept until commit() writes them all to one
/// safetensors file (atomically, never over an input) and the globals name it
/// in `#tvc.external`, so the textual IR of a large model stays small.
class WeightWriter {
public:
  /// `file`: the safetensors file to write, empty for inline weights; a
  /// relative name is written relative to `baseDir` and recorded as given,
  /// like the names the importers record.
  WeightWriter(ModuleOp module, std::string file = "",
               std::string baseDir = "");
  ~WeightWriter();

  /// Adds a global named `name` (made unique in the module) of `type` holding
  /// `bytes`, which must be the type's size in bytes.
  GlobalOp create(llvm::StringRef name, RankedTensorType type,
                  llvm::ArrayRef<char> bytes);

  /// Moves existing `global`, whose value is `bytes` (e.g. an inline
  /// dense_resource), into the file under its own name. Needs a file.
  void moveToFile(GlobalOp global, llvm::ArrayRef<char> bytes);

  /// Writes the file (no-op inline). Call once, after every create().
  llvm::Error commit();

private:
  ModuleOp module;
  std::string file;
  std::string baseDir;
  struct Pending {
    std::string key;
    DType dtype;
    llvm::SmallVector<int64_t, 4> shape;
    std::vector<char> bytes;
  };
  std::vector<Pending> pending;
};

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_WEIGHTSTORE_H
