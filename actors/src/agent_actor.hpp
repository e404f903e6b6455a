#pragma once

// The agent actor: a thin shell around agent_core that schedules its steps,
// routes frames through the fault layer to the transport, waits (sync mode)
// for in-neighbours up to a timeout, and reports to the monitor.

#include <caf/all.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent_core.hpp"
#include "messages.hpp"
#include "murmur/actors/faults.hpp"
#include "murmur/common/clock.hpp"

namespace murmur::actors {

class router;

class record_log;

struct agent_args {
  std::unique_ptr<agent_core> core;
  transport* net = nullptr;
  router* routes = nullptr;               // told when a frame is taken (the inbox bound)
  rejection_table* rejections = nullptr;  // what this agent refuses, by reason and peer
  std::function<void(std::string)> fail;  // ends the run with this error (non-finite parameters)
  caf::actor monitor;
  caf::actor controller;  // consensus control's barrier (invalid: no control)
  const settings* cfg = nullptr;
  const common::clock* clock = nullptr;
  const fault_schedule* schedule = nullptr;  // partitions, flapping links, crashes, churn (nullptr: none)
  record_log* log = nullptr;                 // this process's records and fault events (nullptr: none)
  double start_s = 0;                        // the run's start on `clock`
  std::string checkpoint;                    // this agent's checkpoint file ("": none)
  // A fresh agent at x^0, for a crashed agent that restarts.
  std::function<common::result<std::unique_ptr<agent_core>>()> rebuild;
  // Restored from a checkpoint: learn the others' round before training.
  bool rejoin = false;
};

// What the actor is given, and what it keeps while it runs.
struct agent_state : agent_args {
  std::unique_ptr<fault_injector> faults;
  bool waiting = false, paused = false, stopping = false, done = false;
  bool awaiting_verdict = false;  // consensus control: at the barrier after a round
  // Liveness (sync mode): rounds in a row each in-neighbour was missed; those
  // marked down are not waited for until a frame of theirs arrives.
  std::map<std::int64_t, std::int64_t> missed;
  std::set<std::int64_t> down;
  // Away (crashed or churned out) or rejoining: not running rounds, waiting
  // for a neighbour's frame of a later round or the timeout.
  bool away = false, rejoining = false, idle = false;
  bool crashed = false;  // away because of a crash: the state is lost
  // Sync mode: the latest round beyond its window a neighbour's frame was of
  // (the agent is behind the run: paused, or on the slower side of a healed
  // partition): it jumps there at its next round.
  std::uint64_t catch_up = 0;
  std::uint64_t token = 0;
  double waiting_since = 0;  // on `clock`, while `waiting`
  double next_eval_epoch = 0;
  static inline const char* name = "murmur-agent";
};

caf::behavior agent_actor(caf::stateful_actor<agent_state>* self, std::shared_ptr<agent_args> args);

}  // namespace murmur::actors
