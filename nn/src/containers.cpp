#include "murmur/nn/containers.hpp"

#include "murmur/nn/simple_layers.hpp"

namespace murmur::nn {

layer& sequential::add(std::unique_ptr<layer> child) {
  children_.push_back(std::move(child));
  return *children_.back();
}

dims sequential::output_dims(const dims& in) const {
  dims d = in;
  for (const auto& c : children_) d = c->output_dims(d);
  return d;
}

const tensor& sequential::forward(const tensor& src, mode m) {
  const tensor* x = &src;
  for (auto& c : children_) x = &c->forward(*x, m);
  return *x;
}

const tensor& sequential::backward(const tensor& diff_dst) {
  const tensor* d = &diff_dst;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) d = &(*it)->backward(*d);
  return *d;
}

void sequential::init(common::rng& gen) {
  for (auto& c : children_) c->init(gen);
}

std::string sequential::describe() const {
  std::string s;
  for (const auto& c : children_) {
    if (!s.empty()) s += "\n";
    s += c->describe();
  }
  return s;
}

struct residual_block::plan {
  tensor sum, diff_src;
};

residual_block::residual_block(layer_env env, std::string name, std::unique_ptr<sequential> main,
                               std::unique_ptr<sequential> shortcut)
    : name_(std::move(name)),
      main_(std::move(main)),
      shortcut_(std::move(shortcut)),
      relu_(std::make_unique<relu>(env, name_ + ".relu")) {}

residual_block::~residual_block() = default;

void residual_block::init(common::rng& gen) {
  main_->init(gen);
  shortcut_->init(gen);
}

std::string residual_block::describe() const {
  std::string s = main_->describe();
  if (!shortcut_->empty()) s += "\n" + shortcut_->describe();
  return s + "\n" + name_ + ": residual add + ReLU";
}

const tensor& residual_block::forward(const tensor& src, mode m) {
  const dims out = output_dims(src.shape());
  auto& p = plans_.get(src.shape(), m, [&] {
    auto p = std::make_unique<plan>();
    p->sum = tensor(out, dtype::f32, layout::nhwc);
    if (m == mode::train) p->diff_src = tensor(src.shape(), dtype::f32, layout::nhwc);
    return p;
  });
  const tensor& a = main_->forward(src, m);
  const tensor& b = shortcut_->empty() ? src : shortcut_->forward(src, m);
  const float* pa = a.f32();
  const float* pb = b.f32();
  float* ps = p.sum.f32();
  const std::int64_t n = p.sum.numel();
  for (std::int64_t i = 0; i < n; ++i) ps[i] = pa[i] + pb[i];
  return relu_->forward(p.sum, m);
}

const tensor& residual_block::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  const tensor& d_sum = relu_->backward(diff_dst);
  const tensor& d_main = main_->backward(d_sum);
  const tensor& d_short = shortcut_->empty() ? d_sum : shortcut_->backward(d_sum);
  const float* pa = d_main.f32();
  const float* pb = d_short.f32();
  float* pd = p.diff_src.f32();
  const std::int64_t n = p.diff_src.numel();
  for (std::int64_t i = 0; i < n; ++i) pd[i] = pa[i] + pb[i];
  return p.diff_src;
}

}  // namespace murmur::nn
