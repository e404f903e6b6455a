#include "murmur/topology/schedule.hpp"

#include <algorithm>
#include <numeric>

#include "murmur/common/rng.hpp"

namespace murmur::topology {
namespace {

using common::errc;
using common::make_error;

class fixed_graph final : public schedule {
 public:
  explicit fixed_graph(graph g) : g_(std::move(g)) {}
  std::int64_t size() const override { return g_.size(); }
  graph at(std::int64_t) const override { return g_; }
  const graph* fixed() const override { return &g_; }

 private:
  graph g_;
};

class one_peer final : public schedule {
 public:
  explicit one_peer(std::int64_t n) : n_(n) {
    while ((std::int64_t{1} << period_) < n_) ++period_;
  }
  std::int64_t size() const override { return n_; }
  graph at(std::int64_t round) const override {
    graph g(n_, true);
    const std::int64_t hop = std::int64_t{1} << (round % period_);
    for (std::int64_t i = 0; i < n_; ++i) g.add_edge(i, (i + hop) % n_);
    return g;
  }

 private:
  std::int64_t n_;
  int period_ = 0;
};

class random_out final : public schedule {
 public:
  random_out(std::int64_t n, std::int64_t peers, std::uint64_t seed) : n_(n), peers_(peers), seed_(seed) {}
  std::int64_t size() const override { return n_; }
  graph at(std::int64_t round) const override {
    auto gen = common::rng::derive(seed_, static_cast<std::uint64_t>(round));
    graph g(n_, true);
    std::vector<std::int64_t> others(n_ - 1);
    for (std::int64_t i = 0; i < n_; ++i) {
      for (std::int64_t k = 0, j = 0; k < n_; ++k)
        if (k != i) others[j++] = k;
      // The first `peers` of a partial shuffle.
      for (std::int64_t k = 0; k < peers_; ++k) {
        const auto pick = k + static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(n_ - 1 - k)));
        std::swap(others[k], others[pick]);
        g.add_edge(i, others[k]);
      }
    }
    return g;
  }

 private:
  std::int64_t n_, peers_;
  std::uint64_t seed_;
};

// Every agent sends to i + hops[t mod |hops|] in round t.
class hop_cycle final : public schedule {
 public:
  hop_cycle(std::int64_t n, std::vector<std::int64_t> hops, bool odd_only)
      : n_(n), hops_(std::move(hops)), odd_only_(odd_only) {}
  std::int64_t size() const override { return n_; }
  graph at(std::int64_t round) const override {
    graph g(n_, true);
    const auto hop = hops_[static_cast<std::size_t>(round) % hops_.size()];
    for (std::int64_t i = odd_only_ ? 1 : 0; i < n_; i += odd_only_ ? 2 : 1) g.add_edge(i, ((i + hop) % n_ + n_) % n_);
    return g;
  }

 private:
  std::int64_t n_;
  std::vector<std::int64_t> hops_;
  bool odd_only_;
};

class cycle_of final : public schedule {
 public:
  explicit cycle_of(std::vector<graph> graphs) : graphs_(std::move(graphs)) {}
  std::int64_t size() const override { return graphs_.front().size(); }
  graph at(std::int64_t round) const override { return graphs_[static_cast<std::size_t>(round) % graphs_.size()]; }

 private:
  std::vector<graph> graphs_;
};

class exact_every final : public schedule {
 public:
  exact_every(std::unique_ptr<schedule> inner, std::int64_t every)
      : inner_(std::move(inner)), every_(every), complete_(*complete(std::max<std::int64_t>(inner_->size(), 2))) {}
  std::int64_t size() const override { return inner_->size(); }
  graph at(std::int64_t round) const override { return exact_average(round) ? complete_ : inner_->at(round); }
  bool exact_average(std::int64_t round) const override { return round % every_ == 0; }

 private:
  std::unique_ptr<schedule> inner_;
  std::int64_t every_;
  graph complete_;
};

}  // namespace

std::unique_ptr<schedule> with_exact_average(std::unique_ptr<schedule> inner, std::int64_t every) {
  return std::make_unique<exact_every>(std::move(inner), std::max<std::int64_t>(every, 1));
}

std::unique_ptr<schedule> dde_exponential(std::int64_t n) {
  n = std::max<std::int64_t>(n, 2);
  std::vector<std::int64_t> book;
  const auto seen = [&](std::int64_t h) {
    return std::ranges::any_of(book, [&](auto b) { return ((b - h) % n + n) % n == 0; });
  };
  for (std::int64_t p = 1; p <= n - 1; p *= 2)
    for (std::int64_t h : {p, -p})
      if (((h % n) + n) % n != 0 && !seen(h)) book.push_back(h);
  return std::make_unique<hop_cycle>(n, std::move(book), false);
}

