#include "monitor_actor.hpp"

#include <algorithm>

#include "records.hpp"
#include "remote.hpp"
#include "round_summary.hpp"
#include "router.hpp"

#include <nlohmann/json.hpp>

namespace murmur::actors {
namespace {

using self_ptr = caf::stateful_actor<monitor_state>*;

// The fields every record has (one agent's, or "average").
nlohmann::json record_json(nlohmann::json agent, const evaluation& e, std::uint64_t dropped, std::uint64_t rejected) {
  return {{"agent", std::move(agent)},
          {"round", e.round},
          {"epoch", e.epoch},
          {"wall_time_s", e.wall_time_s},
          {"train_loss", e.train_loss},
          {"consensus_distance", e.consensus_distance},
          {"bytes_sent", e.bytes_sent},
          {"messages_dropped", dropped},
          {"messages_rejected", rejected}};
}

// Every agent reported for `round` (or is past it without a report: away,
// crashed, rejoined later): summarize, evaluate the average, write.
void complete(self_ptr self, std::uint64_t round, std::span<const agent_report> reports) {
  auto& a = *self->state.args;
  const double now = a.clock->now_s(), wall = now - a.start_s;
  const auto s = summarize(reports);
  auto x = a.model->parameters();
  std::copy(s.average.begin(), s.average.end(), x.begin());
  const auto avg = self->state.evaluator->run(*a.model, *a.test);
  const evaluation rec{.round = round,
                       .epoch = s.epoch,
                       .wall_time_s = wall,
                       .average_accuracy = avg.accuracy,
                       .mean_agent_accuracy = s.mean_agent_accuracy,
                       .consensus_distance = s.consensus_distance,
                       .train_loss = s.train_loss,
                       .bytes_sent = s.bytes_sent,
                       .messages_dropped = s.messages_dropped,
                       .messages_rejected = s.messages_rejected};
  if (a.metrics) {
    for (std::size_t i = 0; i < reports.size(); ++i)
      std::fprintf(a.metrics, "%s\n", agent_record(reports[i].metrics, wall, s.distance[i]).dump().c_str());
    auto j = record_json("average", rec, rec.messages_dropped, rec.messages_rejected);
    j["agents"] = reports.size();  // fewer than all when some were away at this round
    j["test_accuracy"] = avg.accuracy;
    j["test_loss"] = avg.loss;
    std::fprintf(a.metrics, "%s\n", j.dump().c_str());
    std::fflush(a.metrics);
  }
  if (a.on_record) a.on_record(rec);
  if (a.profile) a.profile->monitor_seconds += a.clock->now_s() - now;
}

// The profile from the agents' latest reports.
void update_profile(monitor_state& st) {
  auto* p = st.args->profile;
  if (!p) return;
  p->agents = {};
  p->agent_rounds = 0;
  for (std::size_t k = 0; k < st.phases.size(); ++k) {
    p->agents += st.phases[k];
    p->agent_rounds += std::max<std::int64_t>(st.latest[k], 0);
  }
}

// Writes, in round order, every pending round no agent can still report:
// each has reported it, moved past it or finished. An agent once accounted
// for stays so, so each round's agents are looked at once (amortised).
void complete_ready(self_ptr self) {
  auto& st = self->state;
  while (!st.pending.empty()) {
    auto it = st.pending.begin();
    const auto round = it->first;
    auto& r = it->second;
    for (; r.cursor < st.finished.size(); ++r.cursor) {
      const auto a = r.cursor;
      if (!st.finished[a] && st.latest[a] <= static_cast<std::int64_t>(round) && r.slot[a] < 0) break;
    }
    if (r.cursor < st.finished.size()) return;
    if (!r.reports.empty()) complete(self, round, r.reports);
    st.written.insert(round);
    st.pending.erase(it);
  }
}

}  // namespace

caf::behavior monitor_actor(self_ptr self, std::shared_ptr<monitor_args> args) {
  self->state.args = args;
  self->state.evaluator = std::make_unique<nn::evaluator>(500, 1);
  return {
      [=](remote_atom, const wire_bytes& w) {
        // From an agent in another process (remote.hpp); anything else is
        // dropped, as is a report of another model size or of a round the run
        // does not have.
        const auto& a = *self->state.args;
        if (a.routes) a.routes->taken(a.agents);
        auto m = decode_remote(decode(w));
        if (!m || m->over || m->report.metrics.agent < 0 || m->report.metrics.agent >= a.agents) return;
        if (!m->finished && (m->report.metrics.round > static_cast<std::uint64_t>(a.rounds) ||
                             m->report.params->size() != a.model->parameters().size()))
          return;
        if (m->finished)
          self->send(self, finished_atom::value, m->report.metrics.agent);
        else
          self->send(self, report_atom::value, std::move(m->report));
      },
      [=](report_atom, agent_report& r) {
        auto& st = self->state;
        st.init();
        const auto round = r.metrics.round;
        const auto agent = static_cast<std::size_t>(r.metrics.agent);
        if (static_cast<std::int64_t>(round) >= st.latest[agent]) {
          st.latest[agent] = static_cast<std::int64_t>(round);
          st.phases[agent] = r.metrics.phases;
        }
        // A round already written (a restarted agent's second report of it) stays as written.
        if (st.written.contains(round)) {
          complete_ready(self);
          return;
        }
        auto& bucket = st.pending[round];
        if (bucket.slot.empty()) bucket.slot.assign(st.finished.size(), -1);
        // One report per agent and round (a replayed one replaces it).
        if (const auto k = bucket.slot[agent]; k >= 0) {
          bucket.reports[static_cast<std::size_t>(k)] = std::move(r);
        } else {
          bucket.slot[agent] = static_cast<std::int32_t>(bucket.reports.size());
          bucket.reports.push_back(std::move(r));
        }
        complete_ready(self);
      },
      [=](finished_atom, std::int64_t agent) {
        auto& st = self->state;
        st.init();
        if (agent < 0 || agent >= st.args->agents || st.finished[static_cast<std::size_t>(agent)]) return;
        st.finished[static_cast<std::size_t>(agent)] = true;
        complete_ready(self);
        if (++st.finished_count < st.args->agents) return;
        // Reports of an interrupted run may not line up by round: evaluate what there is.
        for (auto& [round, bucket] : st.pending) complete(self, round, bucket.reports);
        st.pending.clear();
        update_profile(st);
        if (st.args->on_finished) st.args->on_finished();
        self->quit();
      },
  };
}

}  // namespace murmur::actors
