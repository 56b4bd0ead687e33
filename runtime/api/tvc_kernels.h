/*===- tvc_kernels.h - CPU kernels of the tvc runtime ----------------------===*
 *
 * The kernel entry points that compiled tvc code calls on the CPU, each taking
 * one params struct, and the size of the worker pool they share. Include this
 * header on its own: it includes tvc_runtime.h for tvc_status_t. The params
 * structs are ABI: compiler-generated code builds them as LLVM structs of
 * pointers, then i64s, then a double, with natural alignment, so fields are
 * never reordered or inserted and every scalar is 8 bytes. A zero-initialised
 * struct plus pointers and sizes is a valid call (flags 0, mask_kind 0 = full).
 *
 * Kernels never call exit() and allocate nothing themselves; the one
 * allocation on a call path is inside oneDNN's GEMM under
 * tvc_kernel_linear_f32, tvc_kernel_linear_2to4_f32,
 * tvc_kernel_linear_bf16w_f32, tvc_kernel_linear_f16w_f32,
 * tvc_kernel_block_diagonal_f32 and tvc_kernel_low_rank_f32, which mallocs a
 * packing buffer per call from m >= 16 rows (prefill), never for m <= 8
 * (decode). (The 2:4 kernel's m > 1 path also decompresses weights into a
 * per-thread buffer that only grows: it allocates when a call needs more than
 * any call before it on that thread; so does the low-rank kernel's m > 1
 * path for its [m, r] intermediate, the 16-bit-weight kernels' m > 8 path
 * for the tiles of weights it widens to fp32 (512 KiB, or 16 columns when
 * k > 8192), and their m <= 8 path for the partial sums of a [k,n] weight
 * whose rows it splits between threads and, for bf16 and one row, for a
 * reordered copy of x.) Bad arguments (null pointers,
 * negative or inconsistent sizes, unknown flags or mask kinds) return
 * TVC_INVALID_ARGUMENT without touching any output. Every kernel may run on
 * the runtime's worker pool; calls from several host threads at once are
 * safe (a call that finds the pool busy runs on its own thread).
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_KERNELS_H
#define TVC_RUNTIME_API_TVC_KERNELS_H

#include "runtime/api/tvc_runtime.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Worker pool
 *===----------------------------------------------------------------------===*/

/* Sets the number of threads the CPU kernels use, the calling thread
   included: 0 restores the default (std::thread::hardware_concurrency()).
   Starts or stops worker threads now, never on a kernel call; waits for a
   kernel running on the pool to finish. TVC_INVALID_ARGUMENT outside
   [0, 1024]. */
tvc_status_t tvc_runtime_set_num_threads(int num_threads);

/* The number of threads the CPU kernels use, the calling thread included. */
tvc_status_t tvc_runtime_get_num_threads(int *out_num_threads);

/*===----------------------------------------------------------------------===*
 * Linear
 *===----------------------------------------------------------------------===*/

/* Flags of tvc_linear_f32_params_t (bits; append only). */
enum {
  TVC_LINEAR_HAS_BIAS = 1,     /* bias[n] is read and added */
  TVC_LINEAR_WEIGHT_IN_OUT = 2, /* w is [k,n] row-major; clear: [n,k] */
  TVC_LINEAR_ALLOW_TF32 = 4,    /* CUDA entry only: the GEMM may round its
                                   inputs to TF32 (tensor cores); the CPU
                                   entry rejects it */
  /* Bits 3-5: an activation applied to every output after the bias (a
     field, not bits: 40, 48 and 56 are rejected). Accepted by the dense
     entries (tvc_kernel_linear_f32 and the 16-bit-weight entries, CPU and
     CUDA); the structured kernels reject them. */
  TVC_LINEAR_ACTIVATION_MASK = 56,
  TVC_LINEAR_RELU = 8,       /* max(y, 0); NaN stays NaN */
  TVC_LINEAR_GELU = 16,      /* y Phi(y), Phi through erf */
  TVC_LINEAR_GELU_TANH = 24, /* 0.5 y (1 + tanh(sqrt(2/pi) (y + 0.044715 y^3)))
                              */
  TVC_LINEAR_SILU = 32       /* y / (1 + exp(-y)) */
};

