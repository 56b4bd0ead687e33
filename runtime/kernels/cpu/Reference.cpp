//===- Reference.cpp - Plain reference versions of the CPU kernels --------===//
//
// Written to be obviously right rather than fast: every product is formed in
// double, attention builds the full [q_len, kv_len] score matrix of each head
// and a mask matrix from the definition in tvc_kernels.h; sampling sorts the
// whole vocabulary.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace tvc::runtime::reference {

double activation(int64_t activation, double y) {
  switch (activation) {
  case TVC_LINEAR_RELU:
    return std::isnan(y) ? y : std::max(y, 0.0);
  case TVC_LINEAR_GELU:
    return 0.5 * y * (1.0 + std::erf(y / std::sqrt(2.0)));
  case TVC_LINEAR_GELU_TANH:
    return 0.5 * y *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (y + 0.044715 * y * y * y)));
  case TVC_LINEAR_SILU:
    return y / (1.0 + std::exp(-y));
  default:
    return y;
  }
}

void linearF32(const tvc_linear_f32_params_t &p) {
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t col = 0; col < p.n; ++col) {
      double sum = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias[col] : 0.0;
      for (int64_t i = 0; i < p.k; ++i) {
        double weight = inOut ? p.w[i * p.n + col] : p.w[col * p.k + i];
        sum += double(p.x[row * p.k + i]) * weight;
      }
      p.y[row * p.n + col] = static_cast<float>(
          activation(p.flags & TVC_LINEAR_ACTIVATION_MASK, sum));
    }
  }
}

float widenBf16(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

float widenF16(uint16_t bits) {
  int exponent = (bits >> 10) & 31, mantissa = bits & 1023;
  float sign = (bits & 0x8000) ? -1.0f : 1.0f;
  if (exponent == 31)
    return mantissa ? std::numeric_limits<float>::quiet_NaN()
                    : sign * std::numeric_limits<float>::infinity();
  if (exponent == 0)
    return sign * float(std::ldexp(double(mantissa), -24));
  return sign * float(std::ldexp(double(1024 + mantissa), exponent - 25));
}

void linearW16F32(const tvc_linear_w16_f32_params_t &p, bool f16) {
  // Same element order for both layouts: linearF32 reads the flags.
  std::vector<float> w(p.n * p.k);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = f16 ? widenF16(p.w[i]) : widenBf16(p.w[i]);
  tvc_linear_f32_params_t wide = {p.x, w.data(), p.bias, p.y,
                                  p.m, p.n,      p.k,    p.flags};
  linearF32(wide);
}

void linear2to4F32(const tvc_linear_2to4_f32_params_t &p) {
  int64_t groups = p.k / 4, half = p.k / 2, indexBytes = (p.k + 7) / 8;
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t col = 0; col < p.n; ++col) {
      double sum = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias[col] : 0.0;
      for (int64_t g = 0; g < groups; ++g) {
        uint8_t byte = p.indices[col * indexBytes + g / 2];
        int nibble = g % 2 == 0 ? byte & 15 : byte >> 4;
        for (int s = 0; s < 2; ++s) {
          int position = (nibble >> (2 * s)) & 3;
          double value = p.values[col * half + 2 * g + s];
          sum += double(p.x[row * p.k + 4 * g + position]) * value;
        }
      }
      p.y[row * p.n + col] = static_cast<float>(sum);
    }
  }
}

void blockDiagonalF32(const tvc_block_diagonal_f32_params_t &p) {
  int64_t in = p.blocks * p.block_k, out = p.blocks * p.block_n;
  for (int64_t row = 0; row < p.m; ++row)
    for (int64_t block = 0; block < p.blocks; ++block)
      for (int64_t j = 0; j < p.block_n; ++j) {
        int64_t col = block * p.block_n + j;
        double sum = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias[col] : 0.0;
        for (int64_t i = 0; i < p.block_k; ++i)
          sum += double(p.x[row * in + block * p.block_k + i]) *
                 double(p.w[col * p.block_k + i]);
        p.y[row * out + col] = static_cast<float>(sum);
      }
}

void lowRankF32(const tvc_low_rank_f32_params_t &p) {
  std::vector<double> t(p.r);
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t j = 0; j < p.r; ++j) {
      t[j] = 0;
      for (int64_t i = 0; i < p.k; ++i)
        t[j] += double(p.x[row * p.k + i]) * double(p.v[j * p.k + i]);
    }
    for (int64_t col = 0; col < p.n; ++col) {
      double sum = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias[col] : 0.0;
      for (int64_t j = 0; j < p.r; ++j)
        sum += t[j] * double(p.u[col * p.r + j]);
      p.y[row * p.n + col] = static_cast<float>(sum);
    }
  }
}

