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
    Softmax (keys and values possibly concatenated after past ones), whose
    mask is read from the graph (constant buffers are read through the
    weight store, relative to `weights-dir`, and constant mask expressions
    folded) and classified at the queries' positions. The opset-23
    `Attention` op and com.microsoft `GroupQueryAttention` with past KV
    become `tvc.attention` plus generic Concats for the present KV.

    Then factored layers as torch.onnx.export writes them become one
    structured linear: `nn.Linear(in, r, bias=False)` directly followed by
    `nn.Linear(r, out)` with `r < min(in, out)` becomes `#tvc.low_rank`, and
    PEFT's LoRA layer `base(x) + lora_B(lora_A(x)) * s` (either operand
    order of the Add, `s` a scalar constant or absent) becomes
    `#tvc.lora<rank = r, alpha = s r>`. A BlockDense layer (x cut into k
    slices multiplied by a stack of blocks with an Einsum or a batched
    MatMul, then `nn.Linear(r, out)`) becomes `#tvc.block_dense<blocks =
    k>`, and a block-shuffle (Monarch) layer (two such block stages with
    the transpose of the first one's `(k, q)` grid between, then the
    optional bias) `#tvc.block_shuffle<blocks = k, out_blocks = l>`.
    Factors must be constant weights and
    the intermediate results used only by the next factor. Weights stored
    `[in, out]` are transposed once into new inline globals `<name>.out_in`
    (tvc-import moves them into its weights file).

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

