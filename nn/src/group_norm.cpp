#include <algorithm>
#include <cassert>
#include <cmath>

#include "elementwise.hpp"
#include "murmur/nn/normalization.hpp"

namespace murmur::nn {

using detail::with_elements;

struct group_norm::plan {
  tensor dst, diff_src;
  std::vector<float> mean, rstd;  // per (sample, group)
};

group_norm::group_norm(layer_env env, std::string name, std::int64_t groups, std::int64_t channels, float eps)
    : ctx_(env.ctx), store_(env.store), name_(std::move(name)), groups_(groups), channels_(channels), eps_(eps) {
  assert(channels % groups == 0);
  weight_ = store_.add_parameter(name_ + ".weight", {channels});
  bias_ = store_.add_parameter(name_ + ".bias", {channels});
}

group_norm::~group_norm() = default;

void group_norm::init(common::rng&) {
  std::ranges::fill(store_.parameter(weight_), 1.f);
  std::ranges::fill(store_.parameter(bias_), 0.f);
}

std::string group_norm::describe() const {
  return name_ + ": GroupNorm(" + std::to_string(groups_) + ", " + std::to_string(channels_) + ")";
}

const tensor& group_norm::forward(const tensor& src, mode m) {
  auto& p = plans_.get(src, m, [&] {
    auto p = std::make_unique<plan>();
    p->dst = tensor(src.shape(), src.type(), layout::nhwc);
    if (m == mode::train) p->diff_src = tensor(src.shape(), src.type(), layout::nhwc);
    p->mean.resize(src.dim(0) * groups_);
    p->rstd.resize(src.dim(0) * groups_);
    return p;
  });
  src_ = &src;
  ctx_.enter();
  const std::int64_t n = src.dim(0), c = channels_, hw = src.dim(2) * src.dim(3), cg = c / groups_;
  const float* gamma = store_.parameter(weight_).data();
  const float* beta = store_.parameter(bias_).data();
  with_elements(p.dst, [&](auto* y) {
    using T = std::remove_pointer_t<decltype(y)>;
    const T* x = static_cast<const T*>(src.raw());
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t g = 0; g < groups_; ++g) {
        const T* xs = x + s * hw * c + g * cg;
        double sum = 0, sq = 0;
        for (std::int64_t i = 0; i < hw; ++i)
          for (std::int64_t k = 0; k < cg; ++k) {
            const double v = to_f32(xs[i * c + k]);
            sum += v;
            sq += v * v;
          }
        const double count = static_cast<double>(hw * cg);
        const double mean = sum / count;
        const double var = std::max(0.0, sq / count - mean * mean);
        const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps_));
        p.mean[s * groups_ + g] = static_cast<float>(mean);
        p.rstd[s * groups_ + g] = rstd;
        T* ys = y + s * hw * c + g * cg;
        for (std::int64_t i = 0; i < hw; ++i)
          for (std::int64_t k = 0; k < cg; ++k) {
            const std::int64_t ch = g * cg + k;
            const float xhat = (to_f32(xs[i * c + k]) - static_cast<float>(mean)) * rstd;
            ys[i * c + k] = from_f32<T>(xhat * gamma[ch] + beta[ch]);
          }
      }
    }
  });
  return p.dst;
}

const tensor& group_norm::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  ctx_.enter();
  const std::int64_t n = src_->dim(0), c = channels_, hw = src_->dim(2) * src_->dim(3), cg = c / groups_;
  const float* gamma = store_.parameter(weight_).data();
  auto dgamma = store_.gradient(weight_);
  auto dbeta = store_.gradient(bias_);
  std::ranges::fill(dgamma, 0.f);
  std::ranges::fill(dbeta, 0.f);
  with_elements(p.diff_src, [&](auto* dx) {
    using T = std::remove_pointer_t<decltype(dx)>;
    const T* x = static_cast<const T*>(src_->raw());
    const T* dy = static_cast<const T*>(diff_dst.raw());
    // Parameter gradients: sums over samples and positions, per channel.
    for (std::int64_t s = 0; s < n; ++s)
      for (std::int64_t i = 0; i < hw; ++i)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const std::int64_t g = ch / cg, at = (s * hw + i) * c + ch;
          const float xhat = (to_f32(x[at]) - p.mean[s * groups_ + g]) * p.rstd[s * groups_ + g];
          dgamma[ch] += to_f32(dy[at]) * xhat;
          dbeta[ch] += to_f32(dy[at]);
        }
        // Input gradient: dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) per group.
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t g = 0; g < groups_; ++g) {
        const float mean = p.mean[s * groups_ + g], rstd = p.rstd[s * groups_ + g];
        double sum_dxhat = 0, sum_dxhat_xhat = 0;
        for (std::int64_t i = 0; i < hw; ++i)
          for (std::int64_t k = 0; k < cg; ++k) {
            const std::int64_t ch = g * cg + k, at = (s * hw + i) * c + ch;
            const double dxhat = static_cast<double>(to_f32(dy[at])) * gamma[ch];
            sum_dxhat += dxhat;
            sum_dxhat_xhat += dxhat * (to_f32(x[at]) - mean) * rstd;
          }
        const double count = static_cast<double>(hw * cg);
        const float a = static_cast<float>(sum_dxhat / count), b = static_cast<float>(sum_dxhat_xhat / count);
        for (std::int64_t i = 0; i < hw; ++i)
          for (std::int64_t k = 0; k < cg; ++k) {
            const std::int64_t ch = g * cg + k, at = (s * hw + i) * c + ch;
            const float xhat = (to_f32(x[at]) - mean) * rstd;
            dx[at] = from_f32<T>(rstd * (to_f32(dy[at]) * gamma[ch] - a - xhat * b));
          }
      }
    }
  });
  return p.diff_src;
}

void group_norm::report(std::vector<std::string>& out) const {
  if (plans_.current_or_null()) out.push_back(name_ + ": " + to_string(plans_.current_type()) + " fwd=bwd=murmur:omp");
}

}  // namespace murmur::nn
