// EvoNorm-S0 and Range-EvoNorm against direct double-precision evaluations of
// ALGORITHMS.md §6.4, in PyTorch's (C, H, W) order of a sample's group.

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "fast_math.hpp"
#include "murmur/nn/evonorm.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;
using test::harness;
using test::nhwc_at;

namespace {

// f32 layer vs f64 formula, relative to the output's scale.
constexpr double evonorm_f32_tol = 2e-5;

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// The reference: Y = gamma N scale + beta, per sample and group.
std::vector<double> reference(const tensor& x, const evonorm_options& o, std::span<const float> gamma,
                              std::span<const float> beta, std::span<const float> v, std::int64_t chunks) {
  const auto& d = x.shape();
  const std::int64_t n = d[0], c = d[1], h = d[2], w = d[3], cg = c / o.groups, size = cg * h * w;
  std::vector<double> y(x.numel());
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t g = 0; g < o.groups; ++g) {
      // The group's values in (C, H, W) order.
      std::vector<double> vals;
      for (std::int64_t ch = g * cg; ch < (g + 1) * cg; ++ch)
        for (std::int64_t i = 0; i < h * w; ++i) vals.push_back(x.f32()[nhwc_at(d, s, ch, i / w, i % w)]);
      double scale;
      if (o.kind == evonorm_kind::s0) {
        double mean = 0, var = 0;
        for (double a : vals) mean += a / size;
        for (double a : vals) var += (a - mean) * (a - mean) / size;
        scale = 1 / std::sqrt(var + o.eps);
      } else {
        const std::int64_t m = size / chunks;
        double sum_max = 0, sum_min = 0;
        for (std::int64_t k = 0; k < chunks; ++k) {
          sum_max += *std::max_element(vals.begin() + k * m, vals.begin() + (k + 1) * m);
          sum_min += *std::min_element(vals.begin() + k * m, vals.begin() + (k + 1) * m);
        }
        const double r = (sum_max - sum_min) / chunks;
        const double cm =
            0.5 * 0.35 * (1 + std::sqrt(std::numbers::pi * std::log(4.0))) / std::sqrt(2 * std::log(double(m)));
        scale = 1 / (r * cm + o.eps);
      }
      for (std::int64_t ch = g * cg; ch < (g + 1) * cg; ++ch)
        for (std::int64_t i = 0; i < h * w; ++i) {
          const auto at = nhwc_at(d, s, ch, i / w, i % w);
          const double xv = x.f32()[at];
          y[at] = gamma[ch] * xv * sigmoid(v[ch] * xv) * scale + beta[ch];
        }
    }
  return y;
}

void check_against_reference(const evonorm_options& o, const dims& d, std::int64_t expected_chunks) {
  harness h;
  h.layer = std::make_unique<evonorm>(h.env(), "en", o);
  h.ready(3);
  common::rng gen(4);
  for (auto& p : h.store.parameters()) p = static_cast<float>(gen.uniform(-1.5, 1.5));
  const auto x = test::random_tensor(d, gen, 2.0);
  const auto& y = h.layer->forward(x, mode::train);
  const auto c = d[1];
  const auto ref = reference(x, o, h.store.parameter(0).first(c), h.store.parameter(1).first(c),
                             h.store.parameter(2).first(c), expected_chunks);
  double scale = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(std::abs(y.f32()[i] - ref[i]) <= evonorm_f32_tol * scale);
}

}  // namespace

TEST_CASE("EvoNorm-S0 matches its definition", "[nn][evonorm]") {
  check_against_reference({.kind = evonorm_kind::s0, .channels = 16, .groups = 8}, {2, 16, 5, 6}, 0);
}

TEST_CASE("Range-EvoNorm matches its definition with chunks in (C, H, W) order", "[nn][evonorm]") {
  // 2 channels of 8x8 per group: 128 values, 16 chunks of 8 that cross channel boundaries at 64.
  check_against_reference({.kind = evonorm_kind::range, .channels = 16, .groups = 8}, {2, 16, 8, 8}, 16);
}

TEST_CASE("Range-EvoNorm uses the largest chunk count that divides an odd-sized group", "[nn][evonorm]") {
  // ResNet-20's last stage on 28x28 inputs: 8 channels of 7x7 = 392 values per group.
  CHECK(range_chunks(392, 16) == 14);
  CHECK(range_chunks(512, 16) == 16);
  CHECK(range_chunks(7, 16) == 1);  // a prime: one chunk of all 7 values
  CHECK(range_chunks(2, 16) == 1);  // chunks keep at least 2 values
  check_against_reference({.kind = evonorm_kind::range, .channels = 64, .groups = 8}, {2, 64, 7, 7}, 14);
}

TEST_CASE("the vectorizable exp is accurate to f32 precision", "[nn][evonorm]") {
  double worst = 0;
  for (double t = -80; t <= 80; t += 0.0137) {
    const float x = static_cast<float>(t);
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(nn::detail::fast_exp(x) - want) / want);
  }
  CHECK(worst < 5e-7);
  CHECK(nn::detail::fast_exp(-1000.f) >= 0.f);
  CHECK(std::isfinite(nn::detail::fast_exp(1000.f)));
  CHECK(nn::detail::fast_sigmoid(0.f) == Approx(0.5));
}
