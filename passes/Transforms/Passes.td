//===- Passes.td - tvc transformation and analysis passes ---*- tablegen -*-===//
//
// Every tvc pass is declared here with its summary, description, options and
// dependent dialects; the C++ skeletons are generated (GEN_PASS_DEF_*).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_TRANSFORMS_PASSES
#define TVC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def TvcCheckWeights : Pass<"tvc-check-weights", "::mlir::ModuleOp"> {
  let summary = "Check that every weight's bytes exist and match its type";
  let description = [{
    Opens every safetensors file named by a `#tvc.external` weight (through
    the weight store, once per file) and checks that each referenced tensor
    exists with the global's element type and shape; inline weights are
    checked for a readable byte layout. Fails with one error per bad global.
    It changes nothing, so it is the first step of every pipeline that will
    read weights and a quick check before a long compile.

    Relative file names are resolved against `base-dir` (default: the
    current directory).

    ```mlir
    tvc.global @wte : tensor<256x64xf32> = #tvc.external<"m.safetensors", "wte">
    // error if m.safetensors lacks "wte" or stores it as f16 or 256x32.
    ```
  }];
  let options = [
    Option<"baseDir", "base-dir", "std::string", /*default=*/"\"\"",
           "Directory that relative weight file names are resolved against">,
  ];
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def TvcInlineLayers : Pass<"tvc-inline-layers", "::mlir::ModuleOp"> {
  let summary = "Replace each tvc.layer by the ops of its body";
  let description = [{
    Layer-level decisions (drop, attention span, offload placement) are
    made while layers are regions; lowering wants one flat schedule. This
    pass moves each layer's body into the enclosing block, binds the body's
    arguments to the layer's inputs and its yielded values to the layer's
    results. Run it after every pass that reads layers.

    ```mlir
    %h1 = tvc.layer 0 (%h0) : (tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
    ^bb0(%x: tensor<1x8x64xf32>):
      %y = tvc.gelu %x : tensor<1x8x64xf32>
      tvc.yield %y : tensor<1x8x64xf32>
    }
    // becomes
    %h1 = tvc.gelu %h0 : tensor<1x8x64xf32>
    ```
  }];
}

#endif // TVC_TRANSFORMS_PASSES
