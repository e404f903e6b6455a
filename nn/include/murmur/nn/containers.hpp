#pragma once

// Layers made of layers: a sequence, and the residual basic block of the
// CIFAR-style ResNets.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

namespace detail {
class fake_quant;
}

class sequential final : public layer {
 public:
  sequential() = default;
  // Appends `child`; returns it.
  layer& add(std::unique_ptr<layer> child);
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    return static_cast<L&>(add(std::make_unique<L>(std::forward<Args>(args)...)));
  }

  dims output_dims(const dims& in) const override;
  MURMUR_LAYER_OVERRIDES
  bool empty() const { return children_.empty(); }

  // The input of the last child in the last forward (a model's penultimate
  // features). REQUIRES: a forward ran.
  const tensor& last_input() const { return *last_input_; }
  // Backward with `extra` (same shape as last_input(), f32) added to the
  // gradient that reaches the last child's input.
  const tensor& backward(const tensor& diff_dst, std::span<const float> extra);

 private:
  std::vector<std::unique_ptr<layer>> children_;
  const tensor* last_input_ = nullptr;
  tensor extra_diff_;
  std::vector<float> fold_scale_, fold_shift_;  // scratch of the int8 batch-norm folding
};

// out = relu(main(x) + shortcut(x)), with `shortcut` the identity when empty,
// or without the ReLU (the EvoNorm models, whose norms carry the
// non-linearity). The add and the ReLU run as one oneDNN binary primitive with
// a ReLU post-op; backward takes the ReLU's gradient from its output.
// In 8-bit training (precision int8-train) the add is the thesis code's Qsum:
// both inputs quantised by QuantMeasure (running ranges in the buffers
// `<name>.acc.input_range1` for the shortcut, `...2` for the main path), the
// sum's error quantised before it reaches either branch.
class residual_block final : public layer {
 public:
  residual_block(layer_env env, std::string name, std::unique_ptr<sequential> main,
                 std::unique_ptr<sequential> shortcut, bool relu = true);
  ~residual_block() override;

  dims output_dims(const dims& in) const override { return main_->output_dims(in); }
  MURMUR_LAYER_OVERRIDES
  // 8-bit training's quantisers of the two inputs (null otherwise).
  const detail::fake_quant* main_quantizer() const { return q_main_.get(); }
  const detail::fake_quant* shortcut_quantizer() const { return q_short_.get(); }

 private:
  struct plan;
  compute_context& ctx_;
  parameter_store& store_;
  std::string name_;
  std::unique_ptr<sequential> main_, shortcut_;
  bool relu_;
  plan_cache<plan> plans_;
  std::unique_ptr<detail::fake_quant> q_main_, q_short_;
  parameter_store::handle range_main_ = 0, range_short_ = 0;
  bool quantized_forward_ = false;
};

}  // namespace murmur::nn
