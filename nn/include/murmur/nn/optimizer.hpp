#pragma once

// SGD with momentum, Nesterov and coupled weight decay, with PyTorch's
// semantics (torch.optim.SGD, dampening 0):
//   g <- g + weight_decay * x
//   m <- momentum * m + g          (m starts at 0, so the first m is g)
//   d <- g + momentum * m  (Nesterov)  or  d <- m
//   x <- x - lr * d
// over the whole parameter arena at once. And a learning-rate schedule with
// linear warm-up and multi-step decay.

#include <span>
#include <vector>

#include "murmur/common/aligned_buffer.hpp"
#include "murmur/common/result.hpp"

namespace murmur::nn {

struct sgd_options {
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

class sgd {
 public:
  sgd(std::size_t size, sgd_options opt);

  // REQUIRES: params.size() == grads.size() == the size given at construction.
  void step(std::span<float> params, std::span<const float> grads, double lr);

  const sgd_options& options() const { return opt_; }
  std::span<float> momentum_buffer() { return buffer_.span(); }
  std::span<const float> momentum_buffer() const { return buffer_.span(); }

 private:
  sgd_options opt_;
  common::aligned_buffer<float> buffer_;
};

struct lr_schedule {
  double base_lr = 0.01;
  double warmup_epochs = 0;  // linear ramp from warmup_start * base_lr
  double warmup_start = 0.1;
  std::vector<double> milestones;  // epochs at which lr is multiplied by gamma
  double gamma = 0.1;

  // The learning rate at a fractional epoch (epoch 1.5 = half-way through the second).
  double at(double epoch) const;
  common::status validate() const;
  bool operator==(const lr_schedule&) const = default;
};

}  // namespace murmur::nn
