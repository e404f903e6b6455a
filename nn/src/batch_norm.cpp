#include <algorithm>
#include <cmath>

#include "dnnl_util.hpp"
#include "murmur/nn/normalization.hpp"

namespace murmur::nn {

using namespace detail;

struct batch_norm2d::plan {
  tensor dst, diff_src, mean, variance;
  common::aligned_buffer<std::byte> workspace;  // where the fused ReLU passed, for backward
  step fwd, bwd;
};

batch_norm2d::batch_norm2d(layer_env env, std::string name, std::int64_t channels, bool relu, float eps, float momentum)
    : ctx_(env.ctx),
      store_(env.store),
      name_(std::move(name)),
      channels_(channels),
      relu_(relu),
      eps_(eps),
      momentum_(momentum) {
  weight_ = store_.add_parameter(name_ + ".weight", {channels});
  bias_ = store_.add_parameter(name_ + ".bias", {channels});
  running_mean_ = store_.add_buffer(name_ + ".running_mean", {channels});
  running_var_ = store_.add_buffer(name_ + ".running_var", {channels});
  batches_tracked_ = store_.add_counter(name_ + ".num_batches_tracked");
}

batch_norm2d::~batch_norm2d() = default;

void batch_norm2d::init(common::rng&) {
  std::ranges::fill(store_.parameter(weight_), 1.f);
  std::ranges::fill(store_.parameter(bias_), 0.f);
  std::ranges::fill(store_.buffer(running_mean_), 0.f);
  std::ranges::fill(store_.buffer(running_var_), 1.f);
  store_.counter(batches_tracked_) = 0;
}

std::string batch_norm2d::describe() const {
  return name_ + ": BatchNorm2d(" + std::to_string(channels_) + (relu_ ? ") + ReLU" : ")");
}

std::unique_ptr<batch_norm2d::plan> batch_norm2d::make_plan(const tensor& src, mode m) {
  auto p = std::make_unique<plan>();
  const dims& in = src.shape();
  p->dst = tensor(in, src.type(), layout::nhwc);
  // Data in the activations' type; scale, shift and statistics in f32.
  const auto md = activation_md(in, to_dnnl(src.type()));
  const auto stat_md = plain_md({channels_});
  auto& eng = ctx_.engine();
  auto attr = ctx_.attributes();
  auto affine = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  if (relu_) affine = affine | dnnl::normalization_flags::fuse_norm_relu;
  dnnl::memory scale(stat_md, eng, store_.parameter(weight_).data());
  dnnl::memory shift(stat_md, eng, store_.parameter(bias_).data());

  if (m != mode::train) {
    // Inference normalizes with the running statistics.
    dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, md, eps_,
                                                 affine | dnnl::normalization_flags::use_global_stats);
    dnnl::batch_normalization_forward::primitive_desc pd(desc, attr, eng);
    p->fwd = step(pd, ctx_);
    p->fwd.args[DNNL_ARG_MEAN] = dnnl::memory(stat_md, eng, store_.buffer(running_mean_).data());
    p->fwd.args[DNNL_ARG_VARIANCE] = dnnl::memory(stat_md, eng, store_.buffer(running_var_).data());
  } else {
    // Training normalizes with the batch's statistics and keeps them for backward.
    p->mean = tensor({channels_});
    p->variance = tensor({channels_});
    p->diff_src = tensor(in, src.type(), layout::nhwc);
    dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_training, md, eps_, affine);
    dnnl::batch_normalization_forward::primitive_desc pd(desc, attr, eng);
    p->fwd = step(pd, ctx_);
    dnnl::memory mean(stat_md, eng, p->mean.raw()), variance(stat_md, eng, p->variance.raw());
    p->fwd.args[DNNL_ARG_MEAN] = mean;
    p->fwd.args[DNNL_ARG_VARIANCE] = variance;
    dnnl::memory workspace;
    if (pd.workspace_desc().get_size() > 0) {
      p->workspace = common::aligned_buffer<std::byte>(pd.workspace_desc().get_size());
      workspace = dnnl::memory(pd.workspace_desc(), eng, p->workspace.data());
      p->fwd.args[DNNL_ARG_WORKSPACE] = workspace;
    }

