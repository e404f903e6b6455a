#include "monitor_actor.hpp"

#include "remote.hpp"

#include <nlohmann/json.hpp>

namespace murmur::actors {
namespace {

using self_ptr = caf::stateful_actor<monitor_state>*;

nlohmann::json agent_json(const agent_metrics& m, double wall, double consensus) {
  const auto& c = m.counters;
  nlohmann::json j{{"agent", m.agent},
                   {"round", m.round},
                   {"epoch", m.epoch},
                   {"wall_time_s", wall},
                   {"train_loss", m.train_loss},
                   {"consensus_distance", consensus},
                   {"bytes_sent", c.bytes_sent},
                   {"bytes_received", c.bytes_received},
                   {"messages_sent", c.messages_sent},
                   {"messages_received", c.messages_received},
                   {"messages_missing", c.messages_missing},
                   {"messages_dropped", m.messages_dropped},
                   {"messages_rejected", m.messages_rejected},
                   {"staleness_max", c.staleness_max},
                   {"compute_seconds", m.compute_seconds}};
  j["test_accuracy"] = m.test_accuracy >= 0 ? nlohmann::json(m.test_accuracy) : nlohmann::json(nullptr);
  return j;
}

// Every agent reported for `round`: average, evaluate, write.
void complete(self_ptr self, std::uint64_t round, std::vector<agent_report>& reports) {
  auto& a = *self->state.args;
  const double wall = a.clock->now_s() - a.start_s;
  auto x = a.model->parameters();
  std::vector<double> mean(x.size(), 0.0);
  for (const auto& r : reports)
    for (std::size_t k = 0; k < x.size(); ++k) mean[k] += (*r.params)[k];
  const double n = static_cast<double>(reports.size());
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(mean[k] / n);
  // Consensus distance: mean over agents of |x_i - x̄|².
  std::vector<double> dist(reports.size(), 0.0);
  double consensus = 0;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double d = (*reports[i].params)[k] - static_cast<double>(x[k]);
      dist[i] += d * d;
    }
    consensus += dist[i] / n;
  }
  const auto avg = self->state.evaluator->run(*a.model, *a.test);
  round_record rec{.round = round,
                   .wall_time_s = wall,
                   .average_accuracy = avg.accuracy,
                   .average_loss = avg.loss,
                   .consensus_distance = consensus};
  double acc_sum = 0, loss_sum = 0;
  std::int64_t acc_count = 0;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& m = reports[i].metrics;
    rec.epoch = m.epoch;
    loss_sum += m.train_loss;
    if (m.test_accuracy >= 0) {
      acc_sum += m.test_accuracy;
      ++acc_count;
    }
    rec.bytes_sent += m.counters.bytes_sent;
    rec.messages_dropped += m.messages_dropped;
    rec.messages_rejected += m.messages_rejected;
    if (a.metrics) std::fprintf(a.metrics, "%s\n", agent_json(m, wall, dist[i]).dump().c_str());
  }
  rec.train_loss = loss_sum / n;
  if (acc_count) rec.mean_agent_accuracy = acc_sum / static_cast<double>(acc_count);
  if (a.metrics) {
    nlohmann::json j{{"agent", "average"},
                     {"round", round},
                     {"epoch", rec.epoch},
                     {"wall_time_s", wall},
                     {"train_loss", rec.train_loss},
                     {"test_accuracy", avg.accuracy},
                     {"test_loss", avg.loss},
                     {"consensus_distance", consensus},
                     {"bytes_sent", rec.bytes_sent},
                     {"messages_dropped", rec.messages_dropped},
                     {"messages_rejected", rec.messages_rejected}};
    std::fprintf(a.metrics, "%s\n", j.dump().c_str());
    std::fflush(a.metrics);
  }
  if (a.on_record) a.on_record(rec);
}

}  // namespace

caf::behavior monitor_actor(self_ptr self, std::shared_ptr<monitor_args> args) {
  self->state.args = args;
  self->state.evaluator = std::make_unique<nn::evaluator>(500, 1);
  return {
      [=](remote_atom, const wire_bytes& w) {
        // From an agent in another process (remote.hpp); anything else is dropped.
        auto m = decode_remote(w.bytes);
        if (!m) return;
        if (m->finished)
          self->send(self, finished_atom::value, m->report.metrics.agent);
        else
          self->send(self, report_atom::value, std::move(m->report));
      },
      [=](report_atom, agent_report& r) {
        auto& st = self->state;
        const auto round = r.metrics.round;
        auto& bucket = st.pending[round];
        bucket.push_back(std::move(r));
        if (static_cast<std::int64_t>(bucket.size()) == st.args->agents) {
          complete(self, round, bucket);
          st.pending.erase(round);
        }
      },
      [=](finished_atom, std::int64_t) {
        auto& st = self->state;
        if (++st.finished < st.args->agents) return;
        // Reports of an interrupted run may not line up by round: evaluate what there is.
        for (auto& [round, bucket] : st.pending) complete(self, round, bucket);
        st.pending.clear();
        if (st.args->on_finished) st.args->on_finished();
        self->quit();
      },
  };
}

}  // namespace murmur::actors
