//===- WeightStore.cpp - Reading the weights of a tvc module --------------===//
//
// Resolves tvc.global values (inline elements or #tvc.external references to
// safetensors files) to checked, read-only byte views.
//
//===----------------------------------------------------------------------===//

#include "lib/Support/WeightStore.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tvc;

std::optional<DType> mlir::tvc::getDTypeForElementType(Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (type.isF64())
    return DType::F64;
  if (isa<Float8E4M3FNType>(type))
    return DType::F8E4M3;
  if (isa<Float8E5M2Type>(type))
    return DType::F8E5M2;
  if (type.isInteger(1))
    return DType::Bool;
  if (type.isSignlessInteger(8) || type.isSignedInteger(8))
    return DType::I8;
  if (type.isUnsignedInteger(8))
    return DType::U8;
  if (type.isSignlessInteger(16) || type.isSignedInteger(16))
    return DType::I16;
  if (type.isUnsignedInteger(16))
    return DType::U16;
  if (type.isSignlessInteger(32) || type.isSignedInteger(32))
    return DType::I32;
  if (type.isUnsignedInteger(32))
    return DType::U32;
  if (type.isSignlessInteger(64) || type.isSignedInteger(64))
    return DType::I64;
  if (type.isUnsignedInteger(64))
    return DType::U64;
  return std::nullopt;
}

WeightStore::WeightStore(std::string baseDir) : baseDir(std::move(baseDir)) {}
WeightStore::~WeightStore() = default;

std::string WeightStore::resolvePath(StringRef file) const {
  if (baseDir.empty() || llvm::sys::path::is_absolute(file))
    return file.str();
  SmallString<256> path(baseDir);
  llvm::sys::path::append(path, file);
  return std::string(path);
}

llvm::Expected<SafeTensorsFile *> WeightStore::getFile(StringRef file) {
  std::string path = resolvePath(file);
  auto it = files.find(path);
  if (it != files.end())
    return it->second.get();
  auto opened = SafeTensorsFile::open(path);
  if (!opened)
    return opened.takeError();
  SafeTensorsFile *result = opened->get();
  files[path] = std::move(*opened);
  return result;
}

/// Checks a stored tensor against the declared type.
static llvm::Error checkLayout(StringRef what, DType dtype,
                               ArrayRef<int64_t> shape, RankedTensorType type) {
  std::optional<DType> expected = getDTypeForElementType(type.getElementType());
  if (!expected)
    return llvm::createStringError(
        llvm::formatv("{0}: element type has no safetensors dtype", what));
  if (*expected != dtype)
    return llvm::createStringError(
        llvm::formatv("{0}: stored as {1}, declared as {2}", what,
                      getDTypeName(dtype), getDTypeName(*expected)));
  if (type.getShape() != shape) {
    std::string stored, declared;
    llvm::raw_string_ostream storedOs(stored), declaredOs(declared);
    llvm::interleave(shape, storedOs, "x");
    llvm::interleave(type.getShape(), declaredOs, "x");
    return llvm::createStringError(
        llvm::formatv("{0}: stored with shape [{1}], declared as [{2}]", what,
                      stored, declared));
  }
  return llvm::Error::success();
}

llvm::Expected<WeightView> WeightStore::readExternal(ExternalWeightAttr attr,
                                                     RankedTensorType type) {
  auto file = getFile(attr.getFile());
  if (!file)
    return file.takeError();
  const TensorInfo *info = (*file)->lookup(attr.getKey());
  if (!info)
    return llvm::createStringError(llvm::formatv(
        "{0}: no tensor named '{1}'", (*file)->getPath(), attr.getKey()));
  std::string what =
      llvm::formatv("{0}: tensor '{1}'", (*file)->getPath(), attr.getKey());
  if (llvm::Error error = checkLayout(what, info->dtype, info->shape, type))
    return std::move(error);
  return WeightView{info->dtype, info->shape, (*file)->getData(*info)};
}

