// Every layer's backward against central finite differences of its f32
// forward, on random inputs. The objective is f(x) = sum(y * r) for a fixed
// random r, accumulated in double, so d f / d y = r.

#include <catch2/catch.hpp>

#include <numeric>

#include <fmt/format.h>

#include "murmur/nn/containers.hpp"
#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/evonorm.hpp"
#include "murmur/nn/linear.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;
using test::harness;

namespace {

// Error budget of a central difference on an f32 forward pass: the step, and
// |fd - analytic| <= abs + rel * max(|fd|, |analytic|).
struct fd_budget {
  double eps = 1e-2;
  double abs = 2e-3;
  double rel = 1e-2;
  int samples = 24;  // coordinates checked per tensor
};
// Layers that are linear in each coordinate (conv, linear, pooling): the
// difference is exact up to rounding, so a large step is best.
const fd_budget linear_budget{.eps = 1e-1, .abs = 1e-3, .rel = 5e-3};
// Non-linear layers (normalization): a smaller step.
const fd_budget smooth_budget{.eps = 5e-3, .abs = 3e-3, .rel = 2e-2};

double objective(const tensor& y, const tensor& r) {
  double f = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) f += static_cast<double>(y.f32()[i]) * r.f32()[i];
  return f;
}

void compare(const std::string& what, double fd, double analytic, const fd_budget& b) {
  INFO(what << ": finite difference " << fd << ", backward " << analytic);
  CHECK(std::abs(fd - analytic) <= b.abs + b.rel * std::max(std::abs(fd), std::abs(analytic)));
}

// Checks d f / d x and d f / d (every parameter) of h.layer at input x.
void check_gradients(harness& h, tensor& x, const fd_budget& b, std::uint64_t seed = 9) {
  common::rng gen(seed);
  const tensor& y0 = h.layer->forward(x, mode::train);
  const tensor r = test::random_tensor(y0.shape(), gen);
  const tensor dx = test::copy_of(h.layer->backward(r));
  const std::vector<float> grads(h.store.gradients().begin(), h.store.gradients().end());

  const auto f_at = [&] { return objective(h.layer->forward(x, mode::train), r); };
  const auto probe = [&](float& v) {
    const float saved = v;
    v = saved + static_cast<float>(b.eps);
    const double plus = f_at();
    v = saved - static_cast<float>(b.eps);
    const double minus = f_at();
    v = saved;
    return (plus - minus) / (2 * b.eps);
  };
  for (int s = 0; s < b.samples; ++s) {
    const auto i = gen.uniform_int(static_cast<std::uint64_t>(x.numel()));
    compare(fmt::format("input[{}]", i), probe(x.f32()[i]), dx.f32()[i], b);
  }
  for (std::size_t p = 0; p < h.store.parameter_entries().size(); ++p) {
    const auto& e = h.store.parameter_entries()[p];
    for (int s = 0; s < std::min<int>(b.samples, static_cast<int>(e.numel)); ++s) {
      const auto i = gen.uniform_int(e.numel);
      compare(fmt::format("{}[{}]", e.name, i), probe(h.store.parameter(p)[i]), grads[e.offset + i], b);
    }
  }
}

tensor input(const dims& d, std::uint64_t seed = 3) {
  common::rng gen(seed);
  return test::random_tensor(d, gen);
}

}  // namespace

TEST_CASE("conv2d backward matches finite differences", "[nn][gradient]") {
  SECTION("3x3, stride 1, padding 1, with bias") {
    harness h;
    h.layer = std::make_unique<conv2d>(h.env(), "conv",
                                       conv2d_options{.in_channels = 3, .out_channels = 4, .kernel = 3, .padding = 1});
    h.ready();
    auto x = input({2, 3, 5, 5});
    check_gradients(h, x, linear_budget);
  }
  SECTION("3x3, stride 2, no padding, no bias") {
    harness h;
    h.layer = std::make_unique<conv2d>(
        h.env(), "conv", conv2d_options{.in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 2, .bias = false});
    h.ready();
    auto x = input({2, 2, 7, 7});
    check_gradients(h, x, linear_budget);
  }
  SECTION("1x1, stride 2 (a ResNet shortcut), 16 channels") {
    harness h;
    h.layer = std::make_unique<conv2d>(
        h.env(), "conv",
        conv2d_options{.in_channels = 16, .out_channels = 32, .kernel = 1, .stride = 2, .bias = false});
    h.ready();
    auto x = input({2, 16, 6, 6});
    check_gradients(h, x, linear_budget);
  }
}

TEST_CASE("linear backward matches finite differences", "[nn][gradient]") {
  SECTION("2-D input") {
    harness h;
    h.layer = std::make_unique<linear>(h.env(), "fc", 7, 5);
    h.ready();
    auto x = input({3, 7});
    check_gradients(h, x, linear_budget);
  }
  SECTION("4-D input, flattened by the layer") {
    harness h;
    h.layer = std::make_unique<linear>(h.env(), "fc", 12, 4);
    h.ready();
    auto x = input({2, 3, 2, 2});
    check_gradients(h, x, linear_budget);
  }
}

