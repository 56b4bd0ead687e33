//===- SamplingTest.cpp - tvc_sample and the runtime's PRNG ---------------===//
//
// xoshiro256** against reference outputs; greedy and its limits (tiny
// temperature, top_k = 1, tiny top_p); empirical frequencies of 200k draws
// against the reference distribution for plain, top-k, top-p and both, on
// the heap and nth_element top-k paths and a nucleus spanning several sort
// chunks; masks, extreme temperatures, every rejected argument, and a GPT-2
// sized vocabulary in exactly tvc_sample_scratch_bytes with no allocation.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_sampling.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

// Counts every global operator new of this process, so a test can check that
// a call allocates nothing.
static std::atomic<int64_t> gAllocations{0};

void *operator new(size_t bytes) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void *pointer = std::malloc(bytes ? bytes : 1))
    return pointer;
  throw std::bad_alloc();
}
void operator delete(void *pointer) noexcept { std::free(pointer); }
void operator delete(void *pointer, size_t) noexcept { std::free(pointer); }

using namespace tvc::test;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
/// Draws per frequency test; one standard error is <= 0.0011, so the bound
/// 0.01 on any token's frequency is about 9 of them.
constexpr int64_t kDraws = 200000;
constexpr double kFrequencyTolerance = 0.01;
/// Fewer draws for vocabularies of thousands, where the chi-square test
/// carries the comparison.
constexpr int64_t kWideDraws = 50000;

tvc_sampling_params_t sampling(float temperature, int32_t topK = 0,
                               float topP = 0) {
  tvc_sampling_params_t params = {};
  params.temperature = temperature;
  params.top_k = topK;
  params.top_p = topP;
  return params;
}

/// A seeded rng and scratch for one vocabulary size.
struct Sampler {
  explicit Sampler(int64_t vocab, uint64_t seed = 1)
      : vocab(vocab), scratch(tvc_sample_scratch_bytes(vocab) / 8 + 1) {
    EXPECT_EQ(tvc_rng_seed(&rng, seed), TVC_OK);
  }
  int64_t sample(const std::vector<float> &logits,
                 const tvc_sampling_params_t &params) {
    int64_t token = -1;
    EXPECT_EQ(
        tvc_sample(logits.data(), vocab, &params, &rng, scratch.data(), &token),
        TVC_OK);
    return token;
  }
  int64_t vocab;
  tvc_rng_t rng;
  std::vector<uint64_t> scratch;
};

/// Draws `draws` tokens and expects: no draw of a token the reference gives
/// probability 0; every frequency within kFrequencyTolerance of the
/// reference probability; and Pearson's chi-square over tokens expected at
/// least 5 times (the rest pooled) below df + 6 sqrt(2 df) + 10, more than
/// six standard deviations above its mean.
void expectFrequencies(const std::vector<float> &logits,
                       const tvc_sampling_params_t &params,
                       int64_t draws = kDraws) {
  SCOPED_TRACE(::testing::Message()
               << "vocab=" << logits.size() << " T=" << params.temperature
               << " top_k=" << params.top_k << " top_p=" << params.top_p);
  int64_t vocab = logits.size();
  std::vector<double> expected = tvc::runtime::reference::samplingProbabilities(
      logits.data(), vocab, params);
  Sampler sampler(vocab, 12345);
  std::vector<int64_t> counts(vocab, 0);
  for (int64_t draw = 0; draw < draws; ++draw) {
    int64_t token = sampler.sample(logits, params);
    ASSERT_GE(token, 0);
    ASSERT_LT(token, vocab);
    ++counts[token];
  }
  int failures = 0;
  for (int64_t i = 0; i < vocab && failures < 5; ++i) {
    double frequency = double(counts[i]) / draws;
    if (expected[i] == 0
            ? counts[i] != 0
            : !(std::fabs(frequency - expected[i]) <= kFrequencyTolerance)) {
      ++failures;
      ADD_FAILURE() << "token " << i << ": frequency " << frequency << ", want "
                    << expected[i];
    }
  }
  double chiSquare = 0, pooledExpected = 0, pooledObserved = 0;
  int64_t bins = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    double expectedCount = expected[i] * draws;
    if (expectedCount >= 5) {
      chiSquare += (counts[i] - expectedCount) * (counts[i] - expectedCount) /
                   expectedCount;
      ++bins;
    } else {
      pooledExpected += expectedCount;
      pooledObserved += counts[i];
    }
  }
  if (pooledExpected >= 5) {
    chiSquare += (pooledObserved - pooledExpected) *
                 (pooledObserved - pooledExpected) / pooledExpected;
    ++bins;
  }
  double df = std::max<int64_t>(1, bins - 1);
  EXPECT_LT(chiSquare, df + 6 * std::sqrt(2 * df) + 10) << "bins " << bins;
}

