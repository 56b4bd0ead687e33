//===- OnnxImporter.cpp - ONNX models to generic tvc_onnx IR --------------===//
//
// Protobuf and textual loading, ONNX's version converter and shape
// inference (libonnx; its exceptions are caught here and turned into
// errors), then a node-by-node import into tvc_onnx.node. Problems that do
// not stop the import (unsupported attributes of several nodes) are
// collected and reported together.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxImporter.h"

#include "dialects/onnx/IR/TvcOnnxOps.h"
#include "dialects/tvc/IR/TvcOps.h"
#include "lib/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <onnx/checker.h>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <exception>
#include <set>

using namespace mlir;
using namespace mlir::tvc;

using llvm::Error;
using llvm::Expected;

/// The opset the version converter brings older models to (the newest
/// Debian's libonnx 1.12 knows).
static constexpr int64_t kTargetOpset = 17;

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// Reads a binary or textual model. Protobuf parsing rejects truncated and
/// corrupt files; the textual parser reports its own errors.
static Expected<onnx::ModelProto> loadModel(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/true);
  if (!buffer)
    return makeError(path + ": " + buffer.getError().message());
  onnx::ModelProto model;
  if (path.ends_with(".onnxtext")) {
    // The parser reports most errors by status but some by exception (a
    // number it cannot convert, e.g. "-inf").
    try {
      onnx::OnnxParser parser((*buffer)->getBufferStart());
      auto status = parser.Parse(model);
      if (!status.IsOK())
        return makeError(path + ": " + status.ErrorMessage());
    } catch (const std::exception &e) {
      return makeError(path + ": invalid textual ONNX (" + e.what() + ")");
    }
    return model;
  }
  if ((*buffer)->getBufferSize() > static_cast<size_t>(INT32_MAX))
    return makeError(path + ": protobuf files over 2 GiB are not supported; "
                            "save the weights as external data");
  if (!model.ParseFromArray((*buffer)->getBufferStart(),
                            static_cast<int>((*buffer)->getBufferSize())))
    return makeError(path + ": not a valid ONNX protobuf (truncated or "
                            "corrupt)");
  if (!model.has_graph())
    return makeError(path + ": the model has no graph");
  return model;
}

