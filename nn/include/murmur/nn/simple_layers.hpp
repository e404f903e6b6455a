#pragma once

// Layers without parameters: ReLU, max/average/global-average pooling and
// Flatten.

#include <memory>
#include <string>

#include "murmur/nn/layer.hpp"

namespace murmur::nn {

class relu final : public layer {
 public:
  relu(layer_env env, std::string name);
  ~relu() override;
  dims output_dims(const dims& in) const override { return in; }
  const tensor& forward(const tensor& src, mode m) override;
  const tensor& backward(const tensor& diff_dst) override;
  std::string describe() const override { return name_ + ": ReLU()"; }
  void report(std::vector<std::string>& out) const override;

 private:
  struct plan;
  compute_context& ctx_;
  std::string name_;
  plan_cache<plan> plans_;
  const tensor* src_ = nullptr;
};

enum class pool_kind { max, average };

struct pool2d_options {
  pool_kind kind;
  std::int64_t kernel, stride, padding = 0;
  bool global = false;  // kernel = the whole input plane (adaptive average pool to 1x1)
};

class pool2d final : public layer {
 public:
  pool2d(layer_env env, std::string name, pool2d_options opt);
  ~pool2d() override;
  dims output_dims(const dims& in) const override;
  const tensor& forward(const tensor& src, mode m) override;
  const tensor& backward(const tensor& diff_dst) override;
  std::string describe() const override;
  void report(std::vector<std::string>& out) const override;

 private:
  struct plan;
  std::unique_ptr<plan> make_plan(const tensor& src, mode m);
  compute_context& ctx_;
  std::string name_;
  pool2d_options opt_;
  plan_cache<plan> plans_;
};

// Flatten to [N, C*H*W] in PyTorch's (C, H, W) order. Free: it hands its input
// on unchanged, and the following Linear reads a 4-D input in that order.
class flatten final : public layer {
 public:
  explicit flatten(std::string name) : name_(std::move(name)) {}
  dims output_dims(const dims& in) const override { return in; }
  const tensor& forward(const tensor& src, mode) override { return src; }
  const tensor& backward(const tensor& diff_dst) override { return diff_dst; }
  std::string describe() const override { return name_ + ": Flatten()"; }

 private:
  std::string name_;
};

}  // namespace murmur::nn
