//===- Npy.h - Reading NumPy .npy files --------------------------*- C++
//-*-===//
//
// A bounds-checked reader of NumPy's .npy format (versions 1.0, 2.0, 3.0):
// the magic string, the header length, the header (a Python dict literal
// with 'descr', 'fortran_order' and 'shape') and the row-major data, into a
// HostTensor. Little-endian numeric dtypes of the element types tvc handles
// are accepted; big-endian, Fortran-ordered, structured and object arrays
// are refused with an error naming the file and the problem. No input, however
// malformed, makes it crash or read outside the buffer.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_SUPPORT_NPY_H
#define TVC_LIB_SUPPORT_NPY_H

#include "lib/Support/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mlir::tvc {

/// Whether `bytes` start with the .npy magic string "\x93NUMPY".
bool hasNpyMagic(llvm::StringRef bytes);

/// Parses the .npy file held in `bytes`; `path` names it in errors. The
/// tensor's name is empty; a 0-d array has an empty shape.
llvm::Expected<HostTensor> parseNpy(llvm::StringRef bytes,
                                    llvm::StringRef path);

/// Reads and parses the .npy file at `path`.
llvm::Expected<HostTensor> readNpyFile(llvm::StringRef path);

} // namespace mlir::tvc

#endif // TVC_LIB_SUPPORT_NPY_H
