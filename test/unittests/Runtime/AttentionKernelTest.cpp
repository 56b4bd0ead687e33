//===- AttentionKernelTest.cpp - tvc_kernel_attention_f32 vs the reference ===//
//
// Every mask kind, grouped KV heads, decode and chunked prefill against a KV
// cache whose unused rows hold NaN (so a read past kv_len shows), batches,
// head sizes from 1 to the limit, on one thread and on the pool; sliding
// windows, window + global tokens and block-local masks at the tile, block
// and sequence edges also against dense attention over the explicitly
// gathered keys (a definition of the masks independent of the reference);
// top-k on integer data (exact scores, many ties) against the reference and
// the argmax; every rejected argument.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_kernels.h"
#include "runtime/kernels/cpu/Reference.h"

#include "KernelTestUtils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

using namespace tvc::test;

namespace {

struct AttentionCase {
  int64_t batch, qLen, kvLen, kvCapacity, heads, kvHeads, headDim;
  int64_t maskKind, window;
  double scale; // 0 means 1 / sqrt(headDim)
  int64_t global = 0, block = 0, topK = 0;
  int64_t vertical = 0, slash = 0, lastQueries = 0;
};

/// Inputs of one case, with the KV rows past kv_len set to NaN.
struct AttentionInputs {
  std::vector<float> q, k, v;
  tvc_attention_f32_params_t params = {};

  explicit AttentionInputs(const AttentionCase &c, uint32_t seed = 11) {
    q = randomFloats(c.batch * c.qLen * c.heads * c.headDim, seed);
    k = randomFloats(c.batch * c.kvCapacity * c.kvHeads * c.headDim, seed + 1);
    v = randomFloats(c.batch * c.kvCapacity * c.kvHeads * c.headDim, seed + 2);
    int64_t rowSize = c.kvHeads * c.headDim;
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t j = c.kvLen; j < c.kvCapacity; ++j)
        for (int64_t e = 0; e < rowSize; ++e) {
          k[(b * c.kvCapacity + j) * rowSize + e] = std::nanf("");
          v[(b * c.kvCapacity + j) * rowSize + e] = std::nanf("");
        }
    params.q = q.data();
    params.k = k.data();
    params.v = v.data();
    params.batch = c.batch;
    params.q_len = c.qLen;
    params.kv_len = c.kvLen;
    params.kv_capacity = c.kvCapacity;
    params.heads = c.heads;
    params.kv_heads = c.kvHeads;
    params.head_dim = c.headDim;
    params.mask_kind = c.maskKind;
    params.window = c.window;
    params.global = c.global;
    params.block = c.block;
    params.top_k = c.topK;
    params.vertical = c.vertical;
    params.slash = c.slash;
    params.last_queries = c.lastQueries;
    params.scale = c.scale != 0 ? c.scale : 1.0 / std::sqrt(double(c.headDim));
  }

  /// Runs the fast kernel; expects TVC_OK.
  std::vector<float> run() {
    std::vector<float> out(q.size(), std::nanf(""));
    params.out = out.data();
    EXPECT_EQ(tvc_kernel_attention_f32(&params), TVC_OK);
    return out;
  }
};

/// The magnitude of each output of case `c`: an output is a convex
/// combination of the allowed v rows, with weights that fp32 rounding of a
/// score s moves by about |s| ulps, so its magnitude is
/// max |v| * (1 + max |s|), where |s| sums |scale * q[d] * k[d]| (the terms
/// of the score), both over the keys its query may see.
std::vector<double> outputMagnitudes(const AttentionCase &c,
                                     const AttentionInputs &in) {
  const tvc_attention_f32_params_t &params = in.params;
  std::vector<double> magnitude(in.q.size());
  int64_t dim = c.headDim, group = c.heads / c.kvHeads;
  auto kvIndex = [&](int64_t b, int64_t j, int64_t h, int64_t d) {
    return ((b * c.kvCapacity + j) * c.kvHeads + h / group) * dim + d;
  };
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.qLen; ++i)
      for (int64_t h = 0; h < c.heads; ++h) {
        const float *query = &in.q[((b * c.qLen + i) * c.heads + h) * dim];
        std::vector<double> largestV(dim, 0.0);
        double largestScore = 0;
        for (int64_t j = 0; j < c.kvLen; ++j) {
          if (!tvc::runtime::reference::attentionAllows(
                  params, c.kvLen - c.qLen + i, j))
            continue;
          double score = 0;
          for (int64_t d = 0; d < dim; ++d) {
            score += std::fabs(query[d] * in.k[kvIndex(b, j, h, d)]);
            largestV[d] = std::max<double>(
                largestV[d], std::fabs(in.v[kvIndex(b, j, h, d)]));
          }
          largestScore =
              std::max(largestScore, std::fabs(params.scale) * score);
        }
        for (int64_t d = 0; d < dim; ++d)
          magnitude[((b * c.qLen + i) * c.heads + h) * dim + d] =
              largestV[d] * (1 + largestScore);
      }
  return magnitude;
}

::testing::Message describe(const AttentionCase &c) {
  return ::testing::Message()
         << "batch=" << c.batch << " q_len=" << c.qLen << " kv_len=" << c.kvLen
         << " kv_capacity=" << c.kvCapacity << " heads=" << c.heads
         << " kv_heads=" << c.kvHeads << " head_dim=" << c.headDim
         << " mask=" << c.maskKind << " window=" << c.window
         << " global=" << c.global << " block=" << c.block
         << " top_k=" << c.topK << " vertical=" << c.vertical
         << " slash=" << c.slash << " last_queries=" << c.lastQueries
         << " scale=" << c.scale;
}

