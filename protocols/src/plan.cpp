#include "murmur/protocols/plan.hpp"

namespace murmur::protocols {

common::result<topology::mixing_matrix> weights_for(const topology::graph& g, weight_rule rule) {
  switch (rule) {
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
