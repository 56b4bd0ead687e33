//===- Passes.td - tvc passes of the CUDA target ------------*- tablegen -*-===//
//
// The steps that take a bufferized, memory-planned tvc module (the CPU
// pipeline's common prefix) to host code plus outlined GPU kernels. Each is
// testable on its own with tvc-opt; lib/Pipelines/Pipelines.cpp strings them
// together as tvc-cuda-pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_GPU_PASSES
#define TVC_PASSES_GPU_PASSES

include "mlir/Pass/PassBase.td"

def TvcGpuSelectKernels : Pass<"tvc-gpu-select-kernels", "::mlir::ModuleOp"> {
  let summary = "Point runtime kernel calls at the runtime's CUDA entries";
  let description = [{
    The heavy ops reach this point as `tvc.kernel_call "tvc_kernel_<name>"`
    whose params structs are the same on every target (runtime/api/
    tvc_kernels.h). For the CUDA target the callee becomes
    `tvc_cuda_kernel_<name>` (runtime/api/tvc_cuda.h), which takes the same
    struct with device pointers and queues its work on the current stream.
    A kernel without a CUDA entry, or an attention mask kind the CUDA
    attention kernel does not implement (known at compile time from the
    call's constant `mask_kind`), is an error naming both, so a model that
    cannot run never compiles.

    `precision=tf32` sets `TVC_LINEAR_ALLOW_TF32` in every linear call's
    flags: cuBLAS may then round the GEMM's inputs to TF32 and use tensor
    cores (accumulation stays fp32). `fp32`, the default, keeps full fp32
    math.

    ```mlir
    tvc.kernel_call "tvc_kernel_linear_f32" ins(...) outs(...) scalars(...)
    // becomes
    tvc.kernel_call "tvc_cuda_kernel_linear_f32" ins(...) outs(...) scalars(...)
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "GEMM math: fp32 or tf32">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TvcGpuPrepareBuffers : Pass<"tvc-gpu-prepare-buffers", "::mlir::ModuleOp"> {
  let summary = "Make the host code's buffer operations device operations";
  let description = [{
    Runs after bufferization and tvc-plan-memory. On the CUDA target every
    buffer but the rank-0 scalar arguments (e.g. `past_len`) is device
    memory, so what the CPU pipeline leaves to the host must move:
    `memref.copy` becomes `linalg.copy` (a generated kernel, like any other
    linalg op), and a `memref.alloc`/`memref.dealloc` the memory plan could
    not place in the arena (a buffer without a size bound) becomes
    `gpu.alloc`/`gpu.dealloc` (device memory per call: the pass emits a
    remark, since such entry points allocate on every call).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def TvcGpuMapLoops : Pass<"tvc-gpu-map-loops", "::mlir::func::FuncOp"> {
  let summary = "Tile outermost parallel loops into blocks of threads and map them";
  let description = [{
    Runs on the `scf.parallel` nests `convert-linalg-to-parallel-loops`
    makes of the generated (non-kernel) code, before
    `convert-parallel-loops-to-gpu`. Each outermost parallel loop is tiled so
    that its inner loop covers up to `threads` iterations, taken from the
    innermost dimension outwards over at most three dimensions: a static
    extent smaller than what is left is taken whole (rounded up to a power
    of two) and the next dimension gets the rest; a dynamic extent takes
    all that is left. The tiles have no min/max bounds (iterations past the
    end are guarded by `scf.if`), so the inner loop has a constant size.

    Then the loops are mapped innermost dimension first, so that
    consecutive threads touch consecutive elements: the inner loop's last
    three dimensions to threads x, y, z, the outer loop's to blocks x, y, z
    (x has the largest limits), any further dimension to a sequential loop
    in the kernel. (Upstream's `gpu-map-parallel-loops` maps the first
    dimension to x.)

    ```mlir
    scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %t, %c64) ...
    // threads=256: tiles [1, 4, 64], blocks (1, ceil(t/4), 1)
    // in x, y, z = (k, j, i) order
    ```
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block (the product of the inner loop's extents)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::gpu::GPUDialect"];
}

def TvcGpuMergeModules : Pass<"tvc-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "Put every outlined kernel into one gpu.module";
  let description = [{
    Runs after `gpu-kernel-outlining`, which gives each kernel a
    `gpu.module` of its own: one PTX compilation (ptxas, fatbinary) and one
    module load at start-up per kernel. This pass moves every kernel into
    one module, `@tvc_kernels`, each named after the module it came from
    (unique by construction), and points the launches at it. Modules with
    anything but kernel functions are left alone.

    ```mlir
    gpu.module @f_kernel { gpu.func @f_kernel(...) kernel {...} }
    gpu.module @f_kernel_0 { gpu.func @f_kernel(...) kernel {...} }
    gpu.launch_func @f_kernel_0::@f_kernel ...
    // becomes
    gpu.module @tvc_kernels {
      gpu.func @f_kernel(...) kernel {...}
      gpu.func @f_kernel_0(...) kernel {...}
    }
    gpu.launch_func @tvc_kernels::@f_kernel_0 ...
    ```
  }];
}

def TvcGpuAsyncLaunches : Pass<"tvc-gpu-async-launches", "::mlir::ModuleOp"> {
  let summary = "Queue every launch of a function on one stream, in order";
  let description = [{
    Runs after `gpu-kernel-outlining`. Upstream lowers a synchronous
    `gpu.launch_func` to "create a stream, launch, synchronise, destroy",
    a host round trip per kernel. Here each function that launches kernels
    gets one `gpu.wait async` at its start (lowered to `mgpuStreamCreate`,
    which tvc's runtime answers with the thread's current stream, the one
    the runtime kernel entries use too), every launch becomes asynchronous
    on that token, as do the device allocations and frees of buffers the
    memory plan could not place (`gpu.alloc`, `gpu.dealloc`; upstream
    lowers only asynchronous ones), and the function waits once, before
    each return. So kernels, runtime kernel calls and
    launches run in program order on one stream, and the host waits once
    per entry-point call.
  }];
}

def TvcGpuCheckHostAccess : Pass<"tvc-gpu-check-host-access", "::mlir::ModuleOp"> {
  let summary = "Reject host code that would read or write device memory";
  let description = [{
    Runs after `gpu-kernel-outlining`. In the CUDA target's host code the
    only memory the host may touch is that of rank-0 function arguments
    (scalars such as `past_len`, which the caller passes in host memory);
    everything else is device memory. A `memref.load`/`memref.store` (or any
    other op reading or writing a memref) left outside a kernel on any other
    buffer is an error naming the op, instead of a crash at run time.
  }];
}

#endif // TVC_PASSES_GPU_PASSES
