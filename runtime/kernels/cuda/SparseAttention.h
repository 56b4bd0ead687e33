//===- SparseAttention.h - CUDA attention, data-dependent masks -*- C++ -*-===//
//
// The part of tvc_cuda_kernel_attention_f32 (and all of
// tvc_cuda_kernel_attention_state_f32) for the mask kinds whose allowed keys
// depend on the scores: top-k (5), block top-k (6), vertical-slash (7) and
// ALISA (8). Attention.cu checks the common arguments and hands these kinds
// over (SparseAttention.cu).
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_KERNELS_CUDA_SPARSEATTENTION_H
#define TVC_RUNTIME_KERNELS_CUDA_SPARSEATTENTION_H

#include "runtime/api/tvc_kernels.h"

namespace tvc::runtime::cuda {

/// Attention with mask kind 5-8 on the calling thread's current stream.
/// `params` passed validAttentionArguments (with `withState` = state !=
/// null); `state` is ALISA's carried state ([batch, heads, kv_capacity]) or
/// null. Makes the kind's remaining checks (32-bit key indices, as the CPU
/// entry does) before any CUDA call.
tvc_status_t sparseAttention(const tvc_attention_f32_params_t &params,
                             float *state);

} // namespace tvc::runtime::cuda

#endif // TVC_RUNTIME_KERNELS_CUDA_SPARSEATTENTION_H