/* y[m,n] = x[m,k] * W^T + bias, W stored [n,k] row-major (flags bit 1 clear,
   "out_in") or [k,n] row-major (flags bit 1 set, "in_out"). bias[n] is read
   only when flags bit 0 is set. x, w, y (and bias when read) must not be NULL
   even when a size is 0; m, n, k >= 0 with [m,k], [n,k] and [m,n] float
   arrays addressable; unknown flag bits are rejected. y must not alias x, w
   or bias. k = 0 gives y = bias (or zeros). An activation in flags bits 3-5
   is applied to each output after the bias (compilers fuse a GELU, SiLU or
   ReLU that only reads the linear map's result into the call); the
   transcendental ones are polynomial approximations within 2e-6 relative
   of the exact function (the CUDA entries use CUDA's math functions).
   TVC_INTERNAL if the GEMM library reports an error. */
typedef struct tvc_linear_f32_params_t {
  const float *x;
  const float *w;
  const float *bias;
  float *y;
  int64_t m;
  int64_t n;
  int64_t k;
  int64_t flags;
} tvc_linear_f32_params_t;

tvc_status_t tvc_kernel_linear_f32(const tvc_linear_f32_params_t *params);

/* y[m,n] = x[m,k] * W^T + bias with 16-bit float weights: W holds bf16
   (tvc_kernel_linear_bf16w_f32) or IEEE binary16 (tvc_kernel_linear_f16w_f32)
   bit patterns, stored [n,k] (flags bit 1 clear) or [k,n] (flags bit 1 set)
   row-major like tvc_linear_f32_params_t's w. x, bias and y are fp32; every
   weight is widened to fp32 exactly and the products are summed in fp32, so
   the result is tvc_kernel_linear_f32's on the widened weights up to
   summation order (activations are never rounded to 16 bits on the CPU).
   Flags: TVC_LINEAR_HAS_BIAS, TVC_LINEAR_WEIGHT_IN_OUT and an activation
   (bits 3-5) as for tvc_kernel_linear_f32 (others rejected).
   Same null/size/alias rules as tvc_kernel_linear_f32. Halves the weight
   bytes a decode step reads. */
typedef struct tvc_linear_w16_f32_params_t {
  const float *x;
  const uint16_t *w;
  const float *bias;
  float *y;
  int64_t m;
  int64_t n;
  int64_t k;
  int64_t flags;
} tvc_linear_w16_f32_params_t;

tvc_status_t
tvc_kernel_linear_bf16w_f32(const tvc_linear_w16_f32_params_t *params);
tvc_status_t
tvc_kernel_linear_f16w_f32(const tvc_linear_w16_f32_params_t *params);

/* y[m,n] = x[m,k] * W^T + bias, where W ([n,k], out_in) is 2:4 sparse along k
   and given compressed: in every group of four consecutive weights of a row
   (columns 4g..4g+3) two are kept.
   values[n, k/2]: the two kept weights of each group, group after group
     (row j's group g at values[j*k/2 + 2g], values[j*k/2 + 2g + 1]).
   indices[n, (k+7)/8] bytes: byte t of row j describes groups 2t (bits 0-3)
     and 2t+1 (bits 4-7); in each nibble bits 0-1 are the position (0..3)
     within the group of the first kept value and bits 2-3 that of the
     second. So kept value 2g+s of row j multiplies x[4g + pos(j,g,s)].
     Positions need not be sorted or distinct (a group with fewer than two
     non-zeros stores zeros as values). For k % 8 == 4 the high nibble of a
     row's last byte is ignored.
   flags: TVC_LINEAR_HAS_BIAS only (other bits rejected). k must be a multiple
   of 4 (else TVC_INVALID_ARGUMENT); same null/size/overflow rules as
   tvc_kernel_linear_f32 (x, values, indices, y non-null even when sizes are 0;
   bias non-null iff HAS_BIAS; k = 0 gives y = bias or zeros). As for
   tvc_kernel_linear_f32, bias is read only when HAS_BIAS is set (a non-null
   bias without it is ignored, not rejected). y must not alias the inputs.
   TVC_INTERNAL if the GEMM library reports an error (m > 1 only). */
