#pragma once

// Building one agent's round plan from topology/: the graph of the round and
// its mixing matrix W (row i: what i combines; column i: how i splits).

#include <cstdint>

#include "murmur/common/result.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/topology/graph.hpp"
#include "murmur/topology/weights.hpp"

namespace murmur::protocols {

enum class weight_rule { metropolis_hastings, uniform, push, choco };

// The weights of `rule` on `g`. MH and CHOCO need an undirected graph.
common::result<topology::mixing_matrix> weights_for(const topology::graph& g, weight_rule rule);

round_plan make_plan(const topology::graph& g, const topology::mixing_matrix& w, std::int64_t agent,
                     std::uint64_t round);

}  // namespace murmur::protocols
