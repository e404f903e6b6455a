#pragma once

// Graphs per round. A schedule is a pure function of the round (and of a
// seed every agent shares), so agents agree on it without talking.

#include <cstdint>
#include <memory>
#include <vector>

#include "murmur/topology/graph.hpp"

namespace murmur::topology {

class schedule {
 public:
  virtual ~schedule() = default;
  virtual std::int64_t size() const = 0;
  // The graph of round t (directed or not).
  virtual graph at(std::int64_t round) const = 0;
  // The graph of every round when it never changes (so callers need not
  // copy it each round); nullptr for time-varying schedules.
  virtual const graph* fixed() const { return nullptr; }
  // Whether round t is a round of exact averaging (the complete graph put in
  // by with_exact_average).
  virtual bool exact_average(std::int64_t) const { return false; }
};

// Periodic exact averaging (the QGM code's SlowMo option, slowmo_tau): round
// t is the complete graph when t mod `every` = 0 (rounds 0, τ, 2τ, ...; the
// code's local_index before its increment), `inner`'s graph otherwise.
// REQUIRES every >= 1.
std::unique_ptr<schedule> with_exact_average(std::unique_ptr<schedule> inner, std::int64_t every);

// The same graph every round.
std::unique_ptr<schedule> static_schedule(graph g);
// One-peer exponential graph (§9.3): in round t agent i sends to
// i + 2^(t mod ceil(log2 n)) (mod n) only. Directed; push weights 1/2.
std::unique_ptr<schedule> one_peer_exponential(std::int64_t n);
// Every round each agent sends to `peers` distinct others drawn from a
// generator seeded by (seed, round): directed, time-varying.
std::unique_ptr<schedule> random_peers(std::int64_t n, std::int64_t peers, std::uint64_t seed);

// SGP's dynamic directed exponential graph (DDEGraph): the phone book
// +1, -1, +2, -2, +4, -4, ... up to 2^floor(log2(n-1)) (mod n, repeats
// dropped); in round t every agent sends to the entry t mod |book|, so each
// agent has one out-peer and one in-peer per round.
std::unique_ptr<schedule> dde_exponential(std::int64_t n);
// SGP's bipartite exponential graph (DBEGraph) for AD-PSGD: in round t every
// agent sends to i + h (mod n), h cycling through the SGP code's phone book
// +1, -1, +3, -3, +5, -5, +9, -9, ... (|h| = 1 + 2^k < n), the same for all;
// odd agents are active, even ones passive, and each edge joins one of each.
// REQUIRES n even, so active agents only reach passive ones.
common::result<std::unique_ptr<schedule>> bipartite_exponential(std::int64_t n);
// The graphs in turn: round t uses graphs[t mod size]. All of one size.
common::result<std::unique_ptr<schedule>> cyclic(std::vector<graph> graphs);

// Erdős–Rényi G(n, p), seeded; redrawn with seed + 1, + 2, ... until connected
// (at most `attempts` times).
common::result<graph> erdos_renyi(std::int64_t n, double p, std::uint64_t seed, int attempts = 1000);
// A random d-regular graph (configuration model, redrawn until simple and connected).
common::result<graph> random_regular(std::int64_t n, std::int64_t d, std::uint64_t seed, int attempts = 1000);

}  // namespace murmur::topology
