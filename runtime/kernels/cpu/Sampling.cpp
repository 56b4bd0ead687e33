//===- Sampling.cpp - Token sampling and the runtime's PRNG ---------------===//
//
// tvc_sample and xoshiro256**. One vectorised pass checks the logits and
// finds their maximum (greedy stops there). Weights are
// exp((logit - max) / T), so the largest is exactly 1, from a branch-free
// exp. A draw over the whole vocabulary keeps the weights as floats in the
// scratch and walks 1024-token block sums, then one block. Top-k fills
// (weight, token) candidates in the scratch: the k largest from one pass
// through a bounded heap (small k) or std::nth_element (large k). Top-p
// never sorts the vocabulary: a mass histogram over weight buckets (the top
// bits of the float) finds the bucket where the nucleus ends, and only that
// bucket is sorted. Every draw compares one uniform in [0, 1) times the
// total weight with a running sum in double.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_sampling.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace {

//===----------------------------------------------------------------------===//
// xoshiro256** 1.0 and splitmix64, after the public-domain reference code of
// Blackman and Vigna (prng.di.unimi.it).
//===----------------------------------------------------------------------===//

inline uint64_t rotateLeft(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

inline uint64_t splitMix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t xoshiroNext(uint64_t *s) {
  uint64_t result = rotateLeft(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotateLeft(s[3], 45);
  return result;
}

//===----------------------------------------------------------------------===//
// Sampling
//===----------------------------------------------------------------------===//

/// One token in the scratch: its logit while candidates are selected, its
/// unnormalised probability after.
struct Candidate {
  float value;
  int32_t token;
};
static_assert(sizeof(Candidate) == 8, "the scratch size is part of the ABI");
/// The scratch alignment tvc_sampling.h promises to need.
constexpr uintptr_t kScratchAlignment = 8;

/// Strict total order "a is more likely than b": larger value first, ties to
/// the lower token, as top-k and top-p define it.
inline bool moreLikely(const Candidate &a, const Candidate &b) {
  return a.value > b.value || (a.value == b.value && a.token < b.token);
}

/// Independent accumulators of the vectorised loops.
constexpr int64_t kLanes = 16;
/// Tokens per block of weights: sums are formed per block, so a draw over
/// the whole vocabulary walks block sums first and one block token by token.
constexpr int64_t kBlock = 1024;
/// Up to this k the top k come from one pass through a bounded heap (about
/// one comparison per token); above it from std::nth_element over all.
constexpr int64_t kMaxHeapK = 256;
/// Up to this many candidates the nucleus search just sorts them.
constexpr int64_t kNucleusSortAtMost = 256;

/// exp(x) for x <= 0, within 2 ulp, branch-free so loops over it
/// vectorise: Cody-Waite reduction, the Cephes polynomial, 2^n built in the
/// exponent bits. Below -87 it returns 0 (exp(-87) ~ 1.6e-38 is below any
/// probability a 53-bit uniform can pick next to the weight 1 of the most
/// likely token), so -inf, a masked token, gets weight exactly 0.
inline float expNonPositive(float x) {
  bool underflow = !(x >= -87.0f);
  x = underflow ? 0.0f : x;
  // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the
  // low mantissa bits.
  const float shifter = 12582912.0f;
  float shifted = x * 1.44269504088896341f + shifter;
  float n = shifted - shifter;
  int32_t exponent = __builtin_bit_cast(int32_t, shifted) - 0x4B400000;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  poly = poly * r * r + r + 1.0f;
  float value = poly * __builtin_bit_cast(float, (exponent + 127) << 23);
  return underflow ? 0.0f : value;
}

/// The largest logit, and whether any is NaN or +inf, in kLanes lanes.
void scanLogits(const float *logits, int64_t vocab, float &outMax,
                bool &outBad) {
  const float infinity = std::numeric_limits<float>::infinity();
  float maxima[kLanes];
  int32_t bad[kLanes] = {};
  for (float &maximum : maxima)
    maximum = -infinity;
  int64_t i = 0;
  for (; i + kLanes <= vocab; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      float logit = logits[i + lane];
      bad[lane] |= (logit != logit) | (logit == infinity);
      maxima[lane] = logit > maxima[lane] ? logit : maxima[lane];
    }
  for (int64_t lane = 0; i < vocab; ++i, ++lane) {
    float logit = logits[i];
    bad[lane] |= (logit != logit) | (logit == infinity);
    maxima[lane] = logit > maxima[lane] ? logit : maxima[lane];
  }
  outMax = -infinity;
  outBad = false;
  for (int64_t lane = 0; lane < kLanes; ++lane) {
    outMax = std::max(outMax, maxima[lane]);
    outBad |= bad[lane] != 0;
  }
}

/// sum(values[0..count)) in kLanes float lanes, added up in double: the
/// same value for the same input, however often it is called.
double laneSum(const float *values, int64_t count) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane)
      lanes[lane] += values[i + lane];
  double sum = 0;
  for (; i < count; ++i)
    sum += values[i];
  for (float lane : lanes)
    sum += lane;
  return sum;
}

