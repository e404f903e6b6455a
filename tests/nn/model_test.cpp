#include <catch2/catch.hpp>

#include <cmath>

#include "murmur/nn/model.hpp"
#include "nn/layer_harness.hpp"

using namespace murmur;
using namespace murmur::nn;

TEST_CASE("every model takes its input shape and class count from the data", "[nn][model]") {
  for (const auto& name : model_names()) {
    for (const dims& input : {dims{1, 28, 28}, dims{3, 32, 32}}) {
      for (auto norm : {norm_kind::batchnorm, norm_kind::groupnorm}) {
        DYNAMIC_SECTION(name << " on " << to_string(input) << " with " << to_string(norm)) {
          auto m = build_model({.name = name, .input = input, .classes = 7, .norm = norm});
          REQUIRE(m.ok());
          (*m)->init(1);
          common::rng gen(2);
          const auto x = test::random_tensor({3, input[0], input[1], input[2]}, gen);
          for (auto md : {mode::train, mode::eval}) {
            const auto& y = (*m)->forward(x, md);
            REQUIRE(y.shape() == dims{3, 7});
            for (float v : y.f32_span()) CHECK(std::isfinite(v));
          }
        }
      }
    }
  }
}

TEST_CASE("parameter counts match the architectures", "[nn][model]") {
  // LeNet-5 on 28x28 (conv1 padded by 2): 156 + 2416 + 48120 + 10164 + 850.
  CHECK((*build_model({.name = "lenet5", .input = {1, 28, 28}}))->store().parameter_count() == 61706);
  // ResNet-20 with 1x1-convolution shortcuts on 3x32x32, 10 classes (counted by hand:
  // stem 464, stage 1 14016, stage 2 51648, stage 3 205696, classifier 650).
  CHECK((*build_model({.name = "resnet20", .input = {3, 32, 32}}))->store().parameter_count() == 272474);
  // Logistic regression 784-10.
  CHECK((*build_model({.name = "logreg", .input = {1, 28, 28}}))->store().parameter_count() == 784 * 10 + 10);
  // MLP 784-256-256-10.
  CHECK((*build_model({.name = "mlp", .input = {1, 28, 28}}))->store().parameter_count() ==
        784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
}

TEST_CASE("the parameter arena is one aligned span and the gradients mirror it", "[nn][model]") {
  auto m = std::move(*build_model({.name = "resnet20", .input = {3, 32, 32}}));
  const auto params = m->parameters();
  const auto grads = m->gradients();
  CHECK(params.size() == grads.size());
  CHECK(params.size() >= m->store().parameter_count());
  CHECK(reinterpret_cast<std::uintptr_t>(params.data()) % 64 == 0);
  for (const auto& e : m->store().parameter_entries()) {
    CHECK(e.offset % 16 == 0);
    CHECK(e.offset + e.numel <= params.size());
  }
}

TEST_CASE("initialisation is seeded and PyTorch-like", "[nn][model]") {
  auto a = std::move(*build_model({.name = "lenet5", .input = {1, 28, 28}}));
  auto b = std::move(*build_model({.name = "lenet5", .input = {1, 28, 28}}));
  a->init(5);
  b->init(5);
  CHECK(std::equal(a->parameters().begin(), a->parameters().end(), b->parameters().begin()));
  // fc1 weights: U(-1/sqrt(400), 1/sqrt(400)).
  const auto& e = a->store().parameter_entries()[4];
  REQUIRE(e.name == "fc1.weight");
  float lo = 1, hi = -1;
  for (float v : a->store().parameter(4)) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(hi <= 0.05f);
  CHECK(lo >= -0.05f);
  CHECK(hi > 0.045f);
  CHECK(lo < -0.045f);
}

TEST_CASE("8-bit ResNet-20 starts as the thesis code's init_modelq", "[nn][model][int8-train]") {
  for (auto norm : {norm_kind::range_evonorm, norm_kind::batchnorm}) {
    DYNAMIC_SECTION(to_string(norm)) {
      auto m = std::move(
          *build_model({.name = "resnet20", .input = {3, 32, 32}, .norm = norm, .precision = precision::int8_train}));
      m->init(3);
      int zeroed = 0, convs = 0;
      for (std::size_t h = 0; h < m->store().parameter_entries().size(); ++h) {
        const auto& e = m->store().parameter_entries()[h];
        const auto w = m->store().parameter(h);
        double sum = 0, sq = 0;
        for (float v : w) {
          sum += v;
          sq += static_cast<double>(v) * v;
        }
        const double n = static_cast<double>(w.size()), sd = std::sqrt(sq / n - (sum / n) * (sum / n));
        const auto is = [&](const std::string& tail) {
          return e.name.size() >= tail.size() && e.name.compare(e.name.size() - tail.size(), tail.size(), tail) == 0;
        };
        if (is(".bn2.weight")) {  // each block's last γ: the block starts as its shortcut
          ++zeroed;
          CHECK(sq == 0);
        } else if (is("conv1.weight") || is("conv2.weight") || is("downsample.0.weight")) {
          ++convs;  // N(0, sqrt(2 / (k k out)))
          CHECK(sd == Approx(std::sqrt(2.0 / static_cast<double>(e.shape[0] * e.shape[2] * e.shape[3]))).epsilon(0.1));
        } else if (e.name == "fc.weight") {
          CHECK(sd == Approx(0.01).epsilon(0.1));
        } else if (is(".weight")) {  // the other norms' γ
          CHECK(sum == n);
          CHECK(sq == n);
        } else if (is(".bias")) {
          CHECK(sq == 0);
        }
      }
      CHECK(zeroed == 9);
      CHECK(convs == 1 + 9 * 2 + 2);
    }
  }
  // In f32 the norms keep their own init (Range-EvoNorm γ ~ U(0, 1)): no γ is zero.
  auto f = std::move(*build_model({.name = "resnet20", .input = {3, 32, 32}, .norm = norm_kind::range_evonorm}));
  f->init(3);
  for (std::size_t h = 0; h < f->store().parameter_entries().size(); ++h)
    if (f->store().parameter_entries()[h].name == "layer1.0.bn2.weight")
      for (float v : f->store().parameter(h)) CHECK(v != 0.f);
}

TEST_CASE("unknown models and impossible inputs are errors", "[nn][model]") {
  auto unknown = build_model({.name = "resnet50", .input = {3, 32, 32}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().message.find("unknown model 'resnet50'") != std::string::npos);
  CHECK_FALSE(build_model({.name = "lenet5", .input = {1, 8, 8}}).ok());
  CHECK_FALSE(build_model({.name = "mlp", .input = {1, 28}}).ok());
  CHECK_FALSE(build_model({.name = "mlp", .input = {1, 28, 28}, .classes = 1}).ok());
}