/// Logits spread over a few units, distinct, in no sorted order.
std::vector<float> spreadLogits(int64_t vocab, uint32_t seed) {
  std::vector<float> logits = randomFloats(vocab, seed);
  for (float &logit : logits)
    logit *= 3;
  return logits;
}

//===----------------------------------------------------------------------===//
// PRNG
//===----------------------------------------------------------------------===//

/// The state is splitmix64 of the seed and the outputs are xoshiro256**'s
/// (values from an independent implementation of the reference code).
TEST(Sampling, RngMatchesXoshiro256StarStar) {
  tvc_rng_t rng;
  ASSERT_EQ(tvc_rng_seed(&rng, 0), TVC_OK);
  EXPECT_EQ(rng.state[0], 0xe220a8397b1dcdafull);
  EXPECT_EQ(rng.state[1], 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(rng.state[2], 0x06c45d188009454full);
  EXPECT_EQ(rng.state[3], 0xf88bb8a8724c81ecull);
  const uint64_t seed0[] = {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull,
                            0x1a5f849d4933e6e0ull, 0x6aa594f1262d2d2cull};
  for (uint64_t want : seed0) {
    uint64_t value = 0;
    ASSERT_EQ(tvc_rng_next_u64(&rng, &value), TVC_OK);
    EXPECT_EQ(value, want);
  }
  ASSERT_EQ(tvc_rng_seed(&rng, 42), TVC_OK);
  const uint64_t seed42[] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull,
                             0xae17533239e499a1ull, 0xecb8ad4703b360a1ull};
  for (uint64_t want : seed42) {
    uint64_t value = 0;
    ASSERT_EQ(tvc_rng_next_u64(&rng, &value), TVC_OK);
    EXPECT_EQ(value, want);
  }
  EXPECT_EQ(tvc_rng_seed(nullptr, 1), TVC_INVALID_ARGUMENT);
  uint64_t value;
  EXPECT_EQ(tvc_rng_next_u64(nullptr, &value), TVC_INVALID_ARGUMENT);
  EXPECT_EQ(tvc_rng_next_u64(&rng, nullptr), TVC_INVALID_ARGUMENT);
}

//===----------------------------------------------------------------------===//
// Greedy and its limits
//===----------------------------------------------------------------------===//

/// Temperature 0 is the first index of the largest logit; a zero-initialised
/// params struct means it, and neither rng nor scratch is needed or touched.
TEST(Sampling, GreedyIsArgmaxWithTiesToLowestIndex) {
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f, -kInf};
  tvc_sampling_params_t params = {};
  int64_t token = -1;
  ASSERT_EQ(tvc_sample(logits.data(), logits.size(), &params, nullptr, nullptr,
                       &token),
            TVC_OK);
  EXPECT_EQ(token, 1);

  // top_k and top_p do not change greedy.
  tvc_rng_t rng;
  ASSERT_EQ(tvc_rng_seed(&rng, 7), TVC_OK);
  tvc_rng_t before = rng;
  params.top_k = 3;
  params.top_p = 0.5f;
  ASSERT_EQ(
      tvc_sample(logits.data(), logits.size(), &params, &rng, nullptr, &token),
      TVC_OK);
  EXPECT_EQ(token, 1);
  EXPECT_EQ(std::memcmp(&rng, &before, sizeof(rng)), 0);

  std::vector<float> random = randomFloats(1000, 3);
  random[617] = 5;
  random[900] = 5;
  ASSERT_EQ(tvc_sample(random.data(), 1000, &params, nullptr, nullptr, &token),
            TVC_OK);
  EXPECT_EQ(token, 617);
  // Masked tokens around a single finite one.
  std::vector<float> masked(10, -kInf);
  masked[9] = -1e30f;
  ASSERT_EQ(tvc_sample(masked.data(), 10, &params, nullptr, nullptr, &token),
            TVC_OK);
  EXPECT_EQ(token, 9);
}

