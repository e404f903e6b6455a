#pragma once

// The messages between murmur's actors (CAF 0.17 atoms and payload types).
// Payloads are moved or shared immutably, never spans into another actor.

#include <caf/all.hpp>
#include <memory>
#include <vector>

#include "agent_core.hpp"
#include "murmur/actors/transport.hpp"

namespace murmur::actors {

using start_atom = caf::atom_constant<caf::atom("start")>;
using next_atom = caf::atom_constant<caf::atom("next")>;
using frame_atom = caf::atom_constant<caf::atom("frame")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using finished_atom = caf::atom_constant<caf::atom("finished")>;
using remote_atom = caf::atom_constant<caf::atom("remote")>;

// A frame that leaves later (fault delay); its payload is shared by its copies.
struct delayed_frame {
  std::int64_t to = 0;
  std::uint64_t round = 0;
  frame_parts frame;
};

// An agent's evaluation report: metrics and a copy of its (de-biased) model.
struct agent_report {
  agent_metrics metrics;
  std::shared_ptr<const std::vector<float>> params;
};

}  // namespace murmur::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(murmur::actors::wire_bytes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(murmur::actors::delayed_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(murmur::actors::agent_report)
