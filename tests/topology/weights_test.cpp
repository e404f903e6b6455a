// Mixing weights and spectral gaps against closed forms and the values of
// ALGORITHMS.md §9.2 (computed there with numpy/networkx), to 4 decimals.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numbers>
#include <numeric>

#include "murmur/topology/graph.hpp"
#include "murmur/topology/schedule.hpp"
#include "murmur/topology/weights.hpp"

using namespace murmur::topology;

namespace {

// §9.2 lists gaps to 4 decimals.
constexpr double table_tol = 5e-5;

double mh_gap(const murmur::common::result<graph>& g) {
  REQUIRE(g.ok());
  auto w = metropolis_hastings(*g);
  REQUIRE(w.ok());
  CHECK(doubly_stochastic(*w));
  return spectral_gap(*w);
}

}  // namespace

TEST_CASE("ring gaps match the closed form 1 - (1 + 2 cos(2 pi / n)) / 3", "[topology]") {
  for (std::int64_t n : {8, 16, 32, 64}) {
    const double closed = 1.0 - (1.0 + 2.0 * std::cos(2.0 * std::numbers::pi / static_cast<double>(n))) / 3.0;
    CHECK(mh_gap(ring(n)) == Approx(closed).margin(1e-12));
  }
  CHECK(mh_gap(ring(8)) == Approx(0.1953).margin(table_tol));
  CHECK(mh_gap(ring(16)) == Approx(0.0507).margin(table_tol));
  CHECK(mh_gap(ring(32)) == Approx(0.0128).margin(table_tol));
}

TEST_CASE("gaps of the catalogue match ALGORITHMS.md section 9.2", "[topology]") {
  // 2-D torus 4x4 and circulant C_n(1, 4) with uniform 1/5 (regular: MH = uniform).
  CHECK(mh_gap(torus_2d(4, 4)) == Approx(0.4000).margin(table_tol));
  CHECK(mh_gap(torus_2d(4, 8)) == Approx(0.1172).margin(table_tol));
  CHECK(mh_gap(circulant(16, {1, 4})) == Approx(0.4000).margin(table_tol));
  CHECK(mh_gap(circulant(32, {1, 4})) == Approx(0.1248).margin(table_tol));
  CHECK(mh_gap(chain(16)) == Approx(0.0128).margin(table_tol));
  CHECK(mh_gap(chain(32)) == Approx(0.0032).margin(table_tol));
  CHECK(mh_gap(complete(9)) == Approx(1.0).margin(1e-9));
  // Directed: the static exponential graph with 1/(ceil(log2 n) + 1) and the
  // directed ring with 1/2 (second largest eigenvalue modulus).
  for (auto [n, gap] : {std::pair{8, 0.5000}, {16, 0.4000}, {32, 0.3333}}) {
    auto g = exponential(n);
    REQUIRE(g.ok());
    const auto w = push_weights(*g);
    CHECK(doubly_stochastic(w));  // a circulant, so also row stochastic
    CHECK(spectral_gap(w) == Approx(gap).margin(table_tol));
  }
  for (auto [n, gap] : {std::pair{8, 0.0761}, {16, 0.0192}, {32, 0.0048}}) {
    auto g = directed_ring(n);
    REQUIRE(g.ok());
    CHECK(spectral_gap(push_weights(*g)) == Approx(gap).margin(table_tol));
  }
}

TEST_CASE("push weights are column stochastic on any directed graph", "[topology]") {
  graph g(5, true);
  for (auto [i, j] : {std::pair{0, 1}, {0, 2}, {1, 2}, {2, 3}, {3, 4}, {4, 0}, {4, 1}}) g.add_edge(i, j);
  CHECK(g.strongly_connected());
  const auto w = push_weights(g);
  CHECK(column_stochastic(w));
  CHECK_FALSE(row_stochastic(w));
  CHECK(row_stochastic(uniform_weights(g)));
}

