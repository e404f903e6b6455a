#include "murmur/nn/optimizer.hpp"

#include <cassert>
#include <cmath>

#include "murmur/common/sgd_rule.hpp"

namespace murmur::nn {

sgd::sgd(std::size_t size, sgd_options opt) : opt_(opt), buffer_(opt.momentum != 0.0 ? size : 0) {}

void sgd::step(std::span<float> params, std::span<const float> grads, double lr) {
  assert(params.size() == grads.size());
  assert(opt_.momentum == 0.0 || buffer_.size() == params.size());
  const float eta = static_cast<float>(lr);
  float* x = params.data();
  common::sgd_directions({.momentum = static_cast<float>(opt_.momentum),
                          .weight_decay = static_cast<float>(opt_.weight_decay),
                          .nesterov = opt_.nesterov},
                         params, grads, buffer_.span(), [x, eta](std::size_t i, float d) { x[i] -= eta * d; });
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
