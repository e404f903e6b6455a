#pragma once

// Test helpers: one layer with its own parameter store and compute context,
// random inputs in the NHWC layout, and element access by logical NCHW index.

#include <cmath>
#include <functional>
#include <memory>

#include "murmur/common/rng.hpp"
#include "murmur/nn/layer.hpp"

namespace murmur::test {

using nn::dims;
using nn::tensor;

// Position of logical element (n, c, h, w) of a [N, C, H, W] NHWC tensor.
inline std::int64_t nhwc_at(const dims& d, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return ((n * d[2] + h) * d[3] + w) * d[1] + c;
}

inline tensor random_tensor(const dims& d, common::rng& gen, double scale = 1.0) {
  tensor t(d, nn::dtype::f32, d.size() == 4 ? nn::layout::nhwc : nn::layout::row_major);
  for (auto& x : t.f32_span()) x = static_cast<float>(scale * gen.normal());
  return t;
}

inline tensor copy_of(const tensor& src) {
  tensor t(src.shape(), src.type(), src.memory_layout());
  std::copy(src.f32_span().begin(), src.f32_span().end(), t.f32_span().begin());
  return t;
}

// A layer under test with everything it needs.
struct harness {
  nn::parameter_store store;
  nn::compute_context ctx{1};
  std::unique_ptr<nn::layer> layer;

  nn::layer_env env() { return {store, ctx}; }
  // Finalizes the store and initialises the layer's parameters.
  void ready(std::uint64_t seed = 1) {
    store.finalize();
    common::rng gen(seed);
    layer->init(gen);
  }
};

}  // namespace murmur::test