/// Inputs of a top-k case whose q and k hold small integers and whose scale
/// is a power of two, so every score is exact in fp32 and in the reference's
/// double: the kernel and the reference select the same keys, ties included.
AttentionInputs integerInputs(const AttentionCase &c) {
  AttentionInputs in(c);
  for (std::vector<float> *values : {&in.q, &in.k})
    for (float &value : *values)
      value = std::round(value * 2); // -2..2, NaN stays NaN
  return in;
}

/// Compares the kernel with the reference (dense scores, explicit mask), on
/// random inputs or on integerInputs.
void checkAttention(const AttentionCase &c, bool integers = false) {
  SCOPED_TRACE(describe(c));
  AttentionInputs in = integers ? integerInputs(c) : AttentionInputs(c);
  std::vector<float> out = in.run();
  std::vector<float> expected(out.size());
  tvc_attention_f32_params_t params = in.params;
  params.out = expected.data();
  tvc::runtime::reference::attentionF32(params);
  expectClose(out, expected, outputMagnitudes(c, in));
}

/// Compares the sliding-window kernel with dense attention over the keys
/// the window keeps, taken explicitly: for every query row, the reference
/// with the full mask on the key/value rows [max(0, p - w + 1), p] alone.
/// This does not go through the mask definition the kernel and the
/// reference share (attentionAllows), so an off-by-one at the window's
/// edge in both would still show.
void checkWindowAgainstDenseSlice(const AttentionCase &c) {
  ASSERT_EQ(c.maskKind, TVC_MASK_SLIDING_WINDOW);
  SCOPED_TRACE(describe(c));
  AttentionInputs in(c);
  std::vector<float> out = in.run();
  std::vector<float> expected(out.size(), std::nanf(""));
  int64_t qRow = c.heads * c.headDim, kvRow = c.kvHeads * c.headDim;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.qLen; ++i) {
      int64_t pos = c.kvLen - c.qLen + i;
      int64_t lo = std::max<int64_t>(0, pos - c.window + 1), hi = pos + 1;
      tvc_attention_f32_params_t dense = in.params;
      dense.q = &in.q[(b * c.qLen + i) * qRow];
      dense.k = &in.k[(b * c.kvCapacity + lo) * kvRow];
      dense.v = &in.v[(b * c.kvCapacity + lo) * kvRow];
      dense.out = &expected[(b * c.qLen + i) * qRow];
      dense.batch = 1;
      dense.q_len = 1;
      dense.kv_len = dense.kv_capacity = hi - lo;
      dense.mask_kind = TVC_MASK_FULL;
      dense.window = 0;
      tvc::runtime::reference::attentionF32(dense);
    }
  expectClose(out, expected, outputMagnitudes(c, in));
}

/// The keys the query at `pos` keeps under the static kinds, listed from the
/// words of tvc_kernels.h rather than through attentionAllows.
std::vector<int64_t> keptKeys(const AttentionCase &c, int64_t pos) {
  std::vector<int64_t> keys;
  auto add = [&](int64_t lo, int64_t hi) {
    for (int64_t j = std::max<int64_t>(lo, 0); j < hi; ++j)
      if (keys.empty() || keys.back() < j)
        keys.push_back(j);
  };
  switch (c.maskKind) {
  case TVC_MASK_SLIDING_WINDOW:
    add(pos - c.window + 1, pos + 1);
    break;
  case TVC_MASK_WINDOW_GLOBAL:
    add(0, std::min(c.global, pos + 1));
    add(pos - c.window + 1, pos + 1);
    break;
  case TVC_MASK_BLOCK_LOCAL: {
    // Own block back to window - 1 blocks before it, plus the first global.
    int64_t own = pos / c.block;
    add(0, std::min(c.global * c.block, pos + 1));
    add((own - c.window + 1) * c.block, pos + 1);
    break;
  }
  default:
    ADD_FAILURE() << "keptKeys: not a static sparse kind";
  }
  return keys;
}

/// Compares a static sparse kernel with dense attention over the keys it
/// keeps, gathered into contiguous key/value rows per query.
void checkAgainstGatheredKeys(const AttentionCase &c) {
  SCOPED_TRACE(describe(c));
  AttentionInputs in(c);
  std::vector<float> out = in.run();
  std::vector<float> expected(out.size(), std::nanf(""));
  int64_t qRow = c.heads * c.headDim, kvRow = c.kvHeads * c.headDim;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.qLen; ++i) {
      std::vector<int64_t> keys = keptKeys(c, c.kvLen - c.qLen + i);
      std::vector<float> k, v;
      for (int64_t j : keys) {
        const float *kRow = &in.k[(b * c.kvCapacity + j) * kvRow];
        const float *vRow = &in.v[(b * c.kvCapacity + j) * kvRow];
        k.insert(k.end(), kRow, kRow + kvRow);
        v.insert(v.end(), vRow, vRow + kvRow);
      }
      tvc_attention_f32_params_t dense = in.params;
      dense.q = &in.q[(b * c.qLen + i) * qRow];
      dense.k = k.data();
      dense.v = v.data();
      dense.out = &expected[(b * c.qLen + i) * qRow];
      dense.batch = 1;
      dense.q_len = 1;
      dense.kv_len = dense.kv_capacity = int64_t(keys.size());
      dense.mask_kind = TVC_MASK_FULL;
      tvc::runtime::reference::attentionF32(dense);
    }
  expectClose(out, expected, outputMagnitudes(c, in));
}

const int64_t kMasks[] = {TVC_MASK_FULL, TVC_MASK_CAUSAL,
                          TVC_MASK_SLIDING_WINDOW};

