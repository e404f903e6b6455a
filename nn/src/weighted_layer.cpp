#include "murmur/nn/weighted_layer.hpp"

#include "dnnl_util.hpp"
#include "fake_quant.hpp"
#include "int8.hpp"

namespace murmur::nn {

weighted_layer::weighted_layer(layer_env env, std::string name)
    : ctx_(env.ctx), store_(env.store), name_(std::move(name)), int8_(std::make_unique<detail::int8_layer>()) {
  if (ctx_.quantized_training()) {
    quant_ = std::make_unique<detail::fake_quant>();
    input_range_ = store_.add_buffer(name_ + ".input_range", {2});
  }
}

weighted_layer::~weighted_layer() = default;

const tensor& weighted_layer::forward(const tensor& src, mode m) {
  if (m == mode::int8 && src.type() == dtype::f32)
    if (const tensor* out = forward_int8(src)) return *out;
  int8_->observe(ctx_, src, m == mode::train);
  if (quant_ && src.type() == dtype::f32) {
    // x_q and W_q, b_q; training keeps W_q in place until backward is done.
    quant_->reseed(ctx_, name_);
    const tensor& x = quant_->quantize_input(src, m == mode::train, store_.buffer(input_range_));
    quant_->quantize_weights(store_.parameter(weight_), bias_values());
    auto& p = plans_.get(x, m, [&] { return make_plan(x, m); });
    src_ = &x;
    const tensor& out = p.forward(ctx_, x);
    if (m != mode::train) quant_->restore_weights(store_.parameter(weight_), bias_values());
    return out;
  }
  auto& p = plans_.get(src, m, [&] { return make_plan(src, m); });
  src_ = &src;
  return p.forward(ctx_, src);
}

const tensor& weighted_layer::backward(const tensor& diff_dst) {
  if (quant_ && diff_dst.type() == dtype::f32) {
    // Biprecision: dx from the 8-bit error and W_q, dW and db from the full one and x_q.
    const tensor& dx = plans_.current().backward(ctx_, *src_, quant_->quantize_error(diff_dst), diff_dst);
    quant_->restore_weights(store_.parameter(weight_), bias_values());
    return dx;
  }
  return plans_.current().backward(ctx_, *src_, diff_dst, diff_dst);
}

std::span<float> weighted_layer::bias_values() { return biased_ ? store_.parameter(bias_) : std::span<float>(); }

void weighted_layer::report(std::vector<std::string>& out) const {
  if (int8_->report(name_, out)) return;
  if (const auto* p = plans_.current_or_null())
    out.push_back(
        detail::kernel_line(name_, plans_.current_type(),
                            {{"fwd", &p->fwd}, {"bwd_data", &p->bwd_data}, {"bwd_weights", &p->bwd_weights}}));
}

}  // namespace murmur::nn
