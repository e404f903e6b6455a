// Push-sum averaging over directed, time-varying graphs, with and without
// message loss (ALGORITHMS.md §8, Appendix A).

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "murmur/common/rng.hpp"
#include "murmur/protocols/push_sum.hpp"
#include "murmur/topology/schedule.hpp"

using namespace murmur;
using namespace murmur::protocols;

namespace {

constexpr std::int64_t agents = 16, dim = 4;

struct outcome {
  double worst_error;  // max over agents and entries of |x/w - true mean|
  double mass_drift;   // |sum of x (plus mass in flight) - initial sum|, worst entry
};

// Runs `rounds` rounds of pure averaging; each message is lost with
// probability `loss` (seeded) and, with `duplicate`, some are delivered twice.
outcome run(bool running, double loss, const topology::schedule& s, std::int64_t rounds, bool duplicate = false) {
  common::rng gen(11);
  std::vector<push_sum_averager> a;
  std::vector<double> mean(dim, 0.0);
  for (std::int64_t i = 0; i < agents; ++i) {
    std::vector<double> x(dim);
    for (auto& v : x) v = gen.normal() * 10;
    for (std::int64_t k = 0; k < dim; ++k) mean[k] += x[k] / agents;
    a.emplace_back(i, x, running);
  }
  common::rng drops(12);
  for (std::int64_t t = 0; t < rounds; ++t) {
    const auto g = s.at(t);
    std::vector<mass_message> in_flight;
    for (std::int64_t i = 0; i < agents; ++i)
      for (auto& m : a[i].send(t, g.out_neighbors(i))) in_flight.push_back(std::move(m));
    for (const auto& m : in_flight) {
      if (drops.uniform() < loss) continue;
      a[m.receiver].receive(m);
      if (duplicate && drops.uniform() < 0.2) a[m.receiver].receive(m);
    }
  }
  outcome o{0, 0};
  for (std::int64_t k = 0; k < dim; ++k) {
    double total = 0;
    for (std::int64_t i = 0; i < agents; ++i) {
      o.worst_error = std::max(o.worst_error, std::abs(a[i].estimate(k) - mean[k]));
      total += a[i].numerator()[k];
      if (running) {
        // Mass in flight: sent on a link but not yet taken in by its receiver.
        for (const auto& [peer, sent] : a[i].sent_sums()) {
          const auto& seen = a[peer].received_sums();
          const auto it = seen.find(i);
          total += sent[k] - (it == seen.end() ? 0.0 : it->second[k]);
        }
      }
    }
    o.mass_drift = std::max(o.mass_drift, std::abs(total - mean[k] * agents));
  }
  return o;
}

}  // namespace

TEST_CASE("push-sum reaches the exact mean on directed time-varying graphs and keeps the mass",
          "[protocols][push-sum]") {
  const auto one_peer = topology::one_peer_exponential(agents);
  const auto random = topology::random_peers(agents, 2, 5);
  for (bool running : {false, true}) {
    DYNAMIC_SECTION((running ? "running sums" : "plain")) {
      // One-peer exponential, n = 16: exact after 4 rounds (Appendix A).
      CHECK(run(running, 0.0, *one_peer, 4).worst_error < 1e-12);
      const auto r = run(running, 0.0, *random, 200);
      CHECK(r.worst_error < 1e-9);
      CHECK(r.mass_drift < 1e-9);
    }
  }
}

TEST_CASE("with 30% of messages lost, running-sum push-sum still reaches the exact mean and plain push-sum does not",
          "[protocols][push-sum]") {
  const auto s = topology::random_peers(agents, 2, 5);
  const auto running = run(true, 0.3, *s, 600);
  const auto plain = run(false, 0.3, *s, 600);
  INFO("running sums: error " << running.worst_error << ", plain: error " << plain.worst_error);
  CHECK(running.worst_error < 1e-8);
  CHECK(running.mass_drift < 1e-8);  // the mass is conserved, some of it in flight
  CHECK(plain.worst_error > 1e-2);   // a wrong consensus: lost mass is gone
}

TEST_CASE("running-sum push-sum ignores duplicated messages", "[protocols][push-sum]") {
  const auto s = topology::one_peer_exponential(agents);
  const auto r = run(true, 0.1, *s, 400, /*duplicate=*/true);
  CHECK(r.worst_error < 1e-8);
}