def ConvertOnnxToLinalg : Pass<"convert-onnx-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the ONNX nodes that stay generic to linalg on tensors";
  let description = [{
    Lowers `tvc_onnx.node` ops of the default ONNX domain that
    `convert-onnx-to-tvc` did not raise (position-id arithmetic such as
    `Shape -> Gather -> Cast -> Range -> Unsqueeze -> Add`, constants, shape
    plumbing) to `linalg`, `tensor`, `arith` and `math` on tensors, so the
    CPU pipeline can compile them. Handlers sit in a table keyed by op type
    and the opset they hold from (the highest since-version not above the
    node's opset wins), one file per family:

    - `Elementwise.cpp`: Add Sub Mul Div Pow Max Min Sum Sqrt Exp Log Tanh
      Erf Sin Cos Tan Sinh Cosh Floor Ceil Neg Abs Reciprocal Sigmoid Relu
      Equal Less LessOrEqual Greater GreaterOrEqual Not And Or Xor Where
      (and Trilu), one parallel
      `linalg.generic` with ONNX multidirectional (numpy) broadcasting of
      static unit dimensions (a dynamic dimension is taken not to stretch)
      and dynamic sizes read with `tensor.dim`; floats and signless
      integers (integer Div rounds toward zero);
    - `Shape.cpp`: Shape, Reshape (0 and -1, the shape constant or read at
      run time), Unsqueeze, Squeeze, Flatten, Transpose, Concat, Slice
      (constant axes and steps, negative ones included; starts and ends
      constant or run-time, clamped), Expand, Gather (negative indices
      wrap, out-of-range ones clamp), Split, Range, ConstantOfShape,
      Constant, Identity, Cast, CastLike;
    - `Reduction.cpp`: ReduceSum/Mean/Max/Min (axes as attribute or input
      per opset, keepdims), Softmax and LogSoftmax (2-D coercion before
      opset 13), LayerNormalization, ArgMax/ArgMin;
    - `Matmul.cpp`: MatMul with broadcast batch dimensions and 1-D
      operands, Gemm.

    Results take the types the importer's shape inference gave the nodes;
    where it left a result unranked (after a Reshape by a computed shape)
    the rank comes from the operands. A lowered value feeds other generic
    nodes as it is, and other users through a `tensor.cast` to the type
    they had. A node no handler lowers (unknown op, other domain, axes read
    at run time, an unsigned or otherwise unsupported type) stays
    unchanged and
    the pass succeeds; with `strict` the pass fails instead, listing every
    remaining node's op type, opset and name in one error.

    ```mlir
    %p = tvc_onnx.node "Range"(%start, %limit, %delta) {attrs = {},
        domain = "", version = 17 : i64}
        : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
    // becomes
    %s = tensor.extract %start[] : tensor<i64>
    ...
    %n = arith.index_cast (max(ceildiv(%l - %s, %d), 0)) : i64 to index
    %init = tensor.empty(%n) : tensor<?xi64>
    %p = linalg.generic {... iterator_types = ["parallel"]}
        outs(%init : tensor<?xi64>) {
    ^bb0(%out: i64):
      %i = linalg.index 0 : index
      ...
      linalg.yield (%s + %i * %d)
    } -> tensor<?xi64>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
  let options = [
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Fail when any ONNX node remains unlowered, listing them all">,
  ];
}

//===----------------------------------------------------------------------===//
// tvc to the runtime (heavy ops, weights)
//===----------------------------------------------------------------------===//

def ConvertTvcToRuntime : Pass<"convert-tvc-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower heavy tvc ops to runtime kernel calls";
  let description = [{
    Rewrites the ops the runtime owns a kernel for into `tvc.kernel_call`
    in destination-passing style on tensors (IREE's ukernel idea): the
    kernel's params struct is the call's buffers followed by its scalars
    (sizes computed from `tensor.dim`, attributes as constants), in the
    order the runtime header `runtime/api/tvc_kernels.h` declares.

    - `tvc.linear` with a dense structure -> `tvc_kernel_linear_f32`
      (`y[m,n] = x[m,k] W^T + b`, `m` the product of the leading dims);
      with a 2:4 `#tvc.sparse_nm` one -> `tvc_kernel_linear_2to4_f32`;
      with `#tvc.block_dense<blocks = k>` (static blocks and input width)
      -> `tvc_kernel_block_diagonal_f32` into `[..., r]`, then
      `tvc_kernel_linear_f32` by `L` with the bias;
    - `tvc.linear` with `#tvc.block_shuffle<blocks = k, out_blocks = l>`
      (static blocks and input width) -> `tvc_kernel_block_diagonal_f32` by
      `B1` into `z [..., k q]`, the shuffle as a `linalg.transpose` of `z`
      viewed `[..., k, q]` (between `tensor.expand_shape` and
      `tensor.collapse_shape`), then `tvc_kernel_block_diagonal_f32` by `B2`
      with the bias;
    - `tvc.linear` with `#tvc.low_rank` (left by
      `tvc-expand-structured-linear expand-low-rank=false`, as the CPU
      pipeline runs it) -> one `tvc_kernel_low_rank_f32` call,
      `y = U (V x) + b`;
    - `tvc.lm_head` -> `tvc_kernel_linear_f32` without bias;
    - `tvc.attention` with a full, causal or sliding-window mask and equal
      key and value head widths -> `tvc_kernel_attention_f32`.

    Other ops are left alone; a heavy op the runtime has no kernel for (a
    LoRA linear, another mask kind, a non-f32 type) is an
    error naming what is missing, since nothing later could lower it.

    ```mlir
    %y = tvc.linear %x, %w : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
    // becomes
    %init = tensor.empty(%t) : tensor<1x?x256xf32>
    %y = tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %w : ...)
        outs(%init : tensor<1x?x256xf32>) scalars(%m, %n, %k, %flags : i64, i64, i64, i64)
        -> tensor<1x?x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tvc::TvcDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def ConvertTvcWeightsToMemref : Pass<"convert-tvc-weights-to-memref",
                                     "::mlir::ModuleOp"> {
  let summary = "Lay the weights out in one blob read through a function argument";
  let description = [{
    Gives every `tvc.global` that a function reads an offset in one weights
    blob (64-byte aligned, in module order; recorded as `tvc.offset` on the
    global and `tvc.weights_bytes` on the module, which the artifact writer
    and the runtime follow), adds a trailing `memref<?xi8>` argument marked
    `tvc.weights` to each function that reads weights, and replaces each
    `tvc.weight` by a `memref.view` of that argument at the weight's offset,
    entered into tensors with `bufferization.to_tensor restrict` (weights
    are read-only: bufferization copies before any in-place write).

    With an offload plan (`tvc.offload`) every weight gets pages of its
    own (4096-byte aligned; those of 2 MiB or more start on a 2 MiB
    boundary, the smaller ones filling the gaps). A plan without paging
    (`paging = false`: device memory) lays the weights not streamed first
    and together, the streamed ones after them, so that the device memory
    backing the former, mapped in 2 MiB granules, ends within a granule of
    their pages.

    ```mlir
    %w = tvc.weight @wte : tensor<256x64xf32>
    // becomes
    %c0 = arith.constant 0 : index
    %v = memref.view %weights[%c0][] : memref<?xi8> to memref<256x64xf32>
    %w = bufferization.to_tensor %v restrict : memref<256x64xf32> to tensor<256x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ConvertTvcKernelsToLLVM : Pass<"convert-tvc-kernels-to-llvm",
                                   "::mlir::ModuleOp"> {
  let summary = "Lower bufferized tvc.kernel_call ops to C calls with a params struct";
  let description = [{
    Runs after bufferization. Each memref-form `tvc.kernel_call` becomes: the
    aligned pointer of each (contiguous) buffer, an `!llvm.struct` of those
    pointers followed by the scalars, stored to a stack slot allocated once
    in the function's entry block, and a `func.call` of the callee with a
    pointer to it. The callee is declared as
    `func.func private @callee(!llvm.ptr) -> i32` (the runtime's status).

    ```mlir
    tvc.kernel_call "tvc_kernel_linear_f32" ins(%x, %w, %w : ...) outs(%y : ...)
        scalars(%m, %n, %k, %flags : i64, i64, i64, i64)
    // becomes
    %px = ... llvm.inttoptr (memref.extract_aligned_pointer_as_index %x)
    %s = llvm.insertvalue ... : !llvm.struct<(ptr, ptr, ptr, ptr, i64, i64, i64, i64)>
    llvm.store %s, %slot
    %status = func.call @tvc_kernel_linear_f32(%slot) : (!llvm.ptr) -> i32
    %failed = arith.cmpi ne, %status, %c0_i32 : i32
    scf.if %failed {
      %name = llvm.mlir.addressof @__tvc_kernel_name.tvc_kernel_linear_f32 : !llvm.ptr
      func.call @tvc_runtime_kernel_failed(%name, %status) : (!llvm.ptr, i32) -> ()
    }
    ```

    The status is never ignored: a non-zero one is reported to the runtime's
    `tvc_runtime_kernel_failed(const char *kernel, int32_t status)` with the
    kernel's name (a private constant `@__tvc_kernel_name.<callee>`, one per
    kernel), which records the thread's first failure for the host to read
    after the entry point returns (`tvc_runtime_kernel_error`). Execution
    then goes on: generated code does not abort, so a host keeps control.
    Runs before `convert-scf-to-cf`, which lowers the `scf.if`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

//===----------------------------------------------------------------------===//
// tvc to linalg (light ops)
//===----------------------------------------------------------------------===//

def ConvertTvcToLinalg : Pass<"convert-tvc-to-linalg"> {
  let summary = "Lower light tvc ops to linalg on tensors";
  let description = [{
    Lowers the ops that need no runtime kernel to linalg on tensors
    (`linalg.generic`, `linalg.fill`, `tensor.empty`/`dim`/`extract`/
    `extract_slice`/`expand_shape`/`collapse_shape`, `arith`, `math`), with
    dynamic sizes (usually the sequence) read by `tensor.dim`:

    - `tvc.gelu` (erf form via `math.erf`, tanh form via `math.tanh`),
      `tvc.silu`, `tvc.relu`, `tvc.add`, `tvc.glu`: one parallel generic;
    - `tvc.layer_norm`, `tvc.rms_norm`: row sums (the variance as the mean of
      squared deviations), per-row `1 / sqrt(. + epsilon)`, then one
      elementwise generic applying scale and bias;
    - `tvc.softmax`: row max, sum of `exp(x - max)`, then the quotient;
    - `tvc.argmax`: one reduction carrying value and index (ties pick the
      lowest index, NaN counts as largest);
    - `tvc.embedding`, `tvc.learned_positions`: `tensor.extract` of the table
      row at the id (clamped into the table) inside a generic;
    - `tvc.rope`: per-channel frequencies for every scaling kind computed at
      compile time in double precision and emitted as constants, cos/sin per
      (batch, position, channel), and a generic over
      `[batch, seq, heads, head_dim]` combining each channel with its partner
      (rotate-half or interleaved pairs; channels past `rotary_dim` pass
      through; YaRN scales the rotated channels by `0.1 ln s + 1`);
    - `tvc.split`: one `tensor.extract_slice` per piece.

    The conversion is partial: heavy ops (`tvc.linear`, `tvc.lm_head`,
    `tvc.attention`), weights and layers are left for other passes. Only f32
    tensors are supported (and `tvc.rope` needs a static width); any other
    op of the list is an error naming what is unsupported, and nothing is
    converted.

    ```mlir
    %y = tvc.silu %x : tensor<1x?x64xf32>
    // becomes
    %t = tensor.dim %x, %c1 : tensor<1x?x64xf32>
    %init = tensor.empty(%t) : tensor<1x?x64xf32>
    %y = linalg.generic {... iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%x : tensor<1x?x64xf32>) outs(%init : tensor<1x?x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %neg = arith.negf %in : f32
      %exp = math.exp %neg : f32
      %den = arith.addf %one, %exp : f32
      %silu = arith.divf %in, %den : f32
      linalg.yield %silu : f32
    } -> tensor<1x?x64xf32>
    ```

    Upstream passes that take the result to the LLVM dialect on a CPU
    (`math.erf` has no LLVM intrinsic, so `convert-math-to-libm` turns it
    into a call of `erff`; `convert-math-to-llvm` runs first so that exp,
    cos, sin, sqrt and tanh become LLVM intrinsics instead of libm calls;
    `buffer-deallocation-pipeline` runs on the module, since lowering a
    `bufferization.dealloc` of several buffers adds a helper function):

    ```
    convert-tvc-to-linalg,
    one-shot-bufferize{bufferize-function-boundaries
                       function-boundary-type-conversion=identity-layout-map},
    buffer-deallocation-pipeline, convert-linalg-to-loops,
    convert-scf-to-cf, expand-strided-metadata, lower-affine,
    convert-math-to-llvm, convert-math-to-libm, finalize-memref-to-llvm,
    convert-arith-to-llvm, convert-cf-to-llvm, convert-func-to-llvm,
    reconcile-unrealized-casts
    ```

    The run tests (`test/Conversion/TvcToLinalg/run-*.mlir`) JIT exactly
    this pipeline with `mlir-runner`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // TVC_CONVERSION_PASSES
