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
 *   tvc_model_offload_open / _close / _stats / _error
 *                        only in a library compiled with --offload-budget
 *                        (an offload plan, docs/Offload.md): open the
 *                        offload executor inside the library; see below
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
 * CUDA libraries (--target=cuda --emit=lib; the manifest's `target cuda
 * sm_XX` line): every descriptor's buffer is device memory (cudaMalloc'd,
 * or a PyTorch CUDA tensor's data) except rank-0 inputs, which stay on the
 * host: the inputs, the KV caches, the weights blob (copy the `.weights`
 * file's blob to the device once) and the arena; results are device
 * buffers the compiled code allocated on the device (free them with
 * cudaFree unless they alias an input, the weights or the arena). An
 * entry point queues its work on its runtime's stream for the calling
 * thread and waits for it before it returns. The library's CUDA runtime
 * shares the device's primary context with the host's. Offload plans are
 * CPU-only. runtime/tools/EntryCaller.cpp (MemorySpace::CudaDevice) is a
 * complete caller; `tvc-run lib.so --inputs DIR` runs one.
 *
 * Offload plans: a library compiled with --offload-budget lists its plan
 * in the manifest (`offload`, `offload-item` and `offload-kv` lines) and
 * exports the four tvc_model_offload_ functions; one without a plan does
 * not export them (dlsym returns NULL; a program linked against them does
 * not link). Its entry points call the offload executor of the runtime
 * inside, which only the library can open: call tvc_model_offload_open
 * once and pass the blob it returns as the entry points' weights argument
 * (size: the manifest's `weights` bytes) until tvc_model_offload_close.
 * The executor then reads the weights from the file as the compiled code
 * asks, within the plan's budget, and keeps the KV caches that the
 * manifest's `offload-kv` lines mark `streamed` in its spill file: pass
 * each such cache as a descriptor with its sizes and strides but NULL
 * `allocated` and `aligned` (the compiled code reads and writes it in the
 * executor's pool, never in a buffer of yours); allocate the `resident`
 * ones (zero-filled) as usual. Without tvc_model_offload_open the library
 * runs as any other: the executor's calls do nothing, the host maps the
 * whole `.weights` file and passes it, and every cache is the caller's
 * buffer. After the entry calls, a tvc_offload_stats_t.io_errors above
 * zero means a read or write of the executor failed (a streamed cache may
 * have lost rows: its later results are wrong); tvc_model_offload_error
 * says which. The calls are not thread-safe; no entry call may run during
 * open or close. A CUDA library (manifest `target cuda`) opens the CUDA
 * executor on the current device instead (tvc_offload_open_cuda): the
 * blob it returns is device memory, its streamed caches live in pinned
 * host memory (kv_dir and drop_page_cache are ignored), and the resident
 * caches are the caller's device buffers.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_MODEL_H
#define TVC_RUNTIME_API_TVC_MODEL_H

#include "runtime/api/tvc_offload.h"
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

/* Only in a library with an offload plan (see above). Opens the offload
   executor of the runtime inside on the weights file `weights_path` (the
   library's `.weights`) with the plan of tvc_model_manifest: its budget,
   weight items, KV caches and page pool; the spill file of the streamed
   caches is created in `kv_dir` (NULL or "": $TMPDIR, else /tmp; unlinked
   at once) and, when `drop_page_cache` is nonzero, the weights file's
   pages are dropped from the page cache after each read. `*out_blob`
   receives the blob to pass as the entry points' weights argument, valid
   until tvc_model_offload_close (a CUDA library: a device pointer, from
   tvc_offload_open_cuda). Returns tvc_offload_open's status
   (runtime/api/tvc_offload.h; TVC_NOT_FOUND when the file cannot be
   opened), TVC_INVALID_ARGUMENT for a NULL weights_path or out_blob,
   TVC_UNAVAILABLE when this library's executor is already open; on
   failure tvc_model_offload_error says why. */
tvc_status_t tvc_model_offload_open(const char *weights_path,
                                    const char *kv_dir, int drop_page_cache,
                                    void **out_blob);

/* Closes the executor tvc_model_offload_open opened (its blob and spill
   file are gone; its I/O thread stopped: call it before dlclose); nothing
   when none is open. A later open starts afresh. */
void tvc_model_offload_close(void);

/* The open executor's counters since open (tvc_offload_stats_t): bytes
   of weights and KV-cache rows read and written, stalls, peak resident
   bytes against the budget, io_errors. TVC_NOT_FOUND (and zeros) when
   none is open, TVC_INVALID_ARGUMENT when out_stats is NULL. */
tvc_status_t tvc_model_offload_stats(tvc_offload_stats_t *out_stats);

/* The message of the last failed tvc_model_offload_ call, else the
   executor's first failed read or write since open; "" when nothing
   failed. Valid until the next tvc_model_offload_ call. */
const char *tvc_model_offload_error(void);

/* The weights blob, only in artifacts built with --embed-weights. */
extern const char tvc_model_weights[];

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_MODEL_H */