common::result<std::unique_ptr<schedule>> bipartite_exponential(std::int64_t n) {
  if (n < 2 || n % 2 != 0)
    return make_error(errc::invalid_argument,
                      "the bipartite exponential graph needs an even number of agents, got " + std::to_string(n));
  // The SGP code's phone book (gossip/graph_manager.py,
  // DynamicBipartiteExponentialGraph): forward and backward at each hop 1,
  // 1 + 2, 1 + 4, ..., taken in turn (+1, -1, +3, -3, ...). Every agent's
  // book has the same entries, so each round is the directed cycle
  // i -> i + h: odd agents (active) point to even ones (passive) and back.
  std::vector<std::int64_t> hops;
  for (std::int64_t h = 1, p = 1; h < n; p *= 2, h = 1 + p) {
    hops.push_back(h);
    hops.push_back(-h);
  }
  return std::unique_ptr<schedule>(std::make_unique<hop_cycle>(n, std::move(hops), false));
}

common::result<std::unique_ptr<schedule>> cyclic(std::vector<graph> graphs) {
  if (graphs.empty()) return make_error(errc::invalid_argument, "a cyclic schedule needs at least one graph");
  for (const auto& g : graphs)
    if (g.size() != graphs.front().size())
      return make_error(errc::invalid_argument, "the graphs of a cyclic schedule differ in size (" +
                                                    std::to_string(g.size()) + " vs " +
                                                    std::to_string(graphs.front().size()) + " agents)");
  return std::unique_ptr<schedule>(std::make_unique<cycle_of>(std::move(graphs)));
}

std::unique_ptr<schedule> static_schedule(graph g) { return std::make_unique<fixed_graph>(std::move(g)); }
std::unique_ptr<schedule> one_peer_exponential(std::int64_t n) {
  return std::make_unique<one_peer>(std::max<std::int64_t>(n, 2));
}
std::unique_ptr<schedule> random_peers(std::int64_t n, std::int64_t peers, std::uint64_t seed) {
  return std::make_unique<random_out>(std::max<std::int64_t>(n, 2),
                                      std::clamp<std::int64_t>(peers, 1, std::max<std::int64_t>(n, 2) - 1), seed);
}

common::result<graph> erdos_renyi(std::int64_t n, double p, std::uint64_t seed, int attempts) {
  if (n < 2 || !(p > 0) || p > 1) return make_error(errc::invalid_argument, "Erdős–Rényi needs n >= 2 and 0 < p <= 1");
  for (int a = 0; a < attempts; ++a) {
    common::rng gen(seed + static_cast<std::uint64_t>(a));
    graph g(n, false);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j)
        if (gen.uniform() < p) g.add_edge(i, j);
    if (g.strongly_connected()) return g;
  }
  return make_error(errc::invalid_argument, "Erdős–Rényi: no connected draw in " + std::to_string(attempts) +
                                                " attempts (p = " + std::to_string(p) + " is too small?)");
}

common::result<graph> random_regular(std::int64_t n, std::int64_t d, std::uint64_t seed, int attempts) {
  if (n < 2 || d < 1 || d >= n || (n * d) % 2 != 0)
    return make_error(errc::invalid_argument, "a random d-regular graph needs 1 <= d < n and n d even");
  for (int a = 0; a < attempts; ++a) {
    common::rng gen(seed + static_cast<std::uint64_t>(a));
    std::vector<std::int64_t> stubs(n * d);
    for (std::int64_t i = 0; i < n * d; ++i) stubs[i] = i / d;
    gen.shuffle(std::span(stubs));
    graph g(n, false);
    bool simple = true;
    for (std::size_t k = 0; k < stubs.size() && simple; k += 2) {
      const auto i = stubs[k], j = stubs[k + 1];
      const auto& out = g.out_neighbors(i);
      if (i == j || std::ranges::find(out, j) != out.end()) simple = false;
      g.add_edge(i, j);
    }
    if (simple && g.strongly_connected()) return g;
  }
  return make_error(errc::invalid_argument, "no simple connected " + std::to_string(d) + "-regular draw on " +
                                                std::to_string(n) + " agents in " + std::to_string(attempts) +
                                                " attempts");
}

}  // namespace murmur::topology