/// Prefill of a whole sequence under each mask.
TEST(AttentionKernel, PrefillEveryMask) {
  for (int64_t mask : kMasks) {
    checkAttention({1, 9, 9, 9, 4, 4, 64, mask, 3, 0});
    checkAttention({1, 150, 150, 150, 2, 2, 64, mask, 40, 0});
  }
}

/// Decode: one query against a cache with NaN rows past kv_len.
TEST(AttentionKernel, DecodeWithCache) {
  for (int64_t mask : kMasks) {
    checkAttention({1, 1, 37, 64, 4, 4, 64, mask, 5, 0});
    checkAttention({2, 1, 300, 301, 4, 2, 128, mask, 100, 0});
  }
}

/// Chunked prefill: a few queries at the end of a longer cache.
TEST(AttentionKernel, ChunkedPrefill) {
  for (int64_t mask : kMasks) {
    checkAttention({1, 5, 70, 80, 4, 2, 80, mask, 8, 0});
    checkAttention({2, 20, 130, 140, 4, 1, 64, mask, 65, 0});
  }
}

/// Grouped KV heads: 4 query heads on 4, 2 and 1 KV heads, and more heads
/// per group than a tile holds.
TEST(AttentionKernel, GroupedKvHeads) {
  for (int64_t kvHeads : {4, 2, 1})
    for (int64_t mask : kMasks)
      checkAttention({2, 7, 19, 24, 4, kvHeads, 16, mask, 4, 0});
  checkAttention({1, 3, 10, 12, 40, 2, 8, TVC_MASK_CAUSAL, 1, 0});
  checkAttention({1, 1, 50, 50, 36, 1, 32, TVC_MASK_FULL, 1, 0});
}

/// Head sizes 1, 64, 80, 128 and the largest accepted, with odd lengths.
TEST(AttentionKernel, HeadSizes) {
  for (int64_t dim : {1, 17, 64, 80, 128, TVC_ATTENTION_MAX_HEAD_DIM})
    for (int64_t mask : kMasks)
      checkAttention({2, 13, 29, 31, 4, 2, dim, mask, 6, 0});
}

/// Window 1 sees only the diagonal: out equals v at the query's position.
TEST(AttentionKernel, WindowOfOneCopiesTheDiagonal) {
  AttentionCase c = {1, 6, 10, 12, 2, 1, 8, TVC_MASK_SLIDING_WINDOW, 1, 0};
  checkAttention(c);
  AttentionInputs in(c);
  std::vector<float> out = in.run();
  for (int64_t i = 0; i < c.qLen; ++i)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t d = 0; d < c.headDim; ++d)
        EXPECT_FLOAT_EQ(out[(i * c.heads + h) * c.headDim + d],
                        in.v[(c.kvLen - c.qLen + i) * c.headDim + d]);
}

/// A window at least as long as the sequence is the causal mask.
TEST(AttentionKernel, LongWindowEqualsCausal) {
  for (int64_t window : {int64_t(70), int64_t(71), int64_t(1) << 40}) {
    AttentionCase c = {2,      70, 70, 72, 4, 2, 64, TVC_MASK_SLIDING_WINDOW,
                       window, 0};
    checkAttention(c);
    AttentionInputs windowed(c);
    c.maskKind = TVC_MASK_CAUSAL;
    AttentionInputs causal(c);
    EXPECT_EQ(windowed.run(), causal.run()) << "window " << window;
  }
}

/// Windows around the key tile (64) and the sequence length, for a prefill
/// of odd length on grouped KV heads (head sizes of the per-row path and of
/// the register-blocked one), against the explicit dense slice and the
/// reference.
TEST(AttentionKernel, WindowEdgesPrefill) {
  constexpr int64_t kLen = 203;
  for (int64_t dim : {40, 64})
    for (int64_t window : {int64_t(1), int64_t(2), int64_t(63), int64_t(64),
                           int64_t(65), int64_t(128), int64_t(129), kLen - 1,
                           kLen, kLen + 1, int64_t(4096)}) {
      AttentionCase c = {
          1, kLen, kLen, kLen, 6, 2, dim, TVC_MASK_SLIDING_WINDOW, window, 0};
      checkWindowAgainstDenseSlice(c);
      checkAttention(c);
    }
}

/// The same edges for one decode step and for a chunked prefill against a
/// KV cache with NaN rows past kv_len (so a window that reached past the
/// cache, or before its start, shows), with two batch entries and MQA.
TEST(AttentionKernel, WindowEdgesWithCache) {
  for (int64_t window : {1, 2, 63, 64, 65, 256, 257, 258, 1000}) {
    checkWindowAgainstDenseSlice(
        {2, 1, 257, 300, 6, 3, 64, TVC_MASK_SLIDING_WINDOW, window, 0});
    checkWindowAgainstDenseSlice(
        {1, 37, 301, 333, 4, 1, 24, TVC_MASK_SLIDING_WINDOW, window, 0});
  }
  // A cache of one entry, and a window that starts at the first key.
  checkWindowAgainstDenseSlice(
      {1, 1, 1, 8, 2, 2, 16, TVC_MASK_SLIDING_WINDOW, 1, 0});
  checkWindowAgainstDenseSlice(
      {1, 1, 9, 16, 2, 1, 16, TVC_MASK_SLIDING_WINDOW, 9, 0});
}

/// A window at least as long as the cache is the causal mask in decode too
/// (bit for bit: the same keys in the same order).
TEST(AttentionKernel, LongWindowEqualsCausalInDecode) {
  for (int64_t window : {int64_t(129), int64_t(130), int64_t(1) << 40}) {
    AttentionCase c = {2,      1, 129, 160, 8, 2, 64, TVC_MASK_SLIDING_WINDOW,
                       window, 0};
    AttentionInputs windowed(c);
    c.maskKind = TVC_MASK_CAUSAL;
    AttentionInputs causal(c);
    EXPECT_EQ(windowed.run(), causal.run()) << "window " << window;
  }
}

