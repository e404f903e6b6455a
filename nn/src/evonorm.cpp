#include "murmur/nn/evonorm.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

#include "elementwise.hpp"
#include "evonorm_8bit.hpp"
#include "fast_math.hpp"
#include "range_stats.hpp"

namespace murmur::nn {

using detail::chunk_ranges;
using detail::group_moments;
using detail::range_constant;
using detail::sample_shape;
using detail::with_elements;

std::int64_t range_chunks(std::int64_t group_size, std::int64_t chunks) {
  // Chunks of at least 2 values, as many as allowed, dividing the group exactly.
  std::int64_t k = std::min(chunks, group_size / 2);
  while (k > 1 && group_size % k != 0) --k;
  return std::max<std::int64_t>(k, 1);
}

struct evonorm::plan {
  tensor dst, diff_src;
  std::vector<float> scale;                    // per (sample, group): 1/sigma or s
  std::vector<float> mean;                     // S0: per (sample, group)
  std::vector<std::int64_t> arg_max, arg_min;  // Range: per (sample, group, chunk), index j
  std::int64_t chunks = 0;
};

evonorm::evonorm(layer_env env, std::string name, evonorm_options opt)
    : ctx_(env.ctx), store_(env.store), name_(std::move(name)), opt_(opt) {
  assert(opt_.channels % opt_.groups == 0);
  const dims shape{1, opt_.channels, 1, 1};
  weight_ = store_.add_parameter(name_ + ".weight", shape);
  bias_ = store_.add_parameter(name_ + ".bias", shape);
  v_ = store_.add_parameter(name_ + ".v", shape);
  if (ctx_.quantized_training()) {
    q8_ = std::make_unique<detail::evonorm_8bit>(opt_.kind == evonorm_kind::range, opt_.groups, opt_.chunks, opt_.eps);
    input_range_ = store_.add_buffer(name_ + ".input_range", {2});
  }
}

evonorm::~evonorm() = default;

void evonorm::init(common::rng& gen) {
  // As the reference code: EvoNorm-S0 gamma = 1; Range-EvoNorm gamma ~ U(0, 1)
  // (RangeEN_full's reset), but 1 in 8-bit training (init_modelq fills the
  // quantised models' RangeEN weights with 1).
  if (opt_.kind == evonorm_kind::range && !q8_)
    for (auto& w : store_.parameter(weight_)) w = static_cast<float>(gen.uniform());
  else
    std::ranges::fill(store_.parameter(weight_), 1.f);
  std::ranges::fill(store_.parameter(bias_), 0.f);
  std::ranges::fill(store_.parameter(v_), 1.f);
}

std::string evonorm::describe() const {
  std::string s = name_ + (opt_.kind == evonorm_kind::s0 ? ": EvoNormS0(" : ": RangeEvoNorm(") +
                  std::to_string(opt_.channels) + ", groups=" + std::to_string(opt_.groups);
  if (opt_.kind == evonorm_kind::range) {
    s += ", chunks=" + std::to_string(opt_.chunks);
    if (last_chunks_ && last_chunks_ != opt_.chunks) s += " (" + std::to_string(last_chunks_) + " used)";
  }
  if (q8_) s += opt_.kind == evonorm_kind::range ? ", 8-bit, hard sigmoid" : ", 8-bit";
  return s + ")";
}

void evonorm::report(std::vector<std::string>& out) const {
  if (q8_forward_) {
    out.push_back(name_ + ": f32 fwd=bwd=murmur:omp (8-bit fake-quantised)");
    return;
  }
  if (plans_.current_or_null()) out.push_back(name_ + ": " + to_string(plans_.current_type()) + " fwd=bwd=murmur:omp");
}

const tensor& evonorm::forward(const tensor& src, mode m) {
  q8_forward_ = q8_ && src.type() == dtype::f32;
  if (q8_forward_) {
    ctx_.enter();
    q8_->quantizer().reseed(ctx_, name_);
    const tensor& y = q8_->forward(src, m == mode::train, store_.buffer(input_range_), store_.parameter(weight_),
                                   store_.parameter(bias_), store_.parameter(v_));
    last_chunks_ = q8_->chunks_used();
    return y;
  }
  const std::int64_t n = src.dim(0), groups = opt_.groups;
  const sample_shape sh{src.dim(2) * src.dim(3), opt_.channels, groups, opt_.channels / groups};
  auto& p = plans_.get(src, m, [&] {
    auto p = std::make_unique<plan>();
    p->dst = tensor(src.shape(), src.type(), layout::nhwc);
    if (m == mode::train) p->diff_src = tensor(src.shape(), src.type(), layout::nhwc);
    p->scale.resize(n * groups);
    p->mean.resize(n * groups);
    if (opt_.kind == evonorm_kind::range) {
      p->chunks = range_chunks(sh.size(), opt_.chunks);
      p->arg_max.resize(n * groups * p->chunks);
      p->arg_min.resize(n * groups * p->chunks);
    }
    return p;
  });
  last_chunks_ = p.chunks;
  src_ = &src;
  ctx_.enter();
  const float* gamma = store_.parameter(weight_).data();
  const float* beta = store_.parameter(bias_).data();
  const float* v = store_.parameter(v_).data();
  const bool range = opt_.kind == evonorm_kind::range;
  const double constant = range ? range_constant(sh.size() / p.chunks) : 0.0;
  with_elements(p.dst, [&](auto* y) {
    using T = std::remove_pointer_t<decltype(y)>;
#pragma omp parallel for schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      const T* xs = static_cast<const T*>(src.raw()) + s * sh.hw * sh.c;
      T* ys = y + s * sh.hw * sh.c;
      float* scale = p.scale.data() + s * groups;
      if (range) {
        std::vector<float> r(groups);
        chunk_ranges(xs, sh, p.chunks, r.data(), p.arg_max.data() + s * groups * p.chunks,
                     p.arg_min.data() + s * groups * p.chunks);
        for (std::int64_t g = 0; g < groups; ++g) scale[g] = static_cast<float>(1.0 / (r[g] * constant + opt_.eps));
      } else {
        group_moments(xs, sh, opt_.eps, p.mean.data() + s * groups, scale);
      }
      // y = gamma x sigmoid(v x) scale + beta, with gamma * scale folded per channel.
      std::vector<float> a(sh.c);
      for (std::int64_t ch = 0; ch < sh.c; ++ch) a[ch] = gamma[ch] * scale[ch / sh.cg];
      for (std::int64_t pos = 0; pos < sh.hw; ++pos) {
        const T* xp = xs + pos * sh.c;
        T* yp = ys + pos * sh.c;
#pragma omp simd
        for (std::int64_t ch = 0; ch < sh.c; ++ch) {
          const float xv = to_f32(xp[ch]);
          yp[ch] = from_f32<T>(a[ch] * xv * detail::fast_sigmoid(v[ch] * xv) + beta[ch]);
        }
      }
    }
  });
  return p.dst;
}

