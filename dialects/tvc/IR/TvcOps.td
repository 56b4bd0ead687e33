//===- TvcOps.td - tvc operations --------------------------*- tablegen -*-===//
//
// The ops of the tvc dialect, grouped by family. Each family is an ODS base
// class carrying the shared traits, verifier and assembly format; the ops
// add their arguments.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_OPS
#define TVC_OPS

include "dialects/tvc/IR/TvcBase.td"
include "dialects/tvc/IR/TvcAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Tvc_GlobalOp : Tvc_Op<"global", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a named weight tensor of the model";
  let description = [{
    Declares a weight by name: floating-point values, or signless integer
    data that describes other weights (the position indices of an N:M
    sparse weight). Its bytes are either inline (an elements
    attribute such as `dense<...>` or `dense_resource<...>`, for small tests)
    or in a safetensors file (`#tvc.external<"file", "key">`), so the textual
    IR of a large model stays small, or rows of another global
    (`#tvc.rows<@source, start>`). Passes that change weights create new
    globals through the weight store; they never modify bytes in place.

    Example:

    ```mlir
    tvc.global @wte : tensor<50257x768xf32> =
        #tvc.external<"model.safetensors", "wte.weight">
    tvc.global @ln_f.bias : tensor<4xf32> = dense<0.0> : tensor<4xf32>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Tvc_WeightTensor>:$type,
                       AnyAttrOf<[ElementsAttr, Tvc_ExternalWeightAttr,
                                  Tvc_RowsWeightAttr]>:$value);
  let assemblyFormat = "$sym_name `:` $type `=` $value attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The tensor type of the weight.
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// The bytes of its values (element types of whole bytes; passes that
    /// lay weights out reject the others first).
    uint64_t getByteSize() {
      ::mlir::RankedTensorType type = getTensorType();
      return static_cast<uint64_t>(type.getNumElements()) *
             (type.getElementTypeBitWidth() / 8);
    }
  }];
}

def Tvc_WeightOp : Tvc_Op<"weight", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a named weight";
  let description = [{
    Produces the value of the `tvc.global` named `@name`. The result type
    must equal the global's type.

    Example: `%wte = tvc.weight @wte : tensor<50257x768xf32>`
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs Tvc_WeightTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Embedding and positions
//===----------------------------------------------------------------------===//

/// Ops whose result type follows from their operands.
class Tvc_InferredOp<string mnemonic, list<Trait> traits = []>
    : Tvc_Op<mnemonic, !listconcat(traits,
        [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>])> {
  let hasVerifier = 1;
}

def Tvc_EmbeddingOp : Tvc_InferredOp<"embedding"> {
  let summary = "token embedding: rows of a table gathered by id";
  let description = [{
    `result[..., :] = table[ids[...], :]`; the result shape is the ids shape
    followed by the table width. Ids outside `[0, vocab)` are undefined
    behaviour at run time (the runtime clamps and reports them).

    Example:

    ```mlir
    %h = tvc.embedding %wte, %ids : tensor<50257x768xf32>, tensor<1x?xi64>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$table, Tvc_IndexTensor:$ids);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat =
      "$table `,` $ids attr-dict `:` type($table) `,` type($ids)";
}

