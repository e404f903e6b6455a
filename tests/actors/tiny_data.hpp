#pragma once

// A tiny in-memory data set for the actor tests: 64 random 4x4 one-channel
// images of two alternating classes, reproducible from `seed`.

#include "murmur/common/rng.hpp"
#include "murmur/nn/dataset.hpp"

namespace murmur::actors {

inline nn::dataset tiny_data(std::uint64_t seed) {
  nn::dataset d;
  d.name = "tiny";
  d.channels = 1;
  d.height = d.width = 4;
  d.classes = 2;
  common::rng gen(seed);
  for (int i = 0; i < 64; ++i) {
    d.labels.push_back(static_cast<std::int32_t>(i % 2));
    for (int k = 0; k < 16; ++k) d.images.push_back(static_cast<std::uint8_t>(gen.uniform_int(256)));
  }
  d.mean = {127.f};
  d.stddev = {73.f};
  return d;
}

}  // namespace murmur::actors
