//===- Passes.td - tvc conversion passes -------------------*- tablegen -*-===//
//
// Conversions between dialects: importer output to tvc, tvc to the targets.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_CONVERSION_PASSES
#define TVC_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// ONNX
//===----------------------------------------------------------------------===//

def ConvertOnnxToTvc : Pass<"convert-onnx-to-tvc", "::mlir::ModuleOp"> {
  let summary = "Raise generic ONNX nodes to semantic tvc ops";
  let description = [{
    Rewrites `tvc_onnx.node` ops produced by `tvc-import` into tvc ops
    through a table of handlers keyed by `(domain, op_type)` and the opset
    version each handler supports from (the handler with the highest
    since-version not above the node's version wins), as torch-mlir's ONNX
    conversion does. Handlers live in one file per op family
    (`Linear.cpp`, `Normalization.cpp`, `Activations.cpp`, `Attention.cpp`)
    and also raise multi-node forms: GELU exported as
    `x * 0.5 * (1 + erf(x / sqrt 2))`, decomposed layer and RMS norms, and
    scaled dot-product attention written out as Reshape/Transpose/MatMul/
    Softmax, whose mask is read from the graph (constant buffers are read
    through the weight store, relative to `weights-dir`).

    Nodes no handler raises stay generic. With `strict`, any remaining node
    is an error listing every remaining op type, node name, domain and
    opset in one message.

    ```mlir
    %y = tvc_onnx.node "Gemm"(%x, %w, %b) {attrs = {transB = 1 : i64},
        domain = "", version = 17 : i64} : (...) -> tensor<2x8xf32>
    // becomes
    %y = tvc.linear %x, %w bias %b : (...) -> tensor<2x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tvc::TvcDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Fail when any ONNX node remains unconverted">,
    Option<"weightsDir", "weights-dir", "std::string", /*default=*/"\"\"",
           "Directory that relative weight file names are resolved against "
           "(to read constant masks)">,
  ];
}

#endif // TVC_CONVERSION_PASSES
