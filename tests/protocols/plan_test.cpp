// An agent's plan from its own neighbourhood equals its row and column of the
// dense mixing matrix, bit for bit, for every weight rule and graph kind.

#include <catch2/catch.hpp>

#include "murmur/protocols/plan.hpp"
#include "murmur/topology/catalogue.hpp"

using namespace murmur;
using protocols::weight_rule;

TEST_CASE("an agent's local plan equals its row and column of the dense weights", "[protocols][plan]") {
  const std::pair<const char*, std::vector<weight_rule>> kinds[] = {
      {"ring", {weight_rule::metropolis_hastings, weight_rule::choco, weight_rule::uniform, weight_rule::automatic}},
      {"social", {weight_rule::metropolis_hastings, weight_rule::choco, weight_rule::uniform}},
      {"erdos-renyi", {weight_rule::metropolis_hastings, weight_rule::uniform, weight_rule::push}},
      {"star", {weight_rule::metropolis_hastings, weight_rule::uniform}},
      {"exponential", {weight_rule::push, weight_rule::uniform, weight_rule::automatic}},
      {"random-peers", {weight_rule::push, weight_rule::automatic}},
      {"one-peer-exponential", {weight_rule::push}},
  };
  for (const auto& [kind, rules] : kinds) {
    const std::int64_t n = std::string(kind) == "social" ? 32 : 16;
    auto s = topology::make_schedule({.kind = kind, .n = n, .p = 0.3, .seed = 3});
    REQUIRE(s.ok());
    for (std::int64_t t = 0; t < 3; ++t) {
      const auto g = (*s)->at(t);
      for (auto rule : rules) {
        const auto w = protocols::weights_for(g, rule);
        REQUIRE(w.ok());
        for (std::int64_t i = 0; i < n; ++i) {
          INFO(kind << " rule " << common::name_of(rule) << " round " << t << " agent " << i);
          const auto dense = protocols::make_plan(g, *w, i, static_cast<std::uint64_t>(t));
          const auto local = protocols::local_plan(g, rule, i, static_cast<std::uint64_t>(t));
          REQUIRE(local.ok());
          CHECK(local->self_weight == dense.self_weight);
          REQUIRE(local->in.size() == dense.in.size());
          REQUIRE(local->out.size() == dense.out.size());
          for (std::size_t k = 0; k < dense.in.size(); ++k) {
            CHECK(local->in[k].peer == dense.in[k].peer);
            CHECK(local->in[k].weight == dense.in[k].weight);
          }
          for (std::size_t k = 0; k < dense.out.size(); ++k) {
            CHECK(local->out[k].peer == dense.out[k].peer);
            CHECK(local->out[k].weight == dense.out[k].weight);
          }
        }
      }
    }
  }
}

TEST_CASE("a local plan refuses symmetric weights on a directed graph", "[protocols][plan]") {
  const auto g = *topology::directed_ring(8);
  const auto p = protocols::local_plan(g, weight_rule::metropolis_hastings, 0, 0);
  REQUIRE_FALSE(p.ok());
  CHECK_THAT(p.err().message, Catch::Contains("undirected"));
}
