// Forward passes against naive double-precision references: checks the
// semantics (PyTorch's layouts, padding, flatten order, statistics), which
// a gradient check alone cannot.

#include <catch2/catch.hpp>

#include <cmath>

#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/linear.hpp"
#include "murmur/nn/loss.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;
using test::harness;
using test::nhwc_at;

namespace {

// f32 forward vs f64 naive: relative to the output's scale.
constexpr double f32_forward_tol = 1e-5;

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace

TEST_CASE("conv2d computes PyTorch's convolution (OIHW weights, zero padding)", "[nn][reference]") {
  const std::int64_t n = 2, ci = 3, co = 5, k = 3, s = 2, p = 1, hw = 7;
  harness h;
  h.layer = std::make_unique<conv2d>(
      h.env(), "c", conv2d_options{.in_channels = ci, .out_channels = co, .kernel = k, .stride = s, .padding = p});
  h.ready();
  common::rng gen(1);
  const auto x = test::random_tensor({n, ci, hw, hw}, gen);
  const auto& y = h.layer->forward(x, mode::eval);
  const auto w = h.store.parameter(0);
  const auto b = h.store.parameter(1);
  const std::int64_t ho = (hw + 2 * p - k) / s + 1;
  REQUIRE(y.shape() == dims{n, co, ho, ho});
  std::vector<double> ref, got;
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t oc = 0; oc < co; ++oc)
      for (std::int64_t oy = 0; oy < ho; ++oy)
        for (std::int64_t ox = 0; ox < ho; ++ox) {
          double acc = b[oc];
          for (std::int64_t ic = 0; ic < ci; ++ic)
            for (std::int64_t ky = 0; ky < k; ++ky)
              for (std::int64_t kx = 0; kx < k; ++kx) {
                const auto iy = oy * s - p + ky, ix = ox * s - p + kx;
                if (iy < 0 || iy >= hw || ix < 0 || ix >= hw) continue;
                acc += static_cast<double>(w[((oc * ci + ic) * k + ky) * k + kx]) *
                       x.f32()[nhwc_at(x.shape(), in, ic, iy, ix)];
              }
          ref.push_back(acc);
          got.push_back(y.f32()[nhwc_at(y.shape(), in, oc, oy, ox)]);
        }
  const double scale = max_abs(ref);
  for (std::size_t i = 0; i < ref.size(); ++i) REQUIRE(std::abs(ref[i] - got[i]) <= f32_forward_tol * scale * 10);
}

TEST_CASE("linear flattens a 4-D input in PyTorch's (C, H, W) order", "[nn][reference]") {
  const std::int64_t n = 2, c = 3, hw = 2, out = 4, in = c * hw * hw;
  harness h;
  h.layer = std::make_unique<linear>(h.env(), "fc", in, out);
  h.ready();
  common::rng gen(2);
  const auto x = test::random_tensor({n, c, hw, hw}, gen);
  const auto& y = h.layer->forward(x, mode::eval);
  REQUIRE(y.shape() == dims{n, out});
  const auto w = h.store.parameter(0);
  const auto b = h.store.parameter(1);
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t o = 0; o < out; ++o) {
      double acc = b[o];
      for (std::int64_t ch = 0; ch < c; ++ch)
        for (std::int64_t yy = 0; yy < hw; ++yy)
          for (std::int64_t xx = 0; xx < hw; ++xx)
            acc +=
                static_cast<double>(w[o * in + (ch * hw + yy) * hw + xx]) * x.f32()[nhwc_at(x.shape(), s, ch, yy, xx)];
      CHECK(y.f32()[s * out + o] == Approx(acc).epsilon(1e-5).margin(1e-5));
    }
}

