#include "murmur/nn/containers.hpp"

#include "dnnl_util.hpp"
#include "fake_quant.hpp"
#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"

#include <algorithm>
#include <cassert>

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
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (m == mode::int8 && x->type() == dtype::f32) {
      // conv -> batch norm [-> ReLU] runs as one int8 convolution with the
      // norm folded into its scales and bias and the ReLU as a post-op.
      auto* conv = dynamic_cast<conv2d*>(children_[i].get());
      auto* bn = i + 1 < children_.size() ? dynamic_cast<batch_norm2d*>(children_[i + 1].get()) : nullptr;
      if (conv && bn) {
        bn->inference_affine(fold_scale_, fold_shift_);
        if (std::ranges::none_of(fold_scale_, [](float s) { return s == 0.f; })) {
          const bool relu_next =
              bn->fused_relu() || (i + 2 < children_.size() && dynamic_cast<relu*>(children_[i + 2].get()));
          if (const tensor* out = conv->forward_int8(*x, fold_scale_, fold_shift_, relu_next)) {
            x = out;
            i += relu_next && !bn->fused_relu() ? 2 : 1;
            continue;
          }
        }
      }
    }
    if (i + 1 == children_.size()) last_input_ = x;
    x = &children_[i]->forward(*x, m);
  }
  return *x;
}

const tensor& sequential::backward(const tensor& diff_dst) {
  const tensor* d = &diff_dst;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) d = &(*it)->backward(*d);
  return *d;
}