/// Large scores keep the softmax stable; scale 0 averages the allowed keys.
TEST(AttentionKernel, ExtremeScales) {
  for (int64_t mask : kMasks) {
    checkAttention({1, 33, 33, 33, 2, 2, 64, mask, 7, 30.0});
    checkAttention({1, 33, 33, 33, 2, 2, 64, mask, 7, -5.0});
  }
  AttentionCase c = {1, 4, 4, 4, 1, 1, 2, TVC_MASK_CAUSAL, 1, 0};
  AttentionInputs in(c);
  in.params.scale = 0;
  std::vector<float> out = in.run();
  for (int64_t d = 0; d < 2; ++d)
    EXPECT_NEAR(out[3 * 2 + d],
                (in.v[d] + in.v[2 + d] + in.v[4 + d] + in.v[6 + d]) / 4, 1e-6);
}

/// The pool splits work items, never results: one thread gives the same
/// bits as several.
TEST(AttentionKernel, ThreadCountDoesNotChangeResults) {
  AttentionCase c = {2, 64, 200, 210, 8, 2, 64, TVC_MASK_CAUSAL, 1, 0};
  AttentionInputs in(c);
  std::vector<float> pooled = in.run();
  ASSERT_EQ(tvc_runtime_set_num_threads(1), TVC_OK);
  std::vector<float> single = in.run();
  ASSERT_EQ(tvc_runtime_set_num_threads(5), TVC_OK);
  std::vector<float> five = in.run();
  ASSERT_EQ(tvc_runtime_set_num_threads(0), TVC_OK);
  EXPECT_EQ(pooled, single);
  EXPECT_EQ(pooled, five);
}

/// Window + global tokens around every edge: the global prefix shorter and
/// longer than the distance to the window, inside it, at the 16- and 64-key
/// tiles; prefill, decode and chunked prefill against a cache; odd head
/// sizes take the scalar path.
TEST(AttentionKernel, WindowGlobalEdges) {
  for (int64_t headDim : {64, 40})
    for (auto [window, global] :
         std::initializer_list<std::pair<int64_t, int64_t>>{{1, 1},
                                                            {16, 4},
                                                            {63, 1},
                                                            {64, 64},
                                                            {65, 17},
                                                            {32, 100},
                                                            {200, 3},
                                                            {500, 500}}) {
      AttentionCase prefill = {1,      203, 203,     203,
                               4,      2,   headDim, TVC_MASK_WINDOW_GLOBAL,
                               window, 0,   global};
      checkAgainstGatheredKeys(prefill);
      checkAttention(prefill);
      AttentionCase decode = {2,      1, 190,     200,
                              8,      2, headDim, TVC_MASK_WINDOW_GLOBAL,
                              window, 0, global};
      checkAgainstGatheredKeys(decode);
      AttentionCase chunk = {1,      37, 150,     160,
                             6,      3,  headDim, TVC_MASK_WINDOW_GLOBAL,
                             window, 0,  global};
      checkAgainstGatheredKeys(chunk);
    }
}

/// Block-local layouts: blocks smaller and larger than the tiles, unaligned
/// to them, one local block (the query's own) and many, no global blocks
/// and global blocks reaching into the local ones.
TEST(AttentionKernel, BlockLocalEdges) {
  struct Layout {
    int64_t block, local, global;
  };
  for (int64_t headDim : {64, 24})
    for (Layout l : {Layout{1, 1, 0}, Layout{16, 1, 1}, Layout{64, 2, 1},
                     Layout{24, 3, 0}, Layout{40, 2, 5}, Layout{7, 4, 2},
                     Layout{100, 1, 1}, Layout{300, 2, 0}}) {
      AttentionCase prefill = {1,       211, 211,      211,
                               4,       1,   headDim,  TVC_MASK_BLOCK_LOCAL,
                               l.local, 0,   l.global, l.block};
      checkAgainstGatheredKeys(prefill);
      checkAttention(prefill);
      AttentionCase decode = {2,       1, 177,      180,
                              4,       4, headDim,  TVC_MASK_BLOCK_LOCAL,
                              l.local, 0, l.global, l.block};
      checkAgainstGatheredKeys(decode);
      AttentionCase chunk = {1,       29, 160,      170,
                             8,       2,  headDim,  TVC_MASK_BLOCK_LOCAL,
                             l.local, 0,  l.global, l.block};
      checkAgainstGatheredKeys(chunk);
    }
}

/// Top-k against the reference's explicit selection, for k below, at and
/// above the number of causal keys; prefill, decode with a cache and grouped
/// heads, both tile paths.
TEST(AttentionKernel, TopKAgainstReference) {
  for (int64_t headDim : {64, 20})
    for (int64_t k : {1, 2, 7, 32, 64, 150, 400}) {
      for (AttentionCase c : {AttentionCase{1, 150, 150, 150, 4, 2, headDim,
                                            TVC_MASK_TOP_K, 0, 0.125, 0, 0, k},
                              AttentionCase{2, 1, 140, 160, 8, 2, headDim,
                                            TVC_MASK_TOP_K, 0, 0.125, 0, 0, k},
                              AttentionCase{1, 21, 130, 130, 2, 1, headDim,
                                            TVC_MASK_TOP_K, 0, 0.125, 0, 0, k}})
        checkAttention(c, /*integers=*/true);
    }
}

