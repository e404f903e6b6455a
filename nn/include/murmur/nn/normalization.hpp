#pragma once

// Normalization layers. BatchNorm2d runs on oneDNN and keeps PyTorch's
// running statistics (momentum 0.1, unbiased running variance) in the
// store's buffer arena, which is never gossiped. GroupNorm has no oneDNN 2.6
// primitive and is computed here directly, in NHWC, in parallel over samples.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

namespace detail {
class fake_quant;
}

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

// The batch norm of 8-bit training (precision int8-train): Range BatchNorm
// (Banner et al. 2018) as the thesis code's RangeBN
// (aparna-aketi/Low_Precision_DL, quantized_training/quantize.py):
//   x_q = QuantMeasure(x); per channel, over the batch's N H W values split
//   into K = 16 chunks of m (the largest K' <= 16 that divides N H W):
//   s = 1 / ((mean of chunk maxima - mean of chunk minima) C(m) + eps),
//   y = (x_q - mean) Q(s) Q(gamma) + Q(beta), the error quantised first in backward.
// Running statistics as the code keeps them: running = 0.1 running + 0.9 batch
// (its momentum convention), the scale in `running_var`; eval uses them, or
// the batch's when they were never trained (both all 0: the monitor's
// averaged model, whose buffers are not gossiped). A ReLU, if any, is a layer
// of its own after it. gamma starts at 1 (murmur's batch norm), beta at 0.
class range_batch_norm2d final : public layer {
 public:
  range_batch_norm2d(layer_env env, std::string name, std::int64_t channels, float eps = 1e-5f);
  ~range_batch_norm2d() override;
  dims output_dims(const dims& in) const override { return in; }
  MURMUR_LAYER_OVERRIDES
  const detail::fake_quant& quantizer() const { return *quant_; }

  static constexpr std::int64_t chunks = 16;
  static constexpr float momentum = 0.1f;

 private:
  struct state;
  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  std::int64_t channels_;
  float eps_;
  parameter_store::handle weight_, bias_, running_mean_, running_var_, input_range_;
  std::unique_ptr<detail::fake_quant> quant_;
  std::unique_ptr<state> st_;
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
