//===- NoCuda.cpp - CUDA entry points of a runtime built without CUDA -----===//
//
// Every CUDA function of the C ABI exists in every build; without a CUDA
// toolkit at build time they report TVC_UNAVAILABLE.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_runtime.h"

#include <cstring>

extern "C" tvc_status_t tvc_cuda_device_query(int,
                                              tvc_cuda_device_info_t *out_info,
                                              const char **out_message) {
  if (out_info)
    std::memset(out_info, 0, sizeof(*out_info));
  if (out_message)
    *out_message = "this tvc runtime was built without CUDA";
  return TVC_UNAVAILABLE;
}

extern "C" tvc_status_t tvc_cuda_add_f32(const float *, const float *, float *,
                                         size_t) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_malloc(size_t, void **out_pointer) {
  if (out_pointer)
    *out_pointer = nullptr;
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_free(void *) { return TVC_UNAVAILABLE; }
extern "C" tvc_status_t tvc_cuda_copy_to_device(void *, const void *, size_t) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_copy_to_host(void *, const void *, size_t) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_copy_on_device(void *, const void *, size_t) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_memset(void *, int, size_t) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_host_alloc(size_t, void **out_pointer) {
  if (out_pointer)
    *out_pointer = nullptr;
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_host_free(void *) { return TVC_UNAVAILABLE; }

#include "runtime/api/tvc_cuda.h"

extern "C" void *tvc_cuda_get_stream(void) { return nullptr; }
extern "C" tvc_status_t tvc_cuda_set_stream(void *) { return TVC_UNAVAILABLE; }
extern "C" tvc_status_t tvc_cuda_stream_create(void **out_stream) {
  if (out_stream)
    *out_stream = nullptr;
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_stream_destroy(void *) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_stream_synchronize(void) {
  return TVC_UNAVAILABLE;
}
extern "C" tvc_status_t tvc_cuda_last_error(const char **out_message) {
  if (out_message)
    *out_message = "this tvc runtime was built without CUDA";
  return TVC_UNAVAILABLE;
}
// The kernel entries: one params struct each, never read.
#define TVC_NO_CUDA_KERNEL(name, params)                                       \
  extern "C" tvc_status_t name(const params *) { return TVC_UNAVAILABLE; }
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_linear_f32, tvc_linear_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_linear_bf16w_f32, tvc_linear_w16_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_linear_f16w_f32, tvc_linear_w16_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_attention_f32, tvc_attention_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_block_diagonal_f32,
                   tvc_block_diagonal_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_linear_2to4_f32,
                   tvc_linear_2to4_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_attention_state_f32,
                   tvc_attention_state_f32_params_t)
TVC_NO_CUDA_KERNEL(tvc_cuda_kernel_host_attention_f32,
                   tvc_attention_f32_params_t)
#undef TVC_NO_CUDA_KERNEL