def Tvc_LearnedPositionsOp : Tvc_InferredOp<"learned_positions"> {
  let summary = "adds learned absolute position embeddings (GPT-2)";
  let description = [{
    `result[b, t, :] = hidden[b, t, :] + table[positions[b, t], :]`.
    Positions are an explicit operand so that the decode entry point can
    start at the cache length.

    Example:

    ```mlir
    %h1 = tvc.learned_positions %h0, %wpe, %positions
        : tensor<1x8x768xf32>, tensor<1024x768xf32>, tensor<1x8xi64>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$hidden, Tvc_FloatTensor:$table,
                       Tvc_IndexTensor:$positions);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat = "$hidden `,` $table `,` $positions attr-dict `:` "
                       "type($hidden) `,` type($table) `,` type($positions)";
}

def Tvc_RopeOp : Tvc_InferredOp<"rope"> {
  let summary = "rotary position embedding of queries or keys";
  let description = [{
    Rotates each head of `input` (`[B, T, heads * head_dim]`) by angles
    `position * inv_freq[i]`, `inv_freq[i] = theta^(-2i / rotary_dim)`,
    rescaled by `scaling`. Only the first `rotary_dim` channels of a head
    rotate (all of them by default). Pairs are `(x[i], x[i + rotary_dim/2])`
    (the rotate-half convention of GPT-NeoX and LLaMA), or adjacent
    `(x[2i], x[2i+1])` with `interleaved` (GPT-J).

    Example:

    ```mlir
    %q1 = tvc.rope %q, %positions heads 32 theta 5.0e+05
        scaling <kind = yarn, factor = 4.0, original_max_positions = 8192>
        : tensor<1x8x4096xf32>, tensor<1x8xi64>
    ```
  }];
  let arguments = (ins
    Tvc_FloatTensor:$input, Tvc_IndexTensor:$positions,
    ConfinedAttr<I64Attr, [IntPositive]>:$heads,
    F64Attr:$theta,
    OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$rotary_dim,
    UnitAttr:$interleaved,
    DefaultValuedAttr<Tvc_RopeScalingAttr,
        "::mlir::tvc::RopeScalingAttr::getNone($_builder.getContext())">
        :$scaling);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `heads` $heads `theta` $theta
    (`rotary_dim` $rotary_dim^)? (`interleaved` $interleaved^)?
    (`scaling` $scaling^)? attr-dict `:` type($input) `,` type($positions)
  }];
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Width of one head.
    int64_t getHeadDim();
    /// Rotated channels per head (rotary_dim, or the whole head).
    int64_t getRotaryDimOrHeadDim();
  }];
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Normalizations over the last dimension with a learned scale (and shift).
class Tvc_NormOp<string mnemonic> : Tvc_InferredOp<mnemonic> {
  let results = (outs Tvc_FloatTensor:$result);
}

def Tvc_LayerNormOp : Tvc_NormOp<"layer_norm"> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `(x - mean(x)) / sqrt(var(x) + epsilon) * scale + bias`, statistics over
    the last dimension (biased variance). `bias` is optional.

    Example:

    ```mlir
    %y = tvc.layer_norm %x, %scale, %bias epsilon 1.0e-05
        : tensor<1x8x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$input, Tvc_FloatTensor:$scale,
                       Optional<Tvc_FloatTensor>:$bias, F64Attr:$epsilon);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? `epsilon` $epsilon attr-dict `:`
    type($input) `,` type($scale) (`,` type($bias)^)?
  }];
}

