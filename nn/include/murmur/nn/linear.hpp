#pragma once

// Fully connected layer (PyTorch Linear: weight [out, in], bias [out]) on
// oneDNN inner-product primitives. A 4-D input [N, C, H, W] is flattened in
// PyTorch's order (C, H, W) by the primitive itself, so a Flatten before it
// costs nothing and the weight matches PyTorch's element for element.

#include <memory>
#include <string>

#include "murmur/nn/weighted_layer.hpp"

namespace murmur::nn {

class linear final : public weighted_layer {
 public:
  linear(layer_env env, std::string name, std::int64_t in_features, std::int64_t out_features, bool bias = true);

  dims output_dims(const dims& in) const override { return {in[0], out_features_}; }
  void init(common::rng& gen) override;
  std::string describe() const override;

 private:
  std::unique_ptr<detail::weighted_plan> make_plan(const tensor& src, mode m) override;
  const tensor* forward_int8(const tensor& src) override;

  std::int64_t in_features_, out_features_;
  bool has_bias_;
};

}  // namespace murmur::nn
