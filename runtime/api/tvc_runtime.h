/*===- tvc_runtime.h - The tvc runtime C ABI -------------------------------===*
 *
 * The C interface that compiled tvc artifacts and host programs call.
 * Conventions: every function returns a tvc_status_t (TVC_OK is zero);
 * results come back through out_* parameters; enums are append-only; no
 * function calls exit() or allocates on a per-token path.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_RUNTIME_H
#define TVC_RUNTIME_API_TVC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Append only: values are ABI. */
typedef enum tvc_status_t {
  TVC_OK = 0,
  TVC_INVALID_ARGUMENT = 1,
  TVC_NOT_FOUND = 2,
  TVC_OUT_OF_MEMORY = 3,
  /* The requested facility is absent: no CUDA driver, no device, or a
     runtime built without CUDA. */
  TVC_UNAVAILABLE = 4,
  TVC_INTERNAL = 5,
} tvc_status_t;

/* A static, human-readable name of `status` ("ok", "unavailable", ...). */
const char *tvc_status_string(tvc_status_t status);

/* Kernel failures. Compiled code tests the status of every runtime kernel
   it calls (tvc_kernel_*, tvc_cuda_kernel_*); on a failure it calls
   tvc_runtime_kernel_failed and carries on (the failed kernel left its
   output unwritten, so the entry point's results are not to be used). The
   record is per thread: the thread that called the entry point reads it
   with tvc_runtime_kernel_error after the call. */

/* Records that `kernel` (a NUL-terminated name; NULL reads "a kernel")
   returned `status` on the calling thread, unless a failure is already
   recorded there: the first failure since the last tvc_runtime_kernel_error
   is the one kept (TVC_OK records nothing). For a tvc_cuda_ kernel the
   message adds the pending tvc_cuda_last_error detail, when there is one.
   Never allocates. */
void tvc_runtime_kernel_failed(const char *kernel, int32_t status);

/* The first kernel failure recorded on the calling thread since its last
   call, and clears it: that kernel's status (TVC_OK when none failed) and,
   in `out_message` when not NULL, a message such as
   "tvc_kernel_attention_f32 failed: invalid argument (status 1)" ("ok"
   when none failed), valid until this thread's next call. */
tvc_status_t tvc_runtime_kernel_error(const char **out_message);

/* What the CUDA runtime reports about one device. Zero-initialisable. */
typedef struct tvc_cuda_device_info_t {
  int device_count;    /* devices visible to this process */
  int driver_version;  /* e.g. 13000 for CUDA 13.0; 0 without a driver */
  int runtime_version; /* the CUDA runtime tvc was built with */
  int sm_major;        /* compute capability of device `device` */
  int sm_minor;
  size_t total_memory; /* bytes of device memory */
  char name[256];      /* device name, NUL-terminated */
} tvc_cuda_device_info_t;

/* Queries device `device`. Returns TVC_UNAVAILABLE (with out_info's counts
   filled in as far as known) when the runtime was built without CUDA, no
   driver is installed, or no device exists; never fails to start on a
   machine without a GPU. `out_message`, when not NULL, receives a static
   explanation. */
tvc_status_t tvc_cuda_device_query(int device, tvc_cuda_device_info_t *out_info,
                                   const char **out_message);

/* Elementwise sum out[i] = lhs[i] + rhs[i] of `count` floats in device
   memory, on the default stream; synchronises before returning.
   TVC_UNAVAILABLE without CUDA. A check kernel for the CUDA build. */
tvc_status_t tvc_cuda_add_f32(const float *lhs, const float *rhs, float *out,
                              size_t count);

/* Host <-> device helpers for tests and tools (not for per-token paths). */
tvc_status_t tvc_cuda_malloc(size_t bytes, void **out_pointer);
tvc_status_t tvc_cuda_free(void *pointer);
tvc_status_t tvc_cuda_copy_to_device(void *device_dst, const void *host_src,
                                     size_t bytes);
tvc_status_t tvc_cuda_copy_to_host(void *host_dst, const void *device_src,
                                   size_t bytes);
tvc_status_t tvc_cuda_copy_on_device(void *device_dst, const void *device_src,
                                     size_t bytes);
tvc_status_t tvc_cuda_memset(void *device_dst, int value, size_t bytes);

/* Pinned host memory mapped into the device's address space (cudaHostAlloc,
   mapped and portable), zero-filled: with unified addressing the pointer is
   valid both on the host and in device code on every device, so device
   kernels and copies may write it while host code reads it after a
   synchronisation (the KV caches of tvc_cuda_kernel_host_attention_f32).
   bytes == 0 gives TVC_OK with *out_pointer NULL. TVC_UNAVAILABLE without a
   driver or device, or when the current device lacks unified addressing;
   TVC_OUT_OF_MEMORY when the pinned allocation fails. Not for per-token
   paths. tvc_cuda_host_free releases such a pointer (NULL is TVC_OK); it
   waits for no queued work, so the caller synchronises first. */
tvc_status_t tvc_cuda_host_alloc(size_t bytes, void **out_pointer);
tvc_status_t tvc_cuda_host_free(void *pointer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_RUNTIME_H */