    dnnl::batch_normalization_backward::desc bwd_desc(dnnl::prop_kind::backward, md, md, eps_, affine);
    dnnl::batch_normalization_backward::primitive_desc bwd_pd(bwd_desc, attr, eng, pd);
    p->bwd = step(bwd_pd, ctx_);
    p->bwd.args[DNNL_ARG_SRC] = dnnl::memory(md, eng, nullptr);
    p->bwd.args[DNNL_ARG_DIFF_DST] = dnnl::memory(md, eng, nullptr);
    p->bwd.args[DNNL_ARG_MEAN] = mean;
    p->bwd.args[DNNL_ARG_VARIANCE] = variance;
    p->bwd.args[DNNL_ARG_SCALE] = scale;
    p->bwd.args[DNNL_ARG_SHIFT] = shift;
    p->bwd.args[DNNL_ARG_DIFF_SRC] = dnnl::memory(md, eng, p->diff_src.raw());
    p->bwd.args[DNNL_ARG_DIFF_SCALE] = dnnl::memory(stat_md, eng, store_.gradient(weight_).data());
    p->bwd.args[DNNL_ARG_DIFF_SHIFT] = dnnl::memory(stat_md, eng, store_.gradient(bias_).data());
    if (workspace) p->bwd.args[DNNL_ARG_WORKSPACE] = workspace;
  }
  p->fwd.args[DNNL_ARG_SRC] = dnnl::memory(md, eng, nullptr);
  p->fwd.args[DNNL_ARG_DST] = dnnl::memory(md, eng, p->dst.raw());
  p->fwd.args[DNNL_ARG_SCALE] = scale;
  p->fwd.args[DNNL_ARG_SHIFT] = shift;
  return p;
}

void batch_norm2d::update_running_stats(plan& p, std::int64_t count) {
  // PyTorch: running = (1 - momentum) running + momentum batch, with the
  // unbiased variance of the batch.
  const float unbias = count > 1 ? static_cast<float>(count) / static_cast<float>(count - 1) : 1.f;
  auto rm = store_.buffer(running_mean_);
  auto rv = store_.buffer(running_var_);
  const float* mean = p.mean.f32();
  const float* var = p.variance.f32();
  for (std::int64_t c = 0; c < channels_; ++c) {
    rm[c] = (1.f - momentum_) * rm[c] + momentum_ * mean[c];
    rv[c] = (1.f - momentum_) * rv[c] + momentum_ * var[c] * unbias;
  }
  ++store_.counter(batches_tracked_);
}

void batch_norm2d::inference_affine(std::vector<float>& scale, std::vector<float>& shift) {
  const auto gamma = store_.parameter(weight_), beta = store_.parameter(bias_);
  const auto mean = store_.buffer(running_mean_), var = store_.buffer(running_var_);
  scale.resize(channels_);
  shift.resize(channels_);
  for (std::int64_t c = 0; c < channels_; ++c) {
    scale[c] = gamma[c] / std::sqrt(var[c] + eps_);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
}

const tensor& batch_norm2d::forward(const tensor& src, mode m) {
  auto& p = plans_.get(src, m, [&] { return make_plan(src, m); });
  src_ = &src;
  p.fwd.bind(DNNL_ARG_SRC, src.raw());
  p.fwd.run(ctx_);
  if (m == mode::train) update_running_stats(p, src.dim(0) * src.dim(2) * src.dim(3));
  return p.dst;
}

const tensor& batch_norm2d::backward(const tensor& diff_dst) {
  auto& p = plans_.current();
  p.bwd.bind(DNNL_ARG_SRC, src_->raw());
  p.bwd.bind(DNNL_ARG_DIFF_DST, diff_dst.raw());
  p.bwd.run(ctx_);
  return p.diff_src;
}

void batch_norm2d::report(std::vector<std::string>& out) const {
  if (const auto* p = plans_.current_or_null())
    out.push_back(detail::kernel_line(name_, plans_.current_type(), {{"fwd", &p->fwd}, {"bwd", &p->bwd}}));
}

}  // namespace murmur::nn
