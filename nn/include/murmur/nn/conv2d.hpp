#pragma once

// 2-D convolution (PyTorch Conv2d semantics: weight OIHW, optional bias,
// symmetric zero padding) on oneDNN primitives. Weights stay in the arena in
// OIHW; the primitives see them in the layout they prefer through reorders
// created once per plan.

#include <memory>
#include <string>

#include "murmur/nn/weighted_layer.hpp"

namespace murmur::nn {

struct conv2d_options {
  std::int64_t in_channels, out_channels, kernel;
  std::int64_t stride = 1, padding = 0;
  bool bias = true;
};

class conv2d final : public weighted_layer {
 public:
  conv2d(layer_env env, std::string name, conv2d_options opt);

  dims output_dims(const dims& in) const override;
  void init(common::rng& gen) override;
  std::string describe() const override;

  // mode::int8 forward with what follows folded into the int8 primitive: a
  // per-channel affine map (an inference batch norm; `scale` without zeros,
  // empty for none) and a ReLU. REQUIRES: src is f32. Returns null when this
  // CPU has no int8 kernel for it (the caller runs the layers in f32).
  const tensor* forward_int8(const tensor& src, std::span<const float> scale, std::span<const float> shift, bool relu);

 private:
  std::unique_ptr<detail::weighted_plan> make_plan(const tensor& src, mode m) override;
  const tensor* forward_int8(const tensor& src) override;

  conv2d_options opt_;
};

}  // namespace murmur::nn