/// top_k = 1 copies the value row of the highest score, the lowest such key
/// on a tie, exactly; k at least the sequence is causal attention.
TEST(AttentionKernel, TopKOneIsArgmaxAndLongKIsCausal) {
  AttentionCase c = {1, 90, 90, 90, 2, 1, 32, TVC_MASK_TOP_K, 0, 0.25, 0, 0, 1};
  AttentionInputs in = integerInputs(c);
  std::vector<float> out = in.run();
  int64_t ties = 0;
  for (int64_t i = 0; i < c.qLen; ++i)
    for (int64_t h = 0; h < c.heads; ++h) {
      const float *query = &in.q[(i * c.heads + h) * c.headDim];
      int64_t best = 0;
      float bestScore = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j <= i; ++j) {
        float score = 0;
        for (int64_t d = 0; d < c.headDim; ++d)
          score += query[d] * in.k[j * c.headDim + d];
        ties += score == bestScore;
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      for (int64_t d = 0; d < c.headDim; ++d)
        ASSERT_EQ(out[(i * c.heads + h) * c.headDim + d],
                  in.v[best * c.headDim + d])
            << "query " << i << " head " << h;
    }
  EXPECT_GT(ties, 0) << "the data should exercise tie-breaking";

  AttentionCase wide = {1, 90, 90, 90, 2, 1, 32, TVC_MASK_TOP_K,
                        0, 0,  0,  0,  90};
  AttentionCase causal = wide;
  causal.maskKind = TVC_MASK_CAUSAL;
  AttentionInputs wideIn(wide), causalIn(causal);
  expectClose(wideIn.run(), causalIn.run(), outputMagnitudes(causal, causalIn));
}

/// All scores equal (zero queries): every key ties, so the k lowest keys
/// are kept and the output is their mean value row.
TEST(AttentionKernel, TopKAllTiesKeepsTheFirstKeys) {
  for (int64_t headDim : {64, 8}) {
    AttentionCase c = {1, 40, 40, 40, 2, 1, headDim, TVC_MASK_TOP_K,
                       0, 0,  0,  0,  5};
    AttentionInputs in(c);
    std::fill(in.q.begin(), in.q.end(), 0.0f);
    std::vector<float> out = in.run();
    for (int64_t i = 0; i < c.qLen; ++i)
      for (int64_t h = 0; h < c.heads; ++h)
        for (int64_t d = 0; d < headDim; ++d) {
          double mean = 0;
          int64_t kept = std::min<int64_t>(i + 1, c.topK);
          for (int64_t j = 0; j < kept; ++j)
            mean += in.v[j * headDim + d];
          EXPECT_NEAR(out[(i * c.heads + h) * headDim + d], mean / kept, 1e-6)
              << "query " << i << " head " << h << " dim " << d;
        }
  }
}

/// Block top-k against the reference's explicit selection (pooled means in
/// double) on integer-valued q and k, blocks of powers of two (the means
/// are exact in fp32 too), so both select the same blocks, ties included:
/// blocks smaller and larger than the 16- and 64-key tiles, k from one
/// block to more than there are; prefill, decode with a cache, chunks,
/// grouped heads, both tile paths.
TEST(AttentionKernel, BlockTopKAgainstReference) {
  for (int64_t headDim : {64, 20})
    for (auto [block, k] : std::initializer_list<std::pair<int64_t, int64_t>>{
             {1, 3}, {4, 1}, {8, 2}, {16, 3}, {32, 2}, {64, 1}, {8, 100}}) {
      for (AttentionCase c :
           {AttentionCase{1, 150, 150, 150, 4, 2, headDim, TVC_MASK_BLOCK_TOP_K,
                          0, 0.125, 0, block, k},
            AttentionCase{2, 1, 140, 160, 8, 2, headDim, TVC_MASK_BLOCK_TOP_K,
                          0, 0.125, 0, block, k},
            AttentionCase{1, 21, 130, 130, 2, 1, headDim, TVC_MASK_BLOCK_TOP_K,
                          0, 0.125, 0, block, k}})
        checkAttention(c, /*integers=*/true);
    }
}

/// Block top-k with at least as many blocks as there are is causal
/// attention; with blocks of one key and k = 0 earlier blocks kept it
/// would be the diagonal alone, so k = 1 with blocks of T keys (one block:
/// nothing earlier) is causal as well.
TEST(AttentionKernel, BlockTopKWithEveryBlockIsCausal) {
  for (auto [block, k] : std::initializer_list<std::pair<int64_t, int64_t>>{
           {16, 1000}, {256, 1}}) {
    AttentionCase sparse = {1, 200, 200, 200,   4, 2, 64, TVC_MASK_BLOCK_TOP_K,
                            0, 0,   0,   block, k};
    AttentionCase causal = sparse;
    causal.maskKind = TVC_MASK_CAUSAL;
    AttentionInputs sparseIn(sparse), causalIn(causal);
    expectClose(sparseIn.run(), causalIn.run(),
                outputMagnitudes(causal, causalIn));
  }
}

/// A vertical-slash case: the sizes, then vertical, slash, last queries.
AttentionCase verticalSlash(int64_t batch, int64_t qLen, int64_t kvLen,
                            int64_t capacity, int64_t heads, int64_t kvHeads,
                            int64_t headDim, int64_t vertical, int64_t slash,
                            int64_t lastQueries) {
  AttentionCase c = {batch, qLen,    kvLen,   capacity,
                     heads, kvHeads, headDim, TVC_MASK_VERTICAL_SLASH,
                     0,     0.5};
  c.vertical = vertical;
  c.slash = slash;
  c.lastQueries = lastQueries;
  return c;
}