TEST_CASE("graphs have the degrees and connectivity of their definitions", "[topology]") {
  auto s = star(6);
  REQUIRE(s.ok());
  CHECK(s->out_degree(0) == 5);
  CHECK(s->edge_count() == 5);
  auto h = hypercube(16);
  REQUIRE(h.ok());
  for (std::int64_t i = 0; i < 16; ++i) CHECK(h->out_degree(i) == 4);
  auto t = binary_tree(7);
  REQUIRE(t.ok());
  CHECK(t->edge_count() == 6);  // a tree
  CHECK(t->out_neighbors(0) == std::vector<std::int64_t>{1});
  CHECK(t->strongly_connected());
  graph split(4, false);
  split.add_edge(0, 1);
  split.add_edge(2, 3);
  CHECK_FALSE(split.strongly_connected());
  CHECK_FALSE(hypercube(12).ok());
  CHECK_FALSE(ring(1).ok());
  CHECK_FALSE(metropolis_hastings(*directed_ring(4)).ok());
}

TEST_CASE("RelaySum's double binary trees are the binary tree and its mirror, and agents know their part",
          "[topology]") {
  for (std::int64_t n : {2, 3, 7, 16, 33}) {
    INFO(n);
    const auto t = *binary_tree(n);
    const auto both = *double_binary_tree(n);
    for (std::int64_t i = 0; i < n; ++i) {
      auto own = t.out_neighbors(i);
      std::ranges::sort(own);
      CHECK(binary_tree_neighbours(i, n, false) == own);
      // The mirror: i's neighbours are n - 1 - (those of n - 1 - i in the tree).
      std::vector<std::int64_t> mirrored;
      for (auto j : t.out_neighbors(n - 1 - i)) mirrored.push_back(n - 1 - j);
      std::ranges::sort(mirrored);
      CHECK(binary_tree_neighbours(i, n, true) == mirrored);
      std::vector<std::int64_t> together;
      std::ranges::set_union(own, mirrored, std::back_inserter(together));
      auto in_graph = both.out_neighbors(i);
      std::ranges::sort(in_graph);
      CHECK(in_graph == together);
    }
    CHECK(both.strongly_connected());
    if (n == 16) CHECK(both.edge_count() > 15);  // not a tree: the two trees differ
  }
  CHECK_FALSE(double_binary_tree(1).ok());
}

