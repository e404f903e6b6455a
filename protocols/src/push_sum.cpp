#include "murmur/protocols/push_sum.hpp"

#include <cassert>

namespace murmur::protocols {

push_sum_averager::push_sum_averager(std::int64_t id, std::span<const double> initial, bool running_sums)
    : id_(id), running_(running_sums), x_(initial.begin(), initial.end()) {}

std::vector<mass_message> push_sum_averager::send(std::uint64_t round, std::span<const std::int64_t> out_peers) {
  const double share = 1.0 / static_cast<double>(out_peers.size() + 1);
  for (auto& v : x_) v *= share;
  w_ *= share;
  ++sequence_;
  std::vector<mass_message> out;
  out.reserve(out_peers.size());
  for (auto peer : out_peers) {
    mass_message m{.sender = id_, .receiver = peer, .round = round, .sequence = sequence_};
    if (running_) {
      auto& sx = sent_x_[peer];
      if (sx.empty()) sx.assign(x_.size(), 0.0);
      for (std::size_t k = 0; k < x_.size(); ++k) sx[k] += x_[k];
      sent_w_[peer] += w_;
      m.numerator = sx;
      m.weight = sent_w_[peer];
    } else {
      m.numerator = x_;
      m.weight = w_;
    }
    out.push_back(std::move(m));
  }
  return out;
}

void push_sum_averager::receive(const mass_message& m) {
  assert(m.receiver == id_ && m.numerator.size() == x_.size());
  if (!running_) {
    for (std::size_t k = 0; k < x_.size(); ++k) x_[k] += m.numerator[k];
    w_ += m.weight;
    return;
  }
  // Only a newer cumulative sum of this link carries new mass.
  auto& last = seen_sequence_[m.sender];
  if (m.sequence <= last) return;
  last = m.sequence;
  auto& seen = seen_x_[m.sender];
  if (seen.empty()) seen.assign(x_.size(), 0.0);
  for (std::size_t k = 0; k < x_.size(); ++k) {
    x_[k] += m.numerator[k] - seen[k];
    seen[k] = m.numerator[k];
  }
  w_ += m.weight - seen_w_[m.sender];
  seen_w_[m.sender] = m.weight;
}

}  // namespace murmur::protocols