TEST_CASE("max and average pooling match their definitions", "[nn][reference]") {
  common::rng gen(3);
  const dims d{1, 2, 4, 4};
  const auto x = test::random_tensor(d, gen);
  harness hm, ha;
  hm.layer = std::make_unique<pool2d>(hm.env(), "p", pool2d_options{.kind = pool_kind::max, .kernel = 2, .stride = 2});
  ha.layer =
      std::make_unique<pool2d>(ha.env(), "p", pool2d_options{.kind = pool_kind::average, .kernel = 2, .stride = 2});
  hm.ready();
  ha.ready();
  const auto& ym = hm.layer->forward(x, mode::eval);
  const auto& ya = ha.layer->forward(x, mode::eval);
  for (std::int64_t c = 0; c < 2; ++c)
    for (std::int64_t oy = 0; oy < 2; ++oy)
      for (std::int64_t ox = 0; ox < 2; ++ox) {
        double mx = -1e30, sum = 0;
        for (int ky = 0; ky < 2; ++ky)
          for (int kx = 0; kx < 2; ++kx) {
            const double v = x.f32()[nhwc_at(d, 0, c, 2 * oy + ky, 2 * ox + kx)];
            mx = std::max(mx, v);
            sum += v;
          }
        CHECK(ym.f32()[nhwc_at(ym.shape(), 0, c, oy, ox)] == Approx(mx));
        CHECK(ya.f32()[nhwc_at(ya.shape(), 0, c, oy, ox)] == Approx(sum / 4).margin(1e-6));
      }
}

TEST_CASE("batch norm normalizes with batch statistics and tracks PyTorch's running ones", "[nn][reference]") {
  const dims d{4, 2, 3, 3};
  harness h;
  h.layer = std::make_unique<batch_norm2d>(h.env(), "bn", 2);
  h.ready();
  common::rng gen(4);
  const auto x = test::random_tensor(d, gen, 2.0);
  const auto& y = h.layer->forward(x, mode::train);
  const double count = 4 * 9;
  for (std::int64_t c = 0; c < 2; ++c) {
    double sum = 0, sq = 0;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 9; ++i) sum += x.f32()[nhwc_at(d, n, c, i / 3, i % 3)];
    const double mean = sum / count;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 9; ++i) sq += std::pow(x.f32()[nhwc_at(d, n, c, i / 3, i % 3)] - mean, 2);
    const double var = sq / count;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 9; ++i) {
        const double want = (x.f32()[nhwc_at(d, n, c, i / 3, i % 3)] - mean) / std::sqrt(var + 1e-5);
        CHECK(y.f32()[nhwc_at(d, n, c, i / 3, i % 3)] == Approx(want).margin(1e-4));
      }
    // running = 0.9 * initial + 0.1 * batch, with the unbiased variance.
    CHECK(h.store.buffer(0)[c] == Approx(0.1 * mean).margin(1e-6));
    CHECK(h.store.buffer(1)[c] == Approx(0.9 + 0.1 * var * count / (count - 1)).margin(1e-5));
  }
  CHECK(h.store.counter(0) == 1);
  // Evaluation normalizes with the running statistics.
  const auto& ye = h.layer->forward(x, mode::eval);
  const double rm = h.store.buffer(0)[1], rv = h.store.buffer(1)[1];
  CHECK(ye.f32()[nhwc_at(d, 2, 1, 1, 2)] ==
        Approx((x.f32()[nhwc_at(d, 2, 1, 1, 2)] - rm) / std::sqrt(rv + 1e-5)).margin(1e-5));
}

