//===- TvcAttrs.td - tvc attributes and enums --------------*- tablegen -*-===//
//
// Attention masks, linear-weight structures, RoPE scaling, external weight
// references, and the enums used by ops.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_ATTRS
#define TVC_ATTRS

include "dialects/tvc/IR/TvcBase.td"
include "dialects/tvc/IR/TvcInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tvc_RopeScalingKind : I32EnumAttr<"RopeScalingKind",
    "how rotary frequencies are rescaled for longer contexts", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Linear", 1, "linear">,
  I32EnumAttrCase<"Ntk", 2, "ntk">,
  I32EnumAttrCase<"Yarn", 3, "yarn">,
  I32EnumAttrCase<"Llama3", 4, "llama3">,
]> {
  let cppNamespace = "::mlir::tvc";
  let genSpecializedAttr = 0;
}

def Tvc_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "which formula a gelu uses", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Tanh", 1, "tanh">,
]> {
  let cppNamespace = "::mlir::tvc";
  let genSpecializedAttr = 0;
}
def Tvc_GeluApproximationAttr
    : EnumAttr<Tvc_Dialect, Tvc_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "$value";
}

def Tvc_Activation : I32EnumAttr<"Activation",
    "the nonlinearity of a gated (GLU-family) feed-forward", [
  I32EnumAttrCase<"Gelu", 0, "gelu">,
  I32EnumAttrCase<"GeluTanh", 1, "gelu_tanh">,
  I32EnumAttrCase<"Silu", 2, "silu">,
  I32EnumAttrCase<"Relu", 3, "relu">,
]> {
  let cppNamespace = "::mlir::tvc";
  let genSpecializedAttr = 0;
}
def Tvc_ActivationAttr : EnumAttr<Tvc_Dialect, Tvc_Activation, "activation"> {
  let assemblyFormat = "$value";
}

def Tvc_WeightLayout : I32EnumAttr<"WeightLayout",
    "storage order of a dense weight matrix", [
  I32EnumAttrCase<"OutIn", 0, "out_in">,
  I32EnumAttrCase<"InOut", 1, "in_out">,
]> {
  let cppNamespace = "::mlir::tvc";
  let genSpecializedAttr = 0;
}

def Tvc_LayerRole : I32EnumAttr<"LayerRole", "what a layer region is", [
  I32EnumAttrCase<"Decoder", 0, "decoder">,
  I32EnumAttrCase<"Encoder", 1, "encoder">,
]> {
  let cppNamespace = "::mlir::tvc";
  let genSpecializedAttr = 0;
}
def Tvc_LayerRoleAttr : EnumAttr<Tvc_Dialect, Tvc_LayerRole, "layer_role"> {
  let assemblyFormat = "$value";
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

/// A double-precision parameter that prints exactly (round-trips bit for
/// bit). Stored as APFloat, which is hashable.
class Tvc_F64Parameter<string default, string desc>
    : DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(" # default # ")",
                             desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
}

/// The same without a default: always spelled out and printed.
class Tvc_RequiredF64Parameter<string desc>
    : Tvc_F64Parameter<"0.0", desc> {
  let defaultValue = "";
}

//===----------------------------------------------------------------------===//
// Attention masks
//===----------------------------------------------------------------------===//

/// Base of mask kinds: each implements MaskAttrInterface.
class Tvc_MaskAttr<string name, string attrMnemonic>
    : Tvc_Attr<name, attrMnemonic,
               [DeclareAttrInterfaceMethods<Tvc_MaskAttrInterface>]>;

def Tvc_FullMaskAttr : Tvc_MaskAttr<"FullMask", "full"> {
  let summary = "every query attends to every key (bidirectional)";
  let description = [{
    Example: `#tvc.full`
  }];
}

def Tvc_CausalMaskAttr : Tvc_MaskAttr<"CausalMask", "causal"> {
  let summary = "query at position i attends to keys j <= i";
  let description = [{
    Example: `#tvc.causal`
  }];
}

