#include "murmur/nn/linear.hpp"

#include <cassert>
#include <map>

#include "dnnl_util.hpp"
#include "init.hpp"
#include "int8.hpp"

namespace murmur::nn {

using namespace detail;

linear::linear(layer_env env, std::string name, std::int64_t in_features, std::int64_t out_features, bool bias)
    : weighted_layer(env, std::move(name)), in_features_(in_features), out_features_(out_features), has_bias_(bias) {
  weight_ = store_.add_parameter(name_ + ".weight", {out_features, in_features});
  if (has_bias_) bias_ = store_.add_parameter(name_ + ".bias", {out_features});
  biased_ = has_bias_;
}

void linear::init(common::rng& gen) {
  kaiming_uniform(store_.parameter(weight_), in_features_, gen);
  if (has_bias_) bias_uniform(store_.parameter(bias_), in_features_, gen);
}

std::string linear::describe() const {
  return name_ + ": Linear(" + std::to_string(in_features_) + ", " + std::to_string(out_features_) +
         (has_bias_ ? ")" : ", bias=False)");
}

std::unique_ptr<weighted_plan> linear::make_plan(const tensor& src, mode m) {
  const dims& in = src.shape();
  const auto type = to_dnnl(src.type());
  assert(product(in) / in[0] == in_features_);
  auto p = std::make_unique<weighted_plan>();
  const dims out{in[0], out_features_};
  p->dst = tensor(out, src.type());

  // The weight seen with the input's rank: [O, C, H, W] for a 4-D input.
  dims wdims{out_features_};
  wdims.insert(wdims.end(), in.begin() + 1, in.end());
  const auto src_md = activation_md(in, type);
  const auto dst_md = activation_md(out, type);
  // Weights in the activations' type; weight gradients always in f32.
  const auto any_weights = dnnl::memory::desc(to_dnnl(wdims), type, tag::any);
  const auto any_diff_weights = dnnl::memory::desc(to_dnnl(wdims), dt::f32, tag::any);
  const auto bias_md = has_bias_ ? plain_md({out_features_}) : dnnl::memory::desc();
  auto& eng = ctx_.engine();
  auto attr = ctx_.attributes();

  const auto prop = m == mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dnnl::inner_product_forward::desc fwd_desc(prop, src_md, any_weights, bias_md, dst_md);
  dnnl::inner_product_forward::primitive_desc fwd_pd(fwd_desc, attr, eng);
  dnnl::memory user_weights(plain_md(wdims), eng, store_.parameter(weight_).data());
  dnnl::memory bias = has_bias_ ? dnnl::memory(bias_md, eng, store_.parameter(bias_).data()) : dnnl::memory();
  p->bind_forward(ctx_, fwd_pd, user_weights, bias);
  if (m != mode::train) return p;

  p->diff_src = tensor(in, src.type(), in.size() == 4 ? layout::nhwc : layout::row_major);
  dnnl::inner_product_backward_data::desc bwd_data_desc(src_md, any_weights, dst_md);
  dnnl::inner_product_backward_data::primitive_desc bwd_data_pd(bwd_data_desc, attr, eng, fwd_pd);
  dnnl::inner_product_backward_weights::desc bwd_w_desc(src_md, any_diff_weights, bias_md, dst_md);
  dnnl::inner_product_backward_weights::primitive_desc bwd_w_pd(bwd_w_desc, attr, eng, fwd_pd);
  dnnl::memory user_diff_weights(plain_md(wdims), eng, store_.gradient(weight_).data());
  dnnl::memory diff_bias = has_bias_ ? dnnl::memory(bias_md, eng, store_.gradient(bias_).data()) : dnnl::memory();
  p->bind_backward(ctx_, bwd_data_pd, bwd_w_pd, user_weights, user_diff_weights, diff_bias);
  return p;
}

const tensor* linear::forward_int8(const tensor& src) {
  return int8_->forward(ctx_, src, [&] {
    const dims& in = src.shape();
    const dims out{in[0], out_features_};
    dims wdims{out_features_};
    wdims.insert(wdims.end(), in.begin() + 1, in.end());
    const auto bias_md = has_bias_ ? plain_md({out_features_}) : dnnl::memory::desc();
    using pd_t = dnnl::inner_product_forward::primitive_desc;
    const std::function<pd_t(const dnnl::primitive_attr&, dt)> make_pd = [&](const dnnl::primitive_attr& attr,
                                                                             dt src_type) {
      dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, activation_md(in, src_type),
                                             dnnl::memory::desc(to_dnnl(wdims), dt::s8, tag::any), bias_md,
                                             activation_md(out, dt::f32));
      return pd_t(desc, attr, ctx_.engine());
    };
    return make_int8_plan(ctx_, src, int8_->observed, out, plain_md(wdims), store_.parameter(weight_),
                          has_bias_ ? store_.parameter(bias_) : std::span<float>(), make_pd);
  });
}

}  // namespace murmur::nn
