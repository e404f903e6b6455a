#include "murmur/nn/weighted_layer.hpp"

#include "dnnl_util.hpp"
#include "int8.hpp"

namespace murmur::nn {

weighted_layer::weighted_layer(layer_env env, std::string name)
    : ctx_(env.ctx), store_(env.store), name_(std::move(name)), int8_(std::make_unique<detail::int8_layer>()) {}

weighted_layer::~weighted_layer() = default;

const tensor& weighted_layer::forward(const tensor& src, mode m) {
  if (m == mode::int8 && src.type() == dtype::f32)
    if (const tensor* out = forward_int8(src)) return *out;
  int8_->observe(ctx_, src, m == mode::train);
  auto& p = plans_.get(src, m, [&] { return make_plan(src, m); });
  src_ = &src;
  return p.forward(ctx_, src);
}

const tensor& weighted_layer::backward(const tensor& diff_dst) {
  return plans_.current().backward(ctx_, *src_, diff_dst);
}

void weighted_layer::report(std::vector<std::string>& out) const {
  if (int8_->report(name_, out)) return;
  if (const auto* p = plans_.current_or_null())
    out.push_back(
        detail::kernel_line(name_, plans_.current_type(),
                            {{"fwd", &p->fwd}, {"bwd_data", &p->bwd_data}, {"bwd_weights", &p->bwd_weights}}));
}

}  // namespace murmur::nn