/// Vertical-slash against the reference's pattern (softmax weights of the
/// last queries in double, sorted): budgets below, at and above the forced
/// columns and offsets (4 and 64) and the sequence; prefill, decode with a
/// cache (NaN rows past kv_len), chunks, grouped heads, batches, both head
/// sizes. A scale of 0.5 on unit-range data spreads the sums so that fp32
/// and double agree on the selection.
TEST(AttentionKernel, VerticalSlashAgainstReference) {
  for (int64_t headDim : {64, 20})
    for (auto [vertical, slash, last] :
         std::initializer_list<std::tuple<int64_t, int64_t, int64_t>>{
             {1, 1, 1},
             {3, 5, 8},
             {8, 16, 64},
             {16, 130, 16},
             {40, 200, 100},
             {500, 500, 500}}) {
      checkAttention(verticalSlash(1, 150, 150, 150, 4, 2, headDim, vertical,
                                   slash, last));
      checkAttention(
          verticalSlash(2, 1, 140, 160, 8, 2, headDim, vertical, slash, last));
      checkAttention(
          verticalSlash(1, 21, 130, 140, 2, 1, headDim, vertical, slash, last));
    }
}

/// One column and one offset keep the forced ones: key 0 and the query's
/// own key, so each row is dense attention over those two, gathered.
TEST(AttentionKernel, VerticalSlashOfOneSeesFirstAndSelf) {
  AttentionCase c = verticalSlash(1, 30, 40, 44, 2, 1, 16, 1, 1, 5);
  SCOPED_TRACE(describe(c));
  AttentionInputs in(c);
  std::vector<float> out = in.run();
  for (int64_t i = 0; i < c.qLen; ++i) {
    int64_t pos = c.kvLen - c.qLen + i;
    for (int64_t h = 0; h < c.heads; ++h) {
      const float *query = &in.q[(i * c.heads + h) * c.headDim];
      double s0 = 0, s1 = 0;
      for (int64_t d = 0; d < c.headDim; ++d) {
        s0 += c.scale * query[d] * in.k[d];
        s1 += c.scale * query[d] * in.k[pos * c.headDim + d];
      }
      double w0 = 1 / (1 + std::exp(s1 - s0)), w1 = 1 - w0;
      for (int64_t d = 0; d < c.headDim; ++d)
        EXPECT_NEAR(out[(i * c.heads + h) * c.headDim + d],
                    w0 * in.v[d] + w1 * in.v[pos * c.headDim + d], 1e-5)
            << "query " << i << " head " << h << " dim " << d;
    }
  }
}

/// Budgets covering every column (or every offset) are causal attention.
TEST(AttentionKernel, VerticalSlashWithEveryColumnIsCausal) {
  for (auto [vertical, slash] :
       std::initializer_list<std::pair<int64_t, int64_t>>{{200, 1}, {1, 200}}) {
    AttentionCase sparse =
        verticalSlash(1, 200, 200, 200, 4, 2, 64, vertical, slash, 32);
    AttentionCase causal = sparse;
    causal.maskKind = TVC_MASK_CAUSAL;
    AttentionInputs sparseIn(sparse), causalIn(causal);
    expectClose(sparseIn.run(), causalIn.run(),
                outputMagnitudes(causal, causalIn));
  }
}

/// An ALISA case over a whole sequence of `len` positions.
AttentionCase alisa(int64_t batch, int64_t len, int64_t heads, int64_t kvHeads,
                    int64_t headDim, int64_t window, int64_t topK) {
  AttentionCase c = {batch,          len,    len, len, heads, kvHeads, headDim,
                     TVC_MASK_ALISA, window, 0.5};
  c.topK = topK;
  return c;
}

/// ALISA against the reference's replay of the definition (weights in
/// double): windows from one key to past the sequence, heavy sets from
/// none to more than ever leave the window; grouped heads, batches, both
/// head sizes.
TEST(AttentionKernel, AlisaAgainstReference) {
  for (int64_t headDim : {64, 20})
    for (auto [window, topK] :
         std::initializer_list<std::pair<int64_t, int64_t>>{
             {1, 0}, {1, 1}, {4, 2}, {16, 8}, {40, 3}, {7, 60}, {200, 5}}) {
      checkAttention(alisa(1, 150, 4, 2, headDim, window, topK));
      checkAttention(alisa(2, 70, 2, 1, headDim, window, topK));
    }
}

/// Without heavy keys ALISA is the sliding window; with a heavy set that
/// never fills (every key that leaves the window stays), or a window as
/// long as the sequence, it is causal attention.
TEST(AttentionKernel, AlisaLimits) {
  auto expectSame = [](AttentionCase sparse, int64_t mask, int64_t window) {
    SCOPED_TRACE(describe(sparse));
    AttentionCase other = sparse;
    other.maskKind = mask;
    other.window = window;
    AttentionInputs sparseIn(sparse), otherIn(other);
    expectClose(sparseIn.run(), otherIn.run(),
                outputMagnitudes(other, otherIn));
  };
  expectSame(alisa(1, 120, 4, 2, 64, 16, 0), TVC_MASK_SLIDING_WINDOW, 16);
  expectSame(alisa(1, 120, 4, 2, 64, 16, 104), TVC_MASK_CAUSAL, 0);
  expectSame(alisa(1, 120, 4, 2, 64, 120, 3), TVC_MASK_CAUSAL, 0);
}

