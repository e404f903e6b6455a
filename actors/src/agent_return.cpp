// Agents that return (agent_steps.hpp): from being away or crashed (a
// restart from the checkpoint), rejoining after --resume, or catching up
// after falling behind the run (a pause, the slower side of a partition).

#include <filesystem>

#include "agent_steps.hpp"

namespace murmur::actors::steps {
namespace {

// How long an idle agent (away, or rejoining) waits for a sign of the others'
// round before it moves on by itself.
double idle_wait_s(const agent_state& st, bool rejoin) {
  const double t = st.cfg->network.timeout_ms * 1e-3;
  return rejoin ? 3 * t + 1.0 : t;
}

// A crashed agent comes back: a fresh agent at x^0, restored from its
// checkpoint when it has one, at the round it returns in.
common::status restart(agent_state& st) {
  const auto now = st.core->round();
  auto fresh = st.rebuild();
  if (!fresh) return fresh.err();
  std::int64_t from = -1;
  std::error_code ec;
  if (!st.checkpoint.empty() && std::filesystem::exists(st.checkpoint, ec)) {
    auto r = (*fresh)->load_checkpoint(st.checkpoint);
    if (!r) return r.err();
    from = static_cast<std::int64_t>(*r);
  }
  (*fresh)->skip_to(now, false);
  (*fresh)->dropped = st.core->dropped;
  (*fresh)->rejected = st.core->rejected;
  (*fresh)->lost = st.core->lost;
  st.core = std::move(*fresh);
  st.missed.clear();
  st.down.clear();
  note(st, "restart", {{"checkpoint_round", from >= 0 ? nlohmann::json(from) : nlohmann::json(nullptr)}});
  return {};
}

}  // namespace

// Idle until a neighbour's frame of a later round arrives or the wait ends.
void idle(self_ptr self) {
  auto& st = self->state;
  st.idle = true;
  self->delayed_send(self, seconds(idle_wait_s(st, st.rejoining)), timeout_atom::value, ++st.token);
}

// The agent returns at its current round (from being away).
bool come_back(self_ptr self) {
  auto& st = self->state;
  st.away = false;
  if (st.crashed) {
    st.crashed = false;
    if (auto ok = restart(st); !ok) {
      st.fail("agent " + std::to_string(st.core->id()) + " cannot restart: " + ok.err().message);
      st.done = true;
      self->quit();
      return false;
    }
  }
  note(st, "back");
  return true;
}

// Moves an idle agent to `round` (the others', or the next one).
void move_to(self_ptr self, std::uint64_t round) {
  auto& st = self->state;
  st.idle = false;
  ++st.token;
  if (st.rejoining) {
    note(st, "rejoin", {{"checkpoint_round", st.core->round()}, {"to_round", round}});
    st.rejoining = false;
  }
  st.core->skip_to(round);
  if (st.core->finished()) {
    // Away to the end: nothing to report (a crashed agent's state is gone).
    finish(self, !st.away);
    return;
  }
  start_round(self);
}

std::uint64_t window_of(const agent_state& st) { return static_cast<std::uint64_t>(st.cfg->network.window); }

// A whole frame of an in-neighbour's, of a round beyond the window (and
// within the run): the agent is behind the run, because it was paused, or
// its side of a partition fell behind the other's while they were cut off
// (in sync mode each side goes at its own pace once the other is marked
// down). It jumps there at its next round. One neighbour's frame suffices:
// on a ring a partition's boundary agent has one neighbour on the other
// side. The frame's checksum is checked first, so a garbled round number
// moves nothing; an authenticated peer is trusted with its round number as
// it is with its model.
void behind(agent_state& st, std::uint64_t round) {
  st.core->note_lost(loss_cause::behind);
  st.catch_up = std::max(st.catch_up, round);
}

}  // namespace murmur::actors::steps