typedef struct tvc_linear_2to4_f32_params_t {
  const float *x;
  const float *values;
  const uint8_t *indices;
  const float *bias;
  float *y;
  int64_t m;
  int64_t n;
  int64_t k;
  int64_t flags;
} tvc_linear_2to4_f32_params_t;

tvc_status_t
tvc_kernel_linear_2to4_f32(const tvc_linear_2to4_f32_params_t *params);

/*===----------------------------------------------------------------------===*
 * Attention
 *===----------------------------------------------------------------------===*/

/* Mask kinds of tvc_attention_f32_params_t (values; append only). */
enum {
  TVC_MASK_FULL = 0,          /* every key j < kv_len */
  TVC_MASK_CAUSAL = 1,        /* j <= p */
  TVC_MASK_SLIDING_WINDOW = 2, /* p - window < j <= p */
  TVC_MASK_WINDOW_GLOBAL = 3,  /* j <= p and (j < global or p - window < j) */
  TVC_MASK_BLOCK_LOCAL = 4,    /* j <= p and, with B = block,
                                  (j/B < global or p/B - window < j/B) */
  TVC_MASK_TOP_K = 5,          /* j <= p, the top_k largest scores */
  TVC_MASK_BLOCK_TOP_K = 6,    /* j <= p in p's block of `block` keys, or in
                                  the top_k earlier blocks by pooled score */
  TVC_MASK_VERTICAL_SLASH = 7, /* j <= p, j a kept column or p - j a kept
                                  diagonal offset, both estimated per call */
  TVC_MASK_ALISA = 8           /* p - window < j <= p, or j among the top_k
                                  heavy keys by accumulated weight */
};

/* The largest head_dim tvc_kernel_attention_f32 accepts: its scratch lives
   on the stack. */
#define TVC_ATTENTION_MAX_HEAD_DIM 256

