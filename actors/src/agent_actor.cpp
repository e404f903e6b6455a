#include "agent_actor.hpp"

#include <chrono>

#include "agent_steps.hpp"
#include "consensus_actor.hpp"
#include "murmur/protocols/codec.hpp"
#include "records.hpp"
#include "router.hpp"

namespace murmur::actors {

// The steps agent_return.cpp shares (agent_steps.hpp).
namespace steps {

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(std::max(0.0, s)));
}

// A fault event of this agent, in its process's records.
void note(agent_state& st, const char* event, nlohmann::json more) {
  if (!st.log) return;
  more["event"] = event;
  more["agent"] = st.core->id();
  more["round"] = st.core->round();
  more["wall_time_s"] = st.clock->now_s() - st.start_s;
  st.log->write(more);
}

// Sends one frame now, unless the fault schedule cuts its link in its round.
void send_now(agent_state& st, std::int64_t to, std::uint64_t round, const frame_parts& frame) {
  const phase_timer t(st.core->phases(), phase::transport, *st.clock);
  if (st.schedule) {
    if (const auto cut = st.schedule->cut(st.core->id(), to, round)) {
      st.core->note_lost(*cut);
      return;
    }
  }
  if (!st.net->send_parts(st.core->id(), to, frame)) st.core->note_lost(loss_cause::queue);
}

// Encodes the agent's outgoing frames (a payload shared by several frames
// once) and passes them through the fault layer; copies of a frame (delays,
// duplicates) share its bytes.
void flush(self_ptr self) {
  auto& st = self->state;
  auto& times = st.core->phases();
  const protocols::payload* last = nullptr;
  std::shared_ptr<const protocols::encoded_payload> encoded;
  for (auto& f : st.core->take_outgoing()) {
    if (f.body.get() != last) {
      auto e = std::make_shared<protocols::encoded_payload>();
      {
        const phase_timer t(times, phase::encode, *st.clock);
        *e = protocols::serialize_payload(*f.body);
      }
      {
        const phase_timer t(times, phase::checksum, *st.clock);
        protocols::seal_payload(*e);
      }
      encoded = std::move(e);
      last = f.body.get();
    }
    const auto to = static_cast<std::int64_t>(f.header.receiver);
    const auto round = f.header.round;
    const auto header = [&] {
      const phase_timer t(times, phase::encode, *st.clock);
      return protocols::encode_header(f.header, *encoded);
    }();
    const frame_parts frame{header, encoded, encoded->bytes};
    if (!st.faults->active()) {
      send_now(st, to, round, frame);
      continue;
    }
    const auto d = st.faults->decide(to, protocols::frame_header_size + encoded->bytes.size(), st.clock->now_s());
    if (d.delays_s.empty()) {
      st.core->note_lost(loss_cause::drop);
      continue;
    }
    for (double delay : d.delays_s) {
      if (delay <= 0)
        send_now(st, to, round, frame);
      else
        self->delayed_send(self, seconds(delay), send_atom::value, delayed_frame{to, round, frame});
    }
  }
}

bool is_down(const agent_state& st, std::int64_t peer) { return st.down.contains(peer); }

// Whether the current exchange may complete; the protocol says whom it still
// waits for. Peers marked down are not waited for. A reply to this agent's
// own request is waited for in both modes.
bool satisfied(agent_state& st) {
  if (st.cfg->run.mode == run_mode::async && !st.core->awaits_reply()) {
    // Bounded staleness: go on once every awaited peer has been heard from
    // within the last max_staleness rounds (at once when it is negative).
    const auto bound = st.cfg->run.max_staleness;
    if (bound < 0) return true;
    const auto round = static_cast<std::int64_t>(st.core->round());
    if (round <= bound) return true;
    for (auto peer : st.core->awaited_peers()) {
      if (is_down(st, peer)) continue;
      const auto latest = st.core->latest_round_of(peer);
      if (!latest || static_cast<std::int64_t>(*latest) < round - bound) return false;
    }
    return true;
  }
  for (auto peer : st.core->waiting_for())
    if (!is_down(st, peer)) return false;
  return true;
}

