// Every layer in bf16 against the same layer in f32: outputs, input
// gradients and weight gradients agree within a bf16 budget.

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "elementwise.hpp"
#include "murmur/nn/containers.hpp"
#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/evonorm.hpp"
#include "murmur/nn/linear.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/normalization.hpp"
#include "murmur/nn/simple_layers.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;
using test::harness;

namespace {

// bf16 keeps 8 significant bits (relative rounding 2^-9 ~ 0.2%); layers
// accumulate in f32, so whole tensors stay within a few roundings:
// ||bf16 - f32|| <= bf16_relative_l2 * ||f32||.
constexpr double bf16_relative_l2 = 2e-2;
// Chains of layers (conv -> batch norm -> add -> ReLU) round at every step,
// and batch norm's backward subtracts means (cancellation): a looser budget.
constexpr double bf16_relative_l2_chain = 8e-2;

double relative_l2(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

tensor as(dtype t, const tensor& src) {
  tensor out(src.shape(), t, src.memory_layout());
  nn::detail::convert(src, out);
  return out;
}

using layer_factory = std::function<std::unique_ptr<layer>(layer_env)>;

void compare_precisions(const layer_factory& make, const dims& in, double tol) {
  harness f, b;
  f.layer = make(f.env());
  b.layer = make(b.env());
  f.ready(5);
  b.ready(5);
  common::rng gen(6);
  // Inputs and output gradients exactly representable in bf16, so both runs
  // start from the same numbers and only the layer's own rounding differs.
  const tensor x = as(dtype::f32, as(dtype::bf16, test::random_tensor(in, gen)));
  const tensor& y32 = f.layer->forward(x, mode::train);
  const tensor r = as(dtype::f32, as(dtype::bf16, test::random_tensor(y32.shape(), gen)));
  const tensor dx32 = test::copy_of(f.layer->backward(r));
  const tensor y32_copy = test::copy_of(y32);

  const tensor x16 = as(dtype::bf16, x);
  const tensor& y16 = b.layer->forward(x16, mode::train);
  REQUIRE(y16.type() == dtype::bf16);
  const tensor r16 = as(dtype::bf16, r);
  const tensor dx16 = as(dtype::f32, b.layer->backward(r16));

  CHECK(relative_l2(as(dtype::f32, y16).f32_span(), y32_copy.f32_span()) < tol);
  CHECK(relative_l2(dx16.f32_span(), dx32.f32_span()) < tol);
  for (std::size_t p = 0; p < f.store.parameter_entries().size(); ++p) {
    INFO(f.store.parameter_entries()[p].name);
    CHECK(relative_l2(b.store.gradient(p), f.store.gradient(p)) < tol);
  }
}

}  // namespace

TEST_CASE("each layer's bf16 forward and backward match f32", "[nn][bf16]") {
  if (cpu_bf16_support() == bf16_support::none) {
    // oneDNN 2.6 has bf16 kernels only from AVX-512 on: no layer can run in
    // bf16 here, and a bf16 model must fall back to f32 with a warning.
    WARN("this CPU has no bf16 kernels (oneDNN 2.6 needs AVX-512): only the f32 fallback is checked");
    auto m = build_model({.name = "lenet5", .input = {1, 28, 28}, .precision = precision::bf16});
    REQUIRE(m.ok());
    CHECK((*m)->spec().precision == precision::f32);
    return;
  }
  const std::vector<std::tuple<std::string, layer_factory, dims>> cases{
      {"conv2d",
       [](layer_env e) {
         return std::make_unique<conv2d>(
             e, "c", conv2d_options{.in_channels = 16, .out_channels = 32, .kernel = 3, .padding = 1});
       },
       {4, 16, 8, 8}},
      {"conv2d stride 2 no bias",
       [](layer_env e) {
         return std::make_unique<conv2d>(
             e, "c",
             conv2d_options{
                 .in_channels = 16, .out_channels = 16, .kernel = 3, .stride = 2, .padding = 1, .bias = false});
       },
       {4, 16, 8, 8}},
      {"linear", [](layer_env e) { return std::make_unique<linear>(e, "fc", 64, 10); }, {8, 64}},
      {"linear on 4-D", [](layer_env e) { return std::make_unique<linear>(e, "fc", 16 * 2 * 2, 10); }, {8, 16, 2, 2}},
      {"relu", [](layer_env e) { return std::make_unique<relu>(e, "r"); }, {4, 16, 4, 4}},
      {"max pool",
       [](layer_env e) {
         return std::make_unique<pool2d>(e, "p", pool2d_options{.kind = pool_kind::max, .kernel = 2, .stride = 2});
       },
       {4, 16, 8, 8}},
      {"average pool",
       [](layer_env e) {
         return std::make_unique<pool2d>(
             e, "p", pool2d_options{.kind = pool_kind::average, .kernel = 0, .stride = 0, .global = true});
       },
       {4, 16, 8, 8}},
      {"batch norm", [](layer_env e) { return std::make_unique<batch_norm2d>(e, "bn", 16); }, {8, 16, 4, 4}},
      {"group norm", [](layer_env e) { return std::make_unique<group_norm>(e, "gn", 2, 16); }, {4, 16, 4, 4}},
      {"EvoNorm-S0",
       [](layer_env e) {
         return std::make_unique<evonorm>(e, "en",
                                          evonorm_options{.kind = evonorm_kind::s0, .channels = 16, .groups = 8});
       },
       {4, 16, 8, 8}},
      {"Range-EvoNorm",
       [](layer_env e) {
         return std::make_unique<evonorm>(e, "ren",
                                          evonorm_options{.kind = evonorm_kind::range, .channels = 16, .groups = 8});
       },
       {4, 16, 8, 8}},
      {"residual block",
       [](layer_env e) -> std::unique_ptr<layer> {
         auto main = std::make_unique<sequential>();
         main->emplace<conv2d>(
             e, "b.conv1",
             conv2d_options{.in_channels = 16, .out_channels = 16, .kernel = 3, .padding = 1, .bias = false});
         main->emplace<batch_norm2d>(e, "b.bn1", 16);
         return std::make_unique<residual_block>(e, "b", std::move(main), std::make_unique<sequential>());
       },
       {4, 16, 8, 8}},
  };
  for (const auto& [name, make, in] : cases) {
    DYNAMIC_SECTION(name) {
      compare_precisions(make, in, name == "residual block" ? bf16_relative_l2_chain : bf16_relative_l2);
    }
  }
}

TEST_CASE("a bf16 model keeps f32 master weights and gradients and trains like f32", "[nn][bf16]") {
  if (cpu_bf16_support() == bf16_support::none) {
    auto m = build_model({.name = "lenet5", .input = {1, 28, 28}, .precision = precision::bf16});
    REQUIRE(m.ok());
    CHECK((*m)->spec().precision == precision::f32);
    CHECK_FALSE((*m)->warnings().empty());
    return;
  }
  auto a = std::move(*build_model({.name = "resnet20", .input = {3, 16, 16}, .norm = norm_kind::range_evonorm}));
  auto b = std::move(*build_model(
      {.name = "resnet20", .input = {3, 16, 16}, .norm = norm_kind::range_evonorm, .precision = precision::bf16}));
  a->init(1);
  b->init(1);
  common::rng gen(2);
  const auto x = test::random_tensor({4, 3, 16, 16}, gen);
  const auto& la = a->forward(x, mode::train);
  const auto& lb = b->forward(x, mode::train);
  REQUIRE(lb.type() == dtype::f32);  // logits come back in f32 for the loss
  CHECK(relative_l2(lb.f32_span(), la.f32_span()) < bf16_relative_l2_chain);
  const auto r = test::random_tensor(la.shape(), gen);
  a->backward(r);
  b->backward(r);
  CHECK(relative_l2(b->gradients(), a->gradients()) < bf16_relative_l2_chain);
  // The kernel report says bf16 for the convolutions.
  bool saw_bf16_conv = false;
  for (const auto& line : b->kernel_report()) saw_bf16_conv |= line.starts_with("conv1: bf16");
  CHECK(saw_bf16_conv);
}
