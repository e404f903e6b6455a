#include "murmur/nn/conv2d.hpp"

#include <cmath>
#include <map>

#include "dnnl_util.hpp"
#include "init.hpp"
#include "int8.hpp"

namespace murmur::nn {

using namespace detail;

conv2d::conv2d(layer_env env, std::string name, conv2d_options opt) : weighted_layer(env, std::move(name)), opt_(opt) {
  weight_ = store_.add_parameter(name_ + ".weight", {opt_.out_channels, opt_.in_channels, opt_.kernel, opt_.kernel});
  if (opt_.bias) bias_ = store_.add_parameter(name_ + ".bias", {opt_.out_channels});
  biased_ = opt_.bias;
}

dims conv2d::output_dims(const dims& in) const {
  const auto out = [&](std::int64_t x) { return (x + 2 * opt_.padding - opt_.kernel) / opt_.stride + 1; };
  return {in[0], opt_.out_channels, out(in[2]), out(in[3])};
}

void conv2d::init(common::rng& gen) {
  const auto fan_in = opt_.in_channels * opt_.kernel * opt_.kernel;
  kaiming_uniform(store_.parameter(weight_), fan_in, gen);
  if (opt_.bias) bias_uniform(store_.parameter(bias_), fan_in, gen);
}

std::string conv2d::describe() const {
  return name_ + ": Conv2d(" + std::to_string(opt_.in_channels) + ", " + std::to_string(opt_.out_channels) +
         ", kernel=" + std::to_string(opt_.kernel) + ", stride=" + std::to_string(opt_.stride) +
         ", padding=" + std::to_string(opt_.padding) + (opt_.bias ? ")" : ", bias=False)");
}

std::unique_ptr<weighted_plan> conv2d::make_plan(const tensor& src, mode m) {
  auto p = std::make_unique<weighted_plan>();
  const dims& in = src.shape();
  const dims out = output_dims(in);
  const auto type = to_dnnl(src.type());
  p->dst = tensor(out, src.type(), layout::nhwc);

  const dnnl::memory::dims strides{opt_.stride, opt_.stride};
  const dnnl::memory::dims padding{opt_.padding, opt_.padding};
  const auto src_md = activation_md(in, type);
  const auto dst_md = activation_md(out, type);
  const dims wdims{opt_.out_channels, opt_.in_channels, opt_.kernel, opt_.kernel};
  // Weights in the activations' type; weight gradients always in f32.
  const auto any_weights = dnnl::memory::desc(to_dnnl(wdims), type, tag::any);
  const auto any_diff_weights = dnnl::memory::desc(to_dnnl(wdims), dt::f32, tag::any);
  const auto bias_md = opt_.bias ? plain_md({opt_.out_channels}) : dnnl::memory::desc();
  auto& eng = ctx_.engine();
  auto attr = ctx_.attributes();

  // Forward: training keeps what backward needs; inference may use faster kernels.
  const auto prop = m == mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dnnl::convolution_forward::desc fwd_desc(prop, dnnl::algorithm::convolution_direct, src_md, any_weights, bias_md,
                                           dst_md, strides, padding, padding);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, attr, eng);

  // The arena holds OIHW; reorders bring it into the primitives' layouts.
  dnnl::memory user_weights(plain_md(wdims), eng, store_.parameter(weight_).data());
  dnnl::memory bias = opt_.bias ? dnnl::memory(bias_md, eng, store_.parameter(bias_).data()) : dnnl::memory();
  p->bind_forward(ctx_, fwd_pd, user_weights, bias);
  if (m != mode::train) return p;

  p->diff_src = tensor(in, src.type(), layout::nhwc);

  dnnl::convolution_backward_data::desc bwd_data_desc(dnnl::algorithm::convolution_direct, src_md, any_weights, dst_md,
                                                      strides, padding, padding);
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd(bwd_data_desc, attr, eng, fwd_pd);
  dnnl::convolution_backward_weights::desc bwd_w_desc(dnnl::algorithm::convolution_direct, src_md, any_diff_weights,
                                                      bias_md, dst_md, strides, padding, padding);
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd(bwd_w_desc, attr, eng, fwd_pd);
  dnnl::memory user_diff_weights(plain_md(wdims), eng, store_.gradient(weight_).data());
  dnnl::memory diff_bias = opt_.bias ? dnnl::memory(bias_md, eng, store_.gradient(bias_).data()) : dnnl::memory();
  p->bind_backward(ctx_, bwd_data_pd, bwd_w_pd, user_weights, user_diff_weights, diff_bias);
  return p;
}

const tensor* conv2d::forward_int8(const tensor& src) { return forward_int8(src, {}, {}, false); }

const tensor* conv2d::forward_int8(const tensor& src, std::span<const float> scale, std::span<const float> shift,
                                   bool relu) {
  int8_epilogue epilogue{.scale = {scale.begin(), scale.end()}, .shift = {shift.begin(), shift.end()}, .relu = relu};
  const auto build = [&] {
    const dims out = output_dims(src.shape());
    const dims wdims{opt_.out_channels, opt_.in_channels, opt_.kernel, opt_.kernel};
    const dnnl::memory::dims strides{opt_.stride, opt_.stride}, padding{opt_.padding, opt_.padding};
    // A folded batch norm brings a bias even to a convolution without one.
    const bool has_bias = opt_.bias || !scale.empty();
    const auto bias_md = has_bias ? plain_md({opt_.out_channels}) : dnnl::memory::desc();
    using pd_t = dnnl::convolution_forward::primitive_desc;
    const std::function<pd_t(const dnnl::primitive_attr&, dt)> make_pd = [&](const dnnl::primitive_attr& attr,
                                                                             dt src_type) {
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                           activation_md(src.shape(), src_type),
                                           dnnl::memory::desc(to_dnnl(wdims), dt::s8, tag::any), bias_md,
                                           activation_md(out, dt::f32), strides, padding, padding);
      return pd_t(desc, attr, ctx_.engine());
    };
    return make_int8_plan(ctx_, src, int8_->observed, out, plain_md(wdims), store_.parameter(weight_),
                          opt_.bias ? store_.parameter(bias_) : std::span<float>(), make_pd, epilogue);
  };
  return int8_->forward(ctx_, src, build, epilogue.variant());
}

}  // namespace murmur::nn
