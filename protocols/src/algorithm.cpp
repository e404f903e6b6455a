#include "murmur/protocols/algorithm.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace murmur::protocols {

double averaging_rate::at(std::int64_t epoch) const {
  return std::min(1.0, initial * std::pow(growth, static_cast<double>(std::max<std::int64_t>(epoch, 0))));
}

local_sgd::local_sgd(sgd_options options, std::size_t size) : options_(options), m_(size, 0.f) {}

void local_sgd::direction(std::span<const float> x, std::span<const float> g, std::span<float> d) {
  const auto beta = static_cast<float>(options_.momentum), wd = static_cast<float>(options_.weight_decay);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const float gi = g[i] + wd * x[i];
    if (beta == 0.f) {
      d[i] = gi;
      continue;
    }
    m_[i] = beta * m_[i] + gi;
    d[i] = options_.nesterov ? gi + beta * m_[i] : m_[i];
  }
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

std::vector<frame> algorithm::take_outgoing() { return std::exchange(outgoing_, {}); }

void algorithm::receive(frame message) {
  ++counters_.messages_received;
  counters_.bytes_received += frame_bytes(message.body);
  if (message.header.receiver != static_cast<std::uint32_t>(self_) ||
      message.header.sender == static_cast<std::uint32_t>(self_)) {
    ++counters_.messages_ignored;
    return;
  }
  on_message(std::move(message));
}

void algorithm::send(std::int64_t peer, message_kind kind, payload body, double scalar,
                     std::optional<std::uint64_t> round) {
  frame f{.header = {.kind = kind,
                     .sender = static_cast<std::uint32_t>(self_),
                     .receiver = static_cast<std::uint32_t>(peer),
                     .round = round.value_or(plan_.round),
                     .sequence = ++sequence_,
                     .push_sum_weight = scalar},
          .body = std::move(body)};
  ++counters_.messages_sent;
  counters_.bytes_sent += frame_bytes(f.body);
  outgoing_.push_back(std::move(f));
}

void algorithm::used_message_of(std::uint64_t r) {
  if (r < plan_.round) counters_.staleness_max = std::max<std::uint64_t>(counters_.staleness_max, plan_.round - r);
}

}  // namespace murmur::protocols
