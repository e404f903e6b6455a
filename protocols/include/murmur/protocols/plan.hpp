#pragma once

// Building one agent's round plan from topology/: the graph of the round and
// its mixing matrix W (row i: what i combines; column i: how i splits).

#include <cstdint>

#include "murmur/common/enum_names.hpp"
#include "murmur/common/result.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/topology/graph.hpp"
#include "murmur/topology/weights.hpp"

namespace murmur::protocols {

// automatic: push weights on a directed graph, Metropolis-Hastings otherwise.
enum class weight_rule { automatic, metropolis_hastings, uniform, push, choco };
inline constexpr common::enum_name<weight_rule> weight_rule_names[] = {{weight_rule::automatic, "auto"},
                                                                       {weight_rule::metropolis_hastings, "mh"},
                                                                       {weight_rule::uniform, "uniform"},
                                                                       {weight_rule::push, "push"},
                                                                       {weight_rule::choco, "choco"}};
constexpr std::span<const common::enum_name<weight_rule>> names_of(weight_rule) { return weight_rule_names; }

// The weights of `rule` on `g`. MH and CHOCO need an undirected graph.
common::result<topology::mixing_matrix> weights_for(const topology::graph& g, weight_rule rule);

// One agent's plan computed from its own neighbourhood only (its row and
// column of W, O(degree^2)): the same weights, bit for bit, as make_plan on
// the dense matrix of weights_for, without building the n x n matrix.
common::result<round_plan> local_plan(const topology::graph& g, weight_rule rule, std::int64_t agent,
                                      std::uint64_t round);

round_plan make_plan(const topology::graph& g, const topology::mixing_matrix& w, std::int64_t agent,
                     std::uint64_t round);

}  // namespace murmur::protocols