/// What turns a logit into a weight: exp((logit - maxLogit) * inverseT).
struct Scaling {
  float maxLogit;
  float inverseT;
};

/// The weights of logits[0..count) (count <= kBlock) into out; returns
/// their laneSum.
double blockWeights(const float *logits, int64_t count, Scaling scaling,
                    float *out) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = expNonPositive((logits[i] - scaling.maxLogit) * scaling.inverseT);
  return laneSum(out, count);
}

/// The token where the running sum of weights[0..vocab) first exceeds
/// `threshold` (< their blockwise total): block sums first, then one block
/// token by token. Rounding inside a block falls back to its last positive
/// weight, past the end to the last positive weight of all.
int64_t pickFromWeights(const float *weights, int64_t vocab, double threshold) {
  double sum = 0;
  for (int64_t begin = 0; begin < vocab; begin += kBlock) {
    int64_t count = std::min(kBlock, vocab - begin);
    double blockSum = laneSum(weights + begin, count);
    if (!(sum + blockSum > threshold)) {
      sum += blockSum;
      continue;
    }
    for (int64_t i = begin; i < begin + count; ++i) {
      sum += weights[i];
      if (sum > threshold)
        return i;
    }
    for (int64_t i = begin + count - 1; i > begin; --i)
      if (weights[i] > 0)
        return i;
    return begin;
  }
  int64_t last = vocab - 1;
  while (last > 0 && !(weights[last] > 0))
    --last;
  return last;
}

/// Puts the k most likely tokens (by logit) into out[0..k), in no order,
/// with one pass and a heap whose root is the least likely kept token.
void topKByHeap(const float *logits, int64_t vocab, int64_t k, Candidate *out) {
  for (int64_t i = 0; i < k; ++i)
    out[i] = {logits[i], int32_t(i)};
  std::make_heap(out, out + k, moreLikely);
  float threshold = out[0].value;
  for (int64_t i = k; i < vocab; ++i) {
    // A later token with an equal logit loses the tie, so only a strictly
    // larger logit enters.
    if (!(logits[i] > threshold))
      continue;
    std::pop_heap(out, out + k, moreLikely);
    out[k - 1] = {logits[i], int32_t(i)};
    std::push_heap(out, out + k, moreLikely);
    threshold = out[0].value;
  }
}

/// Bucket of a weight in [0, 1] for the nucleus search: the top bits of its
/// float representation (exponent and 4 mantissa bits), which grow with the
/// weight; 1.0 falls in the last. A bucket spans a factor of at most 17/16.
constexpr int kBucketShift = 19;
constexpr int kBuckets = (0x3F800000 >> kBucketShift) + 1;

inline int bucketOf(float weight) {
  return std::min<int>(__builtin_bit_cast(uint32_t, weight) >> kBucketShift,
                       kBuckets - 1);
}

