#pragma once

// Consensus control (Kong, Lin, Koloskova, Jaggi, Stich: "Consensus Control
// for Decentralized Deep Learning", ICML 2021): after every training step's
// gossip, the agents gossip again, without a gradient step, until the
// consensus distance Ξ = sqrt(1/n Σ_i |x_i − x̄|²) is at most the target of
// the step's phase. The paper measures Ξ exactly (an all-reduce) and states
// no cap; murmur caps the extra steps at max_steps, and reserves that many
// rounds after each training step, so round numbers (and the messages'
// round tags) are the same whatever the verdicts: round r is training step
// r / slots(), gossip step r % slots() of it (0: the training round), and a
// step whose distance is met skips its remaining rounds. No reference code
// was found; this follows the paper's text.

#include <cstdint>
#include <span>
#include <vector>

#include "murmur/common/result.hpp"

namespace murmur::protocols {

struct consensus_control {
  std::int64_t max_steps = 0;      // extra gossip steps per training step at most (0: off)
  std::vector<double> targets;     // Ξ target of each phase
  std::vector<double> milestones;  // epochs at which the next phase starts (targets.size() - 1)

  bool active() const { return max_steps > 0; }
  // Rounds per training step: the training round and its gossip slots.
  std::uint64_t slots() const { return 1 + static_cast<std::uint64_t>(active() ? max_steps : 0); }
  // The target of the phase `epoch` is in.
  double target_at(double epoch) const;
  // Whether round r's slot is followed by another slot of the same step,
  // that is, whether a verdict is due after round r (of a run of `steps`
  // training steps; the gossip tail after them is not controlled).
  bool verdict_after(std::uint64_t round, std::uint64_t steps) const {
    return active() && round / slots() < steps && round % slots() + 1 < slots();
  }
  common::status validate() const;
  bool operator==(const consensus_control&) const = default;
};

// Rounds per training step: consensus control's slots() when it is on,
// else `mixes` (topology.mixes_per_step: the step's round and mixes - 1
// gossip-only rounds, unconditionally). The two do not combine.
inline std::uint64_t rounds_per_step(const consensus_control& control, std::int64_t mixes) {
  return control.active() ? control.slots() : static_cast<std::uint64_t>(mixes < 1 ? 1 : mixes);
}

// Ξ = sqrt(1/n Σ_i |x_i − x̄|²) of n equally long models, in f64.
double consensus_distance(std::span<const std::span<const float>> models);

}  // namespace murmur::protocols