/* Multi-head attention with grouped KV heads.
   q:   [batch, q_len, heads*head_dim] row-major
   k,v: [batch, kv_capacity, kv_heads*head_dim] row-major; only rows
        0..kv_len-1 are read
   out: [batch, q_len, heads*head_dim]
   Query row i has absolute position p = kv_len - q_len + i (so a decode step
   with one query and a KV cache of kv_len entries has p = kv_len-1). Query
   head h uses KV head h / (heads/kv_heads).
   mask_kind: 0 = full (every key j < kv_len), 1 = causal (j <= p),
   2 = sliding window (p - window < j <= p; window counts the diagonal,
   window=1 sees only itself),
   3 = window + global tokens (Longformer, causal): the window of kind 2 plus
   the first `global` positions (keys j < global; a query among them sees
   every earlier key anyway),
   4 = block-local (block-sparse, fixed layout): keys and queries in blocks of
   `block` positions; the query at p sees, causally, the keys of its own
   block and the window - 1 blocks before it, and of the first `global`
   blocks (window and global count blocks here),
   5 = top-k hard attention (AxFormer): of the causal keys j <= p, the top_k
   with the largest scores scale * q.k, ties broken towards the lower j
   (a query with at most top_k causal keys sees them all),
   6 = block top-k (block-sparse by pooled scores): keys in blocks of
   `block` positions; the query at p sees the keys j <= p of its own block
   and every key of the top_k earlier blocks with the largest pooled score
   scale * q . mean(k over the block), ties broken towards the lower block
   (a query with at most top_k earlier blocks sees them all),
   7 = vertical-slash (MInference): per batch entry and query head, the last
   L = min(last_queries, q_len) query rows of the call score every causal key;
   their softmax weights, summed per key ("vertical" column j) and per
   diagonal offset ("slash" o = p - j), choose the `vertical` columns and the
   `slash` offsets with the largest sums, ties towards the lower index, the
   first min(4, ceil(vertical/2)) columns and the min(64, ceil(slash/2))
   smallest offsets always among them; every row of the call then sees the
   causal keys j <= p with j a kept column or p - j a kept offset. The
   pattern depends on which rows share a call (a decode step estimates it
   from its one query),
   8 = ALISA sparse window attention: per batch entry and query head, rows
   in position order; the query at p sees its window (p - window < j <= p)
   and a heavy set of at most top_k older keys. After each row every key it
   saw adds its softmax weight to its accumulated weight; the key leaving
   the window (p + 1 - window) then joins the heavy set, and a heavy set of
   top_k + 1 keys drops the one with the smallest accumulated weight (ties:
   the highest j), which is never seen again. Through
   tvc_kernel_attention_f32 it requires q_len == kv_len (one call from
   position 0); tvc_kernel_attention_state_f32 carries the accumulated
   weights between calls.
   Fields a kind does not read (window, global, block, top_k) are ignored.
   out = softmax(scale * q.k^T over allowed keys) . v; a query with no allowed
   key gets zeros.
   Requires q, k, v, out non-NULL; batch, q_len, kv_len >= 0;
   q_len <= kv_len <= kv_capacity; heads, kv_heads >= 1 with heads % kv_heads
   == 0; 0 <= head_dim <= TVC_ATTENTION_MAX_HEAD_DIM; window >= 1 for masks
   2, 3 and 4; global >= 0 for 3 and 4; block >= 1 for 4 and 6; top_k >= 1
   for 5 and 6; vertical, slash, last_queries >= 1 for 7; window >= 1 and
   top_k >= 0 for 8;
   scale finite. out must not alias q, k or v. */
typedef struct tvc_attention_f32_params_t {
  const float *q;
  const float *k;
  const float *v;
  float *out;
  int64_t batch;
  int64_t q_len;
  int64_t kv_len;
  int64_t kv_capacity;
  int64_t heads;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t mask_kind;
  int64_t window;
  double scale;
  /* Appended for the sparse kinds 3-6; zero-initialising them is valid for
     kinds 0-2. */
  int64_t global;
  int64_t block;
  int64_t top_k;
  /* Appended for kind 7. */
  int64_t vertical;
  int64_t slash;
  int64_t last_queries;
} tvc_attention_f32_params_t;

tvc_status_t tvc_kernel_attention_f32(const tvc_attention_f32_params_t *params);

/* Attention whose mask carries state from one call to the next (mask kind 8,
   ALISA): the fields of tvc_attention_f32_params_t with `state` after `out`.
   state: [batch, heads, kv_capacity] f32, per query head and key position
   the key's accumulated attention weight, or -1 once evicted. Rows
   0..kv_len-q_len-1 are read as the earlier calls left them (all of them
   written by earlier calls of this entry point: a prefill from position 0
   needs no initialisation); the kernel writes rows 0..kv_len-1, so that
   prefill in chunks and decode steps compute what one call over the whole
   sequence computes. q_len <= kv_len (no q_len == kv_len requirement);
   state must not alias the other buffers. */
typedef struct tvc_attention_state_f32_params_t {
  const float *q;
  const float *k;
  const float *v;
  float *out;
  float *state;
  int64_t batch;
  int64_t q_len;
  int64_t kv_len;
  int64_t kv_capacity;
  int64_t heads;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t mask_kind;
  int64_t window;
  double scale;
  int64_t global;
  int64_t block;
  int64_t top_k;
  int64_t vertical;
  int64_t slash;
  int64_t last_queries;
} tvc_attention_state_f32_params_t;

