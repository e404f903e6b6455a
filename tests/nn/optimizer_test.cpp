#include <catch2/catch.hpp>

#include <vector>

#include "murmur/nn/optimizer.hpp"

using namespace murmur::nn;

namespace {

// torch.optim.SGD's update, written out in double for one coordinate.
struct reference_sgd {
  double momentum, wd;
  bool nesterov;
  double buf = 0;
  bool first = true;
  double step(double x, double g, double lr) {
    g += wd * x;
    if (momentum != 0) {
      buf = first ? g : momentum * buf + g;
      first = false;
      g = nesterov ? g + momentum * buf : buf;
    }
    return x - lr * g;
  }
};

}  // namespace

TEST_CASE("SGD follows PyTorch's update rule", "[nn][optimizer]") {
  for (bool nesterov : {false, true}) {
    for (double momentum : {0.0, 0.9}) {
      if (nesterov && momentum == 0.0) continue;
      DYNAMIC_SECTION("momentum " << momentum << (nesterov ? " nesterov" : "")) {
        sgd opt(3, {.momentum = momentum, .nesterov = nesterov, .weight_decay = 1e-2});
        std::vector<float> x{1.f, -2.f, 0.5f};
        std::vector<double> xr(x.begin(), x.end());
        std::vector<reference_sgd> ref(3, reference_sgd{momentum, 1e-2, nesterov});
        for (int t = 0; t < 20; ++t) {
          std::vector<float> g{0.3f * t, -0.1f, 1.f / (1 + t)};
          const double lr = t < 10 ? 0.1 : 0.01;
          opt.step(x, g, lr);
          for (int i = 0; i < 3; ++i) xr[i] = ref[i].step(xr[i], g[i], lr);
        }
        for (int i = 0; i < 3; ++i) CHECK(x[i] == Approx(xr[i]).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("the learning-rate schedule warms up linearly and decays at milestones", "[nn][optimizer]") {
  lr_schedule s{.base_lr = 0.8, .warmup_epochs = 5, .warmup_start = 0.125, .milestones = {50, 75}, .gamma = 0.1};
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(2.5) == Approx(0.1 + 0.7 * 0.5));
  CHECK(s.at(5) == Approx(0.8));
  CHECK(s.at(49.9) == Approx(0.8));
  CHECK(s.at(50) == Approx(0.08));
  CHECK(s.at(80) == Approx(0.008));
  CHECK(s.validate().ok());
  CHECK_FALSE(lr_schedule{.base_lr = -1}.validate().ok());
  CHECK_FALSE(lr_schedule{.base_lr = 0.1, .milestones = {5, 3}}.validate().ok());
}