/// ALISA through tvc_kernel_attention_state_f32: a prefill in chunks and
/// decode steps, each call continuing the state the one before left, give
/// exactly the rows of one call over the whole sequence. State rows not yet
/// written start as NaN, so reading one would show; a KV cache longer than
/// the sequence (NaN rows) too.
TEST(AttentionKernel, AlisaStateCarriesAcrossCalls) {
  for (auto [window, topK] : std::initializer_list<std::pair<int64_t, int64_t>>{
           {1, 1}, {4, 2}, {16, 8}, {40, 3}, {7, 60}, {100, 4}}) {
    AttentionCase c = alisa(2, 90, 4, 2, 64, window, topK);
    SCOPED_TRACE(describe(c));
    AttentionInputs whole(c);
    std::vector<float> expected = whole.run();

    int64_t capacity = 96, qRow = c.heads * c.headDim;
    int64_t kvRow = c.kvHeads * c.headDim;
    std::vector<float> k(c.batch * capacity * kvRow, std::nanf(""));
    std::vector<float> v(k.size(), std::nanf(""));
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t e = 0; e < c.kvLen * kvRow; ++e) {
        k[b * capacity * kvRow + e] = whole.k[b * c.kvLen * kvRow + e];
        v[b * capacity * kvRow + e] = whole.v[b * c.kvLen * kvRow + e];
      }
    std::vector<float> state(c.batch * c.heads * capacity, std::nanf(""));
    std::vector<float> out(expected.size(), std::nanf(""));
    int64_t past = 0;
    for (int64_t chunk : {1, 5, 17, 1, 1, 30, 2, 1, 1, 1, 1, 1, 28}) {
      std::vector<float> q(c.batch * chunk * qRow), part(q.size());
      for (int64_t b = 0; b < c.batch; ++b)
        std::copy_n(&whole.q[(b * c.qLen + past) * qRow], chunk * qRow,
                    &q[b * chunk * qRow]);
      tvc_attention_state_f32_params_t p = {};
      p.q = q.data();
      p.k = k.data();
      p.v = v.data();
      p.out = part.data();
      p.state = state.data();
      p.batch = c.batch;
      p.q_len = chunk;
      p.kv_len = past + chunk;
      p.kv_capacity = capacity;
      p.heads = c.heads;
      p.kv_heads = c.kvHeads;
      p.head_dim = c.headDim;
      p.mask_kind = TVC_MASK_ALISA;
      p.window = window;
      p.top_k = topK;
      p.scale = c.scale;
      ASSERT_EQ(tvc_kernel_attention_state_f32(&p), TVC_OK);
      for (int64_t b = 0; b < c.batch; ++b)
        std::copy_n(&part[b * chunk * qRow], chunk * qRow,
                    &out[(b * c.qLen + past) * qRow]);
      past += chunk;
    }
    ASSERT_EQ(past, c.qLen);
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_EQ(out[i], expected[i]) << "element " << i;
  }
}