/// A tiny temperature sharpens distinct logits into the argmax.
TEST(Sampling, TinyTemperatureIsNearlyGreedy) {
  std::vector<float> logits = {1.0f, 1.3f, 0.2f, 1.2f, -0.5f, 1.1f};
  Sampler sampler(logits.size());
  for (float temperature : {1e-3f, 1e-20f, 1e-38f, 1e-45f})
    for (int draw = 0; draw < 1000; ++draw)
      ASSERT_EQ(sampler.sample(logits, sampling(temperature)), 1)
          << "T=" << temperature;
}

/// top_k = 1 keeps only the argmax (ties to the lowest index) at any
/// temperature, on the heap path and, for a vocabulary of one, no selection.
TEST(Sampling, TopKOneIsGreedy) {
  std::vector<float> logits = spreadLogits(5000, 4);
  logits[4321] = 10;
  logits[2345] = 10;
  Sampler sampler(logits.size());
  for (float temperature : {0.01f, 1.0f, 10.0f, 1e30f})
    for (int draw = 0; draw < 200; ++draw)
      ASSERT_EQ(sampler.sample(logits, sampling(temperature, 1)), 2345)
          << "T=" << temperature;
  std::vector<float> one = {-3};
  Sampler single(1);
  EXPECT_EQ(single.sample(one, sampling(2.0f, 1)), 0);
  EXPECT_EQ(single.sample(one, sampling(2.0f)), 0);
}

/// A top_p below the argmax's probability keeps the argmax alone.
TEST(Sampling, TinyTopPIsGreedy) {
  std::vector<float> logits = spreadLogits(5000, 5);
  logits[77] = 4;
  logits[4000] = 4;
  Sampler sampler(logits.size());
  for (float temperature : {0.5f, 1.0f, 100.0f})
    for (int draw = 0; draw < 200; ++draw)
      ASSERT_EQ(sampler.sample(logits, sampling(temperature, 0, 1e-6f)), 77)
          << "T=" << temperature;
  // Also after top-k.
  for (int draw = 0; draw < 200; ++draw)
    ASSERT_EQ(sampler.sample(logits, sampling(1.0f, 50, 1e-6f)), 77);
}

//===----------------------------------------------------------------------===//
// Determinism
//===----------------------------------------------------------------------===//

