#include "agent_actor.hpp"

#include <chrono>

#include "murmur/protocols/codec.hpp"
#include "router.hpp"

namespace murmur::actors {
namespace {

using self_ptr = caf::stateful_actor<agent_state>*;

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(std::max(0.0, s)));
}

void drive(self_ptr self);

// Encodes the agent's outgoing frames (a payload shared by several frames
// once) and passes them through the fault layer; copies of a frame (delays,
// duplicates) share its bytes.
void flush(self_ptr self) {
  auto& st = self->state;
  const protocols::payload* last = nullptr;
  std::shared_ptr<const protocols::encoded_payload> encoded;
  for (auto& f : st.core->take_outgoing()) {
    if (f.body.get() != last) {
      encoded = std::make_shared<const protocols::encoded_payload>(protocols::encode_payload(*f.body));
      last = f.body.get();
    }
    const auto to = static_cast<std::int64_t>(f.header.receiver);
    const frame_parts frame{protocols::encode_header(f.header, *encoded), encoded, encoded->bytes};
    if (!st.faults->active()) {
      if (!st.net->send_parts(st.core->id(), to, frame)) ++st.core->dropped;
      continue;
    }
    const auto d = st.faults->decide(to, protocols::frame_header_size + encoded->bytes.size(), st.clock->now_s());
    if (d.delays_s.empty()) {
      ++st.core->dropped;
      continue;
    }
    for (double delay : d.delays_s) {
      if (delay <= 0) {
        if (!st.net->send_parts(st.core->id(), to, frame)) ++st.core->dropped;
      } else {
        self->delayed_send(self, seconds(delay), send_atom::value, delayed_frame{to, frame});
      }
    }
  }
}

// Whether the current exchange may complete; the protocol says whom it still
// waits for.
bool satisfied(agent_state& st) {
  if (st.cfg->run.mode == run_mode::async) {
    // Bounded staleness: go on once every awaited peer has been heard from
    // within the last max_staleness rounds (at once when it is negative).
    const auto bound = st.cfg->run.max_staleness;
    if (bound < 0) return true;
    const auto round = static_cast<std::int64_t>(st.core->round());
    if (round <= bound) return true;
    for (auto peer : st.core->awaited_peers()) {
      const auto latest = st.core->latest_round_of(peer);
      if (!latest || static_cast<std::int64_t>(*latest) < round - bound) return false;
    }
    return true;
  }
  return st.core->waiting_for().empty();
}

void report(self_ptr self, bool final) {
  auto& st = self->state;
  agent_report r;
  r.metrics = st.core->report();
  if (final || st.core->epoch() + 1e-9 >= st.next_eval_epoch) {
    const auto e = st.core->evaluate(st.cfg->output.eval_samples);
    r.metrics.test_accuracy = e.accuracy;
    r.metrics.test_loss = e.loss;
  }
  const auto p = st.core->params();
  r.params = std::make_shared<const std::vector<float>>(p.begin(), p.end());
  self->send(st.monitor, report_atom::value, std::move(r));
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
  const bool finished = st.core->finished() || st.stopping;
  if (finished || st.core->epoch() + 1e-9 >= st.next_eval_epoch) {
    report(self, finished);
    while (st.next_eval_epoch <= st.core->epoch() + 1e-9) st.next_eval_epoch += st.cfg->output.eval_every_epochs;
  }
  if (finished) {
    st.done = true;
    self->send(st.monitor, finished_atom::value, st.core->id());
    return;
  }
  // Yield to the mailbox (frames, stop) before the next round.
  self->send(self, next_atom::value);
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
      st.core->complete_exchange();
      flush(self);
      continue;
    }
    st.waiting = true;
    self->delayed_send(self, seconds(st.cfg->network.timeout_ms * 1e-3), timeout_atom::value, ++st.token);
    return;
  }
}

void start_round(self_ptr self) {
  auto& st = self->state;
  if (st.done) return;
  st.core->begin_round();
  drive(self);
}

void finish_wait(self_ptr self) {
  auto& st = self->state;
  st.waiting = false;
  st.core->complete_exchange();
  flush(self);
  drive(self);
}

}  // namespace

caf::behavior agent_actor(self_ptr self, std::shared_ptr<agent_args> args) {
  auto& st = self->state;
  static_cast<agent_args&>(st) = std::move(*args);
  st.faults = std::make_unique<fault_injector>(st.cfg->faults, st.core->id());
  st.next_eval_epoch = st.cfg->output.eval_every_epochs;
  return {
      [=](start_atom) { start_round(self); },
      [=](next_atom) { start_round(self); },
      [=](frame_atom, const wire_bytes& w) {
        auto& st = self->state;
        st.routes->taken(st.core->id());
        // The transport has peeked at the header; the agent judges sender and
        // round before it pays for the checksum.
        const auto head = protocols::peek_header(w.bytes);
        const auto refused = head ? st.core->admit(*head) : std::optional(rejection::codec);
        if (refused) {
          st.rejections->count(*refused, w.peer);
          ++st.core->rejected;
          return;
        }
        auto f = decode(w);
        if (!f) {
          st.rejections->count(rejection::codec, w.peer);
          ++st.core->rejected;
          return;
        }
        st.core->receive(std::move(*f));
        flush(self);
        if (st.waiting && satisfied(st)) finish_wait(self);
      },
      [=](timeout_atom, std::uint64_t token) {
        auto& st = self->state;
        if (st.waiting && token == st.token) finish_wait(self);
      },
      [=](resume_atom, std::uint64_t token) {
        auto& st = self->state;
        if (st.paused && token == st.token) {
          st.paused = false;
          drive(self);
        }
      },
      [=](send_atom, const delayed_frame& d) {
        auto& st = self->state;
        if (!st.net->send_parts(st.core->id(), d.to, d.frame)) ++st.core->dropped;
      },
      [=](stop_atom) { self->state.stopping = true; },
  };
}

}  // namespace murmur::actors