/// The opset version of the default (ai.onnx) domain.
static int64_t getDefaultOpset(const onnx::ModelProto &model) {
  for (const auto &opset : model.opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      return opset.version();
  return 0;
}

/// True when every name the graph reads is defined before it is read and
/// every initializer has a unique, non-empty name. libonnx's converter and
/// shape inference dereference such names without checking (both crashed
/// on fuzzed models); an invalid graph is still imported, and the importer
/// reports its problems itself.
static bool isWellFormed(const onnx::GraphProto &graph) {
  llvm::StringSet<> defined;
  for (const auto &input : graph.input())
    defined.insert(input.name());
  llvm::StringSet<> initializers;
  for (const auto &init : graph.initializer()) {
    if (init.name().empty() || !initializers.insert(init.name()).second)
      return false;
    defined.insert(init.name());
  }
  for (const auto &node : graph.node()) {
    for (const std::string &name : node.input())
      if (!name.empty() && !defined.contains(name))
        return false;
    for (const std::string &name : node.output())
      if (!name.empty())
        defined.insert(name);
  }
  for (const auto &output : graph.output())
    if (!defined.contains(output.name()))
      return false;
  return true;
}

/// True when every Shape node reads a value whose type is known: ONNX's
/// data propagation dereferences the input type of Shape (it crashed on a
/// Shape of a custom op's output).
static bool canPropagateData(const onnx::ModelProto &model) {
  const onnx::GraphProto &graph = model.graph();
  llvm::StringSet<> typed;
  for (const auto &value : graph.input())
    if (value.has_type())
      typed.insert(value.name());
  for (const auto &value : graph.value_info())
    if (value.has_type())
      typed.insert(value.name());
  for (const auto &init : graph.initializer())
    typed.insert(init.name());
  for (const auto &node : graph.node())
    if (node.op_type() == "Shape" && node.input_size() > 0 &&
        !typed.contains(node.input(0)))
      return false;
  return true;
}

/// Writes the static sizes of --input-shape pins into the graph inputs'
/// declared types, before shape inference, so that the sizes computed from
/// them (Shape -> Gather -> arithmetic in exports with dynamic axes) become
/// static too. Only pins that fit the declared shape (same rank, sizes
/// unknown or equal) are written; the import reports the others.
static void pinInputShapes(onnx::ModelProto &model,
                           const OnnxImportOptions &options) {
  onnx::GraphProto &graph = *model.mutable_graph();
  llvm::StringSet<> initializers;
  for (const auto &init : graph.initializer())
    initializers.insert(init.name());
  for (onnx::ValueInfoProto &input : *graph.mutable_input()) {
    auto it = options.inputShapes.find(input.name());
    if (it == options.inputShapes.end() ||
        initializers.contains(input.name()) || !input.type().has_tensor_type())
      continue;
    const SmallVector<int64_t> &pin = it->second;
    onnx::TypeProto_Tensor &tensor =
        *input.mutable_type()->mutable_tensor_type();
    if (!tensor.has_shape())
      for (size_t i = 0; i < pin.size(); ++i)
        tensor.mutable_shape()->add_dim();
    auto &dims = *tensor.mutable_shape()->mutable_dim();
    if (dims.size() != static_cast<int>(pin.size()))
      continue;
    bool fits = true;
    for (int i = 0; fits && i < dims.size(); ++i)
      fits = !dims[i].has_dim_value() || ShapedType::isDynamic(pin[i]) ||
             dims[i].dim_value() == pin[i];
    if (!fits)
      continue;
    for (int i = 0; i < dims.size(); ++i)
      if (!ShapedType::isDynamic(pin[i]))
        dims[i].set_dim_value(pin[i]);
  }
}

/// Brings an older model to kTargetOpset and infers shapes. A model the
/// converter cannot handle is kept at its own opset.
static Error prepareModel(onnx::ModelProto &model, StringRef path) {
  if (!isWellFormed(model.graph()))
    return Error::success();
  int64_t opset = getDefaultOpset(model);
  if (opset > 0 && opset < kTargetOpset) {
    try {
      // Only models the checker passes are converted (see isWellFormed).
      onnx::checker::check_model(model);
      model = onnx::version_conversion::ConvertVersion(model, kTargetOpset);
    } catch (const std::exception &) {
      // Keep the original: handlers are registered per since-version, so
      // an unconverted model is still understood op by op.
    }
  }
  try {
    // First without data propagation, which needs every Shape input typed.
    onnx::ShapeInferenceOptions plain(/*check_type=*/false, /*error_mode=*/0,
                                      /*enable_data_propagation=*/false);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), plain);
    if (canPropagateData(model)) {
      onnx::ShapeInferenceOptions propagate(/*check_type=*/false,
                                            /*error_mode=*/0,
                                            /*enable_data_propagation=*/true);
      onnx::shape_inference::InferShapes(
          model, onnx::OpSchemaRegistry::Instance(), propagate);
    }
  } catch (const std::exception &e) {
    return makeError(path + ": ONNX shape inference failed: " + e.what());
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Types and tensors
//===----------------------------------------------------------------------===//

/// The MLIR element type of an ONNX TensorProto data type, or null.
static Type getElementType(Builder &builder, int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return builder.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return builder.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return builder.getBF16Type();
  case onnx::TensorProto::DOUBLE:
    return builder.getF64Type();
  case onnx::TensorProto::INT64:
    return builder.getI64Type();
  case onnx::TensorProto::INT32:
    return builder.getI32Type();
  case onnx::TensorProto::INT16:
    return builder.getI16Type();
  case onnx::TensorProto::INT8:
    return builder.getI8Type();
  case onnx::TensorProto::UINT8:
    return builder.getIntegerType(8, /*isSigned=*/false);
  case onnx::TensorProto::BOOL:
    return builder.getI1Type();
  default:
    return {};
  }
}