/// A seed fixes the sequence; another seed gives another one; each call
/// advances the rng by exactly one step.
TEST(Sampling, SeedFixesTheSequence) {
  std::vector<float> logits = spreadLogits(1000, 6);
  const tvc_sampling_params_t cases[] = {sampling(1.0f), sampling(0.8f, 40),
                                         sampling(1.0f, 0, 0.9f),
                                         sampling(1.2f, 500, 0.95f)};
  for (const tvc_sampling_params_t &params : cases) {
    Sampler first(1000, 99), second(1000, 99), other(1000, 100);
    std::vector<int64_t> a, b, c;
    for (int draw = 0; draw < 1000; ++draw) {
      tvc_rng_t stepped = first.rng;
      uint64_t ignored;
      ASSERT_EQ(tvc_rng_next_u64(&stepped, &ignored), TVC_OK);
      a.push_back(first.sample(logits, params));
      ASSERT_EQ(std::memcmp(&stepped, &first.rng, sizeof(tvc_rng_t)), 0);
      b.push_back(second.sample(logits, params));
      c.push_back(other.sample(logits, params));
    }
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
}

/// top_k >= vocab and top_p = 1 are off: the same tokens as without them.
TEST(Sampling, FiltersThatKeepEverythingAreOff) {
  std::vector<float> logits = spreadLogits(3000, 12);
  for (const tvc_sampling_params_t &params :
       {sampling(1.0f, 3000), sampling(1.0f, 5000), sampling(1.0f, 0, 1.0f),
        sampling(1.0f, 3000, 1.0f)}) {
    Sampler off(3000, 5), on(3000, 5);
    for (int draw = 0; draw < 200; ++draw)
      ASSERT_EQ(on.sample(logits, params), off.sample(logits, sampling(1.0f)))
          << "top_k=" << params.top_k << " top_p=" << params.top_p;
  }
}

//===----------------------------------------------------------------------===//
// Distributions
//===----------------------------------------------------------------------===//

/// Plain softmax(logits / T) at several temperatures.
TEST(Sampling, FrequenciesMatchSoftmax) {
  std::vector<float> logits = {1.0f, 2.5f, 0.3f,  -1.0f, 2.0f,
                               0.0f, 1.7f, -kInf, 0.9f,  1.2f};
  for (float temperature : {1.0f, 0.7f, 2.0f})
    expectFrequencies(logits, sampling(temperature));
  // Many tokens at a high temperature: close to uniform.
  expectFrequencies(spreadLogits(64, 7), sampling(5.0f));
}

/// Mass only on the k largest, renormalised; the heap path (k <= 256) and
/// the nth_element path; ties at the cut go to the lower index.
TEST(Sampling, FrequenciesMatchTopK) {
  std::vector<float> logits = {1.0f, 2.5f, 0.3f,  -1.0f, 2.0f,
                               0.0f, 1.7f, -kInf, 0.9f,  1.2f};
  expectFrequencies(logits, sampling(1.0f, 3));
  expectFrequencies(logits, sampling(0.5f, 5));
  expectFrequencies(logits, sampling(1.0f, 100));
  // Ties at the cut: tokens 2 and 5 tie, the lower one stays.
  std::vector<float> tied = {3.0f, 1.0f, 2.0f, 0.0f, 2.5f, 2.0f, -1.0f};
  expectFrequencies(tied, sampling(1.0f, 3));
  // k above kMaxHeapK: nth_element over a vocabulary of 2000.
  std::vector<float> wide = spreadLogits(2000, 8);
  expectFrequencies(wide, sampling(0.25f, 300), kWideDraws);
  expectFrequencies(wide, sampling(0.25f, 30), kWideDraws);
}

/// The nucleus of the (top-k filtered) distribution, renormalised.
TEST(Sampling, FrequenciesMatchTopP) {
  std::vector<float> logits = {1.0f, 2.5f, 0.3f,  -1.0f, 2.0f,
                               0.0f, 1.7f, -kInf, 0.9f,  1.2f};
  // Cumulative sums, most likely first: T=1 .336 .540 .691 .782 ...; T=2
  // .213 .380 .523 .634 .735 .831 .902; top-4 at T=1 .429 .690 .883. The
  // cuts below sit well away from them.
  expectFrequencies(logits, sampling(1.0f, 0, 0.5f));
  expectFrequencies(logits, sampling(1.0f, 0, 0.75f));
  expectFrequencies(logits, sampling(2.0f, 0, 0.87f));
  expectFrequencies(logits, sampling(1.0f, 4, 0.8f));
  // A nucleus of hundreds of tokens (past the plain sort, through the
  // bucket histogram), alone and after a top-k on the nth_element path.
  std::vector<float> wide = spreadLogits(2000, 9);
  expectFrequencies(wide, sampling(0.5f, 0, 0.9f), kWideDraws);
  expectFrequencies(wide, sampling(0.5f, 1000, 0.8f), kWideDraws);
  // Every weight in one bucket: the crossing bucket is the whole nucleus.
  std::vector<float> narrow = randomFloats(400, 11);
  for (float &logit : narrow)
    logit = 1 + logit * 1e-3f;
  expectFrequencies(narrow, sampling(1.0f, 0, 0.6f), kWideDraws);
}

/// With equal logits the kept tokens are exactly the lowest indices, through
/// both top-k paths and both nucleus searches.
TEST(Sampling, TiesKeepLowestIndices) {
  std::vector<float> flat(3000, 0.25f);
  Sampler sampler(flat.size());
  struct Case {
    tvc_sampling_params_t params;
    int64_t kept;
  } cases[] = {{sampling(1.0f, 10), 10},
               {sampling(1.0f, 700), 700},
               {sampling(1.0f, 0, 0.5f), 1500},
               {sampling(1.0f, 1000, 0.25f), 250},
               {sampling(1.0f, 0, 0.01f), 30}};
  for (const Case &c : cases) {
    int64_t largest = 0;
    for (int draw = 0; draw < 4000; ++draw)
      largest = std::max(largest, sampler.sample(flat, c.params));
    EXPECT_LT(largest, c.kept)
        << "top_k=" << c.params.top_k << " top_p=" << c.params.top_p;
    EXPECT_GE(largest, c.kept * 9 / 10);
  }
}

/// -inf tokens are never drawn, even when top-k keeps more tokens than are
/// finite or the temperature flattens everything else.
TEST(Sampling, MaskedTokensAreNeverDrawn) {
  std::vector<float> logits(300, -kInf);
  logits[3] = 0;
  logits[150] = 1;
  logits[299] = -40;
  Sampler sampler(logits.size());
  for (const tvc_sampling_params_t &params :
       {sampling(1.0f), sampling(1e30f), sampling(1.0f, 10),
        sampling(1e30f, 290), sampling(1e30f, 0, 0.999f)}) {
    for (int draw = 0; draw < 5000; ++draw) {
      int64_t token = sampler.sample(logits, params);
      ASSERT_TRUE(token == 3 || token == 150 || token == 299) << token;
    }
  }
}

//===----------------------------------------------------------------------===//
// Arguments and scratch
//===----------------------------------------------------------------------===//

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves the token
/// and the rng alone.
TEST(Sampling, InvalidArguments) {
  std::vector<float> logits = {0.5f, 1.0f, -2.0f};
  Sampler sampler(3);
  const tvc_sampling_params_t valid = sampling(1.0f, 2, 0.9f);
  int64_t token = 42;
  ASSERT_EQ(tvc_sample(logits.data(), 3, &valid, &sampler.rng,
                       sampler.scratch.data(), &token),
            TVC_OK);
  token = 42;
  tvc_rng_t rngBefore = sampler.rng;
  auto expectRejected = [&](const float *values, int64_t vocab,
                            const tvc_sampling_params_t *params, tvc_rng_t *rng,
                            void *scratch, int64_t *out, const char *why) {
    EXPECT_EQ(tvc_sample(values, vocab, params, rng, scratch, out),
              TVC_INVALID_ARGUMENT)
        << why;
    EXPECT_EQ(token, 42) << why;
    EXPECT_EQ(std::memcmp(&rngBefore, &sampler.rng, sizeof(tvc_rng_t)), 0)
        << why;
  };
  auto rejectParams = [&](tvc_sampling_params_t params, const char *why) {
    expectRejected(logits.data(), 3, &params, &sampler.rng,
                   sampler.scratch.data(), &token, why);
  };
  auto rejectLogits = [&](std::vector<float> values, float temperature,
                          const char *why) {
    tvc_sampling_params_t params = sampling(temperature);
    expectRejected(values.data(), values.size(), &params, &sampler.rng,
                   sampler.scratch.data(), &token, why);
  };
  void *scratch = sampler.scratch.data();
  expectRejected(nullptr, 3, &valid, &sampler.rng, scratch, &token,
                 "null logits");
  expectRejected(logits.data(), 3, nullptr, &sampler.rng, scratch, &token,
                 "null params");
  expectRejected(logits.data(), 3, &valid, &sampler.rng, scratch, nullptr,
                 "null out_token");
  expectRejected(logits.data(), 3, &valid, nullptr, scratch, &token,
                 "null rng");
  expectRejected(logits.data(), 3, &valid, &sampler.rng, nullptr, &token,
                 "null scratch");
  expectRejected(logits.data(), 3, &valid, &sampler.rng,
                 static_cast<char *>(scratch) + 4, &token,
                 "misaligned scratch");
  expectRejected(logits.data(), 0, &valid, &sampler.rng, scratch, &token,
                 "vocab 0");
  expectRejected(logits.data(), -1, &valid, &sampler.rng, scratch, &token,
                 "negative vocab");
  expectRejected(logits.data(), int64_t(1) << 31, &valid, &sampler.rng, scratch,
                 &token, "vocab above INT32_MAX");

  tvc_sampling_params_t p = valid;
  p.temperature = -1;
  rejectParams(p, "negative temperature");
  p.temperature = -0.0f;
  p.top_k = 0;
  p.top_p = 0;
  // -0 compares equal to 0: greedy, accepted.
  EXPECT_EQ(tvc_sample(logits.data(), 3, &p, nullptr, nullptr, &token), TVC_OK);
  EXPECT_EQ(token, 1);
  token = 42;
  p = valid;
  p.temperature = kInf;
  rejectParams(p, "infinite temperature");
  p.temperature = std::nanf("");
  rejectParams(p, "NaN temperature");
  p = valid;
  p.top_k = -1;
  rejectParams(p, "negative top_k");
  p = valid;
  p.top_p = -0.1f;
  rejectParams(p, "negative top_p");
  p.top_p = 1.0001f;
  rejectParams(p, "top_p above 1");
  p.top_p = std::nanf("");
  rejectParams(p, "NaN top_p");
  p = valid;
  p.temperature = 0;
  p.top_k = -5;
  rejectParams(p, "greedy still checks top_k");

  for (float temperature : {0.0f, 1.0f}) {
    rejectLogits({0.5f, std::nanf(""), 1.0f}, temperature, "NaN logit");
    rejectLogits({0.5f, kInf, 1.0f}, temperature, "+inf logit");
    rejectLogits({-kInf, -kInf}, temperature, "every logit -inf");
  }

  EXPECT_EQ(tvc_sample_scratch_bytes(0), 0u);
  EXPECT_EQ(tvc_sample_scratch_bytes(-3), 0u);
  EXPECT_EQ(tvc_sample_scratch_bytes(int64_t(1) << 31), 0u);
  EXPECT_EQ(tvc_sample_scratch_bytes(1), 8u);
}

/// A GPT-2 vocabulary in exactly tvc_sample_scratch_bytes (guard words after
/// it stay intact) on every path, with no operator new.
TEST(Sampling, Gpt2VocabularyInExactScratch) {
  constexpr int64_t kVocab = 50257;
  size_t bytes = tvc_sample_scratch_bytes(kVocab);
  ASSERT_EQ(bytes, size_t(kVocab) * 8);
  constexpr uint64_t kGuard = 0x5AFEC0DE5AFEC0DEull;
  std::vector<uint64_t> memory(bytes / 8 + 16, kGuard);
  // Peaked like a language model: a few likely tokens over a long tail.
  std::vector<float> logits = randomFloats(kVocab, 10);
  for (float &logit : logits)
    logit = 4 * logit - 6;
  for (int64_t token : {50256, 11, 262, 13, 290})
    logits[token] += 20;
  tvc_rng_t rng;
  ASSERT_EQ(tvc_rng_seed(&rng, 2024), TVC_OK);
  const tvc_sampling_params_t cases[] = {sampling(0),
                                         sampling(1.0f),
                                         sampling(0.7f, 40),
                                         sampling(1.0f, 1000),
                                         sampling(0.8f, 0, 0.95f),
                                         sampling(1.0f, 0, 0.5f),
                                         sampling(1.0f, 50, 0.9f),
                                         sampling(100.0f, 0, 0.9f)};
  int64_t tokens[sizeof(cases) / sizeof(cases[0])][20];
  int64_t allocationsBefore = gAllocations.load();
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c)
    for (int64_t &token : tokens[c])
      if (tvc_sample(logits.data(), kVocab, &cases[c], &rng, memory.data(),
                     &token) != TVC_OK)
        token = -1;
  int64_t allocations = gAllocations.load() - allocationsBefore;
  EXPECT_EQ(allocations, 0);
  for (size_t i = bytes / 8; i < memory.size(); ++i)
    ASSERT_EQ(memory[i], kGuard) << "scratch overrun at word " << i;
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c)
    for (int64_t token : tokens[c]) {
      ASSERT_GE(token, 0) << "case " << c;
      ASSERT_LT(token, kVocab);
    }
  // The peaked cases draw only the boosted tokens.
  for (int64_t token : tokens[2])
    EXPECT_TRUE(token == 50256 || token == 11 || token == 262 || token == 13 ||
                token == 290)
        << token;
  int64_t argmax =
      std::max_element(logits.begin(), logits.end()) - logits.begin();
  for (int64_t token : tokens[0])
    EXPECT_EQ(token, argmax);
}

} // namespace