tvc_status_t
tvc_kernel_attention_state_f32(const tvc_attention_state_f32_params_t *params);

/*===----------------------------------------------------------------------===*
 * Block-diagonal linear
 *===----------------------------------------------------------------------===*/

/* Block-diagonal linear (the first map of #tvc.block_dense):
   y[m, blocks*block_n] = x[m, blocks*block_k] * blockdiag(W_0 .. W_{blocks-1})^T
   + bias, where w holds the blocks stacked, [blocks, block_n, block_k]
   row-major, each [out, in] like tvc_kernel_linear_f32's default layout:
   y[i, b*block_n + j] = bias[b*block_n + j]
                         + sum_l x[i, b*block_k + l] * w[(b*block_n + j)*block_k + l].
   bias[blocks*block_n] is read only when flags bit 0 (TVC_LINEAR_HAS_BIAS) is
   set; other flag bits are rejected. x, w, y (and bias when read) must not
   be NULL even when a size is 0; m, blocks, block_n, block_k >= 0 with the
   [m, blocks*block_k], [blocks*block_n, block_k] and [m, blocks*block_n]
   float arrays addressable. y must not alias x, w or bias. block_k = 0 gives
   y = bias (or zeros). One row (decode) reads every weight once through the
   hand-written GEMV of tvc_kernel_linear_f32; more rows make one oneDNN
   sgemm call per block and tile (which, as for tvc_kernel_linear_f32, mallocs
   a packing buffer from 16 rows). TVC_INTERNAL if the GEMM library reports
   an error. */
typedef struct tvc_block_diagonal_f32_params_t {
  const float *x;
  const float *w;
  const float *bias;
  float *y;
  int64_t m;
  int64_t blocks;
  int64_t block_n;
  int64_t block_k;
  int64_t flags;
} tvc_block_diagonal_f32_params_t;

tvc_status_t
tvc_kernel_block_diagonal_f32(const tvc_block_diagonal_f32_params_t *params);

/*===----------------------------------------------------------------------===*
 * Low-rank linear
 *===----------------------------------------------------------------------===*/

/* Low-rank linear (#tvc.low_rank), y = U (V x) + bias in one call:
   t[m, r] = x[m, k] * V^T, y[m, n] = t * U^T + bias, with V [r, k] and
   U [n, r] row-major, each [out, in] like tvc_kernel_linear_f32's default
   layout. bias[n] is read only when flags bit 0 (TVC_LINEAR_HAS_BIAS) is
   set; other flag bits are rejected. x, v, u, y (and bias when read) must
   not be NULL even when a size is 0; m, n, k, r >= 0 with the [m,k], [r,k],
   [n,r], [m,r] and [m,n] float arrays addressable. y must not alias the
   inputs. k = 0 or r = 0 gives y = bias (or zeros). One row (decode) is one
   dispatch on the pool: the tasks computing t come first, those computing y
   wait for them, and t (r floats) stays in cache between the two. More rows
   make the two oneDNN sgemm calls of tvc_kernel_linear_f32 over a [m, r]
   scratch that belongs to the calling thread and only grows (so it
   allocates when a call needs more than any call before it on that
   thread, and oneDNN mallocs its packing buffer from 16 rows, as for
   tvc_kernel_linear_f32). TVC_INTERNAL if the GEMM library reports an
   error. */
typedef struct tvc_low_rank_f32_params_t {
  const float *x;
  const float *v;
  const float *u;
  const float *bias;
  float *y;
  int64_t m;
  int64_t n;
  int64_t k;
  int64_t r;
  int64_t flags;
} tvc_low_rank_f32_params_t;

tvc_status_t tvc_kernel_low_rank_f32(const tvc_low_rank_f32_params_t *params);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_KERNELS_H */