/// Bytes per element of an ONNX data type as stored in raw_data.
static unsigned getElementBytes(int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
    return 8;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    return 4;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
    return 2;
  default:
    return 1;
  }
}

/// An ONNX type in a few words, for messages: "tensor(UINT16)",
/// "sequence", ...
static std::string describeType(const onnx::TypeProto &type) {
  switch (type.value_case()) {
  case onnx::TypeProto::kTensorType:
    return "tensor(" +
           onnx::TensorProto::DataType_Name(
               static_cast<onnx::TensorProto::DataType>(
                   type.tensor_type().elem_type())) +
           ")";
  case onnx::TypeProto::kSequenceType:
    return "sequence";
  case onnx::TypeProto::kMapType:
    return "map";
  case onnx::TypeProto::kOptionalType:
    return "optional";
  case onnx::TypeProto::kSparseTensorType:
    return "sparse tensor";
  default:
    return "not a tensor";
  }
}

/// A tensor's type: shape from `dims`, with overrides, or unranked when
/// ONNX does not know it.
static Type convertValueType(Builder &builder, const onnx::TypeProto &type,
                             const SmallVector<int64_t> *shapeOverride) {
  if (!type.has_tensor_type())
    return {};
  const auto &tensor = type.tensor_type();
  Type element = getElementType(builder, tensor.elem_type());
  if (!element)
    return {};
  if (shapeOverride)
    return RankedTensorType::get(*shapeOverride, element);
  if (!tensor.has_shape())
    return UnrankedTensorType::get(element);
  SmallVector<int64_t> shape;
  for (const auto &dim : tensor.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, element);
}

/// The little-endian bytes of a TensorProto (raw, typed fields, or external
/// data next to the model), checked against its shape.
static Expected<std::string>
readTensorBytes(const onnx::TensorProto &tensor, StringRef modelDir,
                int64_t numElements,
                std::set<std::string> *externalFiles = nullptr) {
  const std::string &name = tensor.name();
  uint64_t expected = uint64_t(numElements) * getElementBytes(tensor.data_type());
  std::string bytes;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    uint64_t offset = 0, length = UINT64_MAX;
    for (const auto &entry : tensor.external_data()) {
      if (entry.key() == "location")
        location = entry.value();
      else if (entry.key() == "offset" &&
               StringRef(entry.value()).getAsInteger(10, offset))
        return makeError("initializer '" + name + "': bad external offset");
      else if (entry.key() == "length" &&
               StringRef(entry.value()).getAsInteger(10, length))
        return makeError("initializer '" + name + "': bad external length");
    }
    // External data must stay inside the model's directory.
    if (location.empty() || llvm::sys::path::is_absolute(location) ||
        llvm::any_of(llvm::make_range(llvm::sys::path::begin(location),
                                      llvm::sys::path::end(location)),
                     [](StringRef part) { return part == ".."; }))
      return makeError("initializer '" + name +
                       "': external data location '" + location +
                       "' must be a relative path inside the model directory");
    SmallString<256> file(modelDir);
    llvm::sys::path::append(file, location);
    if (externalFiles)
      externalFiles->insert(std::string(file));
    auto buffer = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return makeError("initializer '" + name + "': external data file " +
                       file + ": " + buffer.getError().message());
    uint64_t size = (*buffer)->getBufferSize();
    if (length == UINT64_MAX)
      length = size >= offset ? size - offset : 0;
    if (offset > size || length > size - offset)
      return makeError(llvm::formatv(
          "initializer '{0}': external range [{1}, {1}+{2}) exceeds {3} "
          "({4} bytes)",
          name, offset, length, file, size));
    bytes.assign((*buffer)->getBufferStart() + offset, length);
  } else if (tensor.has_raw_data()) {
    bytes = tensor.raw_data();
  } else {
    // Typed fields: float/int32 (also carries 16- and 8-bit types and
    // bool)/int64/double.
    auto append = [&](const void *data, size_t size) {
      bytes.append(static_cast<const char *>(data), size);
    };
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      for (float value : tensor.float_data())
        append(&value, 4);
      break;
    case onnx::TensorProto::DOUBLE:
      for (double value : tensor.double_data())
        append(&value, 8);
      break;
    case onnx::TensorProto::INT64:
      for (int64_t value : tensor.int64_data())
        append(&value, 8);
      break;
    case onnx::TensorProto::INT32:
      for (int32_t value : tensor.int32_data())
        append(&value, 4);
      break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
    case onnx::TensorProto::INT16:
      for (int32_t value : tensor.int32_data()) {
        uint16_t half = static_cast<uint16_t>(value);
        append(&half, 2);
      }
      break;
    default:
      for (int32_t value : tensor.int32_data()) {
        uint8_t byte = static_cast<uint8_t>(value);
        append(&byte, 1);
      }
      break;
    }
  }
  if (bytes.size() != expected)
    return makeError(llvm::formatv(
        "initializer '{0}' holds {1} bytes, but its shape of {2} elements "
        "needs {3}",
        name, bytes.size(), numElements, expected));
  return bytes;
}

