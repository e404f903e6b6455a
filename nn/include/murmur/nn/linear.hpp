#pragma once

// Fully connected layer (PyTorch Linear: weight [out, in], bias [out]) on
// oneDNN inner-product primitives. A 4-D input [N, C, H, W] is flattened in
// PyTorch's order (C, H, W) by the primitive itself, so a Flatten before it
// costs nothing and the weight matches PyTorch's element for element.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

class linear final : public layer {
 public:
  linear(layer_env env, std::string name, std::int64_t in_features, std::int64_t out_features, bool bias = true);
  ~linear() override;

  dims output_dims(const dims& in) const override { return {in[0], out_features_}; }
  MURMUR_LAYER_OVERRIDES

 private:
  struct plan;
  struct int8_state;
  std::unique_ptr<plan> make_plan(const tensor& src, mode m);
  const tensor* forward_int8(const tensor& src);

  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  std::int64_t in_features_, out_features_;
  bool has_bias_;
  parameter_store::handle weight_, bias_ = 0;
  plan_cache<plan> plans_;
  const tensor* src_ = nullptr;
  std::unique_ptr<int8_state> int8_;
};

}  // namespace murmur::nn