// A frame of `peer` arrived: it is up.
void heard(agent_state& st, std::int64_t peer) {
  st.missed[peer] = 0;
  if (st.down.erase(peer)) note(st, "peer_up", {{"peer", peer}});
}

// An awaited exchange ends: in-neighbours still missing count a missed
// round; down_after in a row and they are marked down.
void exchange_over(agent_state& st) {
  // Async mode does not wait for the round's messages (its bound is staleness): no liveness there.
  const auto limit = st.cfg->network.down_after;
  if (limit <= 0 || st.cfg->run.mode == run_mode::async) return;
  const auto missing = st.core->waiting_for();
  for (auto peer : st.core->awaited_peers()) {
    if (std::ranges::find(missing, peer) == missing.end()) {
      st.missed[peer] = 0;
      continue;
    }
    if (is_down(st, peer)) continue;
    if (++st.missed[peer] >= limit) {
      st.down.insert(peer);
      note(st, "peer_down", {{"peer", peer}, {"missed_rounds", limit}});
    }
  }
}

void report(self_ptr self, bool final) {
  auto& st = self->state;
  agent_report r;
  std::optional<nn::eval_result> e;
  {
    // Timed before the metrics are taken, so a report counts its own evaluation.
    const phase_timer t(st.core->phases(), phase::evaluation, *st.clock);
    if (final || st.core->epoch() + 1e-9 >= st.next_eval_epoch) e = st.core->evaluate(st.cfg->output.eval_samples);
    const auto p = st.core->params();
    r.params = std::make_shared<const std::vector<float>>(p.begin(), p.end());
  }
  r.metrics = st.core->report();
  if (e) {
    r.metrics.test_accuracy = e->accuracy;
    r.metrics.test_loss = e->loss;
  }
  if (st.log) {
    auto j = agent_record(r.metrics, st.clock->now_s() - st.start_s, std::nullopt);
    j["peers_down"] = st.down.size();
    st.log->write(j);
  }
  self->send(st.monitor, report_atom::value, std::move(r));
}

// An evaluation report when the agent's epoch has reached the next one due.
void report_if_due(self_ptr self) {
  auto& st = self->state;
  if (st.core->epoch() + 1e-9 < st.next_eval_epoch) return;
  report(self, false);
  while (st.next_eval_epoch <= st.core->epoch() + 1e-9) st.next_eval_epoch += st.cfg->output.eval_every_epochs;
}

// The agent has done its last round (or was stopped).
void finish(self_ptr self, bool with_report) {
  auto& st = self->state;
  if (with_report) report(self, true);
  st.done = true;
  self->send(st.monitor, finished_atom::value, st.core->id());
}

void round_done(self_ptr self) {
  auto& st = self->state;
  if (const auto bad = st.core->first_non_finite()) {
    // Never a silent NaN run: the first agent to diverge names itself.
    st.fail("agent " + std::to_string(st.core->id()) + "'s parameters are not finite after round " +
            std::to_string(st.core->round()) + " (parameter " + std::to_string(*bad) +
            "); lower the learning rate or check the data");
    st.done = true;
    self->quit();
    return;
  }
  st.core->end_round();
  const auto every = st.cfg->checkpoint.every;
  if (every > 0 && !st.checkpoint.empty() && st.core->round() % static_cast<std::uint64_t>(every) == 0) {
    if (auto ok = st.core->save_checkpoint(st.checkpoint); !ok) {
      st.fail("agent " + std::to_string(st.core->id()) + ": checkpoint: " + ok.err().message);
      st.done = true;
      self->quit();
      return;
    }
  }
  const bool finished = st.core->finished() || st.stopping;
  if (finished) {
    finish(self, true);
    return;
  }
  report_if_due(self);
  if (st.controller && st.core->verdict_due()) {
    // Consensus control: the model to the barrier; the verdict decides the next round.
    const auto p = st.core->params();
    st.awaiting_verdict = true;
    self->send(st.controller, control_atom::value,
               control_report{st.core->round() - 1, std::make_shared<const std::vector<float>>(p.begin(), p.end())});
    return;
  }
  // Yield to the mailbox (frames, stop) before the next round.
  self->send(self, next_atom::value);
}

