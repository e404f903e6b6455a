#include "evonorm_8bit.hpp"

#include <algorithm>
#include <cmath>

#include "murmur/nn/evonorm.hpp"
#include "range_stats.hpp"

namespace murmur::nn::detail {

namespace {

tensor& shaped_like(tensor& t, const tensor& src) {
  if (t.shape() != src.shape()) t = tensor(src.shape(), dtype::f32, layout::nhwc);
  return t;
}

// The activation a(x) in N = x a(x), with da/dx and da/dv.
struct activation {
  float a, da_dx, da_dv;
};

inline activation hard_sigmoid(float x, float v) {
  const float pre = x * v / 6.f + 0.5f;
  // torch's clamp passes the gradient where min <= pre <= max.
  if (pre < 0.f) return {0.f, 0.f, 0.f};
  if (pre > 1.f) return {1.f, 0.f, 0.f};
  return {pre, v / 6.f, x / 6.f};
}

inline activation sigmoid(float x, float v) {
  const float s = 1.f / (1.f + std::exp(-v * x)), d = s * (1.f - s);
  return {s, v * d, x * d};
}

}  // namespace

const tensor& evonorm_8bit::forward(const tensor& src, bool training, std::span<float> input_range,
                                    std::span<const float> gamma, std::span<const float> beta,
                                    std::span<const float> v) {
  const std::int64_t n = src.dim(0), c = src.dim(1);
  const sample_shape sh{src.dim(2) * src.dim(3), c, groups_, c / groups_};
  const tensor& xq = quant_.quantize_input(src, training, input_range);
  xq_ = &xq;
  gamma_q_ = quantized_on_own_range(gamma);
  beta_q_ = quantized_on_own_range(beta);
  v_q_ = quantized_on_own_range(v);
  scale_.resize(n * groups_);
  mean_.resize(n * groups_);
  used_chunks_ = range_ ? range_chunks(sh.size(), chunks_) : 0;
  if (range_) {
    arg_max_.resize(n * groups_ * used_chunks_);
    arg_min_.resize(n * groups_ * used_chunks_);
  }
  const double constant = range_ ? range_constant(sh.size() / used_chunks_) : 0.0;
  const float* x = xq.f32_span().data();
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < n; ++s) {
    const float* xs = x + s * sh.hw * c;
    float* scale = scale_.data() + s * groups_;
    if (range_) {
      std::vector<float> r(groups_);
      chunk_ranges(xs, sh, used_chunks_, r.data(), arg_max_.data() + s * groups_ * used_chunks_,
                   arg_min_.data() + s * groups_ * used_chunks_);
      for (std::int64_t g = 0; g < groups_; ++g) scale[g] = static_cast<float>(1.0 / (r[g] * constant + eps_));
    } else {
      group_moments(xs, sh, eps_, mean_.data() + s * groups_, scale);
    }
  }
  // s_q: one range over every (sample, group).
  scale_q_ = quantized_on_own_range(scale_);
  auto& dst = shaped_like(dst_, src);
  float* y = dst.f32_span().data();
  const auto output = [&](auto act) {
#pragma omp parallel for schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      std::vector<float> a(c);  // s_q gamma_q per channel
      for (std::int64_t ch = 0; ch < c; ++ch) a[ch] = scale_q_[s * groups_ + ch / sh.cg] * gamma_q_[ch];
      for (std::int64_t pos = 0; pos < sh.hw; ++pos) {
        const std::int64_t at = (s * sh.hw + pos) * c;
#pragma omp simd
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const float xv = x[at + ch];
          y[at + ch] = xv * act(xv, v_q_[ch]).a * a[ch] + beta_q_[ch];
        }
      }
    }
  };
  if (range_)
    output(hard_sigmoid);
  else
    output(sigmoid);
  return dst;
}

const tensor& evonorm_8bit::backward(const tensor& diff_dst, std::span<float> d_gamma, std::span<float> d_beta,
                                     std::span<float> d_v) {
  const tensor& xq = *xq_;
  const std::int64_t n = xq.dim(0), c = xq.dim(1);
  const sample_shape sh{xq.dim(2) * xq.dim(3), c, groups_, c / groups_};
  const float* x = xq.f32_span().data();
  const float* dy = quant_.quantize_error(diff_dst).f32_span().data();
  auto& diff_src = shaped_like(diff_src_, xq);
  float* dx = diff_src.f32_span().data();
  const double constant = range_ ? range_constant(sh.size() / used_chunks_) : 0.0;
  // Per-sample sums: [sample][d gamma, d beta, d v][channel].
  std::vector<double> partial(3 * c * n, 0.0);
  const auto sample = [&](std::int64_t s, auto act) {
    double* pg = partial.data() + 3 * c * s;
    std::vector<double> d_scale(groups_, 0.0);
    const float* sq = scale_q_.data() + s * groups_;
    for (std::int64_t pos = 0; pos < sh.hw; ++pos) {
      const std::int64_t at = (s * sh.hw + pos) * c;
      for (std::int64_t ch = 0; ch < c; ++ch) {
        const float xv = x[at + ch], dyv = dy[at + ch], sg = sq[ch / sh.cg];
        const activation a = act(xv, v_q_[ch]);
        const float nv = xv * a.a, dt = dyv * gamma_q_[ch], dn = dt * sg;
        pg[ch] += static_cast<double>(dyv) * nv * sg;
        pg[c + ch] += dyv;
        pg[2 * c + ch] += static_cast<double>(dn) * xv * a.da_dv;
        d_scale[ch / sh.cg] += static_cast<double>(dt) * nv;
        dx[at + ch] = dn * (a.a + xv * a.da_dx);
      }
    }
    // Through s (straight through s_q): Range: s = 1 / (r C + eps), r from each
    // chunk's max and min; S0: s = (var + eps)^-1/2.
    for (std::int64_t g = 0; g < groups_; ++g) {
      const double sc = scale_[s * groups_ + g];
      if (range_) {
        const auto k_count = used_chunks_;
        const auto step = static_cast<float>(-d_scale[g] * sc * sc * constant / static_cast<double>(k_count));
        for (std::int64_t k = 0; k < k_count; ++k) {
          const std::int64_t jmax = arg_max_[(s * groups_ + g) * k_count + k];
          const std::int64_t jmin = arg_min_[(s * groups_ + g) * k_count + k];
          dx[(s * sh.hw + jmax % sh.hw) * c + g * sh.cg + jmax / sh.hw] += step;
          dx[(s * sh.hw + jmin % sh.hw) * c + g * sh.cg + jmin / sh.hw] -= step;
        }
      } else {
        const auto coeff = static_cast<float>(-d_scale[g] * sc * sc * sc / static_cast<double>(sh.size()));
        const float mu = mean_[s * groups_ + g];
        for (std::int64_t pos = 0; pos < sh.hw; ++pos)
          for (std::int64_t ch = g * sh.cg; ch < (g + 1) * sh.cg; ++ch) {
            const std::int64_t at = (s * sh.hw + pos) * c + ch;
            dx[at] += coeff * (x[at] - mu);
          }
      }
    }
  };
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < n; ++s) {
    if (range_)
      sample(s, hard_sigmoid);
    else
      sample(s, sigmoid);
  }
  sum_sample_partials(partial, n, c, d_gamma, d_beta, d_v);
  return diff_src;
}

}  // namespace murmur::nn::detail
