/*===- tvc_model.h - The C ABI of a compiled tvc model ---------------------===*
 *
 * What an artifact of `tvc-compile --emit=lib -o libmodel.so` (or the object
 * of --emit=obj) exports, whatever the model's function names. Load it with
 * dlopen() or link it; the runtime it needs is inside (its own symbols are
 * not exported).
 *
 *   tvc_model_manifest   NUL-terminated text saying, per entry point, its
 *                        inputs (name, ONNX element type, KV-cache flag,
 *                        dims, -1 where dynamic, largest shape), results
 *                        and scratch-arena size; format in
 *                        runtime/tools/Manifest.h. Read it first.
 *   tvc_model_forward    the full graph (role "forward")
 *   tvc_model_prefill    KV-cached prompt step (models with attention)
 *   tvc_model_decode     KV-cached one-token step
 *   tvc_model_set_num_threads  the kernel threads of the runtime inside
 *                        (as tvc_runtime_set_num_threads, tvc_kernels.h)
 *   tvc_model_kernel_error  the first runtime kernel failure of the calling
 *                        thread's entry calls (as tvc_runtime_kernel_error,
 *                        tvc_runtime.h): call it after every entry call
 *   tvc_model_weights    the weights blob, 64-byte aligned, with
 *                        --embed-weights only; otherwise the blob is in
 *                        `libmodel.so.weights` (4096-byte header: "TVCWGT02",
 *                        u64 size little endian, zero padding; then the
 *                        blob, so blob offset X is file offset 4096 + X),
 *                        which the caller maps.
 *
 * Calling convention of tvc_model_<role>(void **args): every tensor is an
 * MLIR memref descriptor of 8-byte fields
 *
 *   { void *allocated; void *aligned; int64_t offset;
 *     int64_t sizes[rank]; int64_t strides[rank]; }
 *
 * describing a contiguous row-major buffer (allocated = aligned = data,
 * offset 0, strides the suffix products of sizes; rank 0 has no sizes).
 *
 *   args[0]      where the results' descriptors are written, back to back
 *                (the caller provides 3 + 2 * rank int64_t per result)
 *   args[1..n]   one descriptor per manifest input, in order
 *   next         when the entry's manifest line says it takes weights: a
 *                rank-1 descriptor of the weights blob (size = its bytes)
 *   next         when the entry's manifest line gives an arena of A > 0
 *                bytes: a rank-1 descriptor of a scratch buffer of at least
 *                A bytes, 64-byte aligned, that the caller allocates once
 *                and passes to every call (the entry's temporaries live
 *                there; tvc-plan-memory). Inputs must then stay within
 *                their manifest's largest shape, which the plan assumed.
 *
 * Results are buffers the compiled code allocated with malloc(): free
 * `allocated` of each unless it equals an input's, the weights' or the
 * arena's pointer. Results in the arena (where the memory plan could bound
 * their size: a KV-cached step's logits) stay valid until the next call
 * with that arena; copy what you keep.
 * A result that updates an input (KV caches, manifest "updates" >= 0) is
 * absent from args[0] when the entry's in-place flag is 1 (written straight
 * into that input); otherwise copy it into the input. The calls are not
 * reentrant per cache; the kernels use the runtime's own thread pool.
 *
 * Kernel failures: an entry point returns nothing, and a runtime kernel
 * that rejects its arguments (or has no device, or no memory) leaves its
 * output unwritten while the entry point runs on. So after every call, on
 * the thread that made it, call tvc_model_kernel_error(&message): a status
 * other than TVC_OK means the results (and any cache the call updated) are
 * garbage, and `message` names the first kernel that failed and why, e.g.
 * "tvc_kernel_attention_f32 failed: invalid argument (status 1)". The call
 * clears the record; free the results as usual.
 * runtime/tools/EntryCaller.cpp is a complete caller.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_MODEL_H
#define TVC_RUNTIME_API_TVC_MODEL_H

#include "runtime/api/tvc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The model's manifest (always present). */
extern const char tvc_model_manifest[];

/* Entry points; prefill/decode exist for models with attention. */
void tvc_model_forward(void **args);
void tvc_model_prefill(void **args);
void tvc_model_decode(void **args);

/* Sets the number of threads the artifact's CPU kernels use, the calling
   thread included (0: one per core). TVC_INVALID_ARGUMENT outside
   [0, 1024]. */
tvc_status_t tvc_model_set_num_threads(int num_threads);

/* Reads and clears the calling thread's first kernel failure since its
   last call: TVC_OK ("ok") when every kernel succeeded, else the failed
   kernel's status and, in `out_message` when not NULL, its message (valid
   until this thread's next call). */
tvc_status_t tvc_model_kernel_error(const char **out_message);

/* The weights blob, only in artifacts built with --embed-weights. */
extern const char tvc_model_weights[];

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_MODEL_H */
