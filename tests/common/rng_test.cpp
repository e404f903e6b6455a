#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "murmur/common/rng.hpp"

using murmur::common::rng;

TEST_CASE("a seeded generator replays the same sequence", "[common]") {
  rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
    differs |= x != c.next_u64();
  }
  CHECK(differs);
}

TEST_CASE("uniform draws lie in the unit interval with mean one half", "[common]") {
  rng g(1);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = g.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // Standard error of the mean is 1/sqrt(12 n) ~ 6.5e-4; allow 5 of them.
  CHECK(std::abs(sum / n - 0.5) < 5 * 6.5e-4);
}

TEST_CASE("uniform integers cover the range without bias", "[common]") {
  rng g(2);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[g.uniform_int(7)];
  for (int c : counts) CHECK(std::abs(c - n / 7) < 400);  // ~4 standard deviations
}

TEST_CASE("normal draws have mean 0 and variance 1", "[common]") {
  rng g(3);
  double s = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    s += x;
    sq += x * x;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(sq / n - 1.0) < 0.02);
}

TEST_CASE("gamma draws have mean equal to the shape", "[common]") {
  for (double shape : {0.1, 0.5, 1.0, 3.0}) {
    rng g(4);
    double s = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) s += g.gamma(shape);
    // Var = shape; standard error sqrt(shape / n).
    CHECK(std::abs(s / n - shape) < 5 * std::sqrt(shape / n));
  }
}

TEST_CASE("a dirichlet draw is a probability vector", "[common]") {
  rng g(5);
  std::vector<double> q(10);
  for (double alpha : {0.01, 0.1, 1.0, 10.0}) {
    g.dirichlet(alpha, q);
    for (double x : q) CHECK(x >= 0.0);
    CHECK(std::accumulate(q.begin(), q.end(), 0.0) == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("a shuffle is a permutation", "[common]") {
  rng g(6);
  std::vector<int> v(100);
  std::iota(v.begin(), v.end(), 0);
  g.shuffle(std::span(v));
  auto sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  CHECK(v != sorted);
}