const tensor& evonorm::backward(const tensor& diff_dst) {
  ctx_.enter();
  if (q8_forward_)
    return q8_->backward(diff_dst, store_.gradient(weight_), store_.gradient(bias_), store_.gradient(v_));
  auto& p = plans_.current();
  const std::int64_t n = src_->dim(0), groups = opt_.groups, c = opt_.channels;
  const sample_shape sh{src_->dim(2) * src_->dim(3), c, groups, c / groups};
  const float* gamma = store_.parameter(weight_).data();
  const float* v = store_.parameter(v_).data();
  const bool range = opt_.kind == evonorm_kind::range;
  const double constant = range ? range_constant(sh.size() / p.chunks) : 0.0;
  // Per-sample sums for the parameter gradients: [sample][d gamma, d beta, d v][channel].
  std::vector<double> partial(3 * c * n, 0.0);
  with_elements(p.diff_src, [&](auto* dx) {
    using T = std::remove_pointer_t<decltype(dx)>;
#pragma omp parallel for schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      const T* xs = static_cast<const T*>(src_->raw()) + s * sh.hw * c;
      const T* dys = static_cast<const T*>(diff_dst.raw()) + s * sh.hw * c;
      T* dxs = dx + s * sh.hw * c;
      const float* scale = p.scale.data() + s * groups;
      std::vector<float> a(c), sum_dy_n(c, 0.f), sum_dy(c, 0.f), sum_dv(c, 0.f);
      for (std::int64_t ch = 0; ch < c; ++ch) a[ch] = gamma[ch] * scale[ch / sh.cg];
      // The path through N = x sigmoid(v x), and the sums the rest needs.
      for (std::int64_t pos = 0; pos < sh.hw; ++pos) {
        const T* xp = xs + pos * c;
        const T* dyp = dys + pos * c;
        T* dxp = dxs + pos * c;
#pragma omp simd
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const float xv = to_f32(xp[ch]), dyv = to_f32(dyp[ch]);
          const float sig = detail::fast_sigmoid(v[ch] * xv), dsig = sig * (1.f - sig);
          sum_dy_n[ch] += dyv * xv * sig;
          sum_dy[ch] += dyv;
          sum_dv[ch] += dyv * xv * xv * dsig;
          dxp[ch] = from_f32<T>(dyv * a[ch] * (sig + xv * v[ch] * dsig));
        }
      }
      double* pg = partial.data() + 3 * c * s;
      std::vector<double> d_scale(groups, 0.0);
      for (std::int64_t ch = 0; ch < c; ++ch) {
        const float sc = scale[ch / sh.cg];
        pg[ch] = static_cast<double>(sum_dy_n[ch]) * sc;
        pg[c + ch] = sum_dy[ch];
        pg[2 * c + ch] = static_cast<double>(sum_dv[ch]) * gamma[ch] * sc;
        d_scale[ch / sh.cg] += static_cast<double>(sum_dy_n[ch]) * gamma[ch];
      }
      if (range) {
        // s = 1 / (r C + eps): ds/dr = -s^2 C; r moves with each chunk's max and min.
        const std::int64_t k_count = p.chunks;
        for (std::int64_t g = 0; g < groups; ++g) {
          const double d_r = -d_scale[g] * static_cast<double>(scale[g]) * scale[g] * constant;
          const float step = static_cast<float>(d_r / static_cast<double>(k_count));
          for (std::int64_t k = 0; k < k_count; ++k) {
            const std::int64_t jmax = p.arg_max[(s * groups + g) * k_count + k];
            const std::int64_t jmin = p.arg_min[(s * groups + g) * k_count + k];
            T& at_max = dxs[(jmax % sh.hw) * c + g * sh.cg + jmax / sh.hw];
            T& at_min = dxs[(jmin % sh.hw) * c + g * sh.cg + jmin / sh.hw];
            at_max = from_f32<T>(to_f32(at_max) + step);
            at_min = from_f32<T>(to_f32(at_min) - step);
          }
        }
      } else {
        // scale = (var + eps)^-1/2: d scale / d x_j = -scale^3 (x_j - mean) / S.
        std::vector<float> coeff(c), mean(c);
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const std::int64_t g = ch / sh.cg;
          coeff[ch] = static_cast<float>(-d_scale[g] * std::pow(static_cast<double>(scale[g]), 3) /
                                         static_cast<double>(sh.size()));
          mean[ch] = p.mean[s * groups + g];
        }
        for (std::int64_t pos = 0; pos < sh.hw; ++pos) {
          const T* xp = xs + pos * c;
          T* dxp = dxs + pos * c;
#pragma omp simd
          for (std::int64_t ch = 0; ch < c; ++ch)
            dxp[ch] = from_f32<T>(to_f32(dxp[ch]) + coeff[ch] * (to_f32(xp[ch]) - mean[ch]));
        }
      }
    }
  });
  detail::sum_sample_partials(partial, n, c, store_.gradient(weight_), store_.gradient(bias_), store_.gradient(v_));
  return p.diff_src;
}

}  // namespace murmur::nn
