#pragma once

// The JSON Lines records of a run: one agent's report (written by the
// monitor, with its distance to the average, and by the agent's own process),
// fault events, and the file they go to. Every process writes its own agents'
// records to its own file, a line at a time and flushed, so a process that
// dies loses nothing it had written.

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent_core.hpp"

namespace murmur::actors {

// An agent's report; `consensus` is its squared distance to the average
// (known to the monitor only).
nlohmann::json agent_record(const agent_metrics& m, double wall_time_s, std::optional<double> consensus);

// A file several actors write records to.
class record_log {
 public:
  explicit record_log(std::FILE* f) : f_(f) {}
  void write(const nlohmann::json& record) {
    if (!f_) return;
    const auto line = record.dump() + "\n";
    std::lock_guard lock(mu_);
    std::fputs(line.c_str(), f_);
    std::fflush(f_);
  }

 private:
  std::mutex mu_;
  std::FILE* f_;
};

}  // namespace murmur::actors
