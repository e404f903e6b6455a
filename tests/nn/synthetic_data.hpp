#pragma once

// A small learnable image data set: each class is a fixed random pattern plus
// noise, so a model that learns anything reaches high accuracy in an epoch.

#include "murmur/common/rng.hpp"
#include "murmur/nn/dataset.hpp"

namespace murmur::test {

inline nn::dataset synthetic_dataset(std::int64_t samples, std::int64_t channels, std::int64_t side, std::uint64_t seed,
                                     double noise = 40.0) {
  nn::dataset d;
  d.name = "synthetic";
  d.channels = channels;
  d.height = d.width = side;
  d.classes = 10;
  common::rng patterns(1234);
  std::vector<std::vector<double>> proto(10, std::vector<double>(d.sample_bytes()));
  for (auto& p : proto)
    for (auto& v : p) v = patterns.uniform(30, 225);
  common::rng gen(seed);
  for (std::int64_t i = 0; i < samples; ++i) {
    const auto y = static_cast<std::int32_t>(gen.uniform_int(10));
    d.labels.push_back(y);
    for (auto v : proto[y])
      d.images.push_back(static_cast<std::uint8_t>(std::clamp(v + noise * gen.normal(), 0.0, 255.0)));
  }
  d.mean.assign(channels, 0.5f);
  d.stddev.assign(channels, 0.25f);
  return d;
}

}  // namespace murmur::test
