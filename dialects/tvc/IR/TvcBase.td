//===- TvcBase.td - tvc dialect definition and base classes -*- tablegen -*-===//
//
// The tvc dialect and the base classes every tvc op, attribute and enum
// derives from.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_BASE
#define TVC_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tvc_Dialect : Dialect {
  let name = "tvc";
  let cppNamespace = "::mlir::tvc";
  let summary = "Semantic ops for transformer variants";
  let description = [{
    The tvc dialect expresses transformer models at the level researchers
    think about them: embeddings, positions, normalization, linear maps whose
    weights carry a structure, attention with an explicit mask, activations,
    and `layer` regions. Ops have tensor semantics; shapes are static where
    known and the sequence length may be dynamic.

    Conventions shared by all ops:

    * Hidden states are `tensor<B x T x D>`. Attention operands keep heads
      packed in the last dimension (`H * Dh`); ops that need the head split
      carry `heads` attributes.
    * Linear weights are stored `[out, in]` (PyTorch's `nn.Linear` layout):
      `y = x * W^T + b`.
    * Weights are named module-level `tvc.global` symbols, read with
      `tvc.weight`; their bytes are inline (small tests) or live in a
      safetensors file (`#tvc.external`).
    * Importers name the inputs of the functions they create with the
      argument attribute `tvc.name` (e.g. `"input_ids"`).
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

/// Base of every tvc op.
class Tvc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tvc_Dialect, mnemonic, traits>;

/// Base of every tvc attribute.
class Tvc_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tvc_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

/// Floating-point tensors (f16, bf16, f32, f64, ...).
def Tvc_FloatTensor : RankedTensorOf<[AnyFloat]>;
/// Weight tensors: floating-point values, or integer data that describes
/// them (the position indices of an N:M sparse weight).
def Tvc_WeightTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
/// Integer tensors used for token and position ids.
def Tvc_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;

#endif // TVC_BASE
