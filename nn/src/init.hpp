#pragma once

// PyTorch's default initialisation of conv and linear layers: weights by
// kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and
// biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Internal to nn/.

#include <cmath>
#include <cstdint>
#include <span>

#include "murmur/common/rng.hpp"

namespace murmur::nn::detail {

inline void uniform_fill(std::span<float> out, double bound, common::rng& gen) {
  for (auto& x : out) x = static_cast<float>(gen.uniform(-bound, bound));
}

inline void kaiming_uniform(std::span<float> w, std::int64_t fan_in, common::rng& gen) {
  // gain = sqrt(2 / (1 + a^2)) with a = sqrt(5); bound = gain * sqrt(3 / fan_in).
  const double gain = std::sqrt(2.0 / 6.0);
  uniform_fill(w, gain * std::sqrt(3.0 / static_cast<double>(fan_in)), gen);
}

inline void bias_uniform(std::span<float> b, std::int64_t fan_in, common::rng& gen) {
  uniform_fill(b, 1.0 / std::sqrt(static_cast<double>(fan_in)), gen);
}

}  // namespace murmur::nn::detail