llvm::Expected<WeightView> WeightStore::read(GlobalOp global) {
  RankedTensorType type = global.getTensorType();
  std::string name = ("@" + global.getSymName()).str();
  if (auto external = dyn_cast<ExternalWeightAttr>(global.getValue())) {
    auto view = readExternal(external, type);
    if (!view)
      return llvm::createStringError(
          llvm::formatv("{0}: {1}", name, llvm::toString(view.takeError())));
    return view;
  }

  if (auto rows = dyn_cast<RowsWeightAttr>(global.getValue())) {
    // The verifier checked the source and the shapes.
    auto source = SymbolTable::lookupNearestSymbolFrom<GlobalOp>(
        global, rows.getSource());
    if (!source || source == global ||
        isa<RowsWeightAttr>(source.getValue()))
      return llvm::createStringError(
          llvm::formatv("{0}: no source global for its rows", name));
    auto whole = read(source);
    if (!whole)
      return whole.takeError();
    uint64_t rowBytes =
        whole->bytes.size() / std::max<int64_t>(1, whole->shape[0]);
    uint64_t begin = static_cast<uint64_t>(rows.getStart()) * rowBytes;
    uint64_t length = static_cast<uint64_t>(type.getDimSize(0)) * rowBytes;
    if (begin + length > whole->bytes.size())
      return llvm::createStringError(
          llvm::formatv("{0}: rows past the end of its source", name));
    return WeightView{whole->dtype, SmallVector<int64_t, 4>(type.getShape()),
                      whole->bytes.slice(begin, length)};
  }

  std::optional<DType> dtype = getDTypeForElementType(type.getElementType());
  if (!dtype)
    return llvm::createStringError(
        llvm::formatv("{0}: element type has no safetensors dtype", name));
  size_t elementSize = getDTypeSize(*dtype);
  size_t totalBytes = elementSize * type.getNumElements();

  if (auto resource = dyn_cast<DenseResourceElementsAttr>(global.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return llvm::createStringError(
          llvm::formatv("{0}: resource '{1}' has no data", name,
                        resource.getRawHandle().getKey()));
    ArrayRef<char> data = blob->getData();
    if (data.size() != totalBytes)
      return llvm::createStringError(
          llvm::formatv("{0}: resource holds {1} bytes, the type needs {2}",
                        name, data.size(), totalBytes));
    return WeightView{*dtype, SmallVector<int64_t, 4>(type.getShape()), data};
  }

  if (auto dense = dyn_cast<DenseElementsAttr>(global.getValue())) {
    // i1 is bit-packed in DenseElementsAttr: not a byte layout we can view.
    if (*dtype == DType::Bool)
      return llvm::createStringError(
          llvm::formatv("{0}: inline i1 weights are not supported", name));
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      auto expanded = std::make_unique<std::vector<char>>(totalBytes);
      for (size_t offset = 0; offset < totalBytes; offset += elementSize)
        std::copy(raw.begin(), raw.begin() + elementSize,
                  expanded->begin() + offset);
      raw = ArrayRef<char>(expanded->data(), expanded->size());
      expandedSplats.push_back(std::move(expanded));
    }
    return WeightView{*dtype, SmallVector<int64_t, 4>(type.getShape()), raw};
  }

  return llvm::createStringError(
      llvm::formatv("{0}: unsupported weight value kind", name));
}

//===----------------------------------------------------------------------===//
// WeightWriter
//===----------------------------------------------------------------------===//

WeightWriter::WeightWriter(ModuleOp module, std::string file,
                           std::string baseDir)
    : module(module), file(std::move(file)), baseDir(std::move(baseDir)) {}

WeightWriter::~WeightWriter() = default;

GlobalOp WeightWriter::create(StringRef name, RankedTensorType type,
                              ArrayRef<char> bytes) {
  // A unique symbol: the name itself, else the name with a counter.
  std::string unique = name.str();
  for (int suffix = 1; module.lookupSymbol(unique); ++suffix)
    unique = (name + "_" + llvm::Twine(suffix)).str();
  Attribute value;
  if (file.empty()) {
    value = DenseResourceElementsAttr::get(
        type, unique,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(double)));
  } else {
    std::optional<DType> dtype = getDTypeForElementType(type.getElementType());
    // Callers create float and integer weights only, which all have one.
    assert(dtype && "weight element type without a safetensors dtype");
    pending.push_back({unique, *dtype, SmallVector<int64_t, 4>(type.getShape()),
                       std::vector<char>(bytes.begin(), bytes.end())});
    value = ExternalWeightAttr::get(module.getContext(), file, unique);
  }
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  return GlobalOp::create(builder, module.getLoc(), unique, type, value);
}

void WeightWriter::moveToFile(GlobalOp global, ArrayRef<char> bytes) {
  assert(!file.empty() && "moveToFile needs a weights file");
  RankedTensorType type = global.getTensorType();
  std::optional<DType> dtype = getDTypeForElementType(type.getElementType());
  assert(dtype && "weight element type without a safetensors dtype");
  std::string key = global.getSymName().str();
  pending.push_back({key, *dtype, SmallVector<int64_t, 4>(type.getShape()),
                     std::vector<char>(bytes.begin(), bytes.end())});
  global.setValueAttr(ExternalWeightAttr::get(module.getContext(), file, key));
}

llvm::Error WeightWriter::commit() {
  if (file.empty() || pending.empty())
    return llvm::Error::success();
  std::vector<TensorToWrite> tensors;
  tensors.reserve(pending.size());
  for (const Pending &tensor : pending)
    tensors.push_back(
        {tensor.key, tensor.dtype, tensor.shape,
         ArrayRef<char>(tensor.bytes.data(), tensor.bytes.size())});
  std::string path;
  if (baseDir.empty() || llvm::sys::path::is_absolute(file)) {
    path = file;
  } else {
    SmallString<256> joined(baseDir);
    llvm::sys::path::append(joined, file);
    path = std::string(joined);
  }
  // Never over an input: refuse a file that the module's other weights
  // are read from.
  llvm::StringSet<> written;
  for (const Pending &tensor : pending)
    written.insert(tensor.key);
  for (GlobalOp global : module.getOps<GlobalOp>()) {
    auto external = dyn_cast<ExternalWeightAttr>(global.getValue());
    if (!external || written.contains(global.getSymName()))
      continue;
    std::string read = external.getFile().str();
    if (!baseDir.empty() && !llvm::sys::path::is_absolute(read)) {
      SmallString<256> joined(baseDir);
      llvm::sys::path::append(joined, read);
      read = std::string(joined);
    }
    if (read == path || llvm::sys::fs::equivalent(read, path))
      return llvm::createStringError(llvm::formatv(
          "refusing to write new weights to '{0}': @{1} is read from it", path,
          global.getSymName()));
  }
  return writeSafeTensors(path, tensors, {{"format", "pt"}});
}
