#include <algorithm>
#include <cmath>

#include "fake_quant.hpp"
#include "murmur/nn/evonorm.hpp"
#include "murmur/nn/normalization.hpp"
#include "range_stats.hpp"

namespace murmur::nn {

using namespace detail;

// What a training forward leaves for backward.
struct range_batch_norm2d::state {
  const tensor* xq = nullptr;
  tensor dst, diff_src;
  std::vector<float> mean, scale, scale_q, gamma_q, beta_q;
  std::vector<std::int64_t> arg_max, arg_min;  // per (chunk, channel): the row of the chunk's max, min
  std::int64_t chunks = 0;
  double constant = 0;
};

range_batch_norm2d::range_batch_norm2d(layer_env env, std::string name, std::int64_t channels, float eps)
    : ctx_(env.ctx),
      store_(env.store),
      name_(std::move(name)),
      channels_(channels),
      eps_(eps),
      quant_(std::make_unique<fake_quant>()),
      st_(std::make_unique<state>()) {
  weight_ = store_.add_parameter(name_ + ".weight", {channels});
  bias_ = store_.add_parameter(name_ + ".bias", {channels});
  running_mean_ = store_.add_buffer(name_ + ".running_mean", {channels});
  running_var_ = store_.add_buffer(name_ + ".running_var", {channels});
  input_range_ = store_.add_buffer(name_ + ".input_range", {2});
}

range_batch_norm2d::~range_batch_norm2d() = default;

void range_batch_norm2d::init(common::rng&) {
  std::ranges::fill(store_.parameter(weight_), 1.f);
  std::ranges::fill(store_.parameter(bias_), 0.f);
  std::ranges::fill(store_.buffer(running_mean_), 0.f);
  std::ranges::fill(store_.buffer(running_var_), 0.f);
}

std::string range_batch_norm2d::describe() const {
  std::string s = name_ + ": RangeBatchNorm2d(" + std::to_string(channels_) + ", chunks=" + std::to_string(chunks);
  if (st_->chunks && st_->chunks != chunks) s += " (" + std::to_string(st_->chunks) + " used)";
  return s + ", 8-bit)";
}

void range_batch_norm2d::report(std::vector<std::string>& out) const {
  if (st_->xq) out.push_back(name_ + ": f32 fwd=bwd=murmur:omp (8-bit fake-quantised)");
}

const tensor& range_batch_norm2d::forward(const tensor& src, mode m) {
  ctx_.enter();
  quant_->reseed(ctx_, name_);
  auto& st = *st_;
  const bool training = m == mode::train;
  const std::int64_t c = channels_, rows = src.dim(0) * src.dim(2) * src.dim(3);
  const tensor& xq = quant_->quantize_input(src, training, store_.buffer(input_range_));
  st.xq = &xq;
  const float* x = xq.f32_span().data();
  auto running_mean = store_.buffer(running_mean_), running_var = store_.buffer(running_var_);
  const bool never_trained = std::ranges::all_of(running_var, [](float v) { return v == 0.f; });
  st.mean.assign(c, 0.f);
  st.scale.assign(c, 0.f);
  if (training || never_trained) {
    // NHWC rows are the (N, H, W) order of the code's x.transpose(0, 1).view(C, K, -1).
    st.chunks = range_chunks(rows, chunks);
    const std::int64_t k_count = st.chunks, m_rows = rows / k_count;
    st.constant = range_constant(m_rows);
    st.arg_max.assign(k_count * c, 0);
    st.arg_min.assign(k_count * c, 0);
    std::vector<double> sums(k_count * c, 0.0), maxima(k_count * c), minima(k_count * c);
#pragma omp parallel for schedule(static)
    for (std::int64_t k = 0; k < k_count; ++k) {
      double* sum = sums.data() + k * c;
      std::int64_t* amax = st.arg_max.data() + k * c;
      std::int64_t* amin = st.arg_min.data() + k * c;
      for (std::int64_t ch = 0; ch < c; ++ch) amax[ch] = amin[ch] = k * m_rows;
      for (std::int64_t r = k * m_rows; r < (k + 1) * m_rows; ++r)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const float v = x[r * c + ch];
          sum[ch] += v;
          if (v > x[amax[ch] * c + ch]) amax[ch] = r;
          if (v < x[amin[ch] * c + ch]) amin[ch] = r;
        }
      for (std::int64_t ch = 0; ch < c; ++ch) {
        maxima[k * c + ch] = x[amax[ch] * c + ch];
        minima[k * c + ch] = x[amin[ch] * c + ch];
      }
    }
    for (std::int64_t ch = 0; ch < c; ++ch) {
      double total = 0, mx = 0, mn = 0;
      for (std::int64_t k = 0; k < k_count; ++k) {
        total += sums[k * c + ch];
        mx += maxima[k * c + ch];
        mn += minima[k * c + ch];
      }
      const double kd = static_cast<double>(k_count);
      st.mean[ch] = static_cast<float>(total / static_cast<double>(rows));
      st.scale[ch] = static_cast<float>(1.0 / ((mx / kd - mn / kd) * st.constant + eps_));
    }
    if (training)
      for (std::int64_t ch = 0; ch < c; ++ch) {
        running_mean[ch] = running_mean[ch] * momentum + st.mean[ch] * (1.f - momentum);
        running_var[ch] = running_var[ch] * momentum + st.scale[ch] * (1.f - momentum);
      }
  } else {
    std::ranges::copy(running_mean, st.mean.begin());
    std::ranges::copy(running_var, st.scale.begin());
  }
  st.scale_q = quantized_on_own_range(st.scale);
  st.gamma_q = quantized_on_own_range(store_.parameter(weight_));
  st.beta_q = quantized_on_own_range(store_.parameter(bias_));
  if (st.dst.shape() != src.shape()) st.dst = tensor(src.shape(), dtype::f32, layout::nhwc);
  float* y = st.dst.f32_span().data();
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t ch = 0; ch < c; ++ch)
      y[r * c + ch] = (x[r * c + ch] - st.mean[ch]) * st.scale_q[ch] * st.gamma_q[ch] + st.beta_q[ch];
  return st.dst;
}

