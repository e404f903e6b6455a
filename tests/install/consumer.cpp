// Averages 8 values by DSGD gossip on a ring through murmur's installed
// headers and libraries: the registry builds the algorithm, the codec carries
// every message. Prints the spread of the values after 200 rounds.

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "murmur/protocols/plan.hpp"
#include "murmur/protocols/registry.hpp"
#include "murmur/topology/graph.hpp"

int main() {
  using namespace murmur;
  const std::int64_t n = 8;
  const auto ring = *topology::ring(n);
  const auto& entry = *protocols::find_algorithm("dsgd");
  std::vector<std::vector<float>> x(n), g(n, std::vector<float>(1, 0.f));
  std::vector<std::unique_ptr<protocols::algorithm>> agents;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = {static_cast<float>(i)};
    agents.push_back(std::move(*entry.create({.context = {.self = i, .params = x[i], .grads = g[i]}}, {})));
  }
  for (std::uint64_t t = 0; t < 200; ++t) {
    for (std::int64_t i = 0; i < n; ++i)
      agents[i]->begin_round(*protocols::local_plan(ring, protocols::weight_rule::metropolis_hastings, i, t));
    for (;;) {
      // Every agent up to its next exchange (gradients are zero here).
      bool all_done = true;
      for (auto& a : agents) {
        while (a->next().kind == protocols::step_kind::gradient) a->complete();
        all_done &= a->next().kind == protocols::step_kind::done;
      }
      if (all_done) break;
      for (auto& a : agents)
        for (auto& f : a->take_outgoing())
          agents[f.header.receiver]->receive(std::move(*protocols::decode(protocols::encode(f.header, *f.body))));
      for (auto& a : agents)
        if (a->next().kind == protocols::step_kind::exchange) a->complete();
    }
  }
  float lo = x[0][0], hi = x[0][0];
  for (const auto& v : x) lo = std::min(lo, v[0]), hi = std::max(hi, v[0]);
  std::printf("consumer: mean 3.5, values in [%.6f, %.6f]\n", lo, hi);
  return std::abs(lo - 3.5f) < 1e-4f && std::abs(hi - 3.5f) < 1e-4f ? 0 : 1;
}
