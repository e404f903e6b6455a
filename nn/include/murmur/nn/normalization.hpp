#pragma once

// Normalization layers. BatchNorm2d runs on oneDNN and keeps PyTorch's
// running statistics (momentum 0.1, unbiased running variance) in the
// store's buffer arena, which is never gossiped. GroupNorm has no oneDNN 2.6
// primitive and is computed here directly, in NHWC, in parallel over samples.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

class batch_norm2d final : public layer {
 public:
  // relu: a ReLU fused into the norm (oneDNN's fuse_norm_relu), forward and backward.
  batch_norm2d(layer_env env, std::string name, std::int64_t channels, bool relu = false, float eps = 1e-5f,
               float momentum = 0.1f);
  bool fused_relu() const { return relu_; }
  ~batch_norm2d() override;
  dims output_dims(const dims& in) const override { return in; }
  MURMUR_LAYER_OVERRIDES

  // The inference map y = scale * x + shift per channel, from the running
  // statistics: scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
  void inference_affine(std::vector<float>& scale, std::vector<float>& shift);

 private:
  struct plan;
  std::unique_ptr<plan> make_plan(const tensor& src, mode m);
  void update_running_stats(plan& p, std::int64_t count);

  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  std::int64_t channels_;
  bool relu_;
  float eps_, momentum_;
  parameter_store::handle weight_, bias_, running_mean_, running_var_, batches_tracked_;
  plan_cache<plan> plans_;
  const tensor* src_ = nullptr;
};

class group_norm final : public layer {
 public:
  group_norm(layer_env env, std::string name, std::int64_t groups, std::int64_t channels, float eps = 1e-5f);
  ~group_norm() override;
  dims output_dims(const dims& in) const override { return in; }
  MURMUR_LAYER_OVERRIDES

 private:
  struct plan;
  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  std::int64_t groups_, channels_;
  float eps_;
  parameter_store::handle weight_, bias_;
  plan_cache<plan> plans_;
  const tensor* src_ = nullptr;
};

}  // namespace murmur::nn
