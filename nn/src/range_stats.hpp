#pragma once

// The statistics EvoNorm-S0 and Range-EvoNorm take of one sample's groups
// (evonorm.cpp, and the 8-bit variants in evonorm_8bit.cpp). Internal to nn/.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

#include "murmur/nn/bf16.hpp"

namespace murmur::nn::detail {

// Range-EvoNorm's constant C(m) for chunks of m values. A group of a single
// value (m = 1, where C would be infinite) uses 1: its range is 0 anyway.
inline double range_constant(std::int64_t m) {
  if (m < 2) return 1.0;
  return 0.5 * 0.35 * (1.0 + std::sqrt(std::numbers::pi * std::log(4.0))) /
         std::sqrt(2.0 * std::log(static_cast<double>(m)));
}

// One sample's data in NHWC: hw positions of c channels.
struct sample_shape {
  std::int64_t hw, c, groups, cg;
  std::int64_t size() const { return cg * hw; }  // values per group
};

// Range-EvoNorm statistics of one sample: per group, the mean over chunks of
// max - min, with where each chunk's max and min sit (logical index j).
template <class T>
void chunk_ranges(const T* x, const sample_shape& sh, std::int64_t chunks, float* range, std::int64_t* arg_max,
                  std::int64_t* arg_min) {
  const std::int64_t m = sh.size() / chunks;
  for (std::int64_t g = 0; g < sh.groups; ++g) {
    double sum = 0;
    const T* xg = x + g * sh.cg;
    for (std::int64_t k = 0; k < chunks; ++k) {
      // Walk j = (channel within group) * hw + position over the chunk,
      // keeping channel and position as counters (no division per element).
      std::int64_t j = k * m, ch = j / sh.hw, pos = j % sh.hw;
      float vmax = to_f32(xg[pos * sh.c + ch]), vmin = vmax;
      std::int64_t jmax = j, jmin = j;
      for (; j < (k + 1) * m; ++j) {
        const float v = to_f32(xg[pos * sh.c + ch]);
        if (v > vmax) vmax = v, jmax = j;
        if (v < vmin) vmin = v, jmin = j;
        if (++pos == sh.hw) pos = 0, ++ch;
      }
      arg_max[g * chunks + k] = jmax;
      arg_min[g * chunks + k] = jmin;
      sum += static_cast<double>(vmax) - vmin;
    }
    range[g] = static_cast<float>(sum / static_cast<double>(chunks));
  }
}

// EvoNorm-S0 statistics of one sample: per group, mean and 1/sqrt(var + eps).
template <class T>
void group_moments(const T* x, const sample_shape& sh, float eps, float* mean, float* inv_std) {
  std::vector<double> sum(sh.c, 0.0), sq(sh.c, 0.0);
  for (std::int64_t pos = 0; pos < sh.hw; ++pos)
    for (std::int64_t ch = 0; ch < sh.c; ++ch) {
      const double v = to_f32(x[pos * sh.c + ch]);
      sum[ch] += v;
      sq[ch] += v * v;
    }
  for (std::int64_t g = 0; g < sh.groups; ++g) {
    double s = 0, q = 0;
    for (std::int64_t ch = g * sh.cg; ch < (g + 1) * sh.cg; ++ch) s += sum[ch], q += sq[ch];
    const double count = static_cast<double>(sh.size());
    const double mu = s / count, var = std::max(0.0, q / count - mu * mu);
    mean[g] = static_cast<float>(mu);
    inv_std[g] = static_cast<float>(1.0 / std::sqrt(var + eps));
  }
}

// The EvoNorms' parameter gradients from per-sample partial sums laid out as
// [sample][d gamma, d beta, d v][channel] (summed over samples in order).
inline void sum_sample_partials(const std::vector<double>& partial, std::int64_t samples, std::int64_t c,
                                std::span<float> d_gamma, std::span<float> d_beta, std::span<float> d_v) {
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double a = 0, b = 0, d = 0;
    for (std::int64_t s = 0; s < samples; ++s) {
      a += partial[3 * c * s + ch];
      b += partial[3 * c * s + c + ch];
      d += partial[3 * c * s + 2 * c + ch];
    }
    d_gamma[ch] = static_cast<float>(a);
    d_beta[ch] = static_cast<float>(b);
    d_v[ch] = static_cast<float>(d);
  }
}

}  // namespace murmur::nn::detail
