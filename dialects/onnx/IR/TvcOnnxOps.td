//===- TvcOnnxOps.td - generic ONNX nodes ------------------*- tablegen -*-===//
//
// The `tvc_onnx` dialect holds ONNX nodes exactly as the importer read them
// (op type, domain, opset version, attributes), before
// `convert-onnx-to-tvc` raises them to tvc ops. Nothing else consumes it:
// after conversion no tvc_onnx op remains.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_ONNX_OPS
#define TVC_ONNX_OPS

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def TvcOnnx_Dialect : Dialect {
  let name = "tvc_onnx";
  let cppNamespace = "::mlir::tvc_onnx";
  let summary = "ONNX nodes in generic form, before raising to tvc";
  let description = [{
    One op, `tvc_onnx.node`, records an ONNX node verbatim so that the
    conversion to tvc can dispatch on `(domain, op_type, version)` through a
    handler table, as torch-mlir's `torch.operator` does. `tvc_onnx.none`
    stands for an omitted optional input.
  }];
}

class TvcOnnx_Op<string mnemonic, list<Trait> traits = []>
    : Op<TvcOnnx_Dialect, mnemonic, traits>;

def TvcOnnx_NodeOp : TvcOnnx_Op<"node", [Pure]> {
  let summary = "an ONNX node, verbatim";
  let description = [{
    `op_type` and `domain` name the ONNX operator, `version` is the opset
    version of that domain the model imports, `attrs` holds the node's
    attributes (ints as i64, floats as f32, strings, tensors as elements,
    lists as arrays) and `node_name` its name for diagnostics.

    Example:

    ```mlir
    %y = tvc_onnx.node "Gemm"(%x, %w, %b) {attrs = {transB = 1 : i64},
        domain = "", node_name = "/fc/Gemm", version = 17 : i64}
        : (tensor<1x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    ```
  }];
  let arguments = (ins StrAttr:$op_type, StrAttr:$domain, I64Attr:$version,
                       DefaultValuedStrAttr<StrAttr, "">:$node_name,
                       DictionaryAttr:$attrs, Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyType>:$outputs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs)
  }];
}

def TvcOnnx_NoneOp : TvcOnnx_Op<"none", [Pure]> {
  let summary = "an omitted optional input";
  let description = [{
    Example: `%none = tvc_onnx.none : none`
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

#endif // TVC_ONNX_OPS