/// The elements of `type` from a TensorProto's little-endian `bytes`
/// (readTensorBytes checked their size). DenseElementsAttr packs i1 eight
/// to a byte, ONNX stores a bool per byte: those are rebuilt one by one.
static DenseElementsAttr getElementsFromBytes(RankedTensorType type,
                                              StringRef bytes) {
  if (!type.getElementType().isInteger(1))
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(bytes.data(), bytes.size()));
  SmallVector<bool> bits;
  for (char byte : bytes)
    bits.push_back(byte != 0);
  return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
}

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

namespace {

class Importer {
public:
  Importer(MLIRContext &context, const onnx::ModelProto &model,
           StringRef modelDir, const OnnxImportOptions &options,
           OnnxImportResult &result)
      : context(context), builder(&context), model(model),
        modelDir(modelDir), options(options), result(result),
        loc(UnknownLoc::get(&context)) {}

  Error run() {
    for (const auto &opset : model.opset_import()) {
      StringRef domain = opset.domain();
      opsets[domain == "ai.onnx" ? "" : domain] = opset.version();
    }
    result.defaultOpset = opsets.lookup("");
    result.module = ModuleOp::create(loc);
    const onnx::GraphProto &graph = model.graph();
    builder.setInsertionPointToEnd(result.module->getBody());

    llvm::StringSet<> initializerNames;
    for (const auto &init : graph.initializer())
      initializerNames.insert(init.name());

    // Signature: graph inputs that are not initializers.
    SmallVector<Type> inputTypes;
    SmallVector<std::string> inputNames;
    for (const auto &input : graph.input()) {
      if (initializerNames.contains(input.name()))
        continue;
      auto it = options.inputShapes.find(input.name());
      const SmallVector<int64_t> *override =
          it == options.inputShapes.end() ? nullptr : &it->second;
      Type type = convertValueType(builder, input.type(), override);
      if (!type)
        problems.push_back("graph input '" + input.name() +
                           "' has an unsupported type (" +
                           describeType(input.type()) + ")");
      // An override may fix dynamic sizes, not change the declared ones.
      if (override && input.type().has_tensor_type() &&
          input.type().tensor_type().has_shape()) {
        const auto &dims = input.type().tensor_type().shape().dim();
        bool fits = dims.size() == static_cast<int>(override->size());
        for (int i = 0; fits && i < dims.size(); ++i)
          fits = !dims[i].has_dim_value() ||
                 ShapedType::isDynamic((*override)[i]) ||
                 dims[i].dim_value() == (*override)[i];
        if (!fits)
          problems.push_back("--input-shape for '" + input.name() +
                             "' disagrees with its declared shape");
      }
      inputTypes.push_back(type ? type : builder.getNoneType());
      inputNames.push_back(input.name());
    }
    for (const auto &[name, shape] : options.inputShapes)
      if (!llvm::is_contained(inputNames, name.str()))
        problems.push_back("--input-shape names '" + name.str() +
                           "', which is not a graph input");
    SmallVector<Type> outputTypes;
    for (const auto &output : graph.output()) {
      Type type = convertValueType(builder, output.type(), nullptr);
      outputTypes.push_back(type ? type : builder.getNoneType());
    }
    if (!problems.empty())
      return reportProblems();

    auto function = func::FuncOp::create(
        builder, loc, "main_graph",
        builder.getFunctionType(inputTypes, outputTypes));
    Block *entry = function.addEntryBlock();
    for (auto [index, name] : llvm::enumerate(inputNames)) {
      function.setArgAttr(index, "tvc.name", builder.getStringAttr(name));
      values[name] = entry->getArgument(index);
    }
    globalInsertionPoint = function;
    builder.setInsertionPointToStart(entry);

    // Types ONNX inferred for intermediate values.
    for (const auto &info : graph.value_info())
      valueTypes[info.name()] = &info.type();
    for (const auto &info : graph.output())
      valueTypes[info.name()] = &info.type();

    for (const auto &init : graph.initializer())
      if (Error error = importInitializer(init))
        problems.push_back(llvm::toString(std::move(error)));
    for (const auto &node : graph.node())
      importNode(node);

    SmallVector<Value> returned;
    for (const auto &output : graph.output()) {
      Value value = values.lookup(output.name());
      if (!value) {
        problems.push_back("graph output '" + output.name() +
                           "' is produced by no node");
        continue;
      }
      returned.push_back(value);
    }
    if (!problems.empty())
      return reportProblems();
    func::ReturnOp::create(builder, loc, returned);
    // Outputs may have been refined: make the signature match the values.
    function.setType(builder.getFunctionType(
        inputTypes, ValueRange(returned).getTypes()));
    if (failed(verify(*result.module)))
      return makeError("the imported module does not verify (see the "
                       "diagnostics above)");
    return Error::success();
  }

private:
  Error reportProblems() {
    std::string message = llvm::formatv("{0} problem(s) in the model:",
                                        problems.size());
    for (const std::string &problem : problems)
      message += "\n  " + problem;
    return makeError(message);
  }

