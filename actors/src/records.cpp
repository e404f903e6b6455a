#include "records.hpp"

namespace murmur::actors {

nlohmann::json agent_record(const agent_metrics& m, double wall_time_s, std::optional<double> consensus) {
  const auto& c = m.counters;
  nlohmann::json lost = nlohmann::json::object();
  for (const auto& n : loss_cause_names)
    if (const auto k = m.lost[static_cast<std::size_t>(n.value)]) lost[std::string(n.name)] = k;
  nlohmann::json j{{"agent", m.agent},
                   {"round", m.round},
                   {"epoch", m.epoch},
                   {"wall_time_s", wall_time_s},
                   {"train_loss", m.train_loss},
                   {"bytes_sent", c.bytes_sent},
                   {"messages_dropped", m.messages_dropped},
                   {"messages_rejected", m.messages_rejected},
                   {"lost", std::move(lost)},
                   {"bytes_received", c.bytes_received},
                   {"messages_sent", c.messages_sent},
                   {"messages_received", c.messages_received},
                   {"messages_missing", c.messages_missing},
                   {"staleness_max", c.staleness_max},
                   {"compute_seconds", m.phases[phase::compute]},
                   {"test_accuracy", m.test_accuracy >= 0 ? nlohmann::json(m.test_accuracy) : nlohmann::json(nullptr)}};
  if (consensus) j["consensus_distance"] = *consensus;
  // Where the agent's time went since its start (profile.hpp).
  nlohmann::json seconds = nlohmann::json::object();
  for (const auto& n : phase_names) seconds[std::string(n.name)] = m.phases[n.value];
  j["seconds"] = std::move(seconds);
  return j;
}

}  // namespace murmur::actors
