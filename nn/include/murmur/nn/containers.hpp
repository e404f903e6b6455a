#pragma once

// Layers made of layers: a sequence, and the residual basic block of the
// CIFAR-style ResNets.

#include <memory>
#include <string>
#include <vector>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

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
  const tensor& forward(const tensor& src, mode m) override;
  const tensor& backward(const tensor& diff_dst) override;
  void init(common::rng& gen) override;
  std::string describe() const override;
  bool empty() const { return children_.empty(); }

 private:
  std::vector<std::unique_ptr<layer>> children_;
};

// out = relu(main(x) + shortcut(x)), with `shortcut` the identity when empty.
class residual_block final : public layer {
 public:
  residual_block(layer_env env, std::string name, std::unique_ptr<sequential> main,
                 std::unique_ptr<sequential> shortcut);
  ~residual_block() override;

  dims output_dims(const dims& in) const override { return main_->output_dims(in); }
  const tensor& forward(const tensor& src, mode m) override;
  const tensor& backward(const tensor& diff_dst) override;
  void init(common::rng& gen) override;
  std::string describe() const override;

 private:
  struct plan;
  std::string name_;
  std::unique_ptr<sequential> main_, shortcut_;
  std::unique_ptr<layer> relu_;
  plan_cache<plan> plans_;
};

}  // namespace murmur::nn
