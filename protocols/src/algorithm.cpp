#include "murmur/protocols/algorithm.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

#include "murmur/common/sgd_rule.hpp"

namespace murmur::protocols {

double averaging_rate::at(std::int64_t epoch) const {
  return std::min(1.0, initial * std::pow(growth, static_cast<double>(std::max<std::int64_t>(epoch, 0))));
}

local_sgd::local_sgd(sgd_options options, std::size_t size) : options_(options), m_(size, 0.f) {}

void local_sgd::direction(std::span<const float> x, std::span<const float> g, std::span<float> d) {
  common::sgd_directions({.momentum = static_cast<float>(options_.momentum),
                          .weight_decay = static_cast<float>(options_.weight_decay),
                          .nesterov = options_.nesterov},
                         x, g, m_, [d](std::size_t i, float v) { d[i] = v; });
}

algorithm::algorithm(agent_context context)
    : self_(context.self),
      params_(context.params),
      grads_(context.grads),
      tensor_sizes_(std::move(context.tensor_sizes)),
      gen_(common::rng::derive(context.seed, static_cast<std::uint64_t>(context.self))) {
  assert(params_.size() == grads_.size());
  if (tensor_sizes_.empty()) tensor_sizes_.push_back(params_.size());
  assert(std::accumulate(tensor_sizes_.begin(), tensor_sizes_.end(), std::size_t{0}) == params_.size());
}

void algorithm::begin_round(round_plan plan) {
  assert(step_ >= steps_.size() || steps_[step_].kind == step_kind::done);
  plan_ = std::move(plan);
  const auto oldest = plan_.round >= dedup_window ? plan_.round - dedup_window : 0;
  heard_.erase(heard_.begin(), heard_.lower_bound({oldest, message_kind{}}));
  steps_ = plan_steps();
  steps_.push_back({.kind = step_kind::done});
  step_ = 0;
  started_ = false;
}

const request& algorithm::next() {
  assert(step_ < steps_.size());
  if (!started_) {
    started_ = true;
    on_start(steps_[step_]);
  }
  return steps_[step_];
}

void algorithm::complete(double loss) {
  assert(started_ && steps_[step_].kind != step_kind::done);
  if (steps_[step_].kind == step_kind::gradient) loss_ = loss;
  on_finish(steps_[step_]);
  ++step_;
  started_ = false;
}

std::vector<outgoing_frame> algorithm::take_outgoing() { return std::exchange(outgoing_, {}); }

void algorithm::receive(frame message) {
  ++counters_.messages_received;
  counters_.bytes_received += frame_bytes(message.body);
  if (message.header.receiver != static_cast<std::uint32_t>(self_) ||
      message.header.sender == static_cast<std::uint32_t>(self_)) {
    ++counters_.messages_ignored;
    return;
  }
  const auto sender = static_cast<std::int64_t>(message.header.sender);
  // The one duplicate rule: each (sender, round, kind) once, for rounds from
  // dedup_window back to `horizon` ahead. Older rounds are the algorithm's to
  // judge (too old to tell from a duplicate); rounds far ahead are not
  // remembered (a bound on what a sender can make us keep).
  constexpr std::uint64_t horizon = 1024;
  const auto round = message.header.round;
  if (round + dedup_window >= plan_.round && round < plan_.round + horizon &&
      !heard_[{round, message.header.kind}].insert(sender).second) {
    ++counters_.messages_ignored;
    return;
  }
  auto [it, fresh] = latest_.try_emplace(sender, message.header.round);
  if (!fresh) it->second = std::max(it->second, message.header.round);
  on_message(std::move(message));
}

std::vector<std::int64_t> algorithm::waiting_for() const {
  std::vector<std::int64_t> out;
  if (step_ >= steps_.size() || steps_[step_].kind != step_kind::exchange) return out;
  const auto& r = steps_[step_];
  const auto it = heard_.find({plan_.round, r.messages});
  for (auto peer : r.from)
    if (it == heard_.end() || !it->second.contains(peer)) out.push_back(peer);
  return out;
}

std::optional<std::uint64_t> algorithm::latest_round_of(std::int64_t peer) const {
  const auto it = latest_.find(peer);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

void algorithm::send(std::int64_t peer, message_kind kind, payload body, double scalar,
                     std::optional<std::uint64_t> round) {
  send(peer, kind, std::make_shared<const payload>(std::move(body)), scalar, round);
}

void algorithm::send(std::int64_t peer, message_kind kind, std::shared_ptr<const payload> body, double scalar,
                     std::optional<std::uint64_t> round) {
  ++counters_.messages_sent;
  counters_.bytes_sent += frame_bytes(*body);
  outgoing_.push_back({.header = {.kind = kind,
                                  .sender = static_cast<std::uint32_t>(self_),
                                  .receiver = static_cast<std::uint32_t>(peer),
                                  .round = round.value_or(plan_.round),
                                  .sequence = next_sequence(),
                                  .push_sum_weight = scalar},
                       .body = std::move(body)});
}

std::uint64_t algorithm::next_sequence() {
  // Increasing, and ahead of any sequence of an earlier round: an agent
  // restarted from a checkpoint that rejoins at a later round is not taken
  // for a replay of its past.
  sequence_ = std::max(sequence_ + 1, plan_.round << 24);
  return sequence_;
}

void algorithm::state(state_io& io) {
  io.field("generator", gen_);
  io.field("sequence", sequence_);
  io.field("latest_round", latest_);
  io.field("loss", loss_);
  on_state(io);
}

std::vector<std::int64_t> algorithm::in_peers() const {
  std::vector<std::int64_t> out;
  out.reserve(plan_.in.size());
  for (const auto& pw : plan_.in) out.push_back(pw.peer);
  return out;
}

void algorithm::used_message_of(std::uint64_t r) {
  if (r < plan_.round) counters_.staleness_max = std::max<std::uint64_t>(counters_.staleness_max, plan_.round - r);
}

}  // namespace murmur::protocols