/// Moves the shortest most-likely-first prefix of candidates[0..n) whose
/// weight reaches `target` to the front and returns its length and weight;
/// n (or the candidates down to the boundary bucket) and their weight if
/// rounding keeps the sum below target. A mass histogram over weight buckets
/// finds the bucket where the prefix crosses target; heavier buckets are all
/// in, so only the crossing bucket is sorted. O(n) plus that sort.
int64_t nucleus(Candidate *candidates, int64_t n, double target,
                double &outWeight) {
  Candidate *heavy = candidates, *crossing = candidates + n;
  if (n > kNucleusSortAtMost) {
    double mass[kBuckets] = {};
    for (int64_t i = 0; i < n; ++i)
      mass[bucketOf(candidates[i].value)] += candidates[i].value;
    int boundary = kBuckets - 1;
    for (double above = 0; boundary > 0; --boundary) {
      if (above + mass[boundary] >= target)
        break;
      above += mass[boundary];
    }
    heavy = std::partition(candidates, candidates + n, [&](const Candidate &c) {
      return bucketOf(c.value) > boundary;
    });
    crossing = std::partition(heavy, candidates + n, [&](const Candidate &c) {
      return bucketOf(c.value) == boundary;
    });
  }
  std::sort(heavy, crossing, moreLikely);
  // Summed again in the order the draw walks, so the two agree.
  double sum = 0;
  for (const Candidate *c = candidates; c != heavy; ++c)
    sum += c->value;
  for (const Candidate *c = heavy; c != crossing; ++c) {
    sum += c->value;
    if (sum >= target) {
      outWeight = sum;
      return c - candidates + 1;
    }
  }
  outWeight = sum;
  return crossing - candidates;
}

/// The token at which the running sum of candidate weights first exceeds
/// `threshold` (< the sum of all n weights); the last positive weight if
/// rounding never gets there.
int64_t pickFromCandidates(const Candidate *candidates, int64_t n,
                           double threshold) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += candidates[i].value;
    if (sum > threshold)
      return candidates[i].token;
  }
  for (int64_t i = n - 1; i > 0; --i)
    if (candidates[i].value > 0)
      return candidates[i].token;
  return candidates[0].token;
}

/// A draw from the whole vocabulary (no top-k, no top-p): weights in the
/// scratch as floats, no candidates.
int64_t sampleAll(const float *logits, int64_t vocab, Scaling scaling,
                  double uniform, float *weights) {
  double total = 0;
  for (int64_t begin = 0; begin < vocab; begin += kBlock)
    total += blockWeights(logits + begin, std::min(kBlock, vocab - begin),
                          scaling, weights + begin);
  return pickFromWeights(weights, vocab, uniform * total);
}

/// A draw from the top-p nucleus of the whole vocabulary: every token
/// becomes a candidate.
int64_t sampleNucleusOfAll(const float *logits, int64_t vocab, Scaling scaling,
                           double topP, double uniform, Candidate *candidates) {
  float block[kBlock];
  double total = 0;
  for (int64_t begin = 0; begin < vocab; begin += kBlock) {
    int64_t count = std::min(kBlock, vocab - begin);
    total += blockWeights(logits + begin, count, scaling, block);
    for (int64_t i = 0; i < count; ++i)
      candidates[begin + i] = {block[i], int32_t(begin + i)};
  }
  double weight;
  int64_t n = nucleus(candidates, vocab, topP * total, weight);
  return pickFromCandidates(candidates, n, uniform * weight);
}

/// A draw from the k most likely tokens, then their top-p nucleus when
/// topP < 1.
int64_t sampleTopK(const float *logits, int64_t vocab, int64_t k,
                   Scaling scaling, double topP, double uniform,
                   Candidate *candidates) {
  if (k <= kMaxHeapK) {
    topKByHeap(logits, vocab, k, candidates);
  } else {
    for (int64_t i = 0; i < vocab; ++i)
      candidates[i] = {logits[i], int32_t(i)};
    std::nth_element(candidates, candidates + k, candidates + vocab,
                     moreLikely);
  }
  double total = 0;
  for (int64_t i = 0; i < k; ++i) {
    float weight = expNonPositive((candidates[i].value - scaling.maxLogit) *
                                  scaling.inverseT);
    candidates[i].value = weight;
    total += weight;
  }
  int64_t n = k;
  if (topP < 1)
    n = nucleus(candidates, k, topP * total, total);
  return pickFromCandidates(candidates, n, uniform * total);
}