def Tvc_SlidingWindowMaskAttr
    : Tvc_MaskAttr<"SlidingWindowMask", "sliding_window"> {
  let summary = "causal attention to the last `window` keys";
  let description = [{
    The query at position i attends to keys j with `i - window < j <= i`:
    the window counts the diagonal, so `window = 1` sees only itself and a
    window at least as long as the sequence equals `#tvc.causal`. This is
    Mistral's and Longformer's (one-sided) definition.

    Example: `#tvc.sliding_window<window = 4096>`
  }];
  let parameters = (ins "int64_t":$window);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_WindowGlobalMaskAttr
    : Tvc_MaskAttr<"WindowGlobalMask", "window_global"> {
  let summary = "causal sliding window plus the first `global` tokens";
  let description = [{
    Longformer's local + global attention, causal: the query at position i
    attends to keys j <= i with `j < global` (the global tokens, e.g. a BOS
    or attention-sink prefix) or `i - window < j` (the sliding window of
    `#tvc.sliding_window`, counting the diagonal). A query among the first
    `global` positions sees every earlier key anyway. `global` is at least 1
    (without global tokens the mask is `#tvc.sliding_window`). The key span
    is unbounded: global keys are not recent ones, so a KV cache keeps them.

    Example: `#tvc.window_global<window = 256, global = 4>` (query 1000 sees
    keys 0-3 and 745-1000)
  }];
  let parameters = (ins "int64_t":$window, "int64_t":$global);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_BlockLocalMaskAttr : Tvc_MaskAttr<"BlockLocalMask", "block_local"> {
  let summary = "causal block-sparse attention with a fixed layout";
  let description = [{
    Queries and keys are grouped in blocks of `block` positions; the query
    at position i attends, causally (j <= i), to the keys of its own block
    and the `local - 1` blocks before it, and to those of the first
    `global` blocks: `j / block < global || i / block - j / block < local`.
    A fixed block-sparse layout: local blocks plus global ("sink") blocks
    at the start of the sequence. `local = 1` sees only the
    query's own block (up to the diagonal). With `global = 0` the key span
    is `local * block`; with global blocks it is unbounded.

    Example: `#tvc.block_local<block = 64, local = 4, global = 1>` (query
    1000, in block 15, sees keys 0-63 and the blocks 12-15, keys 768-1000)
  }];
  let parameters =
      (ins "int64_t":$block, "int64_t":$local, "int64_t":$global);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_TopKMaskAttr : Tvc_MaskAttr<"TopKMask", "top_k"> {
  let summary = "causal top-k hard attention (data-dependent)";
  let description = [{
    AxFormer-style hard attention: of the causal keys j <= i, the query at
    position i attends to the `k` with the largest scores `scale * q.k`
    (ties broken towards the lower key index); a query with at most `k`
    causal keys sees them all. Which keys are kept depends on the data, so,
    as for every data-dependent kind, `isAllowed` answers for the static
    part only (`j <= i`); the kernel selects the `k` keys. The key span is
    unbounded (any past key may score among the top k).

    Example: `#tvc.top_k<k = 32>`
  }];
  let parameters = (ins "int64_t":$k);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_BlockTopKMaskAttr : Tvc_MaskAttr<"BlockTopKMask", "block_top_k"> {
  let summary = "block-sparse attention to the top-k blocks by pooled score "
                "(data-dependent)";
  let description = [{
    Keys in blocks of `block` positions. The query at position i attends,
    causally, to the keys of its own block (`j / block == i / block`,
    `j <= i`) and to every key of the `k` earlier blocks with the largest
    pooled scores `scale * q . mean(keys of the block)` (ties broken
    towards the lower block); a query with at most `k` earlier blocks sees
    them all. The pooled key is Sparse Frontier's block representative;
    the query is the row's own, not pooled over its block, so a decode step
    computes exactly what the full sequence computes for its position. As
    for every data-dependent kind, `isAllowed` answers for the static part
    (`j <= i`); the key span is unbounded.

    Example: `#tvc.block_top_k<block = 64, k = 4>`
  }];
  let parameters = (ins "int64_t":$block, "int64_t":$k);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_VerticalSlashMaskAttr
    : Tvc_MaskAttr<"VerticalSlashMask", "vertical_slash"> {
  let summary = "causal vertical-slash attention estimated from the last "
                "queries (data-dependent)";
  let description = [{
    MInference's vertical-slash pattern, as The Sparse Frontier runs it. Per
    query head, the last `last` queries of a call score every causal key;
    their softmax weights, summed per key (a "vertical" column j) and per
    diagonal offset (a "slash" o = i - j), choose the `vertical` columns and
    the `slash` offsets with the largest sums (ties towards the lower
    index), of which the first min(4, ceil(vertical / 2)) columns (attention
    sinks) and the min(64, ceil(slash / 2)) most recent offsets are always
    kept. Every query i of the call then attends to the keys j <= i that are
    a kept column or lie on a kept offset. As for every data-dependent kind,
    `isAllowed` answers for the static part (`j <= i`); the key span is
    unbounded. The pattern belongs to a call: a prefill in chunks estimates
    one per chunk, and a decode step estimates it from its own query.

    Example: `#tvc.vertical_slash<vertical = 64, slash = 256, last = 64>`
  }];
  let parameters =
      (ins "int64_t":$vertical, "int64_t":$slash, "int64_t":$last);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_AlisaMaskAttr : Tvc_MaskAttr<"AlisaMask", "alisa"> {
  let summary = "ALISA sparse window attention: a window plus the heavy "
                "keys by accumulated attention weight (data-dependent)";
  let description = [{
    ALISA's sparse window attention (an H2O-style heavy-hitter cache).
    Per query head, in position order: the query at position i attends to
    its window (`i - window < j <= i`, as `#tvc.sliding_window`) and to a
    heavy set of at most `k` older keys. Every key a query saw adds that
    query's softmax weight to its accumulated weight; the key leaving the
    window then joins the heavy set, and a heavy set of `k + 1` keys drops
    the one with the smallest accumulated weight (ties: the newest), which
    no later query sees: the cache needs only `window + k` keys. `k` is
    at least 1 (without heavy keys the mask is `#tvc.sliding_window`). As
    for every data-dependent kind, `isAllowed` answers for the static part
    (`j <= i`); the key span is unbounded. The accumulated weights are
    the attention's `state`: `tvc-derive-decode` keeps them in the KV cache
    so that chunked prefill and decode continue one call's computation.

    Example: `#tvc.alisa<window = 256, k = 64>`
  }];
  let parameters = (ins "int64_t":$window, "int64_t":$k);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Linear weight structures
//===----------------------------------------------------------------------===//

/// Base of weight structures: each implements LinearStructureAttrInterface.
class Tvc_StructureAttr<string name, string attrMnemonic>
    : Tvc_Attr<name, attrMnemonic,
               [DeclareAttrInterfaceMethods<Tvc_LinearStructureAttrInterface>]>;

def Tvc_DenseStructureAttr : Tvc_StructureAttr<"DenseStructure", "dense"> {
  let summary = "one dense weight matrix";
  let description = [{
    The linear op takes exactly one weight. With the default layout `out_in`
    it is `tensor<out x in x T>` (PyTorch's `nn.Linear`); with `in_out` it is
    `tensor<in x out x T>` (the `Conv1D` of Hugging Face GPT-2), so such
    checkpoints are referenced in place instead of transposed copies.

    Examples: `#tvc.dense`, `#tvc.dense<in_out>`
  }];
  let parameters = (ins DefaultValuedParameter<"::mlir::tvc::WeightLayout",
      "::mlir::tvc::WeightLayout::OutIn", "storage order of the matrix">:$layout);
  let assemblyFormat = "(`<` $layout^ `>`)?";
  let builders = [
    AttrBuilder<(ins), [{
      return $_get($_ctxt, ::mlir::tvc::WeightLayout::OutIn);
    }]>,
  ];
}

def Tvc_SparseNMStructureAttr
    : Tvc_StructureAttr<"SparseNMStructure", "sparse_nm"> {
  let summary = "an N:M semi-structured sparse matrix, compressed";
  let description = [{
    In every group of `m` consecutive weights of a row along the reduction
    (input) dimension at most `n` are non-zero; the linear op takes the
    compressed form, two weights, `[out, in]` order (`out_in`) only:

    * `values`: `tensor<out x (in / m * n) x T>`, the `n` kept weights of
      each group, group after group.
    * `indices`: `tensor<out x ceil(in / 8) x i8>` for 2:4: byte `t` of a
      row describes groups `2t` (bits 0-3) and `2t+1` (bits 4-7); in each
      nibble bits 0-1 give the position in the group of the first kept
      value and bits 2-3 that of the second.

    Only 2:4 has a compressed format and a kernel so far; the parameters
    leave room for others. `tvc-prune` produces this structure.

    Example: `#tvc.sparse_nm<n = 2, m = 4>`
  }];
  let parameters = (ins "int64_t":$n, "int64_t":$m);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_LowRankStructureAttr
    : Tvc_StructureAttr<"LowRankStructure", "low_rank"> {
  let summary = "a rank-r factorisation y = U (V x)";
  let description = [{
    The matrix is the product `U V` of two factors, both `[out, in]` order
    like `nn.Linear`, so the linear op takes two weights:

    * `V`: `tensor<rank x in x T>` (applied first),
    * `U`: `tensor<out x rank x T>`.

    `y = U (V x) + b`. No nonlinearity separates the factors, so
    `tvc-premerge-ffn` may multiply them into one dense `[out, in]` matrix;
    on the CPU, `tvc-expand-structured-linear` runs the factored form as two
    dense linears.

    Example: `#tvc.low_rank<rank = 64>`
  }];
  let parameters = (ins "int64_t":$rank);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_BlockDenseStructureAttr
    : Tvc_StructureAttr<"BlockDenseStructure", "block_dense"> {
  let summary = "a block-diagonal map followed by a dense one (BlockDense)";
  let description = [{
    `y = L (blockdiag(B_1 .. B_k) x) + b`: the input is cut into `blocks`
    equal slices, block `i` maps slice `i` (`in / k` wide) to `r / k`
    values, and the dense `L` mixes the `r` results. Two weights:

    * `B`: `tensor<k x (r / k) x (in / k) x T>`, the blocks stacked, each
      `[out, in]` order,
    * `L`: `tensor<out x r x T>`.

    `tvc-premerge-ffn` can multiply them into one dense `[out, in]` matrix;
    on the CPU, `convert-tvc-to-runtime` runs the block-diagonal map with
    `tvc_kernel_block_diagonal_f32` and `L` as a dense linear.

    Example: `#tvc.block_dense<blocks = 4>`
  }];
  let parameters = (ins "int64_t":$blocks);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_BlockShuffleStructureAttr
    : Tvc_StructureAttr<"BlockShuffleStructure", "block_shuffle"> {
  let summary = "two block-diagonal maps with a transpose between them "
                "(Monarch)";
  let description = [{
    `y = blockdiag(B2_1 .. B2_l) P blockdiag(B1_1 .. B1_k) x + b`, the
    block-shuffle (Monarch) product of Dao et al. Two weights, each the
    blocks stacked, each block `[out, in]` order:

    * `B1`: `tensor<k x q x p x T>` with `k = blocks`: the input (`k p`
      wide) is cut into `k` slices of `p`, block `i` maps slice `i` to `q`
      values; `z` (`k q` wide) is them side by side, a row-major `(k, q)`
      grid.
    * `B2`: `tensor<l x s x r x T>` with `l = out_blocks`: the shuffled
      `z'` is cut into `l` slices of `r` (`l r = k q`), block `a` maps
      slice `a` to `s` values; the output is `l s` wide.

    The shuffle `P` is the transpose of the grid: `z'[j k + i] = z[i q + j]`
    (`i < k`, `j < q`), so with `l = q` and `r = k` every second-stage
    block reads one value from each first-stage block.

    `tvc-premerge-ffn` can multiply them into one dense `[out, in]`
    matrix; on the CPU, `convert-tvc-to-runtime` runs the two maps with
    `tvc_kernel_block_diagonal_f32` and the shuffle as a `linalg.transpose`.

    Example: `#tvc.block_shuffle<blocks = 4, out_blocks = 16>`
  }];
  let parameters = (ins "int64_t":$blocks, "int64_t":$out_blocks);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tvc_LoraStructureAttr : Tvc_StructureAttr<"LoraStructure", "lora"> {
  let summary = "a dense matrix plus a low-rank (LoRA) adapter";
  let description = [{
    `y = W x + (alpha / rank) B (A x) + b` (Hu et al.'s LoRA scaling). The
    linear op takes three weights:

    * `W`: the base matrix, `tensor<out x in x T>` with the default layout
      `out_in` (`nn.Linear`), `tensor<in x out x T>` with `in_out` (the
      `Conv1D` of Hugging Face GPT-2, referenced in place as by
      `#tvc.dense<in_out>`),
    * `A`: `tensor<rank x in x T>` (the adapter's down projection),
    * `B`: `tensor<out x rank x T>` (its up projection).

    `A` and `B` are `[out, in]` order whatever W's layout, as PEFT stores
    them for both module kinds. `tvc-premerge-ffn` can fold the adapter into
    `W' = W + (alpha / rank) B A` (stored in W's layout); on the CPU,
    `tvc-expand-structured-linear` runs it as the base linear (in W's
    layout) plus a side branch.

    Examples: `#tvc.lora<rank = 8, alpha = 16.0>`,
    `#tvc.lora<rank = 8, alpha = 16.0, in_out>`
  }];
  let parameters = (ins "int64_t":$rank,
      Tvc_RequiredF64Parameter<"LoRA scaling numerator (alpha / rank)">:$alpha,
      DefaultValuedParameter<"::mlir::tvc::WeightLayout",
      "::mlir::tvc::WeightLayout::OutIn", "storage order of W">:$layout);
  let assemblyFormat = "`<` struct($rank, $alpha) (`,` $layout^)? `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "int64_t":$rank, "double":$alpha,
        CArg<"::mlir::tvc::WeightLayout",
             "::mlir::tvc::WeightLayout::OutIn">:$layout), [{
      return $_get($_ctxt, rank, ::llvm::APFloat(alpha), layout);
    }]>,
  ];
  let extraClassDeclaration = [{
    /// The factor of the adapter branch, alpha / rank.
    double getScale() const {
      return getAlpha().convertToDouble() / static_cast<double>(getRank());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

def Tvc_RopeScalingAttr : Tvc_Attr<"RopeScaling", "rope_scaling"> {
  let summary = "rotary-embedding frequency scaling for long contexts";
  let description = [{
    `kind` selects the method; `inv_freq[i] = theta^(-2i/d)` are the
    unscaled frequencies of a head of width `d`, `s` is `factor`, `L` is
    `original_max_positions`:

    * `none`: `inv_freq` as is.
    * `linear`: `inv_freq / s` (position interpolation).
    * `ntk`: NTK-aware: the base becomes `theta * s^(d / (d - 2))`.
    * `yarn`: with `r_i = L * inv_freq[i] / (2 pi)` rotations over the
      trained context, `ramp_i = clamp((r_i - beta_slow) / (beta_fast -
      beta_slow), 0, 1)`: `inv_freq[i] * ramp_i + inv_freq[i] / s * (1 -
      ramp_i)` (extrapolate fast frequencies, interpolate slow ones), and
      attention logits scaled by `(0.1 ln s + 1)^2`.
    * `llama3` (Llama 3.1): with wavelength `w_i = 2 pi / inv_freq[i]`:
      `inv_freq[i]` when `w_i < L / high_freq_factor`, `inv_freq[i] / s` when
      `w_i > L / low_freq_factor`, and in between
      `(1 - g) inv_freq[i] / s + g inv_freq[i]` with
      `g = (L / w_i - low_freq_factor) / (high_freq_factor - low_freq_factor)`.

    Every kind with `factor = 1` is the identity (and canonicalizes to
    `none`).

    Example: `#tvc.rope_scaling<kind = yarn, factor = 4.0,
    original_max_positions = 8192>`
  }];
  let parameters = (ins
    "::mlir::tvc::RopeScalingKind":$kind,
    Tvc_F64Parameter<"1.0", "scaling factor (> 0)">:$factor,
    DefaultValuedParameter<"int64_t", "0",
      "context length the model was trained on (YaRN, Llama 3)">
      :$original_max_positions,
    Tvc_F64Parameter<"32.0", "YaRN fast boundary (rotations)">:$beta_fast,
    Tvc_F64Parameter<"1.0", "YaRN slow boundary (rotations)">:$beta_slow,
    Tvc_F64Parameter<"1.0", "Llama 3 low-frequency factor">:$low_freq_factor,
    Tvc_F64Parameter<"4.0", "Llama 3 high-frequency factor">:$high_freq_factor
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::mlir::tvc::RopeScalingKind":$kind, "double":$factor,
                     CArg<"int64_t", "0">:$original_max_positions,
                     CArg<"double", "32.0">:$beta_fast,
                     CArg<"double", "1.0">:$beta_slow,
                     CArg<"double", "1.0">:$low_freq_factor,
                     CArg<"double", "4.0">:$high_freq_factor), [{
      return $_get($_ctxt, kind, ::llvm::APFloat(factor),
                   original_max_positions, ::llvm::APFloat(beta_fast),
                   ::llvm::APFloat(beta_slow), ::llvm::APFloat(low_freq_factor),
                   ::llvm::APFloat(high_freq_factor));
    }]>,
  ];
  // Lets DefaultValuedAttr take a C++ expression of this attribute.
  let constBuilderCall = "$0";
  let extraClassDeclaration = [{
    /// The identity scaling (kind none, factor 1).
    static RopeScalingAttr getNone(::mlir::MLIRContext *context) {
      return get(context, ::mlir::tvc::RopeScalingKind::None, 1.0);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Tvc_ExternalWeightAttr : Tvc_Attr<"ExternalWeight", "external"> {
  let summary = "a tensor stored in a safetensors file, by name";
  let description = [{
    Names the file (relative paths are resolved against the weight store's
    base directory, normally the directory of the .mlir file) and the
    tensor's key in it. The bytes are never copied into the IR.

    Example: `#tvc.external<"model.safetensors", "transformer.wte.weight">`
  }];
  let parameters = (ins StringRefParameter<"file path">:$file,
                        StringRefParameter<"tensor key">:$key);
  let assemblyFormat = "`<` $file `,` $key `>`";
  let genVerifyDecl = 1;
}

def Tvc_RowsWeightAttr : Tvc_Attr<"RowsWeight", "rows"> {
  let summary = "consecutive rows of another tvc.global";
  let description = [{
    The value of a global that is a slice of another along the first
    dimension: rows `start .. start + rows` of `source`, where `rows` is the
    first dimension of the declaring global's type and the other
    dimensions and the element type equal the source's. The weight store
    reads the source and takes the rows; nothing is copied into the IR.
    `tvc-chunk-weights` declares these so that an offload plan can move a
    large matrix in pieces.

    Example:

    ```mlir
    tvc.global @wte.rows0 : tensor<8192x768xf32> = #tvc.rows<@wte, 0>
    ```
  }];
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$source,
                        "int64_t":$start);
  let assemblyFormat = "`<` $source `,` $start `>`";
  let genVerifyDecl = 1;
}

#endif // TVC_ATTRS