void verdict(self_ptr self, std::uint64_t round, bool met) {
  auto& st = self->state;
  if (!st.awaiting_verdict || round + 1 != st.core->round()) return;
  st.awaiting_verdict = false;
  if (met) {
    // The step's target is met: its remaining gossip rounds are skipped.
    st.core->skip_gossip_slots();
    if (st.core->finished()) {
      finish(self, true);
      return;
    }
    report_if_due(self);
  }
  start_round(self);
}

void drive(self_ptr self) {
  auto& st = self->state;
  const bool straggler = st.faults->slowdown() > 1.0;
  for (;;) {
    const auto& r = st.core->advance(straggler);
    if (r.kind == protocols::step_kind::gradient) {
      // A straggler takes (slowdown - 1) x its compute time longer.
      st.paused = true;
      self->delayed_send(self, seconds((st.faults->slowdown() - 1.0) * st.core->last_compute_seconds()),
                         resume_atom::value, ++st.token);
      return;
    }
    if (r.kind == protocols::step_kind::done) {
      round_done(self);
      return;
    }
    flush(self);
    if (!r.wait || satisfied(st)) {
      if (r.wait) exchange_over(st);
      st.core->complete_exchange();
      flush(self);
      continue;
    }
    st.waiting = true;
    st.waiting_since = st.clock->now_s();
    self->delayed_send(self, seconds(st.cfg->network.timeout_ms * 1e-3), timeout_atom::value, ++st.token);
    return;
  }
}

void start_round(self_ptr self) {
  auto& st = self->state;
  if (st.done) return;
  if (st.stopping) {
    finish(self, !st.away);
    return;
  }
  if (st.schedule) {
    if (const auto why = st.schedule->away(st.core->id(), st.core->round())) {
      if (!st.away) {
        st.away = true;
        st.crashed = *why == away_reason::crash;
        note(st, st.crashed ? "crash" : "away");
      }
      idle(self);
      return;
    }
    if (st.away && !come_back(self)) return;
  }
  if (st.rejoining) {
    idle(self);
    return;
  }
  if (st.catch_up > st.core->round()) {
    // Behind the run (the process was paused, or the agent was marked down
    // and left behind): it jumps to its neighbours' round, as a rejoining
    // agent does, keeping its model; the rounds between are not trained.
    note(st, "catch_up", {{"to_round", st.catch_up}});
    st.core->skip_to(st.catch_up);
    if (st.core->finished()) {
      finish(self, true);
      return;
    }
  }
  st.core->begin_round();
  drive(self);
}

void finish_wait(self_ptr self) {
  auto& st = self->state;
  st.waiting = false;
  st.core->phases()[phase::wait] += st.clock->now_s() - st.waiting_since;
  exchange_over(st);
  st.core->complete_exchange();
  flush(self);
  drive(self);
}

// A received frame, checked and read, the checksum timed apart.
common::result<protocols::frame> decode_frame(agent_state& st, const wire_bytes& w) {
  auto& times = st.core->phases();
  bool sound = false;
  {
    const phase_timer t(times, phase::checksum, *st.clock);
    sound = checksum_matches(w);
  }
  const phase_timer t(times, phase::decode, *st.clock);
  if (!sound) return common::make_error(common::errc::invalid_argument, "bad checksum");
  return decode(w, {.checksum_checked = true});
}

void refuse(agent_state& st, rejection why, std::int64_t peer) {
  st.rejections->count(why, peer);
  ++st.core->rejected;
}

}  // namespace steps