const tensor& sequential::backward(const tensor& diff_dst, std::span<const float> extra) {
  auto it = children_.rbegin();
  const tensor& last = (*it)->backward(diff_dst);
  assert(last.type() == dtype::f32 && extra.size() == static_cast<std::size_t>(last.numel()));
  if (extra_diff_.shape() != last.shape()) extra_diff_ = tensor(last.shape(), dtype::f32, last.memory_layout());
  const auto src = last.f32_span();
  auto dst = extra_diff_.f32_span();
  for (std::size_t k = 0; k < dst.size(); ++k) dst[k] = src[k] + extra[k];
  const tensor* d = &extra_diff_;
  for (++it; it != children_.rend(); ++it) d = &(*it)->backward(*d);
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

void sequential::report(std::vector<std::string>& out) const {
  for (const auto& c : children_) c->report(out);
}

struct residual_block::plan {
  tensor dst, diff_sum, diff_src;
  detail::step add_relu, relu_backward, add_backward;
};

residual_block::residual_block(layer_env env, std::string name, std::unique_ptr<sequential> main,
                               std::unique_ptr<sequential> shortcut, bool relu)
    : ctx_(env.ctx),
      store_(env.store),
      name_(std::move(name)),
      main_(std::move(main)),
      shortcut_(std::move(shortcut)),
      relu_(relu) {
  if (ctx_.quantized_training()) {
    q_main_ = std::make_unique<detail::fake_quant>();
    q_short_ = std::make_unique<detail::fake_quant>();
    range_short_ = store_.add_buffer(name_ + ".acc.input_range1", {2});
    range_main_ = store_.add_buffer(name_ + ".acc.input_range2", {2});
  }
}

residual_block::~residual_block() = default;

void residual_block::init(common::rng& gen) {
  main_->init(gen);
  shortcut_->init(gen);
}

std::string residual_block::describe() const {
  std::string s = main_->describe();
  if (!shortcut_->empty()) s += "\n" + shortcut_->describe();
  return s + "\n" + name_ + (relu_ ? ": residual add + ReLU" : ": residual add") + (q_main_ ? " (8-bit inputs)" : "");
}

const tensor& residual_block::forward(const tensor& src, mode m) {
  using namespace detail;
  const dims out = output_dims(src.shape());
  auto& p = plans_.get(src, m, [&] {
    auto p = std::make_unique<plan>();
    auto& eng = ctx_.engine();
    const auto md = activation_md(out, to_dnnl(src.type()));
    p->dst = tensor(out, src.type(), layout::nhwc);
    auto attr = ctx_.attributes();
    if (relu_) {
      dnnl::post_ops relu;
      relu.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(relu);
    }
    dnnl::binary::primitive_desc add_pd(dnnl::binary::desc(dnnl::algorithm::binary_add, md, md, md), attr, eng);
    p->add_relu = step(add_pd, ctx_);
    p->add_relu.args[DNNL_ARG_SRC_0] = dnnl::memory(md, eng, nullptr);
    p->add_relu.args[DNNL_ARG_SRC_1] = dnnl::memory(md, eng, nullptr);
    p->add_relu.args[DNNL_ARG_DST] = dnnl::memory(md, eng, p->dst.raw());
    if (m != mode::train) return p;
    p->diff_src = tensor(src.shape(), src.type(), layout::nhwc);
    if (relu_) p->diff_sum = tensor(out, src.type(), layout::nhwc);
    // ReLU backward from its output: diff_sum = diff_dst * (dst > 0).
    if (relu_) {
      const auto algo = dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
      dnnl::eltwise_forward::primitive_desc hint(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, algo, md, 0.f, 0.f), ctx_.attributes(), eng);
      dnnl::eltwise_backward::primitive_desc relu_pd(dnnl::eltwise_backward::desc(algo, md, md, 0.f, 0.f),
                                                     ctx_.attributes(), eng, hint);
      p->relu_backward = step(relu_pd, ctx_);
      p->relu_backward.args[DNNL_ARG_DST] = dnnl::memory(md, eng, p->dst.raw());
      p->relu_backward.args[DNNL_ARG_DIFF_DST] = dnnl::memory(md, eng, nullptr);
      p->relu_backward.args[DNNL_ARG_DIFF_SRC] = dnnl::memory(md, eng, p->diff_sum.raw());
    }
    // The input's gradient sums both branches'.
    const auto in_md = activation_md(src.shape(), to_dnnl(src.type()));
    dnnl::binary::primitive_desc sum_pd(dnnl::binary::desc(dnnl::algorithm::binary_add, in_md, in_md, in_md),
                                        ctx_.attributes(), eng);
    p->add_backward = step(sum_pd, ctx_);
    p->add_backward.args[DNNL_ARG_SRC_0] = dnnl::memory(in_md, eng, nullptr);
    p->add_backward.args[DNNL_ARG_SRC_1] = dnnl::memory(in_md, eng, nullptr);
    p->add_backward.args[DNNL_ARG_DST] = dnnl::memory(in_md, eng, p->diff_src.raw());
    return p;
  });
  const tensor* a = &main_->forward(src, m);
  const tensor* b = shortcut_->empty() ? &src : &shortcut_->forward(src, m);
  quantized_forward_ = q_main_ && src.type() == dtype::f32;
  if (quantized_forward_) {
    q_main_->reseed(ctx_, name_ + ".acc.2");
    q_short_->reseed(ctx_, name_ + ".acc.1");
    b = &q_short_->quantize_input(*b, m == mode::train, store_.buffer(range_short_));
    a = &q_main_->quantize_input(*a, m == mode::train, store_.buffer(range_main_));
  }
  p.add_relu.bind(DNNL_ARG_SRC_0, a->raw());
  p.add_relu.bind(DNNL_ARG_SRC_1, b->raw());
  p.add_relu.run(ctx_);
  return p.dst;
}

const tensor& residual_block::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  const tensor* d_sum = &diff_dst;
  if (relu_) {
    p.relu_backward.bind(DNNL_ARG_DIFF_DST, diff_dst.raw());
    p.relu_backward.run(ctx_);
    d_sum = &p.diff_sum;
  }
  if (quantized_forward_) d_sum = &q_main_->quantize_error(*d_sum);
  const tensor& d_main = main_->backward(*d_sum);
  const tensor& d_short = shortcut_->empty() ? *d_sum : shortcut_->backward(*d_sum);
  p.add_backward.bind(DNNL_ARG_SRC_0, d_main.raw());
  p.add_backward.bind(DNNL_ARG_SRC_1, d_short.raw());
  p.add_backward.run(ctx_);
  return p.diff_src;
}

void residual_block::report(std::vector<std::string>& out) const {
  main_->report(out);
  shortcut_->report(out);
  if (const auto* p = plans_.current_or_null())
    out.push_back(
        detail::kernel_line(name_ + ".add_relu", plans_.current_type(),
                            {{"fwd", &p->add_relu}, {"relu_bwd", &p->relu_backward}, {"add_bwd", &p->add_backward}}));
}

}  // namespace murmur::nn