TEST_CASE("group norm matches its definition", "[nn][reference]") {
  const dims d{2, 4, 2, 3};
  harness h;
  h.layer = std::make_unique<group_norm>(h.env(), "gn", 2, 4);
  h.ready();
  common::rng gen(5);
  const auto x = test::random_tensor(d, gen, 3.0);
  const auto& y = h.layer->forward(x, mode::train);
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t g = 0; g < 2; ++g) {
      std::vector<double> v;
      for (std::int64_t c = 2 * g; c < 2 * g + 2; ++c)
        for (std::int64_t i = 0; i < 6; ++i) v.push_back(x.f32()[nhwc_at(d, n, c, i / 3, i % 3)]);
      double mean = 0, var = 0;
      for (double a : v) mean += a / v.size();
      for (double a : v) var += (a - mean) * (a - mean) / v.size();
      for (std::int64_t c = 2 * g; c < 2 * g + 2; ++c)
        for (std::int64_t i = 0; i < 6; ++i)
          CHECK(y.f32()[nhwc_at(d, n, c, i / 3, i % 3)] ==
                Approx((x.f32()[nhwc_at(d, n, c, i / 3, i % 3)] - mean) / std::sqrt(var + 1e-5)).margin(1e-5));
    }
}

TEST_CASE("softmax cross-entropy matches a naive reference and its gradient", "[nn][reference]") {
  common::rng gen(6);
  const std::int64_t n = 5, k = 7;
  tensor logits({n, k});
  for (auto& v : logits.f32_span()) v = static_cast<float>(3 * gen.normal());
  std::vector<std::int32_t> labels{0, 3, 6, 2, 2};
  softmax_cross_entropy loss;
  const auto r = loss.compute(logits, labels);
  double ref = 0;
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    long double sum = 0;
    std::int64_t arg = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      sum += std::exp(static_cast<long double>(logits.f32()[i * k + j]));
      if (logits.f32()[i * k + j] > logits.f32()[i * k + arg]) arg = j;
    }
    ref += static_cast<double>(std::log(sum) - logits.f32()[i * k + labels[i]]) / n;
    correct += arg == labels[i];
  }
  CHECK(r.loss == Approx(ref).epsilon(1e-12));
  CHECK(r.correct == correct);
  // Gradient: central differences of the loss (computed in double).
  const tensor diff = test::copy_of(loss.diff_logits());
  for (std::int64_t i = 0; i < n * k; ++i) {
    float& v = logits.f32()[i];
    const float saved = v;
    v = saved + 1e-2f;
    const double plus = loss.compute(logits, labels, false).loss;
    v = saved - 1e-2f;
    const double minus = loss.compute(logits, labels, false).loss;
    v = saved;
    CHECK((plus - minus) / 2e-2 == Approx(diff.f32()[i]).margin(1e-4));
  }
}

TEST_CASE("a batch norm with a fused ReLU equals a batch norm followed by a ReLU", "[nn][reference]") {
  const dims d{4, 8, 5, 5};
  harness fused, plain, act;
  fused.layer = std::make_unique<batch_norm2d>(fused.env(), "bn", 8, /*relu=*/true);
  plain.layer = std::make_unique<batch_norm2d>(plain.env(), "bn", 8);
  act.layer = std::make_unique<relu>(act.env(), "relu");
  fused.ready(1);
  plain.ready(1);
  act.ready(1);
  common::rng gen(9);
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t i = 0; i < 8; ++i)
      fused.store.parameter(h)[i] = plain.store.parameter(h)[i] = static_cast<float>(gen.normal());
  const auto x = test::random_tensor(d, gen);
  const auto r = test::random_tensor(d, gen);
  for (auto m : {mode::train, mode::eval}) {
    const auto& y1 = fused.layer->forward(x, m);
    const auto& y2 = act.layer->forward(plain.layer->forward(x, m), m);
    for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(y1.f32()[i] == Approx(y2.f32()[i]).margin(1e-6));
  }
  (void)fused.layer->forward(x, mode::train);
  (void)act.layer->forward(plain.layer->forward(x, mode::train), mode::train);
  const auto& dx1 = fused.layer->backward(r);
  const auto& dx2 = plain.layer->backward(act.layer->backward(r));
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(dx1.f32()[i] == Approx(dx2.f32()[i]).margin(1e-5));
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t i = 0; i < 8; ++i)
      REQUIRE(fused.store.gradient(h)[i] == Approx(plain.store.gradient(h)[i]).margin(1e-5));
}
