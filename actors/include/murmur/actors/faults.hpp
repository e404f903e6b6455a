#pragma once

// The fault layer between an agent and the transport (DESIGN.md, "Time, loss
// and asynchrony"): per frame it decides, from a generator seeded by (fault
// seed, agent), whether the frame is lost, sent twice, and how late each copy
// leaves (fixed delay + jitter, an extra hold-back for reordering, and the
// time a bandwidth-capped link needs for the bytes before it). It also says
// how much slower this agent computes. Time comes from the caller, so runs
// replay. Crashes and partitions come with the multi-node work.

#include <cstdint>
#include <map>
#include <vector>

#include "murmur/actors/settings.hpp"
#include "murmur/common/rng.hpp"

namespace murmur::actors {

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
