/*===- tvc_sampling.h - Token sampling of the tvc runtime ------------------===*
 *
 * Picks the next token from a row of logits: greedy, or a draw from the
 * temperature-scaled softmax restricted by top-k and top-p, with a small
 * seedable PRNG the caller owns. Host generation loops call this, not
 * compiled code, so its params struct is a plain C struct (float and int32
 * fields) rather than the all-8-byte layout of tvc_kernels.h. Include this
 * header on its own: it includes tvc_runtime.h for tvc_status_t.
 *
 * Nothing here allocates, keeps global state or calls exit(): the caller
 * passes scratch memory of tvc_sample_scratch_bytes(vocab) bytes, and the
 * PRNG state lives in a caller-owned tvc_rng_t. Calls with distinct rng and
 * scratch may run on several threads at once.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_SAMPLING_H
#define TVC_RUNTIME_API_TVC_SAMPLING_H

#include "runtime/api/tvc_runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Random numbers
 *===----------------------------------------------------------------------===*/

/* The state of xoshiro256** 1.0 (Blackman and Vigna): 256 bits, period
   2^256 - 1, never all zero. Not zero-initialisable: set it with
   tvc_rng_seed. Copying the struct forks the stream. */
typedef struct tvc_rng_t {
  uint64_t state[4];
} tvc_rng_t;

/* Seeds `rng` from `seed` (any value, 0 included) by filling the state with
   four successive outputs of splitmix64 started at `seed`, the seeding the
   xoshiro authors recommend. The same seed gives the same stream on every
   platform. TVC_INVALID_ARGUMENT if rng is NULL. */
tvc_status_t tvc_rng_seed(tvc_rng_t *rng, uint64_t seed);

/* The next 64-bit output of xoshiro256** in *out_value; advances rng by one
   step. TVC_INVALID_ARGUMENT if rng or out_value is NULL. */
tvc_status_t tvc_rng_next_u64(tvc_rng_t *rng, uint64_t *out_value);

/*===----------------------------------------------------------------------===*
 * Sampling
 *===----------------------------------------------------------------------===*/

/* How tvc_sample picks a token. A zero-initialised struct is valid and means
   greedy; each field's "off" value is its zero:
     temperature  0 = greedy (argmax, ties to the lowest index); otherwise a
                  finite T > 0 that divides the logits. Default 0.
     top_k        0 = off; k > 0 keeps the k largest logits (ties to the lower
                  index; k >= vocab keeps all). Default 0.
     top_p        0 or 1 = off; 0 < p < 1 keeps the smallest set of most
                  likely tokens of the top-k filtered distribution whose
                  probability sums to >= p (at least one token). Default 0
                  (off), so that zero initialisation stays valid. */
typedef struct tvc_sampling_params_t {
  float temperature;
  int32_t top_k;
  float top_p;
} tvc_sampling_params_t;

/* Bytes of scratch tvc_sample needs for a vocabulary of `vocab` tokens
   (8 per token); 0 when vocab is outside [1, INT32_MAX]. */
size_t tvc_sample_scratch_bytes(int64_t vocab);

/* Picks one token id in [0, vocab) from logits[vocab] (not modified) and
   writes it to *out_token.

   With temperature 0 the result is the first index of the largest logit;
   rng and scratch are not touched and may be NULL. Otherwise:
     1. z[i] = logits[i] / temperature;
     2. top-k: keep the top_k largest z (ties to the lower index);
     3. p[i] = softmax over the kept z (computed as exp(z - max z));
     4. top-p: order kept tokens by p descending (ties to the lower index)
        and keep the shortest prefix whose sum is >= top_p * sum(p);
     5. renormalise over what is left and draw one token with rng.
   A successful call with temperature > 0 advances rng by exactly one step,
   whichever token it picks, so a seed fixes the whole sequence of tokens.
   A logit of -INFINITY masks its token (probability 0, never returned), and
   so does any token less likely than exp(-87) ~ 1.6e-38 times the most
   likely one.

   scratch: at least tvc_sample_scratch_bytes(vocab) bytes aligned to 8
   (malloc'd memory is), not aliasing logits; its contents on entry and exit
   are unspecified. Cost: O(vocab) passes; top-k adds a heap of k (k <= 256,
   O(vocab log k) at worst) or a selection; top-p sorts only the tokens
   within a factor 17/16 of the nucleus' least likely weight.

   TVC_INVALID_ARGUMENT, with *out_token and rng untouched, when: params,
   logits or out_token is NULL; vocab is outside [1, INT32_MAX]; any logit is
   NaN or +INFINITY, or every logit is -INFINITY; temperature is negative or
   not finite; top_k < 0; top_p is NaN or outside [0, 1]; or, with
   temperature > 0, rng or scratch is NULL or scratch is misaligned. */
tvc_status_t tvc_sample(const float *logits, int64_t vocab,
                        const tvc_sampling_params_t *params, tvc_rng_t *rng,
                        void *scratch, int64_t *out_token);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_SAMPLING_H */