  /// Float initializers become weights; others become constants.
  Error importInitializer(const onnx::TensorProto &init) {
    if (init.name().empty())
      return makeError("an initializer has an empty name");
    if (values.count(init.name()))
      return makeError("initializer '" + init.name() + "' is defined twice");
    Type element = getElementType(builder, init.data_type());
    if (!element)
      return makeError("initializer '" + init.name() +
                       "' has an unsupported data type " +
                       llvm::Twine(init.data_type()));
    SmallVector<int64_t> shape;
    int64_t numElements = 1;
    for (int64_t dim : init.dims()) {
      if (dim < 0 || (dim > 0 && numElements > INT64_MAX / 16 / dim))
        return makeError("initializer '" + init.name() +
                         "' has an invalid shape");
      shape.push_back(dim);
      numElements *= dim;
    }
    Expected<std::string> bytes =
        readTensorBytes(init, modelDir, numElements, &result.externalFiles);
    if (!bytes)
      return bytes.takeError();
    auto type = RankedTensorType::get(shape, element);
    Value value;
    // Scalars are constants, not weights: raising patterns read their value
    // (GELU's 0.5, a softmax scale) from the IR.
    if (isa<FloatType>(element) && numElements > 1) {
      std::string symbol = uniqueSymbol(init.name());
      Attribute stored;
      if (!options.weightsFileName.empty()) {
        auto owned = std::make_unique<std::string>(std::move(*bytes));
        std::optional<DType> dtype = getDTypeForElementType(element);
        result.weights.push_back(
            {init.name(), *dtype, SmallVector<int64_t, 4>(shape.begin(), shape.end()),
             ArrayRef<char>(owned->data(), owned->size())});
        result.weightBytes.push_back(std::move(owned));
        stored = ExternalWeightAttr::get(&context, options.weightsFileName,
                                         init.name());
      } else {
        stored = DenseElementsAttr::getFromRawBuffer(
            type, ArrayRef<char>(bytes->data(), bytes->size()));
      }
      {
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPoint(globalInsertionPoint);
        GlobalOp::create(builder, loc, builder.getStringAttr(symbol),
                         TypeAttr::get(type), stored);
      }
      value = WeightOp::create(builder, loc, type,
                               FlatSymbolRefAttr::get(&context, symbol));
    } else {
      value = arith::ConstantOp::create(builder, loc,
                                        getElementsFromBytes(type, *bytes));
    }
    values[init.name()] = value;
    return Error::success();
  }

