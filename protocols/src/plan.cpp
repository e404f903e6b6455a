#include "murmur/protocols/plan.hpp"

#include <algorithm>

namespace murmur::protocols {
namespace {

weight_rule resolve(const topology::graph& g, weight_rule rule) {
  if (rule != weight_rule::automatic) return rule;
  return g.directed() ? weight_rule::push : weight_rule::metropolis_hastings;
}

}  // namespace

common::result<topology::mixing_matrix> weights_for(const topology::graph& g, weight_rule rule) {
  switch (resolve(g, rule)) {
    case weight_rule::automatic:
    case weight_rule::metropolis_hastings:
      return topology::metropolis_hastings(g);
    case weight_rule::choco:
      return topology::choco_weights(g);
    case weight_rule::uniform:
      return topology::uniform_weights(g);
    case weight_rule::push:
      return topology::push_weights(g);
  }
  return common::make_error(common::errc::invalid_argument, "unknown weight rule");
}

common::result<round_plan> local_plan(const topology::graph& g, weight_rule rule, std::int64_t agent,
                                      std::uint64_t round) {
  rule = resolve(g, rule);
  round_plan p;
  p.round = round;
  p.agents = g.size();
  const auto share = [](std::int64_t degree) { return 1.0 / static_cast<double>(degree + 1); };
  switch (rule) {
    case weight_rule::automatic:  // resolved above
    case weight_rule::metropolis_hastings:
    case weight_rule::choco: {
      // The formula of topology/weights.cpp (max_degree_weights), row i only.
      if (g.directed()) {
        auto w = weights_for(g, rule);  // the same error message as the dense path
        return w.err();
      }
      const double offset = rule == weight_rule::choco ? 0.0 : 1.0;
      const auto weight = [&](std::int64_t j) {
        return 1.0 / (offset + static_cast<double>(std::max(g.out_degree(agent), g.out_degree(j))));
      };
      double sum = 0;
      for (auto j : g.out_neighbors(agent)) sum += weight(j);
      p.self_weight = 1.0 - sum;
      // Symmetric: w_ji = w_ij.
      for (auto j : g.in_neighbors(agent)) p.in.push_back({j, weight(j)});
      for (auto j : g.out_neighbors(agent)) p.out.push_back({j, weight(j)});
      return p;
    }
    case weight_rule::uniform:
      p.self_weight = share(g.in_degree(agent));
      for (auto j : g.in_neighbors(agent)) p.in.push_back({j, share(g.in_degree(agent))});
      for (auto j : g.out_neighbors(agent)) p.out.push_back({j, share(g.in_degree(j))});
      return p;
    case weight_rule::push:
      p.self_weight = share(g.out_degree(agent));
      for (auto j : g.in_neighbors(agent)) p.in.push_back({j, share(g.out_degree(j))});
      for (auto j : g.out_neighbors(agent)) p.out.push_back({j, share(g.out_degree(agent))});
      return p;
  }
  return common::make_error(common::errc::invalid_argument, "unknown weight rule");
}

round_plan make_plan(const topology::graph& g, const topology::mixing_matrix& w, std::int64_t agent,
                     std::uint64_t round) {
  round_plan p;
  p.round = round;
  p.agents = g.size();
  p.self_weight = w.at(agent, agent);
  for (auto j : g.in_neighbors(agent)) p.in.push_back({j, w.at(agent, j)});
  for (auto j : g.out_neighbors(agent)) p.out.push_back({j, w.at(j, agent)});
  return p;
}

}  // namespace murmur::protocols
