#include "fake_quant.hpp"

#include <algorithm>
#include <cfenv>
#include <cmath>

namespace murmur::nn::detail {

void uniform_quantize(std::span<float> x, double min, double max, int bits, std::span<const float> noise) {
  const float qmin = 0.f, qmax = static_cast<float>(std::ldexp(1.0, bits) - 1.0);
  // Python floats: the scale in double, then each tensor op in f32 with the scalar cast to f32.
  const double scale_d = std::max((max - min) / (static_cast<double>(qmax) - static_cast<double>(qmin)), 1e-8);
  const auto scale = static_cast<float>(scale_d), lo = static_cast<float>(min), neg_lo = static_cast<float>(-min);
  for (std::size_t i = 0; i < x.size(); ++i) {
    float t = x[i] + neg_lo;  // add_(-min_value)
    t = t / scale;            // div_(scale)
    t = t + qmin;             // add_(qmin)
    if (!noise.empty()) t = t + noise[i];
    t = std::nearbyint(std::clamp(t, qmin, qmax));  // clamp_(qmin, qmax).round_(): half to even
    t = t - qmin;                                   // add_(-qmin)
    t = t * scale;                                  // mul_(scale)
    x[i] = t + lo;                                  // add_(min_value)
  }
}

value_range mean_row_range(std::span<const float> x, std::int64_t samples) {
  const auto per = x.size() / static_cast<std::size_t>(samples);
  double mn = 0, mx = 0;
  for (std::int64_t r = 0; r < samples; ++r) {
    const auto row = x.subspan(static_cast<std::size_t>(r) * per, per);
    const auto [a, b] = std::ranges::minmax_element(row);
    mn += *a;
    mx += *b;
  }
  // torch's f32 mean, read back as a Python float.
  return {static_cast<float>(mn / static_cast<double>(samples)), static_cast<float>(mx / static_cast<double>(samples))};
}

value_range full_range(std::span<const float> x) {
  if (x.empty()) return {};
  const auto [a, b] = std::ranges::minmax_element(x);
  return {*a, *b};
}

void quantize_on_own_range(std::span<float> x) {
  const auto r = full_range(x);
  uniform_quantize(x, r.min, r.max, fake_quant::bits);
}

std::vector<float> quantized_on_own_range(std::span<const float> x) {
  std::vector<float> q(x.begin(), x.end());
  quantize_on_own_range(q);
  return q;
}

namespace {

// uniform_(-0.5, 0.5), one value per element: two 24-bit draws from each
// 64-bit word (every value exact in f32).
void draw_noise(std::vector<float>& noise, std::size_t n, common::rng& gen) {
  noise.resize(n);
  constexpr float step = 1.f / 16777216.f;  // 2^-24
  for (std::size_t i = 0; i < n; i += 2) {
    const std::uint64_t bits = gen.next_u64();
    noise[i] = static_cast<float>(bits >> 40) * step - 0.5f;
    if (i + 1 < n) noise[i + 1] = static_cast<float>((bits >> 8) & 0xffffff) * step - 0.5f;
  }
}

tensor& like(tensor& t, const tensor& src) {
  if (t.shape() != src.shape() || t.memory_layout() != src.memory_layout())
    t = tensor(src.shape(), dtype::f32, src.memory_layout());
  return t;
}

}  // namespace

const tensor& fake_quant::quantize_input(const tensor& src, bool training, std::span<float> running) {
  auto& q = like(input_, src);
  const auto x = src.f32_span();
  std::copy(x.begin(), x.end(), q.f32_span().begin());
  value_range r{running[0], running[1]};
  if (training || (running[0] == 0.f && running[1] == 0.f)) r = mean_row_range(x, src.shape()[0]);
  if (training) {
    // running = running * momentum + value * (1 - momentum), in f32.
    const auto m = static_cast<float>(momentum), keep = static_cast<float>(1.0 - momentum);
    running[0] = running[0] * m + static_cast<float>(r.min) * keep;
    running[1] = running[1] * m + static_cast<float>(r.max) * keep;
  }
  draw_noise(input_noise_, x.size(), gen_);
  uniform_quantize(q.f32_span(), r.min, r.max, bits, input_noise_);
  return q;
}

void fake_quant::quantize_weights(std::span<float> weights, std::span<float> bias) {
  if (quantized_) return;
  weights_.assign(weights.begin(), weights.end());
  bias_.assign(bias.begin(), bias.end());
  quantize_on_own_range(weights);
  if (!bias.empty()) quantize_on_own_range(bias);
  quantized_ = true;
}

void fake_quant::restore_weights(std::span<float> weights, std::span<float> bias) {
  if (!quantized_) return;
  std::copy(weights_.begin(), weights_.end(), weights.begin());
  std::copy(bias_.begin(), bias_.end(), bias.begin());
  quantized_ = false;
}

const tensor& fake_quant::quantize_error(const tensor& diff_dst) {
  auto& q = like(error_, diff_dst);
  const auto d = diff_dst.f32_span();
  std::copy(d.begin(), d.end(), q.f32_span().begin());
  const auto r = full_range(d);
  draw_noise(error_noise_, d.size(), gen_);
  uniform_quantize(q.f32_span(), r.min, r.max, bits, error_noise_);
  return q;
}

void fake_quant::reseed(const compute_context& ctx, std::string_view name) {
  if (seeded_for_ == ctx.quantization_epoch()) return;
  seeded_for_ = ctx.quantization_epoch();
  // FNV-1a of the name: each layer its own stream.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  seed(common::rng::derive(ctx.quantization_seed(), h).next_u64());
}

}  // namespace murmur::nn::detail