  /// A symbol name for initializer `name`, unique in the module.
  std::string uniqueSymbol(StringRef name) {
    std::string symbol = name.empty() ? "weight" : name.str();
    std::string candidate = symbol;
    for (int suffix = 1; !usedSymbols.insert(candidate).second; ++suffix)
      candidate = symbol + "_" + std::to_string(suffix);
    return candidate;
  }

  /// Converts an ONNX attribute; graphs (If/Loop bodies) are unsupported.
  FailureOr<Attribute> convertAttribute(const onnx::AttributeProto &attr) {
    switch (attr.type()) {
    case onnx::AttributeProto::FLOAT:
      return Attribute(builder.getF32FloatAttr(attr.f()));
    case onnx::AttributeProto::INT:
      return Attribute(builder.getI64IntegerAttr(attr.i()));
    case onnx::AttributeProto::STRING:
      return Attribute(builder.getStringAttr(attr.s()));
    case onnx::AttributeProto::FLOATS:
      return Attribute(builder.getF32ArrayAttr(
          SmallVector<float>(attr.floats().begin(), attr.floats().end())));
    case onnx::AttributeProto::INTS:
      return Attribute(builder.getI64ArrayAttr(
          SmallVector<int64_t>(attr.ints().begin(), attr.ints().end())));
    case onnx::AttributeProto::STRINGS: {
      SmallVector<StringRef> strings(attr.strings().begin(),
                                     attr.strings().end());
      return Attribute(builder.getStrArrayAttr(strings));
    }
    case onnx::AttributeProto::TENSOR: {
      const onnx::TensorProto &tensor = attr.t();
      Type element = getElementType(builder, tensor.data_type());
      if (!element)
        return failure();
      SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
      int64_t numElements = 1;
      for (int64_t dim : shape) {
        if (dim < 0 || (dim > 0 && numElements > INT64_MAX / 16 / dim))
          return failure();
        numElements *= dim;
      }
      Expected<std::string> bytes =
          readTensorBytes(tensor, modelDir, numElements);
      if (!bytes) {
        llvm::consumeError(bytes.takeError());
        return failure();
      }
      return Attribute(
          getElementsFromBytes(RankedTensorType::get(shape, element), *bytes));
    }
    default:
      return failure();
    }
  }