def Tvc_RmsNormOp : Tvc_NormOp<"rms_norm"> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `x / sqrt(mean(x^2) + epsilon) * scale` (LLaMA).

    Example:

    ```mlir
    %y = tvc.rms_norm %x, %scale epsilon 1.0e-06
        : tensor<1x8x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$input, Tvc_FloatTensor:$scale,
                       F64Attr:$epsilon);
  let assemblyFormat = [{
    $input `,` $scale `epsilon` $epsilon attr-dict `:`
    type($input) `,` type($scale)
  }];
}

//===----------------------------------------------------------------------===//
// Linear maps
//===----------------------------------------------------------------------===//

def Tvc_LinearOp : Tvc_InferredOp<"linear", [AttrSizedOperandSegments]> {
  let summary = "a linear map whose weights carry a structure";
  let description = [{
    `y = x * W^T + b` over the last dimension of `input`, where the matrix
    `W` (`[out, in]`) is represented by `weights` as `structure` says:
    `#tvc.dense` (the default) takes one `[out, in]` tensor. Other
    structures (low-rank factors, block-diagonal blocks, N:M values and
    indices, LoRA) are attributes implementing `LinearStructureAttrInterface`
    and take their own weight lists; the op does not change.

    Example:

    ```mlir
    %y = tvc.linear %x, %w bias %b
        : (tensor<1x8x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>)
        -> tensor<1x8x3072xf32>
    ```
  }];
  let arguments = (ins
    Tvc_FloatTensor:$input, Variadic<AnyRankedTensor>:$weights,
    Optional<Tvc_FloatTensor>:$bias,
    DefaultValuedAttr<Tvc_LinearStructureAttrInterface,
        "::mlir::tvc::DenseStructureAttr::get($_builder.getContext())">
        :$structure);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weights (`bias` $bias^)?
    (`structure` `(` $structure^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Tvc_LmHeadOp : Tvc_InferredOp<"lm_head"> {
  let summary = "projects hidden states to vocabulary logits";
  let description = [{
    `logits = hidden * W^T` with `W` of shape `[vocab, d]`. A tied head reads
    the same `tvc.global` as the token embedding (`tvc.weight @wte` in both
    places), so tying is visible in the IR without a flag that could
    disagree with it. The op is separate from `tvc.linear` because passes
    treat it differently: decode only needs the last position's logits and
    pruning never removes vocabulary rows.

    Example:

    ```mlir
    %logits = tvc.lm_head %h, %wte : tensor<1x8x768xf32>, tensor<50257x768xf32>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$hidden, Tvc_FloatTensor:$weight);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat =
      "$hidden `,` $weight attr-dict `:` type($hidden) `,` type($weight)";
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// Attention family: heads packed in the last dimension, a mask kind.
class Tvc_AttentionFamilyOp<string mnemonic, list<Trait> traits = []>
    : Tvc_InferredOp<mnemonic, traits> {
  let extraClassDeclaration = [{
    /// Width of one query/key head (query width / heads).
    int64_t getHeadDim();
    /// The scale applied to q.k: `scale` when set, else 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def Tvc_AttentionOp
    : Tvc_AttentionFamilyOp<"attention", [AttrSizedOperandSegments]> {
  let summary = "multi-head (grouped-query) scaled dot-product attention";
  let description = [{
    `query` is `[B, Tq, heads * Dh]`, `key` is `[B, Tk, kv_heads * Dh]`,
    `value` is `[B, Tk, kv_heads * Dv]`; the result is `[B, Tq, heads * Dv]`.
    Query head `h` uses key/value head `h / (heads / kv_heads)` (GQA; MQA when
    `kv_heads = 1`). Scores are `scale * q.k` (`scale` defaults to
    `1/sqrt(Dh)`), masked by `mask(...)` (any `MaskAttrInterface` kind: `#tvc.full`,
    `#tvc.causal`, `#tvc.sliding_window<window = w>`, ...), then softmax over
    keys. Query row `i` is at absolute position `Tk - Tq + i`.

    With `kv_len(%n)` the key and value tensors are a KV cache of capacity
    `Tk`: only their first `%n` rows are keys (the rest is ignored), and
    query row `i` is at position `%n - Tq + i`. `tvc-derive-decode` writes
    a step's keys and values into the cache and attends over it this way.
    `%n` must lie in `[Tq, Tk]`.

    With `state(%s)` (only for masks that carry state from call to call:
    `#tvc.alisa`) the op also reads `%s`, `[B, heads, Tk]` f32 (per query
    head and key position: the key's accumulated attention weight, or -1
    once evicted), and returns it updated as a second result; rows at and
    after the first query's position are the op's to initialise.
    `tvc-derive-decode` keeps it in the KV cache next to keys and values.

    Example:

    ```mlir
    %o = tvc.attention %q, %k, %v heads 32 kv_heads 8 mask(#tvc.causal)
        : tensor<1x8x4096xf32>, tensor<1x8x1024xf32>, tensor<1x8x1024xf32>
    %d = tvc.attention %q1, %kc, %vc heads 32 kv_heads 8 mask(#tvc.causal)
        kv_len(%n) : tensor<1x1x4096xf32>, tensor<1x2048x1024xf32>,
        tensor<1x2048x1024xf32>
    ```
  }];
  let arguments = (ins
    Tvc_FloatTensor:$query, Tvc_FloatTensor:$key, Tvc_FloatTensor:$value,
    Optional<Index>:$kv_len,
    Optional<Tvc_FloatTensor>:$state,
    ConfinedAttr<I64Attr, [IntPositive]>:$heads,
    ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
    Tvc_MaskAttrInterface:$mask,
    OptionalAttr<F64Attr>:$scale);
  let results = (outs Tvc_FloatTensor:$result,
                      Optional<Tvc_FloatTensor>:$new_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value `heads` $heads `kv_heads` $kv_heads
    `mask` `(` $mask `)` (`scale` $scale^)? (`kv_len` `(` $kv_len^ `)`)?
    (`state` `(` $state^ `:` type($state) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
  }];
}

