#include "murmur/nn/simple_layers.hpp"

#include "dnnl_util.hpp"

namespace murmur::nn {

using namespace detail;

// -- ReLU ---------------------------------------------------------------------

struct relu::plan {
  tensor dst, diff_src;
  step fwd, bwd;
};

relu::relu(layer_env env, std::string name) : ctx_(env.ctx), name_(std::move(name)) {}
relu::~relu() = default;

const tensor& relu::forward(const tensor& src, mode m) {
  auto& p = plans_.get(src, m, [&] {
    auto p = std::make_unique<plan>();
    const auto md = activation_md(src.shape(), to_dnnl(src.type()));
    auto& eng = ctx_.engine();
    auto attr = ctx_.attributes();
    p->dst = tensor(src.shape(), src.type(), src.memory_layout());
    const auto prop = m == mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::eltwise_forward::desc fwd_desc(prop, dnnl::algorithm::eltwise_relu, md, 0.f, 0.f);
    dnnl::eltwise_forward::primitive_desc fwd_pd(fwd_desc, attr, eng);
    p->fwd = step(fwd_pd, ctx_);
    p->fwd.args[DNNL_ARG_SRC] = dnnl::memory(md, eng, nullptr);
    p->fwd.args[DNNL_ARG_DST] = dnnl::memory(md, eng, p->dst.raw());
    if (m == mode::train) {
      p->diff_src = tensor(src.shape(), src.type(), src.memory_layout());
      dnnl::eltwise_backward::desc bwd_desc(dnnl::algorithm::eltwise_relu, md, md, 0.f, 0.f);
      dnnl::eltwise_backward::primitive_desc bwd_pd(bwd_desc, attr, eng, fwd_pd);
      p->bwd = step(bwd_pd, ctx_);
      p->bwd.args[DNNL_ARG_SRC] = dnnl::memory(md, eng, nullptr);
      p->bwd.args[DNNL_ARG_DIFF_DST] = dnnl::memory(md, eng, nullptr);
      p->bwd.args[DNNL_ARG_DIFF_SRC] = dnnl::memory(md, eng, p->diff_src.raw());
    }
    return p;
  });
  src_ = &src;
  p.fwd.bind(DNNL_ARG_SRC, src.raw());
  p.fwd.run(ctx_);
  return p.dst;
}

const tensor& relu::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  p.bwd.bind(DNNL_ARG_SRC, src_->raw());
  p.bwd.bind(DNNL_ARG_DIFF_DST, diff_dst.raw());
  p.bwd.run(ctx_);
  return p.diff_src;
}

void relu::report(std::vector<std::string>& out) const {
  if (const auto* p = plans_.current_or_null())
    out.push_back(kernel_line(name_, plans_.current_type(), {{"fwd", &p->fwd}, {"bwd", &p->bwd}}));
}

// -- pooling --------------------------------------------------------------------

struct pool2d::plan {
  tensor dst, diff_src;
  common::aligned_buffer<std::byte> workspace;
  step fwd, bwd;
};

pool2d::pool2d(layer_env env, std::string name, pool2d_options opt)
    : ctx_(env.ctx), name_(std::move(name)), opt_(opt) {}
pool2d::~pool2d() = default;

dims pool2d::output_dims(const dims& in) const {
  if (opt_.global) return {in[0], in[1], 1, 1};
  const auto out = [&](std::int64_t x) { return (x + 2 * opt_.padding - opt_.kernel) / opt_.stride + 1; };
  return {in[0], in[1], out(in[2]), out(in[3])};
}

std::string pool2d::describe() const {
  if (opt_.global) return name_ + ": AdaptiveAvgPool2d(1)";
  return name_ + (opt_.kind == pool_kind::max ? ": MaxPool2d(" : ": AvgPool2d(") + std::to_string(opt_.kernel) +
         ", stride=" + std::to_string(opt_.stride) + ", padding=" + std::to_string(opt_.padding) + ")";
}

std::unique_ptr<pool2d::plan> pool2d::make_plan(const tensor& src, mode m) {
  auto p = std::make_unique<plan>();
  const dims& in = src.shape();
  const dims out = output_dims(in);
  const auto type = to_dnnl(src.type());
  p->dst = tensor(out, src.type(), layout::nhwc);
  const auto src_md = activation_md(in, type);
  const auto dst_md = activation_md(out, type);
  const dnnl::memory::dims kernel =
      opt_.global ? dnnl::memory::dims{in[2], in[3]} : dnnl::memory::dims{opt_.kernel, opt_.kernel};
  const dnnl::memory::dims strides = opt_.global ? kernel : dnnl::memory::dims{opt_.stride, opt_.stride};
  const dnnl::memory::dims padding{opt_.global ? 0 : opt_.padding, opt_.global ? 0 : opt_.padding};
  // PyTorch's AvgPool2d counts the padding (count_include_pad=True).
  const auto algo =
      opt_.kind == pool_kind::max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_include_padding;
  auto& eng = ctx_.engine();
  auto attr = ctx_.attributes();
  const auto prop = m == mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dnnl::pooling_forward::desc fwd_desc(prop, algo, src_md, dst_md, strides, kernel, padding, padding);
  dnnl::pooling_forward::primitive_desc fwd_pd(fwd_desc, attr, eng);
  p->fwd = step(fwd_pd, ctx_);
  p->fwd.args[DNNL_ARG_SRC] = dnnl::memory(src_md, eng, nullptr);
  p->fwd.args[DNNL_ARG_DST] = dnnl::memory(dst_md, eng, p->dst.raw());
  if (m != mode::train) return p;

  // Max pooling remembers where each maximum came from, for backward.
  dnnl::memory workspace;
  if (fwd_pd.workspace_desc().get_size() > 0) {
    p->workspace = common::aligned_buffer<std::byte>(fwd_pd.workspace_desc().get_size());
    workspace = dnnl::memory(fwd_pd.workspace_desc(), eng, p->workspace.data());
    p->fwd.args[DNNL_ARG_WORKSPACE] = workspace;
  }
  p->diff_src = tensor(in, src.type(), layout::nhwc);
  dnnl::pooling_backward::desc bwd_desc(algo, src_md, dst_md, strides, kernel, padding, padding);
  dnnl::pooling_backward::primitive_desc bwd_pd(bwd_desc, attr, eng, fwd_pd);
  p->bwd = step(bwd_pd, ctx_);
  p->bwd.args[DNNL_ARG_DIFF_DST] = dnnl::memory(dst_md, eng, nullptr);
  p->bwd.args[DNNL_ARG_DIFF_SRC] = dnnl::memory(src_md, eng, p->diff_src.raw());
  if (workspace) p->bwd.args[DNNL_ARG_WORKSPACE] = workspace;
  return p;
}

const tensor& pool2d::forward(const tensor& src, mode m) {
  auto& p = plans_.get(src, m, [&] { return make_plan(src, m); });
  p.fwd.bind(DNNL_ARG_SRC, src.raw());
  p.fwd.run(ctx_);
  return p.dst;
}

const tensor& pool2d::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  p.bwd.bind(DNNL_ARG_DIFF_DST, diff_dst.raw());
  p.bwd.run(ctx_);
  return p.diff_src;
}

void pool2d::report(std::vector<std::string>& out) const {
  if (const auto* p = plans_.current_or_null())
    out.push_back(kernel_line(name_, plans_.current_type(), {{"fwd", &p->fwd}, {"bwd", &p->bwd}}));
}

}  // namespace murmur::nn
