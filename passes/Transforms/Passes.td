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

def TvcConvertPrecision : Pass<"tvc-convert-precision", "::mlir::ModuleOp"> {
  let summary = "Store matrices in f32, bf16 or f16 and compute in f32";
  let description = [{
    Sets the model's numeric precision, the decision `tvc-compile
    --precision` makes: every activation is f32, and the weight matrices
    take the element type `weights` names. A matrix is a global read only
    as a `#tvc.dense` linear weight, an LM-head weight or an embedding
    table; every other float weight (norm scales, biases, position tables,
    structured factors) becomes f32. `weights=keep` (the default) leaves
    matrices as stored, so a bf16 or f16 checkpoint keeps its 16-bit
    matrices (converted from f64 to f32), and an f32 checkpoint is unchanged.

    16-bit matrices stay 16-bit in memory: linears and LM heads read them
    through the runtime's 16-bit-weight kernels, which widen each weight
    exactly and accumulate in f32; an embedding gathers 16-bit rows and
    widens them (`arith.extf`). Narrowing rounds to nearest, ties to even.

    Converted weights are new globals (`<name>.<type>`), inline or, with
    `weights-file`, in one new safetensors file; the input's are never
    modified. Functions whose activations were bf16 or f16 are retyped
    (arguments, results, every op); an op that cannot be retyped is an
    error naming it. `report` emits a summary remark.

    ```mlir
    // weights=bf16, on an f32 model:
    tvc.global @w : tensor<3072x768xf32> = ...
    %y = tvc.linear %x, %w0 : (tensor<1x8x768xf32>, tensor<3072x768xf32>) -> ...
    // becomes
    tvc.global @w.bf16 : tensor<3072x768xbf16> = dense_resource<...>
    %y = tvc.linear %x, %w0 : (tensor<1x8x768xf32>, tensor<3072x768xbf16>) -> ...
    ```
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"keep\"",
           "Element type of the weight matrices: keep, f32, bf16 or f16">,
    Option<"weightsFile", "weights-file", "std::string", /*default=*/"\"\"",
           "Safetensors file for the converted weights (default: inline)">,
    Option<"baseDir", "base-dir", "std::string", /*default=*/"\"\"",
           "Directory that relative weight file names are resolved against">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a summary remark (weights converted, bytes before and "
           "after)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

//===----------------------------------------------------------------------===//
// Pruning
//===----------------------------------------------------------------------===//

def TvcPrune : Pass<"tvc-prune", "::mlir::ModuleOp"> {
  let summary = "Prune linear weights (N:M), attention heads, FFN channels "
                "or whole layers";
  let description = [{
    Four strategies. `strategy=layers` removes the `tvc.layer` ops listed in
    `layers`: each one's result becomes its first input (the residual
    stream passes through), and globals nothing reads any more are erased.
    A listed layer that does not exist, or whose one result does not have
    its first input's type, is an error.

    `strategy=nm` (the default) rewrites dense f32 `tvc.linear` weights (either layout) that are read
    from a `tvc.global` into the 2:4 semi-structured form: in every group of
    four consecutive weights of a row along the input dimension, the two of
    largest score are kept (the earlier one on a tie): the magnitude |W|, or
    with `score=activation` |W| times the L2 norm of that input channel over
    calibration data (one f32 vector per weight global, named after it, in
    the `calibration` file). The result is a
    `#tvc.sparse_nm<n = 2, m = 4>` linear over two new globals, the kept
    values `[out, in/2]` and the position indices `[out, in/8]` (i8), which
    lower to the runtime's 2:4 kernel. A global no other op reads any more
    is erased. The LM head (`tvc.lm_head`) is pruned only with `lm-head`
    (2:4 removes no vocabulary row; in compressed form the head becomes a
    2:4 `tvc.linear` without bias). With
    `format=masked` the pruned matrix stays a dense weight (same layout)
    with zeros in place of the dropped values: the same function through
    the dense kernel, for accuracy studies and for targets where the sparse
    kernel is not faster. `format=auto` decides per matrix with the
    target's cost model (passes/Transforms/PruneCostModel.h): on the CPU
    the 2:4 kernel wins for decode (`workload=decode`) on rows of at least
    256 inputs and never for prefill, so other matrices are stored masked.

    `strategy=heads` and `strategy=channels` remove a fraction `amount` of
    the attention heads or FFN intermediate channels of every block (in
    `layers`, or all), and shrink the weights: the rows of the projections
    that make them, the columns of the projection that reads them, their
    biases, and the widths of the `tvc.split`, `tvc.rope` and
    `tvc.attention` (`heads`, `kv_heads`) between. Under grouped-query
    attention a whole key/value group (a key/value head and its query
    heads) is the unit. Scores: with `score=magnitude` the squared weights
    of a head's slices (q, k, v rows and output columns), or for a channel
    the norm of its down-projection column times the norms of the rows
    that make it; with `score=activation` the energy a head or channel
    brings to the projection that reads it, `sum_c norm_c^2 * |W[:,c]|^2`
    over its channels, from the calibration norms of that projection's
    input. The lowest-scored `round(amount * units)` go (never all).
    A block qualifies when q/k/v come from dense f32 `tvc.linear`s (through
    a `tvc.split` piece and `tvc.rope`s only), its output feeds one dense
    `tvc.linear`, no KV cache is attached (prune before
    `tvc-derive-decode`), and nothing else reads the values in between;
    an FFN is `act(linear)` (`gelu`, `silu`, `relu`) or
    `tvc.glu(linear, linear)` into one dense `tvc.linear`. Others are left
    alone, with a remark under `report`. With `format=masked` the shapes
    stay and the removed heads' or channels' columns of the reading
    projection are zeroed: the same function through the same kernels as
    before, for accuracy studies and as the reference of the shrunk model.

    ```mlir
    // heads 4 -> 3 (amount=0.25): q/k/v [64, 64] -> [48, 64], the output
    // projection [64, 64] -> [64, 48]
    %o = tvc.attention %q, %k, %v heads 3 kv_heads 3 mask(#tvc.causal)
        : tensor<1x?x48xf32>, tensor<1x?x48xf32>, tensor<1x?x48xf32>
    ```

    Skipped quietly (with a remark under `report`): linears whose weight is
    not a `tvc.global`, not f32, already structured, whose input width is
    not a multiple of 4, or outside `layers`. New weights go inline
    (`dense_resource`) or, with `weights-file`, into one safetensors file
    written atomically at the end (never one the module reads).

    ```mlir
    %w = tvc.weight @fc : tensor<64x32xf32>
    %y = tvc.linear %x, %w : (tensor<1x8x32xf32>, tensor<64x32xf32>) -> ...
    // becomes
    %v = tvc.weight @fc.2to4_values : tensor<64x16xf32>
    %i = tvc.weight @fc.2to4_indices : tensor<64x4xi8>
    %y = tvc.linear %x, %v, %i structure(#tvc.sparse_nm<n = 2, m = 4>) ...
    ```
  }];
  let options = [
    Option<"strategy", "strategy", "std::string", /*default=*/"\"nm\"",
           "nm: N:M semi-structured sparsity of linear weights; heads: "
           "attention heads; channels: FFN intermediate channels; layers: "
           "remove the layers listed in 'layers'">,
    Option<"amount", "amount", "double", /*default=*/"0.25",
           "heads/channels: the fraction of each block's heads (key/value "
           "groups) or channels to remove, in (0, 1)">,
    Option<"pattern", "pattern", "std::string", /*default=*/"\"2:4\"",
           "N:M pattern to prune to (only 2:4 has a compressed form)">,
    Option<"lmHead", "lm-head", "bool", /*default=*/"false",
           "Prune the LM head too (compressed: it becomes a 2:4 tvc.linear "
           "without bias; a tied embedding keeps reading the dense table)">,
    ListOption<"layers", "layers", "int64_t",
               "Indices of the tvc.layer ops to act on: nm, heads and "
               "channels prune inside them (default: everywhere); layers "
               "removes them">,
    Option<"score", "score", "std::string", /*default=*/"\"magnitude\"",
           "magnitude: |W|; activation: |W| times the L2 norm of the input "
           "channel over calibration data (Wanda), from 'calibration'">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Safetensors file of input-channel norms per weight global, as "
           "`tvc-run --calibrate` writes it (score=activation)">,
    Option<"format", "format", "std::string", /*default=*/"\"compressed\"",
           "compressed: #tvc.sparse_nm values + indices (the 2:4 kernel); "
           "masked: the same pruned matrix as a dense weight with zeros "
           "(the dense kernel); auto: compressed where the target's cost "
           "model predicts the 2:4 kernel faster for 'workload', else "
           "masked">,
    Option<"workload", "workload", "std::string", /*default=*/"\"decode\"",
           "format=auto: what the model will mostly run, decode (one token "
           "per step) or prefill (many rows per call)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "format=auto: whose kernels the cost model describes (cpu)">,
    Option<"weightsFile", "weights-file", "std::string", /*default=*/"\"\"",
           "Safetensors file for the new weights (default: inline)">,
    Option<"baseDir", "base-dir", "std::string", /*default=*/"\"\"",
           "Directory that relative weight file names are resolved against">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per linear (pruned or why not) and a summary">,
  ];
}

//===----------------------------------------------------------------------===//
// Structured feed-forward layers
//===----------------------------------------------------------------------===//

def TvcPremergeFfn : Pass<"tvc-premerge-ffn", "::mlir::ModuleOp"> {
  let summary = "Multiply low-rank, BlockDense, block-shuffle and LoRA factors "
                "into one dense weight where the cost model (or a forced "
                "policy) says so";
  let description = [{
    A `tvc.linear` with a `#tvc.low_rank<rank = r>` weight (`V [r, in]`,
    `U [out, r]`), a `#tvc.block_dense<blocks = k>` weight (`B [k, r/k,
    in/k]`, `L [out, r]`), a `#tvc.block_shuffle<blocks = k, out_blocks =
    l>` weight (`B1 [k, q, in/k]`, `B2 [l, out/l, k q/l]`) or a
    `#tvc.lora<rank = r, alpha = a>` weight (`W`, `A`, `B`) computes a
    matrix that could be stored dense: `U V`, `L blockdiag(B)`,
    `blockdiag(B2) P blockdiag(B1)` (`P` the shuffle), or `W + (a / r) B A`
    (in W's layout: with `#tvc.lora<..., in_out>` the merged matrix is
    `[in, out]`, read by a `#tvc.dense<in_out>` linear). No nonlinearity
    separates the factors inside one linear op, so merging never changes the function (up to rounding);
    two separate linears with a `tvc.gelu` between them are never touched.

    `policy=merge` computes the dense matrix once, at compile time, through
    the weight store (sums in double precision), writes it as a new global
    (inline, or into `weights-file`) and replaces the linear by a
    `#tvc.dense` one; globals nothing reads any more are erased.
    `policy=keep` changes nothing. `policy=cost` (the default) asks the CPU
    cost model (passes/Transforms/PremergeCostModel.h) which form is faster
    for `workload` (`decode`: one token per call, memory-bound, so the bytes
    read `4 r (in + out)` against `4 in out` decide, plus a per-call
    overhead for the extra kernel call; `prefill`: `tokens` rows per call,
    compute-bound, so the multiply-adds `r (in + out)` against `in out`
    decide; BlockDense's block-diagonal map is one
    `tvc_kernel_block_diagonal_f32` call, at a measured 150 GFLOP/s, and
    block-shuffle two such calls plus the transpose's bytes); a
    LoRA adapter always reads more than its merged matrix,
    so it is merged under `cost`. With `workload=auto` each linear is
    costed for its own entry point (after tvc-derive-decode: `*_decode`
    functions run one token, the others `tokens`), so the prefill and the
    decode step may each get their own form of the same weights: the
    factors stay for one, a merged global is added for the other.
    `report` gives a remark per linear: merged or
    kept, with the model's numbers, or why it was left alone.
    `calibration` replaces the model's built-in constants (measured on the
    build machine) by a file `tvc-calibrate` wrote on the target: its
    bandwidth, per-call overhead, block-diagonal rate and GEMM rates on a
    grid of shapes, interpolated per call; the file is checked before
    anything changes. A low-rank pair is priced as two linear calls (as
    the CUDA pipeline runs it); `fused-low-rank`, which `tvc-compile` sets
    for the CPU, prices it as the CPU pipeline runs it, one
    `tvc_kernel_low_rank_f32` call (one call overhead for a decode row
    instead of two).

    Left alone, with a remark: weights not read from a `tvc.global`, non-f32
    weights, dynamic widths. A dense or 2:4 linear is not a candidate.

    ```mlir
    %y = tvc.linear %x, %v, %u bias %b structure(#tvc.low_rank<rank = 16>)
        : (tensor<1x?x256xf32>, tensor<16x256xf32>, tensor<512x16xf32>,
           tensor<512xf32>) -> tensor<1x?x512xf32>
    // -tvc-premerge-ffn=policy=merge
    %w = tvc.weight @fc.merged : tensor<512x256xf32>
    %y = tvc.linear %x, %w bias %b : (...) -> tensor<1x?x512xf32>
    ```
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"cost\"",
           "keep: leave the factors; merge: always multiply them out; "
           "cost: per linear, whichever the CPU cost model predicts faster "
           "for 'workload'">,
    Option<"workload", "workload", "std::string", /*default=*/"\"decode\"",
           "policy=cost: what the model will mostly run, decode (one token "
           "per call) or prefill ('tokens' rows per call); auto: each "
           "entry point its own (functions named *_decode decode, others "
           "prefill)">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"128",
           "policy=cost, workload=prefill: rows per call (>= 1)">,
    Option<"weightsFile", "weights-file", "std::string", /*default=*/"\"\"",
           "Safetensors file for the merged weights (default: inline)">,
    Option<"baseDir", "base-dir", "std::string", /*default=*/"\"\"",
           "Directory that relative weight file names are resolved against">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per structured linear (merged, kept and why) and a "
           "summary">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "policy=cost: the target's costs from this calibration file "
           "(written by tvc-calibrate) instead of the built-in constants">,
    Option<"fusedLowRank", "fused-low-rank", "bool", /*default=*/"false",
           "policy=cost: price a low-rank linear as the CPU pipeline runs "
           "it, through tvc_kernel_low_rank_f32 (one call for a decode "
           "row; tvc-compile sets it for the CPU); false: as two linear "
           "calls (the CUDA pipeline)">,
  ];
}

def TvcExpandStructuredLinear
    : Pass<"tvc-expand-structured-linear", "::mlir::ModuleOp"> {
  let summary = "Run low-rank and LoRA linears as chains of dense linears";
  let description = [{
    The runtime has kernels for dense, 2:4 and BlockDense linears but not
    for LoRA (nor, on CUDA, for low-rank), so the pipelines run this before
    `convert-tvc-to-runtime`: the factored form executes as it is written,
    without merging. `#tvc.block_dense` and `#tvc.block_shuffle` linears
    are left alone (`convert-tvc-to-runtime` calls
    `tvc_kernel_block_diagonal_f32` for their block-diagonal maps), and so
    are `#tvc.low_rank` ones with `expand-low-rank=false`, which the CPU
    pipeline sets: `convert-tvc-to-runtime` calls the fused
    `tvc_kernel_low_rank_f32` for them (one call; one dispatch on the
    worker pool for a decode row, docs/StructuredFfn.md).

    * `#tvc.low_rank`: `y = U (V x) + b` becomes a dense linear by `V`
      (no bias, `r` outputs) followed by a dense linear by `U` with the bias.
    * `#tvc.lora<rank = r, alpha = a>`: `y = W x + b + (a / r) B (A x)`
      becomes the dense base linear (with the bias, in W's layout), the
      side branch `B (A x)` as two dense linears, a multiplication by the constant
      `a / r` (a `linalg.generic`; left out when `a / r` is 1) and a
      `tvc.add`. The scale is an elementwise op rather than folded into
      `B`'s bytes because this runs inside the weightless lowering
      pipeline; the pipeline's elementwise fusion merges it with the add.
      To fold it into the weights, merge instead (`tvc-premerge-ffn`).

    ```mlir
    %y = tvc.linear %x, %v, %u bias %b structure(#tvc.low_rank<rank = 16>)
        : (tensor<1x?x256xf32>, tensor<16x256xf32>, tensor<512x16xf32>,
           tensor<512xf32>) -> tensor<1x?x512xf32>
    // becomes
    %h = tvc.linear %x, %v : (...) -> tensor<1x?x16xf32>
    %y = tvc.linear %h, %u bias %b : (...) -> tensor<1x?x512xf32>
    ```
  }];
  let options = [
    Option<"expandLowRank", "expand-low-rank", "bool", /*default=*/"true",
           "Expand #tvc.low_rank linears too (false: leave them to "
           "convert-tvc-to-runtime's fused low-rank kernel call)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
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

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

def TvcDeriveDecode : Pass<"tvc-derive-decode", "::mlir::ModuleOp"> {
  let summary = "Derive KV-cached prefill and decode entry points from a full-sequence model";
  let description = [{
    From a function `@f(%ids: [B, T], %positions: [B, T], ...) -> logits`
    that runs the whole sequence, derives two entry points that keep a KV
    cache between calls:

    - `@f_prefill(inputs..., %past_len: tensor<i64>, caches...)` for any
      number of new tokens (a prompt, or a chunk of one);
    - `@f_decode(...)`, the same with the sequence dimension of the inputs
      fixed to 1 (one new token), so its code is specialised.

    Each attention op gets a key and a value cache argument `[B, C, width]`
    (`C` = `max-seq-len`): the step's keys and values are written at rows
    `[past_len, past_len + T)` with `tensor.insert_slice`, and the attention
    reads the first `past_len + T` rows (`kv_len`). The updated caches are
    returned as extra results marked `tvc.updates_arg = <argument index>`;
    bufferization updates them in place. Cache arguments are marked
    `tvc.kv_cache`; positions remain inputs (the caller passes
    `past_len + i`). The derived functions have their layers inlined; the
    original function is kept.

    `max-seq-len` defaults to the row count of a `tvc.learned_positions`
    table when the model has one; otherwise it must be given.

    The prefill's sequence inputs get `tvc.max_shape` `[B, K]`, the most
    new tokens one call takes, which later passes size its buffers by
    (`tvc-plan-memory`): `K = max-prefill-tokens`, by default the capacity.
    A smaller `K` bounds the prefill's activation memory; a caller then
    runs a longer prompt in calls of at most `K` tokens, each after the
    previous ones (`past_len` advancing). The caches keep `C` rows, and
    both functions keep `tvc.kv_cache_capacity = C`.

    *Ring caches.* An attention with `#tvc.sliding_window<window = w>`,
    `w < C`, needs only the last `w` keys: its caches are rings of `w`
    rows (`ring-windows`, on by default), position `p` in row `p mod w`.
    Prefill attends over the ring's `min(past_len, w)` rows taken in
    position order (two slices, concatenated) followed by the `T` new
    rows, under the window mask, and writes the last `min(T, w)` new rows
    into the ring (two `tensor.insert_slice`s: the ring wraps at most
    once). Decode writes its row at `past_len mod w` and attends to the
    `min(past_len + 1, w)` filled rows under `#tvc.full`: they are exactly
    the window, in rotated order, and attention does not depend on the
    order of its keys. The cache of such a layer is `C / w` times smaller.
    `#tvc.window_global<window = w, global = g>` (StreamingLLM's attention
    sinks) keeps `g` rows for the first positions before a ring of `w`:
    prefill concatenates the filled global rows, the ring in position
    order and the new rows (the window then compares the same offsets on
    the compacted rows as on positions), and decode writes at its own row
    below `g` or at `g + (past_len - g) mod w`, attending to the
    `min(past_len + 1, g + w)` filled rows under `#tvc.full`.

    ```mlir
    %o = tvc.attention %q, %k, %v heads 4 kv_heads 2 mask(#tvc.causal) : ...
    // becomes, in @f_prefill and @f_decode
    %kc2 = tensor.insert_slice %k into %kc[0, %past, 0] [1, %t, 32] [1, 1, 1]
    %vc2 = tensor.insert_slice %v into %vc[0, %past, 0] [1, %t, 32] [1, 1, 1]
    %n = arith.addi %past, %t : index
    %o = tvc.attention %q, %kc2, %vc2 heads 4 kv_heads 2 mask(#tvc.causal)
        kv_len(%n) : ...
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Function to derive from (default: the only public function)">,
    Option<"maxSeqLen", "max-seq-len", "int64_t", /*default=*/"0",
           "KV cache capacity in positions (default: the learned positions "
           "table's length)">,
    Option<"maxPrefillTokens", "max-prefill-tokens", "int64_t",
           /*default=*/"0",
           "Most new tokens one prefill call takes (its sequence inputs' "
           "tvc.max_shape), in [1, max-seq-len]; 0: max-seq-len">,
    Option<"ringWindows", "ring-windows", "bool", /*default=*/"true",
           "Sliding-window (and window + global) attention keeps a ring of "
           "`window` cache rows (after the `global` ones) instead of the "
           "full capacity">,
  ];
}

def TvcFuseLinearActivation
    : Pass<"tvc-fuse-linear-activation", "::mlir::ModuleOp"> {
  let summary = "Fuse a GELU, SiLU or ReLU into the linear kernel call it reads";
  let description = [{
    Runs after `convert-tvc-to-runtime`. A `tvc.gelu` (either form),
    `tvc.silu` or `tvc.relu` whose operand is the only use of a dense
    linear kernel call's result (`tvc_kernel_linear_f32`,
    `tvc_kernel_linear_bf16w_f32`, `tvc_kernel_linear_f16w_f32`) with a
    constant `flags` scalar and no activation yet is folded into the call:
    the activation goes into flags bits 3-5 (runtime/api/tvc_kernels.h) and
    the op is replaced by the call's result. The kernel applies it to each
    output after the bias, while the output is in cache (CPU) or in the
    GEMM's epilogue (CUDA: cuBLASLt), so no separate pass over the tensor
    or kernel launch remains. An activation of a `tensor.concat` of such
    calls (the row chunks of `tvc-chunk-weights`) goes into every chunk, so
    a chunked model computes what the whole one does, bit for bit. A
    linear whose result has other uses, a
    structured kernel (2:4, block-diagonal, low-rank) and an activation
    inside a gated FFN (`tvc.glu`) are left alone.

    ```mlir
    %h = tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %b : ...)
        outs(%init : tensor<1x8x3072xf32>)
        scalars(%m, %n, %k, %c1 : i64, i64, i64, i64) -> tensor<1x8x3072xf32>
    %g = tvc.gelu %h approximate tanh : tensor<1x8x3072xf32>
    // becomes
    %g = tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %b : ...)
        outs(%init : tensor<1x8x3072xf32>)
        scalars(%m, %n, %k, %c25 : i64, i64, i64, i64) -> tensor<1x8x3072xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TvcRecomputeKv : Pass<"tvc-recompute-kv", "::mlir::ModuleOp"> {
  let summary = "Cache an attention's input instead of its keys and values, and recompute them";
  let description = [{
    ALISA's third choice for a KV cache besides keeping it and moving it:
    recomputing. Runs on the prefill/decode entry points of
    `tvc-derive-decode`, before `tvc-plan-offload`. For each attention that
    reads a key cache and a value cache (`tvc.kv_cache` arguments), the rows
    written into them are traced back through row-local ops (`tvc.linear`
    with weights, `tvc.split`) to their nearest common input X of the fewest
    bytes per row (GPT-2: the normalised hidden states, half the bytes of a
    key and a value row). The key cache argument becomes a cache of X rows
    (named `<layer>.kv_input`), its slice reads, writes and concatenations
    (a ring's included) are rebuilt over X's width, the value cache
    argument and its result go, and the attention reads keys and values
    computed from the X rows by clones of the two chains. An attention with
    `kv_len(%n)` gets the first `%n` rows and no `kv_len` (its mask sees
    the same relative positions); a chain shared by keys and values (one
    fused QKV linear map) is cloned once.

    The computation is the same; each call costs the linear maps of every
    row attended to (`2 rows d (d_k + d_v)` flops per layer) instead of
    reading cached rows. `tvc-compile --kv-recompute` applies it, or lets
    the offload plan decide (docs/Offload.md). Left as they are, with the
    reason in the report: pairs whose keys pass through `tvc.rope` (it
    reads positions), masks that keep per-key state (`#tvc.alisa`), inputs
    not narrower than a key and a value row (grouped-query attention),
    pairs some entry point cannot rewrite the same way, and, with
    `windowed-only`, pairs of full-length caches (only sliding-window
    layers' rings change, whose recomputation the window bounds).

    ```mlir
    %k = tvc.linear %x, %wk bias %bk : ...
    %v = tvc.linear %x, %wv bias %bv : ...
    %kc = tensor.insert_slice %k into %key_cache[0, %past, 0] [1, 1, 64] [1, 1, 1]
    %vc = tensor.insert_slice %v into %value_cache[0, %past, 0] [1, 1, 64] [1, 1, 1]
    %o = tvc.attention %q, %kc, %vc heads 4 kv_heads 4 mask(#tvc.causal) kv_len(%n)
    // becomes
    %xc = tensor.insert_slice %x into %input_cache[0, %past, 0] [1, 1, 32] [1, 1, 1]
    %rows = tensor.extract_slice %xc[0, 0, 0] [1, %n, 32] [1, 1, 1]
    %k2 = tvc.linear %rows, %wk bias %bk : ...
    %v2 = tvc.linear %rows, %wv bias %bv : ...
    %o = tvc.attention %q, %k2, %v2 heads 4 kv_heads 4 mask(#tvc.causal)
    ```
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark: the pairs rewritten, the bytes saved, and why the "
           "others were left">,
    Option<"windowedOnly", "windowed-only", "bool", /*default=*/"false",
           "Rewrite only the caches of sliding-window layers (rings: fewer "
           "rows than the capacity), whose recomputation the window bounds">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TvcDropCacheResults : Pass<"tvc-drop-cache-results", "::mlir::ModuleOp"> {
  let summary = "Stop returning KV caches that bufferization updated in place";
  let description = [{
    Runs after bufferization. A result marked `tvc.updates_arg = i` (see
    `tvc-derive-decode`) that every return returns as the function's own
    argument `i` is removed: the caller's buffer already holds the update,
    and returning it would only make the deallocation pipeline copy it
    (upstream's `drop-equivalent-buffer-results` leaves public functions
    alone). Results that bufferization had to copy stay. Functions with
    callers in the module are left unchanged.

    ```mlir
    func.func @f_decode(%ids: memref<1x1xi64>, ..., %kc: memref<1x64x64xf32>)
        -> (memref<1x1x256xf32>, memref<1x64x64xf32> {tvc.updates_arg = 3 : i64}) {
      ...
      return %logits, %kc : memref<1x1x256xf32>, memref<1x64x64xf32>
    }
    // becomes
    func.func @f_decode(...) -> memref<1x1x256xf32> {
      ...
      return %logits : memref<1x1x256xf32>
    }
    ```
  }];
}

def TvcPlanMemory : Pass<"tvc-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place temporary buffers in one arena by liveness (a static memory plan)";
  let description = [{
    Runs after bufferization, before deallocation. In every entry point (a
    function without callers in the module) the `memref.alloc`s of the
    entry block whose buffers never leave the function become
    `memref.view`s at fixed offsets of one scratch arena, a new trailing
    argument `memref<?xi8> {tvc.arena}` that the caller allocates once per
    session and reuses for every call: nothing is allocated per call or per
    token, and pages are touched once.

    *Sizes.* A buffer's size is its type's size at the upper bound of its
    dynamic extents. Bounds come from constants, from static dims, and from
    `tvc.max_shape = array<i64: ...>` on function arguments (set by
    `tvc-derive-decode` on the prefill's token inputs: at most the cache
    capacity), through `arith` index arithmetic (`muli`, `addi`, `minui`,
    casts, ...). A buffer without a bound, one whose layout is not the
    identity, one that escapes (aliased by an op that is not a view, or
    returned unless `results` is set) or one allocated inside a region
    stays on the heap. With `results`, returned buffers live in the arena
    until the return: their descriptors' allocated pointer is the arena's,
    which tells callers not to free them, and they are valid until the
    next call that uses the same arena. The CPU pipeline plans after the
    deallocation pipeline with `results` set, so that a KV-cached step
    allocates nothing at all.

    *Liveness.* A buffer lives from its allocation to the last op of the
    entry block that uses it or a view of it (uses inside regions count at
    their top-level op). Buffers whose live ranges overlap get disjoint
    bytes.

    *Placement.* Greedy by size, as TensorFlow Lite's arena planner does:
    largest buffer first, each at the lowest 64-byte aligned offset that
    does not overlap a placed buffer it is live with. The arena's size is
    recorded as `tvc.arena_bytes` on the function (the plan's peak), with
    `tvc.arena_buffers` (buffers placed) and `tvc.heap_buffers` (left to the
    heap). With `report`, one remark per function gives the peak, the sum
    of the placed sizes (what per-buffer allocation would touch) and the
    reasons buffers stayed on the heap.

    ```mlir
    func.func @f(%x: memref<1x?xi64> {tvc.max_shape = array<i64: 1, 64>})
        -> memref<1x?x256xf32> {
      %a = memref.alloc(%t) : memref<1x?x64xf32>   // dead before %b
      %b = memref.alloc(%t) : memref<1x?x64xf32>
      ...
    // becomes
    func.func @f(%x: ..., %arena: memref<?xi8> {tvc.arena})
        -> memref<1x?x256xf32> attributes {tvc.arena_bytes = 16384 : i64} {
      %a = memref.view %arena[%c0][%t] : memref<?xi8> to memref<1x?x64xf32>
      %b = memref.view %arena[%c0][%t] : memref<?xi8> to memref<1x?x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the plan's figures">,
    Option<"results", "results", "bool", /*default=*/"false",
           "Place returned buffers in the arena too (live to the return): "
           "the caller reads them before its next call with that arena">,
  ];
}

def TvcApproximateMath : Pass<"tvc-approximate-math"> {
  let summary = "Replace f32 tanh, erf, exp and log by polynomial approximations";
  let description = [{
    Rewrites `math.tanh`, `math.erf`, `math.exp`, `math.expm1`, `math.log`
    and `math.log1p` on f32 scalars and vectors into arithmetic with
    upstream MLIR's polynomial approximations (the Eigen-derived ones of
    `PolynomialApproximation.cpp`: a few ulp on the ranges that matter).
    Without it they become scalar libm calls that the loop vectorizer
    cannot widen; GPT-2's tanh GELU alone made libm about a tenth of a
    T=512 prefill. Other types and ops are left for the math-to-llvm and
    math-to-libm conversions.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

//===----------------------------------------------------------------------===//
// Attention sparsification
//===----------------------------------------------------------------------===//

def TvcSparsifyAttention
    : Pass<"tvc-sparsify-attention", "::mlir::ModuleOp"> {
  let summary = "Rewrite chosen layers' causal attention to a sparse mask kind";
  let description = [{
    Hard-attention sparsification: each dense causal `tvc.attention`
    (`mask(#tvc.causal)`) of the chosen layers gets a sparse mask, so that
    its query attends to fewer keys and the kernel visits only those
    (cost follows the kept entries, not T^2). Only the mask attribute
    changes; shapes, weights and the KV cache stay, and every later pass
    (`tvc-derive-decode`, the CPU pipeline) carries the mask to the kernel.

    *Kind.* `kind` picks the mask; each kind reads its own options, and
    an option the kind does not read is an error:

    - `window`: `#tvc.sliding_window<window = w>`, query position i sees
      keys j with i - w < j <= i (the window counts the diagonal). `window`
      is required. A window at least as long as the sequence computes what
      causal attention computes.
    - `window-global`: `#tvc.window_global<window = w, global = g>`
      (Longformer, causal): the sliding window plus the first `g` tokens.
      `window` and `global` (>= 1) are required.
    - `block-local`: `#tvc.block_local<block = b, local = l, global = g>`
      (fixed block-sparse layout): in blocks of `b` positions, a query sees,
      causally, its own block and the `l - 1` before it, and the first `g`
      blocks. `block` and `local` are required; `global` defaults to 1
      (Sparse Frontier keeps the first block; `global=0` keeps none).
    - `top-k`: `#tvc.top_k<k = n>` (AxFormer hard attention, data
      dependent): of the causal keys, the `n` with the largest scores.
      `k` is required.
    - `block-top-k`: `#tvc.block_top_k<block = b, k = n>` (block-sparse
      by pooled scores, data dependent): in blocks of `b` positions, a
      query sees its own block (causally) and the `n` earlier blocks whose
      mean key scores highest against it. `block` and `k` are required.
    - `vertical-slash`: `#tvc.vertical_slash<vertical = v, slash = s, last
      = l>` (MInference, data dependent): per head, the `l` last queries of
      a call choose the `v` key columns and the `s` diagonal offsets that
      their softmax weights favour (the first tokens and the most recent
      offsets always among them); each query sees its causal keys on those.
      `vertical` and `slash` are required, `last` defaults to 64.
    - `alisa`: `#tvc.alisa<window = w, k = n>` (ALISA sparse window
      attention, data dependent): the window of `w` keys plus at most `n`
      older keys with the largest accumulated attention weights (keys
      dropped from that set are never seen again). `window` and `k` are
      required. `tvc-derive-decode` keeps the accumulated weights in the
      KV cache (a state tensor per layer).

    Every count is at least 1 (`global` of block-local at least 0).

    *Which layers.* `layers` lists `tvc.layer` indices (`layers=2-11` or
    `layers=1,3,5-7`) whose attention is sparsified; `full-layers` is the
    MASFormer schedule: the listed layers keep full (causal) attention and
    every other layer becomes sparse. They are mutually exclusive. With
    neither, every attention op of the module is sparsified (also one not
    inside a `tvc.layer`); with either, only attention inside the named
    layers' regions is considered. A listed index with no `tvc.layer` is an
    error, reported before anything changes.

    *Left alone.* An attention that already has a sparse mask (any causal
    mask other than `#tvc.causal`) is not rewritten (the pass never changes
    a sparse mask the model was built with, e.g. Mistral's window): a
    remark under `report` when it is the requested one, a warning naming
    both masks when it differs. Bidirectional attention (`#tvc.full`,
    encoders) gets a warning: every kind is causal-only and does not apply.
    With `report`, one remark per attention op says what changed and one
    per module sums it up.

    ```mlir
    // -tvc-sparsify-attention="full-layers=0 window=256"
    %h1 = tvc.layer 1 (%h0) : ... {
      %o = tvc.attention %q, %k, %v heads 12 kv_heads 12 mask(#tvc.causal) : ...
    // becomes
      %o = tvc.attention %q, %k, %v heads 12 kv_heads 12
          mask(#tvc.sliding_window<window = 256>) : ...
    // and with "kind=block-local block=64 local=4" instead
          mask(#tvc.block_local<block = 64, local = 4, global = 1>) : ...
    ```
  }];
  let options = [
    ListOption<"layers", "layers", "std::string",
               "tvc.layer indices or ranges (2-11) to sparsify (default: "
               "every layer); exclusive with full-layers">,
    ListOption<"fullLayers", "full-layers", "std::string",
               "MASFormer schedule: tvc.layer indices or ranges that keep "
               "full attention, all others become sparse; exclusive with "
               "layers">,
    Option<"kind", "kind", "std::string", /*default=*/"\"window\"",
           "Sparse mask kind: window, window-global, block-local, top-k, "
           "block-top-k, vertical-slash or alisa">,
    Option<"window", "window", "int64_t", /*default=*/"0",
           "window, window-global, alisa: keys a query sees, the diagonal "
           "included (required, >= 1; 0: not given)">,
    Option<"global", "global", "int64_t", /*default=*/"-1",
           "window-global: leading tokens every query sees (required, >= "
           "1); block-local: leading blocks every query sees (>= 0, "
           "default 1); -1: not given">,
    Option<"block", "block", "int64_t", /*default=*/"0",
           "block-local, block-top-k: positions per block (required, >= 1; "
           "0: not given)">,
    Option<"local", "local", "int64_t", /*default=*/"0",
           "block-local: blocks a query sees, its own included (required, "
           ">= 1; 0: not given)">,
    Option<"k", "k", "int64_t", /*default=*/"0",
           "top-k: keys with the largest scores each query keeps; "
           "block-top-k: earlier blocks each query keeps by pooled score; "
           "alisa: older keys kept by accumulated weight (required, >= 1; "
           "0: not given)">,
    Option<"vertical", "vertical", "int64_t", /*default=*/"0",
           "vertical-slash: key columns each head keeps (required, >= 1; "
           "0: not given)">,
    Option<"slash", "slash", "int64_t", /*default=*/"0",
           "vertical-slash: diagonal offsets each head keeps (required, >= "
           "1; 0: not given)">,
    Option<"last", "last", "int64_t", /*default=*/"0",
           "vertical-slash: last queries of a call the pattern is estimated "
           "from (>= 1, default 64; 0: not given)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per attention op (changed or why not) and a "
           "summary">,
  ];
}

def TvcPlanOffload : Pass<"tvc-plan-offload", "::mlir::ModuleOp"> {
  let summary = "Place every weight and KV cache resident, streamed or paged under a memory budget";
  let description = [{
    An analysis that writes its result as attributes (nothing is
    rewritten). Given a budget for the bytes of weights and KV caches a run
    may hold, it
    builds each entry point's schedule (the ops in execution order, layer
    bodies included, and which weights each reads: densely, or by a gather
    such as an embedding lookup) and asks a planner
    (passes/Analysis/OffloadPlan.h) where each weight lives:

    - `resident`: read once when the model is loaded;
    - `streamed`: read from the weights file ahead of its first use in each
      call by the runtime's I/O thread, evicted after its last use;
    - `paged`: only gathered (a few rows per call): demand-paged, its
      touched pages dropped after the call's last gather.

    Each `tvc.kv_cache` argument of the entry points is an item as well
    (used from its first slice update to its attention): resident (the
    caller's buffer), streamed (kept in the executor's spill file; a call
    reads its valid rows, `kv-position` of them for predictions, default
    the capacity, and writes its new rows back), or, with
    `attention-offload`, `host_attention`: it stays in a slower tier that
    runs its attention (Lamina), holding no budget, its step costing
    `attention-latency` plus the valid rows at `host-attention-bandwidth`.
    Ring caches of sliding-window layers, and every cache with
    `kv=resident`, stay resident.

    `planner=reference` streams every weight read inside a tvc.layer,
    prefetching at most `depth` layers ahead, and keeps the rest resident.
    `planner=cost` (default) starts from everything streamed and makes the
    largest weights resident while the predicted steady-state time does
    not grow (each step's compute predicted from the bytes it reads at
    `compute-bandwidth`, reads at `read-bandwidth` plus `read-overhead`
    each, one read at a time; largest-first and most-time-saved-per-byte
    orders both tried),
    prefetching as far ahead as the budget allows.

    The result: `tvc.placement` on each tvc.global that an entry reads,
    `tvc.gather_bytes` on the gathered ones (the bytes a call touches),
    `tvc.kv_placement` and `tvc.kv_item` (the cache's ordinal) on each KV
    cache argument, and
    `tvc.slot_offset` / `tvc.kv_slot_offset` on streamed items (where in
    the executor's page pool each is read to, fixed for every call: items
    held at the same time never overlap), and
    `tvc.offload = {budget, reserved, planner, depth, read_bandwidth,
    kv_caches, pool_bytes}` on the module,
    which tvc-materialize-offload (in the CPU pipeline) turns into prefetch,
    wait and evict calls. A remark summarises the plan; `report=FILE`
    writes it as JSON (items, placements, actions per step, predicted
    times, bytes read per call, peak). A budget below what any plan needs
    is an error that names the minimum.

    With `paging=false` (the CUDA target: device memory is not demand
    paged) an embedding or position table is read whole by its gather,
    like a dense weight, and stays live until the ops that consume the
    gathered rows (lowered, the gather fuses into an elementwise consumer,
    e.g. GPT-2's add of token and position rows): it is resident or
    streamed, never paged, and carries no `tvc.gather_bytes`.

    `budget` is bytes with an optional unit (`512MiB`, `1.5GiB`, `800KB`)
    or a percentage of what a run holds with nothing streamed: the weights
    the entry points read, their KV caches and the `reserved` bytes
    (`25%`). `reserved` (default 0) is the part of the budget held by what
    the plan does not place, such as the activation arenas tvc-compile
    measures: the planner places the items in the budget less the
    reserve (`tvc.offload`'s `budget`, what the executor may hold, beside
    `reserved`), and a budget not above the reserve is an error.
  }];
  let options = [
    Option<"budget", "budget", "std::string", /*default=*/"\"\"",
           "Bytes of weights, KV caches and reserve a run may hold: N, "
           "N{KB,MB,GB,KiB,MiB,GiB} or P%">,
    Option<"reserved", "reserved", "uint64_t", /*default=*/"0",
           "Bytes of the budget held by what the plan does not place (the "
           "activation arenas)">,
    Option<"planner", "planner", "std::string", /*default=*/"\"cost\"",
           "reference (stream layers, depth ahead) or cost">,
    Option<"depth", "depth", "unsigned", /*default=*/"1",
           "Reference planner: layers prefetched ahead of the running one">,
    Option<"readBandwidth", "read-bandwidth", "double", /*default=*/"2e9",
           "Bytes per second read from the weights file">,
    Option<"readOverhead", "read-overhead", "double", /*default=*/"5e-5",
           "Seconds each read costs besides its bytes">,
    Option<"computeBandwidth", "compute-bandwidth", "double",
           /*default=*/"2e10",
           "Bytes of weights per second the kernels consume (predictions)">,
    Option<"computeFlops", "compute-flops", "double", /*default=*/"1e11",
           "Floating-point operations per second of the linear maps: a step's "
           "predicted time is the larger of its bytes at compute-bandwidth "
           "and its flops (2 x rows x weight elements; dynamic rows at the "
           "sequence bound, or kv-position) at this rate">,
    Option<"kv", "kv", "std::string", /*default=*/"\"plan\"",
           "KV caches: plan (the planner places them) or resident">,
    Option<"kvPosition", "kv-position", "int64_t", /*default=*/"0",
           "Valid KV-cache rows assumed for predictions (0: the capacity)">,
    Option<"attentionOffload", "attention-offload", "bool",
           /*default=*/"false",
           "The slower tier runs attention (host CPU next to a GPU): KV "
           "caches may stay there (host_attention)">,
    Option<"hostAttentionBandwidth", "host-attention-bandwidth", "double",
           /*default=*/"1e10",
           "Bytes of KV cache per second attention reads where it lives">,
    Option<"attentionLatency", "attention-latency", "double",
           /*default=*/"3e-5",
           "Seconds one offloaded attention adds (q/k/v out, output back)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the plan as JSON to this file">,
    Option<"paging", "paging", "bool", /*default=*/"true",
           "Gather-only tables may be demand-paged (false: a gather reads "
           "its table like any other op, as on CUDA, where device memory "
           "is not paged)">,
  ];
}

def TvcMaterializeOffload : Pass<"tvc-materialize-offload", "::mlir::ModuleOp"> {
  let summary = "Turn the offload plan into prefetch, wait and evict calls";
  let description = [{
    Runs on bufferized code (the CPU pipeline runs it after
    tvc-plan-memory), where the order of ops is final. Does nothing in a
    module without `tvc.offload`. For every entry point that takes the
    weights blob, each weight's reads are found through the views of the
    blob at its offset (`tvc.offset`, recorded by
    convert-tvc-weights-to-memref, which gives every weight its own pages
    when a plan exists): a read by an op of the entry block is a dense use
    at that op; a read nested in an op's region of a weight marked
    `tvc.gather_bytes` is a gather. From these schedules and the placements
    of tvc-plan-offload it derives the actions the planner would
    (offload::scheduleActions), replays them against the budget
    (offload::simulate; a plan the lowered order breaks is an error), and
    inserts them as calls of the runtime's executor. A wait returns where
    the weight's bytes are until its eviction (a slot of the executor's
    pool, or the weight's own offset `home`), and the weight's dense reads
    view the blob there, so none can run before it:

    ```mlir
    %at = func.call @tvc_offload_wait(%weights, %c3, %home)
        : (memref<?xi8>, i64, i64) -> i64
    %i = arith.index_cast %at : i64 to index
    %w = memref.view %weights[%i][] : memref<?xi8> to memref<768x768xf32>
    ```

    `tvc_offload_prefetch`, `tvc_offload_wait`, `tvc_offload_evict`
    (runtime/api/tvc_offload.h) take the blob, so no read of it moves
    across them, and an item index: the position of the weight among the
    laid-out globals (`tvc.offload_item` on each), as the manifest lists
    them. Gathers keep reading the weight's own (demand-paged) range.

    A streamed KV cache (`tvc.kv_placement`) gets `tvc_offload_kv_prefetch`
    and `tvc_offload_kv_wait` with `past_len` (the valid rows) and, after
    its attention, `tvc_offload_kv_evict` with the rows the step copied
    into it. The wait's answer selects the cache's buffer from then on: a
    view of the blob at a pool slot, or at -1 the caller's argument
    (`arith.select`), so the same code runs with or without an executor.
    `host_attention` placements are an error unless `host-attention` is
    set (the CUDA pipeline: such a cache is the caller's host buffer and
    its attention runs on the host, `tvc-gpu-select-kernels`): then they get
    no calls and hold no budget. The pool slots are derived again for the
    lowered schedule (`offload::assignSlots`) and the attributes updated
    (removed when none fit: the executor then allocates slots first fit).
  }];
  let options = [
    Option<"hostAttention", "host-attention", "bool", /*default=*/"false",
           "The target runs attention where a host_attention KV cache "
           "lives (CUDA: on the host CPU)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TvcChunkWeights : Pass<"tvc-chunk-weights", "::mlir::ModuleOp"> {
  let summary = "Split large linear and LM-head matrices into row chunks";
  let description = [{
    A matrix an offload plan has to hold whole while its op runs sets the
    least budget any plan needs: GPT-2's tied 154 MB vocabulary matrix is
    31 % of the model. This pass splits every `tvc.lm_head` and dense
    `out_in` `tvc.linear` (rows are output channels; an `in_out` matrix's
    rows are input channels and it stays whole) whose weight (read straight from a `tvc.weight`) exceeds
    `max-bytes` into ops over consecutive output rows, each reading its own
    global `#tvc.rows<@source, start>` (and its rows of the bias), and
    concatenates their results (`tensor.concat` on the last dimension).
    The results are the same numbers: each output element is computed from
    the same row and input, by the same kernel. Chunks are as equal as the
    rows allow; the source global stays for its other readers (a tied
    embedding's gather). tvc-compile runs it with a quarter of the offload
    budget before tvc-plan-offload.
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "std::string", /*default=*/"\"\"",
           "Largest matrix left whole: N, N{KB,MB,GB,KiB,MiB,GiB} or P% of "
           "the weights the entry points read">,
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // TVC_TRANSFORMS_PASSES
