#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "murmur/common/rng.hpp"
#include "murmur/nn/partition.hpp"

using namespace murmur;
using namespace murmur::nn;

namespace {

// Balanced labels in a random order, as a data set's would be.
std::vector<std::int32_t> balanced_labels(std::int64_t per_class, std::int64_t classes) {
  std::vector<std::int32_t> y;
  for (std::int64_t c = 0; c < classes; ++c) y.insert(y.end(), per_class, static_cast<std::int32_t>(c));
  common::rng gen(99);
  gen.shuffle(std::span(y));
  return y;
}

// Every index is used at most once and the unused ones are counted.
void check_disjoint_and_counted(const partition& p, std::size_t total) {
  std::set<std::int64_t> seen;
  std::size_t used = 0;
  for (const auto& s : p.shards)
    for (auto i : s) {
      REQUIRE(i >= 0);
      REQUIRE(static_cast<std::size_t>(i) < total);
      REQUIRE(seen.insert(i).second);
      ++used;
    }
  CHECK(used + static_cast<std::size_t>(p.unused) == total);
}

double mean_classes_per_agent(const partition& p, const std::vector<std::int32_t>& y) {
  double total = 0;
  for (const auto& row : p.histogram(y, 10))
    total += static_cast<double>(std::count_if(row.begin(), row.end(), [](auto v) { return v > 0; }));
  return total / static_cast<double>(p.shards.size());
}

}  // namespace

TEST_CASE("an IID partition gives every agent floor(N/n) samples of all classes", "[nn][partition]") {
  const auto y = balanced_labels(100, 10);
  auto p = make_partition(y, 10, {.scheme = partition_scheme::iid, .agents = 7, .seed = 1});
  REQUIRE(p.ok());
  check_disjoint_and_counted(*p, y.size());
  for (const auto& s : p->shards) CHECK(s.size() == 1000 / 7);
  CHECK(p->unused == 1000 % 7);
  CHECK(mean_classes_per_agent(*p, y) == 10);
}

TEST_CASE("a dirichlet partition follows the QGM procedure", "[nn][partition]") {
  const auto y = balanced_labels(600, 10);
  for (std::int64_t agents : {4, 16, 25}) {
    DYNAMIC_SECTION(agents << " agents") {
      auto p =
          make_partition(y, 10, {.scheme = partition_scheme::dirichlet, .agents = agents, .alpha = 0.5, .seed = 6});
      REQUIRE(p.ok());
      check_disjoint_and_counted(*p, y.size());
      // Equal re-slicing: exactly floor(N/n) samples each.
      for (const auto& s : p->shards) CHECK(s.size() == y.size() / agents);
    }
  }
  SECTION("a smaller alpha gives fewer classes per agent") {
    const auto classes_at = [&](double alpha) {
      auto p = make_partition(y, 10, {.scheme = partition_scheme::dirichlet, .agents = 16, .alpha = alpha, .seed = 6});
      REQUIRE(p.ok());
      return mean_classes_per_agent(*p, y);
    };
    const double c10 = classes_at(10), c1 = classes_at(1), c01 = classes_at(0.1);
    CHECK(c10 > c1);
    CHECK(c1 > c01);
    CHECK(c10 > 9);
    CHECK(c01 < 7);
  }
  SECTION("the same seed gives the same partition, another seed another") {
    partition_options o{.scheme = partition_scheme::dirichlet, .agents = 8, .alpha = 0.3, .seed = 3};
    auto a = make_partition(y, 10, o), b = make_partition(y, 10, o);
    o.seed = 4;
    auto c = make_partition(y, 10, o);
    CHECK(a->shards == b->shards);
    CHECK(a->shards != c->shards);
  }
  SECTION("alpha must be positive") {
    CHECK_FALSE(make_partition(y, 10, {.scheme = partition_scheme::dirichlet, .agents = 4, .alpha = 0}).ok());
  }
}

TEST_CASE("label-sorted shards deal blocks in the NGC code's order", "[nn][partition]") {
  // 16 classes of 10 samples: block b (10 samples) is exactly class b.
  std::vector<std::int32_t> y;
  for (int c = 0; c < 16; ++c) y.insert(y.end(), 10, c);
  common::rng gen(1);
  gen.shuffle(std::span(y));
  auto p = make_partition(y, 16, {.scheme = partition_scheme::shards, .agents = 16});
  REQUIRE(p.ok());
  check_disjoint_and_counted(*p, y.size());
  const int expected[] = {0, 2, 4, 6, 8, 10, 12, 14, 1, 5, 9, 11, 13, 15, 3, 7};  // ALGORITHMS.md §10.2
  for (int k = 0; k < 16; ++k) {
    REQUIRE(p->shards[k].size() == 10);
    for (auto i : p->shards[k]) CHECK(y[i] == expected[k]);
  }
}

TEST_CASE("the skew mix moves from IID (skew 0) to label-sorted (skew 1)", "[nn][partition]") {
  const auto y = balanced_labels(200, 10);
  auto iid_like = make_partition(y, 10, {.scheme = partition_scheme::skew, .agents = 10, .skew = 0.0, .seed = 2});
  auto sorted = make_partition(y, 10, {.scheme = partition_scheme::skew, .agents = 10, .skew = 1.0, .seed = 2});
  auto mixed = make_partition(y, 10, {.scheme = partition_scheme::skew, .agents = 10, .skew = 0.8, .seed = 2});
  REQUIRE((iid_like.ok() && sorted.ok() && mixed.ok()));
  // Each agent gets floor(N skew / n) + floor(N (1 - skew) / n) samples, as
  // the reference code computes them (so 160 + 39 for skew 0.8 in floating point).
  for (auto* p : {&*iid_like, &*sorted}) {
    check_disjoint_and_counted(*p, y.size());
    for (const auto& s : p->shards) CHECK(s.size() == 200);
  }
  check_disjoint_and_counted(*mixed, y.size());
  for (const auto& s : mixed->shards)
    CHECK(s.size() == static_cast<std::size_t>(std::floor(2000 * 0.8 / 10) + std::floor(2000 * (1 - 0.8) / 10)));
  CHECK(mean_classes_per_agent(*sorted, y) == 1);
  CHECK(mean_classes_per_agent(*iid_like, y) == 10);
  // With skew 0.8, 160 of each agent's 200 samples come from one class run.
  for (const auto& row : mixed->histogram(y, 10)) CHECK(*std::max_element(row.begin(), row.end()) >= 160);
}

TEST_CASE("partitions reject impossible requests", "[nn][partition]") {
  const auto y = balanced_labels(1, 10);
  CHECK_FALSE(make_partition(y, 10, {.agents = 0}).ok());
  CHECK_FALSE(make_partition(y, 10, {.agents = 11}).ok());
  CHECK_FALSE(make_partition(y, 5, {.agents = 2}).ok());  // labels out of range
  CHECK_FALSE(make_partition(y, 10, {.scheme = partition_scheme::skew, .agents = 2, .skew = 1.5}).ok());
  CHECK_FALSE(parse_partition_scheme("random").ok());
}