  /// One tvc_onnx.node per ONNX node; results typed by shape inference.
  void importNode(const onnx::NodeProto &node) {
    StringRef domain = node.domain();
    if (domain == "ai.onnx")
      domain = "";
    std::string where = llvm::formatv("node '{0}' ({1}, domain '{2}', opset "
                                      "{3})",
                                      node.name(), node.op_type(), domain,
                                      opsets.lookup(domain));
    ++result.nodeCounts[(domain.empty() ? "" : domain.str() + "::") +
                        node.op_type()];
    if (!opsets.count(domain)) {
      problems.push_back(where + ": the model imports no opset for its domain");
      return;
    }
    SmallVector<Value> inputs;
    for (const std::string &name : node.input()) {
      if (name.empty()) {
        inputs.push_back(tvc_onnx::NoneOp::create(builder, loc,
                                                  builder.getNoneType()));
        continue;
      }
      Value value = values.lookup(name);
      if (!value) {
        problems.push_back(where + ": input '" + name +
                           "' is not defined before the node");
        return;
      }
      inputs.push_back(value);
    }
    if (node.op_type().empty()) {
      problems.push_back(where + ": the node has no op type");
      return;
    }
    SmallVector<NamedAttribute> attributes;
    for (const auto &attr : node.attribute()) {
      // MLIR cannot name an attribute "" (it would not parse back).
      if (attr.name().empty()) {
        problems.push_back(where + ": an attribute has an empty name");
        continue;
      }
      if (llvm::any_of(attributes, [&](const NamedAttribute &existing) {
            return existing.getName() == attr.name();
          })) {
        problems.push_back(where + ": attribute '" + attr.name() +
                           "' appears twice");
        continue;
      }
      FailureOr<Attribute> converted = convertAttribute(attr);
      if (failed(converted)) {
        problems.push_back(where + ": attribute '" + attr.name() +
                           "' has an unsupported kind (subgraphs, sparse "
                           "tensors and type protos are not imported)");
        continue;
      }
      attributes.push_back(builder.getNamedAttr(attr.name(), *converted));
    }
    // Outputs without an inferred type (ops newer than libonnx's schemas,
    // custom domains) take the first input's element type, unranked; the
    // raising handler computes the real type.
    Type fallbackElement = builder.getF32Type();
    if (!inputs.empty())
      if (auto shaped = dyn_cast<ShapedType>(inputs.front().getType()))
        fallbackElement = shaped.getElementType();
    SmallVector<Type> resultTypes;
    for (const std::string &name : node.output()) {
      Type type;
      if (const onnx::TypeProto *proto = valueTypes.lookup(name))
        type = convertValueType(builder, *proto, nullptr);
      resultTypes.push_back(type ? type
                                 : UnrankedTensorType::get(fallbackElement));
    }
    auto op = tvc_onnx::NodeOp::create(
        builder, loc, resultTypes, builder.getStringAttr(node.op_type()),
        builder.getStringAttr(domain),
        builder.getI64IntegerAttr(opsets.lookup(domain)),
        builder.getStringAttr(node.name()),
        builder.getDictionaryAttr(attributes), inputs);
    op->setLoc(NameLoc::get(builder.getStringAttr(node.name().empty()
                                                      ? node.op_type()
                                                      : node.name())));
    for (auto [name, value] : llvm::zip(node.output(), op.getResults()))
      if (!name.empty())
        values[name] = value;
  }

  MLIRContext &context;
  OpBuilder builder;
  const onnx::ModelProto &model;
  StringRef modelDir;
  const OnnxImportOptions &options;
  OnnxImportResult &result;
  Location loc;
  llvm::StringMap<int64_t> opsets;
  llvm::StringMap<Value> values;
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
  llvm::StringSet<> usedSymbols;
  Operation *globalInsertionPoint = nullptr;
  std::vector<std::string> problems;
};

} // namespace

Expected<OnnxImportResult>
mlir::tvc::importOnnx(MLIRContext &context, StringRef path,
                      const OnnxImportOptions &options) {
  context.loadDialect<TvcDialect, tvc_onnx::TvcOnnxDialect, func::FuncDialect,
                      arith::ArithDialect>();
  Expected<onnx::ModelProto> model = loadModel(path);
  if (!model)
    return model.takeError();
  pinInputShapes(*model, options);
  if (Error error = prepareModel(*model, path))
    return std::move(error);
  SmallString<256> modelDir(path);
  llvm::sys::path::remove_filename(modelDir);
  if (modelDir.empty())
    modelDir = ".";
  OnnxImportResult result;
  Importer importer(context, *model, modelDir, options, result);
  if (Error error = importer.run())
    return makeError(path + ": " + llvm::toString(std::move(error)));
  return std::move(result);
}