bool attentionAllows(const tvc_attention_f32_params_t &p, int64_t pos,
                     int64_t key) {
  switch (p.mask_kind) {
  case TVC_MASK_CAUSAL:
    return key <= pos;
  case TVC_MASK_SLIDING_WINDOW:
    return pos - p.window < key && key <= pos;
  case TVC_MASK_WINDOW_GLOBAL:
    return key <= pos && (key < p.global || pos - p.window < key);
  case TVC_MASK_BLOCK_LOCAL:
    return key <= pos && (key / p.block < p.global ||
                          pos / p.block - key / p.block < p.window);
  case TVC_MASK_TOP_K: // the static part; attentionF32 picks the top k
  case TVC_MASK_BLOCK_TOP_K:
  case TVC_MASK_VERTICAL_SLASH:
  case TVC_MASK_ALISA: // the static part; attentionF32 adds the heavy keys
    return key <= pos;
  default:
    return true;
  }
}

void attentionF32(const tvc_attention_f32_params_t &p) {
  int64_t dim = p.head_dim, group = p.heads / p.kv_heads;
  int64_t qStride = p.heads * dim, kvStride = p.kv_heads * dim;
  std::vector<double> scores(p.q_len * p.kv_len);
  std::vector<char> allowed(p.q_len * p.kv_len);
  for (int64_t i = 0; i < p.q_len; ++i)
    for (int64_t j = 0; j < p.kv_len; ++j)
      allowed[i * p.kv_len + j] = attentionAllows(p, p.kv_len - p.q_len + i, j);

  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t h = 0; h < p.heads; ++h) {
      int64_t kvHead = h / group;
      auto qAt = [&](int64_t i, int64_t d) {
        return double(p.q[(b * p.q_len + i) * qStride + h * dim + d]);
      };
      auto kAt = [&](int64_t j, int64_t d) {
        return double(
            p.k[(b * p.kv_capacity + j) * kvStride + kvHead * dim + d]);
      };
      auto vAt = [&](int64_t j, int64_t d) {
        return double(
            p.v[(b * p.kv_capacity + j) * kvStride + kvHead * dim + d]);
      };
      // Scores, then a masked softmax per row.
      for (int64_t i = 0; i < p.q_len; ++i)
        for (int64_t j = 0; j < p.kv_len; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < dim; ++d)
            dot += qAt(i, d) * kAt(j, d);
          scores[i * p.kv_len + j] = p.scale * dot;
        }
      // Vertical-slash: the head's kept columns and offsets, from the
      // softmax weights of the last queries summed per column and per
      // offset, forced ones first, then by sum, ties to the lower index.
      std::vector<char> keptColumn(p.kv_len), keptOffset(p.kv_len);
      if (p.mask_kind == TVC_MASK_VERTICAL_SLASH) {
        std::vector<double> columnSums(p.kv_len), offsetSums(p.kv_len);
        for (int64_t i = std::max<int64_t>(0, p.q_len - p.last_queries);
             i < p.q_len; ++i) {
          int64_t pos = p.kv_len - p.q_len + i;
          const double *row = &scores[i * p.kv_len];
          double maximum = *std::max_element(row, row + pos + 1), sum = 0;
          for (int64_t j = 0; j <= pos; ++j)
            sum += std::exp(row[j] - maximum);
          for (int64_t j = 0; j <= pos; ++j) {
            double weight = std::exp(row[j] - maximum) / sum;
            columnSums[j] += weight;
            offsetSums[pos - j] += weight;
          }
        }
        auto keepLargest = [&](std::vector<double> &sums, int64_t forced,
                               int64_t budget, std::vector<char> &kept) {
          for (int64_t j = 0; j < std::min(forced, p.kv_len); ++j)
            sums[j] = std::numeric_limits<double>::infinity();
          std::vector<int64_t> order(p.kv_len);
          for (int64_t j = 0; j < p.kv_len; ++j)
            order[j] = j;
          std::sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
            return sums[a] > sums[c] || (sums[a] == sums[c] && a < c);
          });
          for (int64_t n = 0; n < std::min(budget, p.kv_len); ++n)
            kept[order[n]] = 1;
        };
        keepLargest(columnSums, std::min<int64_t>(4, (p.vertical + 1) / 2),
                    p.vertical, keptColumn);
        keepLargest(offsetSums, std::min<int64_t>(64, (p.slash + 1) / 2),
                    p.slash, keptOffset);
      }
      // ALISA: which keys each row sees, replayed from the definition: the
      // window and the heavy set; the weights each row gives its keys
      // accumulate; the key leaving the window joins the heavy set, which
      // then drops its smallest (ties: the highest key) beyond top_k.
      std::vector<char> alisaKeep;
      if (p.mask_kind == TVC_MASK_ALISA) {
        alisaKeep.assign(p.q_len * p.kv_len, 0);
        std::vector<double> accumulated(p.kv_len, 0.0);
        std::vector<int64_t> heavySet;
        for (int64_t i = 0; i < p.q_len; ++i) {
          char *keep = &alisaKeep[i * p.kv_len];
          for (int64_t j : heavySet)
            keep[j] = 1;
          for (int64_t j = std::max<int64_t>(0, i - p.window + 1); j <= i; ++j)
            keep[j] = 1;
          const double *row = &scores[i * p.kv_len];
          double maximum = -std::numeric_limits<double>::infinity(), sum = 0;
          for (int64_t j = 0; j <= i; ++j)
            if (keep[j])
              maximum = std::max(maximum, row[j]);
          for (int64_t j = 0; j <= i; ++j)
            if (keep[j])
              sum += std::exp(row[j] - maximum);
          for (int64_t j = 0; j <= i; ++j)
            if (keep[j])
              accumulated[j] += std::exp(row[j] - maximum) / sum;
          if (i + 1 - p.window < 0)
            continue;
          heavySet.push_back(i + 1 - p.window);
          if (int64_t(heavySet.size()) <= p.top_k)
            continue;
          auto drop = std::min_element(
              heavySet.begin(), heavySet.end(), [&](int64_t a, int64_t c) {
                return accumulated[a] < accumulated[c] ||
                       (accumulated[a] == accumulated[c] && a > c);
              });
          heavySet.erase(drop);
        }
      }
      for (int64_t i = 0; i < p.q_len; ++i) {
        double *row = &scores[i * p.kv_len];
        std::vector<char> keep(allowed.begin() + i * p.kv_len,
                               allowed.begin() + (i + 1) * p.kv_len);
        if (p.mask_kind == TVC_MASK_TOP_K) {
          // Allowed keys by score, highest first, ties to the lower index;
          // all but the first top_k are dropped.
          std::vector<int64_t> order;
          for (int64_t j = 0; j < p.kv_len; ++j)
            if (keep[j])
              order.push_back(j);
          std::sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
            return row[a] > row[c] || (row[a] == row[c] && a < c);
          });
          for (size_t n = p.top_k; n < order.size(); ++n)
            keep[order[n]] = 0;
        }
        if (p.mask_kind == TVC_MASK_ALISA)
          for (int64_t j = 0; j < p.kv_len; ++j)
            keep[j] = keep[j] && alisaKeep[i * p.kv_len + j];
        if (p.mask_kind == TVC_MASK_VERTICAL_SLASH) {
          int64_t pos = p.kv_len - p.q_len + i;
          for (int64_t j = 0; j <= pos; ++j)
            keep[j] = keep[j] && (keptColumn[j] || keptOffset[pos - j]);
        }
        if (p.mask_kind == TVC_MASK_BLOCK_TOP_K) {
          // Earlier blocks by pooled score, highest first, ties to the
          // lower block; all but the first top_k are dropped.
          int64_t pos = p.kv_len - p.q_len + i, own = pos / p.block;
          std::vector<double> pooled(own, 0.0);
          for (int64_t block = 0; block < own; ++block) {
            for (int64_t d = 0; d < dim; ++d) {
              double mean = 0;
              for (int64_t j = block * p.block; j < (block + 1) * p.block; ++j)
                mean += kAt(j, d);
              pooled[block] += qAt(i, d) * (mean / p.block);
            }
            pooled[block] *= p.scale;
          }
          std::vector<int64_t> order(own);
          for (int64_t block = 0; block < own; ++block)
            order[block] = block;
          std::sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
            return pooled[a] > pooled[c] || (pooled[a] == pooled[c] && a < c);
          });
          for (size_t n = p.top_k; n < order.size(); ++n)
            for (int64_t j = order[n] * p.block; j < (order[n] + 1) * p.block;
                 ++j)
              keep[j] = 0;
        }
        double maximum = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < p.kv_len; ++j)
          if (keep[j])
            maximum = std::max(maximum, row[j]);
        double sum = 0;
        for (int64_t j = 0; j < p.kv_len; ++j) {
          row[j] = keep[j] ? std::exp(row[j] - maximum) : 0.0;
          sum += row[j];
        }
        float *out = p.out + (b * p.q_len + i) * qStride + h * dim;
        for (int64_t d = 0; d < dim; ++d) {
          double value = 0;
          for (int64_t j = 0; j < p.kv_len; ++j)
            if (keep[j])
              value += row[j] * vAt(j, d);
          out[d] = sum > 0 ? static_cast<float>(value / sum) : 0.0f;
        }
      }
    }
  }
}

std::vector<double> samplingProbabilities(const float *logits, int64_t vocab,
                                          const tvc_sampling_params_t &params) {
  std::vector<double> probabilities(vocab, 0.0);
  // Every token, most likely first, ties to the lower index.
  std::vector<int64_t> order(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (params.temperature == 0) {
    probabilities[order[0]] = 1;
    return probabilities;
  }
  int64_t kept = vocab;
  if (params.top_k > 0)
    kept = std::min<int64_t>(kept, params.top_k);
  double maximum = double(logits[order[0]]) / params.temperature;
  std::vector<double> weights(kept);
  double total = 0;
  for (int64_t i = 0; i < kept; ++i) {
    weights[i] =
        std::exp(double(logits[order[i]]) / params.temperature - maximum);
    total += weights[i];
  }
  if (params.top_p > 0 && params.top_p < 1) {
    double sum = 0;
    for (int64_t i = 0; i < kept; ++i) {
      sum += weights[i];
      if (sum >= params.top_p * total) {
        kept = i + 1;
        break;
      }
    }
    total = sum;
  }
  for (int64_t i = 0; i < kept; ++i)
    probabilities[order[i]] = weights[i] / total;
  return probabilities;
}

} // namespace tvc::runtime::reference