TEST_CASE("relu backward matches finite differences away from the kink", "[nn][gradient]") {
  harness h;
  h.layer = std::make_unique<relu>(h.env(), "relu");
  h.ready();
  auto x = input({2, 3, 4, 4});
  // Keep every input at least 0.1 from the kink; the step is 5e-3.
  for (auto& v : x.f32_span()) v = v >= 0 ? v + 0.1f : v - 0.1f;
  check_gradients(h, x, smooth_budget);
}

TEST_CASE("pooling backward matches finite differences", "[nn][gradient]") {
  // Distinct inputs 0.05 apart, so a step of 5e-3 never changes an arg-max.
  const auto spaced = [](const dims& d) {
    tensor x(d, dtype::f32, layout::nhwc);
    std::vector<int> perm(x.numel());
    std::iota(perm.begin(), perm.end(), 0);
    common::rng gen(11);
    gen.shuffle(std::span(perm));
    for (std::int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = 0.05f * static_cast<float>(perm[i] - x.numel() / 2);
    return x;
  };
  const std::vector<std::pair<std::string, pool2d_options>> cases{
      {"max 2x2 stride 2", {.kind = pool_kind::max, .kernel = 2, .stride = 2}},
      {"max 3x3 stride 2 padding 1", {.kind = pool_kind::max, .kernel = 3, .stride = 2, .padding = 1}},
      {"average 2x2 stride 2", {.kind = pool_kind::average, .kernel = 2, .stride = 2}},
      {"global average", {.kind = pool_kind::average, .kernel = 0, .stride = 0, .global = true}},
  };
  for (const auto& [name, opt] : cases) {
    DYNAMIC_SECTION(name) {
      harness h;
      h.layer = std::make_unique<pool2d>(h.env(), "pool", opt);
      h.ready();
      auto x = spaced({2, 3, 6, 6});
      check_gradients(h, x, {.eps = 5e-3, .abs = 2e-3, .rel = 1e-2});
    }
  }
}

TEST_CASE("batch norm backward (training mode) matches finite differences", "[nn][gradient]") {
  harness h;
  h.layer = std::make_unique<batch_norm2d>(h.env(), "bn", 3);
  h.ready();
  // Non-trivial scale and shift.
  common::rng gen(5);
  for (auto& v : h.store.parameters()) v = static_cast<float>(0.5 + gen.uniform());
  auto x = input({4, 3, 3, 3});
  check_gradients(h, x, smooth_budget);
}

TEST_CASE("group norm backward matches finite differences", "[nn][gradient]") {
  harness h;
  h.layer = std::make_unique<group_norm>(h.env(), "gn", 2, 4);
  h.ready();
  common::rng gen(6);
  for (auto& v : h.store.parameters()) v = static_cast<float>(0.5 + gen.uniform());
  auto x = input({2, 4, 3, 3});
  check_gradients(h, x, smooth_budget);
}

TEST_CASE("a residual block's backward matches finite differences", "[nn][gradient]") {
  harness h;
  auto main = std::make_unique<sequential>();
  main->emplace<conv2d>(
      h.env(), "b.conv1",
      conv2d_options{.in_channels = 2, .out_channels = 4, .kernel = 3, .stride = 2, .padding = 1, .bias = false});
  main->emplace<group_norm>(h.env(), "b.bn1", 2, 4);
  auto shortcut = std::make_unique<sequential>();
  shortcut->emplace<conv2d>(
      h.env(), "b.downsample.0",
      conv2d_options{.in_channels = 2, .out_channels = 4, .kernel = 1, .stride = 2, .bias = false});
  h.layer = std::make_unique<residual_block>(h.env(), "b", std::move(main), std::move(shortcut));
  h.ready();
  auto x = input({2, 2, 6, 6});
  // The ReLU at the end has kinks; with a small step a crossing is unlikely
  // and the budget absorbs it.
  check_gradients(h, x, {.eps = 1e-3, .abs = 5e-3, .rel = 2e-2});
}

TEST_CASE("EvoNorm-S0 backward matches finite differences", "[nn][gradient]") {
  harness h;
  h.layer =
      std::make_unique<evonorm>(h.env(), "en", evonorm_options{.kind = evonorm_kind::s0, .channels = 8, .groups = 2});
  h.ready();
  common::rng gen(7);
  for (auto& v : h.store.parameters()) v = static_cast<float>(0.5 + gen.uniform());
  auto x = input({2, 8, 3, 3});
  check_gradients(h, x, smooth_budget);
}

TEST_CASE("Range-EvoNorm backward matches finite differences", "[nn][gradient]") {
  // 2 groups of 4 channels of 4x4: 64 values per group, 16 chunks of 4.
  harness h;
  h.layer = std::make_unique<evonorm>(h.env(), "ren",
                                      evonorm_options{.kind = evonorm_kind::range, .channels = 8, .groups = 2});
  h.ready();
  common::rng gen(8);
  for (auto& v : h.store.parameters()) v = static_cast<float>(0.5 + gen.uniform());
  // Inputs 0.02 apart, so a step of 5e-3 never changes which value is a
  // chunk's max or min (where the range is not differentiable).
  tensor x({2, 8, 4, 4}, dtype::f32, layout::nhwc);
  std::vector<int> perm(x.numel());
  std::iota(perm.begin(), perm.end(), 0);
  gen.shuffle(std::span(perm));
  for (std::int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = 0.02f * static_cast<float>(perm[i] - x.numel() / 2);
  check_gradients(h, x, smooth_budget);
}
