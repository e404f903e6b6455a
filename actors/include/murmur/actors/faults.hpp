#pragma once

// The fault layer between an agent and the transport (DESIGN.md, "Time, loss
// and asynchrony"): per frame it decides, from a generator seeded by (fault
// seed, agent), whether the frame is lost, sent twice, and how late each copy
// leaves (fixed delay + jitter, an extra hold-back for reordering, and the
// time a bandwidth-capped link needs for the bytes before it). It also says
// how much slower this agent computes. Time comes from the caller, so runs
// replay.
//
// The fault schedule says, from the round alone (no clock), which links are
// cut (partitions, flapping links) and which agents are away (crashed, or
// sitting a round out under churn): a run with the same seed replays it.

#include <cstdint>
#include <map>
#include <vector>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "murmur/actors/settings.hpp"
#include "murmur/common/enum_names.hpp"
#include "murmur/common/result.hpp"
#include "murmur/common/rng.hpp"

namespace murmur::actors {

// Why a frame did not reach its receiver (counted per agent and cause).
// Why a frame was not delivered: the fault layer dropped it, the transport's
// queue was full, a partition or a flapping link cut it, its receiver was
// away, or its receiver was behind the run (the frame of a round beyond its
// window; it catches up instead).
enum class loss_cause { drop, queue, partition, flap, away, behind };
inline constexpr common::enum_name<loss_cause> loss_cause_names[] = {
    {loss_cause::drop, "drop"}, {loss_cause::queue, "queue"}, {loss_cause::partition, "partition"},
    {loss_cause::flap, "flap"}, {loss_cause::away, "away"},   {loss_cause::behind, "behind"}};
constexpr std::span<const common::enum_name<loss_cause>> names_of(loss_cause) { return loss_cause_names; }

// Why an agent is away in a round.
enum class away_reason { crash, churn };

// "" or what is wrong with the faults of a run of `agents` agents.
common::status check_faults(const fault_settings& f, std::int64_t agents);

class fault_schedule {
 public:
  fault_schedule(const fault_settings& f, std::int64_t agents);
  // Whether agent a is away in `round`, and why.
  std::optional<away_reason> away(std::int64_t agent, std::uint64_t round) const;
  // Whether the link between a and b (either way) is cut in `round`.
  std::optional<loss_cause> cut(std::int64_t a, std::int64_t b, std::uint64_t round) const;
  // Whether a partition window is in force in `round`.
  bool partitioned(std::uint64_t round) const;
  bool active() const { return active_; }
  const fault_settings& settings() const { return f_; }

 private:
  fault_settings f_;
  // Per partition window: each agent's group (agents in no group: -1).
  std::vector<std::vector<std::int64_t>> group_of_;
  bool active_ = false;
};

struct fault_decision {
  std::vector<double> delays_s;  // one entry per copy to send (empty: dropped)
};

class fault_injector {
 public:
  fault_injector(const fault_settings& f, std::int64_t agent);
  fault_decision decide(std::int64_t to, std::size_t bytes, double now_s);
  // Compute time factor of this agent (>= 1).
  double slowdown() const { return slowdown_; }
  bool active() const;

 private:
  fault_settings f_;
  common::rng gen_;
  double slowdown_ = 1.0;
  std::map<std::int64_t, double> link_free_at_;  // bandwidth cap: when each link is idle again
};

}  // namespace murmur::actors
