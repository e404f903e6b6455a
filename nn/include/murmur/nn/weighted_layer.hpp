#pragma once

// What conv2d and linear share: a weight (and optional bias) in the
// parameter store, one oneDNN plan per (input shape, mode, type) built on
// first use, the input kept for backward, and an int8 inference path with
// its calibration, and 8-bit training (fake_quant.hpp). A derived layer says
// how to build its plans.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

namespace detail {
struct weighted_plan;
struct int8_layer;
class fake_quant;
}  // namespace detail

class weighted_layer : public layer {
 public:
  ~weighted_layer() override;

  const tensor& forward(const tensor& src, mode m) override;
  const tensor& backward(const tensor& diff_dst) override;
  // 8-bit training's state (null unless the context trains in int8-train).
  const detail::fake_quant* quantizer() const { return quant_.get(); }
  void report(std::vector<std::string>& out) const override;

 protected:
  weighted_layer(layer_env env, std::string name);

  // The f32/bf16 forward (and, in training, backward) primitives for `src`.
  virtual std::unique_ptr<detail::weighted_plan> make_plan(const tensor& src, mode m) = 0;
  // mode::int8 on an f32 input; null when this CPU has no int8 kernel for it.
  virtual const tensor* forward_int8(const tensor& src) = 0;

  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  parameter_store::handle weight_ = 0, bias_ = 0;
  bool biased_ = false;                      // bias_ names a parameter
  parameter_store::handle input_range_ = 0;  // 8-bit training: QuantMeasure's running {min, max} (a buffer)
  std::unique_ptr<detail::int8_layer> int8_;
  std::unique_ptr<detail::fake_quant> quant_;  // 8-bit training (precision int8-train)

 private:
  std::span<float> bias_values();

  plan_cache<detail::weighted_plan> plans_;
  const tensor* src_ = nullptr;
};

}  // namespace murmur::nn