bool validParams(const tvc_sampling_params_t &p) {
  // The comparisons are false for NaN.
  return std::isfinite(p.temperature) && p.temperature >= 0 && p.top_k >= 0 &&
         p.top_p >= 0 && p.top_p <= 1;
}

} // namespace

extern "C" tvc_status_t tvc_rng_seed(tvc_rng_t *rng, uint64_t seed) {
  if (!rng)
    return TVC_INVALID_ARGUMENT;
  // splitmix64 is a bijection of its counter, so the four words are distinct
  // and at most one is zero: the state is never all zero.
  for (uint64_t &word : rng->state)
    word = splitMix64(seed);
  return TVC_OK;
}

extern "C" tvc_status_t tvc_rng_next_u64(tvc_rng_t *rng, uint64_t *out_value) {
  if (!rng || !out_value)
    return TVC_INVALID_ARGUMENT;
  *out_value = xoshiroNext(rng->state);
  return TVC_OK;
}

extern "C" size_t tvc_sample_scratch_bytes(int64_t vocab) {
  // Tokens are stored as int32_t in the scratch.
  if (vocab < 1 || vocab > std::numeric_limits<int32_t>::max() ||
      uint64_t(vocab) > SIZE_MAX / sizeof(Candidate))
    return 0;
  return size_t(vocab) * sizeof(Candidate);
}

extern "C" tvc_status_t tvc_sample(const float *logits, int64_t vocab,
                                   const tvc_sampling_params_t *params,
                                   tvc_rng_t *rng, void *scratch,
                                   int64_t *out_token) {
  if (!logits || !params || !out_token || !validParams(*params) ||
      tvc_sample_scratch_bytes(vocab) == 0)
    return TVC_INVALID_ARGUMENT;
  const tvc_sampling_params_t &p = *params;
  bool greedy = p.temperature == 0;
  if (!greedy &&
      (!rng || !scratch ||
       reinterpret_cast<uintptr_t>(scratch) % kScratchAlignment != 0))
    return TVC_INVALID_ARGUMENT;

  float maxLogit;
  bool bad;
  scanLogits(logits, vocab, maxLogit, bad);
  // With every logit -inf there is no distribution to draw from.
  if (bad || maxLogit == -std::numeric_limits<float>::infinity())
    return TVC_INVALID_ARGUMENT;
  if (greedy) {
    int64_t argmax = 0;
    while (logits[argmax] != maxLogit)
      ++argmax;
    *out_token = argmax;
    return TVC_OK;
  }

  // The one draw of this call, taken first so every path consumes it.
  double uniform =
      double(xoshiroNext(rng->state) >> 11) * 0x1.0p-53; // in [0, 1)
  // A temperature so small that 1/T overflows multiplies by FLT_MAX
  // instead, which keeps (max - max) * (1/T) = 0 rather than NaN.
  Scaling scaling = {maxLogit, std::min(1.0f / p.temperature,
                                        std::numeric_limits<float>::max())};
  double topP = (p.top_p > 0 && p.top_p < 1) ? p.top_p : 1.0;
  auto *candidates = static_cast<Candidate *>(scratch);
  if (p.top_k > 0 && p.top_k < vocab)
    *out_token =
        sampleTopK(logits, vocab, p.top_k, scaling, topP, uniform, candidates);
  else if (topP < 1)
    *out_token =
        sampleNucleusOfAll(logits, vocab, scaling, topP, uniform, candidates);
  else
    *out_token = sampleAll(logits, vocab, scaling, uniform,
                           static_cast<float *>(scratch));
  return TVC_OK;
}
