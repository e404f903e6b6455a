#pragma once

// The agent actor's steps that its two files share: agent_actor.cpp (the
// rounds: exchanges, timeouts, reports, checkpoints) and agent_return.cpp
// (agents that return: from being away or crashed, rejoining from a
// checkpoint, or catching up after falling behind the run).

#include <caf/all.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "agent_actor.hpp"

namespace murmur::actors::steps {

using self_ptr = caf::stateful_actor<agent_state>*;

caf::timespan seconds(double s);
// A fault event of this agent, in its process's records.
void note(agent_state& st, const char* event, nlohmann::json more = nlohmann::json::object());
// The agent has done its last round (or was stopped).
void finish(self_ptr self, bool with_report);
// Begins the agent's next round (or sits it out: away, rejoining).
void start_round(self_ptr self);

// agent_return.cpp
// Idle until a neighbour's frame of a later round arrives or the wait ends.
void idle(self_ptr self);
// The agent returns at its current round from being away; false if a
// crashed agent could not restart (the run then fails).
bool come_back(self_ptr self);
// Moves an idle agent to `round` (the others', or the next one).
void move_to(self_ptr self, std::uint64_t round);
std::uint64_t window_of(const agent_state& st);
// A whole in-neighbour frame beyond the window, of a round within the run.
void behind(agent_state& st, std::uint64_t round);

}  // namespace murmur::actors::steps
