//===- Reference.cpp - Plain reference versions of the CPU kernels --------===//
//
// Written to be obviously right rather than fast: every product is formed in
// double, attention builds the full [q_len, kv_len] score matrix of each head
// and a mask matrix from the definition in tvc_kernels.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/cpu/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tvc::runtime::reference {

void linearF32(const tvc_linear_f32_params_t &p) {
  bool inOut = p.flags & TVC_LINEAR_WEIGHT_IN_OUT;
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t col = 0; col < p.n; ++col) {
      double sum = (p.flags & TVC_LINEAR_HAS_BIAS) ? p.bias[col] : 0.0;
      for (int64_t i = 0; i < p.k; ++i) {
        double weight = inOut ? p.w[i * p.n + col] : p.w[col * p.k + i];
        sum += double(p.x[row * p.k + i]) * weight;
      }
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
      for (int64_t i = 0; i < p.q_len; ++i) {
        double *row = &scores[i * p.kv_len];
        const char *keep = &allowed[i * p.kv_len];
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

} // namespace tvc::runtime::reference
