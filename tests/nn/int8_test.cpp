// int8 inference: the quantized convolution and inner product against f32,
// and a LeNet-5 trained on the real Fashion-MNIST keeps its accuracy.

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "murmur/nn/conv2d.hpp"
#include "murmur/nn/linear.hpp"
#include "murmur/nn/trainer.hpp"
#include "nn/layer_harness.hpp"
#include "nn/synthetic_data.hpp"

using namespace murmur;
using namespace murmur::nn;
using test::harness;

namespace {

// 8-bit inputs and weights: each carries ~0.4% (u8) to ~0.8% (s8) rounding
// relative to its range; the outputs stay within a few percent in L2.
constexpr double int8_relative_l2 = 3e-2;

double relative_l2(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

void compare_int8(harness& h, tensor x) {
  h.ready(3);
  // Calibrate on the input itself, as a training batch would be used.
  h.ctx.begin_calibration();
  const tensor y32 = test::copy_of(h.layer->forward(x, mode::eval));
  h.ctx.end_calibration();
  const tensor& y8 = h.layer->forward(x, mode::int8);
  REQUIRE(y8.shape() == y32.shape());
  CHECK(relative_l2(y8.f32_span(), y32.f32_span()) < int8_relative_l2);
  std::vector<std::string> kernels;
  h.layer->report(kernels);
  REQUIRE(kernels.size() == 1);
  CHECK((kernels[0].find(": u8") != std::string::npos || kernels[0].find(": s8") != std::string::npos));
}

}  // namespace

TEST_CASE("an int8 convolution matches f32 for signed and unsigned inputs", "[nn][int8]") {
  for (bool non_negative : {false, true}) {
    DYNAMIC_SECTION((non_negative ? "u8 inputs" : "s8 inputs")) {
      harness h;
      h.layer = std::make_unique<conv2d>(
          h.env(), "c", conv2d_options{.in_channels = 16, .out_channels = 32, .kernel = 3, .padding = 1});
      common::rng gen(1);
      auto x = test::random_tensor({4, 16, 8, 8}, gen);
      if (non_negative)
        for (auto& v : x.f32_span()) v = std::abs(v);
      compare_int8(h, std::move(x));
    }
  }
}

TEST_CASE("an int8 inner product matches f32", "[nn][int8]") {
  harness h;
  h.layer = std::make_unique<linear>(h.env(), "fc", 16 * 3 * 3, 10);
  common::rng gen(2);
  compare_int8(h, test::random_tensor({8, 16, 3, 3}, gen));
}

TEST_CASE("int8 inference of a trained LeNet-5 keeps its Fashion-MNIST accuracy", "[nn][int8][data]") {
  // The real data set, which scripts/setup.sh installs.
  REQUIRE(std::filesystem::exists(default_fashion_mnist_dir));
  auto data = load_dataset("fashion-mnist", "");
  REQUIRE(data.ok());
  auto m = std::move(*build_model({.name = "lenet5", .input = {1, 28, 28}}));
  m->init(1);
  common::manual_clock clock;
  std::vector<std::int64_t> all(data->train.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  trainer t(*m, data->train, all,
            {.batch = 64, .schedule = {.base_lr = 0.05}, .optimizer = {.momentum = 0.9}, .seed = 1, .threads = 2},
            clock);
  (void)t.train_epoch();
  (void)t.train_epoch();
  const auto f32 = t.evaluate(data->test);
  t.calibrate(10);
  const auto int8 = t.evaluate(data->test, mode::int8);
  INFO("f32 accuracy " << f32.accuracy << ", int8 accuracy " << int8.accuracy);
  CHECK(f32.accuracy > 0.85);
  CHECK(std::abs(int8.accuracy - f32.accuracy) <= 0.01);
}

TEST_CASE("int8 ResNet-20 with batch norm folded into its convolutions follows f32", "[nn][int8]") {
  const auto train = test::synthetic_dataset(512, 3, 16, 1);
  const auto test_set = test::synthetic_dataset(128, 3, 16, 2);
  auto m = std::move(*build_model({.name = "resnet20", .input = {3, 16, 16}}));
  m->init(1);
  common::manual_clock clock;
  std::vector<std::int64_t> all(train.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  trainer t(*m, train, all, {.batch = 32, .schedule = {.base_lr = 0.02}, .optimizer = {.momentum = 0.9}}, clock);
  for (int e = 0; e < 4; ++e) (void)t.train_epoch();  // a model that learned, with running statistics to fold
  t.calibrate(4);
  const auto f32 = t.evaluate(test_set);
  const auto int8 = t.evaluate(test_set, mode::int8);
  INFO("f32 accuracy " << f32.accuracy << " loss " << f32.loss << ", int8 accuracy " << int8.accuracy << " loss "
                       << int8.loss);
  REQUIRE(f32.accuracy > 0.5);
  CHECK(std::abs(int8.accuracy - f32.accuracy) <= 0.02);
  CHECK(int8.loss == Approx(f32.loss).epsilon(0.1));
}
