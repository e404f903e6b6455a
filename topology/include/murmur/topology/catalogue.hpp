#pragma once

// Every graph and schedule by name, as `murmur topology --kind` and the run
// configuration's [topology] section name them. Static graphs become a
// static schedule; time-varying kinds (one-peer-exponential,
// dde-exponential, bipartite-exponential, random-peers) their schedule.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "murmur/common/result.hpp"
#include "murmur/topology/schedule.hpp"

namespace murmur::topology {

struct graph_spec {
  std::string kind = "ring";
  std::int64_t n = 16;
  std::int64_t rows = 0;                 // torus: rows (0: floor(sqrt(n)))
  std::int64_t degree = 2;               // random-peers: out-peers per round; regular: degree
  double p = 0.2;                        // erdos-renyi
  std::uint64_t seed = 1;                // random kinds
  std::string file;                      // edges: an edge-list file
  std::int64_t exact_average_every = 0;  // > 0: the complete graph every this many rounds (with_exact_average)
};

const std::vector<std::string>& graph_kinds();
bool time_varying(const std::string& kind);
common::result<std::unique_ptr<schedule>> make_schedule(const graph_spec& spec);

}  // namespace murmur::topology
