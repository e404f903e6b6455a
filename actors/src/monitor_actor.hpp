#pragma once

// The monitor: collects the agents' reports, evaluates the averaged model on
// the test set whenever every agent has reported for an evaluation round,
// writes one JSON Lines record per agent and one for the average, prints
// progress, and ends the run when every agent has finished.

#include <caf/all.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "messages.hpp"
#include "murmur/actors/profile.hpp"
#include "murmur/actors/runtime.hpp"
#include "murmur/common/clock.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/nn/trainer.hpp"

namespace murmur::actors {

class router;
struct monitor_args {
  std::int64_t agents = 0, rounds = 0;
  router* routes = nullptr;          // told when a remote frame is taken (the inbox bound)
  std::unique_ptr<nn::model> model;  // for the averaged parameters
  const nn::dataset* test = nullptr;
  std::FILE* metrics = nullptr;  // JSON Lines
  const common::clock* clock = nullptr;
  double start_s = 0;
  std::function<void(const evaluation&)> on_record;  // progress and summary
  std::function<void()> on_finished;
  // Filled in as reports arrive: the agents' phases (their latest reports),
  // the monitor's own seconds, the rounds done. Read it once the monitor is done.
  run_profile* profile = nullptr;
};

struct monitor_state {
  std::shared_ptr<monitor_args> args;
  std::unique_ptr<nn::evaluator> evaluator;
  // The reports of a round not yet written, and which agents are accounted
  // for (reported, finished or past it): those below `cursor` are, and stay so.
  struct round_reports {
    std::vector<agent_report> reports;
    std::vector<std::int32_t> slot;  // by agent: its index in `reports` (-1: none yet)
    std::size_t cursor = 0;
  };
  std::map<std::uint64_t, round_reports> pending;
  std::vector<bool> finished;         // by agent: a "finished" counts once
  std::vector<std::int64_t> latest;   // by agent: the newest round it reported (-1: none)
  std::vector<phase_seconds> phases;  // by agent: the phases of that report
  std::set<std::uint64_t> written;    // rounds evaluated and written
  std::int64_t finished_count = 0;
  void init() {
    if (!finished.empty()) return;
    finished.assign(static_cast<std::size_t>(args->agents), false);
    latest.assign(static_cast<std::size_t>(args->agents), -1);
    phases.assign(static_cast<std::size_t>(args->agents), {});
  }
  static inline const char* name = "murmur-monitor";
};

caf::behavior monitor_actor(caf::stateful_actor<monitor_state>* self, std::shared_ptr<monitor_args> args);

}  // namespace murmur::actors
