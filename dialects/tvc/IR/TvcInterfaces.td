//===- TvcInterfaces.td - tvc attribute interfaces ---------*- tablegen -*-===//
//
// Interfaces that make the dialect open to new attention masks and new
// linear-weight structures without new ops: a pass or kernel asks the
// interface, never a list of concrete kinds.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_INTERFACES
#define TVC_INTERFACES

include "mlir/IR/OpBase.td"

def Tvc_MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::tvc";
  let description = [{
    An attention mask kind. Positions are absolute: with `Tq` queries and
    `Tk` keys, query row `i` sits at position `Tk - Tq + i` (queries are the
    last `Tq` positions of the key sequence), so one definition serves prefill
    (`Tq == Tk`) and decode with a KV cache (`Tq == 1`).

    New kinds (block-sparse, top-k, meta-token, set masks) are new attributes
    implementing this interface; the attention op does not change.
  }];
  let methods = [
    InterfaceMethod<
      "Returns true when the query at absolute position `query` may attend "
      "to the key at absolute position `key` (the reference semantics that "
      "kernels are tested against; data-dependent kinds answer for their "
      "static part).",
      "bool", "isAllowed", (ins "int64_t":$query, "int64_t":$key)>,
    InterfaceMethod<
      "Returns true when no query ever sees a later key.",
      "bool", "isCausal">,
    InterfaceMethod<
      "The largest number of most recent keys any query can see, or "
      "std::nullopt when unbounded. Bounds the KV cache of decode.",
      "std::optional<int64_t>", "getKeySpan">,
  ];
}

def Tvc_LinearStructureAttrInterface
    : AttrInterface<"LinearStructureAttrInterface"> {
  let cppNamespace = "::mlir::tvc";
  let description = [{
    How the weights of a `tvc.linear` represent its matrix: one dense
    `[out, in]` tensor, or factors (low-rank, block-diagonal, N:M values and
    indices, a LoRA side branch, ...). The structure verifies the weight
    operands and tells the output width, so the op stays one op.
  }];
  let methods = [
    InterfaceMethod<
      "Verifies the weight operand types against the input width "
      "`inFeatures` (ShapedType::kDynamic when unknown) and the input's "
      "element type; reports problems through `emitError`.",
      "::llvm::LogicalResult", "verifyWeights",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "::mlir::TypeRange":$weights, "int64_t":$inFeatures,
           "::mlir::Type":$elementType)>,
    InterfaceMethod<
      "The output width given the weight types (ShapedType::kDynamic when "
      "the weights do not tell, e.g. before they are verified).",
      "int64_t", "getOutFeatures", (ins "::mlir::TypeRange":$weights)>,
  ];
  // Lets DefaultValuedAttr take a C++ expression of this interface type.
  let constBuilderCall = "$0";
}

#endif // TVC_INTERFACES