const tensor& range_batch_norm2d::backward(const tensor& diff_dst) {
  ctx_.enter();
  auto& st = *st_;
  const tensor& xq = *st.xq;
  const std::int64_t c = channels_, rows = xq.dim(0) * xq.dim(2) * xq.dim(3);
  const float* x = xq.f32_span().data();
  const float* dy = quant_->quantize_error(diff_dst).f32_span().data();
  if (st.diff_src.shape() != xq.shape()) st.diff_src = tensor(xq.shape(), dtype::f32, layout::nhwc);
  float* dx = st.diff_src.f32_span().data();
  // Per channel: d beta = sum dy, d gamma = sum dy (x - mean) s_q, and with
  // dt = dy gamma_q: the mean's sum dt s_q and the scale's sum dt (x - mean).
  std::vector<double> d_beta(c, 0.0), d_gamma(c, 0.0), d_mean(c, 0.0), d_scale(c, 0.0);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const double dyv = dy[r * c + ch], centred = x[r * c + ch] - st.mean[ch], dt = dyv * st.gamma_q[ch];
      d_beta[ch] += dyv;
      d_gamma[ch] += dyv * centred * st.scale_q[ch];
      d_mean[ch] += dt * st.scale_q[ch];
      d_scale[ch] += dt * centred;
    }
  std::vector<float> mean_share(c);
  for (std::int64_t ch = 0; ch < c; ++ch) mean_share[ch] = static_cast<float>(d_mean[ch] / static_cast<double>(rows));
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t ch = 0; ch < c; ++ch)
      dx[r * c + ch] = dy[r * c + ch] * st.gamma_q[ch] * st.scale_q[ch] - mean_share[ch];
  // s = 1 / (r C + eps) at the unquantised s (Q passes straight through);
  // r moves with each chunk's max and min.
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const double s = st.scale[ch];
    const auto step = static_cast<float>(-d_scale[ch] * s * s * st.constant / static_cast<double>(st.chunks));
    for (std::int64_t k = 0; k < st.chunks; ++k) {
      dx[st.arg_max[k * c + ch] * c + ch] += step;
      dx[st.arg_min[k * c + ch] * c + ch] -= step;
    }
  }
  auto g = store_.gradient(weight_), b = store_.gradient(bias_);
  for (std::int64_t ch = 0; ch < c; ++ch) {
    g[ch] = static_cast<float>(d_gamma[ch]);
    b[ch] = static_cast<float>(d_beta[ch]);
  }
  return st.diff_src;
}

}  // namespace murmur::nn