TEST_CASE("edge-list files are read, and bad lines are errors with their line number", "[topology]") {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/murmur-edges.txt";
  std::ofstream(path) << "# a triangle and a tail\n0 1\n1 2\n2 0\n\n2 3  # tail\n";
  auto g = read_edge_list(path, false);
  REQUIRE(g.ok());
  CHECK(g->size() == 4);
  CHECK(g->edge_count() == 4);
  std::ofstream(path) << "0 1\n1 x\n";
  auto bad = read_edge_list(path, false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message.find(":2:") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("the Davis Southern Women network has its 32 nodes, 89 edges and section 9.2 gaps", "[topology]") {
  const auto g = davis_southern_women();
  CHECK(g.size() == 32);
  CHECK(g.edge_count() == 89);
  CHECK(g.strongly_connected());
  std::int64_t lo = 100, hi = 0;
  for (std::int64_t i = 0; i < 32; ++i) lo = std::min(lo, g.out_degree(i)), hi = std::max(hi, g.out_degree(i));
  CHECK(lo == 2);
  CHECK(hi == 14);
  auto mh = metropolis_hastings(g);
  REQUIRE(mh.ok());
  CHECK(spectral_gap(*mh) == Approx(0.0821).margin(table_tol));
  auto choco = choco_weights(g);
  REQUIRE(choco.ok());
  CHECK(doubly_stochastic(*choco));
  CHECK(spectral_gap(*choco) == Approx(0.0903).margin(table_tol));
}

TEST_CASE("the one-peer exponential schedule averages exactly after log2 n rounds", "[topology]") {
  // ALGORITHMS.md Appendix A: k pure gossip steps from any vectors give the exact average for n = 2^k.
  for (std::int64_t n : {16, 32}) {
    const auto s = one_peer_exponential(n);
    std::vector<double> x(n);
    for (std::int64_t i = 0; i < n; ++i) x[i] = std::sin(static_cast<double>(i) * 1.7) * 10;
    const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
    std::int64_t rounds = 0;
    while ((std::int64_t{1} << rounds) < n) {
      const auto w = push_weights(s->at(rounds));
      REQUIRE(doubly_stochastic(w));
      std::vector<double> next(n, 0.0);
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) next[i] += w.at(i, j) * x[j];
      x = next;
      ++rounds;
    }
    for (double v : x) CHECK(v == Approx(mean).margin(1e-12));
  }
}

TEST_CASE("random schedules and graphs are seeded, valid and replayable", "[topology]") {
  const auto a = random_peers(10, 2, 7), b = random_peers(10, 2, 7);
  for (std::int64_t t = 0; t < 5; ++t) {
    const auto ga = a->at(t), gb = b->at(t);
    for (std::int64_t i = 0; i < 10; ++i) {
      CHECK(ga.out_neighbors(i) == gb.out_neighbors(i));
      CHECK(ga.out_degree(i) == 2);
    }
    CHECK(column_stochastic(push_weights(ga)));
  }
  auto er = erdos_renyi(20, 0.2, 3);
  REQUIRE(er.ok());
  CHECK(er->strongly_connected());
  auto rr = random_regular(16, 3, 5);
  REQUIRE(rr.ok());
  for (std::int64_t i = 0; i < 16; ++i) CHECK(rr->out_degree(i) == 3);
  CHECK(rr->strongly_connected());
  CHECK_FALSE(random_regular(5, 3, 1).ok());  // n d odd
  CHECK_FALSE(erdos_renyi(50, 0.001, 1, 10).ok());
}

TEST_CASE("Petersen and Dyck graphs are cubic with the spectral gaps of ALGORITHMS.md §9.2", "[topology]") {
  const auto p = petersen();
  const auto d = dyck();
  for (const auto* g : {&p, &d}) {
    for (std::int64_t i = 0; i < g->size(); ++i) CHECK(g->out_degree(i) == 3);
    CHECK(g->strongly_connected());
  }
  CHECK(p.edge_count() == 15);
  CHECK(d.edge_count() == 48);
  CHECK(spectral_gap(uniform_weights(p)) == Approx(0.5).margin(1e-4));
  CHECK(spectral_gap(uniform_weights(d)) == Approx(0.1464).margin(1e-4));
}

TEST_CASE("SGP's dynamic directed exponential graph gives one peer in and out per round", "[topology]") {
  const auto s = dde_exponential(16);
  // Phone book +1 -1 +2 -2 +4 -4 +8 (-8 = +8 mod 16): period 7.
  for (std::int64_t t = 0; t < 14; ++t) {
    const auto g = s->at(t);
    for (std::int64_t i = 0; i < 16; ++i) {
      CHECK(g.out_degree(i) == 1);
      CHECK(g.in_degree(i) == 1);
    }
    const std::int64_t hops[] = {1, -1, 2, -2, 4, -4, 8};
    CHECK(g.out_neighbors(0).front() == ((hops[t % 7] % 16) + 16) % 16);
  }
}

TEST_CASE("the bipartite exponential graph links active odd agents and passive even ones both ways", "[topology]") {
  const auto s = bipartite_exponential(16);
  REQUIRE(s.ok());
  // The SGP code's phone book: forward and backward at each hop, in turn,
  // the same for every agent (each round a directed cycle i -> i + h).
  const std::int64_t hops[] = {1, -1, 3, -3, 5, -5, 9, -9};
  for (std::int64_t t = 0; t < 16; ++t) {
    const auto g = (*s)->at(t);
    for (std::int64_t i = 0; i < 16; ++i) {
      REQUIRE(g.out_degree(i) == 1);
      REQUIRE(g.in_neighbors(i).size() == 1);
      CHECK(g.out_neighbors(i).front() == (i + hops[t % 8] + 16) % 16);
      CHECK(g.in_neighbors(i).front() == (i - hops[t % 8] + 16) % 16);
      CHECK(g.out_neighbors(i).front() % 2 != i % 2);  // active and passive alternate
    }
  }
  CHECK_FALSE(bipartite_exponential(15).ok());
}

TEST_CASE("a cyclic schedule takes its graphs in turn and rejects mixed sizes", "[topology]") {
  auto s = cyclic({*ring(8), *complete(8), *chain(8)});
  REQUIRE(s.ok());
  CHECK((*s)->at(0).edge_count() == 8);
  CHECK((*s)->at(1).edge_count() == 28);
  CHECK((*s)->at(5).edge_count() == 7);
  CHECK((*s)->at(6).edge_count() == 8);
  const auto bad = cyclic({*ring(8), *ring(9)});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message.find("differ in size") != std::string::npos);
  CHECK_FALSE(cyclic({}).ok());
}