/// Empty batches, queries or heads succeed without touching out.
TEST(AttentionKernel, EmptyProblems) {
  float data[4] = {1, 2, 3, 4}, out[4] = {9, 9, 9, 9};
  tvc_attention_f32_params_t p = {data, data, data, out, 0, 1, 1, 1, 1, 1,
                                  4,    0,    0,    1.0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
  p.batch = 1;
  p.q_len = 0;
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
  p.q_len = 1;
  p.head_dim = 0;
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
  p.kv_len = p.kv_capacity = p.q_len = 0;
  p.head_dim = 4;
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
  for (float value : out)
    EXPECT_EQ(value, 9);
}

/// Every rejected argument returns TVC_INVALID_ARGUMENT and leaves out alone.
TEST(AttentionKernel, InvalidArguments) {
  std::vector<float> data(4 * 4 * 4, 0.5f), out(4 * 4 * 4, 9);
  // batch 1, q_len 2, kv_len 3, kv_capacity 4, 4 heads on 2, head_dim 4.
  const tvc_attention_f32_params_t valid = {
      data.data(), data.data(), data.data(), out.data(),
      1,           2,           3,           4,
      4,           2,           4,           TVC_MASK_SLIDING_WINDOW,
      2,           0.5,         0,           0,
      0,           0,           0,           0};
  ASSERT_EQ(tvc_kernel_attention_f32(&valid), TVC_OK);
  std::fill(out.begin(), out.end(), 9.0f);
  auto expectRejected = [&](tvc_attention_f32_params_t params,
                            const char *why) {
    EXPECT_EQ(tvc_kernel_attention_f32(&params), TVC_INVALID_ARGUMENT) << why;
    for (float value : out)
      EXPECT_EQ(value, 9) << why;
  };
  EXPECT_EQ(tvc_kernel_attention_f32(nullptr), TVC_INVALID_ARGUMENT);
  tvc_attention_f32_params_t p;
#define TVC_REJECT(FIELD, VALUE, WHY)                                          \
  p = valid;                                                                   \
  p.FIELD = VALUE;                                                             \
  expectRejected(p, WHY)
  TVC_REJECT(q, nullptr, "null q");
  TVC_REJECT(k, nullptr, "null k");
  TVC_REJECT(v, nullptr, "null v");
  TVC_REJECT(out, nullptr, "null out");
  TVC_REJECT(batch, -1, "negative batch");
  TVC_REJECT(q_len, -1, "negative q_len");
  TVC_REJECT(kv_len, -1, "negative kv_len");
  TVC_REJECT(kv_capacity, -1, "negative kv_capacity");
  TVC_REJECT(kv_capacity, 2, "kv_capacity < kv_len");
  TVC_REJECT(q_len, 4, "q_len > kv_len");
  TVC_REJECT(heads, -4, "negative heads");
  TVC_REJECT(heads, 0, "no heads");
  TVC_REJECT(kv_heads, -2, "negative kv_heads");
  TVC_REJECT(kv_heads, 0, "no kv_heads");
  TVC_REJECT(kv_heads, 3, "heads % kv_heads != 0");
  TVC_REJECT(head_dim, -4, "negative head_dim");
  TVC_REJECT(head_dim, TVC_ATTENTION_MAX_HEAD_DIM + 1, "head_dim too large");
  TVC_REJECT(mask_kind, 99, "unknown mask kind");
  TVC_REJECT(mask_kind, -1, "negative mask kind");
  TVC_REJECT(window, 0, "window 0");
  TVC_REJECT(window, -5, "negative window");
  TVC_REJECT(scale, std::nan(""), "NaN scale");
  TVC_REJECT(scale, std::numeric_limits<double>::infinity(), "inf scale");
  TVC_REJECT(scale, 1e300, "scale beyond float");
  TVC_REJECT(batch, int64_t(1) << 62, "sizes overflow");
#undef TVC_REJECT

  // The sparse kinds' own fields.
  tvc_attention_f32_params_t windowGlobal = valid, blockLocal = valid,
                             topK = valid;
  windowGlobal.mask_kind = TVC_MASK_WINDOW_GLOBAL;
  windowGlobal.global = 1;
  blockLocal.mask_kind = TVC_MASK_BLOCK_LOCAL;
  blockLocal.block = 2;
  topK.mask_kind = TVC_MASK_TOP_K;
  topK.top_k = 2;
  for (const tvc_attention_f32_params_t *kind :
       {&windowGlobal, &blockLocal, &topK}) {
    ASSERT_EQ(tvc_kernel_attention_f32(kind), TVC_OK) << kind->mask_kind;
    std::fill(out.begin(), out.end(), 9.0f);
  }
  p = windowGlobal;
  p.window = 0;
  expectRejected(p, "window+global: window 0");
  p = windowGlobal;
  p.global = -1;
  expectRejected(p, "window+global: negative global");
  p = blockLocal;
  p.block = 0;
  expectRejected(p, "block-local: block 0");
  p = blockLocal;
  p.window = 0;
  expectRejected(p, "block-local: no local blocks");
  p = blockLocal;
  p.global = -2;
  expectRejected(p, "block-local: negative global");
  p = topK;
  p.top_k = 0;
  expectRejected(p, "top-k: k 0");
  tvc_attention_f32_params_t blockTopK = valid;
  blockTopK.mask_kind = TVC_MASK_BLOCK_TOP_K;
  blockTopK.block = 1;
  blockTopK.top_k = 1;
  ASSERT_EQ(tvc_kernel_attention_f32(&blockTopK), TVC_OK);
  std::fill(out.begin(), out.end(), 9.0f);
  p = blockTopK;
  p.block = 0;
  expectRejected(p, "block top-k: block 0");
  p = blockTopK;
  p.top_k = 0;
  expectRejected(p, "block top-k: k 0");
  tvc_attention_f32_params_t verticalSlash = valid;
  verticalSlash.mask_kind = TVC_MASK_VERTICAL_SLASH;
  verticalSlash.vertical = verticalSlash.slash = verticalSlash.last_queries = 1;
  ASSERT_EQ(tvc_kernel_attention_f32(&verticalSlash), TVC_OK);
  std::fill(out.begin(), out.end(), 9.0f);
  p = verticalSlash;
  p.vertical = 0;
  expectRejected(p, "vertical-slash: no columns");
  p = verticalSlash;
  p.slash = 0;
  expectRejected(p, "vertical-slash: no offsets");
  p = verticalSlash;
  p.last_queries = 0;
  expectRejected(p, "vertical-slash: no estimating queries");
  tvc_attention_f32_params_t alisaParams = valid;
  alisaParams.mask_kind = TVC_MASK_ALISA;
  alisaParams.q_len = alisaParams.kv_len = 3;
  alisaParams.top_k = 0;
  ASSERT_EQ(tvc_kernel_attention_f32(&alisaParams), TVC_OK);
  std::fill(out.begin(), out.end(), 9.0f);
  p = alisaParams;
  p.window = 0;
  expectRejected(p, "ALISA: window 0");
  p = alisaParams;
  p.top_k = -1;
  expectRejected(p, "ALISA: negative top_k");
  p = alisaParams;
  p.q_len = 2;
  expectRejected(p, "ALISA: a call after earlier positions");
  p = verticalSlash;
  p.mask_kind = TVC_MASK_ALISA + 1;
  expectRejected(p, "an unknown mask kind");

  // The state entry point: ALISA only, with a state.
  std::vector<float> state(4 * 4, 0.0f);
  tvc_attention_state_f32_params_t stateful = {
      valid.q,       valid.k,         valid.v,        valid.out,
      state.data(),  valid.batch,     valid.q_len,    valid.kv_len,
      valid.kv_capacity, valid.heads, valid.kv_heads, valid.head_dim,
      TVC_MASK_ALISA, 2,              valid.scale,    0,
      0,             1,               0,              0,
      0};
  ASSERT_EQ(tvc_kernel_attention_state_f32(&stateful), TVC_OK);
  std::fill(out.begin(), out.end(), 9.0f);
  EXPECT_EQ(tvc_kernel_attention_state_f32(nullptr), TVC_INVALID_ARGUMENT);
  tvc_attention_state_f32_params_t badState = stateful;
  badState.state = nullptr;
  EXPECT_EQ(tvc_kernel_attention_state_f32(&badState), TVC_INVALID_ARGUMENT);
  badState = stateful;
  badState.mask_kind = TVC_MASK_CAUSAL;
  EXPECT_EQ(tvc_kernel_attention_state_f32(&badState), TVC_INVALID_ARGUMENT);
  for (float value : out)
    EXPECT_EQ(value, 9) << "a rejected state call wrote out";

  // window is read only for the windowed masks, global and block only by
  // theirs, top_k only by top-k.
  p = valid;
  p.mask_kind = TVC_MASK_CAUSAL;
  p.window = 0;
  p.global = -1;
  p.block = -1;
  p.top_k = -1;
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
  p = topK;
  p.window = 0;
  EXPECT_EQ(tvc_kernel_attention_f32(&p), TVC_OK);
}

} // namespace
