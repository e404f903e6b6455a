#include "profile_table.hpp"

#include <fmt/format.h>

namespace murmur::app {

std::string profile_table(const actors::run_profile& p, std::int64_t agents, double wall_s) {
  const double rounds_s = std::max(0.0, wall_s - p.setup_seconds);
  const double thread_s = rounds_s * static_cast<double>(p.threads);
  const double per = p.agent_rounds > 0 ? 1e6 / static_cast<double>(p.agent_rounds) : 0;  // µs per agent-round
  double busy = p.monitor_seconds;
  for (const auto& n : actors::phase_names)
    if (n.value != actors::phase::wait) busy += p.agents[n.value];
  std::string out = fmt::format(
      "profile: {} agents, {} agent-rounds, setup {:.1f} s, rounds {:.1f} s on {} scheduler thread{} "
      "({:.1f} thread-s)\n",
      agents, p.agent_rounds, p.setup_seconds, rounds_s, p.threads, p.threads == 1 ? "" : "s", thread_s);
  out += fmt::format("  {:<34} {:>10} {:>16} {:>8}\n", "phase", "seconds", "per agent-round", "of busy");
  const auto row = [&](const std::string& name, double s, bool share) {
    out += fmt::format("  {:<34} {:>10.3f} {:>13.1f} us {:>8}\n", name, s, s * per,
                       share && busy > 0 ? fmt::format("{:.1f}%", 100 * s / busy) : "");
  };
  for (const auto& n : actors::phase_names)
    if (n.value != actors::phase::wait) row(std::string(n.name), p.agents[n.value], true);
  row("monitor (averaged model, records)", p.monitor_seconds, true);
  row("busy, all of the above", busy, false);
  row("rest (scheduling, messages, idle)", thread_s - busy, false);
  row("wait (wall, blocked on exchanges)", p.agents[actors::phase::wait], false);
  return out;
}

nlohmann::json profile_record(const actors::run_profile& p, double wall_s) {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& n : actors::phase_names) phases[std::string(n.name)] = p.agents[n.value];
  return {{"event", "profile"},
          {"agents_seconds", std::move(phases)},
          {"monitor_seconds", p.monitor_seconds},
          {"setup_seconds", p.setup_seconds},
          {"wall_time_s", wall_s},
          {"agent_rounds", p.agent_rounds},
          {"threads", p.threads}};
}

}  // namespace murmur::app
