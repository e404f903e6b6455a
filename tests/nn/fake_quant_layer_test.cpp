// 8-bit training (precision int8-train): a weighted layer computes with the
// quantised weights, inputs and errors the thesis code's QLinear / QConv2d
// (biprecision) use, against a naive f64 reference built from the same
// quantiser (whose own reference is tests/nn/fake_quant_test.py).

#include <catch2/catch.hpp>

#include <set>

#include "fake_quant.hpp"
#include "murmur/nn/linear.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;

namespace {

// f32 products and sums against f64: a few ulps of the largest term.
constexpr double gemm_tolerance = 1e-5;

std::vector<float> quantized(std::span<const float> x, detail::value_range r, std::span<const float> noise = {}) {
  std::vector<float> q(x.begin(), x.end());
  detail::uniform_quantize(q, r.min, r.max, 8, noise);
  return q;
}

}  // namespace

TEST_CASE("8-bit training: a linear layer uses W_q and x_q forward, the full error for dW and the 8-bit one for dx",
          "[nn][int8-train]") {
  constexpr std::int64_t batch = 6, in = 12, out = 5;
  test::harness h;
  h.ctx.set_quantized_training(true);
  h.ctx.set_quantization_seed(3);
  auto* fc = new linear(h.env(), "fc", in, out, true);
  h.layer.reset(fc);
  h.ready(2);
  const auto w = h.store.parameter(0), b = h.store.parameter(1);
  const std::vector<float> w_full(w.begin(), w.end()), b_full(b.begin(), b.end());
  common::rng gen(5);
  const auto x = test::random_tensor({batch, in}, gen);

  const tensor y = test::copy_of(fc->forward(x, mode::train));
  REQUIRE(fc->quantizer() != nullptr);
  const std::vector<float> noise_x(fc->quantizer()->input_noise().begin(), fc->quantizer()->input_noise().end());
  REQUIRE(noise_x.size() == x.f32_span().size());
  const auto xq = quantized(x.f32_span(), detail::mean_row_range(x.f32_span(), batch), noise_x);
  const auto wq = quantized(w_full, detail::full_range(w_full));
  const auto bq = quantized(b_full, detail::full_range(b_full));
  // Training keeps W_q in the store until backward.
  CHECK(std::vector<float>(w.begin(), w.end()) == wq);
  CHECK(std::set<float>(xq.begin(), xq.end()).size() <= 256);
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t o = 0; o < out; ++o) {
      double s = bq[o];
      for (std::int64_t k = 0; k < in; ++k) s += static_cast<double>(xq[n * in + k]) * wq[o * in + k];
      CHECK(y.f32_span()[n * out + o] == Approx(s).epsilon(gemm_tolerance).margin(gemm_tolerance));
    }

  const auto dy = test::random_tensor({batch, out}, gen);
  const tensor dx = test::copy_of(fc->backward(dy));
  const auto noise_e = fc->quantizer()->error_noise();
  const auto dyq = quantized(dy.f32_span(), detail::full_range(dy.f32_span()), noise_e);
  CHECK(dyq != std::vector<float>(dy.f32_span().begin(), dy.f32_span().end()));
  const auto dw = h.store.gradient(0), db = h.store.gradient(1);
  for (std::int64_t o = 0; o < out; ++o) {
    double sb = 0;
    for (std::int64_t n = 0; n < batch; ++n) sb += dy.f32_span()[n * out + o];
    CHECK(db[o] == Approx(sb).epsilon(gemm_tolerance).margin(gemm_tolerance));  // full-precision error
    for (std::int64_t k = 0; k < in; ++k) {
      double s = 0;
      for (std::int64_t n = 0; n < batch; ++n) s += static_cast<double>(dy.f32_span()[n * out + o]) * xq[n * in + k];
      CHECK(dw[o * in + k] == Approx(s).epsilon(gemm_tolerance).margin(gemm_tolerance));
    }
  }
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t k = 0; k < in; ++k) {
      double s = 0;
      for (std::int64_t o = 0; o < out; ++o) s += static_cast<double>(dyq[n * out + o]) * wq[o * in + k];
      CHECK(dx.f32_span()[n * in + k] == Approx(s).epsilon(gemm_tolerance).margin(gemm_tolerance));
    }
  // The optimizer and the gossip see the full-precision weights again.
  CHECK(std::vector<float>(w.begin(), w.end()) == w_full);
  CHECK(std::vector<float>(b.begin(), b.end()) == b_full);

  // Eval quantises with the running range (0.1 old + 0.9 new, from 0; a buffer) and restores at once.
  const auto range = h.store.buffer(0);
  CHECK(range[0] == 0.9f * static_cast<float>(detail::mean_row_range(x.f32_span(), batch).min));
  const auto r = detail::mean_row_range(x.f32_span(), batch);
  const tensor y_eval = test::copy_of(fc->forward(x, mode::eval));
  const auto xq_eval = quantized(
      x.f32_span(),
      {static_cast<float>(0.9f * static_cast<float>(r.min)), static_cast<float>(0.9f * static_cast<float>(r.max))},
      fc->quantizer()->input_noise());
  for (std::int64_t o = 0; o < out; ++o) {
    double s = bq[o];
    for (std::int64_t k = 0; k < in; ++k) s += static_cast<double>(xq_eval[k]) * wq[o * in + k];
    CHECK(y_eval.f32_span()[o] == Approx(s).epsilon(gemm_tolerance).margin(gemm_tolerance));
  }
  CHECK(std::vector<float>(w.begin(), w.end()) == w_full);
}

TEST_CASE("8-bit training is off unless the context asks for it", "[nn][int8-train]") {
  test::harness h;
  auto* fc = new linear(h.env(), "fc", 4, 3, true);
  h.layer.reset(fc);
  h.ready(1);
  CHECK(fc->quantizer() == nullptr);
}
