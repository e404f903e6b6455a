#pragma once

// Where a run's time goes (`murmur run --profile`, and always in the metrics): every
// agent adds the seconds its actor spends in each phase of a round, on the
// run's clock, and the monitor sums them with its own evaluation time.
// Phases are measured where they are done, so they do not overlap, except
// `wait`: wall time an agent sat blocked on a synchronous exchange, during
// which the frames it decoded count under their own phases too.

#include <array>
#include <cstddef>
#include <span>

#include "murmur/common/clock.hpp"
#include "murmur/common/enum_names.hpp"

namespace murmur::actors {

enum class phase {
  compute,     // the model's forward and backward passes (gradients, CCL's summaries, cross-gradients)
  protocol,    // the algorithm's arithmetic: optimizer step, mixing, compression, bookkeeping
  encode,      // payloads and headers into bytes (the checksums apart)
  checksum,    // CRC-32 of payloads sent and of frames received
  transport,   // handing frames to ZeroMQ (the sending agent's side)
  decode,      // received frames checked and read (the checksum apart)
  evaluation,  // the agent's own model on the test set, and its report to the monitor
  wait,        // blocked on a synchronous exchange for in-neighbours' frames (wall time)
};
inline constexpr common::enum_name<phase> phase_names[] = {
    {phase::compute, "compute"},       {phase::protocol, "protocol"},
    {phase::encode, "encode"},         {phase::checksum, "checksum"},
    {phase::transport, "transport"},   {phase::decode, "decode"},
    {phase::evaluation, "evaluation"}, {phase::wait, "wait"}};
constexpr std::span<const common::enum_name<phase>> names_of(phase) { return phase_names; }
inline constexpr std::size_t phase_count = std::size(phase_names);

// Seconds by phase, indexed by the enum.
struct phase_seconds {
  std::array<double, phase_count> s{};
  double& operator[](phase p) { return s[static_cast<std::size_t>(p)]; }
  double operator[](phase p) const { return s[static_cast<std::size_t>(p)]; }
  phase_seconds& operator+=(const phase_seconds& o) {
    for (std::size_t k = 0; k < phase_count; ++k) s[k] += o.s[k];
    return *this;
  }
  bool operator==(const phase_seconds&) const = default;
};

// Adds the time from its construction to its destruction to one phase.
class phase_timer {
 public:
  phase_timer(phase_seconds& into, phase p, const common::clock& clock)
      : into_(into), p_(p), clock_(clock), start_(clock.now_s()) {}
  ~phase_timer() { into_[p_] += clock_.now_s() - start_; }
  phase_timer(const phase_timer&) = delete;
  phase_timer& operator=(const phase_timer&) = delete;

 private:
  phase_seconds& into_;
  phase p_;
  const common::clock& clock_;
  double start_;
};

// A process's profile of a run: the agents' phases summed over agents, and
// what the rounds and the threads were.
struct run_profile {
  phase_seconds agents;           // summed over the agents (their latest reports)
  double monitor_seconds = 0;     // the monitor: averaged model's evaluation, consensus distance, records
  double setup_seconds = 0;       // data, partition, agents' models, before the first round
  std::int64_t agent_rounds = 0;  // rounds done, summed over the agents
  std::int64_t threads = 0;       // the actor scheduler's threads, summed over the run's processes
  bool operator==(const run_profile&) const = default;
};

}  // namespace murmur::actors
