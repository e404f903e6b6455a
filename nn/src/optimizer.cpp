#include "murmur/nn/optimizer.hpp"

#include <cassert>
#include <cmath>

namespace murmur::nn {

sgd::sgd(std::size_t size, sgd_options opt) : opt_(opt), buffer_(opt.momentum != 0.0 ? size : 0) {}

void sgd::step(std::span<float> params, std::span<const float> grads, double lr) {
  assert(params.size() == grads.size());
  const float wd = static_cast<float>(opt_.weight_decay);
  const float mu = static_cast<float>(opt_.momentum);
  const float eta = static_cast<float>(lr);
  float* x = params.data();
  const float* g = grads.data();
  const std::size_t n = params.size();
  if (mu == 0.f) {
    for (std::size_t i = 0; i < n; ++i) x[i] -= eta * (g[i] + wd * x[i]);
    return;
  }
  assert(buffer_.size() == n);
  float* m = buffer_.data();
  if (opt_.nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * x[i];
      m[i] = mu * m[i] + gi;
      x[i] -= eta * (gi + mu * m[i]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * x[i];
      m[i] = mu * m[i] + gi;
      x[i] -= eta * m[i];
    }
  }
}

double lr_schedule::at(double epoch) const {
  double lr = base_lr;
  if (warmup_epochs > 0 && epoch < warmup_epochs)
    lr = base_lr * (warmup_start + (1.0 - warmup_start) * epoch / warmup_epochs);
  for (double m : milestones)
    if (epoch >= m) lr *= gamma;
  return lr;
}

common::status lr_schedule::validate() const {
  using common::errc;
  if (!(base_lr > 0) || !std::isfinite(base_lr))
    return common::make_error(errc::invalid_argument, "learning rate must be a positive number");
  if (warmup_epochs < 0) return common::make_error(errc::invalid_argument, "warm-up epochs must be >= 0");
  if (!(gamma > 0)) return common::make_error(errc::invalid_argument, "lr decay factor must be > 0");
  for (std::size_t i = 1; i < milestones.size(); ++i)
    if (milestones[i] < milestones[i - 1])
      return common::make_error(errc::invalid_argument, "lr milestones must be increasing");
  return {};
}

}  // namespace murmur::nn
