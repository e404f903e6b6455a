#pragma once

// Consensus control's barrier (protocols/consensus.hpp): after every round
// that another gossip round of its training step may follow, each agent
// sends its model here and waits; once all have, the controller computes
// the consensus distance exactly (the paper's all-reduce) and tells every
// agent whether its step's target is met (on to the next training step) or
// not (one more gossip round). One process: the run refuses it otherwise.

#include <caf/all.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "murmur/actors/runtime.hpp"
#include "murmur/common/clock.hpp"
#include "murmur/protocols/consensus.hpp"

namespace murmur::actors {

class record_log;

using control_atom = caf::atom_constant<caf::atom("control")>;
using verdict_atom = caf::atom_constant<caf::atom("verdict")>;

// An agent's model after `round` (its de-biased parameters).
struct control_report {
  std::uint64_t round = 0;
  std::shared_ptr<const std::vector<float>> params;
};

struct consensus_args {
  std::int64_t agents = 0;
  protocols::consensus_control control;
  std::int64_t rounds_per_epoch = 1;
  record_log* log = nullptr;  // one "consensus" record per verdict (nullptr: none)
  const common::clock* clock = nullptr;
  double start_s = 0;
  consensus_summary* summary = nullptr;  // totals, read after the run
};

struct consensus_state {
  std::shared_ptr<consensus_args> args;
  struct waiting {
    std::vector<caf::actor> agents;
    std::vector<std::shared_ptr<const std::vector<float>>> models;
  };
  std::map<std::uint64_t, waiting> rounds;
  static inline const char* name = "murmur-consensus";
};

caf::behavior consensus_actor(caf::stateful_actor<consensus_state>* self, std::shared_ptr<consensus_args> args);

}  // namespace murmur::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(murmur::actors::control_report)