//===----------------------------------------------------------------------===//
// Activations and elementwise
//===----------------------------------------------------------------------===//

/// Pointwise unary ops: result type equals operand type.
class Tvc_UnaryElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Tvc_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let results = (outs Tvc_FloatTensor:$result);
}

def Tvc_GeluOp : Tvc_UnaryElementwiseOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `x * Phi(x)` exactly (`approximate none`, the default, via erf) or with
    the tanh approximation (`approximate tanh`, GPT-2's "gelu_new").

    Example: `%y = tvc.gelu %x approximate tanh : tensor<1x8x3072xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$input,
      DefaultValuedAttr<Tvc_GeluApproximationAttr,
                        "::mlir::tvc::GeluApproximation::None">:$approximate);
  let assemblyFormat =
      "$input (`approximate` `` $approximate^)? attr-dict `:` type($input)";
}

def Tvc_SiluOp : Tvc_UnaryElementwiseOp<"silu"> {
  let summary = "sigmoid linear unit x * sigmoid(x)";
  let description = [{
    Example: `%y = tvc.silu %x : tensor<1x8x11008xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$input);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tvc_ReluOp : Tvc_UnaryElementwiseOp<"relu", [Idempotent]> {
  let summary = "rectified linear unit max(x, 0)";
  let description = [{
    Example: `%y = tvc.relu %x : tensor<1x8x3072xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$input);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

/// Pointwise binary ops on operands of one type.
class Tvc_BinaryElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Tvc_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tvc_AddOp : Tvc_BinaryElementwiseOp<"add", [Commutative]> {
  let summary = "elementwise sum (residual connections)";
  let description = [{
    Example: `%h2 = tvc.add %h1, %attn : tensor<1x8x768xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$lhs, Tvc_FloatTensor:$rhs);
}

def Tvc_GluOp : Tvc_Op<"glu", [Pure, SameOperandsAndResultType]> {
  let summary = "gated feed-forward product act(gate) * up";
  let description = [{
    The gating step of GLU-family FFNs: SwiGLU (`activation silu`, LLaMA),
    GeGLU (`activation gelu`), ReGLU (`activation relu`). The projections
    around it stay `tvc.linear` ops so their weights keep their structure.

    Example:

    ```mlir
    %g = tvc.linear %x, %w_gate : (...) -> tensor<1x8x11008xf32>
    %u = tvc.linear %x, %w_up : (...) -> tensor<1x8x11008xf32>
    %h = tvc.glu %g, %u activation silu : tensor<1x8x11008xf32>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$gate, Tvc_FloatTensor:$up,
                       Tvc_ActivationAttr:$activation);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat =
      "$gate `,` $up `activation` `` $activation attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Tensor plumbing
//===----------------------------------------------------------------------===//

def Tvc_SplitOp : Tvc_InferredOp<"split"> {
  let summary = "splits the last dimension into consecutive pieces";
  let description = [{
    Result `i` holds channels `[sum(sizes[0..i)), sum(sizes[0..i]))` of the
    last dimension. Used for fused projections such as GPT-2's `c_attn`,
    whose output packs query, key and value. A split into one piece folds
    to its input.

    Example:

    ```mlir
    %q, %k, %v = tvc.split %qkv sizes [768, 768, 768] : tensor<1x8x2304xf32>
    ```
  }];
  let arguments = (ins Tvc_FloatTensor:$input, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Tvc_FloatTensor>:$pieces);
  let assemblyFormat = "$input `sizes` $sizes attr-dict `:` type($input)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Logits
//===----------------------------------------------------------------------===//

def Tvc_SoftmaxOp : Tvc_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax over the last dimension";
  let description = [{
    Example: `%p = tvc.softmax %logits : tensor<1x8x50257xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$input);
  let results = (outs Tvc_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tvc_ArgmaxOp : Tvc_InferredOp<"argmax"> {
  let summary = "index of the largest value over the last dimension";
  let description = [{
    Returns i64 indices with the last dimension dropped; ties pick the
    lowest index. `argmax(softmax(x))` canonicalizes to `argmax(x)`.

    Example: `%next = tvc.argmax %logits : tensor<1x8x50257xf32>`
  }];
  let arguments = (ins Tvc_FloatTensor:$input);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Tvc_LayerOp : Tvc_Op<"layer", [
    IsolatedFromAbove, SingleBlock, RecursiveMemoryEffects,
    RecursivelySpeculatable]> {
  let summary = "one transformer layer as a region";
  let description = [{
    Groups the ops of one layer so that layer-level decisions (dropping the
    layer, a per-layer attention span, an offload placement) are attributes
    of one op. The region is isolated from above: its block arguments are
    bound to `inputs`, weights are read with `tvc.weight`, and `tvc.yield`
    returns the results. `index` is the layer's position in the model;
    `role` says what it is (`decoder` by default).

    Example:

    ```mlir
    %h1 = tvc.layer 0 (%h0, %pos) : (tensor<1x8x64xf32>, tensor<1x8xi64>)
        -> tensor<1x8x64xf32> {
    ^bb0(%x: tensor<1x8x64xf32>, %p: tensor<1x8xi64>):
      ...
      tvc.yield %y : tensor<1x8x64xf32>
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$index,
                       DefaultValuedAttr<Tvc_LayerRoleAttr,
                           "::mlir::tvc::LayerRole::Decoder">:$role,
                       Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $index (`role` `` $role^)? ` ` `(` $inputs `)` attr-dict `:`
    functional-type($inputs, $results) $body
  }];
  let hasRegionVerifier = 1;
}

def Tvc_YieldOp : Tvc_Op<"yield", [
    Pure, HasParent<"LayerOp">, ReturnLike, Terminator]> {
  let summary = "returns the results of a layer";
  let description = [{
    Example: `tvc.yield %h : tensor<1x8x768xf32>`
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

def Tvc_KernelCallOp : Tvc_Op<"kernel_call", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "a call of a runtime kernel in destination-passing style";
  let description = [{
    The form heavy ops take on their way to the runtime (IREE's ukernel
    idea): `callee` names a C entry point of the runtime that takes one
    pointer to a params struct. The struct's fields are, in order, one
    pointer per shaped operand (`ins` then `outs`) and then the `scalars`
    (each 8 bytes: `i64` or `f64`), so the runtime header and this op agree
    by construction of the struct, not by a per-kernel table.

    On tensors the op returns one tensor per `outs` operand (the
    destinations it writes); one-shot bufferization turns it into the
    memref form, which has no results and whose buffers are contiguous
    (identity layout; bufferization copies strided views). The memref form
    is lowered to a call by `convert-tvc-kernels-to-llvm`.

    Example:

    ```mlir
    %y = tvc.kernel_call "tvc_kernel_linear_f32"
        ins(%x, %w, %b : tensor<1x?x64xf32>, tensor<256x64xf32>, tensor<256xf32>)
        outs(%init : tensor<1x?x256xf32>)
        scalars(%m, %n, %k, %flags : i64, i64, i64, i64) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins StrAttr:$callee,
                       Variadic<AnyShaped>:$inputs,
                       Variadic<AnyShaped>:$outputs,
                       Variadic<AnyTypeOf<[I64, F64]>>:$scalars);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $callee (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    `outs` `(` $outputs `:` type($outputs) `)`
    (`scalars` `(` $scalars^ `:` type($scalars) `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
  }];
  let hasVerifier = 1;
}

#endif // TVC_OPS
