/*===- tvc_cuda.h - The CUDA part of the tvc runtime C ABI -----------------===*
 *
 * What CUDA artifacts emitted by `tvc-compile --target=cuda` call, besides
 * the upstream-named `mgpu*` functions their generated host code uses for
 * module loading and kernel launches (runtime/base/CudaGpuRuntime.cpp).
 *
 * Streams: every kernel entry below and every generated launch runs on the
 * calling thread's current stream (tvc_cuda_set_stream; NULL, the default,
 * is CUDA's legacy default stream). Nothing here synchronises (but the
 * host attention entry below): a caller that reads results on the host
 * synchronises the stream first (tvc_cuda_stream_synchronize). Pointers
 * in params structs are device pointers (tvc_cuda_kernel_host_attention_f32,
 * which runs attention on the host over caches in mapped host memory, is
 * the one exception). A runtime built without CUDA has every function,
 * each returning TVC_UNAVAILABLE.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_CUDA_H
#define TVC_RUNTIME_API_TVC_CUDA_H

#include "runtime/api/tvc_kernels.h"
#include "runtime/api/tvc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The calling thread's current stream (a cudaStream_t), NULL by default. */
void *tvc_cuda_get_stream(void);
/* Makes `stream` (a cudaStream_t, or NULL for the legacy default stream)
   the calling thread's current stream. The caller keeps ownership. */
tvc_status_t tvc_cuda_set_stream(void *stream);
/* Creates a non-blocking stream / destroys one made here. */
tvc_status_t tvc_cuda_stream_create(void **out_stream);
tvc_status_t tvc_cuda_stream_destroy(void *stream);
/* Waits for everything queued on the calling thread's current stream;
   reports the first asynchronous error of its work. */
tvc_status_t tvc_cuda_stream_synchronize(void);

/* The most recent failure of the mgpu* functions that generated CUDA host
   code calls (module loading, launches, copies; they return void in MLIR's
   ABI and print one line to stderr when they fail), process-wide, and
   clears it: TVC_OK with "ok" when none failed since the last call. The
   message names the function and the CUDA error (or says that there is no
   driver or no device) and stays valid until this thread's next call. */
tvc_status_t tvc_cuda_last_error(const char **out_message);

/* Kernel entries: the CPU entries' semantics and params structs
   (tvc_kernels.h) with device pointers, queued on the current stream.
   Besides the CPU entries' argument checks, a params combination the CUDA
   kernel does not implement yet would be TVC_INVALID_ARGUMENT (none at
   present: every attention mask kind has a CUDA kernel); the compiler
   rejects those at compile time.
   Arguments are checked before any CUDA call. Allocation: each host thread
   gets, lazily on its first call, a cuBLAS handle with its own workspace
   and a device scratch buffer (attention's split-KV partials, the 2:4
   kernel's weights expanded to [n,k] fp32 for more than 8 rows) that grows
   when a call needs more than any before it on that thread (cudaFree +
   cudaMalloc, which wait for the device) and is reused after that, so a
   warm decode loop allocates nothing; they are freed when the thread
   exits (docs/CudaTarget.md). */
tvc_status_t tvc_cuda_kernel_linear_f32(const tvc_linear_f32_params_t *params);
/* 16-bit weights (tvc_kernel_linear_bf16w_f32's params): unlike the CPU
   entries, GEMMs with more than a few rows round x to the weights' type in
   the thread's device scratch and run on tensor cores with fp32
   accumulation (cuBLAS has no fp32 x 16-bit GEMM), so their results match
   the CPU's within 16-bit rounding of the activations, not bit for bit. */
tvc_status_t
tvc_cuda_kernel_linear_bf16w_f32(const tvc_linear_w16_f32_params_t *params);
tvc_status_t
tvc_cuda_kernel_linear_f16w_f32(const tvc_linear_w16_f32_params_t *params);
/* Every mask kind of tvc_kernel_attention_f32. The data-dependent kinds
   (5 top-k, 6 block top-k, 7 vertical-slash, 8 ALISA) select keys as the
   CPU entry does (same ties); they use the thread's scratch for scores and
   selections, at most 64 MiB per launch (one query row, or one batch entry
   and head, may need more). */
tvc_status_t
tvc_cuda_kernel_attention_f32(const tvc_attention_f32_params_t *params);
/* Block-diagonal linear: one strided-batched cuBLAS GEMM over the blocks;
   TVC_LINEAR_ALLOW_TF32 accepted as by tvc_cuda_kernel_linear_f32. */
tvc_status_t tvc_cuda_kernel_block_diagonal_f32(
    const tvc_block_diagonal_f32_params_t *params);
/* 2:4 sparse linear: a GEMV on the compressed weights up to 8 rows, else W
   expanded into the thread's device scratch and the fp32 cuBLAS GEMM
   (TVC_LINEAR_ALLOW_TF32 accepted; it applies to that GEMM only). */
tvc_status_t
tvc_cuda_kernel_linear_2to4_f32(const tvc_linear_2to4_f32_params_t *params);
/* tvc_kernel_attention_state_f32 (mask kind 8, ALISA, with the state
   carried between calls; state is a device pointer too). */
tvc_status_t tvc_cuda_kernel_attention_state_f32(
    const tvc_attention_state_f32_params_t *params);
/* Attention on the host CPU for KV caches in host memory (Lamina-style
   offloading: the GPU runs the linear maps, the CPU the attention).
   tvc_cuda_kernel_attention_f32's params, but k and v point to memory from
   tvc_cuda_host_alloc (device work queued earlier on the current stream may
   have written cache rows through the same addresses); q and out are device
   pointers. The CPU entry's argument checks come first (no CUDA call on
   failure; batch, q_len or head_dim 0 is TVC_OK without one). Then, on the
   current stream: q is copied into a pinned staging buffer of the calling
   thread, the host waits for the stream (the one synchronisation of the
   call: q and earlier cache writes are complete), tvc_kernel_attention_f32
   runs on the host, and the result is queued as a copy from the staging
   buffer to out; the call returns without waiting for that copy. The
   staging belongs to the thread and is written again only after the next
   call's synchronisation; it grows (cudaFreeHost + cudaHostAlloc, after a
   synchronisation) when a call needs more than any before it on the thread,
   and is freed when the thread exits. Returns the CPU kernel's status when
   it fails. */
tvc_status_t
tvc_cuda_kernel_host_attention_f32(const tvc_attention_f32_params_t *params);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_CUDA_H */
