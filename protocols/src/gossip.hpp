#pragma once

// Pieces the gossip algorithms share (internal to protocols/).

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "murmur/protocols/algorithm.hpp"

namespace murmur::protocols::detail {

// Messages of one kind per (sender, round), for algorithms that combine the
// message of each in-peer once per round. Synchronous use takes the message
// of the current round exactly (older ones are stale, newer ones wait);
// asynchronous use (`accept_stale`) takes the newest message not yet used.
// A repeated (sender, round) is a duplicate and is ignored.
// An algorithm with its options and a local optimizer over the whole model
// (the optimizer from options.sgd unless given).
template <class Options>
class with_sgd : public algorithm {
 protected:
  with_sgd(agent_context context, const Options& options)
      : algorithm(std::move(context)), options_(options), sgd_(options.sgd, params().size()) {}
  with_sgd(agent_context context, const Options& options, sgd_options sgd)
      : algorithm(std::move(context)), options_(options), sgd_(sgd, params().size()) {}

  Options options_;
  local_sgd sgd_;
};

class inbox {
 public:
  // Returns false for a duplicate.
  bool put(frame f);
  // The message of `peer` to use in `round`, or nothing. Drops what it passes over.
  std::optional<frame> take(std::int64_t peer, std::uint64_t round, bool accept_stale, protocol_counters& counters);

 private:
  std::map<std::int64_t, std::map<std::uint64_t, frame>> by_peer_;
};

// Takes this round's message of each in-peer of `plan` from `box`, in plan
// order; absent ones are counted as missing.
struct arrivals {
  std::vector<double> weights;  // w_ij of those that arrived
  std::vector<std::int64_t> peers;
  std::vector<frame> messages;
};
arrivals collect(inbox& box, const round_plan& plan, bool accept_stale, protocol_counters& counters);

// x <- x + gamma (mix - x) with mix = (w_ii x + Σ w_ij x_j) / (w_ii + Σ w_ij)
// over the messages that arrived (`offset`: where x starts in each payload).
// With every message present and a doubly stochastic W this is plain
// averaging; a missing message renormalises the weights (ALGORITHMS.md §1).
void mix(std::span<float> x, double self_weight, const arrivals& got, double gamma, std::size_t offset = 0);

// Quasi-global momentum (ALGORITHMS.md §5, the QGM code): the direction uses
// m = β m̂ + g', d = g' + β m (Nesterov) or m; after the round m̂ becomes an
// EMA (factor μ, every `period` rounds) of the total update (x_start - x_end) / η.
class quasi_global_momentum {
 public:
  quasi_global_momentum(sgd_options sgd, double mu, std::int64_t period, std::size_t size);
  void direction(std::span<const float> x, std::span<const float> g, std::span<float> d) const;
  void round_end(std::span<const float> x_start, std::span<const float> x_end, double lr);
  std::span<const float> buffer() const { return m_; }
  void state(state_io& io, const std::string& name) {
    io.field(name + ".buffer", m_);
    io.field(name + ".accumulated", acc_);
    io.field(name + ".count", count_);
  }

 private:
  sgd_options sgd_;
  double mu_;
  std::int64_t period_, count_ = 0;
  std::vector<float> m_, acc_;
};

}  // namespace murmur::protocols::detail
