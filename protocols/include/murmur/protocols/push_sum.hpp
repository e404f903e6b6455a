#pragma once

// Push-sum averaging (ALGORITHMS.md §2, §8): each agent holds a numerator x
// and a weight w and, every round, splits both evenly among itself and its
// out-peers; x / w converges to the average of the initial x over any
// sequence of column-stochastic rounds whose union is strongly connected.
//
// Plain push-sum sends the shares themselves: a lost message destroys mass
// and the agents agree on a wrong average. Running-sum push-sum (§8.2) sends
// the cumulative mass ever pushed on a link, and the receiver adds the
// difference to what it saw last: mass that is lost stays in flight and
// arrives with the next message that gets through. Duplicates and
// out-of-order messages are ignored by sequence number.
//
// Pure state machine: no clock, no socket, no thread. Accumulators are f64
// (running sums grow without bound).

#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace murmur::protocols {

struct mass_message {
  std::int64_t sender = 0, receiver = 0;
  std::uint64_t round = 0, sequence = 0;
  std::vector<double> numerator;  // a share (plain) or a cumulative sum (running)
  double weight = 0;
};

class push_sum_averager {
 public:
  push_sum_averager(std::int64_t id, std::span<const double> initial, bool running_sums);

  // Starts round `round`: keeps 1 / (d + 1) of the mass and returns the
  // messages for the d out-peers.
  std::vector<mass_message> send(std::uint64_t round, std::span<const std::int64_t> out_peers);
  // Takes a message of this round or a later or earlier one (running sums
  // take any newer message of a link; plain push-sum adds every share).
  void receive(const mass_message& m);

  std::span<const double> numerator() const { return x_; }
  double weight() const { return w_; }
  // The de-biased estimate x_k / w.
  double estimate(std::size_t k) const { return x_[k] / w_; }
  // Mass this agent has pushed on its links and the receivers have not yet
  // taken in (running sums only): sum over out-links of sent - acknowledged
  // is not known locally, so this reports what it has sent in total.
  const std::map<std::int64_t, std::vector<double>>& sent_sums() const { return sent_x_; }
  const std::map<std::int64_t, std::vector<double>>& received_sums() const { return seen_x_; }
  const std::map<std::int64_t, double>& sent_weights() const { return sent_w_; }
  const std::map<std::int64_t, double>& received_weights() const { return seen_w_; }

 private:
  std::int64_t id_;
  bool running_;
  std::vector<double> x_;
  double w_ = 1.0;
  std::uint64_t sequence_ = 0;
  // Running sums: what this agent has pushed per out-peer, and the last
  // cumulative sums (and their sequence) seen per in-peer.
  std::map<std::int64_t, std::vector<double>> sent_x_, seen_x_;
  std::map<std::int64_t, double> sent_w_, seen_w_;
  std::map<std::int64_t, std::uint64_t> seen_sequence_;
};

}  // namespace murmur::protocols