using namespace steps;

caf::behavior agent_actor(self_ptr self, std::shared_ptr<agent_args> args) {
  auto& st = self->state;
  static_cast<agent_args&>(st) = std::move(*args);
  st.faults = std::make_unique<fault_injector>(st.cfg->faults, st.core->id());
  st.next_eval_epoch = st.cfg->output.eval_every_epochs;
  while (st.next_eval_epoch <= st.core->epoch() + 1e-9) st.next_eval_epoch += st.cfg->output.eval_every_epochs;
  st.rejoining = st.rejoin;
  return {
      [=](start_atom) { start_round(self); },
      [=](next_atom) { start_round(self); },
      [=](frame_atom, const wire_bytes& w) {
        auto& st = self->state;
        st.routes->taken(st.core->id());
        // The transport has peeked at the header; the agent judges sender and
        // round before it pays for the checksum.
        const auto head = protocols::peek_header(w.bytes);
        if (!head) return refuse(st, rejection::codec, w.peer);
        if (st.idle && st.core->neighbour_in(*head)) {
          // A neighbour's frame tells an idle agent the others' round.
          if (head->round > st.core->round()) {
            const bool away_then = st.schedule && st.schedule->away(st.core->id(), head->round);
            move_to(self, head->round);
            if (away_then || st.done) {
              st.core->note_lost(loss_cause::away);
              return;
            }
          } else if (st.away) {
            st.core->note_lost(loss_cause::away);
            return;
          }
        } else if (st.away) {
          st.core->note_lost(loss_cause::away);
          return;
        }
        // A neighbour's frame beyond the window but of the run (no honest
        // peer sends a round past the last: those are refused as out of the
        // window): this agent may be behind.
        if (st.cfg->run.mode == run_mode::sync && head->round > st.core->round() + window_of(st) &&
            head->round < st.core->rounds() && st.core->neighbour_in(*head)) {
          auto f = decode_frame(st, w);
          if (!f) return refuse(st, rejection::codec, w.peer);
          return behind(st, f->header.round);
        }
        if (const auto refused = st.core->admit(*head)) return refuse(st, *refused, w.peer);
        auto f = decode_frame(st, w);
        if (!f) return refuse(st, rejection::codec, w.peer);
        heard(st, static_cast<std::int64_t>(f->header.sender));
        st.core->receive(std::move(*f));
        flush(self);
        if (st.waiting && satisfied(st)) finish_wait(self);
      },
      [=](timeout_atom, std::uint64_t token) {
        auto& st = self->state;
        if (token != st.token) return;
        if (st.waiting) {
          finish_wait(self);
        } else if (st.idle) {
          // Nothing heard: an away agent lets its round pass; a rejoining one
          // starts at its checkpoint's round.
          const auto now = st.core->round();
          if (st.rejoining) {
            st.idle = false;
            note(st, "rejoin", {{"checkpoint_round", now}, {"to_round", now}});
            st.rejoining = false;
            start_round(self);
          } else {
            move_to(self, now + 1);
          }
        }
      },
      [=](resume_atom, std::uint64_t token) {
        auto& st = self->state;
        if (st.paused && token == st.token) {
          st.paused = false;
          drive(self);
        }
      },
      [=](send_atom, const delayed_frame& d) { send_now(self->state, d.to, d.round, d.frame); },
      [=](verdict_atom, std::uint64_t round, bool met) { verdict(self, round, met); },
      [=](stop_atom) {
        auto& st = self->state;
        st.stopping = true;
        if (st.awaiting_verdict) {
          // At consensus control's barrier, which the other agents may not reach now.
          st.awaiting_verdict = false;
          finish(self, true);
          return;
        }
        // An idle agent has no round in flight to end: it stops now.
        if (st.idle) {
          st.idle = false;
          ++st.token;
          finish(self, !st.away);
        }
      },
  };
}

}  // namespace murmur::actors
